#!/bin/bash
# network.sh WASMBOX SRC WORK - Wasm containers on a real Docker network.
# dockerd runs in a network namespace this test makes (lib_oci.sh,
# oci_start_dockerd ... bridge) with its bridge, iptables and userland
# proxy; every request below goes to loopback or to an address inside
# that namespace.
#   - docker run -d -p 8080:8080 of the HTTP example answers curl through
#     the published port (docker-proxy) and on the container's address;
#   - --network=none isolates, WASMBOX_NETWORK=none refuses sockets,
#     WASMBOX_TCPLISTEN hands a listener over;
#   - Docker's embedded DNS resolves a container's name on a user network;
#   - docker stop ends a guest blocked in accept, recv, connect or a DNS
#     lookup in under 2 s with 143, and nothing keeps listening;
#   - Compose: the kv example (Wasm, runtime: wasmbox, ports:) and Redis
#     (a Linux image made from Debian's files) reached by service name;
#     a round trip in both directions; `down` leaves no container,
#     network, proxy or descriptor behind.
source "$(dirname "$0")/lib_oci.sh"
oci_need jq curl clang-14 docker-compose redis-server
ROOT=$(cd "$SRC/../.." && pwd)

# --- guests and images ----------------------------------------------------
cc_net() {
    clang-14 --target=wasm32-wasi --sysroot=/usr -O2 -I "$ROOT/guest/include" "$@" \
        "$ROOT/guest/src/socket.c" 2>>"$WORK/cc.err"
}
if cc_net "$ROOT/examples/http-server/server.c" -o "$WORK/server.wasm" &&
    cc_net "$ROOT/examples/http-client/fetch.c" -o "$WORK/fetch.wasm" &&
    cc_net "$SRC/programs/netprobe.c" -o "$WORK/netprobe.wasm"; then
    pass "built server.wasm, fetch.wasm and netprobe.wasm"
else
    cat "$WORK/cc.err"
    oci_abort "the network guests do not build"
fi

oci_start_dockerd "$WASMBOX" bridge
oci_docker_image wasmbox-http:test /server.wasm "$WORK/server.wasm"
oci_docker_image wasmbox-fetch:test /fetch.wasm "$WORK/fetch.wasm"
oci_docker_image wasmbox-netprobe:test /netprobe.wasm "$WORK/netprobe.wasm"
pass "built images wasmbox-http, wasmbox-fetch, wasmbox-netprobe ($OCI_IMAGE_HOW)"

# in_ns CMD...: runs CMD inside dockerd's network namespace.
in_ns() { "${IN_NS[@]}" "$@"; }
# logs_say ID TEXT: the container's output has the line TEXT.
logs_say() { docker logs "$1" 2>&1 | grep -qxF -- "$2"; }
# curl_ns URL: curl from inside the namespace, bounded.
curl_ns() { in_ns curl -s --max-time 10 "$@"; }
# listeners PORT: sockets listening on PORT in the namespace.
listeners() { in_ns ss -Hltn "sport = :$1" 2>/dev/null | wc -l; }

# --- a published port -----------------------------------------------------
cap 60 docker run -d --name web -p 8080:8080 --runtime=wasmbox wasmbox-http:test
expect_status "docker run -d -p 8080:8080 --runtime=wasmbox (HTTP example)" 0
if wait_until 30 logs_say web "server: listening on 0.0.0.0 port 8080"; then
    pass "the server bound 0.0.0.0:8080 inside its container"
else
    fail "the server did not start: $(docker logs web 2>&1)"
fi
expect_eq "curl http://127.0.0.1:8080/ through the published port" \
    "Hello from wasmbox! You asked for /published (request 1)" \
    "$(curl_ns "http://127.0.0.1:8080/published")"
WEB_IP=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' web)
expect_eq "curl of the container's own address ($WEB_IP:8080)" \
    "Hello from wasmbox! You asked for /direct (request 2)" \
    "$(curl_ns "http://$WEB_IP:8080/direct")"
if ! curl -s --max-time 2 -o /dev/null "http://127.0.0.1:8080/" 2>/dev/null ||
    [ "$(readlink /proc/self/ns/net)" = "$DK_NETNS_ID" ]; then
    pass "nothing of it is reachable from the host's namespace"
else
    fail "127.0.0.1:8080 answers in the host's namespace"
fi
# Another Wasm container reaches it over the bridge.
cap 60 docker run --rm --runtime=wasmbox wasmbox-fetch:test "$WEB_IP" 8080 /from-fetch
expect_eq "a Wasm client container fetches from it over the bridge" \
    "Hello from wasmbox! You asked for /from-fetch (request 3)" "$OUT"

