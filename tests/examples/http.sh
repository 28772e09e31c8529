#!/bin/bash
# http.sh WASMBOX SRC WORKDIR - builds examples/http-server/server.c for
# wasm32-wasi, serves it with `wasmbox run --tcplisten 127.0.0.1:PORT`, and
# checks that curl reads the pages and that the server exits 0 after the
# requests it was told to serve. Loopback only.
set -u
WB=$1
SRC=$2
WORK=$3
rm -rf "$WORK"
mkdir -p "$WORK"
fail() { echo "FAILED: $*"; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; exit 1; }

clang-14 --target=wasm32-wasi --sysroot=/usr -O2 "$SRC/server.c" -o "$WORK/server.wasm" ||
    fail "cannot compile server.c"
command -v curl >/dev/null || fail "curl is not installed (scripts/setup.sh installs it)"
echo "PASS: compiled server.c"

"$WB" run "$WORK/server.wasm" >"$WORK/none.out" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "without --tcplisten the server should exit 2, got $rc"
echo "PASS: without --tcplisten the guest has no socket (exit 2)"

pid=
for try in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + RANDOM % 40000))
    "$WB" run --tcplisten "127.0.0.1:$port" "$WORK/server.wasm" 3 >"$WORK/out.txt" 2>"$WORK/err.txt" &
    pid=$!
    for i in $(seq 1 100); do
        grep -q 'listening' "$WORK/out.txt" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    grep -q 'listening' "$WORK/out.txt" 2>/dev/null && break
    wait "$pid"
    pid=
done
[ -n "$pid" ] || fail "server did not start: $(cat "$WORK/err.txt")"
echo "PASS: serving on 127.0.0.1:$port"

for n in 1 2 3; do
    body=$(curl -s --max-time 5 "http://127.0.0.1:$port/page$n") || fail "curl request $n failed"
    want="Hello from wasmbox! You asked for /page$n (request $n)"
    [ "$body" = "$want" ] || fail "request $n: got '$body', want '$want'"
    echo "PASS: curl /page$n -> $body"
done
for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$pid" 2>/dev/null; then fail "server still running after 3 requests"; fi
wait "$pid"
rc=$?
pid=
[ $rc -eq 0 ] || fail "server exit status $rc: $(cat "$WORK/err.txt")"
grep -q 'served 3 requests' "$WORK/out.txt" || fail "no final line: $(cat "$WORK/out.txt")"
echo "PASS: server exited 0 after 3 requests"
echo "6 passed, 0 failed"
