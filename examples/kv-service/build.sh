#!/bin/bash
# build.sh - prepares both images' build contexts: kv.wasm (clang-14,
# wasm32-wasi, with the guest socket library) and redis/rootfs (Debian's
# redis-server and redis-cli with every shared library they load, so the
# image needs no base image and no registry). Then:
#   docker-compose up -d --build
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
guest=$here/../../guest
clang-14 --target=wasm32-wasi --sysroot=/usr -O2 -I "$guest/include" \
    "$here/kv.c" "$guest/src/socket.c" -o "$here/kv.wasm"
for tool in redis-server redis-cli; do
    command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing (apt-get install redis-server)" >&2; exit 1; }
done
root=$here/redis/rootfs
rm -rf "$root"
mkdir -p "$root/usr/bin" "$root/tmp" "$root/data"
copy() { mkdir -p "$root$(dirname "$1")"; cp -L "$1" "$root$1"; }
for bin in /usr/bin/redis-server /usr/bin/redis-cli; do
    copy "$bin"
    # "libx.so => /lib/.../libx.so (0x...)" and the loader's own line.
    ldd "$bin" | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }' | while read -r lib; do
        [ -e "$root$lib" ] || copy "$lib"
    done
done
chmod 1777 "$root/tmp"
echo "build.sh: kv.wasm and redis/rootfs ($(du -sh "$root" | cut -f1)) are ready"
