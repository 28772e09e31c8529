/*
 * validate.c - WebAssembly 2.0 validation of a decoded module.
 *
 * Module-level checks (index spaces, limits, constant expressions, exports,
 * start) run first, then every function body is checked in one linear pass
 * with the algorithm of the spec's appendix: an operand stack whose entries
 * may be Unknown and a control stack whose frames remember where their
 * operands start and whether the rest of the block is unreachable (then
 * popping below the frame's height yields Unknown: stack polymorphism).
 *
 * Error priority follows the reference interpreter, which decodes the whole
 * module before it validates anything: a malformed instruction anywhere
 * beats a type error anywhere. So the first type error (WB_ERR_INVALID) is
 * recorded, type checking stops ("syntax-only" mode), and decoding goes on
 * through every remaining body; a later malformation overwrites the error.
 * Malformed, unsupported and out-of-memory errors stop at once.
 *
 * lower.c re-reads the bodies trusting what is accepted here, so anything
 * that returns WB_OK must be fully valid.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "reader.h"

/* ------------------------------------------------------------ op tables */

/* Signatures of the immediate-free numeric instructions, by opcode; a zero
 * `out` means "not a simple instruction". */
typedef struct simple_sig {
    uint8_t in1, in2, out;
} simple_sig;

static const simple_sig k_simple[256] = {
#define WM_SIMPLE(name, op, i1, i2, o) [op] = {i1, i2, o},
#include "opcodes.def"
};

/* 0xFC-prefixed numeric instructions, by sub-opcode. */
#define FC_SIMPLE_COUNT 8
static const simple_sig k_fc_simple[FC_SIMPLE_COUNT] = {
#define WM_FC_SIMPLE(name, sub, i1, i2, o) [sub] = {i1, i2, o},
#include "opcodes.def"
};

/* Loads and stores, by opcode; a zero `size` means "not a memory op". */
typedef struct memop_sig {
    uint8_t type, size, store;
} memop_sig;

static const memop_sig k_memop[256] = {
#define WM_MEMOP(name, op, t, sz, st) [op] = {t, sz, st},
#include "opcodes.def"
};

/* Every opcode named in opcodes.def as a context-dependent instruction;
 * used to tell "illegal opcode" from an opcode the switch forgot. */
enum {
#define WM_OP(name, op) OP_##name = op,
#include "opcodes.def"
};
enum {
#define WM_FC_OP(name, sub) FC_##name = sub,
#include "opcodes.def"
};

/* Single value types for block types like `(result i32)`: frames point
 * at their types, and these give such a one-element list a stable home. */
static const uint8_t k_single[] = {WM_I32, WM_I64, WM_F32, WM_F64, WM_FUNCREF, WM_EXTERNREF};

static const uint8_t *single_type(uint8_t t) {
    for (size_t i = 0; i < sizeof k_single; i++)
        if (k_single[i] == t) return &k_single[i];
    return NULL;
}

static bool is_num(uint8_t t) {
    return t == WM_I32 || t == WM_I64 || t == WM_F32 || t == WM_F64 || t == WM_UNKNOWN;
}

static bool is_ref(uint8_t t) {
    return t == WM_FUNCREF || t == WM_EXTERNREF || t == WM_UNKNOWN;
}

/* ------------------------------------------------------------- context */

enum { FRAME_FUNC, FRAME_BLOCK, FRAME_LOOP, FRAME_IF, FRAME_ELSE };

typedef struct vframe {
    const uint8_t *params, *results; /* start and end types */
    uint32_t nparams, nresults;
    size_t height;      /* operand stack height at entry (params excluded) */
    uint8_t kind;       /* FRAME_* */
    bool unreachable;   /* rest of this block is dead: stack is polymorphic */
} vframe;

typedef struct vctx {
    const wm_module *m;
    wb_error *err;
    wm_reader r;
    uint32_t func_index; /* WB_NO_INDEX outside bodies */
    uint64_t offset;     /* offset of the instruction being checked */

    uint8_t *vals; /* operand stack of value types, WM_UNKNOWN allowed */
    size_t nvals, capvals;
    vframe *ctrls;
    size_t nctrls, capctrls;
    uint8_t *locals; /* types of params then declared locals */
    size_t nlocals, caplocals;

    /* A type error was recorded: from now on only syntax is checked. */
    bool skip;
    /* A malformed / unsupported / out-of-memory error: stop everything. */
    wb_status hard;
} vctx;

/* Records the first type error; always returns false so that callers can
 * abandon the current instruction's type checks with `return invalid()`. */
