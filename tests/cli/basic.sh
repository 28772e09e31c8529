#!/bin/bash
# basic.sh - the command line itself: help, version, unknown verbs and
# options, missing operands.
source "$(dirname "$0")/../lib.sh"

for flag in --help -h help; do
    wb "$flag"
    expect_status "wasmbox $flag" 0
    if [[ "$OUT" == *"run"* && "$OUT" == *"validate"* && "$OUT" == *"--invoke"* ]]; then
        pass "wasmbox $flag lists the verbs and their flags"
    else
        fail "wasmbox $flag output: $OUT"
    fi
done

wb --version
expect_status "wasmbox --version" 0
expect_eq "version text" "wasmbox 0.1.0" "$OUT"

wb help run
expect_status "wasmbox help run" 0
[[ "$OUT" == "usage: wasmbox run"* ]] && pass "help run shows run's usage" ||
    fail "help run: $OUT"
wb run --help
expect_status "wasmbox run --help" 0
wb validate -h
expect_status "wasmbox validate -h" 0

usage_error() {
    local what=$1 pattern=$2
    shift 2
    wb "$@"
    if [ "$RC" -eq 2 ] && [[ "$ERR" == $pattern ]]; then
        pass "$what: $ERR"
    else
        fail "$what: expected exit 2 and [$pattern], got $RC: $ERR"
    fi
}
usage_error "no verb" "wasmbox: no verb given*"
usage_error "unknown verb" "wasmbox: unknown verb 'frobnicate'*" frobnicate x.wasm
usage_error "unknown global option" "wasmbox: unknown option '--frob'*" --frob
usage_error "help for an unknown verb" "wasmbox: unknown verb 'nope'*" help nope
usage_error "run without a module" "wasmbox: run: no module given*" run
usage_error "validate without a file" "wasmbox: validate: no file given*" validate
usage_error "validate with an unknown option" "wasmbox: validate: unknown option*" validate --x a.wasm

finish
