#!/bin/bash
# http.sh WASMBOX SRC WORKDIR - the HTTP examples, for real, on loopback:
#   - examples/http-server/server.c built for wasm32-wasi with the guest
#     socket library: refused without a grant; binding its own port with
#     --inherit-network (several requests on one kept-alive connection);
#     with --net-allow for exactly its address; on a --tcplisten socket;
#   - examples/http-client/fetch.c fetching from a host service (python's
#     http.server) with --inherit-network, refused without.
# curl checks every answer; each server exits 0 after --max requests.
source "$(dirname "$0")/../lib.sh"
set +e
need clang-14
need curl
need python3
EX=$(cd "$SRC/../../examples" && pwd)
GUEST=$(cd "$SRC/../../guest" && pwd)

cc_wasm() {
    clang-14 --target=wasm32-wasi --sysroot=/usr -O2 -I "$GUEST/include" "$@" \
        "$GUEST/src/socket.c" 2>"$WORK/cc.err"
}
if cc_wasm "$EX/http-server/server.c" -o "$WORK/server.wasm" &&
    cc_wasm "$EX/http-client/fetch.c" -o "$WORK/fetch.wasm"; then
    pass "built server.wasm and fetch.wasm"
else
    cat "$WORK/cc.err"
    fail "the examples do not build"
    finish
fi

wb run "$WORK/server.wasm" --listen 127.0.0.1:0
expect_status "server without a network grant: exit 1" 1
if grep -q '^wasmbox: network: socket refused' <<<"$ERR"; then
    pass "... and the refusal is on stderr"
else
    fail "no refusal line in: $ERR"
fi

# start_server NAME ARGS...: runs wasmbox ARGS in the background, waits
# for "listening on HOST port N"; sets PID and PORT. False (PORT empty)
# when it does not start; its stderr is in WORK/NAME.err.
start_server() {
    local name=$1
    shift
    "$WASMBOX" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null &
    PID=$!
    PORT=
    for i in $(seq 1 200); do
        PORT=$(sed -n 's/^server: listening on .* port \([0-9]*\)$/\1/p' "$WORK/$name.out")
        [ -n "$PORT" ] && return 0
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
    done
    kill "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
    return 1
}

# stop_check NAME LABEL N: the server started as NAME must exit 0 by
# itself after N requests.
stop_check() {
    local file=$1 name=$2 n=$3
    for i in $(seq 1 200); do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$PID" 2>/dev/null; then
        fail "$name still running after $n requests"
        kill "$PID"
    fi
    wait "$PID"
    local rc=$?
    if [ $rc -eq 0 ] && grep -q "^server: served $n requests$" "$WORK/$file.out"; then
        pass "$name exited 0 after $n requests"
    else
        fail "$name: status $rc, out: $(cat "$WORK/$file.out") err: $(cat "$WORK/$file.err")"
    fi
}

# --inherit-network: the server binds port 0 and says which it got.
if start_server inherit run --inherit-network "$WORK/server.wasm" --listen 127.0.0.1:0 --max 3; then
    pass "server bound its own port ($PORT) with --inherit-network"
    body=$(curl -s --max-time 10 "http://127.0.0.1:$PORT/one")
    expect_eq "curl /one" "Hello from wasmbox! You asked for /one (request 1)" "$body"
    # Two requests on one connection (curl reuses it): keep-alive.
    out=$(curl -s --max-time 10 -w '%{num_connects}\n' "http://127.0.0.1:$PORT/two" \
        "http://127.0.0.1:$PORT/three")
    expect_eq "two requests, one connection (keep-alive)" \
        "Hello from wasmbox! You asked for /two (request 2)
1
Hello from wasmbox! You asked for /three (request 3)
0" "$out"
    stop_check inherit "server (--inherit-network)" 3
else
    fail "server with --inherit-network did not start: $(cat "$WORK/inherit.err")"
fi

# --net-allow for exactly the address it binds. Try free ports.
ok=
for try in 1 2 3 4 5; do
    p=$((20000 + RANDOM % 40000))
    if start_server allow run --net-allow "bind:127.0.0.1:$p" "$WORK/server.wasm" \
        --listen "127.0.0.1:$p" --max 1; then
        ok=1
        break
    fi
done
if [ -n "$ok" ]; then
    expect_eq "server with --net-allow bind:127.0.0.1:$p" \
        "Hello from wasmbox! You asked for /allowed (request 1)" \
        "$(curl -s --max-time 10 "http://127.0.0.1:$PORT/allowed")"
    stop_check allow "server (--net-allow)" 1
else
    fail "server with --net-allow did not start on any of 5 ports: $(cat "$WORK/allow.err")"
fi
wb run --net-allow "bind:127.0.0.1:1-1000" "$WORK/server.wasm" --listen 127.0.0.1:0
expect_status "a bind outside the granted ports: exit 1" 1
if grep -q '^wasmbox: network: bind to 127.0.0.1:0 refused: no --net-allow rule grants it$' <<<"$ERR"; then
    pass "... with the refused bind on stderr"
else
    fail "refused bind not reported: $ERR"
fi

# A listener handed over by the host (--tcplisten), no grant needed.
for try in 1 2 3 4 5; do
    p=$((20000 + RANDOM % 40000))
    start_server preset run --tcplisten "127.0.0.1:$p" "$WORK/server.wasm" --max 2 && break
done
if [ -n "$PORT" ]; then
    expect_eq "server on a --tcplisten socket" \
        "Hello from wasmbox! You asked for /preset (request 1)" \
        "$(curl -s --max-time 10 "http://127.0.0.1:$p/preset")"
    curl -s --max-time 10 -H 'Connection: close' "http://127.0.0.1:$p/x" >/dev/null
    stop_check preset "server (--tcplisten)" 2
else
    fail "server on a --tcplisten socket did not start: $(cat "$WORK/preset.err")"
fi

# The client against a host service.
mkdir -p "$WORK/www"
echo "served by the host" >"$WORK/www/file.txt"
python3 -m http.server --bind 127.0.0.1 0 --directory "$WORK/www" >"$WORK/py.out" 2>&1 &
PY=$!
pyport=
for i in $(seq 1 200); do
    pyport=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$WORK/py.out" | head -n 1)
    [ -n "$pyport" ] && break
    sleep 0.05
done
if [ -n "$pyport" ]; then
    wb run --inherit-network "$WORK/fetch.wasm" 127.0.0.1 "$pyport" /file.txt
    expect_status "fetch from a host service with --inherit-network" 0
    expect_eq "... the body" "served by the host" "$OUT"
    wb run --net-allow "connect:127.0.0.1:$pyport" "$WORK/fetch.wasm" 127.0.0.1 "$pyport" /nope
    expect_status "fetch with --net-allow connect: a 404 is exit 1" 1
    wb run "$WORK/fetch.wasm" 127.0.0.1 "$pyport" /file.txt
    expect_status "fetch without a grant: exit 2" 2
    expect_eq "... stderr" "wasmbox: network: socket refused: no network is granted (--inherit-network or --net-allow grant it)
fetch: socket: Permission denied" "$ERR"
else
    fail "python's http.server did not start: $(cat "$WORK/py.out")"
fi
kill "$PY" 2>/dev/null
wait "$PY" 2>/dev/null
finish
