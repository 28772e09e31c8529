#!/bin/bash
# docker.sh WASMBOX SRC WORK - Wasm containers through the real Docker:
# a private dockerd (its own data root, exec root, socket and containerd,
# no bridge, no iptables) with `runtimes.wasmbox.path` = WASMBOX, then
# `docker run --runtime=wasmbox` of an image FROM scratch holding probe.wasm:
# output, logs, exit codes, -e and args, -v (read-write and :ro), -w, --tmpfs,
# --read-only, --memory, stop/kill/pause/exec/top/update/rm -f, a Linux image
# through the same runtime, an invalid module and a trap. Ends with the
# median time of `docker run --rm` for wasmbox (Wasm) and runc (static
# Linux hello). Containers only get --network=none.
source "$(dirname "$0")/lib_oci.sh"
oci_need jq
oci_build_programs
# Native code: the probe is compiled ahead of time into a private cache,
# which the runtime (started by dockerd, whose environment it inherits)
# uses; so every container below runs native code. Without the compiler
# they are interpreted, and the checks that need native code say so.
export WASMBOX_CACHE_DIR=$WORK/aot-cache
AOT=0
if [ -x "$(dirname "$WASMBOX")/wasmbox-aotc" ] && "$WASMBOX" compile -q "$PROBE"; then
    AOT=1
    pass "probe.wasm compiled ahead of time into $WASMBOX_CACHE_DIR"
else
    echo "note: no wasmbox-aotc beside $WASMBOX: containers run interpreted"
fi
oci_start_dockerd
oci_docker_images

P=wasmbox-probe:test
# dr ARGS...: docker run with the wasmbox runtime and no network.
dr() { cap 120 docker run --runtime=wasmbox --network=none "$@"; }
dstate() { docker inspect -f "{{.State.$2}}" "$1" 2>/dev/null; }
logs_have() { docker logs "$1" 2>&1 | grep -qxF -- "$2"; }

echo "=== run"
dr --rm "$P" hello one "two words"
expect_status "docker run --rm --runtime=wasmbox" 0
expect_eq "output" "hello from wasm
arg[0]=/probe.wasm
arg[1]=hello
arg[2]=one
arg[3]=two words
one=(unset)" "$OUT"

if [ "$AOT" = 1 ]; then
    dr --rm -e WASMBOX_AOT_VERBOSE=1 "$P" hello
    expect_match "a container runs the cached native code" "running native code" "$ERR$OUT"
    dr --rm -e WASMBOX_AOT=off -e WASMBOX_AOT_VERBOSE=1 "$P" hello
    if [[ "$ERR$OUT" != *"running native code"* && $RC == 0 ]]; then
        pass "WASMBOX_AOT=off in the container interprets"
    else
        fail "WASMBOX_AOT=off: exit $RC: $ERR $OUT"
    fi
fi

dr --rm -e EXIT=7 "$P" hello
expect_status "exit code of docker run = the module's (EXIT=7)" 7
dr --rm "$P" exit 42
expect_status "exit code 42 from proc_exit" 42

dr --rm -e GREETING="hi there" "$P" hello GREETING
expect_has "-e reaches the module" "GREETING=hi there" "$OUT"

dr --rm "$P" ls /proc
if grep -qxE 'self|1|cpuinfo' <<<"$OUT"; then
    fail "procfs is visible in a Wasm container: $(tr '\n' ' ' <<<"$OUT")"
else
    pass "no procfs in the Wasm container (exit $RC, ls /proc: $(tr '\n' ' ' <<<"${OUT:-nothing}"))"
fi

# -t: the module's stdio is a pty (the runtime gets --console-socket).
dr --rm -t "$P" hello tty
expect_status "docker run -t (console socket)" 0
expect_match "docker run -t: output through the pty" '^hello from wasm' "$(tr -d '\r' <<<"$OUT")"

echo "=== logs"
docker rm -f wbt-logs >/dev/null 2>&1
dr -d --name wbt-logs "$P" hello logged
expect_status "docker run -d" 0
cap 60 docker wait wbt-logs
expect_eq "docker wait: exit code" 0 "$OUT"
cap 60 docker logs wbt-logs
expect_eq "docker logs" "hello from wasm
arg[0]=/probe.wasm
arg[1]=hello
arg[2]=logged
logged=(unset)" "$OUT"
docker rm wbt-logs >/dev/null 2>&1

echo "=== volumes"
H=$WORK/host
mkdir -p "$H/rw" "$H/ro"
echo "from the host" >"$H/rw/in.txt"
echo "keep me" >"$H/ro/keep.txt"
dr --rm -v "$H/rw:/data" "$P" read /data/in.txt
expect_eq "-v HOST:/data is readable" "from the host" "$OUT"
# -w: relative paths resolve there (getcwd() itself is always "/" under
# wasi-libc).
dr --rm -w /data -v "$H/rw:/data" "$P" read in.txt
expect_eq "-w /data: a relative path resolves in it" "from the host" "$OUT"
dr --rm -v "$H/rw:/data" "$P" write /data/out.txt "from the container"
expect_status "-v HOST:/data is writable" 0
expect_eq "the file appears on the host" "from the container" "$(cat "$H/rw/out.txt" 2>&1)"
dr --rm -v "$H/ro:/data:ro" "$P" write /data/keep.txt changed
expect_status "-v HOST:/data:ro refuses writes" 1
expect_match ":ro write fails with EROFS" 'EROFS|read-only' "$OUT"
expect_eq ":ro host file unchanged" "keep me" "$(cat "$H/ro/keep.txt")"
dr --rm -v "$H/ro:/data:ro" "$P" write /data/new.txt x
expect_eq ":ro: no new file on the host" "keep.txt" "$(ls "$H/ro" | tr '\n' ' ' | sed 's/ $//')"
dr --rm --read-only "$P" write /x.txt x
expect_status "--read-only root refuses writes" 1
dr --rm --tmpfs /scratch "$P" write /scratch/x x
expect_status "--tmpfs is writable" 0

