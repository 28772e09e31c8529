#!/bin/bash
# podman.sh WASMBOX SRC WORK - Wasm containers through Podman:
# `podman --runtime WASMBOX` with a private store (--root, --runroot and
# --tmpdir under the work folder), cgroupfs (no systemd here), a file
# events log and a private containers.conf; images built with `podman
# build` FROM scratch. Output, exit codes, -v (read-write and :ro), stop,
# a Linux image through the same runtime, an invalid module and a trap.
# Containers only get --network=none.
source "$(dirname "$0")/lib_oci.sh"
oci_need podman conmon
oci_need_root
oci_build_programs

PM_DIR=$RUNDIR/pm
mkdir -p "$PM_DIR/runroot" "$PM_DIR/tmp" "$WORK/podman-root"
# Podman asks for 1048576 descriptors and as many processes by default,
# which no runtime can set without CAP_SYS_RESOURCE (missing in some VMs
# and containers): ask for modest limits.
lim() { local h=$1; [ "$h" = unlimited ] || [ "$h" -gt 4096 ] && h=4096; echo "$h"; }
nofile=$(lim "$(ulimit -Hn)")
nproc=$(lim "$(ulimit -Hu)")
cat >"$WORK/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$WORK/podman-events.log"
EOF
export CONTAINERS_CONF=$WORK/containers.conf
PODMAN=(podman --root "$WORK/podman-root" --runroot "$PM_DIR/runroot" --tmpdir "$PM_DIR/tmp"
    --cgroup-manager=cgroupfs --events-backend=file --storage-driver=overlay)
pm() { cap 120 "${PODMAN[@]}" "$@"; }
# pr ARGS...: podman run with the wasmbox runtime and no network.
pr() { cap 120 "${PODMAN[@]}" --runtime "$WASMBOX" run --network=none "$@"; }
# At exit: remove every container; a Linux one handed to runc may sit in
# runc's default root (/run/runc) with its bundle in our store: remove
# those with runc.
podman_cleanup() {
    local id
    timeout 60 "${PODMAN[@]}" --runtime "$WASMBOX" rm -af -t 0 >/dev/null 2>&1
    for id in $(timeout 20 runc list -q 2>/dev/null); do
        if timeout 20 runc state "$id" 2>/dev/null | jq -e --arg w "$WORK/" \
            '.bundle | startswith($w)' >/dev/null 2>&1; then
            echo "cleanup: removing $id from runc's default root /run/runc"
            timeout 20 runc delete --force "$id" >/dev/null 2>&1
        fi
    done
    timeout 60 "${PODMAN[@]}" umount -a >/dev/null 2>&1
}
oci_on_exit podman_cleanup

# podman_image TAG ENTRYPOINT FILE...
podman_image() {
    local tag=$1 entry=$2 ctx=$WORK/pctx-${1//[:\/]/-}
    shift 2
    oci_build_context "$ctx" Containerfile "$entry" "$@"
    pm build -q -t "$tag" "$ctx"
    [ "$RC" -eq 0 ] || oci_abort "podman build $tag: $ERR"
}
podman_image wasmbox-probe:test /probe.wasm "$PROBE"
podman_image wasmbox-bad:test /bad.wasm "$WORK/bad.wasm"
podman_image wasmbox-lhello:test /lhello "$LHELLO"
pass "podman built the three images"
P=localhost/wasmbox-probe:test

pr --rm "$P" hello one
expect_status "podman --runtime wasmbox run --rm" 0
expect_eq "output" "hello from wasm
arg[0]=/probe.wasm
arg[1]=hello
arg[2]=one
one=(unset)" "$OUT"
pr --rm -e EXIT=5 "$P" hello
expect_status "exit code = the module's (EXIT=5)" 5

H=$WORK/host
mkdir -p "$H"
echo "keep me" >"$H/keep.txt"
pr --rm -v "$H:/data" "$P" write /data/out.txt podman
expect_status "-v HOST:/data is writable" 0
expect_eq "the file appears on the host" podman "$(cat "$H/out.txt" 2>&1)"
pr --rm -v "$H:/data:ro" "$P" write /data/keep.txt changed
expect_status "-v HOST:/data:ro refuses writes" 1
expect_eq ":ro host file unchanged" "keep me" "$(cat "$H/keep.txt")"

pr -d --name wbt-loop "$P" loop
expect_status "podman run -d loop" 0
sleep 1
t0=$(now)
pm --runtime "$WASMBOX" stop -t 5 wbt-loop
took=$(elapsed "$t0")
oci_check_stop "podman stop" "$took"
pm inspect -f '{{.State.ExitCode}}' wbt-loop
expect_eq "exit code after podman stop" 143 "$OUT"
pm --runtime "$WASMBOX" rm -f wbt-loop

pr --rm -e EXIT=3 localhost/wasmbox-lhello:test one
expect_status "Linux image through --runtime wasmbox: exit code" 3
expect_has "Linux image through --runtime wasmbox: output" "hello from linux" "$OUT"

pr --rm localhost/wasmbox-bad:test
if [ "$RC" -ne 0 ] && grep -qiE 'bad\.wasm|invalid|malformed|section|length' <<<"$ERR"; then
    pass "invalid module: podman fails (exit $RC) with our message: $ERR"
else
    fail "invalid module: exit $RC: $ERR"
fi

pr --rm "$P" trap
expect_status "a trap: exit 134" 134
expect_match "trap message on stderr" 'trap' "$ERR"

finish
