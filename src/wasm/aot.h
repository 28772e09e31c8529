/*
 * aot.h - the contract between the ahead-of-time compiler (src/aot/) and
 * the runtime's loader (aot_load.c) (internal).
 *
 * Compiled code is position-independent x86-64 code that refers to no
 * symbol outside itself. Each defined Wasm function becomes a native
 * function `ret f(wm_aot_ctx *ctx, params...)` (several results: a
 * struct). It reaches everything of its instance through ctx, whose
 * layout is below, and calls back into the runtime only through
 * ctx->helpers. The compiler reads field offsets from this header, and
 * the artifact records a fingerprint of them (WM_AOT_ABI), which the
 * loader compares with its own: code built against another layout is
 * refused.
 *
 * An artifact (written by the compiler, tagged and checked by the
 * runtime) is:
 *
 *   wm_aot_header
 *   u32 func_offsets[nfuncs - nimported_funcs]   (UINT32_MAX: not exported
 *                                                 from the image)
 *   u32 entry_offsets[ntypes]                     (the C-to-Wasm entry of
 *                                                  each module type)
 *   u32 relative[nrelative]    (image offsets of 8-byte words to which the
 *                               load address is added)
 *   wm_aot_sym syms[nsyms]     (every compiled function: code offset, size
 *                               and Wasm index; for profilers and traps)
 *   image: code (code_size bytes, padded to the page), then read-only
 *          data (rodata_size bytes)
 *   u8 tag[32]                 (HMAC-SHA256 of everything before it,
 *                               with the host's key)
 *
 * All integers are little-endian.
 */
#ifndef WM_AOT_H
#define WM_AOT_H

#include <stddef.h>
#include <stdint.h>

#include "runtime.h"

#define WM_AOT_MAGIC "\0wbaot\r\n"  /* 8 bytes; not a Wasm or ELF header */
#define WM_AOT_FORMAT 1u
#define WM_AOT_TAG_SIZE 32u
#define WM_AOT_PAGE 4096u
/* The loader maps at most this much code and data. */
#define WM_AOT_MAX_IMAGE ((uint64_t)1 << 30)

/* Compile flags, recorded in the artifact and part of the cache key. */
enum {
    WM_AOT_FLAG_STRICT_FP = 1u << 0, /* every float op constrained */
    WM_AOT_FLAG_O0 = 1u << 1,        /* no optimisation (debugging) */
    WM_AOT_FLAG_O1 = 1u << 2,        /* default<O1>; neither: O2 */
    WM_AOT_FLAG_O3 = 1u << 3
};

typedef struct wm_aot_header {
    char magic[8];
    uint32_t format;          /* WM_AOT_FORMAT */
    uint32_t abi;             /* WM_AOT_ABI of the compiler */
    uint8_t module_sha256[32];/* of the Wasm bytes compiled */
    char engine[16];          /* WB_VERSION_STRING, NUL-padded */
    char cpu[32];             /* LLVM's name of the target CPU */
    uint64_t features;        /* WM_CPU_* the code needs (wm_aot_cpu) */
    uint32_t flags;           /* WM_AOT_FLAG_* */
    uint32_t llvm_major;
    uint32_t nfuncs;          /* defined functions */
    uint32_t ntypes;
    uint32_t nrelative;
    uint32_t code_size;       /* bytes of code; rodata starts at the next page */
    uint32_t rodata_size;
    uint32_t nsyms;
} wm_aot_header;

typedef struct wm_aot_sym {
    uint32_t offset, size, func;
} wm_aot_sym;

/* CPU features that change which instructions the compiler may use. */
enum {
    WM_CPU_SSE3 = 1u << 0, WM_CPU_SSSE3 = 1u << 1, WM_CPU_SSE41 = 1u << 2,
    WM_CPU_SSE42 = 1u << 3, WM_CPU_POPCNT = 1u << 4, WM_CPU_AVX = 1u << 5,
    WM_CPU_AVX2 = 1u << 6, WM_CPU_BMI1 = 1u << 7, WM_CPU_BMI2 = 1u << 8,
    WM_CPU_LZCNT = 1u << 9, WM_CPU_FMA = 1u << 10, WM_CPU_MOVBE = 1u << 11,
    WM_CPU_AVX512F = 1u << 12, WM_CPU_AVX512BW = 1u << 13,
    WM_CPU_AVX512DQ = 1u << 14, WM_CPU_AVX512VL = 1u << 15,
    WM_CPU_F16C = 1u << 16
};

/* The instance context every compiled function receives first. */
typedef struct wm_aot_ctx wm_aot_ctx;

/* "where": a function index in the high 32 bits, the byte offset of the
 * instruction in the module in the low ones. */
typedef uint64_t wm_aot_where;

/* The runtime services compiled code calls. Helpers that can trap take
 * `where`; they never return when they trap. */
