#!/bin/bash
# install-runtime.sh - installs wasmbox and registers it as an OCI runtime
# with Docker, Podman and containerd (hence Kubernetes).
#
#   scripts/install-runtime.sh [OPTIONS]
#
# Steps (each can be left out):
#   1. install: `cmake --install BUILD --prefix PREFIX` (the binary lands in
#      PREFIX/bin/wasmbox), or copy a given binary there (--binary);
#   2. Docker: merge runtimes.wasmbox.path into /etc/docker/daemon.json with
#      jq, keeping every other key (a backup is kept as daemon.json.bak);
#   3. Podman: a containers.conf drop-in
#      /etc/containers/containers.conf.d/wasmbox.conf
#      with [engine.runtimes] wasmbox = ["PREFIX/bin/wasmbox"];
#   4. containerd / Kubernetes: prints the CRI runtime snippet, or appends
#      it to a config file with --containerd-config FILE.
# Nothing restarts a daemon; the script says what to restart.
#
# Options:
#   --prefix DIR            install prefix (default /usr/local)
#   --build-dir DIR         the CMake build folder (default: build/ beside scripts/)
#   --binary FILE           install this binary instead of running cmake --install
#   --no-install            register an already installed PREFIX/bin/wasmbox
#   --only LIST             comma-separated subset of: docker,podman,containerd
#   --docker-config FILE    default /etc/docker/daemon.json
#   --podman-dropin DIR     default /etc/containers/containers.conf.d
#   --containerd-config FILE
#                           append the runtime to this containerd config
#                           (default: only print the snippet)
#   --dry-run               print what would be done, change nothing
#   -h, --help
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
prefix=/usr/local
build_dir=$root/build
binary=
install=1
only=docker,podman,containerd
docker_config=/etc/docker/daemon.json
podman_dropin=/etc/containers/containers.conf.d
containerd_config=
dry_run=0

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() {
    echo "install-runtime: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case $1 in
        --prefix) prefix=${2:?--prefix needs a folder}; shift ;;
        --build-dir) build_dir=${2:?--build-dir needs a folder}; shift ;;
        --binary) binary=${2:?--binary needs a file}; shift ;;
        --no-install) install=0 ;;
        --only) only=${2:?--only needs a list}; shift ;;
        --docker-config) docker_config=${2:?}; shift ;;
        --podman-dropin) podman_dropin=${2:?}; shift ;;
        --containerd-config) containerd_config=${2:?}; shift ;;
        --dry-run) dry_run=1 ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
done
for what in ${only//,/ }; do
    case $what in
        docker | podman | containerd) ;;
        *) die "--only: unknown '$what' (docker, podman, containerd)" ;;
    esac
done
wants() { [[ ",$only," == *",$1,"* ]]; }

prefix=$(realpath -m "$prefix")
target=$prefix/bin/wasmbox

# run CMD...: runs, or prints with --dry-run.
run() {
    if [ $dry_run -eq 1 ]; then
        echo "would run: $*"
    else
        echo "+ $*"
        "$@"
    fi
}

# write_file FILE: stdin into FILE (atomically, keeping FILE.bak), or
# prints it with --dry-run.
write_file() {
    local file=$1 tmp
    if [ $dry_run -eq 1 ]; then
        echo "would write $file:"
        sed 's/^/    /'
        return
    fi
    mkdir -p "$(dirname "$file")"
    tmp=$(mktemp "$file.XXXXXX")
    cat >"$tmp"
    if [ -f "$file" ]; then
        if cmp -s "$tmp" "$file"; then
            rm -f "$tmp"
            echo "$file: already up to date"
            return
        fi
        cp -p "$file" "$file.bak"
        chmod --reference="$file" "$tmp"
    else
        chmod 644 "$tmp"
    fi
    mv "$tmp" "$file"
    echo "wrote $file"
}

