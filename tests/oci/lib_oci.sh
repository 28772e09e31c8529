# lib_oci.sh - helpers shared by the OCI runtime tests (sourced, not run).
#
# Every script is called as: SCRIPT WASMBOX_BINARY SOURCE_DIR WORK_DIR
# (SOURCE_DIR is tests/oci, WORK_DIR a scratch folder under the build tree,
# wiped at the start). On top of ../lib.sh (pass, fail, wb, expect_*,
# finish) this gives:
#   - the guest programs built into $WORK: $PROBE (probe.wasm) and $LHELLO
#     (a static Linux binary);
#   - private daemons: dockerd (with its own containerd), a bare containerd,
#     each with its data, state and sockets under the work folder, never the
#     system's defaults, and stopped on exit;
#   - images: the Wasm probe, an invalid module and the Linux hello.
# Errexit is off in the scripts: every check reports its own failure.
#
# Policy: these tests need root and the real daemons. In CI (CI=true) a
# missing tool, missing root or a daemon that does not start is a failure;
# elsewhere only a missing tool is a skip (exit 77), with the reason printed.
# Containers only ever get --network=none or --network=host.

# A previous run may have left daemons or mounts under the work folder;
# clear them before ../lib.sh wipes it (rm -rf must not walk into a mount).
oci_clear_leftovers() {
    local dir=$1 run pidf pid
    [ -d "$dir" ] || return 0
    dir=$(cd "$dir" && pwd -P)
    for run in "$dir/run" $(cat "$dir/rundir" 2>/dev/null); do
        [ -d "$run" ] || continue
        for pidf in "$run"/*/*.pid "$run"/*/*/*/*.pid; do
            [ -f "$pidf" ] || continue
            pid=$(cat "$pidf" 2>/dev/null)
            # Only a process whose command line names this folder.
            if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$run/"; then
                echo "stopping pid $pid left by an earlier run ($pidf)"
                kill -TERM "$pid" 2>/dev/null
                wait_until 10 oci_gone "$pid" || kill -KILL "$pid" 2>/dev/null
            fi
        done
        oci_kill_shims "$run/dk/exec/containerd/containerd.sock"
        oci_kill_shims "$run/ctd/containerd.sock"
        oci_umount_under "$run"
        [ "$run" = "$dir/run" ] || rm -rf "$run"
    done
    oci_umount_under "$dir"
}

# Lazily unmounts every mount point at or below a folder, deepest first.
oci_umount_under() {
    local dir=$1 mp
    [ -n "$dir" ] && [ "$dir" != / ] || return 0
    awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
        sort -r | while read -r mp; do
        umount -l "$mp" 2>/dev/null
    done
}

# wait_until SECONDS CMD...: polls CMD every 0.1 s; false on timeout.
wait_until() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.1
    done
}

oci_gone() { ! kill -0 "$1" 2>/dev/null; }

# Kills the containerd-shim processes of one containerd (by its address).
oci_kill_shims() {
    local addr=$1 pid
    for pid in $(pgrep -f containerd-shim 2>/dev/null); do
        if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-address $addr "; then
            kill -KILL "$pid" 2>/dev/null
        fi
    done
}

if [ $# -ge 3 ]; then
    oci_clear_leftovers "$3"
fi
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
set +e
WASMBOX=$(realpath "$WASMBOX")
WORK=$(cd "$WORK" && pwd -P)
export DOCKER_CONFIG=$WORK/docker-cli # no ~/.docker settings or contexts
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
mkdir -p "$DOCKER_CONFIG"
echo '{}' >"$DOCKER_CONFIG/config.json"

# Sockets must fit in sun_path (108 bytes): keep the sockets and state in
# $WORK/run when that path is short, else in a fresh folder under /tmp
# (podman also wants its --runroot under 50 characters).
if [ ${#WORK} -le 20 ]; then
    RUNDIR=$WORK/run
    mkdir -p "$RUNDIR"
else
    RUNDIR=$(mktemp -d /tmp/wbtest.XXXXXX)
    echo "$RUNDIR" >"$WORK/rundir"
fi

in_ci() { [ "${CI:-}" = true ] || [ "${CI:-}" = 1 ]; }

# oci_abort MESSAGE: a failure that stops the script.
oci_abort() {
    fail "$*"
    echo "$PASSED passed, $FAILED failed"
    exit 1
}

# oci_need TOOL...: a missing tool fails in CI and skips elsewhere.
oci_need() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 && continue
        if in_ci; then
            oci_abort "'$t' is not installed (scripts/setup.sh installs it); required in CI"
        fi
        echo "skipped: '$t' is not installed (scripts/setup.sh installs it)"
        exit 77
    done
}

oci_need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        oci_abort "this test needs root (namespaces, cgroups, mounts, daemons); run it as root"
    fi
}

# --- cleanup: commands run in reverse order on exit ----------------------

OCI_CLEANUPS=()
oci_on_exit() { OCI_CLEANUPS+=("$*"); }
oci_run_cleanups() {
    local rc=$? i
    trap - EXIT INT TERM
    for ((i = ${#OCI_CLEANUPS[@]} - 1; i >= 0; i--)); do
        eval "${OCI_CLEANUPS[$i]}" || true
    done
    oci_umount_under "$RUNDIR"
    oci_umount_under "$WORK"
    if [ -f "$WORK/rundir" ]; then
        rm -rf "$RUNDIR"
    fi
    exit "$rc"
}
trap oci_run_cleanups EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- small helpers ---------------------------------------------------------

# cap SECONDS CMD...: runs CMD with a time limit and stdin from /dev/null;
# sets OUT, ERR and RC like wb.
cap() {
    local t=$1
    shift
    timeout "$t" "$@" >"$WORK/.out" 2>"$WORK/.err" </dev/null
    RC=$?
    OUT=$(cat "$WORK/.out")
    ERR=$(cat "$WORK/.err")
}

# expect_has WHAT NEEDLE TEXT: TEXT contains the line NEEDLE.
expect_has() {
    if grep -qxF -- "$2" <<<"$3"; then
        pass "$1"
    else
        fail "$1: no line [$2] in: $3"
    fi
}

# expect_match WHAT ERE TEXT: TEXT matches the extended regex (case-blind).
expect_match() {
    if grep -qiE -- "$2" <<<"$3"; then
        pass "$1"
    else
        fail "$1: /$2/ not found in: $3"
    fi
}

# now: seconds since the epoch with milliseconds.
now() { date +%s.%N | cut -c1-14; }
# elapsed START: seconds since START, two decimals.
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# median N...: the median of the numbers.
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# --- guest programs --------------------------------------------------------

PROBE=$WORK/probe.wasm
LHELLO=$WORK/lhello

# Builds probe.wasm (clang-14, wasm32-wasi) and lhello (gcc -static).
oci_build_programs() {
    local cc=${WASI_CC:-clang-14}
    oci_need "$cc" gcc
    if ! "$cc" --target=wasm32-wasi --sysroot=/usr -O2 -Wl,--strip-all \
        "$SRC/programs/probe.c" -o "$PROBE" 2>"$WORK/cc.err"; then
        cat "$WORK/cc.err"
        oci_abort "probe.c does not build for wasm32-wasi (needs wasi-libc," \
            "libclang-rt-14-dev-wasm32 and lld-14; see scripts/setup.sh)"
    fi
    if ! gcc -static -O2 "$SRC/programs/lhello.c" -o "$LHELLO" 2>"$WORK/cc.err"; then
        cat "$WORK/cc.err"
        oci_abort "lhello.c does not build with gcc -static (needs libc6-dev)"
    fi
    # An invalid module: the magic and version, then a section that lies.
    printf '\0asm\1\0\0\0\1\377\377\377\377\17garbage' >"$WORK/bad.wasm"
    pass "built probe.wasm, lhello and bad.wasm"
}

# --- dockerd ---------------------------------------------------------------

# oci_start_dockerd [RUNTIME_PATH] [bridge]: starts a private dockerd (and
# the containerd it runs) with `runtimes.wasmbox.path` = RUNTIME_PATH
# (default the wasmbox under test). Sets DOCKERD_PID, DOCKER_HOST, DK (its
# folder), DK_EXEC (its --exec-root) and DK_CGROUP (the cgroup parent of
# its containers). Stops it on exit.
#
# Without "bridge" dockerd gets no network of its own (--bridge=none, no
# iptables): containers use --network=none or host. With "bridge" it runs
# in a network namespace made for it (unshare --net, loopback up, no
# uplink): its bridge (10.213.0.1/24; user networks from 10.214.0.0/16),
# veths, iptables rules, docker-proxy processes and the containers'
# namespaces all live in there, and the containers' upstream DNS is the
# bridge's own address, where nothing answers, so no lookup leaves it.
# IN_NS=(nsenter --net=...) runs a command in it (curl of a published
# port); the host's network namespace is never touched.
oci_start_dockerd() {
    local runtime=${1:-$WASMBOX} mode=${2:-}
    oci_need dockerd docker containerd runc
    oci_need_root
    DK=$RUNDIR/dk
    DK_EXEC=$DK/exec
    DK_CGROUP=wasmbox-test-docker
    mkdir -p "$DK_EXEC" "$WORK/docker-data"
    # deprecated-key-path: 20.10 writes /etc/docker/key.json otherwise.
    jq -n --arg p "$runtime" --arg k "$DK/key.json" \
        '{runtimes: {wasmbox: {path: $p}}, "deprecated-key-path": $k}' >"$DK/daemon.json"
    local args=(--config-file "$DK/daemon.json"
        --data-root "$WORK/docker-data" --exec-root "$DK_EXEC"
        --pidfile "$DK/dockerd.pid" -H "unix://$DK/docker.sock"
        --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$DK_CGROUP")
    DK_NETNS_ID=
    local launch=(dockerd)
    if [ "$mode" = bridge ]; then
        oci_need unshare nsenter iptables ip
        launch=(unshare --net sh -c 'ip link set lo up && exec dockerd "$@"' dockerd)
        args+=(--bip 10.213.0.1/24 --default-address-pool base=10.214.0.0/16,size=24
            --dns 10.213.0.1 --iptables=true --ip-masq=true --ipv6=false --userland-proxy=true)
    else
        args+=(--bridge=none --iptables=false --ip6tables=false --userland-proxy=false)
    fi
    "${launch[@]}" "${args[@]}" >"$WORK/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    oci_on_exit oci_stop_dockerd
    if [ "$mode" = bridge ]; then
        # Until the child has entered its namespace it still shows ours.
        local host_ns
        host_ns=$(readlink /proc/self/ns/net)
        for i in $(seq 1 200); do
            DK_NETNS_ID=$(readlink "/proc/$DOCKERD_PID/ns/net" 2>/dev/null)
            [ -n "$DK_NETNS_ID" ] && [ "$DK_NETNS_ID" != "$host_ns" ] && break
            sleep 0.02
        done
        if [ -z "$DK_NETNS_ID" ] || [ "$DK_NETNS_ID" = "$host_ns" ]; then
            DK_NETNS_ID=
            oci_abort "dockerd did not enter a network namespace of its own: $(tail -n 5 "$WORK/dockerd.log")"
        fi
        IN_NS=(nsenter "--net=/proc/$DOCKERD_PID/ns/net")
    fi
    export DOCKER_HOST=unix://$DK/docker.sock
    local deadline=$((SECONDS + 90))
    until docker info >/dev/null 2>&1; do
        if ! kill -0 "$DOCKERD_PID" 2>/dev/null; then
            echo "--- dockerd.log (last 30 lines)"
            tail -n 30 "$WORK/dockerd.log"
            oci_abort "dockerd exited during start-up (log above, full log in $WORK/dockerd.log)"
        fi
        if [ $SECONDS -ge $deadline ]; then
            echo "--- dockerd.log (last 30 lines)"
            tail -n 30 "$WORK/dockerd.log"
            oci_abort "dockerd did not answer 'docker info' within 90 s"
        fi
        sleep 0.5
    done
    if ! docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"wasmbox"'; then
        oci_abort "dockerd started but has no 'wasmbox' runtime: $(docker info --format '{{json .Runtimes}}' 2>&1)"
    fi
    pass "private dockerd $(docker version --format '{{.Server.Version}}' 2>/dev/null) answers on $DOCKER_HOST (runtime wasmbox = $runtime)"
}

# The pid of the containerd that dockerd started.
oci_dockerd_containerd_pid() {
    cat "$DK_EXEC/containerd/containerd.pid" 2>/dev/null
}

oci_stop_dockerd() {
    [ -n "${DOCKERD_PID:-}" ] || return 0
    local ctd ids
    ctd=$(oci_dockerd_containerd_pid)
    if kill -0 "$DOCKERD_PID" 2>/dev/null; then
        ids=$(timeout 30 docker ps -aq 2>/dev/null)
        [ -z "$ids" ] || timeout 60 docker rm -f $ids >/dev/null 2>&1
        kill -TERM "$DOCKERD_PID" 2>/dev/null
        wait_until 30 oci_gone "$DOCKERD_PID" || kill -KILL "$DOCKERD_PID" 2>/dev/null
        wait "$DOCKERD_PID" 2>/dev/null
    fi
    if [ -n "$ctd" ] && kill -0 "$ctd" 2>/dev/null; then
        kill -TERM "$ctd" 2>/dev/null
        wait_until 15 oci_gone "$ctd" || kill -KILL "$ctd" 2>/dev/null
    fi
    oci_kill_shims "$DK_EXEC/containerd/containerd.sock"
    oci_kill_netns_leftovers
    cgroup_rmtree "/$DK_CGROUP"
    DOCKERD_PID=
}

# The pids whose network namespace is dockerd's private one (never the
# host's, never when the id is unknown).
oci_netns_pids() {
    local p
    case $DK_NETNS_ID in "net:["*"]") ;; *) return 0 ;; esac
    [ "$DK_NETNS_ID" != "$(readlink /proc/self/ns/net)" ] || return 0
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$DK_NETNS_ID" ] && echo "${p#/proc/}"
    done
}

# After a crash: what is left in that namespace (shims, docker-proxy) and
# the shim sockets containerd 1.6 keeps in /run/containerd/s.
oci_kill_netns_leftovers() {
    local pids f m
    pids=$(oci_netns_pids)
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null
    for f in "$DK_EXEC"/containerd/daemon/io.containerd.runtime.v2.task/*/*/address; do
        [ -f "$f" ] || continue
        m=$(sed 's|^unix://||' "$f")
        case $m in /run/containerd/s/*) [ -S "$m" ] && rm -f "$m" ;; esac
    done
}

# --- a bare containerd -----------------------------------------------------

# oci_start_containerd: a private containerd with its root, state and
# socket under the work folder. Sets CTD_PID, CTD_SOCK.
oci_start_containerd() {
    oci_need containerd ctr
    oci_need_root
    local dir=$RUNDIR/ctd
    mkdir -p "$dir/state" "$WORK/containerd-root"
    CTD_SOCK=$dir/containerd.sock
    cat >"$dir/config.toml" <<EOF
version = 2
root = "$WORK/containerd-root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CTD_SOCK"
[ttrpc]
  address = "$CTD_SOCK.ttrpc"
[debug]
  address = "$dir/debug.sock"
[cgroup]
  path = ""
EOF
    containerd --config "$dir/config.toml" >"$WORK/containerd.log" 2>&1 &
    CTD_PID=$!
    echo "$CTD_PID" >"$dir/containerd.pid"
    oci_on_exit oci_stop_containerd
    if ! wait_until 60 ctr --address "$CTD_SOCK" version >/dev/null 2>&1 ||
        ! kill -0 "$CTD_PID" 2>/dev/null; then
        echo "--- containerd.log (last 30 lines)"
        tail -n 30 "$WORK/containerd.log"
        oci_abort "containerd did not start (log above)"
    fi
    pass "private containerd answers on $CTD_SOCK"
}

oci_stop_containerd() {
    [ -n "${CTD_PID:-}" ] || return 0
    kill -TERM "$CTD_PID" 2>/dev/null
    wait_until 20 oci_gone "$CTD_PID" || kill -KILL "$CTD_PID" 2>/dev/null
    wait "$CTD_PID" 2>/dev/null
    oci_kill_shims "$CTD_SOCK"
    CTD_PID=
}

# --- images ----------------------------------------------------------------

# oci_rootfs DIR FILE...: a folder with each FILE at its top (mode 755).
oci_rootfs() {
    local dir=$1 f
    shift
    rm -rf "$dir"
    mkdir -p "$dir"
    for f in "$@"; do
        install -m 755 "$f" "$dir/$(basename "$f")"
    done
}

# oci_check_stop WHAT SECONDS: after `WHAT -t 5` of a container running a
# busy loop (RC its status, SECONDS how long it took): SIGTERM must have
# ended the module well within the 5 s grace period.
oci_check_stop() {
    local what=$1 took=$2
    expect_status "$what -t 5" 0
    if [ "$RC" -ne 0 ]; then
        fail "$what failed, not timed"
    elif awk -v t="$took" 'BEGIN { exit !(t < 4) }'; then
        pass "$what ended the loop in ${took}s (grace period 5 s)"
    else
        fail "$what took ${took}s: SIGTERM did not end the module (grace period 5 s)"
    fi
}

# oci_check_grow WHAT: OUT of the probe's `grow` under a 64 MiB memory
# limit must say the linear memory stopped growing below the limit (and
# not absurdly early).
oci_check_grow() {
    local mib
    mib=$(sed -n 's/^grew to \([0-9]*\) MiB$/\1/p' <<<"$OUT")
    if [ -n "$mib" ] && [ "$mib" -lt 64 ] && [ "$mib" -ge 8 ]; then
        pass "$1: $OUT"
    else
        fail "$1: expected 'grew to N MiB' with 8 <= N < 64, got [$OUT]"
    fi
}

# oci_build_context DIR RECIPE ENTRYPOINT FILE...: a build context in DIR
# holding the files and a recipe file named RECIPE (Dockerfile,
# Containerfile) for an image FROM scratch with the files at / and
# ENTRYPOINT [ENTRYPOINT].
oci_build_context() {
    local ctx=$1 recipe=$2 entry=$3 f
    shift 3
    oci_rootfs "$ctx" "$@"
    {
        echo "FROM scratch"
        for f in "$@"; do echo "COPY $(basename "$f") /$(basename "$f")"; done
        echo "ENTRYPOINT [\"$entry\"]"
    } >"$ctx/$recipe"
}

# oci_docker_image TAG ENTRYPOINT FILE...: such an image in docker. Uses
# the legacy builder (works offline with FROM scratch) and falls back to
# `docker import`.
oci_docker_image() {
    local tag=$1 entry=$2 ctx=$WORK/ctx-${1//[:\/]/-}
    shift 2
    oci_build_context "$ctx" Dockerfile "$entry" "$@"
    if DOCKER_BUILDKIT=0 timeout 120 docker build -q -t "$tag" "$ctx" >"$WORK/build.log" 2>&1; then
        OCI_IMAGE_HOW=build
        return 0
    fi
    rm -f "$ctx/Dockerfile"
    if tar -C "$ctx" -c . | timeout 120 docker import \
        --change "ENTRYPOINT [\"$entry\"]" - "$tag" >>"$WORK/build.log" 2>&1; then
        OCI_IMAGE_HOW=import
        return 0
    fi
    cat "$WORK/build.log"
    oci_abort "cannot build image $tag with docker build or docker import (log above)"
}

# The three test images: wasmbox-probe:test (probe.wasm), wasmbox-bad:test
# (bad.wasm, an invalid module) and wasmbox-lhello:test (the Linux hello).
oci_docker_images() {
    oci_docker_image wasmbox-probe:test /probe.wasm "$PROBE"
    oci_docker_image wasmbox-bad:test /bad.wasm "$WORK/bad.wasm"
    oci_docker_image wasmbox-lhello:test /lhello "$LHELLO"
    pass "built images wasmbox-probe:test, wasmbox-bad:test, wasmbox-lhello:test (docker $OCI_IMAGE_HOW)"
}

# --- measurements ----------------------------------------------------------

# Open descriptors of a process.
fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# Mounts seen by this shell.
mount_count() { wc -l </proc/self/mountinfo; }
# cgroup hierarchies: the mount point of each v1 hierarchy and of the v2 tree.
cgroup_mounts() { findmnt -rn -t cgroup,cgroup2 -o TARGET 2>/dev/null; }
# cgroup folders below a path (relative to each hierarchy's root), summed
# over every hierarchy; 0 when absent.
cgroup_dirs_under() {
    local rel=$1 n=0 h
    for h in $(cgroup_mounts); do
        [ -d "$h$rel" ] || continue
        n=$((n + $(find "$h$rel" -mindepth 1 -type d 2>/dev/null | wc -l)))
    done
    echo "$n"
}
# cgroup_exists REL: the cgroup exists in some hierarchy.
cgroup_exists() {
    local h
    for h in $(cgroup_mounts); do
        [ -d "$h$1" ] && return 0
    done
    return 1
}
# cgroup_rmtree REL: removes a cgroup and its children (deepest first).
cgroup_rmtree() {
    local h
    for h in $(cgroup_mounts); do
        [ -d "$h$1" ] || continue
        find "$h$1" -depth -type d -exec rmdir {} + 2>/dev/null
    done
}
# Mounts whose source or target names a path (a leak shows up here).
mounts_naming() { grep -cF -- "$1" /proc/self/mountinfo; }