static bool invalid(vctx *v, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static bool invalid(vctx *v, const char *fmt, ...) {
    if (!v->skip) {
        char msg[200];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        wm_fail(v->err, WB_ERR_INVALID, v->offset, v->func_index, "%s", msg);
        v->skip = true;
    }
    return false;
}

/* Records an error that ends validation at once. */
static bool hard_fail(vctx *v, wb_status status, const char *msg) {
    if (v->hard == WB_OK) {
        v->hard = status;
        wm_fail(v->err, status, v->offset, v->func_index, "%s", msg);
    }
    return false;
}

static bool malformed(vctx *v, const char *msg) {
    return hard_fail(v, WB_ERR_MALFORMED, msg);
}

static bool unsupported_simd(vctx *v) {
    return hard_fail(v, WB_ERR_UNSUPPORTED, "SIMD not supported yet");
}

/* A failed read: the reader's message ("unexpected end", "integer too
 * large", ...) becomes a malformation of the current instruction. */
static bool reader_failed(vctx *v) {
    return malformed(v, v->r.error ? v->r.error : "unexpected end");
}

/* Grows a buffer to hold at least `need` elements of `elem` bytes.
 * Doubling keeps pushes amortised O(1). */
static bool grow(vctx *v, void **buf, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) return hard_fail(v, WB_ERR_NOMEM, "out of memory");
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elem) return hard_fail(v, WB_ERR_NOMEM, "out of memory");
    void *p = realloc(*buf, ncap * elem);
    if (!p) return hard_fail(v, WB_ERR_NOMEM, "out of memory");
    *buf = p;
    *cap = ncap;
    return true;
}

/* ------------------------------------------------------ operand stack */

/* The push/pop primitives do nothing in syntax-only mode. They return
 * false when the instruction's checking must stop (type error recorded or
 * out of memory); v->hard tells the two apart. */

static bool push(vctx *v, uint8_t t) {
    if (v->skip) return true;
    if (v->nvals == v->capvals &&
        !grow(v, (void **)&v->vals, &v->capvals, v->nvals + 1, 1))
        return false;
    v->vals[v->nvals++] = t;
    return true;
}

static bool push_n(vctx *v, const uint8_t *types, uint32_t n) {
    if (v->skip || n == 0) return true;
    if (!grow(v, (void **)&v->vals, &v->capvals, v->nvals + n, 1)) return false;
    memcpy(v->vals + v->nvals, types, n);
    v->nvals += n;
    return true;
}

/* Pops one value of any type into *out (WM_UNKNOWN under a dead frame). */
static bool pop_any(vctx *v, uint8_t *out) {
    *out = WM_UNKNOWN;
    if (v->skip) return true;
    vframe *f = &v->ctrls[v->nctrls - 1];
    if (v->nvals == f->height) {
        if (f->unreachable) return true;
        return invalid(v, "type mismatch");
    }
    *out = v->vals[--v->nvals];
    return true;
}

static bool pop(vctx *v, uint8_t expect) {
    uint8_t actual;
    if (!pop_any(v, &actual)) return false;
    if (actual != expect && actual != WM_UNKNOWN && expect != WM_UNKNOWN)
        return invalid(v, "type mismatch");
    return true;
}

static bool pop_n(vctx *v, const uint8_t *types, uint32_t n) {
    for (uint32_t i = n; i > 0; i--)
        if (!pop(v, types[i - 1])) return false;
    return true;
}

/* Checks that the top of the stack matches types[0..n) without changing
 * it. Equivalent to the spec's push_vals(pop_vals(types)), which br_table
 * applies per target: values below a dead frame's height are Unknown and
 * match anything, so "pop, then push back what was popped" leaves the
 * stack as it was as far as later checks can tell. */
static bool check_top(vctx *v, const uint8_t *types, uint32_t n) {
    if (v->skip) return true;
    const vframe *f = &v->ctrls[v->nctrls - 1];
    size_t avail = v->nvals - f->height;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t expect = types[n - 1 - i];
        if (i >= avail) {
            if (f->unreachable) return true;
            return invalid(v, "type mismatch");
        }
        uint8_t actual = v->vals[v->nvals - 1 - i];
        if (actual != expect && actual != WM_UNKNOWN)
            return invalid(v, "type mismatch");
    }
    return true;
}

/* ------------------------------------------------------ control stack */

/* Pushes a frame and its params. In syntax-only mode frames are still
 * kept, so that `else` and `end` structure keeps being checked. */
static bool push_ctrl(vctx *v, uint8_t kind, const uint8_t *params, uint32_t nparams,
                      const uint8_t *results, uint32_t nresults) {
    if (v->nctrls == v->capctrls &&
        !grow(v, (void **)&v->ctrls, &v->capctrls, v->nctrls + 1, sizeof(vframe)))
        return false;
    vframe *f = &v->ctrls[v->nctrls++];
    f->kind = kind;
    f->params = params;
    f->nparams = nparams;
    f->results = results;
    f->nresults = nresults;
    f->height = v->nvals;
    f->unreachable = false;
    return push_n(v, params, nparams);
}

/* Pops the top frame after checking that exactly its results remain.
 * The frame is closed (and copied to *out) even when the check fails, so
 * that the block structure can still be followed. */