# ---------------------------------------------------------------- install
if [ $install -eq 1 ]; then
    if [ -n "$binary" ]; then
        [ -x "$binary" ] || die "$binary is not an executable file"
        run install -D -m 755 "$binary" "$target"
    else
        [ -f "$build_dir/CMakeCache.txt" ] ||
            die "no CMake build in $build_dir (build first: cmake -S . -B build && cmake --build build), or give --binary FILE"
        run cmake --install "$build_dir" --prefix "$prefix"
    fi
elif [ ! -x "$target" ] && [ $dry_run -eq 0 ]; then
    die "--no-install: $target does not exist"
fi
if [ $dry_run -eq 0 ]; then
    if ! "$target" features >/dev/null 2>&1; then
        die "$target does not answer 'features': is it a wasmbox with the OCI runtime?"
    fi
    echo "installed: $target"
fi

restart=()

# ----------------------------------------------------------------- Docker
if wants docker; then
    command -v jq >/dev/null 2>&1 || die "jq is needed to edit $docker_config (apt-get install jq)"
    current='{}'
    if [ -f "$docker_config" ]; then
        current=$(cat "$docker_config")
        jq -e 'type == "object"' <<<"$current" >/dev/null 2>&1 ||
            die "$docker_config is not a JSON object; fix it first"
    fi
    jq --arg p "$target" '.runtimes.wasmbox = ((.runtimes.wasmbox // {}) + {path: $p})' \
        <<<"$current" | write_file "$docker_config"
    restart+=("Docker: reload dockerd (runtimes are reloadable):" \
        "  sudo systemctl reload docker   # or: sudo kill -HUP \$(pidof dockerd); a restart works too" \
        "  docker run --rm --runtime=wasmbox IMAGE")
fi

# ----------------------------------------------------------------- Podman
if wants podman; then
    write_file "$podman_dropin/wasmbox.conf" <<EOF
# Written by wasmbox's scripts/install-runtime.sh: wasmbox as an OCI
# runtime for Podman (podman run --runtime wasmbox IMAGE).
[engine.runtimes]
wasmbox = ["$target"]
EOF
    restart+=("Podman: nothing to restart:" "  podman run --rm --runtime wasmbox IMAGE")
fi

# ------------------------------------------------------ containerd / CRI
if wants containerd; then
    snippet=$(cat <<EOF

# wasmbox: an OCI runtime for Wasm containers, used through the runc shim.
# Kubernetes picks it with a RuntimeClass whose handler is "wasmbox"
# (deploy/kubernetes/runtimeclass.yaml).
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.wasmbox]
  runtime_type = "io.containerd.runc.v2"
  pod_annotations = ["run.oci.handler", "module.wasm.image/variant"]
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.wasmbox.options]
    BinaryName = "$target"
EOF
)
    if [ -z "$containerd_config" ]; then
        echo "containerd: add this to /etc/containerd/config.toml (version = 2), then restart containerd:"
        echo "$snippet"
        echo "containerd: or use it without the config: ctr run --runc-binary $target IMAGE ID"
    elif [ -f "$containerd_config" ] &&
        grep -qF 'containerd.runtimes.wasmbox]' "$containerd_config"; then
        echo "$containerd_config: already has a wasmbox runtime; left as it is"
    else
        if [ -f "$containerd_config" ] && ! grep -qE '^version *= *2' "$containerd_config"; then
            echo "warning: $containerd_config does not say 'version = 2'; the snippet uses version 2 names" >&2
        fi
        { [ -f "$containerd_config" ] && cat "$containerd_config"; echo "$snippet"; } |
            write_file "$containerd_config"
        restart+=("containerd: sudo systemctl restart containerd (then kubectl apply -f deploy/kubernetes/runtimeclass.yaml)")
    fi
fi

if [ ${#restart[@]} -gt 0 ]; then
    echo
    [ $dry_run -eq 1 ] && echo "(dry run: nothing was changed)"
    printf '%s\n' "${restart[@]}"
fi
