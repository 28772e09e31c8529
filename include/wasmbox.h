/*
 * wasmbox.h - the public embedding API of the wasmbox WebAssembly engine.
 *
 * Objects and ownership (modelled on the standard wasm.h):
 *
 *   wb_engine    configuration shared by everything created from it.
 *                Owned by the caller: wb_engine_new / wb_engine_delete.
 *                Must outlive every module and store made from it.
 *   wb_module    a decoded and fully validated module. Immutable once made;
 *                may be instantiated many times, in many stores.
 *                Owned by the caller: wb_module_new / wb_module_delete.
 *                Must outlive every instance made from it. The module keeps
 *                its own copy of the bytes it was made from.
 *   wb_store     owns every runtime object: instances, functions, memories,
 *                tables and globals. wb_store_delete frees all of them at
 *                once; there is no way to free one of them earlier. Pointers
 *                to those objects stay valid until the store is deleted.
 *                A store and everything in it is used by one thread at a time.
 *   wb_linker    resolves imports by (module, name). Owned by the caller;
 *                holds borrowed pointers into one store.
 *
 * Strings passed in are borrowed for the duration of the call and copied if
 * kept. Strings handed out (names of imports and exports) are borrowed from
 * the module or store that returned them and share its lifetime.
 *
 * Errors: every function that can fail returns a wb_status (WB_OK is 0) and,
 * when the caller passes a non-NULL wb_error, fills it. The error record is
 * owned by the caller and needs no cleanup: it never holds allocated memory.
 *
 * Out of memory inside the library is reported as WB_ERR_NOMEM, never abort().
 */
#ifndef WASMBOX_H
#define WASMBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WB_VERSION_STRING "0.1.0"

/* ---------------------------------------------------------------- errors */

typedef enum wb_status {
    WB_OK = 0,
    WB_ERR_MALFORMED,   /* the bytes are not a well-formed binary module */
    WB_ERR_INVALID,     /* well-formed, but fails validation */
    WB_ERR_UNSUPPORTED, /* uses a feature this build does not implement */
    WB_ERR_LINK,        /* an import is missing or has an incompatible type */
    WB_ERR_TRAP,        /* execution trapped; see wb_error.trap */
    WB_ERR_EXIT,        /* the guest asked to exit; see wb_error.exit_code */
    WB_ERR_NOMEM,       /* an allocation or reservation failed */
    WB_ERR_ARG,         /* the caller passed a bad argument */
    WB_ERR_IO           /* a file could not be read or written */
} wb_status;

typedef enum wb_trap {
    WB_TRAP_NONE = 0,
    WB_TRAP_UNREACHABLE,            /* "unreachable" */
    WB_TRAP_INT_DIV_ZERO,           /* "integer divide by zero" */
    WB_TRAP_INT_OVERFLOW,           /* "integer overflow" */
    WB_TRAP_INVALID_CONVERSION,     /* "invalid conversion to integer" */
    WB_TRAP_OOB_MEMORY,             /* "out of bounds memory access" */
    WB_TRAP_OOB_TABLE,              /* "out of bounds table access" */
    WB_TRAP_UNDEFINED_ELEMENT,      /* "undefined element" */
    WB_TRAP_UNINITIALIZED_ELEMENT,  /* "uninitialized element" */
    WB_TRAP_INDIRECT_CALL_MISMATCH, /* "indirect call type mismatch" */
    WB_TRAP_STACK_EXHAUSTED,        /* "call stack exhausted" */
    WB_TRAP_OUT_OF_FUEL,            /* "all fuel consumed" */
    WB_TRAP_INTERRUPTED,            /* "interrupted" */
    WB_TRAP_HOST,                   /* a host function failed; see message */
    WB_TRAP_COUNT
} wb_trap;

/* The spec's wording for a trap code (static string, never NULL). */
const char *wb_trap_message(wb_trap trap);
/* A short static name for a status ("malformed module", ...). */
const char *wb_status_name(wb_status status);

#define WB_NO_OFFSET UINT64_MAX
#define WB_NO_INDEX UINT32_MAX

typedef struct wb_error {
    wb_status status;
    wb_trap trap;          /* when status == WB_ERR_TRAP */
    int exit_code;         /* when status == WB_ERR_EXIT */
    /* Where: for decode/validation errors the byte offset in the module; for
     * traps the byte offset of the trapping instruction in the module (its
     * function body), or WB_NO_OFFSET when unknown. */
    uint64_t offset;
    uint32_t func_index;   /* function involved, or WB_NO_INDEX */
    char func_name[64];    /* its name from the name section or export, or "" */
    char message[256];     /* human-readable, spec wording first */
} wb_error;