static bool pop_ctrl(vctx *v, vframe *out) {
    bool ok = true;
    *out = v->ctrls[v->nctrls - 1];
    if (!v->skip) {
        ok = pop_n(v, out->results, out->nresults);
        if (ok && v->nvals != out->height) ok = invalid(v, "type mismatch");
    }
    v->nctrls--;
    return ok;
}

/* What a branch to the frame must provide: a loop's label takes its
 * params (the branch restarts it), any other label its results. */
static void label_types(const vframe *f, const uint8_t **types, uint32_t *n) {
    if (f->kind == FRAME_LOOP) {
        *types = f->params;
        *n = f->nparams;
    } else {
        *types = f->results;
        *n = f->nresults;
    }
}

/* Marks the rest of the current block dead. */
static void set_unreachable(vctx *v) {
    if (v->skip) return;
    vframe *f = &v->ctrls[v->nctrls - 1];
    v->nvals = f->height;
    f->unreachable = true;
}

/* Looks up branch target `depth`; NULL (and a recorded error) if none. */
static const vframe *label_at(vctx *v, uint32_t depth) {
    if (depth >= v->nctrls) {
        invalid(v, "unknown label");
        return NULL;
    }
    return &v->ctrls[v->nctrls - 1 - depth];
}

/* ---------------------------------------------------------- immediates */

static bool read_u8(vctx *v, uint8_t *out) {
    return wm_read_u8(&v->r, out) || reader_failed(v);
}

static bool read_u32(vctx *v, uint32_t *out) {
    return wm_read_u32(&v->r, out) || reader_failed(v);
}

/* A reserved byte that must be 0x00 (memory index placeholder). It is a
 * single byte, not a LEB: "\80\00" is malformed too. */
static bool read_zero(vctx *v) {
    uint8_t b;
    if (!read_u8(v, &b)) return false;
    if (b != 0) return malformed(v, "zero byte expected");
    return true;
}

/* A value type immediate (select t*). */
static bool read_valtype(vctx *v, uint8_t *out) {
    uint8_t b;
    if (!read_u8(v, &b)) return false;
    if (b == WM_V128) return unsupported_simd(v);
    if (!single_type(b)) return malformed(v, "malformed value type");
    *out = b;
    return true;
}

static bool read_reftype(vctx *v, uint8_t *out) {
    uint8_t b;
    if (!read_u8(v, &b)) return false;
    if (b != WM_FUNCREF && b != WM_EXTERNREF) return malformed(v, "malformed reference type");
    *out = b;
    return true;
}

typedef struct blocktype {
    const uint8_t *params, *results;
    uint32_t nparams, nresults;
} blocktype;

/* Reads a block type: 0x40, a value type, or a non-negative s33 type
 * index. An unknown type index is a type error; the block is still
 * entered (with no types) so that the structure check goes on. */
static bool read_blocktype(vctx *v, blocktype *bt) {
    memset(bt, 0, sizeof *bt);
    if (v->r.p >= v->r.end) return wm_reader_fail(&v->r, "unexpected end"), reader_failed(v);
    uint8_t b = *v->r.p;
    if (b == WM_BLOCK_EMPTY) {
        v->r.p++;
        return true;
    }
    if (b == WM_V128) return unsupported_simd(v);
    const uint8_t *t = single_type(b);
    if (t) {
        v->r.p++;
        bt->results = t;
        bt->nresults = 1;
        return true;
    }
    int64_t idx;
    if (!wm_read_s33(&v->r, &idx)) return reader_failed(v);
    if (idx < 0) return malformed(v, "malformed value type");
    if ((uint64_t)idx >= v->m->ntypes) {
        invalid(v, "unknown type %llu", (unsigned long long)idx);
        return true;
    }
    const wm_functype *ft = &v->m->types[idx];
    bt->params = ft->params;
    bt->nparams = ft->nparams;
    bt->results = ft->results;
    bt->nresults = ft->nresults;
    return true;
}

/* memarg: alignment exponent, then offset (both u32 in Wasm 2.0). The
 * exponent may not exceed the access's natural alignment. */
static bool read_memarg(vctx *v, unsigned size, bool *align_ok) {
    uint32_t align, offset;
    if (!read_u32(v, &align) || !read_u32(v, &offset)) return false;
    unsigned natural = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
    *align_ok = align <= natural;
    return true;
}

/* --------------------------------------------------- index-space checks */

static bool need_memory(vctx *v) {
    if (v->m->nmems == 0) return invalid(v, "unknown memory 0");
    return true;
}

static bool need_table(vctx *v, uint32_t idx) {
    if (idx >= v->m->ntables) return invalid(v, "unknown table %u", idx);
    return true;
}

static bool need_data(vctx *v, uint32_t idx) {
    /* With a data count section, the count bounds the index (the decoder
     * checks that it equals the number of data segments). */
    uint32_t n = v->m->has_datacount ? v->m->datacount : v->m->ndatas;
    if (idx >= n) return invalid(v, "unknown data segment %u", idx);
    return true;
}

