#!/bin/bash
# invoke.sh - `wasmbox run` on small hand-written modules: --invoke with
# every number type, multiple results and references; _start and exit
# codes; traps (exit 134); load and link errors (exit 1); usage errors
# (exit 2).
source "$(dirname "$0")/../lib.sh"
need wat2wasm

wat2wasm "$SRC/invoke.wat" -o "$WORK/invoke.wasm"
wat2wasm "$SRC/start.wat" -o "$WORK/start.wasm"
# Cut misc.wat into one module per ";; --- NAME.wasm:" marker.
awk -v dir="$WORK" '
    /^;; --- / { name = $3; sub(/:$/, "", name); sub(/\.wasm$/, ".wat", name);
                 out = dir "/" name; next }
    out != "" { print > out }' "$SRC/misc.wat"
for w in "$WORK"/*.wat; do
    wat2wasm "$w" -o "${w%.wat}.wasm"
done
M=$WORK/invoke.wasm

# inv EXPECTED_STDOUT FUNCTION ARGS...: exit 0 and exactly these lines.
inv() {
    local expected=$1 fn=$2
    shift 2
    wb run --invoke "$fn" "$M" "$@"
    if [ "$RC" -ne 0 ]; then
        fail "invoke $fn $*: exit $RC, stderr: $ERR"
    else
        expect_eq "invoke $fn $* -> $(tr '\n' ' ' <<<"$expected")" "$expected" "$OUT"
    fi
}

# integers: signed and unsigned decimal, hex, wrap-around
inv 5 add 2 3
inv -1 add 4294967295 0
inv -1 add 0xffffffff 0
inv -2147483648 add 2147483647 1
inv -2147483648 id32 -2147483648
inv 255 id32 0xFF
inv -16 id32 -0x10
inv 10000000000 add64 9999999999 1
inv -1 id64 18446744073709551615
inv -9223372036854775808 id64 -9223372036854775808
inv -9223372036854775808 id64 0x8000000000000000

# floats: shortest round-trip text
inv 0.1 tenth
inv 0.1 tenth64
inv 0.33333334 thirdf
inv 0.3333333333333333 third
inv 0.30000000000000004 addd 0.1 0.2
inv 0.3 addf 0.1 0.2
inv 3.5 addf 1.25 2.25
inv 1e+300 idd 1e300
inv 5e-324 idd 5e-324
inv 1e-45 idf 1e-45
inv 3.4028235e+38 idf 3.4028235e38
inv -0 negzero
inv -0 idf -0
inv 0.5 idd 0x1p-1
# infinities and NaNs: printed and parsed
inv nan nanf
inv -nan negnan
inv nan:0x200000 nanpayload
inv inf inf
inv -inf neginf
inv inf idf inf
inv -inf idd -inf
inv inf idf 1e39
inv nan idf nan
inv -nan idd -nan
inv nan:0x1 idf nan:0x1
inv -nan:0x1234 idd -nan:0x1234
inv 2143289344 bitsf nan
inv -4194304 bitsf -nan
inv 2139095041 bitsf nan:0x1
inv 9221120237041090560 bitsd nan

# multiple results, no result, references
inv $'7\n-3' swap -3 7
inv $'-1\n9007199254740993\n1.5\n2.25' multi
inv "" none
inv null nullref
inv ref someref
inv 1 isnull null
# a reactor's _initialize runs before the invoked export
M=$WORK/reactor.wasm
inv 5 get
M=$WORK/invoke.wasm

# options: --invoke=NAME and -- are accepted
wb run --invoke=add -- "$M" 1 2
expect_eq "--invoke=NAME and --" "3" "$OUT"

# bad arguments: exit 2 with a message naming the problem
bad_args() {
    local what=$1
    shift
    wb run "$@"
    if [ "$RC" -eq 2 ] && [[ "$ERR" == "wasmbox: "* ]]; then
        pass "$what: $ERR"
    else
        fail "$what: expected exit 2 and a wasmbox: error, got $RC: $ERR"
    fi
}
bad_args "too few arguments" --invoke add "$M" 1
bad_args "too many arguments" --invoke add "$M" 1 2 3
bad_args "not a number" --invoke add "$M" 1 abc
bad_args "i32 out of range" --invoke id32 "$M" 4294967296
bad_args "i32 below range" --invoke id32 "$M" -2147483649
bad_args "i64 out of range" --invoke id64 "$M" 18446744073709551616
bad_args "space in number" --invoke id32 "$M" " 1"
bad_args "empty number" --invoke id32 "$M" ""
bad_args "double 0x" --invoke id32 "$M" 0x0x5
bad_args "float garbage" --invoke idf "$M" 1.5x
bad_args "nan payload too big for f32" --invoke idf "$M" nan:0x800000
bad_args "zero nan payload" --invoke idd "$M" nan:0x0
bad_args "non-null reference" --invoke isnull "$M" 5
bad_args "--invoke without a name" --invoke
bad_args "unknown option" --frobnicate "$M"
bad_args "no module" --invoke add
bad_args "--dir without a host" --dir ::guest "$M"

# missing or non-function exports: exit 1
wb run --invoke nosuch "$M"
expect_error "missing export" "*no exported function 'nosuch'*"
wb run --invoke mem "$M"
expect_error "memory export" "*'mem' is a memory, not a function*"
wb run --invoke answer "$M"
expect_error "global export" "*'answer' is a global, not a function*"

# traps: exit 134, "wasmbox: trap: MESSAGE in function ... at ..."
trap_case() {
    local what=$1 pattern=$2
    shift 2
    wb run "$@"
    if crashed && [ "$RC" -ne 134 ]; then
        fail "$what: crashed (exit $RC): $ERR"
    elif [ "$RC" -eq 134 ] && [[ "$ERR" == $pattern ]]; then
        pass "$what (exit 134): $ERR"
    else
        fail "$what: expected exit 134 and [$pattern], got $RC: $ERR"
    fi
}
trap_case "divide by zero" "wasmbox: trap: integer divide by zero*" --invoke div "$M" 1 0
trap_case "div overflow" "wasmbox: trap: integer overflow*" --invoke div "$M" -2147483648 -1
trap_case "unreachable" "wasmbox: trap: unreachable*" --invoke boom "$M"
trap_case "out of bounds load" "wasmbox: trap: out of bounds memory access*" --invoke oob "$M"
trap_case "stack exhaustion" "wasmbox: trap: call stack exhausted*" --invoke recurse "$M"
trap_case "trap in start function" "wasmbox: trap: unreachable*" "$WORK/starttrap.wasm"
trap_case "trap in _start" "wasmbox: trap: integer divide by zero*" "$WORK/trapstart.wasm"
trap_case "WASI call without memory" "wasmbox: trap: *wasi: module has no memory*" \
    "$WORK/nomemory.wasm"
wb run --invoke div "$M" 7 0
if [[ "$ERR" == *"in function"* && "$ERR" == *" at "* ]]; then
    pass "trap message names the function and offset: $ERR"
else
    fail "trap message lacks function or offset: $ERR"
fi
expect_eq "trap prints no result" "" "$OUT"

# exit codes
wb run --invoke exit "$M" 3
expect_status "proc_exit 3 from --invoke" 3
wb run --invoke exit "$M" 0
expect_status "proc_exit 0 from --invoke" 0
wb run "$WORK/start.wasm"
expect_status "_start exits with argc+40" 41
wb run "$WORK/start.wasm" -x --invoke y
expect_status "guest options after FILE are guest arguments" 44
wb run "$WORK/returns.wasm"
expect_status "_start returning normally" 0

# modules that cannot run: exit 1
wb run "$WORK/nostart.wasm"
expect_error "no _start" "*nostart.wasm: *_start*"
wb run "$WORK/badstart.wasm"
expect_error "_start with wrong type" "*badstart.wasm: *_start*"
wb run "$WORK/linkerr.wasm"
expect_error "unknown import" "wasmbox: *linkerr.wasm: link error*"
wb run "$WORK/wrongsig.wasm"
expect_error "WASI import with wrong type" "wasmbox: *wrongsig.wasm: link error*"

finish
