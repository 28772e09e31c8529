#!/bin/bash
# aot.sh - the ahead-of-time compiler through the wasmbox binary: compile
# into the cache, run native code (--aot, the cached default, --interp),
# traps and limits in native code, and every way the cache refuses an
# artifact (flipped byte, truncation, another key, another module, a CPU
# it lacks, an unsafe key file) and then rebuilds it.
#   aot.sh WASMBOX TESTS_DIR WORK_DIR
source "$(dirname "$0")/../lib.sh"
need wat2wasm
need python3
export WASMBOX_CACHE_DIR=$WORK/cache
unset WASMBOX_AOT
wat2wasm "$SRC/cli/limits.wat" -o "$WORK/limits.wasm"
cat >"$WORK/traps.wat" <<'WAT'
(module
  (memory 1)
  (func $div (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "unreach") (unreachable))
  (func $deep (export "deep") (param i32) (result i32)
    (i32.add (call $deep (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "fma") (param f64 f64 f64) (result f64)
    (f64.add (f64.mul (local.get 0) (local.get 1)) (local.get 2))))
WAT
wat2wasm "$WORK/traps.wat" -o "$WORK/traps.wasm"

# cache_file MODULE: the one artifact of the module in the cache
cache_file() {
    local sum
    sum=$(sha256sum "$1" | cut -c1-64)
    ls "$WASMBOX_CACHE_DIR"/"$sum"-*.wbaot 2>/dev/null | head -n 1
}

# ---- compile and run ---------------------------------------------------------
wb compile "$WORK/traps.wasm"
expect_status "compile into the cache" 0
art=$(cache_file "$WORK/traps.wasm")
[ -n "$art" ] && pass "artifact named by the module's sha256: $(basename "$art")" || fail "no artifact in $WASMBOX_CACHE_DIR"
[ "$(stat -c %a "$WASMBOX_CACHE_DIR/key")" = 600 ] && pass "the host key is 0600" || fail "key mode $(stat -c %a "$WASMBOX_CACHE_DIR/key")"
wb cache ls
[[ $OUT == *"$(basename "$art")"* && $OUT == *"1 artifacts"* ]] && pass "cache ls lists it" || fail "cache ls: $OUT"

export WASMBOX_AOT_VERBOSE=1
wb run --invoke div "$WORK/traps.wasm" 7 2
expect_eq "native div" 3 "$OUT"
[[ $ERR == *"running native code"* ]] && pass "the cached default runs native code" || fail "not native: $ERR"
wb run --interp --invoke div "$WORK/traps.wasm" 7 2
[[ $OUT == 3 && $ERR != *"native code"* ]] && pass "--interp interprets" || fail "--interp: $OUT / $ERR"
wb run --invoke fma "$WORK/traps.wasm" 0.1 0.2 0.3
want=$(WASMBOX_AOT=off "$WASMBOX" run --invoke fma "$WORK/traps.wasm" 0.1 0.2 0.3)
expect_eq "f64 mul+add not fused (same bits as the interpreter)" "$want" "$OUT"

# ---- traps in native code ----------------------------------------------------
wb run --invoke div "$WORK/traps.wasm" 1 0
expect_status "div by zero traps" 134
[[ $ERR == *"integer divide by zero"*'$div'* || $ERR == *"integer divide by zero"*"div"* ]] && pass "trap names function: $ERR" || fail "trap message: $ERR"
iw=$(WASMBOX_AOT=off "$WASMBOX" run --invoke div "$WORK/traps.wasm" 1 0 2>&1 >/dev/null || true)
expect_eq "native trap message equals the interpreter's" "$iw" "$(grep -v 'running native' <<<"$ERR")"
wb run --invoke div "$WORK/traps.wasm" -2147483648 -1
[[ $RC == 134 && $ERR == *"integer overflow"* ]] && pass "INT_MIN / -1 traps" || fail "overflow: $RC $ERR"
wb run --invoke load "$WORK/traps.wasm" 65534
[[ $RC == 134 && $ERR == *"out of bounds memory access"* ]] && pass "out-of-bounds load traps (guard page)" || fail "oob: $RC $ERR"
wb run --invoke unreach "$WORK/traps.wasm"
[[ $RC == 134 && $ERR == *"unreachable"* ]] && pass "unreachable traps" || fail "unreachable: $RC $ERR"
WASMBOX_AOT_VERBOSE=0 wb run --invoke deep "$WORK/traps.wasm" 0
if crashed; then fail "deep recursion crashed: $RC $ERR"; else
    [[ $RC == 134 && $ERR == *"call stack exhausted"* ]] && pass "deep recursion: call stack exhausted" || fail "deep: $RC $ERR"
fi

wb compile "$WORK/limits.wasm"
wb run --timeout 300ms --invoke spin "$WORK/limits.wasm"
[[ $RC == 124 && $ERR == *"native code"* ]] && pass "--timeout stops a native endless loop (124)" || fail "timeout: $RC $ERR"
wb run --max-memory 1MiB --invoke grow "$WORK/limits.wasm"
[[ $OUT == 16 && $ERR == *"native code"* ]] && pass "--max-memory caps memory.grow in native code (16 pages)" || fail "max-memory: $OUT $ERR"
wb run --invoke rec "$WORK/limits.wasm" 100000
expect_eq "recursion 100000 deep runs natively" 100000 "$OUT"
wb run --fuel 1000 --invoke spin "$WORK/limits.wasm"
[[ $RC == 134 && $ERR == *"fuel"* && $ERR != *"running native"* ]] && pass "--fuel interprets (fuel is the interpreter's)" || fail "fuel: $RC $ERR"
wb run --aot --fuel 1000 --invoke spin "$WORK/limits.wasm"
[[ $ERR == *"interpreter only"* ]] && pass "--aot with --fuel says it interprets" || fail "aot+fuel: $ERR"

# ---- refusals ----------------------------------------------------------------
refused() { # WHAT PATTERN: the next cached run refuses, interprets, removes it
    wb run --invoke div "$WORK/traps.wasm" 9 3
    if crashed; then fail "$1: crashed: $ERR"; return; fi
    if [[ $OUT == 3 && $ERR == *"native code refused"*$2* && $ERR != *"running native"* ]] && [ -z "$(cache_file "$WORK/traps.wasm")" ]; then
        pass "$1: refused, interpreted, removed"
    else
        fail "$1: out=$OUT err=$ERR"
    fi
    wb run --aot --invoke div "$WORK/traps.wasm" 9 3
    [[ $OUT == 3 && $ERR == *"running native"* ]] && pass "$1: --aot rebuilt it" || fail "$1: rebuild: $ERR"
}
art=$(cache_file "$WORK/traps.wasm")
python3 - "$art" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); b[len(b) // 2] ^= 1; open(p, 'wb').write(b)
PY
refused "flipped byte" "integrity tag"
art=$(cache_file "$WORK/traps.wasm")
truncate -s 100 "$art"
refused "truncated" "truncated"
art=$(cache_file "$WORK/traps.wasm")
head -c 50 "$art" > "$art.tmp" && mv "$art.tmp" "$art"
refused "cut inside the header" "truncated"
# Re-sealed with the right key but changed inside: the checks after the tag.
reseal() { # ARTIFACT PYTHON-EXPR-ON-b
    python3 - "$1" "$WASMBOX_CACHE_DIR/key" "$2" <<'PY'
import sys, hmac, hashlib, struct
p, keyp, expr = sys.argv[1:4]
b = bytearray(open(p, 'rb').read()[:-32]); key = open(keyp, 'rb').read()
exec(expr)
open(p, 'wb').write(bytes(b) + hmac.new(key, bytes(b), hashlib.sha256).digest())
PY
}
art=$(cache_file "$WORK/traps.wasm")
# header: magic 8, format 4, abi 4, sha 32, engine 16, cpu 32, features 8 (offset 96)
reseal "$art" "b[96:104] = struct.pack('<Q', 0xFFFFFFFF)"
refused "needs CPU features this machine lacks (foreign CPU)" "CPU features"
art=$(cache_file "$WORK/traps.wasm")
reseal "$art" "b[16] ^= 0xFF"
refused "made from another module" "another module"
art=$(cache_file "$WORK/traps.wasm")
reseal "$art" "b[12] ^= 1"
refused "another engine ABI" "ABI"
art=$(cache_file "$WORK/traps.wasm")
cp "$WASMBOX_CACHE_DIR/key" "$WORK/key.saved"
head -c 32 /dev/urandom > "$WASMBOX_CACHE_DIR/key"
refused "sealed with another host's key" "integrity tag"
chmod 644 "$WASMBOX_CACHE_DIR/key"
wb run --aot --invoke div "$WORK/traps.wasm" 9 3
[[ $OUT == 3 && $ERR == *"readable by others"* ]] && pass "a key readable by others is refused (interpreted)" || fail "key mode: $OUT $ERR"
chmod 600 "$WASMBOX_CACHE_DIR/key"

# ---- concurrency, missing compiler, clean --------------------------------------
"$WASMBOX" cache clean >/dev/null
for i in 1 2 3 4; do "$WASMBOX" compile -q "$WORK/traps.wasm" & done
okc=0
for j in $(jobs -p); do wait "$j" && okc=$((okc + 1)); done
wb run --invoke div "$WORK/traps.wasm" 8 2
[[ $okc == 4 && $OUT == 4 && $ERR == *"running native"* ]] && pass "4 concurrent compiles of one module: all succeed, one valid artifact" || fail "concurrent: ok=$okc out=$OUT err=$ERR"
[ -z "$(ls -A "$WASMBOX_CACHE_DIR" | grep '^\.tmp')" ] && pass "no temporary files left" || fail "leftovers: $(ls -A "$WASMBOX_CACHE_DIR")"
"$WASMBOX" cache clean >/dev/null
WASMBOX_AOTC=/nonexistent/wasmbox-aotc wb run --aot --invoke div "$WORK/traps.wasm" 8 2
[[ $OUT == 4 && $ERR == *"not installed"* ]] && pass "no compiler: --aot says so and interprets" || fail "no compiler: $OUT $ERR"
printf '\0asm\1\0\0\0\1\5\1\x60\0' > "$WORK/bad.wasm"
wb compile "$WORK/bad.wasm"
expect_error "compile of a malformed module" "*bad.wasm*"
wb cache clean
[[ $OUT == *"removed"* ]] && pass "cache clean" || fail "clean: $OUT"
WASMBOX_CACHE_MAX=1 wb compile "$WORK/traps.wasm"
[ -z "$(cache_file "$WORK/traps.wasm")" ] && pass "the size cap trims the cache" || fail "cap not applied"

# ---- a WASI program natively -------------------------------------------------
if command -v clang-14 >/dev/null && [ -f /usr/lib/wasm32-wasi/libc.a ]; then
    clang-14 --target=wasm32-wasi --sysroot=/usr -O2 -o "$WORK/hello.wasm" "$SRC/cli/hello.c" 2>/dev/null || true
fi
if [ -f "$WORK/hello.wasm" ]; then
    want=$("$WASMBOX" run --interp "$WORK/hello.wasm" a b 2>/dev/null || true)
    wb run --aot "$WORK/hello.wasm" a b
    [[ $ERR == *"running native"* && "$OUT" == "$want" ]] && pass "WASI hello runs natively, same output" || fail "hello: $OUT / $ERR"
else
    echo "note: no wasm32-wasi C toolchain; the WASI check is skipped"
fi
finish
