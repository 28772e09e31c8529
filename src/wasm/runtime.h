/*
 * runtime.h - runtime objects, lowered code and the executor (internal).
 *
 * The public opaque types of wasmbox.h are defined here. Every runtime
 * object belongs to exactly one store, which frees it.
 */
#ifndef WM_RUNTIME_H
#define WM_RUNTIME_H

#include <setjmp.h>
#include <signal.h>

#include "module.h"

/* One value-stack slot. Every Wasm value (except v128, not supported yet)
 * fits one slot; each instruction reads the member of its operand type. */
typedef union wm_slot {
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    float f32;
    double f64;
    void *ref;
} wm_slot;

/* Lowered code is a sequence of 32-bit words: an opcode word (an index into
 * the interpreter's dispatch table) followed by its operands, which are slot
 * numbers relative to the frame pointer, immediates, or absolute word
 * indices of branch targets. The formats are listed in lower.h. */
typedef uint32_t wm_word;

typedef struct wm_lowered {
    wm_word *code;
    uint32_t ncode;
    uint32_t nparams;  /* slots 0..nparams-1 hold the arguments */
    uint32_t nlocals;  /* params + declared locals: slots zeroed on entry */
    uint32_t nresults; /* returned in slots 0..nresults-1 */
    uint32_t nslots;   /* frame size: locals + deepest operand stack */
    /* Sorted pairs (word index of an instruction, its byte offset in the
     * module) for trap reporting. */
    uint32_t npcmap;
    uint32_t *pcmap;
} wm_lowered;

struct wb_engine {
    wb_config config;
};

struct wb_module {
    wb_engine *engine;
    wm_module *m;
    /* NUL-terminated copies of import/export names (names may contain NUL
     * bytes; the lengths are the real ones). */
    char **import_modules, **import_names, **export_names;
    char **func_names; /* from the name section; NULL entries if unnamed */
    wb_functype *functypes; /* public view of each type ... */
    wb_valtype *valtypes;   /* ... whose arrays all live in this buffer */
    struct wm_aot_image *aot; /* native code (aot_load.c), or NULL */
};

struct wb_func {
    uint32_t type_id;         /* store-wide canonical type id */
    const wm_functype *type;  /* owned by the module or the store */
    wb_functype pub;          /* public view; arrays owned by the module, or
                               * by this function when it is a host one */
    wb_instance *inst;        /* NULL for host functions */
    uint32_t index;           /* function index within inst's module */
    wm_lowered *code;         /* NULL until first call (lazy lowering) */
    wb_host_func host;        /* non-NULL for host functions */
    void *env;
    void (*finalizer)(void *);
    /* Native code of a function of an instance that runs compiled code,
     * and the instance context it takes (aot.h); NULL otherwise. */
    void *aot_code;
    void *aot_vmctx;
};

struct wb_memory {
    uint8_t *base;        /* reservation start; Wasm address 0 */
    size_t reserved;      /* bytes reserved (PROT_NONE beyond the size) */
    uint64_t pages;       /* current size */
    uint64_t max_pages;   /* effective cap: min(type max, config, 65536) */
    wm_limits limits;     /* declared type */
    bool advised;         /* huge pages asked for (runtime.c) */
};

struct wb_table {
    void **elems;         /* funcref: wb_func*, externref: host pointer */
    uint32_t size;
    uint32_t max;         /* effective cap */
    uint8_t elemtype;
    wm_limits limits;
};

struct wb_global {
    wm_slot val;
    uint8_t type;
    bool mut;
};

/* Per-instance state of an element segment: its evaluated references. */
typedef struct wm_elemrt {
    uint32_t count; /* 0 once dropped */
    void **refs;
} wm_elemrt;

struct wb_instance {
    wb_store *store;
    const wb_module *module;
    const wm_module *m;
    wb_func **funcs;
    wb_table **tables;
    wb_memory **mems;
    wb_memory *mem0;      /* mems[0] or NULL */
    wb_global **globals;
    uint32_t *type_ids;   /* canonical id of each module type */
    wm_elemrt *elems;
    uint8_t *data_dropped;
    struct wm_aot_ctx *aot;  /* when the instance runs native code */
};

/* A call frame record, pushed by every Wasm-to-Wasm call. */
typedef struct wm_frame {
    const wm_word *ret_pc;
    wm_slot *ret_fp;
    wb_func *func;        /* the caller */
} wm_frame;

