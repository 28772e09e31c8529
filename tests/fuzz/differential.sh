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

# compare WHAT DIR: runs DIR/module.wasm in both and counts the outcome.
compare() {
    local what=$1 d=$2 rc
    timeout 120 wasm-opt "$d/module.wasm" --fuzz-exec-before -q >"$d/binaryen.txt" 2>&1 || true
    set +e
    timeout 120 "$DIFF" "$d/module.wasm" "$d/binaryen.txt" >"$d/diff.txt" 2>&1
    rc=$?
    set -e
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
PASSED=$same
finish
