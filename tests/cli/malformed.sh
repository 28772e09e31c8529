#!/bin/bash
# malformed.sh - wasmbox must reject bad input cleanly: exit 1, an error
# line starting with "wasmbox: ", and never a crash (a signal, a timeout or
# a sanitizer report). Inputs: every prefix of a valid module, bad LEB128,
# absurd counts and sizes, deterministic random bytes and mutations of a
# valid module, an empty file, a missing file, a directory, non-Wasm files.
source "$(dirname "$0")/../lib.sh"
need wat2wasm
need wasm-objdump
need od

SEED=$WORK/sections.wasm
wat2wasm --debug-names "$SRC/sections.wat" -o "$SEED"
F=$WORK/input.wasm

# sane_outcome VERB WHAT: after `wb VERB F`, anything but a crash, and
# exit 0 or 1 (or 134 for a trap while running). Counts quietly; reports
# only failures, as most inputs are checked by the thousand.
CHECKED=0
sane_outcome() {
    CHECKED=$((CHECKED + 1))
    if crashed; then
        fail "$2: wasmbox $1 crashed (exit $RC): $ERR"
        cp "$F" "$WORK/crash-$CHECKED.wasm"
        return 1
    fi
    case "$RC" in
        0) return 0 ;;
        1 | 134)
            if [[ "$ERR" != "wasmbox: "* ]]; then
                fail "$2: wasmbox $1 error does not start with 'wasmbox: ': $ERR"
                return 1
            fi
            if [ "$RC" -eq 134 ] && [ "$1" != run ]; then
                fail "$2: wasmbox $1 exited 134"
                return 1
            fi
            return 0 ;;
        *)
            fail "$2: wasmbox $1 exited $RC: $ERR"
            cp "$F" "$WORK/odd-$CHECKED.wasm"
            return 1 ;;
    esac
}

# must_reject WHAT: both verbs exit 1 with a wasmbox: error on F.
must_reject() {
    local verb ok=1
    for verb in validate run; do
        wb "$verb" "$F"
        if ! sane_outcome "$verb" "$1"; then
            ok=0
        elif [ "$RC" -ne 1 ]; then
            fail "$1: wasmbox $verb accepted it (exit $RC)"
            ok=0
        fi
    done
    [ "$ok" -eq 0 ] || pass "$1: $(head -n1 <<<"$ERR")"
}

# Writes the bytes given as decimal numbers to F.
write_bytes() {
    local fmt
    # printf -v formats all bytes at once without a subshell per byte.
    printf -v fmt '\\x%02x' "$@"
    printf "$fmt" >"$F"
}

HEADER='\x00asm\x01\x00\x00\x00'

# --- files that are not modules at all
: >"$F"
must_reject "empty file"
rm -f "$WORK/missing.wasm"
F=$WORK/missing.wasm
wb validate "$F"
expect_error "validate a missing file" "*missing.wasm: No such file or directory*"
wb run "$F"
expect_error "run a missing file" "*missing.wasm: No such file or directory*"
mkdir -p "$WORK/adir.wasm"
F=$WORK/adir.wasm
wb validate "$F"
expect_error "validate a directory" "*adir.wasm: Is a directory*"
wb run "$F"
expect_error "run a directory" "*adir.wasm: Is a directory*"
F=$WORK/input.wasm
echo "hello, world" >"$F"
must_reject "a text file"
cp "$WASMBOX" "$F"
must_reject "an ELF executable"
printf '\x00asm\x02\x00\x00\x00' >"$F"
must_reject "wrong version"
printf '\x00asm\x01\x00\x00' >"$F"
must_reject "truncated version"
printf '\x00ASM\x01\x00\x00\x00' >"$F"
must_reject "wrong magic"
printf "${HEADER}"'\x7f\x00' >"$F"
must_reject "unknown section id"
printf "${HEADER}"'\x01\x01\x00\x01\x01\x00' >"$F"
must_reject "type section twice"
printf "${HEADER}"'\x03\x01\x00\x01\x01\x00' >"$F"
must_reject "sections out of order"