# --- isolation ------------------------------------------------------------
cap 60 docker run --rm --network=none --runtime=wasmbox wasmbox-fetch:test "$WEB_IP" 8080 /
expect_status "--network=none: the client cannot reach it (exit 2)" 2
expect_match "... because there is no route" "connect to .*: Network (is )?unreachable" "$ERR"
cap 60 docker run --rm -e WASMBOX_NETWORK=none --runtime=wasmbox wasmbox-fetch:test "$WEB_IP" 8080 /
expect_status "WASMBOX_NETWORK=none: sockets refused (exit 2)" 2
expect_match "... with the refusal in the logs" "^wasmbox: network: socket refused" "$ERR"

# --- a listener handed over -----------------------------------------------
cap 60 docker run -d --name preset -p 8081:8081 -e WASMBOX_TCPLISTEN=0.0.0.0:8081 \
    --runtime=wasmbox wasmbox-http:test
if wait_until 30 logs_say preset "server: listening on 0.0.0.0 port 8081"; then
    expect_eq "WASMBOX_TCPLISTEN: the server serves the socket made for it" \
        "Hello from wasmbox! You asked for /preset (request 1)" \
        "$(curl_ns "http://127.0.0.1:8081/preset")"
else
    fail "the WASMBOX_TCPLISTEN server did not start: $(docker logs preset 2>&1)"
fi

# --- names on a user network ----------------------------------------------
cap 60 docker network create wbnet-test
expect_status "docker network create" 0
cap 60 docker run -d --name named-web --network wbnet-test --runtime=wasmbox wasmbox-http:test
wait_until 30 logs_say named-web "server: listening on 0.0.0.0 port 8080"
NAMED_IP=$(docker inspect -f '{{(index .NetworkSettings.Networks "wbnet-test").IPAddress}}' named-web)
cap 60 docker run --rm --network wbnet-test --runtime=wasmbox wasmbox-netprobe:test resolve named-web
expect_eq "a container's name resolves through Docker's embedded DNS" "resolving
$NAMED_IP" "$OUT"
cap 60 docker run --rm --network wbnet-test --runtime=wasmbox wasmbox-fetch:test named-web 8080 /by-name
expect_eq "... and a client reaches it by that name" \
    "Hello from wasmbox! You asked for /by-name (request 1)" "$OUT"

# --- docker stop of a guest blocked in the network ------------------------
# stop_blocked WHAT NAME LINE: NAME prints LINE just before it blocks;
# docker stop -t 5 must end it in under 2 s with 143.
stop_blocked() {
    local what=$1 name=$2 line=$3 t0 took code
    if ! wait_until 30 logs_say "$name" "$line"; then
        fail "$what: never got to '$line': $(docker logs "$name" 2>&1)"
        return
    fi
    sleep 0.2 # into the call
    t0=$(now)
    cap 30 docker stop -t 5 "$name"
    took=$(elapsed "$t0")
    code=$(docker inspect -f '{{.State.ExitCode}}' "$name")
    if [ "$RC" -eq 0 ] && [ "$code" = 143 ] && awk -v t="$took" 'BEGIN { exit !(t < 2) }'; then
        pass "docker stop of a guest blocked in $what: ${took}s, exit 143"
    else
        fail "docker stop of a guest blocked in $what: status $RC, ${took}s, exit code $code"
    fi
}
docker run -d --name blocked-accept --runtime=wasmbox wasmbox-netprobe:test accept 9000 >/dev/null
stop_blocked accept blocked-accept accepting
# recv: connected to the HTTP server, which waits for a request.
docker run -d --name blocked-recv --runtime=wasmbox wasmbox-netprobe:test recv "$WEB_IP" 8080 >/dev/null
stop_blocked recv blocked-recv receiving
# connect: a listener whose queue is full (backlog 0, one connection
# parked in it) drops further SYNs, so the next connect waits.
docker run -d --name full --runtime=wasmbox wasmbox-netprobe:test hold 9100 >/dev/null
wait_until 30 logs_say full holding
FULL_IP=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' full)
docker run -d --name parked --runtime=wasmbox wasmbox-netprobe:test recv "$FULL_IP" 9100 >/dev/null
wait_until 30 logs_say parked receiving
docker run -d --name blocked-connect --runtime=wasmbox wasmbox-netprobe:test connect "$FULL_IP" 9100 >/dev/null
stop_blocked connect blocked-connect connecting
# getaddrinfo: a DNS server address where nothing answers.
docker run -d --name blocked-dns --dns 10.213.0.254 --runtime=wasmbox \
    wasmbox-netprobe:test resolve nothing.example >/dev/null
stop_blocked "a DNS lookup" blocked-dns resolving
# The HTTP example itself, waiting in poll_oneoff with a client connected.
stop_blocked "poll (the HTTP example, a client connected)" web "server: listening on 0.0.0.0 port 8080"
cap 30 docker rm -f web preset named-web full parked
if wait_until 20 test "$(listeners 8080)" -eq 0 && [ "$(listeners 8081)" -eq 0 ]; then
    pass "after the containers went, nothing listens on 8080 or 8081"
