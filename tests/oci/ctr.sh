#!/bin/bash
# ctr.sh WASMBOX SRC WORK - Wasm containers through containerd alone:
# a private containerd (root, state and sockets under the work folder),
# OCI images built with umoci and imported with `ctr images import`, then
# `ctr run --rm --runc-binary WASMBOX` (runc shim v2 with wasmbox as its
# runtime): output, exit codes, --env, a read-only bind mount, kill TERM,
# a Linux image through the same runtime, an invalid module. The
# containers get a network namespace of their own (loopback only).
source "$(dirname "$0")/lib_oci.sh"
oci_need jq umoci ctr containerd-shim-runc-v2
oci_build_programs
oci_start_containerd

NS=wbtest
C=(ctr --address "$CTD_SOCK" --namespace "$NS")
oci_on_exit 'for t in $(timeout 20 "${C[@]}" task ls -q 2>/dev/null); do
    timeout 20 "${C[@]}" task kill -s SIGKILL "$t" >/dev/null 2>&1; done; sleep 1;
    for t in $(timeout 20 "${C[@]}" container ls -q 2>/dev/null); do
    timeout 20 "${C[@]}" task delete -f "$t" >/dev/null 2>&1;
    timeout 20 "${C[@]}" container delete "$t" >/dev/null 2>&1; done'

# umoci_image NAME ENTRYPOINT FILE...: an OCI image tar $WORK/NAME.tar with
# the files at / and the entrypoint; imported as localhost/NAME:test.
umoci_image() {
    local name=$1 entry=$2 dir=$WORK/umoci-$1 f
    shift 2
    rm -rf "$dir"
    mkdir -p "$dir"
    if ! { umoci init --layout "$dir/oci" && umoci new --image "$dir/oci:test" &&
        umoci unpack --image "$dir/oci:test" "$dir/bundle"; } >"$WORK/umoci.log" 2>&1; then
        oci_abort "umoci cannot make an image: $(cat "$WORK/umoci.log")"
    fi
    for f in "$@"; do install -m 755 "$f" "$dir/bundle/rootfs/$(basename "$f")"; done
    if ! { umoci repack --image "$dir/oci:test" "$dir/bundle" &&
        umoci config --image "$dir/oci:test" --config.entrypoint "$entry"; } >"$WORK/umoci.log" 2>&1; then
        oci_abort "umoci repack/config: $(cat "$WORK/umoci.log")"
    fi
    tar -C "$dir/oci" -cf "$WORK/$name.tar" .
    cap 120 "${C[@]}" images import --base-name "localhost/$name" "$WORK/$name.tar"
    [ "$RC" -eq 0 ] || oci_abort "ctr images import $name: $OUT $ERR"
}
umoci_image wasmbox-probe /probe.wasm "$PROBE"
umoci_image wasmbox-bad /bad.wasm "$WORK/bad.wasm"
umoci_image wasmbox-lhello /lhello "$LHELLO"
cap 30 "${C[@]}" images ls -q
expect_eq "ctr imported the three images" "localhost/wasmbox-bad:test localhost/wasmbox-lhello:test localhost/wasmbox-probe:test" \
    "$(sort <<<"$OUT" | tr '\n' ' ' | sed 's/ $//')"
P=localhost/wasmbox-probe:test

# cr ARGS...: ctr run --rm with wasmbox as the runc binary.
cr() { cap 120 "${C[@]}" run --rm --runc-binary "$WASMBOX" "$@"; }

cr "$P" wbt-hello /probe.wasm hello one
expect_status "ctr run --rm --runc-binary wasmbox" 0
expect_eq "output" "hello from wasm
arg[0]=/probe.wasm
arg[1]=hello
arg[2]=one
one=(unset)" "$OUT"

cr --env EXIT=7 "$P" wbt-exit
expect_status "exit code of ctr run = the module's (EXIT=7)" 7

mkdir -p "$WORK/host"
echo "keep me" >"$WORK/host/keep.txt"
cr --mount "type=bind,src=$WORK/host,dst=/data,options=rbind:ro" "$P" wbt-ro /probe.wasm write /data/keep.txt x
expect_status "read-only bind mount refuses writes" 1
expect_eq "host file unchanged" "keep me" "$(cat "$WORK/host/keep.txt")"
cr --mount "type=bind,src=$WORK/host,dst=/data,options=rbind:rw" "$P" wbt-rw /probe.wasm write /data/new.txt ctr
expect_status "read-write bind mount" 0
expect_eq "the file appears on the host" ctr "$(cat "$WORK/host/new.txt" 2>&1)"

# A looping container ended by kill TERM: ctr run's status is 143.
"${C[@]}" run --rm --runc-binary "$WASMBOX" "$P" wbt-loop /probe.wasm loop \
    >"$WORK/loop.out" 2>"$WORK/loop.err" </dev/null &
loop_pid=$!
if wait_until 20 grep -qx looping "$WORK/loop.out"; then
    t0=$(now)
    cap 30 "${C[@]}" task kill -s SIGTERM wbt-loop
    expect_status "ctr task kill -s SIGTERM" 0
    if wait_until 10 oci_gone "$loop_pid"; then
        wait "$loop_pid"
        RC=$?
        expect_eq "exit status after SIGTERM ($(elapsed "$t0")s)" 143 "$RC"
    else
        fail "SIGTERM did not end the loop within 10 s"
    fi
else
    fail "loop container did not start: $(cat "$WORK/loop.out" "$WORK/loop.err")"
fi
if ! oci_gone "$loop_pid"; then
    timeout 20 "${C[@]}" task kill -s SIGKILL wbt-loop >/dev/null 2>&1
    wait_until 10 oci_gone "$loop_pid" || kill -KILL "$loop_pid" 2>/dev/null
fi
wait "$loop_pid" 2>/dev/null
timeout 20 "${C[@]}" task delete -f wbt-loop >/dev/null 2>&1
timeout 20 "${C[@]}" container delete wbt-loop >/dev/null 2>&1

cr --env EXIT=3 localhost/wasmbox-lhello:test wbt-linux /lhello one
expect_status "Linux image through the same runtime: exit code" 3
expect_has "Linux image: output" "hello from linux" "$OUT"

cr localhost/wasmbox-bad:test wbt-bad
if [ "$RC" -ne 0 ] && grep -qiE 'bad\.wasm|invalid|malformed|section|length' <<<"$ERR"; then
    pass "invalid module: ctr run fails (exit $RC) with our message: $ERR"
else
    fail "invalid module: exit $RC: $OUT $ERR"
fi

cap 30 "${C[@]}" containers ls -q
expect_eq "no containers left" "" "$OUT"

finish
