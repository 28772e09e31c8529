#!/bin/sh
# fuzz.sh [SECONDS] - builds the libFuzzer targets with clang-14, ASan and
# UBSan in build-fuzz/, seeds the module target with every module of the
# (non-SIMD) spec tests and fuzzes it for SECONDS (default 60), then the
# socket-ABI target (tests/fuzz/fuzz_sockabi.c, seeded by
# sockabi_seeds.py) for a third of that (10 s at least). Exits non-zero on
# a crash; the crashing input is left in build-fuzz/ as crash-*, leak-*,
# timeout-* or oom-*.
set -eu

secs=${1:-60}
case $secs in
  ''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-fuzz
spec=$root/../shared/testsuite/spec

# clang is required for libFuzzer; naming it on the command line too makes a
# re-run switch an old build dir over instead of silently keeping gcc.
CC=clang-14 cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWB_FUZZ=ON -DWB_SANITIZE=ON >/dev/null
cmake --build "$build" --target wb-fuzz-module wb-fuzz-sockabi -j2

# Seed corpus: the spec modules are small, varied and hit every section and
# opcode, including the deliberately malformed and invalid ones.
seed=$build/corpus-seed
corpus=$build/corpus
mkdir -p "$seed" "$corpus"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
for wast in "$spec"/*.wast; do
  name=$(basename "$wast" .wast)
  case $name in simd_*) continue ;; esac
  mkdir "$tmp/$name"
  wast2json "$wast" -o "$tmp/$name/$name.json" >/dev/null 2>&1 || continue
  for wasm in "$tmp/$name"/*.wasm; do
    [ -e "$wasm" ] && cp "$wasm" "$seed/"
  done
done
echo "seed corpus: $(ls "$seed" | wc -l) modules in $seed"

# fuzz NAME TARGET SECONDS CORPUS SEED LOG: runs one libFuzzer target;
# on a crash prints the log's end and exits 1.
fuzz() {
  name=$1 target=$2 t=$3 corp=$4 seeds=$5 log=$6
  status=0
  "$build/tests/fuzz/$target" -max_total_time="$t" -rss_limit_mb=4096 \
    -timeout=10 -artifact_prefix="$build/" "$corp" "$seeds" >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^Done \([0-9]*\) runs in .*/\1/p' "$log" | tail -n 1)
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$log"
    echo "fuzz: $name FAILED (exit status $status); full log in $log" >&2
    exit 1
  fi
  echo "fuzz: $name: ${runs:-?} executions in $t s, no crash (log: $log)"
}

fuzz modules wb-fuzz-module "$secs" "$corpus" "$seed" "$build/fuzz.log"

# The socket ABI's host side: real sockets on 127.0.0.1 only, no DNS.
sock_secs=$((secs / 3))
[ "$sock_secs" -ge 10 ] || sock_secs=10
mkdir -p "$build/sockabi-corpus"
python3 "$root/tests/fuzz/sockabi_seeds.py" "$build/sockabi-seed"
fuzz "socket ABI" wb-fuzz-sockabi "$sock_secs" "$build/sockabi-corpus" "$build/sockabi-seed" \
  "$build/fuzz-sockabi.log"