# --- bad LEB128
printf "${HEADER}"'\x01\x80\x80\x80\x80\x80\x00' >"$F"
must_reject "section size LEB128 longer than 5 bytes"
printf "${HEADER}"'\x01\x80' >"$F"
must_reject "section size LEB128 cut off at end of file"
printf "${HEADER}"'\x01\x05\xff\xff\xff\xff\x7f' >"$F"
must_reject "count LEB128 with bits beyond 32"
# (func (result i32) i32.const <6-byte LEB>)
printf "${HEADER}"'\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x0b\x01\x09\x00\x41\x80\x80\x80\x80\x80\x00\x0b' >"$F"
must_reject "i32.const LEB128 too long"
# (func (result i64) i64.const <11-byte LEB>)
printf "${HEADER}"'\x01\x05\x01\x60\x00\x01\x7e\x03\x02\x01\x00\x0a\x10\x01\x0e\x00\x42\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00\x0b' >"$F"
must_reject "i64.const LEB128 too long"
# (func (result i32) i32.const <5-byte LEB whose last byte overflows i32>)
printf "${HEADER}"'\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x0a\x01\x08\x00\x41\xff\xff\xff\xff\x4f\x0b' >"$F"
must_reject "i32.const LEB128 with unused bits set"

# --- absurd counts and sizes: must fail fast, without huge allocations
printf "${HEADER}"'\x01\x05\xff\xff\xff\xff\x0f' >"$F"
must_reject "type section claiming 0xFFFFFFFF entries"
printf "${HEADER}"'\x02\x05\xff\xff\xff\xff\x0f' >"$F"
must_reject "import section claiming 0xFFFFFFFF entries"
printf "${HEADER}"'\x03\x05\xff\xff\xff\xff\x0f' >"$F"
must_reject "function section claiming 0xFFFFFFFF entries"
printf "${HEADER}"'\x0a\x05\xff\xff\xff\xff\x0f' >"$F"
must_reject "code section claiming 0xFFFFFFFF entries"
printf "${HEADER}"'\x0b\x05\xff\xff\xff\xff\x0f' >"$F"
must_reject "data section claiming 0xFFFFFFFF entries"
printf "${HEADER}"'\x01\xff\xff\xff\xff\x0f\x00' >"$F"
must_reject "section size 0xFFFFFFFF"
printf "${HEADER}"'\x00\x06\xff\xff\xff\xff\x0f\x00' >"$F"
must_reject "custom section name length 0xFFFFFFFF"
printf "${HEADER}"'\x05\x08\x01\x01\xff\xff\xff\xff\x0f\x00' >"$F"
must_reject "memory of 0xFFFFFFFF pages"
# one function whose body declares 0xFFFFFFFF locals
printf "${HEADER}"'\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x0a\x01\x08\x01\xff\xff\xff\xff\x0f\x7f\x0b' >"$F"
must_reject "0xFFFFFFFF locals"
# two local groups adding up to more than 2^32
printf "${HEADER}"'\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x10\x01\x0e\x02\xff\xff\xff\xff\x0f\x7f\xff\xff\xff\xff\x0f\x7e\x0b' >"$F"
must_reject "local counts overflowing 32 bits"
# br_table claiming 0xFFFFFFFF targets
printf "${HEADER}"'\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x0c\x01\x0a\x00\x41\x00\x0e\xff\xff\xff\xff\x0f\x0b' >"$F"
must_reject "br_table with 0xFFFFFFFF targets"
# a data segment claiming 0xFFFFFFFF bytes
printf "${HEADER}"'\x05\x03\x01\x00\x01\x0b\x0a\x01\x00\x41\x00\x0b\xff\xff\xff\xff\x0f' >"$F"
must_reject "data segment of 0xFFFFFFFF bytes"
# A table of 0xFFFFFFFF elements is valid, but instantiating it must fail
# cleanly against the engine's cap instead of allocating 32 GiB.
printf "${HEADER}"'\x04\x08\x01\x70\x00\xff\xff\xff\xff\x0f' >"$F"
wb validate "$F"
expect_status "a table of 0xFFFFFFFF elements is valid" 0
wb run "$F"
expect_error "instantiating a table of 0xFFFFFFFF elements" "wasmbox: *"

