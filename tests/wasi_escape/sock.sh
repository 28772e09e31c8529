#!/bin/bash
# sock.sh WASMBOX SRCDIR WORKDIR - --tcplisten and the sock_* functions.
# A guest (sock.c) gets a listening socket on 127.0.0.1 and serves one
# connection made with bash's /dev/tcp; the reply must be the line in
# upper case. Exits 77 (skipped) when clang-14 cannot build for wasm32-wasi.
set -u
WB=$1
SRC=$2
WORK=$3
CC=${CC_WASM:-clang-14}
rm -rf "$WORK"
mkdir -p "$WORK"
if ! command -v "$CC" >/dev/null 2>&1 ||
   ! "$CC" --target=wasm32-wasi --sysroot=/usr -O2 "$SRC/sock.c" -o "$WORK/sock.wasm" 2>"$WORK/cc.err"; then
    echo "SKIP: cannot build for wasm32-wasi"
    exit 77
fi
echo "PASS: compiled sock.c"

"$WB" run --tcplisten nonsense "$WORK/sock.wasm" >/dev/null 2>"$WORK/bad.err"
rc=$?
if [ $rc -eq 0 ]; then echo "FAILED: --tcplisten nonsense accepted"; exit 1; fi
echo "PASS: --tcplisten without a port refused (exit $rc): $(cat "$WORK/bad.err")"

# Find a free port: wasmbox fails at start-up when bind fails.
for try in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + RANDOM % 40000))
    rm -f "$WORK/out.txt"
    "$WB" run --tcplisten "127.0.0.1:$port" "$WORK/sock.wasm" >"$WORK/out.txt" 2>"$WORK/err.txt" &
    pid=$!
    for i in $(seq 1 100); do
        grep -q '^ready' "$WORK/out.txt" 2>/dev/null && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.05
    done
    grep -q '^ready' "$WORK/out.txt" 2>/dev/null && break
    wait $pid
    echo "port $port: $(cat "$WORK/err.txt")"
    pid=
done
if [ -z "${pid:-}" ]; then echo "FAILED: could not start the guest"; exit 1; fi
reply=""
if exec 5<>"/dev/tcp/127.0.0.1/$port"; then
    printf 'hello sockets\n' >&5
    read -r -t 10 reply <&5
    read -r -t 10 bye <&5
    exec 5<&-
fi
wait $pid
rc=$?
cat "$WORK/out.txt"
fails=0
[ $rc -eq 0 ] && echo "PASS: guest exited 0" || { echo "FAILED: guest exit $rc: $(cat "$WORK/err.txt")"; fails=1; }
[ "$reply" = "HELLO SOCKETS" ] && echo "PASS: reply '$reply'" || { echo "FAILED: reply '$reply'"; fails=1; }
[ "${bye:-}" = "BYE" ] && echo "PASS: fd_write on the socket arrived" || { echo "FAILED: no BYE"; fails=1; }
exit $fails
