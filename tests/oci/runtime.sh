#!/bin/bash
# runtime.sh WASMBOX SRC WORK - wasmbox as an OCI runtime driven directly
# through runc's command line, without any daemon:
#   1. `features` and `spec`;
#   2. `run` in the foreground: output, exit codes, args/env/cwd, mounts as
#      preopens (read-only honoured), read-only root, no kernel file systems,
#      the memory limit, traps, signals (kill TERM/INT/KILL -> 143/130/137),
#      a Linux container handed to runc;
#   3. the create/start/state/delete life cycle with the container's stdio
#      in files, list, ps, pause/resume, update, exec, kill, delete --force,
#      two racing creates of one id;
#   4. bad bundles: each fails with a clear message on stderr and in the
#      --log json file, and leaves no state folder, cgroup or mount behind;
#   5. nothing left in --root, no cgroup, no mount at the end.
# Needs root. Containers get a network namespace of their own (loopback only).
source "$(dirname "$0")/lib_oci.sh"
oci_need jq
oci_need_root
oci_build_programs

ROOT=$WORK/root          # --root
LOG=$WORK/runtime.log    # --log (json)
CG=/wasmbox-test-runtime # cgroup parent of every container here
mkdir -p "$ROOT"

# W ARGS...: wasmbox with the global options; OUT, ERR, RC like wb.
W() { wb --root "$ROOT" --log "$LOG" --log-format json "$@"; }

# At exit: whatever is still in --root goes, then the cgroups.
cleanup_runtime() {
    local id
    for id in $(timeout 20 "$WASMBOX" --root "$ROOT" list -q 2>/dev/null); do
        timeout 20 "$WASMBOX" --root "$ROOT" delete --force "$id" >/dev/null 2>&1
    done
    cgroup_rmtree "$CG"
}
oci_on_exit cleanup_runtime

# --- bundles ---------------------------------------------------------------

# A config for when `wasmbox spec` fails, so the other checks still run.
fallback_config() {
    cat <<'EOF'
{"ociVersion": "1.0.2",
 "process": {"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["/app.wasm"],
             "env": ["PATH=/usr/local/bin:/usr/bin:/bin"], "cwd": "/",
             "noNewPrivileges": true},
 "root": {"path": "rootfs", "readonly": true},
 "hostname": "wasmbox",
 "mounts": [],
 "linux": {"namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"},
                          {"type": "mount"}, {"type": "network"}]}}
EOF
}

# mkbundle ID [JQ_FILTER]: $WORK/bundles/ID with rootfs/{probe.wasm,lhello,
# bad.wasm,work/}, config.json from `wasmbox spec` (or the fallback) set to
# run "/probe.wasm hello" with cgroup $CG/wbt-NAME, then JQ_FILTER applied.
# Prints the bundle path. Containers from bundle NAME are named wbt-NAME.
mkbundle() {
    local id=wbt-$1 filter=${2:-.} b=$WORK/bundles/$1
    rm -rf "$b"
    mkdir -p "$b/rootfs/work"
    cp "$PROBE" "$b/rootfs/probe.wasm"
    cp "$LHELLO" "$b/rootfs/lhello"
    cp "$WORK/bad.wasm" "$b/rootfs/bad.wasm"
    if [ -f "$WORK/template.json" ]; then
        cp "$WORK/template.json" "$b/config.json"
    else
        fallback_config >"$b/config.json"
    fi
    jq --arg cg "$CG/$id" '.process.args = ["/probe.wasm", "hello"]
        | .process.terminal = false | .root.path = "rootfs"
        | .linux.cgroupsPath = $cg' "$b/config.json" | jq "$filter" >"$b/config.new" &&
        mv "$b/config.new" "$b/config.json"
    echo "$b"
}

# --- state helpers ---------------------------------------------------------

status_of() {
    local s
    s=$(timeout 10 "$WASMBOX" --root "$ROOT" state "$1" 2>/dev/null | jq -r .status 2>/dev/null)
    echo "${s:-gone}"
}
is_status() { [ "$(status_of "$1")" = "$2" ]; }
# wait_status ID STATUS SECONDS
wait_status() { wait_until "$3" is_status "$1" "$2"; }
has_line() { grep -qxF -- "$2" "$1" 2>/dev/null; }

