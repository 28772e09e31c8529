;; sections.wat - one module with every kind of section, the seed for
;; tests/cli/malformed.sh (its prefixes and mutations). It has no _start,
;; so `wasmbox run` on it fails cleanly; its start function does nothing.
(module
  (type $binop (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get"
    (func $random_get (param i32 i32) (result i32)))
  (table $t 2 funcref)
  (memory $m 1 2)
  (global $g (mut i32) (i32.const 7))
  (global $h i64 (i64.const -1))
  (export "add" (func $add))
  (export "mem" (memory $m))
  (export "tab" (table $t))
  (export "g" (global $g))
  (start $init)
  (elem (i32.const 0) $add $sum)
  (func $init)
  (func $add (type $binop)
    (i32.add (local.get 0) (local.get 1)))
  (func $sum (param $n i32) (result i32) (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $acc))
  (func $pick (param i32) (result i32)
    (block $a (block $b (block $c
      (br_table $a $b $c (local.get 0)))
      (return (i32.const 3)))
      (return (i32.const 2)))
    (i32.const 1))
  (func $mem (result i32)
    (memory.init $d (i32.const 0) (i32.const 0) (i32.const 4))
    (i32.store offset=4 (i32.const 0) (call_indirect (type $binop)
      (i32.const 2) (i32.const 3) (i32.const 0)))
    (drop (call $random_get (i32.const 16) (i32.const 8)))
    (global.set $g (i32.load (i32.const 4)))
    (f64.lt (f64.const 1.5) (f64.convert_i32_s (memory.size))))
  (data $d "wasm")
  (data (i32.const 100) "box")
)
