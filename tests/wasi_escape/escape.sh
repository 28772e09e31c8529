#!/bin/bash
# escape.sh WASMBOX SRCDIR WORKDIR - the WASI sandbox escape tests.
#
# Builds escape.c for wasm32-wasi, lays out a host tree with a preopened
# "rw", "ro" and "other" beside an "outside" folder holding a canary, and:
#   1. runs every attack class (escape.wasm checks) - with openat2 and with
#      the manual-walk fallback (WASMBOX_WASI_NO_OPENAT2=1);
#   2. runs the race: the guest opens rw/swap/canary.txt 20000 times while
#      a background loop swaps rw/swap for symlinks to the outside folder
#      (relative and absolute) and to /etc - again with both resolvers;
#   3. checks that nothing outside the preopens changed (canary content,
#      file list) and that the read-only tree is intact.
# Exits 77 (skipped) when clang-14 cannot build for wasm32-wasi.
set -u
WB=$1
SRC=$2
WORK=$3
CC=${CC_WASM:-clang-14}
rm -rf "$WORK"
mkdir -p "$WORK"
fails=0
pass() { echo "PASS: $*"; }
fail() { echo "FAILED: $*"; fails=$((fails + 1)); }

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "SKIP: $CC not found"
    exit 77
fi
if ! "$CC" --target=wasm32-wasi --sysroot=/usr -O2 "$SRC/escape.c" -o "$WORK/escape.wasm" \
        2>"$WORK/cc.err"; then
    cat "$WORK/cc.err"
    echo "SKIP: cannot build for wasm32-wasi"
    exit 77
fi
pass "compiled escape.c"

