/*
 * module.h - the engine's in-memory form of a decoded module (internal).
 *
 * Produced by wm_decode (decode.c), checked by wm_validate (validate.c),
 * lowered function by function by lower.c, instantiated by runtime.c.
 *
 * Every index space (functions, tables, memories, globals) lists the
 * imported entries first, then the module's own, as the spec defines.
 * Pointers into the module's bytes (names, code bodies, data) point into
 * wm_module.bytes, which the module owns.
 */
#ifndef WM_MODULE_H
#define WM_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasmbox.h"

/* Value types use their binary encodings. */
enum {
    WM_I32 = 0x7F,
    WM_I64 = 0x7E,
    WM_F32 = 0x7D,
    WM_F64 = 0x7C,
    WM_V128 = 0x7B,
    WM_FUNCREF = 0x70,
    WM_EXTERNREF = 0x6F,
    /* Block type "empty" (0x40) and the validator's unknown type. */
    WM_BLOCK_EMPTY = 0x40,
    WM_UNKNOWN = 0x00
};

enum { WM_KIND_FUNC = 0, WM_KIND_TABLE = 1, WM_KIND_MEMORY = 2, WM_KIND_GLOBAL = 3 };

/* Implementation limits, checked by the decoder before allocating. */
#define WM_MAX_PAGES 65536u          /* 4 GiB of 64 KiB pages */
#define WM_MAX_LOCALS 50000u         /* per function, params included */
#define WM_MAX_FUNC_PARAMS 1000u
#define WM_MAX_FUNC_RESULTS 1000u
#define WM_MAX_TABLE_ELEMS 10000000u /* instantiation limit on table size */

typedef struct wm_name {
    const char *ptr; /* into wm_module.bytes, NOT NUL-terminated */
    uint32_t len;
} wm_name;

typedef struct wm_functype {
    uint32_t nparams, nresults;
    uint8_t *params;  /* nparams value types */
    uint8_t *results; /* nresults value types */
} wm_functype;

typedef struct wm_limits {
    uint64_t min, max;
    bool has_max;
} wm_limits;

typedef struct wm_tabletype {
    uint8_t elem; /* WM_FUNCREF or WM_EXTERNREF */
    wm_limits lim;
} wm_tabletype;

typedef struct wm_globaltype {
    uint8_t type;
    bool mut;
} wm_globaltype;

/* A constant expression, Wasm 2.0 form: exactly one instruction then end.
 * op is the instruction's opcode byte:
 *   0x41 i32.const, 0x42 i64.const, 0x43 f32.const, 0x44 f64.const
 *     -> value holds the bits (i32 sign-extended is fine; f32 bits in low 32)
 *   0x23 global.get -> index
 *   0xD0 ref.null   -> reftype holds WM_FUNCREF or WM_EXTERNREF
 *   0xD2 ref.func   -> index
 * offset is the byte offset of the expression in the module. */
typedef struct wm_constexpr {
    uint8_t op;
    uint8_t reftype;
    uint32_t index;
    uint64_t value;
    uint32_t offset;
} wm_constexpr;

typedef struct wm_import {
    wm_name module, name;
    uint8_t kind; /* WM_KIND_* */
    union {
        uint32_t functype; /* type index */
        wm_tabletype table;
        wm_limits mem;
        wm_globaltype global;
    } desc;
} wm_import;

typedef struct wm_export {
    wm_name name;
    uint8_t kind;
    uint32_t index;
} wm_export;

/* A run of locals of one type, as declared in the code section. */
typedef struct wm_localrun {
    uint32_t count;
    uint8_t type;
} wm_localrun;

/* A function defined by the module (not imported). */
typedef struct wm_code {
    uint32_t nlocals;        /* declared locals, params NOT included */
    uint32_t nruns;
    wm_localrun *runs;       /* nruns runs summing to nlocals */
    const uint8_t *body;     /* first instruction (after local decls) */
    const uint8_t *end;      /* one past the body's final `end` opcode */
    uint32_t body_offset;    /* byte offset of `body` in the module */
    uint32_t size_offset;    /* byte offset of the entry's size field */
} wm_code;