else
    fail "listeners left: $(in_ns ss -Hltnp 2>&1)"
fi
docker network rm wbnet-test >/dev/null 2>&1

# --- Compose: Wasm + Redis ------------------------------------------------
mkdir -p "$WORK/ex/examples"
cp -r "$ROOT/guest" "$WORK/ex/guest"
cp -r "$ROOT/examples/kv-service" "$WORK/ex/examples/kv-service"
PROJ=$WORK/ex/examples/kv-service
rm -rf "$PROJ/redis/rootfs" "$PROJ/kv.wasm"
if "$PROJ/build.sh" >"$WORK/kv-build.log" 2>&1; then
    pass "examples/kv-service/build.sh: kv.wasm and the Redis rootfs"
else
    cat "$WORK/kv-build.log"
    oci_abort "examples/kv-service/build.sh failed"
fi
# compose ARGS...: docker-compose in the project folder, legacy builder.
compose() {
    (cd "$PROJ" && DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0 \
        timeout 300 docker-compose -p wbkv --no-ansi "$@") \
        >"$WORK/.out" 2>"$WORK/.err" </dev/null
    RC=$?
    OUT=$(cat "$WORK/.out")
    ERR=$(cat "$WORK/.err")
}
oci_on_exit '(cd "$PROJ" && timeout 120 docker-compose -p wbkv down >/dev/null 2>&1)'
ctd_pid=$(oci_dockerd_containerd_pid)
fds_dockerd=$(fd_count "$DOCKERD_PID")
fds_containerd=$(fd_count "$ctd_pid")
compose up -d --build
expect_status "docker-compose up -d --build (kv example: Wasm web + Linux redis)" 0
[ "$RC" -eq 0 ] || echo "$OUT $ERR" | tail -n 20
web_id=$(cd "$PROJ" && docker-compose -p wbkv ps -q web 2>/dev/null)
expect_eq "the web service runs on wasmbox" wasmbox \
    "$(docker inspect -f '{{.HostConfig.Runtime}}' "$web_id" 2>/dev/null)"
kv_up() { [ -n "$(curl_ns "http://127.0.0.1:8090/")" ]; }
if wait_until 30 kv_up; then
    pass "the web service answers on the published port 8090"
else
    fail "the web service does not answer: $(docker logs "$web_id" 2>&1)"
fi
expect_eq "PUT /set/greeting through the Wasm service" OK \
    "$(curl_ns -X PUT --data 'hello from wasm' http://127.0.0.1:8090/set/greeting)"
compose exec -T redis /usr/bin/redis-cli GET greeting
expect_eq "... Redis holds it (redis-cli in the redis container)" "hello from wasm" "$OUT"
compose exec -T redis /usr/bin/redis-cli SET from-redis 'written by redis-cli'
expect_eq "GET /get/from-redis reads what redis-cli wrote" "written by redis-cli" \
    "$(curl_ns http://127.0.0.1:8090/get/from-redis)"
expect_eq "POST /incr/visits twice" "1
2" "$(curl_ns -X POST http://127.0.0.1:8090/incr/visits; curl_ns -X POST http://127.0.0.1:8090/incr/visits)"
expect_eq "a key nobody set: 404" 404 \
    "$(curl_ns -o /dev/null -w '%{http_code}' http://127.0.0.1:8090/get/never-set)"
compose stop redis
# Its name is gone from Docker's DNS, which asks upstream (nothing answers
# in our namespace): the lookup times out after the resolver's retries.
expect_eq "with Redis stopped: 502 naming why" "redis unreachable" \
    "$(curl_ns --max-time 60 http://127.0.0.1:8090/get/greeting | cut -d: -f1)"
compose down
expect_status "docker-compose down" 0
cap 30 docker ps -aq --filter label=com.docker.compose.project=wbkv
expect_eq "down removed the containers" "" "$OUT"
cap 30 docker network ls -q --filter name=wbkv
expect_eq "down removed the network" "" "$OUT"
# The docker-proxy processes of our namespace.
proxies() {
    local p
    for p in $(oci_netns_pids); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = docker-proxy ] && echo "$p"
    done
}
if wait_until 20 test -z "$(proxies)"; then
    pass "no docker-proxy left"
else
    fail "docker-proxy left: $(proxies)"
fi
after_dockerd=$(fd_count "$DOCKERD_PID")
after_containerd=$(fd_count "$ctd_pid")
if [ "$after_dockerd" -le $((fds_dockerd + 3)) ] && [ "$after_containerd" -le $((fds_containerd + 3)) ]; then
    pass "descriptors: dockerd $fds_dockerd -> $after_dockerd, containerd $fds_containerd -> $after_containerd"
else
    fail "descriptors grew: dockerd $fds_dockerd -> $after_dockerd, containerd $fds_containerd -> $after_containerd"
fi
finish