/* Clears an error record to WB_OK. */
void wb_error_clear(wb_error *err);
/* Formats the whole error on one line ("trap: unreachable in func $f
 * (#3) at 0x1a2"), into buf; returns buf. */
const char *wb_error_format(const wb_error *err, char *buf, size_t size);

/* ----------------------------------------------------------------- types */

typedef enum wb_valtype {
    WB_I32 = 0x7F,
    WB_I64 = 0x7E,
    WB_F32 = 0x7D,
    WB_F64 = 0x7C,
    WB_V128 = 0x7B,
    WB_FUNCREF = 0x70,
    WB_EXTERNREF = 0x6F
} wb_valtype;

typedef enum wb_externkind {
    WB_EXTERN_FUNC = 0,
    WB_EXTERN_TABLE = 1,
    WB_EXTERN_MEMORY = 2,
    WB_EXTERN_GLOBAL = 3
} wb_externkind;

const char *wb_valtype_name(wb_valtype t);

/* A function type. The arrays are borrowed: from the module or store when
 * handed out, from the caller when passed in (then copied). */
typedef struct wb_functype {
    uint32_t nparams, nresults;
    const wb_valtype *params;
    const wb_valtype *results;
} wb_functype;

typedef struct wb_limits {
    uint64_t min;
    uint64_t max; /* valid when has_max */
    bool has_max;
} wb_limits;

typedef struct wb_globaltype {
    wb_valtype type;
    bool mutable_;
} wb_globaltype;

typedef struct wb_tabletype {
    wb_valtype elem; /* WB_FUNCREF or WB_EXTERNREF */
    wb_limits limits;
} wb_tabletype;

/* Memory limits are in 64 KiB pages. */
typedef struct wb_memorytype {
    wb_limits limits;
} wb_memorytype;

typedef struct wb_func wb_func;
typedef struct wb_table wb_table;
typedef struct wb_memory wb_memory;
typedef struct wb_global wb_global;

/* A value. References: funcref holds a wb_func* (NULL is ref.null);
 * externref holds an opaque host pointer (NULL is ref.null). */
typedef struct wb_val {
    wb_valtype type;
    union {
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        wb_func *func;
        void *ref;
        uint8_t v128[16];
    } of;
} wb_val;

#define WB_VAL_I32(x) ((wb_val){.type = WB_I32, .of.i32 = (x)})
#define WB_VAL_I64(x) ((wb_val){.type = WB_I64, .of.i64 = (x)})
#define WB_VAL_F32(x) ((wb_val){.type = WB_F32, .of.f32 = (x)})
#define WB_VAL_F64(x) ((wb_val){.type = WB_F64, .of.f64 = (x)})

typedef struct wb_extern {
    wb_externkind kind;
    union {
        wb_func *func;
        wb_table *table;
        wb_memory *memory;
        wb_global *global;
    } of;
} wb_extern;

/* ---------------------------------------------------------------- engine */

typedef struct wb_config {
    /* Cap on every linear memory, in 64 KiB pages (at most 65536).
     * memory.grow beyond it returns -1. */
    uint32_t max_memory_pages;
    /* Cap on every table's element count. */
    uint32_t max_table_elems;
    /* Deepest nesting of Wasm calls before "call stack exhausted". */
    uint32_t max_call_depth;
    /* Size of the value stack, in 8-byte slots, per store. */
    uint32_t value_stack_slots;
} wb_config;

typedef struct wb_engine wb_engine;

/* Fills cfg with the defaults. */
void wb_config_default(wb_config *cfg);
/* cfg may be NULL for the defaults; it is copied. */
wb_status wb_engine_new(const wb_config *cfg, wb_engine **out, wb_error *err);
void wb_engine_delete(wb_engine *engine);

/* ---------------------------------------------------------------- module */

typedef struct wb_module wb_module;

/* Decodes and validates bytes[0..len). The bytes are copied. */
wb_status wb_module_new(wb_engine *engine, const uint8_t *bytes, size_t len,
                        wb_module **out, wb_error *err);
/* The same without the copy: the module takes bytes (from malloc) and
 * frees them, on failure too. */
wb_status wb_module_new_owned(wb_engine *engine, uint8_t *bytes, size_t len,
                              wb_module **out, wb_error *err);
