#!/bin/bash
# test.sh - installs the dependencies, builds wasmbox and runs every test:
#   1. Release build in build/, all ctest tests (spec suite, CLI, unit);
#   2. AddressSanitizer + UndefinedBehaviorSanitizer build (clang-14) in
#      build-asan/, all ctest tests again;
#   3. a 60-second fuzz smoke run (scripts/fuzz.sh), when present;
#   4. the benchmark suite on small inputs (checksums only, no timing).
# Every step runs even when an earlier one failed, so one run shows every
# problem. The last line is "N passed, N failed" (ctest tests plus the fuzz
# and bench runs, a failed build counting as one failure); the exit status is non-zero
# when anything failed.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=2
passed=0
failed=0
failures=()

note_failure() {
    failed=$((failed + 1))
    failures+=("$1")
    echo "test.sh: FAILED: $1"
}

# Runs ctest in a build dir and adds its counts from the summary line
# ("NN% tests passed, F tests failed out of T").
run_ctest() {
    local dir=$1 log
    log=$(mktemp)
    ctest --test-dir "$dir" --output-on-failure 2>&1 | tee "$log"
    local status=${PIPESTATUS[0]}
    local line total bad
    line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
    rm -f "$log"
    if [ -z "$line" ]; then
        note_failure "ctest in $dir (no summary)"
        return
    fi
    total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
    bad=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
    passed=$((passed + total - bad))
    failed=$((failed + bad))
    # Passing tests print nothing under ctest; show the suites' own counts.
    grep -hE '^[0-9]+ passed, [0-9]+ failed' "$dir/Testing/Temporary/LastTest.log" 2>/dev/null |
        sed "s|^|  ($dir) suite: |"
    [ "$bad" -eq 0 ] || failures+=("$bad ctest test(s) in $dir")
    if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then
        note_failure "ctest in $dir (exit status $status)"
    fi
}

# build DIR CMAKE_ARGS...: configure and build; false on failure.
build() {
    local dir=$1
    shift
    echo "=== configure and build $dir"
    cmake -S "$root" -B "$dir" "$@" && cmake --build "$dir" -j"$jobs"
}

echo "=== setup"
if ! "$root/scripts/setup.sh"; then
    echo "test.sh: setup failed; trying with what is installed"
fi

if build build -DCMAKE_BUILD_TYPE=Release; then
    echo "=== tests (Release)"
    run_ctest build
else
    note_failure "Release build"
fi

# Sanitizers catch memory and UB errors the Release run cannot see. clang
# on both CC and the command line so that an old build dir switches over.
if CC=clang-14 build build-asan -DCMAKE_C_COMPILER=clang-14 \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWB_SANITIZE=ON; then
    echo "=== tests (ASan + UBSan)"
    run_ctest build-asan
else
    note_failure "ASan/UBSan build"
fi

if [ -f "$root/scripts/fuzz.sh" ]; then
    echo "=== fuzz smoke (60 s)"
    if bash "$root/scripts/fuzz.sh" 60; then
        passed=$((passed + 1))
    else
        note_failure "fuzz smoke"
    fi
fi

# The benchmark suite on its small inputs: every engine's checksums must
# match native's. A smoke test only: no timing is judged here.
echo "=== bench smoke (bench/run.sh --small)"
if bash "$root/bench/build.sh" "$root/build/bench" &&
    bash "$root/bench/run.sh" --small --out "$root/build/bench" --wasmbox "$root/build/wasmbox"; then
    passed=$((passed + 1))
else
    note_failure "bench smoke"
fi

echo "=== summary"
for f in "${failures[@]+"${failures[@]}"}"; do echo "failed: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
