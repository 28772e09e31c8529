#!/bin/bash
# net.sh WASMBOX SRC WORK - guest networking through WasmEdge's socket ABI:
#   - abi.wasm calls every function directly (both signatures where a
#     name has two, TCP and UDP, IPv4 and IPv6, blocking and not, bad
#     pointers and lengths) with --inherit-network --allow-ip-name-lookup,
#     inside a network and mount namespace of its own: /etc/hosts and
#     /etc/resolv.conf are this test's, and dnsmasq on 127.0.0.1:53
#     answers for wasmbox.test (so no lookup ever leaves the namespace);
#   - the policy: nothing granted by default, --net-allow grants exactly
#     what it says, each refusal is one line on stderr;
#   - libc.wasm: the guest socket library (guest/) as C programs use it;
#   - a module importing sock_accept with a type the host does not offer
#     fails to link with a message naming both.
source "$(dirname "$0")/../lib.sh"
set +e
need clang-14
need wat2wasm
ROOT=$(cd "$SRC/../.." && pwd)
in_ci() { [ "${CI:-}" = true ] || [ "${CI:-}" = 1 ]; }

cc_wasm() {
    clang-14 --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wextra -Werror "$@" 2>"$WORK/cc.err"
}
if cc_wasm "$SRC/abi.c" -o "$WORK/abi.wasm" &&
    cc_wasm -I "$ROOT/guest/include" "$SRC/libc.c" "$ROOT/guest/src/socket.c" -o "$WORK/libc.wasm"; then
    pass "built abi.wasm and libc.wasm (with guest/src/socket.c)"
else
    cat "$WORK/cc.err"
    fail "the test guests do not build"
    finish
fi

# run_guest WHAT ARGS...: runs wasmbox, then counts the guest's own
# "ok"/"not ok" lines and its closing "N passed, N failed".
run_guest() {
    local what=$1
    shift
    wb "$@"
    if crashed; then
        fail "$what: crashed (status $RC): $ERR"
        return
    fi
    local line
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' <<<"$OUT" | tail -n 1)
    grep '^not ok' <<<"$OUT" | sed "s/^/  $what: /"
    if [ -n "$line" ] && [ "$RC" -eq 0 ] && [[ $line == *" 0 failed" ]]; then
        pass "$what: $line"
    else
        fail "$what: status $RC, [$line]; stderr: $ERR"
    fi
}

# --- nothing granted ------------------------------------------------------
run_guest "no network granted" run "$WORK/abi.wasm" none
expect_match_err() {
    if grep -qE -- "$2" <<<"$ERR"; then pass "$1"; else fail "$1: /$2/ not in stderr: $ERR"; fi
}
expect_match_err "the refused socket is reported on stderr" \
    '^wasmbox: network: socket refused: no network is granted'
expect_match_err "the refused lookup is reported on stderr" \
    "^wasmbox: network: name lookup of 'localhost' refused"

# --- --net-allow ----------------------------------------------------------
# A port nobody uses: the guest binds it itself.
port=
for try in $(seq 1 20); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
run_guest "--net-allow policy" run --net-allow "bind:127.0.0.1:$port" \
    --net-allow "connect:127.0.0.1/32:$port" --net-allow "bind:[::]/128" \
    --net-allow connect:127.0.0.3 "$WORK/abi.wasm" policy "$port"
expect_match_err "a refused bind names the address" \
    "^wasmbox: network: bind to 127\.0\.0\.1:$((port + 1)) refused: no --net-allow rule grants it$"
expect_match_err "a refused connect names the address" \
    "^wasmbox: network: connect to \[::1\]:$port refused"
wb run --net-allow "bind:10.0.0.0/33" "$WORK/abi.wasm" none
expect_status "--net-allow with a bad prefix: usage error" 2
expect_match_err "... naming the rule and the fault" "network rule 'bind:10.0.0.0/33': prefix length out of range"
wb run --net-allow "listen:*" "$WORK/abi.wasm" none
expect_status "--net-allow with an unknown operation: usage error" 2

# --- the guest library ----------------------------------------------------
run_guest "guest socket library" run --inherit-network "$WORK/libc.wasm"
# The same program linked with the archive the build makes (guest/).
archive=$(dirname "$WASMBOX")/guest/libwasmbox_socket.a
if [ -f "$archive" ]; then
    if cc_wasm -I "$ROOT/guest/include" "$SRC/libc.c" -L "$(dirname "$archive")" -lwasmbox_socket \
        -o "$WORK/libc-archive.wasm"; then
        run_guest "guest socket library (linked from libwasmbox_socket.a)" \
            run --inherit-network "$WORK/libc-archive.wasm"
    else
        cat "$WORK/cc.err"
        fail "libc.c does not link with $archive"
    fi
else
    echo "skipped: no $archive (the build makes it when clang-14 and wasi-libc are installed)"
fi

