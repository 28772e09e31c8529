#!/bin/bash
# setup.sh - installs everything needed to build, test and demo wasmbox on
# Debian 12 / Ubuntu with apt: the C toolchain, clang-14 with the wasm32-wasi
# sysroot (to build guest programs), wabt and binaryen (to build and inspect
# test modules), jansson (config.json, the spec test runner), libseccomp and
# libcap (the OCI runtime), hyperfine (benches), and the container tools the
# end-to-end tests drive for real: dockerd, containerd, runc, crun, podman,
# docker-compose, skopeo, umoci and a registry; for the networking tests
# dnsmasq (a DNS server inside the test's namespace), redis-server (the
# Linux half of the Compose example, its image built from Debian's files)
# and wrk (requests per second in bench/http.sh); LLVM 16 (the ahead-of-time
# compiler, wasmbox-aotc) and OpenSSL's libcrypto (SHA-256 for artifacts).
#
# Idempotent: when every package is already installed it touches nothing
# (and needs neither root nor the network). Runs as root, or through sudo.
set -euo pipefail

PACKAGES=(
    build-essential cmake pkg-config
    clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32
    wabt binaryen libjansson-dev hyperfine
    rustc libstd-rust-dev-wasm32
    curl python3
    libseccomp-dev libcap-dev
    docker.io containerd runc crun podman docker-compose skopeo umoci docker-registry
    jq iproute2 procps util-linux iptables
    dnsmasq-base redis-server wrk
    llvm-16-dev libssl-dev
)

# node's V8 is one of the benchmark peers (bench/run.sh); Debian's nodejs
# only when no node is installed already.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all ${#PACKAGES[@]} packages are installed"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: apt-get not found; install these packages by hand: ${missing[*]}" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "setup: not root and sudo is missing; as root run: apt-get install ${missing[*]}" >&2
    exit 1
fi

echo "setup: installing ${missing[*]}"
# env passes DEBIAN_FRONTEND through sudo, which would otherwise drop it;
# with it no package asks a question (CI has no stdin).
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
