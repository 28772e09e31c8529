/*
 * wasmbox_aot.h - the ahead-of-time compiler (libwasmbox_aot, LLVM).
 *
 * The compiler is a library of its own, linked into the `wasmbox-aotc`
 * binary and into tests; the runtime (libwasmbox, the `wasmbox` binary)
 * never links LLVM. It turns a Wasm module into an artifact of native
 * x86-64 code for the CPU it runs on. The runtime seals the artifact with
 * a key private to the host (wb_native_seal, wasmbox.h) and loads only
 * sealed artifacts whose tag verifies (wb_module_load_native).
 */
#ifndef WASMBOX_AOT_H
#define WASMBOX_AOT_H

#include "wasmbox.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wb_aot_options {
    /* 0..3; 2 by default (LLVM's default<O2>). */
    int opt_level;
    /* Every float operation as a constrained (strict) LLVM operation:
     * exact sNaN handling even through inlining, somewhat slower. The
     * default constrains only the operations LLVM could fold away. */
    bool strict_fp;
    /* Target CPU: NULL for the host's. */
    const char *cpu;
} wb_aot_options;

void wb_aot_options_default(wb_aot_options *opt);

/* Compiles bytes[0..len) (which must decode and validate) into a new
 * unsealed artifact in *out (malloc'd; the caller frees it). */
wb_status wb_aot_compile(const uint8_t *bytes, size_t len, const wb_aot_options *opt,
                         uint8_t **out, size_t *out_len, wb_error *err);

/* The cache-key part that depends on the compiler: LLVM's major version
 * and the target description, e.g. "llvm16 x86-64 znver3 +sse4.1,...". */
const char *wb_aot_target(void);

#ifdef __cplusplus
}
#endif
#endif /* WASMBOX_AOT_H */