/* memory.init and data.drop need the data count section, so that a
 * one-pass compiler knows the segment count before the code. wat2wasm
 * leaves the section out when there are no data segments at all; an index
 * that names no segment is then reported as such (the spec tests expect
 * "unknown data segment" there), any other use as malformed. */
static bool need_datacount(vctx *v, uint32_t idx) {
    if (!v->m->has_datacount && idx < v->m->ndatas)
        return malformed(v, "data count section required");
    return true;
}

static bool need_elem(vctx *v, uint32_t idx) {
    if (idx >= v->m->nelems) return invalid(v, "unknown elem segment %u", idx);
    return true;
}

static bool need_local(vctx *v, uint32_t idx) {
    if (idx >= v->nlocals) return invalid(v, "unknown local %u", idx);
    return true;
}

static bool need_global(vctx *v, uint32_t idx) {
    if (idx >= v->m->nglobals) return invalid(v, "unknown global %u", idx);
    return true;
}

static bool need_func(vctx *v, uint32_t idx) {
    if (idx >= v->m->nfuncs) return invalid(v, "unknown function %u", idx);
    return true;
}

static bool need_type(vctx *v, uint32_t idx) {
    if (idx >= v->m->ntypes) return invalid(v, "unknown type %u", idx);
    return true;
}

/* -------------------------------------------------------- instructions */

/* Type of a simple numeric instruction: pop in2 then in1, push out. */
static bool check_simple(vctx *v, const simple_sig *s) {
    if (v->skip) return true;
    if (s->in2 && !pop(v, s->in2)) return false;
    if (!pop(v, s->in1)) return false;
    return push(v, s->out);
}

/* br_table: the target list is read once for syntax, then (if still type
 * checking) re-read for types, because every target's arity must equal the
 * default target's, which comes last. A huge declared count simply runs
 * into "unexpected end"; nothing is allocated for it. */
static bool op_br_table(vctx *v) {
    uint32_t n, depth, def;
    if (!read_u32(v, &n)) return false;
    wm_reader targets = v->r;
    for (uint64_t i = 0; i < n; i++)
        if (!read_u32(v, &depth)) return false;
    if (!read_u32(v, &def)) return false;

    if (!pop(v, WM_I32) || v->skip) return true;
    const vframe *f = label_at(v, def);
    if (!f) return true;
    const uint8_t *dtypes;
    uint32_t dn;
    label_types(f, &dtypes, &dn);
    for (uint64_t i = 0; i < n; i++) {
        wm_read_u32(&targets, &depth); /* cannot fail: read above */
        const vframe *t = label_at(v, depth);
        if (!t) return true;
        const uint8_t *types;
        uint32_t tn;
        label_types(t, &types, &tn);
        if (tn != dn) return invalid(v, "type mismatch"), true;
        if (!check_top(v, types, tn)) return true;
    }
    if (check_top(v, dtypes, dn)) set_unreachable(v);
    return true;
}

/* Checks a call's operands against `ft`, then pushes its results. */
static bool apply_functype(vctx *v, const wm_functype *ft) {
    return pop_n(v, ft->params, ft->nparams) && push_n(v, ft->results, ft->nresults);
}

/* The 0xFC-prefixed instructions. */
static bool op_prefix_fc(vctx *v) {
    const wm_module *m = v->m;
    uint32_t sub, a, b;
    if (!read_u32(v, &sub)) return false;
    if (sub < FC_SIMPLE_COUNT) {
        (void)check_simple(v, &k_fc_simple[sub]);
        return true;
    }
    switch (sub) {
    case FC_memory_init:
        if (!read_u32(v, &a) || !read_zero(v) || !need_datacount(v, a)) return false;
        if (v->skip || !need_memory(v) || !need_data(v, a)) return true;
        (void)(pop(v, WM_I32) && pop(v, WM_I32) && pop(v, WM_I32));
        return true;
    case FC_data_drop:
        if (!read_u32(v, &a) || !need_datacount(v, a)) return false;
        if (!v->skip) need_data(v, a);
        return true;
    case FC_memory_copy:
        if (!read_zero(v) || !read_zero(v)) return false;
        if (v->skip || !need_memory(v)) return true;
        (void)(pop(v, WM_I32) && pop(v, WM_I32) && pop(v, WM_I32));
        return true;
    case FC_memory_fill:
        if (!read_zero(v)) return false;
        if (v->skip || !need_memory(v)) return true;
        (void)(pop(v, WM_I32) && pop(v, WM_I32) && pop(v, WM_I32));
        return true;
    case FC_table_init: /* elem index, then table index */
        if (!read_u32(v, &a) || !read_u32(v, &b)) return false;
        if (v->skip || !need_table(v, b) || !need_elem(v, a)) return true;
        if (m->elems[a].reftype != m->tables[b].elem) return invalid(v, "type mismatch"), true;
        (void)(pop(v, WM_I32) && pop(v, WM_I32) && pop(v, WM_I32));
        return true;
    case FC_elem_drop:
        if (!read_u32(v, &a)) return false;
        if (!v->skip) need_elem(v, a);
        return true;
    case FC_table_copy: /* destination, then source */
        if (!read_u32(v, &a) || !read_u32(v, &b)) return false;
        if (v->skip || !need_table(v, a) || !need_table(v, b)) return true;
        if (m->tables[a].elem != m->tables[b].elem) return invalid(v, "type mismatch"), true;
        (void)(pop(v, WM_I32) && pop(v, WM_I32) && pop(v, WM_I32));
        return true;
    case FC_table_grow:
        if (!read_u32(v, &a)) return false;
        if (v->skip || !need_table(v, a)) return true;
        (void)(pop(v, WM_I32) && pop(v, m->tables[a].elem) && push(v, WM_I32));
        return true;
    case FC_table_size:
        if (!read_u32(v, &a)) return false;
        if (v->skip || !need_table(v, a)) return true;
        (void)push(v, WM_I32);
        return true;
    case FC_table_fill:
        if (!read_u32(v, &a)) return false;
        if (v->skip || !need_table(v, a)) return true;
        (void)(pop(v, WM_I32) && pop(v, m->tables[a].elem) && pop(v, WM_I32));
        return true;
    default:
        return malformed(v, "illegal opcode");
    }
}

