#!/bin/bash
# compose.sh WASMBOX SRC WORK - docker-compose (Debian's 1.29) against a
# private dockerd: one Wasm service (runtime: wasmbox) and one Linux
# service (runc) in one compose file, both with network_mode: none, so
# compose creates no network. `up` runs both to completion; their outputs
# and exit codes are checked, then `down` removes everything.
source "$(dirname "$0")/lib_oci.sh"
oci_need jq docker-compose
oci_build_programs
oci_start_dockerd
oci_docker_images

PROJ=$WORK/project
mkdir -p "$PROJ/data"
echo "shared file" >"$PROJ/data/in.txt"
# File format 2.4: the last one with `runtime:` for services.
cat >"$PROJ/docker-compose.yml" <<'EOF'
version: "2.4"
services:
  wasm:
    image: wasmbox-probe:test
    runtime: wasmbox
    network_mode: none
    command: ["read", "/data/in.txt"]
    volumes:
      - ./data:/data:ro
  linux:
    image: wasmbox-lhello:test
    network_mode: none
    command: ["from-compose"]
    environment:
      EXIT: "4"
EOF
# compose(ARGS...): docker-compose in the project folder.
compose() {
    (cd "$PROJ" && timeout 180 docker-compose -p wbtest --no-ansi "$@") \
        >"$WORK/.out" 2>"$WORK/.err" </dev/null
    RC=$?
    OUT=$(cat "$WORK/.out")
    ERR=$(cat "$WORK/.err")
}
oci_on_exit '(cd "$PROJ" && timeout 120 docker-compose -p wbtest down >/dev/null 2>&1)'

compose config -q
expect_status "docker-compose config" 0
compose up --no-color
expect_status "docker-compose up" 0
wasm_id=$(cd "$PROJ" && docker-compose -p wbtest ps -q wasm 2>/dev/null)
linux_id=$(cd "$PROJ" && docker-compose -p wbtest ps -q linux 2>/dev/null)
if [ -n "$wasm_id" ] && [ -n "$linux_id" ]; then
    pass "compose created both containers"
    expect_eq "wasm service: runtime" wasmbox "$(docker inspect -f '{{.HostConfig.Runtime}}' "$wasm_id")"
    expect_eq "wasm service: exit code" 0 "$(docker inspect -f '{{.State.ExitCode}}' "$wasm_id")"
    expect_eq "wasm service: output" "shared file" "$(docker logs "$wasm_id" 2>&1)"
    expect_eq "linux service: exit code" 4 "$(docker inspect -f '{{.State.ExitCode}}' "$linux_id")"
    expect_eq "linux service: output" "hello from linux
arg[0]=/lhello
arg[1]=from-compose" "$(docker logs "$linux_id" 2>&1)"
else
    fail "compose containers: wasm=[$wasm_id] linux=[$linux_id]; up said: $OUT $ERR"
fi
expect_match "up shows the wasm output" '^wasm_1 +\| shared file$' "$OUT"
expect_match "up shows the wasm exit code" 'wasm_1 exited with code 0' "$OUT"
cap 30 docker network ls --filter name=wbtest -q
expect_eq "compose created no network" "" "$OUT"

# `run` of the Wasm service alone: its exit code is docker-compose's.
compose run --rm wasm exit 6
expect_status "docker-compose run --rm wasm exit 6" 6

compose down
expect_status "docker-compose down" 0
cap 30 docker ps -aq --filter label=com.docker.compose.project=wbtest
expect_eq "down removed the containers" "" "$OUT"

finish
