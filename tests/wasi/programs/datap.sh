#!/bin/bash
# datap.sh - real programs on WASI: datap.c (clang-14, wasm32-wasi) and its
# Rust twin datap.rs (Debian's rustc, wasm32-wasi), both compiled at test
# time, run with `wasmbox run --dir HOST::/data --env ...`. Checks their
# stdout, exit code and the /data/output.json they write (the same bytes
# for both), plus the error paths: bad input, missing input, a read-only
# directory.
#
#   datap.sh WASMBOX SOURCE_DIR WORK_DIR
#
# SOURCE_DIR is tests/wasi/programs. Exits 77 (skipped) only when wasmbox
# does not support --dir yet; a missing compiler is a failure, since
# scripts/setup.sh installs clang-14, wasi-libc, rustc and
# libstd-rust-dev-wasm32.

# The usual prologue and pass/fail/wb/finish; this script checks every
# status itself, so it runs without errexit.
source "$(dirname "$0")/../../lib.sh"
set +e
CC=${WASI_CC:-clang-14}
RUSTC=${WASI_RUSTC:-/usr/bin/rustc}

# check WHAT EXPECTED_RC EXPECTED_STDOUT [STDERR_GLOB]
check() {
    local what=$1 rc=$2 out=$3 err=${4-}
    if [ "$RC" -ne "$rc" ]; then
        fail "$what: exit $RC, expected $rc; stderr: $ERR"
    elif [ "$OUT" != "$out" ]; then
        fail "$what: stdout [$OUT], expected [$out]"
    elif [ -n "$err" ] && [[ "$ERR" != $err ]]; then
        fail "$what: stderr [$ERR] does not match [$err]"
    else
        pass "$what (exit $RC)"
    fi
}

# check_file WHAT FILE EXPECTED_CONTENT
check_file() {
    if [ ! -f "$2" ]; then
        fail "$1: $2 was not written"
    elif [ "$(cat "$2"; echo .)" != "$3." ]; then
        fail "$1: $2 differs:"
        diff <(printf '%s' "$3") "$2" | head -20
    else
        pass "$1"
    fi
}

# The C program is the one in examples/, so the example is what is tested.
CSRC=$SRC/../../../examples/data-processing/datap.c

# ---- build both programs ----
PROGRAMS=()
if "$CC" --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wextra -Werror \
    "$CSRC" -o "$WORK/datap-c.wasm" 2>"$WORK/cc.err"; then
    pass "compiled datap.c with $CC"
    PROGRAMS+=(datap-c)
else
    cat "$WORK/cc.err"
    fail "datap.c does not compile with $CC (scripts/setup.sh installs" \
        "clang-14, lld-14, wasi-libc and libclang-rt-14-dev-wasm32)"
fi
if "$RUSTC" --target wasm32-wasi -O "$SRC/datap.rs" -o "$WORK/datap-rs.wasm" \
    2>"$WORK/rustc.err"; then
    pass "compiled datap.rs with $RUSTC"
    PROGRAMS+=(datap-rs)
else
    cat "$WORK/rustc.err"
    fail "datap.rs does not compile with $RUSTC (scripts/setup.sh installs" \
        "rustc and libstd-rust-dev-wasm32)"
