#!/bin/bash
# hello.sh - a C program compiled to wasm32-wasi at test time, run with
# `wasmbox run`: its output, arguments, environment, stdin, stderr and
# exit code.
source "$(dirname "$0")/../lib.sh"
CC=${WASI_CC:-clang-14}
need "$CC"

if ! "$CC" --target=wasm32-wasi --sysroot=/usr -O2 "$SRC/hello.c" -o "$WORK/hello.wasm" \
    2>"$WORK/cc.err"; then
    cat "$WORK/cc.err"
    echo "skipped: $CC cannot build wasm32-wasi programs (needs wasi-libc," \
        "libclang-rt-14-dev-wasm32 and lld-14; see scripts/setup.sh)"
    exit 77
fi
if ! "$CC" --target=wasm32-wasi --sysroot=/usr -O2 "$SRC/wasi_all.c" \
    -o "$WORK/wasi_all.wasm" 2>"$WORK/cc.err"; then
    cat "$WORK/cc.err"
    fail "wasi_all.c does not compile"
fi
pass "compiled hello.c and wasi_all.c to wasm32-wasi"

H=$WORK/hello.wasm
wb validate "$H"
expect_eq "validate hello.wasm" "$H: ok" "$OUT"

# Arguments pass through untouched, options included; exit=7 exits 7.
wb run "$H" one "two words" -x --invoke exit=7
expect_status "exit code from exit(7)" 7
expect_eq "stdout" "Hello, world!
argc=6
argv[0]=$H
argv[1]=one
argv[2]=two words
argv[3]=-x
argv[4]=--invoke
argv[5]=exit=7
HOME is unset
PATH is unset
GREETING=(unset)
environ has 0 entries
clocks ok
random ok" "$OUT"
expect_eq "stderr" "this goes to stderr" "$ERR"

# main returning 0 is exit status 0; only --env values reach the guest.
wb run --env GREETING=hi --env HOME "$H"
expect_status "main returning 0" 0
if grep -qx "GREETING=hi" <<<"$OUT" && grep -qx "HOME is set" <<<"$OUT" &&
    grep -qx "PATH is unset" <<<"$OUT" && grep -qx "environ has 2 entries" <<<"$OUT"; then
    pass "--env KEY=VALUE and --env KEY (from the host) reach the guest, nothing else"
else
    fail "environment: $OUT"
fi

# The argument as given is argv[0], also through a relative path.
(cd "$WORK" && timeout 60 "$WASMBOX" run ./hello.wasm >"$WORK/rel.out" 2>/dev/null) || true
if grep -qx "argv\[0\]=./hello.wasm" "$WORK/rel.out"; then
    pass "argv[0] is the file name as given"
else
    fail "argv[0]: $(grep 'argv\[0\]' "$WORK/rel.out" || true)"
fi

# stdin reaches the guest through fd_read.
printf 'line one\nline two\n' >"$WORK/in.txt"
set +e
timeout 60 "$WASMBOX" run "$H" stdin <"$WORK/in.txt" >"$WORK/stdin.out" 2>/dev/null
RC=$?
set -e
expect_status "run with stdin" 0
if grep -qx "line two" "$WORK/stdin.out" && grep -qx "read 18 bytes from stdin" "$WORK/stdin.out"; then
    pass "stdin copied to stdout"
else
    fail "stdin: $(cat "$WORK/stdin.out")"
fi

# A closed stdout pipe: the guest gets EPIPE, wasmbox does not die of SIGPIPE.
set +e
timeout 60 "$WASMBOX" run "$H" exit=3 2>/dev/null | true
RC=${PIPESTATUS[0]}
set -e
if [ "$RC" -lt 128 ]; then
    pass "closed stdout does not kill wasmbox (exit $RC)"
else
    fail "closed stdout: exit $RC"
fi

# All 46 preview1 imports link; bad pointers give EFAULT, not a crash.
if [ -f "$WORK/wasi_all.wasm" ]; then
    wb run "$WORK/wasi_all.wasm"
    expect_status "wasi_all.wasm" 0
    expect_eq "all 46 WASI functions link" "46 functions linked" "$(head -n1 <<<"$OUT")"
    if grep -q WRONG <<<"$OUT"; then
        fail "WASI results: $(grep WRONG <<<"$OUT")"
    else
        pass "WASI errno results ($(grep -c ': ok' <<<"$OUT") checks)"
    fi
fi

finish
