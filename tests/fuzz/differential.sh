#!/bin/bash
# differential.sh - wasmbox against binaryen's interpreter on random
# modules. Each round turns random bytes into a valid module with
# binaryen's translate-to-fuzz (wasm-opt -ttf, --denan so that NaN bits,
# which engines may legitimately differ in, never reach a result), runs
# it in binaryen (wasm-opt --fuzz-exec-before) and in wasmbox
# (wb-diffexec), and compares every call, logged value, result and trap.
# A difference keeps the round's files in WORK and fails the test.
#
# usage: differential.sh WB_DIFFEXEC SOURCE_DIR WORK_DIR
#   WB_DIFF_ROUNDS   rounds (default 200)
#   WB_DIFF_BYTES    random bytes per module (default 4096)
source "$(dirname "$0")/../lib.sh"
need wasm-opt
DIFF=$WASMBOX
rounds=${WB_DIFF_ROUNDS:-200}
bytes=${WB_DIFF_BYTES:-4096}
same=0
other=0
for ((i = 1; i <= rounds; i++)); do
    d=$WORK/round-$i
    mkdir -p "$d"
    head -c "$bytes" /dev/urandom >"$d/input.dat"
    if ! wasm-opt -ttf "$d/input.dat" --denan -o "$d/module.wasm" >"$d/ttf.log" 2>&1; then
        fail "round $i: wasm-opt -ttf failed: $(tail -n1 "$d/ttf.log")"
        continue
    fi
    timeout 120 wasm-opt "$d/module.wasm" --fuzz-exec-before -q >"$d/binaryen.txt" 2>&1 || true
    set +e
    timeout 120 "$DIFF" "$d/module.wasm" "$d/binaryen.txt" >"$d/diff.txt" 2>&1
    rc=$?
    set -e
    case $rc in
    0) same=$((same + 1)); rm -rf "$d" ;;
    3) other=$((other + 1)); echo "not comparable: round $i: $(head -n1 "$d/diff.txt")"; rm -rf "$d" ;;
    *) fail "round $i (exit $rc): $(head -n3 "$d/diff.txt" | tr '\n' ' ') (files in $d)" ;;
    esac
done
echo "$same rounds the same, $other not comparable, $FAILED different"
PASSED=$same
finish
