# lib.sh - helpers shared by the test scripts (sourced, not run).
#
# Every script is called as: SCRIPT WASMBOX_BINARY SOURCE_DIR WORK_DIR
# It prints one line per check and exits non-zero when any check failed,
# or with 77 (ctest's "skipped") when a tool it needs is missing.

set -euo pipefail

if [ $# -lt 3 ]; then
    echo "usage: $0 WASMBOX SOURCE_DIR WORK_DIR" >&2
    exit 2
fi
WASMBOX=$1
SRC=$2
WORK=$3
rm -rf "$WORK"
mkdir -p "$WORK"

PASSED=0
FAILED=0

pass() {
    PASSED=$((PASSED + 1))
    echo "ok: $*"
}

fail() {
    FAILED=$((FAILED + 1))
    echo "FAILED: $*"
}

# Skips the whole script when a tool is missing.
need() {
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "skipped: '$1' is not installed (scripts/setup.sh installs it)"
        exit 77
    fi
}

# wb ARGS...: runs wasmbox with stdin from /dev/null and a time limit;
# sets OUT, ERR (contents) and RC (exit status).
# The caller's errexit setting is kept as it was.
wb() {
    local errexit=$-
    set +e
    timeout 60 "$WASMBOX" "$@" >"$WORK/.out" 2>"$WORK/.err" </dev/null
    RC=$?
    [[ $errexit == *e* ]] && set -e
    OUT=$(cat "$WORK/.out")
    ERR=$(cat "$WORK/.err")
}

# A crash shows up as a status above 128 (signal), 124 (timeout) or a
# sanitizer report (ASan exits 1 after printing its report).
crashed() {
    if [ "$RC" -eq 124 ] || { [ "$RC" -gt 128 ] && [ "$RC" -ne 134 ]; }; then
        return 0
    fi
    if [ "$RC" -eq 134 ] && [[ "$ERR" != "wasmbox: trap: "* ]]; then
        return 0 # a real SIGABRT, not our trap status
    fi
    case "$ERR" in
        *AddressSanitizer* | *LeakSanitizer* | *"runtime error:"* | *UndefinedBehaviorSanitizer*)
            return 0 ;;
    esac
    return 1
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
    if [ "$2" == "$3" ]; then
        pass "$1"
    else
        fail "$1: expected [$2], got [$3]"
    fi
}

# expect_status WHAT EXPECTED_RC: checks RC after wb.
expect_status() {
    if [ "$RC" -eq "$2" ]; then
        pass "$1 (exit $RC)"
    else
        fail "$1: expected exit $2, got $RC; stderr: $ERR"
    fi
}

# expect_error WHAT PATTERN: RC is 1 and stderr starts with "wasmbox: "
# and matches the glob PATTERN.
expect_error() {
    if crashed; then
        fail "$1: crashed (exit $RC): $ERR"
    elif [ "$RC" -ne 1 ]; then
        fail "$1: expected exit 1, got $RC; stderr: $ERR"
    elif [[ "$ERR" != "wasmbox: "* ]]; then
        fail "$1: error does not start with 'wasmbox: ': $ERR"
    elif [[ "$ERR" != $2 ]]; then
        fail "$1: error does not match '$2': $ERR"
    else
        pass "$1: $(head -n1 <<<"$ERR")"
    fi
}

finish() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}