echo "=== memory"
docker rm -f wbt-mem >/dev/null 2>&1
dr --name wbt-mem --memory 64m "$P" grow
expect_status "--memory 64m: grow exits 0 (not 137)" 0
oci_check_grow "--memory 64m"
expect_eq "--memory 64m: not OOM-killed" false "$(dstate wbt-mem OOMKilled)"
docker rm -f wbt-mem >/dev/null 2>&1

echo "=== stop, kill, ps, rm -f, pause, exec, top, update"
docker rm -f wbt-loop >/dev/null 2>&1
dr -d --name wbt-loop "$P" loop
expect_status "docker run -d loop" 0
if wait_until 20 logs_have wbt-loop looping; then
    pass "loop container started"
else
    fail "loop container: logs: $(docker logs wbt-loop 2>&1 | head -5)"
fi
cap 30 docker ps --filter name=wbt-loop --format '{{.Names}} {{.Status}}'
expect_match "docker ps shows it running" '^wbt-loop Up' "$OUT"

cap 60 docker exec wbt-loop /probe.wasm hello execd
expect_status "docker exec of a second module" 0
expect_has "docker exec: output" "arg[2]=execd" "$OUT"
cap 60 docker exec -e EXIT=9 wbt-loop /probe.wasm hello
expect_status "docker exec: exit code" 9

cap 30 docker top wbt-loop
if [ "$RC" -eq 0 ] && [ "$(wc -l <<<"$OUT")" -ge 2 ]; then
    pass "docker top lists $(($(wc -l <<<"$OUT") - 1)) process(es)"
else
    fail "docker top: exit $RC: $OUT $ERR"
fi

cap 30 docker pause wbt-loop
expect_status "docker pause" 0
expect_eq "state paused" true "$(dstate wbt-loop Paused)"
cap 30 docker unpause wbt-loop
expect_status "docker unpause" 0
expect_eq "state running" "running" "$(dstate wbt-loop Status)"

cap 30 docker update --memory 128m --memory-swap 128m --cpus 0.5 wbt-loop
expect_status "docker update --memory --cpus" 0

t0=$(now)
cap 60 docker stop -t 5 wbt-loop
took=$(elapsed "$t0")
oci_check_stop "docker stop" "$took"
expect_eq "exit code after docker stop" 143 "$(dstate wbt-loop ExitCode)"
docker rm wbt-loop >/dev/null 2>&1

docker rm -f wbt-kill >/dev/null 2>&1
dr -d --name wbt-kill "$P" loop
wait_until 20 logs_have wbt-kill looping
cap 30 docker kill --signal=INT wbt-kill
cap 30 docker wait wbt-kill
expect_eq "docker kill --signal=INT: exit code" 130 "$OUT"
docker rm -f wbt-kill >/dev/null 2>&1

docker rm -f wbt-rm >/dev/null 2>&1
dr -d --name wbt-rm "$P" loop
wait_until 20 logs_have wbt-rm looping
cap 60 docker rm -f wbt-rm
expect_status "docker rm -f of a running container" 0
cap 30 docker ps -a --filter name=wbt-rm --format '{{.Names}}'
expect_eq "gone from docker ps -a" "" "$OUT"

echo "=== a Linux image through the same runtime"
dr --rm -e EXIT=3 wasmbox-lhello:test one
expect_status "Linux container via --runtime=wasmbox: exit code" 3
expect_eq "Linux container via --runtime=wasmbox: output" "hello from linux
arg[0]=/lhello
arg[1]=one" "$OUT"

echo "=== errors"
dr --rm wasmbox-bad:test
if [ "$RC" -eq 0 ]; then
    fail "invalid module: docker run succeeded"
elif grep -q 'OCI runtime create failed' <<<"$ERR" &&
    grep -qiE 'bad\.wasm|invalid|malformed|section|length' <<<"$ERR"; then
    pass "invalid module: docker run fails (exit $RC) with our message: $ERR"
else
    fail "invalid module: exit $RC, docker's message lacks ours: $ERR"
fi

docker rm -f wbt-trap >/dev/null 2>&1
dr --name wbt-trap "$P" trap
expect_status "a trap: exit 134" 134
cap 30 docker logs wbt-trap
expect_match "trap message in docker logs" 'trap' "$OUT$ERR"
docker rm -f wbt-trap >/dev/null 2>&1

echo "=== start-up time (median of 10 docker run --rm)"
times_wasm=()
times_runc=()
for i in $(seq 1 10); do
    t0=$(now)
    docker run --rm --runtime=wasmbox --network=none "$P" hello >/dev/null 2>&1
    times_wasm+=("$(elapsed "$t0")")
    t0=$(now)
    docker run --rm --network=none wasmbox-lhello:test >/dev/null 2>&1
    times_runc+=("$(elapsed "$t0")")
done
echo "timing: wasmbox (Wasm hello): median $(median "${times_wasm[@]}") s  [${times_wasm[*]}]"
echo "timing: runc (static Linux hello): median $(median "${times_runc[@]}") s  [${times_runc[*]}]"

finish
