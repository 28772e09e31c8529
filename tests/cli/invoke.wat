;; invoke.wat - exports for tests/cli/invoke.sh: `wasmbox run --invoke`
;; argument parsing and result printing for every number type, multiple
;; results, references, traps and exits.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "mem") 1)
  (global (export "answer") i32 (i32.const 42))

  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "add64") (param i64 i64) (result i64)
    (i64.add (local.get 0) (local.get 1)))
  (func (export "addf") (param f32 f32) (result f32)
    (f32.add (local.get 0) (local.get 1)))
  (func (export "addd") (param f64 f64) (result f64)
    (f64.add (local.get 0) (local.get 1)))

  (func (export "id32") (param i32) (result i32) (local.get 0))
  (func (export "id64") (param i64) (result i64) (local.get 0))
  (func (export "idf") (param f32) (result f32) (local.get 0))
  (func (export "idd") (param f64) (result f64) (local.get 0))
  ;; The bits of a float, to check what the parser produced.
  (func (export "bitsf") (param f32) (result i32) (i32.reinterpret_f32 (local.get 0)))
  (func (export "bitsd") (param f64) (result i64) (i64.reinterpret_f64 (local.get 0)))

  (func (export "tenth") (result f32) (f32.const 0.1))
  (func (export "tenth64") (result f64) (f64.const 0.1))
  (func (export "third") (result f64) (f64.div (f64.const 1) (f64.const 3)))
  (func (export "thirdf") (result f32) (f32.div (f32.const 1) (f32.const 3)))
  (func (export "nanf") (result f32) (f32.const nan))
  (func (export "negnan") (result f64) (f64.const -nan))
  (func (export "nanpayload") (result f32) (f32.const nan:0x200000))
  (func (export "inf") (result f64) (f64.const inf))
  (func (export "neginf") (result f32) (f32.const -inf))
  (func (export "negzero") (result f64) (f64.const -0))

  (func (export "swap") (param i32 i64) (result i64 i32)
    (local.get 1) (local.get 0))
  (func (export "multi") (result i32 i64 f32 f64)
    (i32.const -1) (i64.const 9007199254740993) (f32.const 1.5) (f64.const 2.25))
  (func (export "none"))

  (func $target)
  (elem declare func $target)
  (func (export "nullref") (result funcref) (ref.null func))
  (func (export "someref") (result funcref) (ref.func $target))
  (func (export "isnull") (param externref) (result i32) (ref.is_null (local.get 0)))

  (func (export "div") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  (func (export "boom") (unreachable))
  (func (export "oob") (result i32) (i32.load (i32.const 70000)))
  (func $recurse (export "recurse") (call $recurse))
  (func (export "exit") (param i32) (call $proc_exit (local.get 0)))
)
