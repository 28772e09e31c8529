#!/bin/bash
# build.sh - builds the benchmark workloads (bench/workloads/*.c) for every
# engine that bench/run.sh compares:
#   OUT/native/W         gcc -O2, the baseline;
#   OUT/wasm/W.wasm      clang-14 --target=wasm32-wasi -O2, for wasmbox, node,
#                        wasm-interp and any --engine;
#   OUT/wasm2c/W         wabt's wasm2c, then gcc -O2 with the wasm2c runtime
#                        and bench/wasm2c/main.c (a minimal WASI); skipped,
#                        with the reason, when wasm2c or its runtime is missing;
#   OUT/tools/wabt-wasi  wabt's interpreter with a WASI of its own
#                        (bench/wasm-interp/wabt-wasi.cc), built only when
#                        wasm-interp itself cannot run WASI modules.
# Only what is missing or older than its sources is rebuilt.
#
# usage: bench/build.sh [--only W1,W2] [OUTDIR]     (OUTDIR: bench/out)
# Tools can be overridden: CLANG, CC, CXX, WASM2C, WASI_SYSROOT, WASM2C_RT
# (the directory holding wasm-rt-impl.c).
set -euo pipefail

bench=$(cd "$(dirname "$0")" && pwd)
only=""
out=""
while [ $# -gt 0 ]; do
    case $1 in
    --only) only=${2:?build.sh: --only needs a list}; shift 2 ;;
    --only=*) only=${1#--only=}; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "build.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) out=$1; shift ;;
    esac
done
out=${out:-$bench/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)

CLANG=${CLANG:-clang-14}
CC=${CC:-gcc}
CXX=${CXX:-g++}
WASM2C=${WASM2C:-wasm2c}
WASI_SYSROOT=${WASI_SYSROOT:-/usr}
if [ -z "${WASM2C_RT:-}" ]; then
    for dir in /usr/src/wasm2c /usr/share/wabt/wasm2c; do
        if [ -f "$dir/wasm-rt-impl.c" ]; then
            WASM2C_RT=$dir
            break
        fi
    done
fi

die() {
    echo "build.sh: $*" >&2
    exit 1
}

for tool in "$CLANG" "$CC"; do
    command -v "$tool" >/dev/null || die "$tool not found (scripts/setup.sh installs it)"
done
[ -f "$WASI_SYSROOT/lib/wasm32-wasi/crt1-command.o" ] ||
    die "no wasm32-wasi sysroot under $WASI_SYSROOT (Debian: wasi-libc, libclang-rt-14-dev-wasm32, lld-14)"

# The workloads to build: every .c in workloads/, or the --only list.
workloads=()
if [ -n "$only" ]; then
    IFS=, read -r -a workloads <<<"$only"
    for w in "${workloads[@]}"; do
        [ -f "$bench/workloads/$w.c" ] || die "no workload '$w' (bench/workloads/$w.c)"
    done
else
    for src in "$bench"/workloads/*.c; do
        workloads+=("$(basename "$src" .c)")
    done
fi

# stale OUTPUT INPUT...: true when OUTPUT is missing or older than an input
# (build.sh itself counts, so a change of flags rebuilds everything).
stale() {
    local target=$1 dep
    shift
    [ -e "$target" ] || return 0
    for dep in "$@" "$bench/build.sh"; do
        [ "$target" -nt "$dep" ] || return 0
    done
    return 1
}

# Runs a build command quietly; on failure shows its output and stops.
step() {
    local what=$1 log
    shift
    log=$(mktemp)
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "$what failed: $*"
    fi
    rm -f "$log"
}

mkdir -p "$out/native" "$out/wasm" "$out/wasm2c" "$out/tools"

wasm2c_ok=1
if ! command -v "$WASM2C" >/dev/null; then
    wasm2c_ok=0
    echo "build.sh: skipping the wasm2c builds: $WASM2C not found (Debian: wabt)"
elif [ -z "${WASM2C_RT:-}" ] || [ ! -f "$WASM2C_RT/wasm-rt-impl.c" ] || [ ! -f "$WASM2C_RT/wasm-rt.h" ]; then
    wasm2c_ok=0
    echo "build.sh: skipping the wasm2c builds: no wasm-rt-impl.c and wasm-rt.h (set WASM2C_RT)"
fi

built=0
for w in "${workloads[@]}"; do
    src=$bench/workloads/$w.c
    if stale "$out/native/$w" "$src"; then
        echo "build.sh: native  $w"
        step "gcc $w" "$CC" -O2 -std=c11 -Wall -Wextra -o "$out/native/$w" "$src" -lm
        built=$((built + 1))
    fi
    if stale "$out/wasm/$w.wasm" "$src"; then
        echo "build.sh: wasm    $w"
        step "clang $w" "$CLANG" --target=wasm32-wasi --sysroot="$WASI_SYSROOT" -O2 -std=c11 \
            -Wall -Wextra -o "$out/wasm/$w.wasm" "$src" -lm
        built=$((built + 1))
    fi
    if [ "$wasm2c_ok" -eq 1 ] && stale "$out/wasm2c/$w" "$out/wasm/$w.wasm" "$bench/wasm2c/main.c"; then
        echo "build.sh: wasm2c  $w"
        mkdir -p "$out/wasm2c/$w.src"
        step "wasm2c $w" "$WASM2C" "$out/wasm/$w.wasm" -n "$w" -o "$out/wasm2c/$w.src/$w.c"
        step "gcc (wasm2c) $w" "$CC" -O2 -w -I"$WASM2C_RT" -I"$out/wasm2c/$w.src" \
            -DWB_MODULE="$w" -DWB_HEADER="\"$w.h\"" -o "$out/wasm2c/$w" \
            "$bench/wasm2c/main.c" "$out/wasm2c/$w.src/$w.c" "$WASM2C_RT/wasm-rt-impl.c" -lm
        built=$((built + 1))
    fi
done

# wabt's interpreter: wasm-interp itself when it runs WASI, else our driver.
probe=$out/wasm/${workloads[0]}.wasm
if command -v wasm-interp >/dev/null; then
    # (every workload is quick with the argument 1)
    probe_out=$(timeout 60 wasm-interp --wasi "$probe" -- 1 2>&1 </dev/null || true)
    if [[ $probe_out == *"wasi support not compiled in"* ]]; then
        if [ ! -f /usr/include/wabt/interp/interp.h ] || ! command -v "$CXX" >/dev/null; then
            echo "build.sh: skipping wabt-wasi: wasm-interp lacks WASI and libwabt's headers or $CXX are missing"
        elif stale "$out/tools/wabt-wasi" "$bench/wasm-interp/wabt-wasi.cc"; then
            echo "build.sh: wabt-wasi (wasm-interp has no WASI: wabt's interpreter via libwabt)"
            step "g++ wabt-wasi" "$CXX" -O2 -std=c++17 -o "$out/tools/wabt-wasi" \
                "$bench/wasm-interp/wabt-wasi.cc" -lwabt
            built=$((built + 1))
        fi
    fi
fi

echo "build.sh: ${#workloads[@]} workload(s) in $out ($built rebuilt)"