# --- every prefix of a valid module. A prefix that ends exactly at a
# section boundary may be a valid module itself; any other must be
# rejected. `run` must reject all: the module has no _start.
SIZE=$(stat -c %s "$SEED")
BOUNDS=" 8 "
for end in $(wasm-objdump -h "$SEED" | grep -o 'end=0x[0-9a-f]*' | cut -d= -f2); do
    BOUNDS+="$((end)) "
done
before=$FAILED
valid_prefixes=0
for ((len = 0; len < SIZE; len++)); do
    head -c "$len" "$SEED" >"$F"
    wb validate "$F"
    sane_outcome validate "prefix of $len bytes" || continue
    if [ "$RC" -eq 0 ]; then
        if [[ "$BOUNDS" != *" $len "* ]]; then
            fail "prefix of $len bytes (not at a section boundary) validated"
        fi
        valid_prefixes=$((valid_prefixes + 1))
    fi
    wb run "$F"
    sane_outcome run "prefix of $len bytes" || continue
    [ "$RC" -eq 1 ] || fail "run of a $len-byte prefix exited $RC"
done
[ "$FAILED" -ne "$before" ] ||
    pass "all $SIZE prefixes of a $SIZE-byte module rejected cleanly ($valid_prefixes end on a section boundary and are valid)"

# --- deterministic pseudo-random files; half start with a valid header so
# that they reach the section decoder.
RANDOM=20240613
before=$FAILED
for ((i = 0; i < 200; i++)); do
    len=$((RANDOM % 300 + 1))
    fmt=""
    [ $((i % 2)) -eq 0 ] && fmt=$HEADER
    for ((j = 0; j < len; j++)); do
        printf -v byte '\\x%02x' $((RANDOM % 256))
        fmt+=$byte
    done
    printf "$fmt" >"$F"
    wb validate "$F"
    sane_outcome validate "random file $i" || continue
    wb run "$F"
    sane_outcome run "random file $i" || continue
done
[ "$FAILED" -ne "$before" ] || pass "200 random files handled without a crash"

# --- mutations of the valid module: 1 to 4 bytes replaced. When validate
# rejects one, run must reject it too, with the same message.
mapfile -t SEED_BYTES < <(od -An -v -tu1 "$SEED" | tr -s ' ' '\n' | grep -v '^$')
before=$FAILED
rejected=0
for ((i = 0; i < 200; i++)); do
    bytes=("${SEED_BYTES[@]}")
    for ((k = 0; k <= i % 4; k++)); do
        bytes[$((RANDOM % SIZE))]=$((RANDOM % 256))
    done
    write_bytes "${bytes[@]}"
    wb validate "$F"
    sane_outcome validate "mutation $i" || continue
    [ "$RC" -eq 0 ] && continue
    rejected=$((rejected + 1))
    verr=$ERR
    wb run "$F"
    sane_outcome run "mutation $i" || continue
    if [ "$RC" -ne 1 ] || [ "$ERR" != "$verr" ]; then
        fail "mutation $i: validate said [$verr] but run exited $RC with [$ERR]"
        cp "$F" "$WORK/mismatch-$i.wasm"
    fi
done
[ "$FAILED" -ne "$before" ] ||
    pass "200 mutations handled without a crash ($rejected rejected, with the same error from run)"

echo "checked $CHECKED outcomes"
finish
