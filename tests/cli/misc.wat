;; misc.wat is not one module: invoke.sh cuts it at the ";; ---" lines
;; into small modules, each named by the comment that follows the cut.
;; --- returns.wasm: _start returns normally, so the exit status is 0
(module (func (export "_start")))
;; --- nostart.wasm: no _start at all
(module (func (export "main")))
;; --- badstart.wasm: _start with the wrong type
(module (func (export "_start") (param i32)))
;; --- starttrap.wasm: the start function traps during instantiation
(module (func $s unreachable) (start $s))
;; --- linkerr.wasm: an import nobody provides
(module (import "env" "missing" (func)) (func (export "_start")))
;; --- wrongsig.wasm: a WASI import with the wrong type
(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32)))
        (func (export "_start")))
;; --- nomemory.wasm: calls a WASI function that needs memory, has none
(module
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $f (param i32 i32) (result i32)))
  (func (export "_start") (drop (call $f (i32.const 0) (i32.const 4)))))
;; --- trapstart.wasm: _start divides by zero
(module (func (export "_start") (drop (i32.div_u (i32.const 1) (i32.const 0)))))
;; --- reactor.wasm: _initialize sets a global that the export returns
(module
  (global $g (mut i32) (i32.const 0))
  (func (export "_initialize") (global.set $g (i32.const 5)))
  (func (export "get") (result i32) (global.get $g)))