typedef struct wm_aot_helpers {
    void (*trap)(wm_aot_ctx *ctx, uint32_t trap, wm_aot_where where, uint32_t detail);
    /* Calls f (host or interpreted) with arguments in io; results are
     * written back to io. */
    void (*call)(wm_aot_ctx *ctx, wb_func *f, wm_slot *io, wm_aot_where where);
    int32_t (*memory_grow)(wm_aot_ctx *ctx, uint32_t delta);
    void (*memory_init)(wm_aot_ctx *ctx, uint32_t seg, uint32_t d, uint32_t s, uint32_t n,
                        wm_aot_where where);
    void (*data_drop)(wm_aot_ctx *ctx, uint32_t seg);
    void (*memory_copy)(wm_aot_ctx *ctx, uint32_t d, uint32_t s, uint32_t n, wm_aot_where where);
    void (*memory_fill)(wm_aot_ctx *ctx, uint32_t d, uint32_t v, uint32_t n, wm_aot_where where);
    void (*table_init)(wm_aot_ctx *ctx, uint32_t table, uint32_t seg, uint32_t d, uint32_t s,
                       uint32_t n, wm_aot_where where);
    void (*elem_drop)(wm_aot_ctx *ctx, uint32_t seg);
    void (*table_copy)(wm_aot_ctx *ctx, uint32_t dt, uint32_t st, uint32_t d, uint32_t s,
                       uint32_t n, wm_aot_where where);
    void *(*table_get)(wm_aot_ctx *ctx, uint32_t table, uint32_t i, wm_aot_where where);
    void (*table_set)(wm_aot_ctx *ctx, uint32_t table, uint32_t i, void *v, wm_aot_where where);
    int32_t (*table_grow)(wm_aot_ctx *ctx, uint32_t table, void *init, uint32_t n);
    void (*table_fill)(wm_aot_ctx *ctx, uint32_t table, uint32_t i, void *v, uint32_t n,
                       wm_aot_where where);
} wm_aot_helpers;

/* Helper slots, in the order above (the compiler indexes the table). */
enum {
    WM_H_TRAP, WM_H_CALL, WM_H_MEMORY_GROW, WM_H_MEMORY_INIT, WM_H_DATA_DROP,
    WM_H_MEMORY_COPY, WM_H_MEMORY_FILL, WM_H_TABLE_INIT, WM_H_ELEM_DROP,
    WM_H_TABLE_COPY, WM_H_TABLE_GET, WM_H_TABLE_SET, WM_H_TABLE_GROW,
    WM_H_TABLE_FILL, WM_H_COUNT
};

struct wm_aot_ctx {
    uint8_t *mem_base;                 /* memory 0, or NULL; never moves */
    wb_memory *mem;                    /* memory 0 (pages: its size) */
    wb_global **globals;               /* value at offset 0 of each */
    wb_table **tables;
    wb_func **funcs;                   /* imported ones first */
    const uint32_t *type_ids;          /* canonical id of each module type */
    /* The lowest stack pointer allowed. It doubles as the interrupt flag:
     * wb_store_interrupt sets it to UINTPTR_MAX, so the check every
     * function entry and loop header makes anyway fails, and the trap
     * helper tells the two apart (ex->interrupt). A copy of the store's
     * (wm_exec.stack_limit) in every context, so that a check is one
     * compare with memory at a fixed offset of the context register;
     * wm_aot_set_limit and wb_store_interrupt update them all. */
    volatile uintptr_t stack_limit;
    wm_aot_ctx *next;                  /* the store's contexts (wm_exec.aot_ctxs) */
    const wm_aot_helpers *helpers;
    wb_instance *inst;
    wm_exec *exec;
};

/* Offsets the compiler builds into code; their fingerprint must match. */
#define WM_AOT_ABI_FIELDS(X)                                                  \
    X(offsetof(wm_aot_ctx, mem_base)) X(offsetof(wm_aot_ctx, mem))            \
    X(offsetof(wm_aot_ctx, globals)) X(offsetof(wm_aot_ctx, tables))          \
    X(offsetof(wm_aot_ctx, funcs)) X(offsetof(wm_aot_ctx, type_ids))          \
    X(offsetof(wm_aot_ctx, stack_limit))                                      \
    X(offsetof(wm_aot_ctx, helpers)) X(sizeof(wm_aot_helpers))                \
    X(offsetof(wb_memory, pages)) X(offsetof(wb_global, val))                 \
    X(offsetof(wb_table, elems)) X(offsetof(wb_table, size))                  \
    X(offsetof(wb_func, type_id)) X(offsetof(wb_func, aot_code))              \
    X(offsetof(wb_func, aot_vmctx)) X(sizeof(wm_slot))                         \
    X(WM_H_COUNT) X(sizeof(wm_aot_header))

/* Artifact ABI version: bump when the calling convention changes in a way
 * the offsets above do not show. */
#define WM_AOT_ABI_VERSION 4u

static inline uint32_t wm_aot_abi(void) {
    uint32_t h = 2166136261u ^ WM_AOT_ABI_VERSION;
#define WM_AOT_MIX(v) h = (h ^ (uint32_t)(v)) * 16777619u;
    WM_AOT_ABI_FIELDS(WM_AOT_MIX)
#undef WM_AOT_MIX
    return h;
}

/* The features of the CPU this process runs on (aot_load.c). */
uint64_t wm_aot_cpu(void);
/* SHA-256 and HMAC-SHA256 (aot_load.c; also the cache's names). */
void wm_aot_sha256(const uint8_t *data, size_t len, uint8_t out[32]);
bool wm_aot_hmac(const uint8_t *data, size_t len, const uint8_t *key, size_t key_len, uint8_t out[32]);

#endif /* WM_AOT_H */