/* Execution state of a store: stacks, fuel, and trap details. */
typedef struct wm_exec {
    wb_store *store;
    wm_slot *stack, *stack_end;      /* value stack */
    wm_slot *stack_top;              /* first free slot for a new entry */
    wm_frame *frames, *frames_end;
    wm_frame *frame_top;             /* first free frame for a new entry */
    size_t stack_bytes, frames_bytes;
    uint32_t depth;                  /* nested entries from C */

    int64_t fuel;                    /* remaining, outside the budget */
    bool fuel_limited;
    volatile sig_atomic_t interrupt;

    /* Set while Wasm code runs; the fault handler turns a fault inside a
     * linear memory's reservation into a trap by jumping to `jmp`. */
    volatile sig_atomic_t in_wasm;
    sigjmp_buf *jmp;

    /* Trap details, filled by the interpreter or the fault handler. */
    wb_trap trap;
    wb_func *trap_func;
    const wm_word *trap_pc;
    uint64_t trap_offset;            /* set by native code, else WB_NO_OFFSET */
    wb_status jump_status;           /* why native code jumped to `jmp` */
    uintptr_t fault_pc;              /* where a fault in native code hit */
    /* Native code's lowest stack pointer, or UINTPTR_MAX to interrupt it
     * (wm_aot_enter, wb_store_interrupt). */
    volatile uintptr_t stack_limit;
    /* Every native instance context of the store, newest first; only
     * ever prepended (atomically), freed with the store: a signal
     * handler or another thread may walk it (wb_store_interrupt). */
    struct wm_aot_ctx *aot_ctxs;
    uint32_t trap_detail;            /* table index for element traps */
    char host_message[256];
    int exit_code;
    wb_status host_status;           /* WB_ERR_TRAP or WB_ERR_EXIT */
} wm_exec;

/* A growable array of pointers owned by the store. */
typedef struct wm_ptrvec {
    void **items;
    size_t len, cap;
} wm_ptrvec;

struct wb_store {
    wb_engine *engine;
    wm_exec exec;
    wm_ptrvec funcs, tables, memories, globals, instances;
    /* Interned function types: types[id]. */
    wm_functype *types;
    uint32_t ntypes, captypes;
};

struct wb_caller {
    wm_exec *exec;
    wb_instance *inst;
};

/* runtime.c */
wb_status wm_store_intern_type(wb_store *s, const wm_functype *t, uint32_t *id);
/* Lowers (if needed) the code of a Wasm function. */
wb_status wm_func_prepare(wb_func *f, wb_error *err);
/* Runs f with arguments in slots, results written back to the same slots.
 * `slots` must be exec->stack_top. Fills err on failure. */
wb_status wm_exec_call(wm_exec *ex, wb_func *f, wb_error *err);

/* lower.c */
wb_status wm_lower(const wm_module *m, uint32_t func_index, wm_lowered **out,
                   wb_error *err);
void wm_lowered_free(wm_lowered *l);
/* Byte offset in the module of the instruction at word `pc`. */
uint64_t wm_lowered_offset(const wm_lowered *l, uint32_t pc);

/* interp.c: runs f, whose frame starts at fp (arguments in place).
 * Called as wm_interp(NULL, NULL, NULL, l) right after lowering, it
 * prepares l's code for the dispatch this build uses (direct threading
 * with computed goto) and returns. */
wb_status wm_interp(wm_exec *ex, wb_func *f, wm_slot *fp, wm_lowered *thread);
/* Host call from the interpreter (runtime.c). */
wb_status wm_call_host(wm_exec *ex, wb_func *f, wb_instance *caller, wm_slot *fp);

/* aot_load.c: native code. */
/* Makes inst run its module's native code (before segments are applied). */
wb_status wm_aot_instance_bind(wb_instance *inst, wb_error *err);
void wm_aot_instance_free(wb_instance *inst);
void wm_aot_store_free(wm_exec *ex);
/* After an interrupt was handled: the limit of this thread again. */
void wm_aot_rearm(wm_exec *ex);
void wm_aot_image_free(struct wm_aot_image *img);
/* Runs native f with arguments in io (results written back), under the
 * caller's sigsetjmp; traps jump there with WM_JUMP_TRAP. */
void wm_aot_enter(wm_exec *ex, wb_func *f, wm_slot *io);
/* Sets the native stack limit to v, unless an interrupt is pending (then
 * it stays UINTPTR_MAX, so native code stops). */
void wm_aot_set_limit(wm_exec *ex, uintptr_t v);
/* Stores v as the limit of the store and of each of its contexts
 * (async-signal-safe). */
void wm_aot_limit_all(wm_exec *ex, uintptr_t v);
/* The function whose native code contains pc, or NULL. */
wb_func *wm_aot_func_at(wb_store *s, uintptr_t pc);
/* Values passed to siglongjmp(*ex->jmp, v). */
enum { WM_JUMP_FAULT = 1, WM_JUMP_TRAP = 2, WM_JUMP_STACK = 3 };

/* Helpers for bulk and table operations shared by the interpreter and
 * instantiation (runtime.c). Return false on out-of-bounds. */
bool wm_table_grow_raw(wb_table *t, uint32_t delta, void *init, uint32_t *old);
int64_t wm_memory_grow_raw(wb_memory *mem, uint64_t delta);

#endif /* WM_RUNTIME_H */