/* Decodes and validates without keeping anything. */
wb_status wb_module_validate(wb_engine *engine, const uint8_t *bytes,
                             size_t len, wb_error *err);
void wb_module_delete(wb_module *module);

typedef struct wb_importdesc {
    const char *module; /* NUL-terminated, borrowed from the module */
    const char *name;
    size_t module_len, name_len; /* names may contain NUL bytes */
    wb_externkind kind;
    union {
        wb_functype func;
        wb_tabletype table;
        wb_memorytype memory;
        wb_globaltype global;
    } type;
} wb_importdesc;

typedef struct wb_exportdesc {
    const char *name; /* NUL-terminated, borrowed from the module */
    size_t name_len;
    wb_externkind kind;
    uint32_t index; /* in the module's index space for that kind */
    union {
        wb_functype func;
        wb_tabletype table;
        wb_memorytype memory;
        wb_globaltype global;
    } type;
} wb_exportdesc;

size_t wb_module_import_count(const wb_module *module);
bool wb_module_import(const wb_module *module, size_t i, wb_importdesc *out);
size_t wb_module_export_count(const wb_module *module);
bool wb_module_export(const wb_module *module, size_t i, wb_exportdesc *out);
/* Name of function `index` from the name section, or NULL. */
const char *wb_module_func_name(const wb_module *module, uint32_t index);

/* ----------------------------------------------------------------- store */

typedef struct wb_store wb_store;

wb_status wb_store_new(wb_engine *engine, wb_store **out, wb_error *err);
void wb_store_delete(wb_store *store);
/* Limits execution to `fuel` units (roughly one per call and loop
 * iteration); exhaustion traps with WB_TRAP_OUT_OF_FUEL. 0 = unlimited. */
void wb_store_set_fuel(wb_store *store, uint64_t fuel);
uint64_t wb_store_fuel_left(const wb_store *store);
/* Asks running code to trap with WB_TRAP_INTERRUPTED at its next call or
 * loop iteration. Async-signal-safe; may be called from another thread. */
void wb_store_interrupt(wb_store *store);

/* ------------------------------------------------------------- functions */

typedef struct wb_caller wb_caller;

/* A host function. args has nparams values, results room for nresults
 * (types as in the function's type). Return WB_OK, or fail by returning the
 * status of wb_caller_trap / wb_caller_exit. */
typedef wb_status (*wb_host_func)(wb_caller *caller, void *env,
                                  const wb_val *args, wb_val *results);

/* Creates a host function in the store. The type is copied. `finalizer`,
 * if not NULL, is called with env when the store is deleted. */
wb_status wb_func_new(wb_store *store, const wb_functype *type,
                      wb_host_func fn, void *env, void (*finalizer)(void *),
                      wb_func **out, wb_error *err);
wb_functype wb_func_type(const wb_func *func);
/* Calls func. nargs/nresults must match its type. On a trap, returns
 * WB_ERR_TRAP and fills err (trap code, function, offset). */
wb_status wb_func_call(wb_store *store, wb_func *func, const wb_val *args,
                       size_t nargs, wb_val *results, size_t nresults,
                       wb_error *err);

/* Inside a host function: the memory 0 of the calling instance (or NULL),
 * and its instance. */
wb_memory *wb_caller_memory(wb_caller *caller);
struct wb_instance *wb_caller_instance(wb_caller *caller);
wb_store *wb_caller_store(wb_caller *caller);
/* Records a host trap with a message and returns WB_ERR_TRAP. */
wb_status wb_caller_trap(wb_caller *caller, const char *message);
/* Records a request to exit with `code` and returns WB_ERR_EXIT. */
wb_status wb_caller_exit(wb_caller *caller, int code);

/* -------------------------------------------------------------- memories */

wb_status wb_memory_new(wb_store *store, const wb_memorytype *type,
                        wb_memory **out, wb_error *err);
wb_memorytype wb_memory_type(const wb_memory *mem);
/* Base of linear memory. Stays valid across growth. */
uint8_t *wb_memory_data(wb_memory *mem);
/* Current size in bytes and in pages. */
size_t wb_memory_size(const wb_memory *mem);
uint32_t wb_memory_pages(const wb_memory *mem);
/* Grows by delta pages; on success stores the old page count. */
wb_status wb_memory_grow(wb_memory *mem, uint32_t delta, uint32_t *old_pages);

/* ---------------------------------------------------------------- tables */

/* init is the value of every new element (a reference of the elem type). */
wb_status wb_table_new(wb_store *store, const wb_tabletype *type, wb_val init,
                       wb_table **out, wb_error *err);