# create ID BUNDLE [OPTIONS...]: `create` with the container's stdio in
# $WORK/ID.out and $WORK/ID.err (create's own messages go there too).
create() {
    local id=$1 b=$2
    shift 2
    rm -f "$WORK/$id.pid"
    timeout 60 "$WASMBOX" --root "$ROOT" --log "$LOG" --log-format json create \
        --bundle "$b" --pid-file "$WORK/$id.pid" "$@" "$id" \
        >"$WORK/$id.out" 2>"$WORK/$id.err" </dev/null
    RC=$?
    ERR=$(cat "$WORK/$id.err")
}

# bg_run ID BUNDLE: `run` in the background (stdio in $WORK/ID.*); sets RUNPID.
bg_run() {
    "$WASMBOX" --root "$ROOT" run --bundle "$2" "$1" >"$WORK/$1.out" 2>"$WORK/$1.err" </dev/null &
    RUNPID=$!
}

# wait_rc PID SECONDS: waits for a background job; RC its status (124 when
# it outlived SECONDS and was killed).
wait_rc() {
    if wait_until "$2" oci_gone "$1"; then
        wait "$1"
        RC=$?
    else
        kill -KILL "$1" 2>/dev/null
        wait "$1" 2>/dev/null
        RC=124
    fi
}

# =========================================================================
echo "=== features and spec"

W features
if [ "$RC" -eq 0 ] && jq -e 'type == "object"' <<<"$OUT" >/dev/null 2>&1; then
    pass "features prints a JSON object ($(jq -c 'keys' <<<"$OUT"))"
else
    fail "features: exit $RC, stdout: $OUT, stderr: $ERR"
fi

mkdir -p "$WORK/spec"
W spec --bundle "$WORK/spec"
if [ "$RC" -eq 0 ] && jq -e . "$WORK/spec/config.json" >/dev/null 2>&1; then
    cp "$WORK/spec/config.json" "$WORK/template.json"
    pass "spec --bundle writes a valid config.json"
    expect_eq "spec: process.args" '["/app.wasm"]' "$(jq -c .process.args "$WORK/spec/config.json")"
    kernel=$(jq -r '[.mounts[]? | select(.type | test("^(proc|sysfs|cgroup2?|devpts|mqueue)$"))
        | .destination] | join(" ")' "$WORK/spec/config.json")
    expect_eq "spec: no kernel file system mounts" "" "$kernel"
    W spec --bundle "$WORK/spec"
    if [ "$RC" -ne 0 ]; then
        pass "spec refuses to overwrite an existing config.json"
    else
        fail "spec overwrote an existing config.json (runc refuses)"
    fi
else
    fail "spec --bundle: exit $RC, stderr: $ERR (using a built-in template from here on)"
fi

# =========================================================================
echo "=== run in the foreground"

B=$(mkbundle run1 '.process.args += ["GREETING"] | .process.env += ["GREETING=hi there"]')
W run --bundle "$B" wbt-run1
expect_status "run hello" 0
expect_eq "run: stdout" "hello from wasm
arg[0]=/probe.wasm
arg[1]=hello
arg[2]=GREETING
GREETING=hi there" "$OUT"
expect_eq "run: container removed when it ends" gone "$(status_of wbt-run1)"

B=$(mkbundle run2 '.process.env += ["EXIT=7"]')
W run --bundle "$B" wbt-run2
expect_status "exit code from \$EXIT=7" 7

B=$(mkbundle run3 '.process.args = ["/probe.wasm", "exit", "42"]')
W run --bundle "$B" wbt-run3
expect_status "exit code from proc_exit(42)" 42

# process.cwd: relative paths resolve there. (wasi-libc starts every
# program with getcwd() = "/", whatever the runtime does.)
B=$(mkbundle run4 '.process.args = ["/probe.wasm", "read", "rel.txt"] | .process.cwd = "/work"')
echo "in /work" >"$B/rootfs/work/rel.txt"
echo "in /" >"$B/rootfs/rel.txt"
W run --bundle "$B" wbt-run4
expect_eq "process.cwd: a relative path resolves in it" "in /work" "$OUT"

# The entrypoint found through PATH, a module without the .wasm suffix.
B=$(mkbundle run5 '.process.args = ["app", "hello"] | .process.env = ["PATH=/bin:/usr/bin"] | del(.annotations)')
mkdir -p "$B/rootfs/usr/bin"
mv "$B/rootfs/probe.wasm" "$B/rootfs/usr/bin/app"
W run --bundle "$B" wbt-run5
expect_status "entrypoint found through PATH, detected by its magic bytes" 0
expect_has "PATH entrypoint: output" "hello from wasm" "$OUT"

