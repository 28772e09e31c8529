#!/bin/bash
# http.sh - requests per second of examples/http-server/server.c under
# wasmbox against the same C source built natively (gcc -O2), with the
# same load tool (wrk) in the same run, on loopback only. Each engine
# serves in turn, ROUNDS times interleaved; the median is reported, and
# the ratio to native.
#
#   native    gcc -O2 server.c
#   wasmbox   wasmbox run --inherit-network server.wasm
#   node      node's WASI (node:wasi) if it can run the module at all:
#             it has no socket ABI (sock_open, sock_bind, ...), so the
#             reason it cannot is printed instead of a number
#   --engine NAME=CMD  another runtime, run as CMD server.wasm ARGS
#             (e.g. --engine wasmedge=wasmedge)
#
# usage: bench/http.sh [--seconds S] [--rounds N] [--connections C]
#                      [--wasmbox PATH] [--engine NAME=CMD] [--out DIR]
# Defaults: 5 s per run, 3 rounds, 32 connections, 1 wrk thread. A run is
# bounded by its duration; everything goes to 127.0.0.1.
set -euo pipefail
export LC_ALL=C
bench=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$bench/.." && pwd)
seconds=5
rounds=3
conns=32
wasmbox=$root/build/wasmbox
out=$bench/out/http
names=()
cmds=()
while [ $# -gt 0 ]; do
    case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --wasmbox) wasmbox=$2; shift 2 ;;
    --engine) names+=("${2%%=*}"); cmds+=("${2#*=}"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "http.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
for t in wrk gcc clang-14; do
    command -v $t >/dev/null || { echo "http.sh: $t is missing (scripts/setup.sh installs it)" >&2; exit 2; }
done
[ -x "$wasmbox" ] || { echo "http.sh: no wasmbox at $wasmbox (build first)" >&2; exit 2; }
mkdir -p "$out"
src=$root/examples/http-server/server.c
gcc -O2 "$src" -o "$out/server-native"
clang-14 --target=wasm32-wasi --sysroot=/usr -O2 -I "$root/guest/include" "$src" \
    "$root/guest/src/socket.c" -o "$out/server.wasm"

# serve NAME CMD...: starts the server on a free port, waits until it
# answers; sets PID and PORT (empty when it did not start).
serve() {
    local name=$1
    shift
    PORT=
    local p
    for try in 1 2 3 4 5; do
        p=$((20000 + RANDOM % 40000))
        "$@" --listen "127.0.0.1:$p" >"$out/$name.out" 2>"$out/$name.err" </dev/null &
        PID=$!
        for i in $(seq 1 100); do
            if curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$p/"; then
                PORT=$p
                return 0
            fi
            kill -0 "$PID" 2>/dev/null || break
            sleep 0.05
        done
        kill "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null || true
    done
    return 1
}

# load: wrk against PORT; prints requests per second.
load() {
    wrk -t1 -c"$conns" -d"${seconds}s" --timeout 5s "http://127.0.0.1:$PORT/bench" >"$out/wrk.txt" 2>&1
    awk '/^Requests\/sec:/ { print $2 }' "$out/wrk.txt"
}

engines=(native wasmbox)
declare -A cmd
cmd[native]="$out/server-native"
cmd[wasmbox]="$wasmbox run --inherit-network $out/server.wasm"
for i in "${!names[@]}"; do
    engines+=("${names[$i]}")
    cmd[${names[$i]}]="${cmds[$i]} $out/server.wasm"
done
declare -A results
for r in $(seq 1 "$rounds"); do
    for e in "${engines[@]}"; do
        # shellcheck disable=SC2086
        if ! serve "$e" ${cmd[$e]}; then
            echo "http.sh: $e did not start: $(head -c 300 "$out/$e.err")" >&2
            results[$e]+=" ERR"
            continue
        fi
        rps=$(load)
        kill "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null || true
        results[$e]+=" ${rps:-ERR}"
        echo "round $r: $e ${rps:-ERR} requests/s" >&2
    done
done
median() { printf '%s\n' "$@" | grep -v ERR | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "ERR" }'; }
native=$(median ${results[native]})
{
    echo "HTTP requests per second, wrk -t1 -c$conns -d${seconds}s on 127.0.0.1, median of $rounds"
    printf '%-10s %12s %10s\n' engine req/s "/ native"
    for e in "${engines[@]}"; do
        m=$(median ${results[$e]})
        ratio=$(awk -v a="$m" -v b="$native" 'BEGIN { if (a == "ERR" || b == "ERR" || b == 0) print "-"; else printf "%.2f", a / b }')
        printf '%-10s %12s %10s\n' "$e" "$m" "$ratio"
    done
    # node's WASI has no socket ABI: show why, from node itself.
    if command -v node >/dev/null; then
        node --no-warnings -e '
const { WASI } = require("node:wasi"); const fs = require("fs");
const wasi = new WASI({ version: "preview1", args: ["server.wasm"] });
WebAssembly.instantiate(fs.readFileSync(process.argv[1]), wasi.getImportObject())
  .then(() => console.log("node: instantiated (unexpected)"))
  .catch((e) => console.log("node:      cannot run it: " + e.message));' "$out/server.wasm" 2>&1 | head -n 1
    fi
} | tee "$out/results.txt"