T=$WORK/tree
setup() {
    rm -rf "$T"
    mkdir -p "$T/outside" "$T/rw/dir" "$T/rw/swap" "$T/ro/sub" "$T/other"
    printf 'SECRET-OUTSIDE\n' > "$T/outside/secret.txt"
    printf 'OUTSIDE-CANARY\n' > "$T/outside/canary.txt"
    ln -s ../rw/file.txt "$T/outside/link"
    printf 'inside\n' > "$T/rw/file.txt"
    printf 'INSIDE\n' > "$T/rw/swap/canary.txt"
    ln -s /etc/passwd "$T/rw/abs_link"
    ln -s ../outside/secret.txt "$T/rw/rel_out"
    ln -s ../outside "$T/rw/rel_out_dir"
    ln -s "$T/outside" "$T/rw/abs_dir"
    ln -s ../../outside/secret.txt "$T/rw/dir/deep_out"
    ln -s dir/../file.txt "$T/rw/in_link"
    ln -s loop2 "$T/rw/loop1"
    ln -s loop1 "$T/rw/loop2"
    ln -s self_loop "$T/rw/self_loop"
    ln -s file.txt "$T/rw/file_link"
    printf 'readonly\n' > "$T/ro/data.txt"
    (cd "$T" && find outside ro -printf '%p %s %T@\n' | sort; cat outside/*.txt ro/data.txt) \
        > "$WORK/before.txt"
}
# Nothing outside rw/other may change; the ro tree neither.
check_untouched() {
    (cd "$T" && find outside ro -printf '%p %s %T@\n' | sort; cat outside/*.txt ro/data.txt) \
        > "$WORK/after.txt"
    if cmp -s "$WORK/before.txt" "$WORK/after.txt"; then
        pass "$1: outside folder and read-only tree unchanged"
    else
        fail "$1: something outside the sandbox changed:"
        diff "$WORK/before.txt" "$WORK/after.txt"
    fi
}

run_guest() {
    "$WB" run --dir "$T/rw::rw" --dir "$T/ro::ro:ro" --dir "$T/other::other" \
        "$WORK/escape.wasm" "$@"
}

for mode in openat2 fallback; do
    if [ $mode = fallback ]; then export WASMBOX_WASI_NO_OPENAT2=1; else unset WASMBOX_WASI_NO_OPENAT2; fi
    setup
    run_guest checks > "$WORK/checks-$mode.txt" 2>&1
    rc=$?
    cat "$WORK/checks-$mode.txt"
    if [ $rc -eq 0 ]; then
        pass "$mode: every attack class refused with the expected errno"
    else
        fail "$mode: attack checks (exit $rc)"
    fi
    check_untouched "$mode checks"
    [ -f "$T/other/moved.txt" ] && [ -f "$T/rw/linked.txt" ] && [ ! -e "$T/outside/x" ] \
        && pass "$mode: cross-preopen rename/link stayed inside" \
        || fail "$mode: cross-preopen rename/link"

    # The race: swap rw/swap for a symlink out and back, as fast as we can:
    # with python3 when there is one (thousands of swaps a second), else
    # with a bash loop of mv / ln -s. The swapper publishes its count in
    # WORK/swaps as it goes, so the test can wait for it to run and count
    # the swaps made while the guest ran, whatever the machine's load.
    setup
    rm -f "$WORK/stop" "$WORK/swaps"
    if command -v python3 >/dev/null 2>&1; then
        python3 - "$T/rw" "$T/outside" "$WORK" <<'PY' &
import os, sys
rw, outside, work = sys.argv[1:4]
os.chdir(rw)
targets = ["../outside", outside, "/etc"]
i = 0
while not os.path.exists(os.path.join(work, "stop")):
    try:
        os.rename("swap", "swap.real")
        os.symlink(targets[i % 3], "swap")
        os.unlink("swap")
        os.rename("swap.real", "swap")
    except OSError:
        pass
    i += 1
    if i % 64 == 0:
        with open(os.path.join(work, "swaps.tmp"), "w") as f:
            f.write(str(i))
        os.replace(os.path.join(work, "swaps.tmp"), os.path.join(work, "swaps"))
open(os.path.join(work, "swaps"), "w").write(str(i))
PY
    else
        (
            cd "$T/rw" || exit 1
            i=0
            while [ ! -e "$WORK/stop" ]; do
                case $((i % 3)) in
                    0) target=../outside ;;
                    1) target="$T/outside" ;;
                    2) target=/etc ;;
                esac
                mv swap swap.real 2>/dev/null && ln -s "$target" swap 2>/dev/null
                rm -f swap 2>/dev/null; mv swap.real swap 2>/dev/null
                i=$((i + 1))
                echo "$i" > "$WORK/swaps"
            done
        ) &
    fi
    swapper=$!
    swaps_now() { cat "$WORK/swaps" 2>/dev/null || echo 0; }
    # Wait (30 s at most) until the swapper is really swapping.
    for i in $(seq 1 300); do
        [ "$(swaps_now)" -ge 64 ] && break
        sleep 0.1
    done
    # Rounds of 20000 opens until at least 128 swaps happened during the
    # guest's runs (10 rounds at most): a loaded machine needs more rounds,
    # never a luckier one.
    : > "$WORK/race-$mode.txt"
    during=0
    rounds=0
    rc=0
    while [ $rounds -lt 10 ] && [ $during -lt 128 ] && [ $rc -eq 0 ]; do
        s0=$(swaps_now)
        run_guest race 20000 >> "$WORK/race-$mode.txt" 2>&1
        rc=$?
        during=$((during + $(swaps_now) - s0))
        rounds=$((rounds + 1))
    done
    touch "$WORK/stop"
    wait $swapper
    rm -f "$WORK/stop"
    cat "$WORK/race-$mode.txt"
    echo "swapper: $during swaps during $rounds round(s) of the guest, $(swaps_now) in all"
    if [ "$during" -lt 128 ]; then fail "$mode: race - the swapper barely ran during the guest ($during swaps in $rounds rounds)"; fi
    # The tree may be left mid-swap; put it back before comparing.
    if [ -d "$T/rw/swap.real" ]; then rm -f "$T/rw/swap"; mv "$T/rw/swap.real" "$T/rw/swap"; fi
    if [ $rc -eq 0 ]; then
        pass "$mode: race - $rounds x 20000 opens of swap/canary.txt never read the outside canary"
    else
        fail "$mode: race (exit $rc)"
    fi
    [ ! -e "$T/outside/written.txt" ] && [ ! -e /etc/written.txt ] \
        && pass "$mode: race - no file created outside" || fail "$mode: race - file created outside"
    check_untouched "$mode race"
done

if [ $fails -ne 0 ]; then
    echo "$fails failed"
    exit 1
fi
echo "all escape tests passed"
