#!/bin/bash
# demo.sh - the main job, end to end: installs the dependencies, builds
# wasmbox, compiles a C program to WebAssembly (wasm32-wasi) and runs it
# with `wasmbox run`, the embedded default (no daemon, no container
# runtime needed); then, as root, runs the same program as an OCI
# container from a bundle (namespaces, cgroup, read-only root), still
# without any daemon, the way Docker would through `--runtime=wasmbox`.
# On the way it serves HTTP from a Wasm program that binds its own port.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

echo "=== setup"
scripts/setup.sh

echo "=== build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2
wasmbox=$root/build/wasmbox
"$wasmbox" --version

demo=$root/build/demo
mkdir -p "$demo"
cat >"$demo/hello.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    printf("Hello from WebAssembly!\n");
    for (int i = 1; i < argc; i++) printf("  argument %d: %s\n", i, argv[i]);
    const char *who = getenv("WHO");
    printf("  WHO=%s (the guest sees only the environment it is given)\n",
           who ? who : "(unset)");
    time_t now = time(NULL);
    printf("  the time is %s", ctime(&now));
    return argc > 2 ? 3 : 0;
}
C

echo "=== compile hello.c to wasm32-wasi"
clang-14 --target=wasm32-wasi --sysroot=/usr -O2 "$demo/hello.c" -o "$demo/hello.wasm"
ls -l "$demo/hello.wasm"
"$wasmbox" validate "$demo/hello.wasm"

echo "=== wasmbox run build/demo/hello.wasm"
"$wasmbox" run "$demo/hello.wasm"

echo "=== wasmbox run --env WHO=demo build/demo/hello.wasm one two"
status=0
"$wasmbox" run --env WHO=demo "$demo/hello.wasm" one two || status=$?
echo "exit status: $status (the program's own exit code)"

echo "=== wasmbox run --invoke: call one exported function"
cat >"$demo/add.wat" <<'WAT'
(module
  (func (export "add") (param f64 f64) (result f64)
    (f64.add (local.get 0) (local.get 1))))
WAT
wat2wasm "$demo/add.wat" -o "$demo/add.wasm"
echo "add 0.1 0.2 ->"
"$wasmbox" run --invoke add "$demo/add.wasm" 0.1 0.2

echo "=== a Wasm HTTP server that binds its own port (examples/http-server)"
clang-14 --target=wasm32-wasi --sysroot=/usr -O2 -I guest/include \
    examples/http-server/server.c guest/src/socket.c -o "$demo/server.wasm"
echo "without a grant, the socket is refused:"
"$wasmbox" run "$demo/server.wasm" --listen 127.0.0.1:0 || true
echo "with --inherit-network, on a free port of 127.0.0.1, serving 2 requests:"
"$wasmbox" run --inherit-network "$demo/server.wasm" --listen 127.0.0.1:0 --max 2 \
    >"$demo/server.out" 2>&1 &
server=$!
port=
for i in $(seq 1 100); do
    port=$(sed -n 's/^server: listening on .* port \([0-9]*\)$/\1/p' "$demo/server.out")
    [ -n "$port" ] && break
    sleep 0.05
done
if [ -n "$port" ]; then
    curl -s --max-time 5 "http://127.0.0.1:$port/hello" "http://127.0.0.1:$port/again"
fi
wait "$server" || true
cat "$demo/server.out"

echo "=== the same program as an OCI container (wasmbox as the runtime)"
if [ "$(id -u)" -ne 0 ]; then
    echo "(skipped: containers need root; run this script as root to see it)"
else
    bundle=$demo/bundle
    rm -rf "$bundle"
    mkdir -p "$bundle/rootfs"
    cp "$demo/hello.wasm" "$bundle/rootfs/app.wasm"
    "$wasmbox" spec --bundle "$bundle"        # config.json for a Wasm container
    # Arguments and environment, as Docker would put them in config.json.
    jq '.process.args = ["/app.wasm", "from", "a-container"] |
        .process.env += ["WHO=container"]' "$bundle/config.json" >"$bundle/c.json"
    mv "$bundle/c.json" "$bundle/config.json"
    status=0
    "$wasmbox" --root "$demo/state" run --bundle "$bundle" demo-hello || status=$?
    echo "exit status: $status (the module's exit code, as Docker reports it)"
fi
echo "=== demo done"