# Mounts: a read-write bind, a read-only bind, a tmpfs.
mkdir -p "$WORK/host-rw" "$WORK/host-ro"
echo "host text" >"$WORK/host-ro/keep.txt"
mounts='.mounts += [
  {"destination": "/data", "type": "bind", "source": $rw, "options": ["rbind", "rw"]},
  {"destination": "/ro", "type": "bind", "source": $ro, "options": ["rbind", "ro"]},
  {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "size=1m"]}]'
B=$(mkbundle mnt1 '.process.args = ["/probe.wasm", "write", "/data/new.txt", "from the container"]')
jq --arg rw "$WORK/host-rw" --arg ro "$WORK/host-ro" "$mounts" "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
cp "$B/config.json" "$WORK/mounts.json"
W run --bundle "$B" wbt-mnt1
expect_status "write into a read-write bind mount" 0
expect_eq "the file is on the host" "from the container" "$(cat "$WORK/host-rw/new.txt" 2>&1)"

B=$(mkbundle mnt2 '.process.args = ["/probe.wasm", "write", "/ro/keep.txt", "changed"]')
jq --arg rw "$WORK/host-rw" --arg ro "$WORK/host-ro" "$mounts" "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
W run --bundle "$B" wbt-mnt2
expect_status "write into a read-only bind mount fails" 1
expect_match "read-only bind: EROFS" 'EROFS|read-only' "$OUT"
expect_eq "read-only bind: host file unchanged" "host text" "$(cat "$WORK/host-ro/keep.txt")"

B=$(mkbundle mnt3 '.process.args = ["/probe.wasm", "read", "/ro/keep.txt"]')
jq --arg rw "$WORK/host-rw" --arg ro "$WORK/host-ro" "$mounts" "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
W run --bundle "$B" wbt-mnt3
expect_eq "read from a read-only bind mount" "host text" "$OUT"

B=$(mkbundle mnt4 '.process.args = ["/probe.wasm", "write", "/scratch/t", "x"]')
jq --arg rw "$WORK/host-rw" --arg ro "$WORK/host-ro" "$mounts" "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
W run --bundle "$B" wbt-mnt4
expect_status "write into a tmpfs mount" 0

B=$(mkbundle root1 '.process.args = ["/probe.wasm", "write", "/x.txt", "x"] | .root.readonly = true')
W run --bundle "$B" wbt-root1
expect_status "write into a read-only root fails" 1
expect_match "read-only root: EROFS" 'EROFS|read-only' "$OUT"

B=$(mkbundle root2 '.process.args = ["/probe.wasm", "write", "/x.txt", "x"] | .root.readonly = false')
W run --bundle "$B" wbt-root2
expect_status "write into a writable root" 0
expect_eq "writable root: file in the rootfs" "x" "$(cat "$B/rootfs/x.txt" 2>&1)"