/* Checks one instruction whose opcode byte `op` has been read. Returns
 * false only on a hard error; type errors are recorded and checking of
 * the instruction is abandoned (later ones are then decoded only). The
 * `(void)(a && b && c)` chains run checks in order and stop at the first
 * failure, which has then been recorded. */
static bool instr(vctx *v, uint8_t op) {
    const wm_module *m = v->m;
    uint32_t a, b;
    uint8_t t1, t2;
    blocktype bt;
    vframe f;
    const uint8_t *types;
    uint32_t n;

    switch (op) {
    case OP_unreachable:
        set_unreachable(v);
        return true;
    case OP_nop:
        return true;
    case OP_block:
    case OP_loop:
        if (!read_blocktype(v, &bt)) return false;
        (void)pop_n(v, bt.params, bt.nparams);
        return push_ctrl(v, op == OP_block ? FRAME_BLOCK : FRAME_LOOP, bt.params, bt.nparams,
                         bt.results, bt.nresults) || !v->hard;
    case OP_if:
        if (!read_blocktype(v, &bt)) return false;
        (void)(pop(v, WM_I32) && pop_n(v, bt.params, bt.nparams));
        return push_ctrl(v, FRAME_IF, bt.params, bt.nparams, bt.results, bt.nresults) || !v->hard;
    case OP_else:
        /* The binary grammar only has `else` inside `if`; the reference
         * decoder reports a stray one as a missing `end`. */
        if (v->ctrls[v->nctrls - 1].kind != FRAME_IF) return malformed(v, "END opcode expected");
        (void)pop_ctrl(v, &f);
        return push_ctrl(v, FRAME_ELSE, f.params, f.nparams, f.results, f.nresults) || !v->hard;
    case OP_end:
        if (!pop_ctrl(v, &f)) return true;
        if (f.kind == FRAME_IF && !v->skip) {
            /* `if` without `else`: the missing branch passes the params
             * through unchanged, so they must equal the results. */
            if (!push_ctrl(v, FRAME_ELSE, f.params, f.nparams, f.results, f.nresults))
                return !v->hard;
            if (!pop_ctrl(v, &f)) return true;
        }
        return push_n(v, f.results, f.nresults) || !v->hard;
    case OP_br:
        if (!read_u32(v, &a)) return false;
        if (v->skip) return true;
        {
            const vframe *l = label_at(v, a);
            if (!l) return true;
            label_types(l, &types, &n);
        }
        if (pop_n(v, types, n)) set_unreachable(v);
        return true;
    case OP_br_if:
        if (!read_u32(v, &a)) return false;
        if (v->skip) return true;
        {
            const vframe *l = label_at(v, a);
            if (!l) return true;
            label_types(l, &types, &n);
        }
        (void)(pop(v, WM_I32) && pop_n(v, types, n) && push_n(v, types, n));
        return !v->hard;
    case OP_br_table:
        return op_br_table(v) && !v->hard;
    case OP_return:
        if (v->skip) return true;
        if (pop_n(v, v->ctrls[0].results, v->ctrls[0].nresults)) set_unreachable(v);
        return true;
    case OP_call:
        if (!read_u32(v, &a)) return false;
        if (v->skip || !need_func(v, a)) return true;
        (void)apply_functype(v, wm_func_type(m, a));
        return !v->hard;
    case OP_call_indirect: /* type index, then table index */
        if (!read_u32(v, &a) || !read_u32(v, &b)) return false;
        if (v->skip || !need_table(v, b) || !need_type(v, a)) return true;
        if (m->tables[b].elem != WM_FUNCREF) return invalid(v, "type mismatch"), true;
        (void)(pop(v, WM_I32) && apply_functype(v, &m->types[a]));
        return !v->hard;
    case OP_drop:
        (void)pop_any(v, &t1);
        return true;
    case OP_select:
        if (v->skip) return true;
        if (!pop(v, WM_I32) || !pop_any(v, &t1) || !pop_any(v, &t2)) return true;
        /* Without a type annotation only numeric operands are allowed. */
        if (!is_num(t1) || !is_num(t2)) return invalid(v, "type mismatch"), true;
        if (t1 != t2 && t1 != WM_UNKNOWN && t2 != WM_UNKNOWN)
            return invalid(v, "type mismatch"), true;
        return push(v, t1 == WM_UNKNOWN ? t2 : t1) || !v->hard;
    case OP_select_t:
        /* All the listed types are read first: a wrong count is a type
         * error, but the bytes after it must still decode. */
        if (!read_u32(v, &n)) return false;
        t1 = WM_UNKNOWN;
        for (uint64_t i = 0; i < n; i++)
            if (!read_valtype(v, &t1)) return false;
        if (v->skip) return true;
        if (n != 1) return invalid(v, "invalid result arity"), true;
        (void)(pop(v, WM_I32) && pop(v, t1) && pop(v, t1) && push(v, t1));
        return !v->hard;
    case OP_local_get:
    case OP_local_set:
    case OP_local_tee:
        if (!read_u32(v, &a)) return false;
        if (v->skip || !need_local(v, a)) return true;
        t1 = v->locals[a];
        if (op == OP_local_get) return push(v, t1) || !v->hard;
        if (!pop(v, t1)) return true;
        return op == OP_local_set || push(v, t1) || !v->hard;
    case OP_global_get:
    case OP_global_set:
        if (!read_u32(v, &a)) return false;
        if (v->skip || !need_global(v, a)) return true;
        t1 = m->globals[a].type;
        if (op == OP_global_get) return push(v, t1) || !v->hard;
        if (!m->globals[a].mut) return invalid(v, "global is immutable"), true;
        (void)pop(v, t1);
        return true;
    case OP_table_get:
    case OP_table_set:
        if (!read_u32(v, &a)) return false;
        if (v->skip || !need_table(v, a)) return true;
        t1 = m->tables[a].elem;
        if (op == OP_table_get) (void)(pop(v, WM_I32) && push(v, t1));
        else (void)(pop(v, t1) && pop(v, WM_I32));
        return !v->hard;
    case OP_memory_size:
    case OP_memory_grow:
        if (!read_zero(v)) return false;
        if (v->skip || !need_memory(v)) return true;
        if (op == OP_memory_grow && !pop(v, WM_I32)) return true;
        return push(v, WM_I32) || !v->hard;
    case OP_i32_const: {
        int32_t x;
        if (!wm_read_s32(&v->r, &x)) return reader_failed(v);
        return push(v, WM_I32) || !v->hard;
    }
    case OP_i64_const: {
        int64_t x;
        if (!wm_read_s64(&v->r, &x)) return reader_failed(v);
        return push(v, WM_I64) || !v->hard;
    }
    case OP_f32_const: {
        uint32_t x;
        if (!wm_read_f32_bits(&v->r, &x)) return reader_failed(v);
        return push(v, WM_F32) || !v->hard;
    }
    case OP_f64_const: {
        uint64_t x;
        if (!wm_read_f64_bits(&v->r, &x)) return reader_failed(v);
        return push(v, WM_F64) || !v->hard;
    }
    case OP_ref_null:
        if (!read_reftype(v, &t1)) return false;
        return push(v, t1) || !v->hard;
    case OP_ref_is_null:
        if (v->skip || !pop_any(v, &t1)) return true;
        if (!is_ref(t1)) return invalid(v, "type mismatch"), true;
        return push(v, WM_I32) || !v->hard;
    case OP_ref_func:
        if (!read_u32(v, &a)) return false;
        if (v->skip || !need_func(v, a)) return true;
        /* Only functions referenced outside bodies may be named here, so
         * that the set of functions usable as references is known
         * without looking at code. */
        if (!m->func_declared || !m->func_declared[a])
            return invalid(v, "undeclared function reference"), true;
        return push(v, WM_FUNCREF) || !v->hard;
    case 0xFC:
        return op_prefix_fc(v) && !v->hard;
    case 0xFD:
        return unsupported_simd(v);
    default:
        break;
    }

    if (k_simple[op].out) return check_simple(v, &k_simple[op]) || !v->hard;
    if (k_memop[op].size) {
        const memop_sig *s = &k_memop[op];
        bool align_ok;
        if (!read_memarg(v, s->size, &align_ok)) return false;
        if (v->skip || !need_memory(v)) return true;
        if (!align_ok) return invalid(v, "alignment must not be larger than natural"), true;
        if (s->store) (void)(pop(v, s->type) && pop(v, WM_I32));
        else (void)(pop(v, WM_I32) && push(v, s->type));
        return !v->hard;
    }
    return malformed(v, "illegal opcode");
}