wb_tabletype wb_table_type(const wb_table *table);
uint32_t wb_table_size(const wb_table *table);
bool wb_table_get(const wb_table *table, uint32_t index, wb_val *out);
bool wb_table_set(wb_table *table, uint32_t index, wb_val val);
wb_status wb_table_grow(wb_table *table, uint32_t delta, wb_val init,
                        uint32_t *old_size);

/* --------------------------------------------------------------- globals */

wb_status wb_global_new(wb_store *store, const wb_globaltype *type,
                        wb_val init, wb_global **out, wb_error *err);
wb_globaltype wb_global_type(const wb_global *global);
void wb_global_get(const wb_global *global, wb_val *out);
/* Fails with WB_ERR_ARG when immutable or the type differs. */
wb_status wb_global_set(wb_global *global, wb_val val);

/* ------------------------------------------------------------- instances */

typedef struct wb_instance wb_instance;

/* Instantiates module in store. imports[i] satisfies the module's i-th
 * import (wb_module_import order). Runs the start function. On failure
 * nothing is returned; objects already made stay in the store. */
wb_status wb_instance_new(wb_store *store, const wb_module *module,
                          const wb_extern *imports, size_t nimports,
                          wb_instance **out, wb_error *err);
/* Looks up an export by name. */
bool wb_instance_export(const wb_instance *inst, const char *name,
                        wb_extern *out);
size_t wb_instance_export_count(const wb_instance *inst);
/* The i-th export and its name (borrowed from the module). */
bool wb_instance_export_nth(const wb_instance *inst, size_t i,
                            const char **name, wb_extern *out);
const wb_module *wb_instance_module(const wb_instance *inst);

/* ----------------------------------------------------------- native code */

/* Native code comes from the ahead-of-time compiler (wasmbox_aot.h, a
 * separate library). An artifact is sealed with a key private to the
 * host before it is stored, and loaded only when its seal verifies. */
#define WB_NATIVE_KEY_SIZE 32

/* Appends the integrity tag (HMAC-SHA256 with key) to an artifact; *out
 * is malloc'd. */
wb_status wb_native_seal(const uint8_t *artifact, size_t len, const uint8_t *key,
                         size_t key_len, uint8_t **out, size_t *out_len, wb_error *err);
/* Attaches a sealed artifact to module: later instances run native code.
 * Everything is checked first: the tag (skipped when key is NULL: the
 * caller vouches for the bytes), the module it was made from, engine and
 * ABI versions, CPU features, every offset. On failure (WB_ERR_MALFORMED,
 * a message saying why) the module is unchanged and keeps interpreting.
 * Instances made while the store meters fuel still interpret: only the
 * interpreter counts fuel. */
wb_status wb_module_load_native(wb_module *module, const uint8_t *artifact, size_t len,
                                const uint8_t *key, size_t key_len, wb_error *err);
bool wb_module_is_native(const wb_module *module);

/* ---------------------------------------------------------------- linker */

typedef struct wb_linker wb_linker;

wb_status wb_linker_new(wb_store *store, wb_linker **out, wb_error *err);
void wb_linker_delete(wb_linker *linker);
/* Defines (module, name) -> ext. A later definition replaces an earlier. */
wb_status wb_linker_define(wb_linker *linker, const char *module,
                           const char *name, wb_extern ext);
/* Defines every export of inst under module name `module`. */
wb_status wb_linker_define_instance(wb_linker *linker, const char *module,
                                    const wb_instance *inst);
/* Defines a host function (wb_func_new + define), as an overload: a later
 * definition of the same name replaces an earlier one for imports of its
 * type only, so one name can be defined with several types and each
 * import links to the one of its own type. An import whose type fits none
 * fails with "incompatible import type" naming its type and those
 * defined. */
wb_status wb_linker_define_func(wb_linker *linker, const char *module,
                                const char *name, const wb_functype *type,
                                wb_host_func fn, void *env);
bool wb_linker_get(const wb_linker *linker, const char *module,
                   size_t module_len, const char *name, size_t name_len,
                   wb_extern *out);
/* Resolves every import of module (WB_ERR_LINK with "unknown import" or
 * "incompatible import type" when it cannot) and instantiates it. */
wb_status wb_linker_instantiate(wb_linker *linker, const wb_module *module,
                                wb_instance **out, wb_error *err);

#ifdef __cplusplus
}
#endif
#endif /* WASMBOX_H */
