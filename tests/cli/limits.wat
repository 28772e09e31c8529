;; limits.wat - functions for tests/cli/limits.sh: an endless loop, a
;; counted loop, growing memory and a table until refused, recursion.
(module
  (memory (export "memory") 1)
  (table $t 0 funcref)
  (func $spin (export "spin") (loop $l (br $l)))
  (func (export "count") (param $k i32) (result i32)
    (local $i i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $k)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $i))
  (func (export "grow") (result i32)
    (block $done (loop $l
      (br_if $done (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
      (br $l)))
    (memory.size))
  (func (export "grow_table") (result i32)
    (block $done (loop $l
      (br_if $done (i32.eq (table.grow $t (ref.null func) (i32.const 1)) (i32.const -1)))
      (br_if $done (i32.ge_u (table.size $t) (i32.const 100000)))
      (br $l)))
    (table.size $t))
  (func $rec (export "rec") (param $d i32) (result i32)
    (if (result i32) (i32.eqz (local.get $d)) (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $rec (i32.sub (local.get $d) (i32.const 1))))))))