/* ---------------------------------------------------------- functions */

/* Collects the types of params and declared locals into v->locals. */
static bool setup_locals(vctx *v, const wm_functype *ft, const wm_code *code) {
    uint64_t total = ft->nparams;
    for (uint32_t i = 0; i < code->nruns; i++) total += code->runs[i].count;
    /* The decoder bounds this; checked again because the array is sized
     * from it. */
    if (total > (uint64_t)WM_MAX_LOCALS + WM_MAX_FUNC_PARAMS)
        return malformed(v, "too many locals");
    v->nlocals = 0;
    if (total == 0) return true; /* v->locals may still be NULL */
    if (!grow(v, (void **)&v->locals, &v->caplocals, (size_t)total, 1)) return false;
    if (ft->nparams) memcpy(v->locals, ft->params, ft->nparams);
    size_t k = ft->nparams;
    for (uint32_t i = 0; i < code->nruns; i++) {
        memset(v->locals + k, code->runs[i].type, code->runs[i].count);
        k += code->runs[i].count;
    }
    v->nlocals = k;
    return true;
}

/* Validates the body of defined function `i`. Returns false on a hard
 * error only. */
static bool validate_body(vctx *v, uint32_t i) {
    const wm_module *m = v->m;
    const wm_code *code = &m->codes[i];
    uint32_t fidx = m->nimported_funcs + i;
    uint32_t tidx = m->func_types[fidx];
    static const wm_functype no_type = {0, 0, NULL, NULL};
    const wm_functype *ft = tidx < m->ntypes ? &m->types[tidx] : &no_type;

    v->func_index = fidx;
    v->offset = code->body_offset;
    v->nvals = 0;
    v->nctrls = 0;
    v->nlocals = 0;
    wm_reader_init(&v->r, m->bytes, code->body, code->end);

    /* A body whose last byte is not `end` cannot be well formed; saying
     * so here gives the reference interpreter's message. (One whose
     * last byte is 0x0B inside an immediate runs out below instead.) */
    if (code->end <= code->body || code->end[-1] != OP_end) {
        v->offset = code->body_offset + (uint64_t)(code->end - code->body);
        return malformed(v, "END opcode expected");
    }
    if (!setup_locals(v, ft, code)) return false;
    if (!push_ctrl(v, FRAME_FUNC, NULL, 0, ft->results, ft->nresults)) return false;

    while (v->nctrls > 0) {
        v->offset = wm_reader_offset(&v->r);
        uint8_t op;
        if (!read_u8(v, &op)) return false;
        if (!instr(v, op)) return false;
    }
    /* The function's final `end` must be its last byte. */
    if (v->r.p != code->end) {
        v->offset = wm_reader_offset(&v->r);
        return malformed(v, "section size mismatch");
    }
    return true;
}