fi
if [ ${#PROGRAMS[@]} -eq 0 ]; then
    finish
    exit 1
fi

# ---- is --dir supported yet? ----
mkdir -p "$WORK/probe"
wb run --dir "$WORK/probe::/data" "$WORK/${PROGRAMS[0]}.wasm"
if [ "$RC" -eq 2 ] && [[ "$ERR" == "wasmbox: "*--dir* ]]; then
    echo "skipped: wasmbox run does not support --dir yet: $ERR"
    exit 77
fi

INPUT='[3, -4, {"name": "apples", "value": 12, "kind": "fruit"},
 10, {"name": "say \"hi\"", "value": -2, "ok": true, "none": null},
 {"value": 5}, 0]'

# fresh_data NAME: a new host folder holding input.json; prints its path.
fresh_data() {
    local d=$WORK/$1
    rm -rf "$d"
    mkdir -p "$d"
    printf '%s\n' "$INPUT" >"$d/input.json"
    echo "$d"
}

for prog in "${PROGRAMS[@]}"; do
    wasm=$WORK/$prog.wasm

    # Arguments, an environment variable and a chosen exit code.
    d=$(fresh_data "$prog-full")
    wb run --dir "$d::/data" --env DATAP_SCALE=3 "$wasm" --exit 5 alpha "two words" 'q"t'
    check "$prog: summary with --exit 5, tags and DATAP_SCALE=3" 5 \
        "datap: 4 numbers, 3 objects, 3 tags; wrote /data/output.json"
    check_file "$prog: output.json with tags and scale 3" "$d/output.json" '{
  "tags": ["alpha", "two words", "q\"t"],
  "scale": 3,
  "numbers": {"count": 4, "sum": 27, "min": -4, "max": 10},
  "objects": {"count": 3, "sum": 45, "names": ["apples", "say \"hi\""]}
}
'
    if [ "$(cat "$d/input.json")" == "$INPUT" ]; then
        pass "$prog: input.json unchanged"
    else
        fail "$prog: input.json changed"
    fi

    # No arguments, no environment: exit 0, scale 1; an existing
    # output.json is replaced.
    d=$(fresh_data "$prog-plain")
    echo "stale content that is longer than the new output, to check truncation
$(seq 1 100)" >"$d/output.json"
    wb run --dir "$d::/data" "$wasm"
    check "$prog: no arguments, no environment" 0 \
        "datap: 4 numbers, 3 objects, 0 tags; wrote /data/output.json"
    check_file "$prog: output.json replaced, scale 1" "$d/output.json" '{
  "tags": [],
  "scale": 1,
  "numbers": {"count": 4, "sum": 9, "min": -4, "max": 10},
  "objects": {"count": 3, "sum": 15, "names": ["apples", "say \"hi\""]}
}
'

    # Only the variables given with --env reach the guest.
    d=$(fresh_data "$prog-env")
    DATAP_SCALE=7 wb run --dir "$d::/data" "$wasm"
    if [ "$RC" -eq 0 ] && grep -q '"scale": 1,' "$d/output.json" 2>/dev/null; then
        pass "$prog: the host's DATAP_SCALE does not leak into the guest"
    else
        fail "$prog: host environment leaked or run failed (exit $RC): $ERR"
    fi

    # A guest path other than /data: the program finds nothing.
    d=$(fresh_data "$prog-elsewhere")
    wb run --dir "$d::/other" "$wasm"
    check "$prog: input under another guest path is not found" 1 "" \
        "datap: /data/input.json: *"

    # Malformed input: exit 3, nothing written.
    d=$(fresh_data "$prog-bad")
    echo '[1, 2.5]' >"$d/input.json"
    wb run --dir "$d::/data" "$wasm"
    check "$prog: fractions are rejected" 3 "" \
        "datap: /data/input.json: byte 5: only integers are supported"
    if [ -e "$d/output.json" ]; then
        fail "$prog: output.json written for bad input"
    else
        pass "$prog: no output.json for bad input"
    fi

    # Missing input: exit 1 with the reason.
    d=$(fresh_data "$prog-missing")
    rm "$d/input.json"
    wb run --dir "$d::/data" "$wasm"
    check "$prog: missing input.json" 1 "" "datap: /data/input.json: *"

    # A read-only preopen: the input is read, the output cannot be written.
    d=$(fresh_data "$prog-ro")
    wb run --dir "$d::/data:ro" --env DATAP_SCALE=2 "$wasm" --exit 9
    check "$prog: read-only /data" 1 "" "datap: /data/output.json: *"
    if [ -e "$d/output.json" ]; then
        fail "$prog: output.json written through a read-only --dir"
    else
        pass "$prog: nothing written through a read-only --dir"
    fi
done

# Both programs wrote the same bytes for the same run.
if [ ${#PROGRAMS[@]} -eq 2 ]; then
    if cmp -s "$WORK/datap-c-full/output.json" "$WORK/datap-rs-full/output.json"; then
        pass "datap.c and datap.rs wrote identical output.json"
    else
        fail "datap.c and datap.rs wrote different output.json"
    fi
fi

finish
