#!/bin/bash
# differential.sh - wasmbox against binaryen's interpreter on random
# modules. Each round turns random bytes into a valid module with
# binaryen's translate-to-fuzz (wasm-opt -ttf, --denan so that NaN bits,
# which engines may legitimately differ in, never reach a result), runs
# it in binaryen (wasm-opt --fuzz-exec-before) and in wasmbox
# (wb-diffexec), and compares every call, logged value, result and trap.
# A second set of rounds does the same with modules that wb-genlower
# writes from a seed: the code shapes the lowering rewrites, which -ttf
# modules seldom contain (tests/fuzz/genlower.c).
# When wb-diffexec has the ahead-of-time compiler (--aot), every module
# also runs as native code, and its full record (results, trap messages,
# the final memory's hash) must equal the interpreter's.
# A difference keeps the round's files in WORK and fails the test.
#
# usage: differential.sh WB_DIFFEXEC SOURCE_DIR WORK_DIR
#   WB_DIFF_ROUNDS   rounds of each kind (default 200)
#   WB_DIFF_BYTES    random bytes per -ttf module (default 4096)
#   WB_DIFF_SEED     first wb-genlower seed (default: from the clock)
source "$(dirname "$0")/../lib.sh"
need wasm-opt
need wat2wasm
DIFF=$WASMBOX
GEN=$(dirname "$DIFF")/wb-genlower
rounds=${WB_DIFF_ROUNDS:-200}
bytes=${WB_DIFF_BYTES:-4096}
seed0=${WB_DIFF_SEED:-$(date +%s)}
same=0
other=0
aot_same=0
aot_mem=0
aot=0
# state_free FILE: the record without what shows memory (the module's own
# memhash_end export and the final hash line).
state_free() { awk '/^call memhash_end/ { skip = 1; next } /^call / { skip = 0 } /^memory / { next } !skip' "$1"; }
if "$DIFF" --aot 2>/dev/null; [ $? -ne 77 ]; then aot=1; fi
[ "$aot" = 1 ] && echo "native code (--aot) is compared with the interpreter too" ||
    echo "note: wb-diffexec has no AOT compiler: native code is not compared"

# compare WHAT DIR: runs DIR/module.wasm in both and counts the outcome.
compare() {
    local what=$1 d=$2 rc
    timeout 120 wasm-opt "$d/module.wasm" --fuzz-exec-before -q >"$d/binaryen.txt" 2>&1 || true
    set +e
    timeout 120 "$DIFF" "$d/module.wasm" "$d/binaryen.txt" >"$d/diff.txt" 2>&1
    rc=$?
    set -e
    if [ "$aot" = 1 ] && [ "$rc" != 3 ]; then
        set +e
        timeout 120 "$DIFF" --full "$d/module.wasm" >"$d/interp.txt" 2>&1
        local ri=$?
        timeout 300 "$DIFF" --full --aot "$d/module.wasm" >"$d/aot.txt" 2>&1
        local ra=$?
        set -e
        if grep -qE 'all fuel consumed|interrupted' "$d/interp.txt" "$d/aot.txt"; then
            other=$((other + 1))
        elif [ "$ri" = "$ra" ] && cmp -s "$d/interp.txt" "$d/aot.txt"; then
            aot_same=$((aot_same + 1))
        elif [ "$ri" = "$ra" ] && grep -q 'trap out of bounds memory access' "$d/interp.txt" &&
            cmp -s <(state_free "$d/interp.txt") <(state_free "$d/aot.txt"); then
            # Every result and trap equal; only memory differs, after an
            # out-of-bounds trap: native code may have moved a load that
            # traps before a store to another address (docs/aot.md).
            aot_mem=$((aot_mem + 1))
        else
            fail "$what: native code differs from the interpreter (exit $ri/$ra): $(diff "$d/interp.txt" "$d/aot.txt" | head -n 4 | tr '\n' ' ') (files in $d)"
            return
        fi
    fi
    case $rc in
    0) same=$((same + 1)); rm -rf "$d" ;;
    3) other=$((other + 1)); echo "not comparable: $what: $(head -n1 "$d/diff.txt")"; rm -rf "$d" ;;
    *) fail "$what (exit $rc): $(head -n3 "$d/diff.txt" | tr '\n' ' ') (files in $d)" ;;
    esac
}

for ((i = 1; i <= rounds; i++)); do
    d=$WORK/ttf-$i
    mkdir -p "$d"
    head -c "$bytes" /dev/urandom >"$d/input.dat"
    if ! wasm-opt -ttf "$d/input.dat" --denan -o "$d/module.wasm" >"$d/ttf.log" 2>&1; then
        fail "ttf round $i: wasm-opt -ttf failed: $(tail -n1 "$d/ttf.log")"
        continue
    fi
    compare "ttf round $i" "$d"
done

echo "wb-genlower seeds $seed0..$((seed0 + rounds - 1))"
for ((i = 0; i < rounds; i++)); do
    s=$((seed0 + i))
    d=$WORK/shapes-$s
    mkdir -p "$d"
    "$GEN" "$s" >"$d/module.wat"
    if ! wat2wasm "$d/module.wat" -o "$d/module.wasm" >"$d/wat2wasm.log" 2>&1; then
        fail "shapes seed $s: wat2wasm failed: $(head -n1 "$d/wat2wasm.log")"
        continue
    fi
    compare "shapes seed $s" "$d"
done
echo "$same rounds the same, $other not comparable, $FAILED different"
[ "$aot" = 1 ] && echo "native code: $aot_same rounds equal to the interpreter, $aot_mem equal but for memory after an out-of-bounds trap"
PASSED=$same
finish