/* ------------------------------------------------------- module level */

/* Type of constant expression `e`, Wasm 2.0 rules: global.get may only
 * name an imported, immutable global. Returns false if invalid (error
 * recorded). */
static bool const_expr_type(vctx *v, const wm_constexpr *e, uint8_t *type) {
    const wm_module *m = v->m;
    v->offset = e->offset;
    switch (e->op) {
    case OP_i32_const: *type = WM_I32; return true;
    case OP_i64_const: *type = WM_I64; return true;
    case OP_f32_const: *type = WM_F32; return true;
    case OP_f64_const: *type = WM_F64; return true;
    case OP_ref_null: *type = e->reftype; return true;
    case OP_ref_func:
        if (!need_func(v, e->index)) return false;
        *type = WM_FUNCREF;
        return true;
    case OP_global_get:
        /* Only imported globals are visible to constant expressions. */
        if (e->index >= m->nimported_globals || e->index >= m->nglobals)
            return invalid(v, "unknown global %u", e->index);
        if (m->globals[e->index].mut) return invalid(v, "constant expression required");
        *type = m->globals[e->index].type;
        return true;
    default: /* the decoder reports other instructions; kept as a guard */
        return invalid(v, "constant expression required");
    }
}

static void check_const_expr(vctx *v, const wm_constexpr *e, uint8_t want) {
    uint8_t t = WM_UNKNOWN;
    if (const_expr_type(v, e, &t) && t != want) invalid(v, "type mismatch");
}

static void check_limits_order(vctx *v, const wm_limits *l) {
    if (l->has_max && l->min > l->max)
        invalid(v, "size minimum must not be greater than maximum");
}

static void check_memory(vctx *v, const wm_limits *l) {
    if (l->min > WM_MAX_PAGES || (l->has_max && l->max > WM_MAX_PAGES))
        invalid(v, "memory size must be at most 65536 pages (4GiB)");
    check_limits_order(v, l);
}