# Kernel file systems are not mounted for a Wasm container.
B=$(mkbundle proc1 '.process.args = ["/probe.wasm", "ls", "/proc"]
  | .mounts += [{"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["ro"]}]')
W run --bundle "$B" wbt-proc1
if grep -qxE 'self|1|cpuinfo' <<<"$OUT"; then
    fail "proc is mounted in a Wasm container: ls /proc printed $(tr '\n' ' ' <<<"$OUT")"
else
    pass "no procfs in a Wasm container (ls /proc: $(tr '\n' ' ' <<<"${OUT:-nothing}"), exit $RC)"
fi

# Memory: linux.resources.memory.limit caps linear memory.
B=$(mkbundle mem1 '.process.args = ["/probe.wasm", "grow"] | .linux.resources.memory.limit = 67108864')
W run --bundle "$B" wbt-mem1
expect_status "grow under a 64 MiB limit exits normally" 0
oci_check_grow "memory.grow under a 64 MiB limit"

B=$(mkbundle trap1 '.process.args = ["/probe.wasm", "trap"]')
W run --bundle "$B" wbt-trap1
expect_status "a trap exits 134" 134
expect_match "trap message on stderr" 'trap.*unreachable|unreachable.*trap' "$ERR"

# A Linux container (no Wasm annotation, entrypoint not Wasm) goes to runc
# unchanged (runc needs /proc).
B=$(mkbundle linux1 '.process.args = ["/lhello", "one"] | .process.env += ["EXIT=3"] | del(.annotations)
  | .mounts += [{"destination": "/proc", "type": "proc", "source": "proc"}]')
if command -v runc >/dev/null 2>&1; then
    W run --bundle "$B" wbt-linux1
    expect_status "Linux container through runc: exit code" 3
    expect_eq "Linux container through runc: output" "hello from linux
arg[0]=/lhello
arg[1]=one" "$OUT"
else
    fail "runc is not installed: cannot check the hand-over of Linux containers"
fi

# Signals through `kill`: TERM/INT end the module with 128+N, at once.
B=$(mkbundle sig '.process.args = ["/probe.wasm", "loop"]')
for sig in TERM:143 SIGINT:130 9:137; do
    name=${sig%:*}
    want=${sig#*:}
    id=wbt-sig-$want
    bg_run "$id" "$B"
    if wait_until 20 has_line "$WORK/$id.out" looping; then
        t0=$(now)
        W kill "$id" "$name"
        expect_status "kill $name of a looping container" 0
        wait_rc "$RUNPID" 10
        took=$(elapsed "$t0")
        expect_eq "run's exit status after kill $name (in ${took}s)" "$want" "$RC"
    else
        fail "kill $name: the looping container did not start: $(cat "$WORK/$id.out" "$WORK/$id.err")"
        kill -KILL "$RUNPID" 2>/dev/null
    fi
    W delete --force "$id"
done

# run --detach returns at once and leaves the container running.
W run --detach --bundle "$B" wbt-detach
expect_status "run --detach" 0
expect_eq "run --detach: running" running "$(status_of wbt-detach)"
W delete --force wbt-detach
expect_status "delete --force after run --detach" 0

# =========================================================================
echo "=== create, start, state, delete"

B=$(mkbundle life '.annotations = {"org.example.test": "life"}')
create wbt-life "$B"
expect_status "create" 0
pid=$(cat "$WORK/wbt-life.pid" 2>/dev/null)
if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    pass "pid file names a live process ($pid)"
else
    fail "pid file: [$pid]"
fi
W state wbt-life
expect_status "state" 0
if jq -e --arg b "$B" --argjson p "${pid:-0}" '.id == "wbt-life" and .status == "created"
    and .pid == $p and .bundle == $b and (.ociVersion | type) == "string"
    and .annotations["org.example.test"] == "life"' <<<"$OUT" >/dev/null 2>&1; then
    pass "state: created, pid, bundle, ociVersion, annotations"
else
    fail "state after create: $OUT"
fi
expect_eq "the module has not run before start" "" "$(cat "$WORK/wbt-life.out")"
W start wbt-life
expect_status "start" 0
if wait_status wbt-life stopped 10; then
    pass "state stopped after the module ended"
else
    fail "state after the module ended: $(status_of wbt-life)"
fi
expect_has "output went to the stdio given to create" "hello from wasm" "$(cat "$WORK/wbt-life.out")"
W start wbt-life
if [ "$RC" -ne 0 ]; then pass "start of a stopped container fails: $ERR"; else fail "start of a stopped container succeeded"; fi
W delete wbt-life
expect_status "delete" 0
W state wbt-life
if [ "$RC" -ne 0 ] && grep -qiE 'not exist|no such|not found' <<<"$ERR"; then
    pass "state after delete: $ERR"
else
    fail "state after delete: exit $RC, stdout $OUT, stderr $ERR"
fi
if cgroup_exists "$CG/wbt-life"; then fail "cgroup $CG/wbt-life left after delete"; else pass "cgroup removed by delete"; fi

# Stderr of the container and the trap status, through create/start.
B=$(mkbundle trap2 '.process.args = ["/probe.wasm", "trap"]')
create wbt-trap2 "$B"
W start wbt-trap2
wait_status wbt-trap2 stopped 10
expect_match "trap message in the stderr given to create" 'trap' "$(cat "$WORK/wbt-trap2.err")"
W delete wbt-trap2

# Two looping containers: list, ps, pause/resume, update, exec, kill.
B1=$(mkbundle loop1 '.process.args = ["/probe.wasm", "loop"]')
B2=$(mkbundle loop2 '.process.args = ["/probe.wasm", "loop"]')
create wbt-loop1 "$B1"
expect_status "create loop1" 0
create wbt-loop2 "$B2"
expect_status "create loop2" 0
W start wbt-loop1
W start wbt-loop2
wait_until 10 has_line "$WORK/wbt-loop1.out" looping
expect_eq "state running" running "$(status_of wbt-loop1)"

W list --format json
if jq -e '[.[] | select(.id == "wbt-loop1" or .id == "wbt-loop2") | .status] == ["running", "running"]' \
    <<<"$OUT" >/dev/null 2>&1; then
    pass "list --format json shows both, running"
else
    fail "list --format json: exit $RC: $OUT $ERR"
fi
W list -q
expect_eq "list -q" "wbt-loop1 wbt-loop2" "$(sort <<<"$OUT" | tr '\n' ' ' | sed 's/ $//')"
W list
expect_match "list (table) names loop1" 'wbt-loop1.*running' "$OUT"

pid1=$(cat "$WORK/wbt-loop1.pid" 2>/dev/null)
W ps --format json wbt-loop1
if jq -e --argjson p "${pid1:-0}" 'type == "array" and index($p) != null' <<<"$OUT" >/dev/null 2>&1; then
    pass "ps --format json lists the container process ($OUT)"
else
    fail "ps --format json: exit $RC: $OUT $ERR (pid $pid1)"
fi

W pause wbt-loop1
expect_status "pause" 0
expect_eq "state paused" paused "$(status_of wbt-loop1)"
st=$(awk '{ print $3 }' "/proc/$pid1/stat" 2>/dev/null)
sleep 0.3
cpu1=$(awk '{ print $14 + $15 }' "/proc/$pid1/stat" 2>/dev/null)
sleep 1
cpu2=$(awk '{ print $14 + $15 }' "/proc/$pid1/stat" 2>/dev/null)
expect_eq "no CPU used while paused (ticks $cpu1 -> $cpu2, state $st)" "$cpu1" "$cpu2"
W resume wbt-loop1
expect_status "resume" 0
expect_eq "state running after resume" running "$(status_of wbt-loop1)"

W update --memory 134217728 wbt-loop1
expect_status "update --memory 128 MiB" 0
if [ -f "/sys/fs/cgroup/memory$CG/wbt-loop1/memory.limit_in_bytes" ]; then
    expect_eq "cgroup v1 memory.limit_in_bytes after update" 134217728 \
        "$(cat "/sys/fs/cgroup/memory$CG/wbt-loop1/memory.limit_in_bytes")"
elif [ -f "/sys/fs/cgroup$CG/wbt-loop1/memory.max" ]; then
    expect_eq "cgroup v2 memory.max after update" 134217728 "$(cat "/sys/fs/cgroup$CG/wbt-loop1/memory.max")"
else
    fail "update: no memory cgroup for the container at $CG/wbt-loop1"
fi
echo '{"pids": {"limit": 50}}' >"$WORK/resources.json"
W update -r "$WORK/resources.json" wbt-loop1
expect_status "update -r resources.json (pids limit)" 0
pmax=$(cat "/sys/fs/cgroup/pids$CG/wbt-loop1/pids.max" "/sys/fs/cgroup$CG/wbt-loop1/pids.max" 2>/dev/null | head -n1)
expect_eq "pids.max after update" 50 "$pmax"

W exec wbt-loop1 /probe.wasm hello execd
expect_status "exec of a second module in a running container" 0
expect_eq "exec: output" "hello from wasm
arg[0]=/probe.wasm
arg[1]=hello
arg[2]=execd
execd=(unset)" "$OUT"
jq -n '{terminal: false, user: {uid: 0, gid: 0}, args: ["/probe.wasm", "exit", "5"], cwd: "/", env: []}' \
    >"$WORK/process.json"
W exec --process "$WORK/process.json" wbt-loop1
expect_status "exec --process process.json: exit code" 5

W delete wbt-loop2
if [ "$RC" -ne 0 ] && [ "$(status_of wbt-loop2)" = running ]; then
    pass "delete without --force of a running container fails: $ERR"
else
    fail "delete of a running container without --force: exit $RC, now $(status_of wbt-loop2)"
fi

t0=$(now)
W kill wbt-loop1 TERM
expect_status "kill TERM" 0
if wait_status wbt-loop1 stopped 5; then
    pass "stopped $(elapsed "$t0")s after kill TERM"
    W delete wbt-loop1
    expect_status "delete after kill" 0
else
    fail "kill TERM: still $(status_of wbt-loop1) after 5 s"
    W delete --force wbt-loop1
fi

pid2=$(cat "$WORK/wbt-loop2.pid" 2>/dev/null)
W delete --force wbt-loop2
expect_status "delete --force of a running container" 0
if wait_until 5 oci_gone "$pid2"; then pass "its process is gone"; else fail "process $pid2 still alive after delete --force"; fi
expect_eq "delete --force: state gone" gone "$(status_of wbt-loop2)"
for id in wbt-loop1 wbt-loop2; do
    if cgroup_exists "$CG/$id"; then fail "cgroup $CG/$id left"; else pass "cgroup $CG/$id removed"; fi
done

# kill --all signals every process of the container.
B=$(mkbundle killall '.process.args = ["/probe.wasm", "loop"]')
create wbt-killall "$B"
W start wbt-killall
wait_until 10 has_line "$WORK/wbt-killall.out" looping
W kill --all wbt-killall KILL
expect_status "kill --all KILL" 0
if wait_status wbt-killall stopped 5; then pass "kill --all: stopped"; else fail "kill --all: still $(status_of wbt-killall)"; fi
W delete --force wbt-killall

# Hooks get the state on stdin: createRuntime at create, poststop at delete.
B=$(mkbundle hooks)
jq --arg cr "$WORK/hook-create.json" --arg ps "$WORK/hook-poststop.json" '.hooks = {
    createRuntime: [{path: "/bin/sh", args: ["sh", "-c", "cat > \"$0\"", $cr]}],
    poststop: [{path: "/bin/sh", args: ["sh", "-c", "cat > \"$0\"", $ps]}]}' \
    "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
create wbt-hooks "$B"
expect_status "create with hooks" 0
expect_eq "createRuntime hook got the state" "wbt-hooks $(cat "$WORK/wbt-hooks.pid" 2>/dev/null)" \
    "$(jq -r '"\(.id) \(.pid)"' "$WORK/hook-create.json" 2>&1)"
W delete --force wbt-hooks
expect_eq "poststop hook ran at delete" "wbt-hooks" "$(jq -r .id "$WORK/hook-poststop.json" 2>&1)"

# Two creates of one id at the same time: exactly one wins.
B=$(mkbundle race '.process.args = ["/probe.wasm", "loop"]')
for i in 1 2; do
    "$WASMBOX" --root "$ROOT" create --bundle "$B" --pid-file "$WORK/race$i.pid" wbt-race \
        >"$WORK/race$i.out" 2>"$WORK/race$i.err" </dev/null &
    rpid[i]=$!
done
wait "${rpid[1]}"
rc1=$?
wait "${rpid[2]}"
rc2=$?
if { [ $rc1 -eq 0 ] && [ $rc2 -ne 0 ]; } || { [ $rc1 -ne 0 ] && [ $rc2 -eq 0 ]; }; then
    pass "racing creates: exactly one wins ($rc1, $rc2)"
    loser=$([ $rc1 -ne 0 ] && echo 1 || echo 2)
    expect_match "the other says it exists" 'exist' "$(cat "$WORK/race$loser.err")"
else
    fail "racing creates: exit statuses $rc1 and $rc2: $(cat "$WORK/race1.err" "$WORK/race2.err")"
fi
expect_eq "racing creates: state created" created "$(status_of wbt-race)"
W delete --force wbt-race
expect_status "delete --force of a created container" 0

# =========================================================================
echo "=== bad bundles"

# bad NAME REGEX [VAR=VALUE...]: create must fail (not crash) with REGEX in
# stderr and in an error line of the json log, leaving nothing behind.
bad() {
    local name=$1 re=$2 id=wbt-bad-$1 log=$WORK/bad-$1.log b=$WORK/bundles/bad-$1 msg
    shift 2
    local mounts_before
    mounts_before=$(mounts_naming "$WORK")
    : >"$log"
    env "$@" timeout 60 "$WASMBOX" --root "$ROOT" --log "$log" --log-format json create \
        --bundle "$b" --pid-file "$WORK/$id.pid" "$id" >"$WORK/$id.out" 2>"$WORK/$id.err" </dev/null
    RC=$?
    ERR=$(cat "$WORK/$id.err")
    if crashed; then
        fail "$name: crashed (exit $RC): $ERR"
    elif [ "$RC" -eq 0 ]; then
        fail "$name: create succeeded"
        timeout 20 "$WASMBOX" --root "$ROOT" delete --force "$id" >/dev/null 2>&1
        wait_until 5 oci_gone "$(cat "$WORK/$id.pid" 2>/dev/null)"
    elif ! grep -qiE -- "$re" <<<"$ERR"; then
        fail "$name: stderr does not match /$re/: $ERR"
    else
        pass "$name: exit $RC: $(head -n1 <<<"$ERR")"
    fi
    msg=$(jq -r 'select(.level == "error") | .msg' "$log" 2>/dev/null)
    if ! jq -e . "$log" >/dev/null 2>&1; then
        fail "$name: the --log file is not JSON lines: $(head -c 300 "$log")"
    elif grep -qiE -- "$re" <<<"$msg"; then
        pass "$name: in the json log: $(head -n1 <<<"$msg")"
    else
        fail "$name: no error line matching /$re/ in the json log: $(head -c 300 "$log")"
    fi
    if [ -e "$ROOT/$id" ]; then fail "$name: state folder $ROOT/$id left behind"; fi
    if cgroup_exists "$CG/$id"; then fail "$name: cgroup $CG/$id left behind"; fi
    if [ "$(mounts_naming "$WORK")" != "$mounts_before" ]; then
        fail "$name: mounts left behind: $(grep -F "$WORK" /proc/self/mountinfo | awk '{ print $5 }' | tr '\n' ' ')"
    fi
    local p
    p=$(cat "$WORK/$id.pid" 2>/dev/null)
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then fail "$name: container process $p left running"; fi
}

# mkbad NAME [JQ_FILTER]: bundle bad-NAME.
mkbad() { mkbundle "bad-$1" "${2:-.}" >/dev/null; }

mkbad noconfig
rm -f "$WORK/bundles/bad-noconfig/config.json"
bad noconfig 'config\.json'

mkbad badjson
printf '{"ociVersion": "1.0.2", "process": {"args": [' >"$WORK/bundles/bad-badjson/config.json"
bad badjson 'config\.json'

mkbad noargs 'del(.process.args)'
bad noargs 'args'

mkbad emptyargs '.process.args = []'
bad emptyargs 'args'

mkbad noentry '.process.args = ["/nothere.wasm"] | .annotations["run.oci.handler"] = "wasm"'
bad noentry 'nothere\.wasm'

mkbad notwasm '.process.args = ["/lhello"] | del(.annotations)'
bad notwasm 'runtime|runc|/nonexistent|not (a )?wasm' WASMBOX_LINUX_RUNTIME=/nonexistent

mkbad markednotwasm '.process.args = ["/lhello"] | .annotations["run.oci.handler"] = "wasm"'
bad markednotwasm 'not a (WebAssembly|Wasm)|asm'

mkbad badmodule '.process.args = ["/bad.wasm"]'
bad badmodule 'bad\.wasm|invalid|malformed|section|length'

mkbad relcwd '.process.cwd = "work"'
bad relcwd 'cwd'

mkbad outcwd '.process.cwd = "/../../outside"'
bad outcwd 'cwd'

mkbad mountesc '.mounts += [{"destination": "/data/../../escape", "type": "bind",
    "source": "/tmp", "options": ["rbind", "rw"]}]'
bad mountesc 'mounts|destination|\.\.'

mkbad badcap '.process.capabilities = {"bounding": ["CAP_BOGUS"], "effective": ["CAP_BOGUS"],
    "permitted": ["CAP_BOGUS"]}'
bad badcap 'CAP_BOGUS'

mkbad badid '.'
id_err=$(timeout 20 "$WASMBOX" --root "$ROOT" create --bundle "$WORK/bundles/bad-badid" "../escape" 2>&1 </dev/null)
id_rc=$?
if [ $id_rc -ne 0 ] && [ ! -e "$WORK/escape" ]; then
    pass "container id '../escape' refused: $id_err"
else
    fail "container id '../escape': exit $id_rc: $id_err"
fi

# =========================================================================
echo "=== nothing left behind"
left=$(ls -A "$ROOT" 2>/dev/null | tr '\n' ' ')
expect_eq "--root is empty" "" "$left"
expect_eq "no container cgroups below $CG" 0 "$(cgroup_dirs_under "$CG")"
expect_eq "no mounts of the work folder" 0 "$(mounts_naming "$WORK")"
stray=$(pgrep -f "$WORK/bundles" | tr '\n' ' ')
expect_eq "no process left from the bundles" "" "$stray"

finish