enum { WM_SEG_ACTIVE = 0, WM_SEG_PASSIVE = 1, WM_SEG_DECLARATIVE = 2 };

typedef struct wm_elem {
    uint8_t mode;       /* WM_SEG_* */
    uint8_t reftype;    /* WM_FUNCREF or WM_EXTERNREF */
    uint32_t table;     /* active only */
    wm_constexpr offset;/* active only; i32 expression */
    uint32_t count;
    wm_constexpr *items;/* count expressions: ref.func/ref.null/global.get */
} wm_elem;

typedef struct wm_data {
    uint8_t mode;       /* WM_SEG_ACTIVE or WM_SEG_PASSIVE */
    uint32_t mem;
    wm_constexpr offset;
    const uint8_t *bytes;
    uint32_t len;
} wm_data;

typedef struct wm_custom {
    wm_name name;
    const uint8_t *data;
    uint32_t len;
} wm_custom;

typedef struct wm_module {
    uint8_t *bytes; /* owned copy of the binary */
    size_t len;

    uint32_t ntypes;
    wm_functype *types;

    uint32_t nimports;
    wm_import *imports;

    /* Functions: func_types[i] is the type index of function i. */
    uint32_t nfuncs, nimported_funcs;
    uint32_t *func_types;
    wm_code *codes; /* nfuncs - nimported_funcs entries */

    uint32_t ntables, nimported_tables;
    wm_tabletype *tables;

    uint32_t nmems, nimported_mems;
    wm_limits *mems;

    uint32_t nglobals, nimported_globals;
    wm_globaltype *globals;
    wm_constexpr *global_inits; /* nglobals - nimported_globals entries */

    uint32_t nexports;
    wm_export *exports;

    bool has_start;
    uint32_t start;

    uint32_t nelems;
    wm_elem *elems;

    bool has_datacount;
    uint32_t datacount;
    uint32_t ndatas;
    wm_data *datas;

    uint32_t ncustoms;
    wm_custom *customs;

    /* From the "name" section (subsection 1), if present and well formed:
     * func_names[i] is the name of function i or {NULL, 0}. */
    wm_name *func_names; /* nfuncs entries, or NULL */

    /* Functions referenced outside function bodies (exports, elem segments,
     * global initialisers): the set C.refs that ref.func may name.
     * Computed by the decoder; nfuncs entries. */
    uint8_t *func_declared;

    /* Lowered code, one per defined function, filled lazily (lower.c). */
    struct wm_lowered **lowered;
} wm_module;

/* Error helpers shared by the engine phases (error.c). The message is
 * formatted printf-style; offset may be WB_NO_OFFSET. Always returns
 * `status` so callers can `return wm_fail(...)`. */
wb_status wm_fail(wb_error *err, wb_status status, uint64_t offset,
                  uint32_t func_index, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* decode.c: parses bytes[0..len) (which the module takes ownership of on
 * success AND on failure) into a new module. Malformed input gives
 * WB_ERR_MALFORMED with the byte offset and a spec-worded message.
 * Checks that need no code validation (section order, counts, limits on
 * sizes, UTF-8 names, function/code count match, data count match) are
 * done here. */
wb_status wm_decode(uint8_t *bytes, size_t len, wm_module **out, wb_error *err);

/* validate.c: the full WebAssembly 2.0 validation of a decoded module,
 * including every function body. Malformed bodies give WB_ERR_MALFORMED,
 * type errors WB_ERR_INVALID, v128/SIMD WB_ERR_UNSUPPORTED. */
wb_status wm_validate(const wm_module *m, wb_error *err);

/* Frees a module and everything it owns (decode.c). Calls wm_lower_free
 * (lower.c) for the lowered code. */
void wm_module_free(wm_module *m);
void wm_lower_free(wm_module *m);

/* Type of function `func_index` (imported or defined). */
static inline const wm_functype *wm_func_type(const wm_module *m, uint32_t func_index) {
    return &m->types[m->func_types[func_index]];
}

#endif /* WM_MODULE_H */