static void check_table(vctx *v, const wm_tabletype *t) {
    check_limits_order(v, &t->lim);
}

static int cmp_export_names(const void *pa, const void *pb) {
    const wm_export *a = *(const wm_export *const *)pa;
    const wm_export *b = *(const wm_export *const *)pb;
    if (a->name.len != b->name.len) return a->name.len < b->name.len ? -1 : 1;
    return memcmp(a->name.ptr, b->name.ptr, a->name.len);
}

static bool check_exports(vctx *v) {
    const wm_module *m = v->m;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wm_export *e = &m->exports[i];
        switch (e->kind) {
        case WM_KIND_FUNC: need_func(v, e->index); break;
        case WM_KIND_TABLE: need_table(v, e->index); break;
        case WM_KIND_MEMORY:
            if (e->index >= m->nmems) invalid(v, "unknown memory %u", e->index);
            break;
        case WM_KIND_GLOBAL: need_global(v, e->index); break;
        default: break; /* the decoder accepts only the four kinds */
        }
    }
    if (m->nexports < 2) return true;
    /* Sorting pointers by name finds duplicates in O(n log n). */
    const wm_export **sorted = malloc(m->nexports * sizeof *sorted);
    if (!sorted) return hard_fail(v, WB_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < m->nexports; i++) sorted[i] = &m->exports[i];
    qsort(sorted, m->nexports, sizeof *sorted, cmp_export_names);
    for (uint32_t i = 1; i < m->nexports; i++) {
        if (cmp_export_names(&sorted[i - 1], &sorted[i]) == 0) {
            invalid(v, "duplicate export name");
            break;
        }
    }
    free(sorted);
    return true;
}

static void check_elems(vctx *v) {
    const wm_module *m = v->m;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wm_elem *e = &m->elems[i];
        if (e->mode == WM_SEG_ACTIVE) {
            v->offset = e->offset.offset;
            if (need_table(v, e->table) && m->tables[e->table].elem != e->reftype)
                invalid(v, "type mismatch");
            check_const_expr(v, &e->offset, WM_I32);
        }
        for (uint32_t k = 0; k < e->count; k++) check_const_expr(v, &e->items[k], e->reftype);
    }
}

static void check_datas(vctx *v) {
    const wm_module *m = v->m;
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wm_data *d = &m->datas[i];
        if (d->mode != WM_SEG_ACTIVE) continue;
        v->offset = d->offset.offset;
        if (d->mem >= m->nmems) invalid(v, "unknown memory %u", d->mem);
        check_const_expr(v, &d->offset, WM_I32);
    }
}

/* Everything outside function bodies, in the reference interpreter's
 * order so that a module with several errors reports the same first one.
 * Returns false on a hard error only. */
static bool check_module(vctx *v) {
    const wm_module *m = v->m;
    v->func_index = WB_NO_INDEX;
    v->offset = WB_NO_OFFSET;

    /* v128 in types, locals and globals is already refused by the
     * decoder ("SIMD not supported yet"); bodies are checked below. */
    for (uint32_t i = 0; i < m->nfuncs; i++) {
        if (m->func_types[i] >= m->ntypes) {
            v->func_index = i;
            need_type(v, m->func_types[i]);
            v->func_index = WB_NO_INDEX;
        }
    }
    for (uint32_t i = 0; i < m->ntables; i++) check_table(v, &m->tables[i]);
    for (uint32_t i = 0; i < m->nmems; i++) check_memory(v, &m->mems[i]);
    if (m->nmems > 1) invalid(v, "multiple memories");
    for (uint32_t i = m->nimported_globals; i < m->nglobals; i++)
        check_const_expr(v, &m->global_inits[i - m->nimported_globals], m->globals[i].type);
    v->offset = WB_NO_OFFSET;
    check_elems(v);
    check_datas(v);
    v->offset = WB_NO_OFFSET;
    if (m->has_start) {
        v->func_index = m->start;
        if (need_func(v, m->start) && m->func_types[m->start] < m->ntypes) {
            const wm_functype *ft = wm_func_type(m, m->start);
            if (ft->nparams || ft->nresults) invalid(v, "start function");
        }
        v->func_index = WB_NO_INDEX;
    }
    return check_exports(v);
}

wb_status wm_validate(const wm_module *m, wb_error *err) {
    vctx v;
    memset(&v, 0, sizeof v);
    v.m = m;
    v.err = err;
    v.hard = WB_OK;

    if (check_module(&v)) {
        for (uint32_t i = 0; i < m->nfuncs - m->nimported_funcs; i++)
            if (!validate_body(&v, i)) break;
    }
    free(v.vals);
    free(v.ctrls);
    free(v.locals);
    if (v.hard != WB_OK) return v.hard;
    return v.skip ? WB_ERR_INVALID : WB_OK;
}