# --- every function, in a namespace of our own ----------------------------
ns_ok=true
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null || ! command -v dnsmasq >/dev/null; then
    ns_ok=false
    why="needs root, unshare and dnsmasq (scripts/setup.sh installs dnsmasq-base)"
    if in_ci; then fail "the namespace test $why"; else echo "skipped: the namespace test $why"; fi
fi
if $ns_ok; then
    cat >"$WORK/hosts" <<'EOF'
127.0.0.1 localhost
127.0.0.7 hosts-only.test
EOF
    printf 'nameserver 127.0.0.1\nsearch wasmbox.test\noptions timeout:2 attempts:1\n' >"$WORK/resolv.conf"
    cat >"$WORK/inside.sh" <<'EOF'
# Runs inside `unshare --net --mount`: nothing here is seen outside.
set -u
W=$1; shift
ip link set lo up || exit 90
mount --make-rprivate / 2>/dev/null
mount --bind "$W/hosts" /etc/hosts || exit 91
mount --bind "$W/resolv.conf" /etc/resolv.conf || exit 92
dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll --bind-interfaces \
    --listen-address=127.0.0.1 --port=53 --user=root --pid-file="$W/dnsmasq.pid" \
    --host-record=svc.wasmbox.test,127.0.0.9,::9 --local=/wasmbox.test/ \
    --log-facility="$W/dnsmasq.log" &
dns=$!
for i in $(seq 1 100); do
    (exec 3<>/dev/tcp/127.0.0.1/53) 2>/dev/null && break
    sleep 0.05
done
"$@"
rc=$?
kill "$dns" 2>/dev/null
wait "$dns" 2>/dev/null
exit $rc
EOF
    timeout 120 unshare --net --mount bash "$WORK/inside.sh" "$WORK" \
        "$WASMBOX" run --inherit-network --allow-ip-name-lookup "$WORK/abi.wasm" all \
        >"$WORK/.out" 2>"$WORK/.err" </dev/null
    RC=$?
    OUT=$(cat "$WORK/.out")
    ERR=$(cat "$WORK/.err")
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' <<<"$OUT" | tail -n 1)
    grep '^not ok' <<<"$OUT" | sed 's/^/  namespace: /'
    if ! crashed && [ "$RC" -eq 0 ] && [[ $line == *" 0 failed" ]]; then
        pass "every ABI function, DNS included: $line"
    else
        fail "every ABI function in the namespace: status $RC, [$line]; stderr: $ERR"
    fi
fi

# --- a getaddrinfo chain whose buffers overlap its own pointers -----------
# sa_data lies over the node's canonname pointer and length: the host must
# write through what it checked, not through what it just wrote.
cat >"$WORK/overlap.wat" <<'EOF'
(module
  (import "wasi_snapshot_preview1" "sock_getaddrinfo"
    (func $gai (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 1)
  (data (i32.const 512) "16.0.0.0\00")
  (data (i32.const 600) "255\00")
  (func (export "_start")
    (i32.store (i32.const 1036) (i32.const 2048))  ;; node @1024: ai_addr
    (i32.store (i32.const 1040) (i32.const 256))   ;; ai_canonname
    (i32.store (i32.const 1044) (i32.const 0))     ;; ai_canonname_len
    (i32.store (i32.const 2052) (i32.const 14))    ;; sockaddr @2048: sa_data_len
    (i32.store (i32.const 2056) (i32.const 1042))  ;; sa_data = node + 18
    (i32.store16 (i32.const 3072) (i32.const 2))   ;; hints: AI_CANONNAME
    (i32.store8 (i32.const 3074) (i32.const 1))    ;; INET4
    (i32.store8 (i32.const 3075) (i32.const 2))    ;; STREAM
    (i32.store (i32.const 4000) (i32.const 1024))
    (call $exit (call $gai (i32.const 512) (i32.const 9) (i32.const 600) (i32.const 4)
                           (i32.const 3072) (i32.const 4000) (i32.const 1) (i32.const 4004)))))
EOF
wat2wasm "$WORK/overlap.wat" -o "$WORK/overlap.wasm"
wb run "$WORK/overlap.wasm"
if crashed; then
    fail "getaddrinfo into overlapping buffers crashed the host (status $RC): $ERR"
else
    expect_status "getaddrinfo into overlapping buffers: answered, no host crash" 0
fi

# --- linking by name and type ---------------------------------------------
cat >"$WORK/badtype.wat" <<'EOF'
(module
  (import "wasi_snapshot_preview1" "sock_accept"
    (func (param i32 i32 i32 i32) (result i32)))
  (func (export "_start")))
EOF
wat2wasm "$WORK/badtype.wat" -o "$WORK/badtype.wasm"
wb run "$WORK/badtype.wasm"
expect_status "sock_accept imported with a fourth parameter: link error" 1
expect_eq "... the message names the module's type and the host's" \
    'wasmbox: '"$WORK"'/badtype.wasm: link error: incompatible import type for "wasi_snapshot_preview1" "sock_accept": the module imports (i32, i32, i32, i32) -> i32, the host defines (i32, i32) -> i32 or (i32, i32, i32) -> i32' \
    "$ERR"

finish
