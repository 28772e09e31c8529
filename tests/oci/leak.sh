#!/bin/bash
# leak.sh WASMBOX SRC WORK [N] - N (default 200) Wasm containers started
# and removed one after another with `docker run --rm --runtime=wasmbox`,
# measuring before and after: open descriptors of dockerd and its
# containerd, the host's mounts, cgroup folders below the daemon's cgroup
# parent (every v1 hierarchy and the v2 tree) and below wasmbox's default
# /wasmbox, entries in the runtime's --root (<exec-root>/runtime-runc/moby),
# shim processes. The daemons may gain a few descriptors (up to 5); the
# rest must come back to where it was: no growth proportional to N.
source "$(dirname "$0")/lib_oci.sh"
N=${4:-200}
oci_need jq
oci_build_programs
oci_start_dockerd
oci_docker_image wasmbox-probe:test /probe.wasm "$PROBE"
P=wasmbox-probe:test
RROOT=$DK_EXEC/runtime-runc/moby

shims() {
    local n=0 pid
    for pid in $(pgrep -f containerd-shim 2>/dev/null); do
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
            grep -qF -- "-address $DK_EXEC/containerd/containerd.sock " && n=$((n + 1))
    done
    echo "$n"
}
# Docker-named cgroups (64 hex digits) below wasmbox's default parent: a
# runtime that ignored cgroupsPath would leave them there.
default_cgroups() {
    local n=0 h
    for h in $(cgroup_mounts); do
        [ -d "$h/wasmbox" ] || continue
        n=$((n + $(find "$h/wasmbox" -mindepth 1 -maxdepth 1 -type d -regextype egrep \
            -regex '.*/[0-9a-f]{64}' | wc -l)))
    done
    echo "$n"
}
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# fd_kinds PID: its descriptors by kind (socket, pipe, anon_inode:..., or
# the file), one "COUNT KIND" per line.
fd_kinds() {
    local f
    for f in /proc/"$1"/fd/*; do
        readlink "$f" 2>/dev/null
    done | sed -E 's/:\[[0-9]+\]$//' | sort | uniq -c | sort -rn
}

# settled_fds PID [TARGET]: the fewest descriptors PID had over 5 s
# (dockerd holds client connections and pipes for a moment after each
# request). With TARGET it watches on, 60 s at most, while that fewest is
# still above TARGET: on a loaded machine the daemons finish closing later,
# and a leak stays above it however long one waits.
settled_fds() {
    local n min= i=0
    while [ $i -lt 10 ] || { [ -n "${2:-}" ] && [ "$min" -gt "$2" ] && [ $i -lt 120 ]; }; do
        n=$(fd_count "$1")
        [ -z "$min" ] || [ "$n" -lt "$min" ] && min=$n
        sleep 0.5
        i=$((i + 1))
    done
    echo "$min"
}

# measure PREFIX [DFD CFD]: sets PREFIX_dfd, _cfd, _mnt, _wmnt, _cg, _cgdef,
# _root, _shim, _drss, _crss; DFD and CFD are the descriptor counts to wait
# for (settled_fds).
measure() {
    local ctd
    ctd=$(oci_dockerd_containerd_pid)
    eval "$1_dfd=$(settled_fds "$DOCKERD_PID" "${2:-}") $1_cfd=$(settled_fds "$ctd" "${3:-}")"
    eval "$1_mnt=$(mount_count)"
    eval "$1_wmnt=$(($(mounts_naming "$WORK") + $(mounts_naming "$RUNDIR")))"
    eval "$1_cg=$(cgroup_dirs_under "/$DK_CGROUP") $1_cgdef=$(default_cgroups)"
    eval "$1_root=$(ls -A "$RROOT" 2>/dev/null | wc -l) $1_shim=$(shims)"
    eval "$1_drss=$(rss_kib "$DOCKERD_PID") $1_crss=$(rss_kib "$ctd")"
    fd_kinds "$DOCKERD_PID" >"$WORK/$1.dockerd-fds"
    fd_kinds "$ctd" >"$WORK/$1.containerd-fds"
}

# Warm up: the daemons open some descriptors and caches on first use.
for i in 1 2 3 4 5; do
    docker run --rm --runtime=wasmbox --network=none "$P" hello >/dev/null 2>&1
done
cap 120 docker run --rm --runtime=wasmbox --network=none "$P" hello
expect_status "warm-up run" 0
sleep 2
measure before

t0=$(now)
bad=0
for i in $(seq 1 "$N"); do
    if ! out=$(timeout 60 docker run --rm --runtime=wasmbox --network=none "$P" exit 0 2>&1); then
        bad=$((bad + 1))
        [ $bad -le 3 ] && echo "run $i failed: $out"
    fi
done
took=$(elapsed "$t0")
expect_eq "$N containers ran and were removed (${took}s, $(awk -v t="$took" -v n="$N" \
    'BEGIN { printf "%.3f", t / n }')s each)" 0 "$bad"
sleep 2
# Descriptors a daemon may hold beyond its count before the run.
FD_SLACK=5
measure after $((before_dfd + FD_SLACK)) $((before_cfd + FD_SLACK))

printf '%-34s %8s %8s\n' "" before after
printf '%-34s %8s %8s\n' "dockerd open fds" "$before_dfd" "$after_dfd"
printf '%-34s %8s %8s\n' "containerd open fds" "$before_cfd" "$after_cfd"
printf '%-34s %8s %8s\n' "host mounts" "$before_mnt" "$after_mnt"
printf '%-34s %8s %8s\n' "mounts of the daemon's folders" "$before_wmnt" "$after_wmnt"
printf '%-34s %8s %8s\n' "cgroups below /$DK_CGROUP" "$before_cg" "$after_cg"
printf '%-34s %8s %8s\n' "container cgroups below /wasmbox" "$before_cgdef" "$after_cgdef"
printf '%-34s %8s %8s\n' "entries in the runtime --root" "$before_root" "$after_root"
printf '%-34s %8s %8s\n' "containerd shims" "$before_shim" "$after_shim"
printf '%-34s %8s %8s\n' "dockerd RSS (KiB)" "$before_drss" "$after_drss"
printf '%-34s %8s %8s\n' "containerd RSS (KiB)" "$before_crss" "$after_crss"

# within WHAT BEFORE AFTER SLACK: AFTER may exceed BEFORE by SLACK at most
# (fewer is no leak: other activity on the host can end meanwhile).
within() {
    if [ $(($3 - $2)) -le "$4" ]; then
        pass "$1: $2 -> $3"
    else
        fail "$1: $2 -> $3 after $N containers (allowed +$4)"
    fi
}
within "dockerd open fds" "$before_dfd" "$after_dfd" "$FD_SLACK"
within "containerd open fds" "$before_cfd" "$after_cfd" "$FD_SLACK"
for d in dockerd containerd; do
    if ! cmp -s "$WORK/before.$d-fds" "$WORK/after.$d-fds"; then
        echo "$d descriptors by kind, before | after:"
        diff -y -W 160 "$WORK/before.$d-fds" "$WORK/after.$d-fds" | sed 's/^/    /'
    fi
done
within "host mounts" "$before_mnt" "$after_mnt" 0
within "mounts of the daemon's folders" "$before_wmnt" "$after_wmnt" 0
within "cgroups below /$DK_CGROUP" "$before_cg" "$after_cg" 0
within "container cgroups below /wasmbox" "$before_cgdef" "$after_cgdef" 0
within "entries in the runtime --root" "$before_root" "$after_root" 0
within "containerd shims" "$before_shim" "$after_shim" 0

finish
