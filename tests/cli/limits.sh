#!/bin/bash
# limits.sh - the resource limits of `wasmbox run`: --timeout (guest code
# and a host call), --fuel (at the right count), --max-memory,
# --max-stack and --max-table-elements, each refusal naming its limit, and
# bad values (usage errors).
source "$(dirname "$0")/../lib.sh"
need wat2wasm
need clang-14
wat2wasm "$SRC/limits.wat" -o "$WORK/limits.wasm"
M=$WORK/limits.wasm

# now / elapsed: wall clock in seconds with milliseconds.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
within() { awk -v t="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(t >= lo && t <= hi) }'; }

# --timeout on an endless loop: stopped within 10% of the limit.
t0=$(now)
wb run --timeout 2s --invoke spin "$M"
took=$(elapsed "$t0")
expect_status "--timeout 2s on an endless loop" 124
if within "$took" 2.0 2.2; then pass "... stopped after ${took}s (2 s + 10% at most)"; else fail "... stopped after ${took}s, not within 2.0-2.2"; fi
if grep -q '^wasmbox: trap: interrupted in function \$spin (#0) at byte offset 0x' <<<"$ERR"; then
    pass "... the trap on stderr, naming the function"
else
    fail "... stderr: $ERR"
fi
if grep -qx 'wasmbox: timeout: the module ran longer than --timeout 2s' <<<"$ERR"; then pass "... naming --timeout"; else fail "... no timeout line: $ERR"; fi

# --timeout while the guest sleeps in a host call (poll_oneoff).
cat >"$WORK/sleep.c" <<'C'
#include <unistd.h>
int main(void) { sleep(30); return 0; }
C
if clang-14 --target=wasm32-wasi --sysroot=/usr -O2 "$WORK/sleep.c" -o "$WORK/sleep.wasm" 2>/dev/null; then
    t0=$(now)
    wb run --timeout 1s "$WORK/sleep.wasm"
    took=$(elapsed "$t0")
    expect_status "--timeout 1s while the guest sleeps in a host call" 124
    if within "$took" 1.0 1.5; then pass "... ended after ${took}s"; else fail "... ended after ${took}s"; fi
    if grep -q 'timeout: the module ran longer than --timeout 1s (stopped in a host call)' <<<"$ERR"; then
        pass "... saying where it was"
    else
        fail "... message: $ERR"
    fi
else
    fail "sleep.c does not build for wasm32-wasi"
fi

# --fuel: find the least fuel that lets count(1000) finish; one unit less
# must trap, and count(2000) must need exactly 1000 more (one per
# iteration).
least() {
    local k=$1 f
    for f in $(seq "$k" $((k + 50))); do
        "$WASMBOX" run --fuel "$f" --invoke count "$M" "$k" >/dev/null 2>&1 && { echo "$f"; return; }
    done
    echo none
}
f1=$(least 1000)
f2=$(least 2000)
if [ "$f1" != none ] && [ "$f2" != none ] && [ $((f2 - f1)) -eq 1000 ]; then
    pass "--fuel: count(1000) needs $f1 units, count(2000) $f2: one per iteration"
else
    fail "--fuel: count(1000) needs $f1, count(2000) $f2"
fi
if [ "$f1" != none ]; then
    wb run --fuel $((f1 - 1)) --invoke count "$M" 1000
    expect_status "--fuel $((f1 - 1)) (one unit short) traps" 134
    if grep -qx "wasmbox: the --fuel limit of $((f1 - 1)) units was used up" <<<"$ERR" &&
        grep -q '^wasmbox: trap: all fuel consumed in function \$count' <<<"$ERR"; then
        pass "... naming the trap and --fuel"
    else
        fail "... stderr: $ERR"
    fi
fi

# --max-memory: memory.grow fails at the cap (whole 64 KiB pages).
wb run --max-memory 4MiB --invoke grow "$M"
expect_eq "--max-memory 4MiB: memory grows to 64 pages, then memory.grow fails" 64 "$OUT"
wb run --max-memory 100000 --invoke grow "$M"
expect_eq "--max-memory 100000 (bytes): 1 page" 1 "$OUT"

# --max-stack: the call depth.
wb run --max-stack 100 --invoke rec "$M" 50
expect_eq "--max-stack 100: recursion 50 deep is fine" 50 "$OUT"
wb run --max-stack 100 --invoke rec "$M" 200
expect_status "--max-stack 100: recursion 200 deep traps" 134
if grep -q '^wasmbox: trap: call stack exhausted' <<<"$ERR" &&
    grep -qx 'wasmbox: the call depth limit --max-stack 100 was reached' <<<"$ERR"; then
    pass "... naming the trap and --max-stack"
else
    fail "... stderr: $ERR"
fi

# --max-table-elements.
wb run --max-table-elements 10 --invoke grow_table "$M"
expect_eq "--max-table-elements 10: table.grow stops at 10" 10 "$OUT"

# Bad values.
for bad in "--timeout 2x" "--timeout -1s" "--fuel 0" "--fuel lots" "--max-memory 12Q" \
    "--max-memory 0" "--max-stack 0" "--max-table-elements x"; do
    # shellcheck disable=SC2086
    wb run $bad --invoke spin "$M"
    expect_status "run $bad: usage error" 2
done
finish
