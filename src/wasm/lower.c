/*
 * lower.c - translates a validated function body into internal code.
 *
 * The Wasm operand stack is mapped onto frame slots: slot i of a frame is
 * the i-th local (params first), and the operand stack continues above the
 * locals. Because validation fixes the stack height at every instruction,
 * each instruction's operands become fixed slot numbers here, once, and the
 * interpreter never pushes or pops. Branches carry absolute targets; values
 * that a branch carries are moved into place by explicit copies emitted on
 * the branch's path.
 *
 * Lowering trusts the body to be valid (wm_validate ran first) and only
 * re-reads immediates; the reader still bounds every read.
 */
#include <stdlib.h>
#include <string.h>

#include "lower.h"
#include "reader.h"

#define NO_FIXUP UINT32_MAX
#define WM_POOL_MAX 32

enum { CTRL_BLOCK, CTRL_LOOP, CTRL_IF, CTRL_FUNC };

typedef struct ctrl {
    uint8_t kind;
    uint32_t nparams, nresults;
    uint32_t height;     /* stack height below the block's params */
    uint32_t loop_pc;    /* CTRL_LOOP: branch target */
    uint32_t fixups;     /* chain of words waiting for the end's address */
    uint32_t else_fixup; /* CTRL_IF: the br_unless target word */
} ctrl;

/* What an operand-stack position holds while lowering. Values are only
 * written to their own slot when something needs them there: local.get
 * and constants stay virtual, so `local.get a; local.get b; i32.add`
 * becomes one instruction reading the locals' slots directly.
 *
 * A load stays virtual too (V_LOAD) until its value is needed, so that
 * the arithmetic using it, and a store of that arithmetic back to the
 * same address, can read memory themselves. A pending load only reads
 * locals, pooled constants or its own position, and is written out
 * before anything that could store to memory, trap otherwise, or change
 * one of the slots it reads (see keeps_loads): loads are only ever
 * delayed past instructions that cannot observe the difference. */
enum { V_SLOT, V_LOCAL, V_CONST, V_LOAD };

typedef struct vval {
    uint8_t kind;
    uint8_t wide;     /* V_CONST: 64-bit */
    uint8_t nw;       /* V_LOAD: address words in w */
    uint8_t nslots;   /* V_LOAD: how many of them (from w[0]) are slots */
    uint16_t iop;     /* V_LOAD: the load in its address form */
    uint32_t local;   /* V_LOCAL: the local's slot */
    uint64_t k;       /* V_CONST: the bits */
    uint32_t w[4];    /* V_LOAD: the operand words after the destination */
    size_t off;       /* V_LOAD: the load's offset in the code section */
} vval;

typedef struct lowerer {
    const wm_module *m;
    vval *vs;         /* per stack position (index = slot), nlocals.. */
    uint32_t capvs;
    /* The destination word of the last instruction, while it is the last
     * one: local.set can then retarget it instead of copying. */
    uint32_t last_dst_word, last_dst_pos;
    bool last_dst_valid;
    uint32_t last_op_at; /* word index of the last instruction */
    uint32_t prev_op_at; /* and of the one before (NO_FIXUP: unknown) */
    uint32_t fence;      /* code from here on follows the last label */
    wm_reader r;
    wm_word *code;
    uint32_t n, cap;
    uint32_t *pcmap;
    uint32_t npc, cappc;
    ctrl *ctrls;
    uint32_t nctrl, capctrl;
    uint32_t h, maxh;
    uint32_t nlocals;
    /* Constants used inside loops live in slots of their own right after
     * the locals, written once by a prologue: a loop then reads them like
     * locals instead of rebuilding them on every iteration. */
    uint32_t npool;
    uint64_t pool[WM_POOL_MAX];
    bool pool_wide[WM_POOL_MAX];
    uint32_t base;    /* first operand-stack slot: nlocals + npool */
    bool vloads;      /* a V_LOAD may be on the stack */
    /* From the pre-pass, so that a block's entry can tell which locals
     * the block writes: where each block (numbered in order of
     * appearance) ends, and the offset and local of every local.set and
     * local.tee, in offset order. scanned: the pre-pass got through. */
    size_t *blk_end;
    uint32_t nblk, blk_next;
    size_t *wr_off;
    uint32_t *wr_local;
    uint32_t nwr;
    bool scanned;
    bool oom;
} lowerer;

/* Opcode byte -> internal op + 1 (0: not in the table) for the simple and
 * memory instructions of opcodes.def, and whether they take two operands
 * or store; sub-opcode -> internal op for the 0xFC conversions. */
static const uint16_t simple_iop[256] = {
#define WM_SIMPLE(name, op, in1, in2, out) [op] = WM_IOP_##name + 1,
#include "opcodes.def"
};
static const uint8_t simple_binary[256] = {
#define WM_SIMPLE(name, op, in1, in2, out) [op] = (in2) != 0,
#include "opcodes.def"
};
static const uint16_t memop_iop[256] = {
#define WM_MEMOP(name, op, type, size, store) [op] = WM_IOP_##name + 1,
#include "opcodes.def"
};
static const uint8_t memop_store[256] = {
#define WM_MEMOP(name, op, type, size, store) [op] = (store),
#include "opcodes.def"
};
static const uint16_t fc_iop[8] = {
#define WM_FC_SIMPLE(name, sub, in1, in2, out) [sub] = WM_IOP_##name,
#include "opcodes.def"
};
static const uint8_t fc_binary[8] = {
#define WM_FC_SIMPLE(name, sub, in1, in2, out) [sub] = (in2) != 0,
#include "opcodes.def"
};

/* Binary internal op -> its constant-operand form + 1 (0: none). */
static const uint16_t k_iop[WM_IOP_COUNT] = {
#define WM_IOP(name, nwords)
#define WM_IOPBR(cmp)
#define WM_IOPMX(name)
#define WM_IOPSK(name)
#define WM_IOPK(name) [WM_IOP_##name] = WM_IOP_##name##_k + 1,
#include "iops.def"
#undef WM_IOPBR
#undef WM_IOPMX
#undef WM_IOPSK
};

/* i32 comparison (either form) -> the fused compare-and-branch + 1, and
 * the comparison that holds exactly when it does not (for br_unless). */
typedef struct cmp_info {
    uint16_t br, br_k;  /* fused forms + 1 */
    uint16_t inverse;   /* the negated comparison (slot form) */
    bool konst;         /* this is the constant-operand form */
} cmp_info;

#define CMP(c, inv)                                                                 \
    [WM_IOP_i32_##c] = {WM_IOP_br_##c + 1, WM_IOP_br_##c##_k + 1, WM_IOP_i32_##inv, false}, \
    [WM_IOP_i32_##c##_k] = {WM_IOP_br_##c + 1, WM_IOP_br_##c##_k + 1, WM_IOP_i32_##inv, true},
#define CMP64(c, inv)                                                                 \
    [WM_IOP_i64_##c] = {WM_IOP_br_i64_##c + 1, WM_IOP_br_i64_##c##_k + 1, WM_IOP_i64_##inv, false}, \
    [WM_IOP_i64_##c##_k] = {WM_IOP_br_i64_##c + 1, WM_IOP_br_i64_##c##_k + 1, WM_IOP_i64_##inv, true},
static const cmp_info cmp_table[WM_IOP_COUNT] = {
    CMP(eq, ne) CMP(ne, eq) CMP(lt_s, ge_s) CMP(lt_u, ge_u) CMP(gt_s, le_s)
    CMP(gt_u, le_u) CMP(le_s, gt_s) CMP(le_u, gt_u) CMP(ge_s, lt_s) CMP(ge_u, lt_u)
    CMP64(eq, ne) CMP64(ne, eq) CMP64(lt_s, ge_s) CMP64(lt_u, ge_u) CMP64(gt_s, le_s)
    CMP64(gt_u, le_u) CMP64(le_s, gt_s) CMP64(le_u, gt_u) CMP64(ge_s, lt_s) CMP64(ge_u, lt_u)
};
#undef CMP
#undef CMP64

/* Memory op -> its indexed form (address = slot + slot) + 1, and its
 * constant-value form for stores + 1. */
static const uint16_t memx_iop[WM_IOP_COUNT] = {
#define WM_IOP(name, nwords)
#define WM_IOPK(name)
#define WM_IOPBR(cmp)
#define WM_IOPSK(name)
#define WM_IOPMX(name) [WM_IOP_##name] = WM_IOP_##name##_x + 1,
#include "iops.def"
#undef WM_IOPK
#undef WM_IOPBR
#undef WM_IOPSK
};
static const uint16_t storek_iop[WM_IOP_COUNT] = {
#define WM_IOP(name, nwords)
#define WM_IOPK(name)
#define WM_IOPBR(cmp)
#define WM_IOPMX(name)
#define WM_IOPSK(name) [WM_IOP_##name] = WM_IOP_##name##_k + 1,
#include "iops.def"
#undef WM_IOPK
#undef WM_IOPBR
#undef WM_IOPMX
};

/* ---------------------------------------------------------------- emit */

static void emit(lowerer *L, wm_word w) {
    if (L->n == L->cap) {
        uint32_t cap = L->cap ? L->cap * 2 : 256;
        wm_word *c = realloc(L->code, (size_t)cap * sizeof *c);
        if (!c) { L->oom = true; L->n = 0; return; }
        L->code = c;
        L->cap = cap;
    }
    L->code[L->n++] = w;
}

static void emit_op(lowerer *L, wm_iop op, size_t offset) {
    if (L->npc + 2 > L->cappc) {
        uint32_t cap = L->cappc ? L->cappc * 2 : 256;
        uint32_t *p = realloc(L->pcmap, (size_t)cap * sizeof *p);
        if (!p) { L->oom = true; L->npc = 0; return; }
        L->pcmap = p;
        L->cappc = cap;
    }
    L->pcmap[L->npc++] = L->n;
    L->pcmap[L->npc++] = (uint32_t)offset;
    L->last_dst_valid = false;
    L->prev_op_at = L->last_op_at;
    L->last_op_at = L->n;
    emit(L, (wm_word)op);
}

static bool vs_reserve(lowerer *L, uint32_t need) {
    if (need <= L->capvs) return true;
    uint32_t cap = L->capvs ? L->capvs : 64;
    while (cap < need) cap *= 2;
    vval *v = realloc(L->vs, (size_t)cap * sizeof *v);
    if (!v) {
        L->oom = true;
        return false;
    }
    memset(v + L->capvs, 0, (size_t)(cap - L->capvs) * sizeof *v);
    L->vs = v;
    L->capvs = cap;
    return true;
}

/* Pushes n values that their producer writes to their own slots. */
static void push(lowerer *L, uint32_t n) {
    if (!vs_reserve(L, L->h + n + 1)) return;
    /* A new value where a dropped one was: the dropped value's producer
     * is not this value's. */
    if (L->last_dst_valid && L->last_dst_pos >= L->h && L->last_dst_pos < L->h + n)
        L->last_dst_valid = false;
    for (uint32_t i = 0; i < n; i++) L->vs[L->h + i].kind = V_SLOT;
    L->h += n;
    if (L->h > L->maxh) L->maxh = L->h;
}

/* The destination word of an instruction that writes position pos. */
static void emit_dst(lowerer *L, uint32_t pos) {
    L->last_dst_word = L->n;
    emit(L, pos);
    L->last_dst_pos = pos;
    L->last_dst_valid = !L->oom;
}

/* Appends a word that will hold the address of c's end. */
static void emit_fixup(lowerer *L, ctrl *c) {
    uint32_t at = L->n;
    emit(L, c->fixups);
    if (!L->oom) c->fixups = at;
}

static void patch_chain(lowerer *L, uint32_t head, uint32_t target) {
    while (head != NO_FIXUP && !L->oom) {
        uint32_t next = L->code[head];
        L->code[head] = target;
        head = next;
    }
}

static void emit_copy(lowerer *L, uint32_t dst, uint32_t src, size_t off) {
    if (dst == src) return;
    emit_op(L, WM_IOP_copy, off);
    emit(L, dst);
    emit(L, src);
}

static void emit_const(lowerer *L, uint32_t dst, const vval *v, size_t off) {
    if (v->wide) {
        emit_op(L, WM_IOP_const64, off);
        emit_dst(L, dst);
        emit(L, (uint32_t)v->k);
        emit(L, (uint32_t)(v->k >> 32));
    } else {
        emit_op(L, WM_IOP_const32, off);
        emit_dst(L, dst);
        emit(L, (uint32_t)v->k);
    }
}

/* Emits a pending load, writing slot dst. */
static void emit_load(lowerer *L, uint32_t dst, const vval *v) {
    emit_op(L, (wm_iop)v->iop, v->off);
    emit_dst(L, dst);
    for (uint32_t i = 0; i < v->nw; i++) emit(L, v->w[i]);
}

/* Whether a pending load reads slot x. */
static bool load_reads(const vval *v, uint32_t x) {
    return v->kind == V_LOAD && (v->w[0] == x || (v->nslots == 2 && v->w[1] == x));
}

/* Writes a virtual value to its own slot. */
static void materialize(lowerer *L, uint32_t pos, size_t off) {
    if (pos < L->base || L->oom) return;
    vval *v = &L->vs[pos];
    if (v->kind == V_LOCAL) emit_copy(L, pos, v->local, off);
    else if (v->kind == V_CONST) emit_const(L, pos, v, off);
    else if (v->kind == V_LOAD) emit_load(L, pos, v);
    v->kind = V_SLOT;
}

/* Emits every pending load below position `to`, in stack order. */
static void flush_loads(lowerer *L, uint32_t to) {
    if (!L->vloads) return;
    for (uint32_t p = L->base; p < to && !L->oom; p++)
        if (L->vs[p].kind == V_LOAD) materialize(L, p, 0);
    L->vloads = to < L->h;
}

/* Opcodes that a pending load may be delayed past: they neither write
 * memory nor trap (loads trap the same way among themselves) nor branch;
 * local.set takes care of the loads reading its local. */
static bool keeps_loads(uint8_t op) {
    if (op == 0x01 || op == 0x1B || (op >= 0x20 && op <= 0x24) || (op >= 0x28 && op <= 0x35) ||
        (op >= 0x41 && op <= 0x44))
        return true;
    if (op < 0x45 || op > 0xC4) return false;
    return !(op >= 0x6D && op <= 0x70) && !(op >= 0x7F && op <= 0x82) &&
           !(op >= 0xA8 && op <= 0xAB) && !(op >= 0xAE && op <= 0xB1);
}

static void materialize_range(lowerer *L, uint32_t from, uint32_t to, size_t off) {
    for (uint32_t p = from < L->base ? L->base : from; p < to; p++) materialize(L, p, off);
}

/* Before a branch, else or end: every value of the innermost block in its
 * own slot, as branch targets and block boundaries expect. Values below
 * the block were settled at its entry (materialize_entry) and stay as
 * they are on every path through it. */
static void materialize_all(lowerer *L, size_t off) {
    materialize_range(L, L->ctrls[L->nctrl - 1].height, L->h, off);
}

/* Whether local x is written (local.set/tee) between offsets from and to. */
static bool local_written(const lowerer *L, uint32_t x, size_t from, size_t to) {
    uint32_t lo = 0, hi = L->nwr;
    while (lo < hi) { /* the first write at or after from */
        uint32_t mid = lo + (hi - lo) / 2;
        if (L->wr_off[mid] < from) lo = mid + 1;
        else hi = mid;
    }
    for (uint32_t i = lo, n = 0; i < L->nwr && L->wr_off[i] < to; i++, n++) {
        if (L->wr_local[i] == x) return true;
        if (n == 4096) return true; /* a long block: assume so rather than scan on */
    }
    return false;
}

/* At the entry of block number k (a block, loop or if at offset `off`)
 * with np params: the params go to their slots; values below stay
 * virtual when nothing in the block can change them (constants, and
 * locals the block does not write), so a loop does not copy, say, an
 * array base on every iteration. */
static void materialize_entry(lowerer *L, uint32_t np, uint32_t k, size_t off) {
    uint32_t below = L->h - np;
    size_t end = L->scanned && k < L->nblk ? L->blk_end[k] : 0;
    for (uint32_t p = L->base; p < below && !L->oom; p++) {
        const vval *v = &L->vs[p];
        if (v->kind == V_CONST) continue;
        if (v->kind == V_LOCAL && end && !local_written(L, v->local, off, end)) continue;
        materialize(L, p, off);
    }
    materialize_range(L, below, L->h, off);
}

/* The slot to read the value at pos from (a local's own slot for a
 * virtual local.get; constants are written to pos first). */
static uint32_t use(lowerer *L, uint32_t pos, size_t off) {
    if (pos < L->base || L->oom) return pos;
    vval *v = &L->vs[pos];
    if (v->kind == V_LOCAL) return v->local;
    if (v->kind == V_CONST || v->kind == V_LOAD) materialize(L, pos, off);
    return pos;
}

/* Whether the value at pos reads local x. */
static bool reads_local(const vval *v, uint32_t x) {
    return (v->kind == V_LOCAL && v->local == x) || load_reads(v, x);
}

/* Before local x changes: values still reading x get their own copy.
 * Returns whether there were any. */
static bool materialize_refs(lowerer *L, uint32_t x, uint32_t below, size_t off) {
    bool any = false;
    for (uint32_t p = L->base; p < below && !L->oom; p++)
        if (reads_local(&L->vs[p], x)) {
            materialize(L, p, off);
            any = true;
        }
    return any;
}

static void push_local(lowerer *L, uint32_t x) {
    push(L, 1);
    if (!L->oom) {
        L->vs[L->h - 1].kind = V_LOCAL;
        L->vs[L->h - 1].local = x;
    }
}

static void push_const(lowerer *L, uint64_t k, bool wide) {
    for (uint32_t i = 0; i < L->npool; i++)
        if (L->pool[i] == k && L->pool_wide[i] == wide) {
            push_local(L, L->nlocals + i);
            return;
        }
    push(L, 1);
    if (!L->oom) {
        L->vs[L->h - 1].kind = V_CONST;
        L->vs[L->h - 1].k = k;
        L->vs[L->h - 1].wide = wide;
    }
}

/* local.set / local.tee x of the value on top. */
static void lower_set_local(lowerer *L, uint32_t x, bool tee, size_t off) {
    uint32_t top = L->h - 1;
    vval v = L->vs[top];
    if (v.kind == V_LOCAL && v.local == x) {
        /* local.get x; local.set x: nothing changes. */
    } else {
        bool refs = materialize_refs(L, x, top, off);
        if (v.kind == V_CONST) {
            emit_const(L, x, &v, off);
        } else if (v.kind == V_LOAD) {
            emit_load(L, x, &v);
        } else if (v.kind == V_SLOT && !refs && L->last_dst_valid && L->last_dst_pos == top) {
            /* The value's producer writes straight into x. */
            L->code[L->last_dst_word] = x;
        } else {
            emit_copy(L, x, use(L, top, off), off);
        }
    }
    L->last_dst_valid = false;
    if (!tee) {
        L->h--;
    } else if (v.kind != V_CONST) {
        L->vs[top].kind = V_LOCAL;
        L->vs[top].local = x;
    }
}

/* The word index of the instruction just emitted when it computed the
 * value at pos (a stack temporary), else NO_FIXUP. */
static uint32_t peek_back(const lowerer *L, uint32_t pos) {
    if (!L->last_dst_valid || L->last_dst_pos != pos || L->oom || L->vs[pos].kind != V_SLOT)
        return NO_FIXUP;
    return L->last_op_at;
}

/* Removes the last instruction, which starts at word `at`. Its words stay
 * readable until the next emit. */
static void drop_last(lowerer *L, uint32_t at) {
    L->n = at;
    L->npc -= 2;
    L->last_dst_valid = false;
    L->last_op_at = L->prev_op_at;
    L->prev_op_at = NO_FIXUP;
}

/* When the instruction just emitted is `op` and wrote position pos (a
 * stack temporary that only the instruction being lowered reads), takes
 * it back and returns the word index where it started, plus one (its
 * operand words stay readable there until overwritten); else returns 0. */
static uint32_t take_back(lowerer *L, wm_iop op, uint32_t pos) {
    uint32_t at = peek_back(L, pos);
    if (at == NO_FIXUP || (wm_iop)L->code[at] != op) return 0;
    drop_last(L, at);
    return at + 1; /* + 1: never 0 */
}

/* An address just computed into pos by i32.add, i32.add of a shifted
 * index, or i32.add/i32.sub of a constant: takes that instruction back
 * so the access can do the arithmetic itself. Returns the form (0: _x,
 * 1: _s, 2: _a, 3: _sk, a scaled index plus a constant, as in a static
 * table's `tab[i]`) and the operand words (w[0..2]; for _a the constant
 * to add), or -1. */
static const struct {
    wm_iop op;
    int form;  /* the access form it folds into */
    bool two;  /* its second operand word is a slot too */
} address_ops[] = {
    {WM_IOP_i32_add, 0, true},    {WM_IOP_i32_add_shl, 1, true},    {WM_IOP_i32_add_k, 2, false},
    {WM_IOP_i32_sub_k, 2, false}, {WM_IOP_i32_shl_add_k, 3, false},
};

/* The entry of address_ops for op, or -1. */
static int address_op(wm_iop op) {
    for (int i = 0; i < (int)(sizeof address_ops / sizeof address_ops[0]); i++)
        if (address_ops[i].op == op) return i;
    return -1;
}

static int take_back_address(lowerer *L, uint32_t pos, uint32_t w[3]) {
    uint32_t at = peek_back(L, pos);
    int i = at == NO_FIXUP ? -1 : address_op((wm_iop)L->code[at]);
    if (i < 0) return -1;
    wm_iop op = address_ops[i].op;
    drop_last(L, at);
    w[0] = L->code[at + 2];
    w[1] = L->code[at + 3];
    w[2] = op == WM_IOP_i32_add_shl || op == WM_IOP_i32_shl_add_k ? L->code[at + 4] : 0;
    if (op == WM_IOP_i32_sub_k) w[1] = 0u - w[1];
    return address_ops[i].form;
}

/* A conditional branch on the value at pos: when the instruction just
 * emitted is the i32 comparison that computed it, that comparison is
 * taken back and the branch tests it directly. *op gets the fused branch
 * (on the negated comparison when `negate`), *x and *y its operand words.
 * An i32.eqz is folded the same way into a plain br_if/br_unless:
 * then *op is WM_IOP_br_if or WM_IOP_br_unless and *x the operand. */
static bool fuse_condition(lowerer *L, uint32_t pos, bool negate, bool to_loop, wm_iop *op,
                           uint32_t *x, uint32_t *y) {
    uint32_t at = peek_back(L, pos);
    if (at == NO_FIXUP) return false;
    wm_iop cmp = (wm_iop)L->code[at];
    if (cmp == WM_IOP_i32_eqz) {
        /* No br_unless form checks fuel, as a loop's back edge must. */
        if (to_loop && !negate) return false;
        *op = negate ? WM_IOP_br_if : WM_IOP_br_unless;
        *x = L->code[at + 2];
    } else if (cmp_table[cmp].br) {
        bool konst = cmp_table[cmp].konst;
        const cmp_info *ci = &cmp_table[negate ? cmp_table[cmp].inverse : cmp];
        *op = (wm_iop)((konst ? ci->br_k : ci->br) - 1);
        *x = L->code[at + 2];
        *y = L->code[at + 3];
    } else {
        return false;
    }
    drop_last(L, at);
    return true;
}

/* A fused loop branch on x right after x = a + k (or a - k): one
 * instruction. */
static bool fuse_increment(lowerer *L, wm_iop fop, uint32_t x, uint32_t y, uint32_t target,
                           size_t off) {
    static const struct { wm_iop br, inc; } forms[] = {
        {WM_IOP_br_ne, WM_IOP_br_inc_ne},         {WM_IOP_br_lt_u, WM_IOP_br_inc_lt_u},
        {WM_IOP_br_lt_s, WM_IOP_br_inc_lt_s},     {WM_IOP_br_ne_k, WM_IOP_br_inc_ne_k},
        {WM_IOP_br_lt_u_k, WM_IOP_br_inc_lt_u_k}, {WM_IOP_br_lt_s_k, WM_IOP_br_inc_lt_s_k},
    };
    uint32_t at = L->last_op_at;
    if (at == NO_FIXUP || at < L->fence || at + 4 != L->n || L->oom ||
        (L->code[at] != WM_IOP_i32_add_k && L->code[at] != WM_IOP_i32_sub_k))
        return false;
    if (L->code[at + 1] != x && fop == WM_IOP_br_ne && L->code[at + 1] == y) {
        uint32_t t = x; /* n != i is i != n */
        x = y;
        y = t;
    }
    if (L->code[at + 1] != x) return false;
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        if (forms[i].br != fop) continue;
        uint32_t a = L->code[at + 2], k = L->code[at + 3];
        if (L->code[at] == WM_IOP_i32_sub_k) k = 0u - k;
        drop_last(L, at);
        emit_op(L, forms[i].inc, off);
        emit(L, x);
        emit(L, a);
        emit(L, k);
        emit(L, y);
        emit(L, target);
        return true;
    }
    return false;
}

/* A call's n arguments (the stack top): each must be in its own slot,
 * except that local.get values may stay virtual when the call copies
 * them itself (the _args forms). Returns whether any does. */
static bool args_from_locals(lowerer *L, uint32_t n, size_t off) {
    bool any = false;
    for (uint32_t p = L->h - n; p < L->h && !L->oom; p++) {
        if (p >= L->base && L->vs[p].kind == V_LOCAL) any = true;
        else materialize(L, p, off);
    }
    return any;
}

/* After an _args call (L->h already below the arguments): where each of
 * the n arguments comes from, a local or the argument's own slot. */
static void emit_arg_sources(lowerer *L, uint32_t n) {
    emit(L, n);
    for (uint32_t i = 0; i < n; i++) {
        const vval *v = &L->vs[L->h + i];
        emit(L, L->h + i >= L->base && v->kind == V_LOCAL ? v->local : L->h + i);
    }
}

/* Moves the values a branch to c carries from the stack top into the
 * slots c expects them in. Destinations never lie above their sources, so
 * copying upward is safe even when the ranges overlap. */
static void emit_branch_copies(lowerer *L, const ctrl *c, size_t off) {
    uint32_t arity = c->kind == CTRL_LOOP ? c->nparams : c->nresults;
    uint32_t dst = c->kind == CTRL_FUNC ? 0 : c->height;
    uint32_t src = L->h - arity;
    for (uint32_t i = 0; i < arity; i++) emit_copy(L, dst + i, src + i, off);
}

static bool branch_needs_copies(const lowerer *L, const ctrl *c) {
    uint32_t arity = c->kind == CTRL_LOOP ? c->nparams : c->nresults;
    uint32_t dst = c->kind == CTRL_FUNC ? 0 : c->height;
    return arity != 0 && L->h - arity != dst;
}

/* Emits the jump of a branch to c (after its copies). */
static void emit_jump(lowerer *L, ctrl *c, size_t off) {
    if (c->kind == CTRL_FUNC) {
        emit_op(L, WM_IOP_return, off);
    } else if (c->kind == CTRL_LOOP) {
        emit_op(L, WM_IOP_br_loop, off);
        emit(L, c->loop_pc);
    } else {
        emit_op(L, WM_IOP_br, off);
        emit_fixup(L, c);
    }
}

/* A whole branch to c: the copies of the values it carries, then the
 * jump. Returning one value that is not in slot 0 yet is one
 * instruction. */
static void emit_branch(lowerer *L, ctrl *c, size_t off) {
    if (c->kind == CTRL_FUNC && c->nresults == 1 && L->h - 1 != 0) {
        emit_op(L, WM_IOP_return1, off);
        emit(L, L->h - 1);
        return;
    }
    emit_branch_copies(L, c, off);
    emit_jump(L, c, off);
}

static void push_ctrl(lowerer *L, uint8_t kind, uint32_t np, uint32_t nr) {
    /* A label: code after it is reached from elsewhere too, so no earlier
     * instruction may be retargeted or merged across it. */
    L->last_dst_valid = false;
    L->fence = L->n;
    if (L->nctrl == L->capctrl) {
        uint32_t cap = L->capctrl ? L->capctrl * 2 : 16;
        ctrl *c = realloc(L->ctrls, (size_t)cap * sizeof *c);
        if (!c) { L->oom = true; return; }
        L->ctrls = c;
        L->capctrl = cap;
    }
    ctrl *c = &L->ctrls[L->nctrl++];
    c->kind = kind;
    c->nparams = np;
    c->nresults = nr;
    c->height = L->h - np;
    c->loop_pc = L->n;
    c->fixups = NO_FIXUP;
    c->else_fixup = NO_FIXUP;
}

/* Reads a block type into its param and result counts. */
static void read_blocktype(lowerer *L, uint32_t *np, uint32_t *nr) {
    int64_t bt;
    *np = *nr = 0;
    if (L->r.p < L->r.end && (*L->r.p == 0x40)) {
        L->r.p++;
        return;
    }
    if (L->r.p < L->r.end && (*L->r.p & 0xC0) == 0x40) {
        /* A single-byte negative value: a value type. */
        L->r.p++;
        *nr = 1;
        return;
    }
    wm_read_s33(&L->r, &bt);
    if (bt >= 0 && (uint64_t)bt < L->m->ntypes) {
        *np = L->m->types[bt].nparams;
        *nr = L->m->types[bt].nresults;
    }
}

static uint32_t read_u32(lowerer *L) {
    uint32_t v;
    wm_read_u32(&L->r, &v);
    return v;
}

static uint8_t read_u8(lowerer *L) {
    uint8_t v;
    wm_read_u8(&L->r, &v);
    return v;
}

/* Skips the immediates of an instruction in unreachable code. */
static void skip_immediates(lowerer *L, uint8_t op) {
    uint32_t n;
    int64_t s;
    const uint8_t *bytes;
    switch (op) {
    case 0x02: case 0x03: case 0x04: wm_read_s33(&L->r, &s); break;
    case 0x0C: case 0x0D: case 0x10: case 0x20: case 0x21: case 0x22:
    case 0x23: case 0x24: case 0x25: case 0x26: case 0xD2:
        read_u32(L);
        break;
    case 0x0E:
        n = read_u32(L);
        for (uint64_t i = 0; i <= n && !L->r.failed; i++) read_u32(L);
        break;
    case 0x11: read_u32(L); read_u32(L); break;
    case 0x1C:
        n = read_u32(L);
        wm_read_bytes(&L->r, n, &bytes);
        break;
    case 0x3F: case 0x40: case 0xD0: read_u8(L); break;
    case 0x41: wm_read_sleb(&L->r, 32, &s); break;
    case 0x42: wm_read_sleb(&L->r, 64, &s); break;
    case 0x43: wm_read_bytes(&L->r, 4, &bytes); break;
    case 0x44: wm_read_bytes(&L->r, 8, &bytes); break;
    case 0xFC:
        n = read_u32(L);
        switch (n) {
        case 8: read_u32(L); read_u8(L); break;
        case 10: read_u8(L); read_u8(L); break;
        case 11: read_u8(L); break;
        case 9: case 13: case 15: case 16: case 17: read_u32(L); break;
        case 12: case 14: read_u32(L); read_u32(L); break;
        default: break;
        }
        break;
    default:
        if (op >= 0x28 && op <= 0x3E) { read_u32(L); read_u32(L); }
        break;
    }
}

/* ----------------------------------------------------------- the body */

static void lower_br_table(lowerer *L, size_t off) {
    uint32_t n = read_u32(L);
    if (L->r.failed || n > wm_reader_left(&L->r)) { L->r.failed = true; return; }
    uint32_t *labels = malloc(((size_t)n + 1) * sizeof *labels);
    uint32_t *stub_of = calloc(L->nctrl, sizeof *stub_of);
    if (!labels || !stub_of) {
        free(labels);
        free(stub_of);
        L->oom = true;
        return;
    }
    for (uint32_t i = 0; i <= n; i++) labels[i] = read_u32(L);
    uint32_t idx = use(L, L->h - 1, off);
    L->h--;
    materialize_all(L, off);
    emit_op(L, WM_IOP_br_table, off);
    emit(L, idx);
    emit(L, n);
    uint32_t base = L->n;
    for (uint32_t i = 0; i <= n; i++) emit(L, 0);
    if (L->oom || L->r.failed) goto done;
    for (uint32_t i = 0; i <= n; i++) {
        if (labels[i] >= L->nctrl) { L->r.failed = true; goto done; }
        ctrl *c = &L->ctrls[L->nctrl - 1 - labels[i]];
        if (c->kind == CTRL_BLOCK || c->kind == CTRL_IF) {
            if (!branch_needs_copies(L, c)) {
                uint32_t at = base + i;
                L->code[at] = c->fixups;
                c->fixups = at;
                continue;
            }
        }
        /* Loops (which need the back-edge check), the function level and
         * branches that move values go through a stub, shared by every
         * entry naming the same label. */
        uint32_t depth = labels[i];
        if (!stub_of[depth]) {
            stub_of[depth] = L->n;
            emit_branch(L, c, off);
            if (L->oom) goto done;
        }
        L->code[base + i] = stub_of[depth];
    }
done:
    free(labels);
    free(stub_of);
}

/* Which constants to pool: those inside a loop that an instruction could
 * not take as an immediate: floats, i64 constants beyond 32 bits, and
 * i32 constants used directly as a load's address. A first pass over
 * the body, before lowering it. */
static void pool_add(lowerer *L, uint64_t k, bool wide) {
    for (uint32_t i = 0; i < L->npool; i++)
        if (L->pool[i] == k && L->pool_wide[i] == wide) return;
    if (L->npool == WM_POOL_MAX) return;
    L->pool[L->npool] = k;
    L->pool_wide[L->npool] = wide;
    L->npool++;
}

/* Appends v to a growable array; false when out of memory. */
static bool append(void **arr, uint32_t *cap, uint32_t n, size_t size, const void *v) {
    if (n == *cap) {
        uint32_t c = *cap ? *cap * 2 : 64;
        void *a = realloc(*arr, (size_t)c * size);
        if (!a) return false;
        *arr = a;
        *cap = c;
    }
    memcpy((char *)*arr + (size_t)n * size, v, size);
    return true;
}

/* The pre-pass over the body: the constants to pool, each block's end
 * and every local write (see lowerer). */
static void prescan(lowerer *L) {
    wm_reader saved = L->r;
    uint8_t kinds[64]; /* 1 = loop, for the innermost 64 levels */
    uint32_t depth = 0, loops = 0;
    uint32_t *open = NULL, capopen = 0, capblk = 0, capwr = 0, capwl = 0;
    bool ok = true;
    while (!L->r.failed && wm_reader_left(&L->r) > 0) {
        size_t at = wm_reader_offset(&L->r);
        uint8_t op = read_u8(L);
        if (L->r.failed) break;
        if (op == 0x02 || op == 0x03 || op == 0x04) {
            skip_immediates(L, op);
            size_t none = 0;
            ok = ok && append((void **)&open, &capopen, depth, sizeof *open, &L->nblk) &&
                 append((void **)&L->blk_end, &capblk, L->nblk, sizeof *L->blk_end, &none);
            L->nblk++;
            if (depth < 64) kinds[depth] = op == 0x03;
            if (op == 0x03) loops++;
            depth++;
            continue;
        }
        if (op == 0x0B) {
            if (depth == 0) break; /* the function's end */
            depth--;
            if (ok) L->blk_end[open[depth]] = at;
            if (depth < 64 ? kinds[depth] : 0) loops--;
            continue;
        }
        if (op == 0x21 || op == 0x22) {
            uint32_t x = read_u32(L);
            ok = ok && append((void **)&L->wr_off, &capwr, L->nwr, sizeof *L->wr_off, &at) &&
                 append((void **)&L->wr_local, &capwl, L->nwr, sizeof *L->wr_local, &x);
            L->nwr++;
            continue;
        }
        if (loops == 0 || (op < 0x41 || op > 0x44)) {
            skip_immediates(L, op);
            continue;
        }
        if (op == 0x41) {
            int32_t v;
            wm_read_s32(&L->r, &v);
            uint8_t next = L->r.p < L->r.end ? *L->r.p : 0;
            if (next >= 0x28 && next <= 0x35) pool_add(L, (uint32_t)v, false);
        } else if (op == 0x42) {
            int64_t v;
            wm_read_s64(&L->r, &v);
            if (v != (int64_t)(int32_t)v) pool_add(L, (uint64_t)v, true);
        } else if (op == 0x43) {
            uint32_t v;
            wm_read_f32_bits(&L->r, &v);
            pool_add(L, v, false);
        } else {
            uint64_t v;
            wm_read_f64_bits(&L->r, &v);
            pool_add(L, v, true);
        }
    }
    /* A body that does not decode fails in lowering proper. */
    if (L->r.failed) L->npool = 0;
    L->scanned = ok && !L->r.failed;
    free(open);
    L->r = saved;
}

/* A constant a `_k` form can take: 32 bits, sign-extended for i64. */
static bool fits_imm(const vval *v) {
    return v->kind == V_CONST && (!v->wide || (int64_t)v->k == (int64_t)(int32_t)(uint32_t)v->k);
}

/* Emits op with its destination, the stack top, which it computes; the
 * caller adds the operand words. */
static void emit_result_op(lowerer *L, wm_iop op, size_t off) {
    emit_op(L, op, off);
    emit_dst(L, L->h - 1);
    L->vs[L->h - 1].kind = V_SLOT;
}

/* The slot a plain address at pos reads (a local's, or pos's own),
 * when it needs no code of its own. */
static bool plain_address(const lowerer *L, uint32_t pos, uint32_t *slot) {
    const vval *v = &L->vs[pos];
    if (v->kind != V_LOCAL && v->kind != V_SLOT) return false;
    *slot = v->kind == V_LOCAL ? v->local : pos;
    return true;
}

/* A store of x op mem[A + OFF] back to mem[A + OFF], where the
 * arithmetic (an _m instruction reading that memory) is the instruction
 * just emitted: `p->f += x` becomes one read-modify-write instruction.
 * Only add, and subtraction from the memory operand, have this form. */
static bool fuse_update(lowerer *L, wm_iop store, uint32_t offset) {
    static const struct { wm_iop store, m, to; } forms[] = {
        {WM_IOP_i32_store, WM_IOP_i32_add_m, WM_IOP_i32_add_to},
        {WM_IOP_i32_store, WM_IOP_i32_rsub_m, WM_IOP_i32_sub_to},
        {WM_IOP_i64_store, WM_IOP_i64_add_m, WM_IOP_i64_add_to},
        {WM_IOP_i64_store, WM_IOP_i64_rsub_m, WM_IOP_i64_sub_to},
        {WM_IOP_f64_store, WM_IOP_f64_add_m, WM_IOP_f64_add_to},
        {WM_IOP_f64_store, WM_IOP_f64_rsub_m, WM_IOP_f64_sub_to},
    };
    uint32_t at = peek_back(L, L->h - 1), addr;
    if (at == NO_FIXUP || !plain_address(L, L->h - 2, &addr)) return false;
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        if (forms[i].store != store || L->code[at] != forms[i].m) continue;
        if (L->code[at + 3] != addr || L->code[at + 4] != offset) return false;
        uint32_t x = L->code[at + 2];
        size_t off = L->pcmap[L->npc - 1];
        drop_last(L, at);
        L->h -= 2;
        emit_op(L, forms[i].to, off);
        emit(L, addr);
        emit(L, x);
        emit(L, offset);
        return true;
    }
    return false;
}

/* A store of a pending load of the same width, both with plain
 * addresses: a memory-to-memory copy, `a[i] = a[j]`. */
static bool fuse_move(lowerer *L, wm_iop store, uint32_t offset, size_t off) {
    const vval *v = &L->vs[L->h - 1];
    uint32_t a;
    if (v->kind != V_LOAD || !plain_address(L, L->h - 2, &a)) return false;
    wm_iop load = (wm_iop)v->iop, op;
    if ((store == WM_IOP_i32_store && (load == WM_IOP_i32_load || load == WM_IOP_f32_load)) ||
        (store == WM_IOP_f32_store && (load == WM_IOP_i32_load || load == WM_IOP_f32_load)))
        op = WM_IOP_move32;
    else if ((store == WM_IOP_i64_store || store == WM_IOP_f64_store) &&
             (load == WM_IOP_i64_load || load == WM_IOP_f64_load))
        op = WM_IOP_move64;
    else
        return false;
    vval ld = *v;
    L->h -= 2;
    emit_op(L, op, off);
    emit(L, a);
    emit(L, offset);
    emit(L, ld.w[0]);
    emit(L, ld.w[1]);
    return true;
}

/* A store whose address was computed by the instruction before the
 * value's: `p + 12` then `i + 7`, stored. The address arithmetic moves
 * into the store (as take_back_address) and the value's instruction
 * stays, when that instruction does not overwrite what the address
 * reads (it only writes the value's own slot). Returns the form, or -1. */
static int address_before_value(lowerer *L, uint32_t w[3]) {
    uint32_t vpos = L->h - 1, apos = L->h - 2;
    uint32_t vat = peek_back(L, vpos), aat = L->prev_op_at;
    if (vat == NO_FIXUP || aat == NO_FIXUP || aat < L->fence || L->vs[apos].kind != V_SLOT ||
        L->code[aat + 1] != apos)
        return -1;
    int i = address_op((wm_iop)L->code[aat]);
    if (i < 0 || L->code[aat + 2] == vpos || (address_ops[i].two && L->code[aat + 3] == vpos))
        return -1;
    /* Set the value's instruction aside, take the address back, put the
     * value's instruction back. */
    uint32_t len = L->n - vat;
    wm_word saved[8];
    if (len > 8) return -1;
    memcpy(saved, &L->code[vat], len * sizeof *saved);
    size_t voff = L->pcmap[L->npc - 1];
    drop_last(L, vat);
    L->last_op_at = aat;
    L->last_dst_word = aat + 1;
    L->last_dst_pos = apos;
    L->last_dst_valid = true;
    int form = take_back_address(L, apos, w);
    emit_op(L, (wm_iop)saved[0], voff);
    for (uint32_t i = 1; i < len; i++) emit(L, saved[i]);
    return form;
}

/* A load or store: constant stores, and address arithmetic just emitted
 * folded into the access. */
static void lower_memop(lowerer *L, uint8_t op, size_t off) {
    read_u32(L); /* alignment hint: irrelevant on this host */
    uint32_t offset = read_u32(L);
    wm_iop mop = (wm_iop)(memop_iop[op] - 1);
    uint32_t w[3] = {0, 0, 0};
    int form;
    if (memop_store[op]) {
        const vval *vv = &L->vs[L->h - 1];
        if (storek_iop[mop] && fits_imm(vv)) {
            uint32_t k = (uint32_t)vv->k;
            uint32_t a = use(L, L->h - 2, off);
            L->h -= 2;
            emit_op(L, (wm_iop)(storek_iop[mop] - 1), off);
            emit(L, a);
            emit(L, k);
        } else if (fuse_update(L, mop, offset) || fuse_move(L, mop, offset, off)) {
            return;
        } else {
            uint32_t v = use(L, L->h - 1, off);
            /* The address computation folds in: when the value needed no
             * code of its own, it is the instruction just emitted, else
             * it may be the one before the value's. */
            form = -1;
            if (memx_iop[mop] && L->vs[L->h - 1].kind != V_SLOT)
                form = take_back_address(L, L->h - 2, w);
            else if (memx_iop[mop])
                form = address_before_value(L, w);
            if (form >= 0) {
                L->h -= 2;
                emit_op(L, (wm_iop)(memx_iop[mop] - 1 + (uint32_t)form), off);
                emit(L, w[0]);
                emit(L, w[1]);
                if (form == 1 || form == 3) emit(L, w[2]);
            } else {
                uint32_t a = use(L, L->h - 2, off);
                L->h -= 2;
                emit_op(L, mop, off);
                emit(L, a);
            }
            emit(L, v);
        }
        emit(L, offset);
    } else {
        /* A load: its address form, then kept pending when it only reads
         * locals, pooled constants or its own position. */
        uint32_t pos = L->h - 1;
        vval ld = {0};
        ld.kind = V_LOAD;
        ld.off = off;
        if (memx_iop[mop] && (form = take_back_address(L, pos, w)) >= 0) {
            ld.iop = (uint16_t)(memx_iop[mop] - 1 + (uint32_t)form);
            ld.nslots = form >= 2 ? 1 : 2;
            ld.nw = form == 1 || form == 3 ? 4 : 3;
            ld.w[0] = w[0];
            ld.w[1] = w[1];
            ld.w[2] = w[2];
        } else {
            ld.iop = (uint16_t)mop;
            ld.nslots = 1;
            ld.nw = 2;
            ld.w[0] = use(L, pos, off);
        }
        ld.w[ld.nw - 1] = offset;
        bool pending = true;
        for (uint32_t i = 0; i < ld.nslots; i++)
            if (ld.w[i] >= L->base && ld.w[i] != pos) pending = false;
        L->vs[pos] = ld;
        if (pending) {
            L->vloads = true;
        } else {
            L->vs[pos].kind = V_SLOT;
            emit_load(L, pos, &ld);
        }
    }
}

/* x ^ (x >> k) on i64, when the shift is the instruction just emitted
 * and x is the xor's other operand: one instruction. */
static bool fuse_xorshift(lowerer *L, uint32_t a, uint32_t b, size_t off) {
    bool shr_is_b = b == L->h - 1;
    if (!shr_is_b && a != L->h - 2) return false;
    uint32_t other = shr_is_b ? a : b;
    uint32_t at = peek_back(L, shr_is_b ? L->h - 1 : L->h - 2);
    if (at == NO_FIXUP || L->code[at] != WM_IOP_i64_shr_u_k || L->code[at + 2] != other)
        return false;
    uint32_t k = L->code[at + 3];
    drop_last(L, at);
    L->h--;
    emit_result_op(L, WM_IOP_i64_xorshr_k, off);
    emit(L, other);
    emit(L, k);
    return true;
}

/* Arithmetic on a pending load (V_LOAD): the instruction reads memory
 * itself. f64 add, sub and mul take a plain or base+constant address;
 * i32 and i64 add and sub a plain one. m: the load is the second operand,
 * r: the first (a - m, m - a for sub). */
static bool fuse_load_operand(lowerer *L, wm_iop iop, size_t off) {
    static const struct { wm_iop op, load, load_a, m, r, ma, ra; } forms[] = {
        {WM_IOP_f64_add, WM_IOP_f64_load, WM_IOP_f64_load_a, WM_IOP_f64_add_m, WM_IOP_f64_add_m,
         WM_IOP_f64_add_ma, WM_IOP_f64_add_ma},
        {WM_IOP_f64_sub, WM_IOP_f64_load, WM_IOP_f64_load_a, WM_IOP_f64_sub_m, WM_IOP_f64_rsub_m,
         WM_IOP_f64_sub_ma, WM_IOP_f64_rsub_ma},
        {WM_IOP_f64_mul, WM_IOP_f64_load, WM_IOP_f64_load_a, WM_IOP_f64_mul_m, WM_IOP_f64_mul_m,
         WM_IOP_f64_mul_ma, WM_IOP_f64_mul_ma},
        {WM_IOP_i32_add, WM_IOP_i32_load, WM_IOP_COUNT, WM_IOP_i32_add_m, WM_IOP_i32_add_m, 0, 0},
        {WM_IOP_i32_sub, WM_IOP_i32_load, WM_IOP_COUNT, WM_IOP_i32_sub_m, WM_IOP_i32_rsub_m, 0, 0},
        {WM_IOP_i64_add, WM_IOP_i64_load, WM_IOP_COUNT, WM_IOP_i64_add_m, WM_IOP_i64_add_m, 0, 0},
        {WM_IOP_i64_sub, WM_IOP_i64_load, WM_IOP_COUNT, WM_IOP_i64_sub_m, WM_IOP_i64_rsub_m, 0, 0},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        if (forms[i].op != iop) continue;
        for (uint32_t side = 2; side-- > 0;) { /* the second operand first */
            const vval *v = &L->vs[L->h - 2 + side];
            if (v->kind != V_LOAD || (v->iop != forms[i].load && v->iop != forms[i].load_a))
                continue;
            bool a_form = v->iop == forms[i].load_a;
            vval ld = *v;
            uint32_t other = use(L, L->h - 1 - side, off);
            L->h--;
            emit_result_op(L, side ? (a_form ? forms[i].ma : forms[i].m)
                                   : (a_form ? forms[i].ra : forms[i].r), ld.off);
            emit(L, other);
            for (uint32_t j = 0; j < ld.nw; j++) emit(L, ld.w[j]);
            return true;
        }
        return false;
    }
    return false;
}

/* A commutative binary instruction one of whose operands the instruction
 * just emitted computed with `inner` from x and y: one instruction
 * `fused D x y other`. Used for (x ^ (x >> k)) * y on i64, the mixing
 * step of splitmix64, murmur3 and xxhash (inner i64_xorshr_k: x, k), and
 * for (x * y) * z on f64 (inner f64_mul), which multiplies in the same
 * order: z * (x * y) is the same product, IEEE multiplication commutes. */
static bool fuse_inner(lowerer *L, uint32_t a, uint32_t b, wm_iop inner, wm_iop fused,
                       size_t off) {
    bool inner_is_a = a == L->h - 2;
    uint32_t at = inner_is_a ? take_back(L, inner, L->h - 2) : 0;
    if (!at && b == L->h - 1) {
        at = take_back(L, inner, L->h - 1);
        inner_is_a = false;
    }
    if (!at) return false;
    uint32_t x = L->code[at + 1], y = L->code[at + 2];
    L->h--;
    emit_result_op(L, fused, off);
    emit(L, x);
    emit(L, y);
    emit(L, inner_is_a ? b : a);
    return true;
}

/* A numeric instruction of opcodes.def: constant-operand forms and the
 * fusions of docs/interpreter.md. */
static void lower_numeric(lowerer *L, uint8_t op, size_t off) {
    wm_iop iop = (wm_iop)(simple_iop[op] - 1);
    if (iop == WM_IOP_i32_wrap_i64) {
        /* i32 readers only look at a slot's low 32 bits: the i64 value
         * already is its own wrap. */
        vval *v = &L->vs[L->h - 1];
        if (v->kind == V_CONST) {
            v->k = (uint32_t)v->k;
            v->wide = 0;
        }
        return;
    }
    if (!simple_binary[op]) {
        uint32_t a = use(L, L->h - 1, off);
        emit_result_op(L, iop, off);
        emit(L, a);
        return;
    }
    const vval *vb = &L->vs[L->h - 1];
    if (k_iop[iop] && fits_imm(vb)) {
        uint32_t k = (uint32_t)vb->k;
        uint32_t a = use(L, L->h - 2, off);
        /* (i << s) + k: one instruction. */
        uint32_t at = iop == WM_IOP_i32_add && a == L->h - 2
                          ? take_back(L, WM_IOP_i32_shl_k, L->h - 2)
                          : 0;
        /* (x * y) >> k on i64, the high half of a product. */
        uint32_t mul = iop == WM_IOP_i64_shr_u && a == L->h - 2
                           ? take_back(L, WM_IOP_i64_mul, L->h - 2)
                           : 0;
        L->h--;
        if (mul) {
            uint32_t x = L->code[mul + 1], y = L->code[mul + 2];
            emit_result_op(L, WM_IOP_i64_mul_shr_u_k, off);
            emit(L, x);
            emit(L, y);
        } else if (at) {
            uint32_t x = L->code[at + 1], sh = L->code[at + 2];
            emit_result_op(L, WM_IOP_i32_shl_add_k, off);
            emit(L, x);
            emit(L, sh);
        } else {
            emit_result_op(L, (wm_iop)(k_iop[iop] - 1), off);
            emit(L, a);
        }
        emit(L, k);
        return;
    }
    if (fuse_load_operand(L, iop, off)) return;
    uint32_t b = use(L, L->h - 1, off);
    uint32_t a = use(L, L->h - 2, off);
    if (iop == WM_IOP_i64_xor && fuse_xorshift(L, a, b, off)) return;
    if (iop == WM_IOP_f64_mul && fuse_inner(L, a, b, WM_IOP_f64_mul, WM_IOP_f64_mul3, off))
        return;
    if (iop == WM_IOP_i64_mul &&
        fuse_inner(L, a, b, WM_IOP_i64_xorshr_k, WM_IOP_i64_xorshr_mul, off))
        return;
    /* base + (i << k): one instruction (the shift is the instruction just
     * emitted; i32.add commutes). */
    uint32_t at = 0;
    if (iop == WM_IOP_i32_add) {
        if (b == L->h - 1 && (at = take_back(L, WM_IOP_i32_shl_k, L->h - 1)) != 0) {
            /* a stays a: the shift wrote b's slot */
        } else if (a == L->h - 2 && (at = take_back(L, WM_IOP_i32_shl_k, L->h - 2)) != 0) {
            a = b;
        }
    }
    L->h--;
    if (at) {
        uint32_t x = L->code[at + 1], k = L->code[at + 2];
        emit_result_op(L, WM_IOP_i32_add_shl, off);
        emit(L, a);
        emit(L, x);
        emit(L, k);
    } else {
        emit_result_op(L, iop, off);
        emit(L, a);
        emit(L, b);
    }
}

static wb_status lower_body(lowerer *L, const wm_functype *ft) {
    const wm_module *m = L->m;
    uint32_t dead = 0;      /* nesting depth inside unreachable code */
    bool unreachable = false;

    push_ctrl(L, CTRL_FUNC, 0, ft->nresults);
    L->ctrls[0].height = L->base;

    while (L->nctrl > 0 && !L->r.failed && !L->oom) {
        size_t off = wm_reader_offset(&L->r);
        uint8_t op = read_u8(L);
        if (L->r.failed) break;

        if (unreachable) {
            if (op == 0x02 || op == 0x03 || op == 0x04) {
                skip_immediates(L, op);
                dead++;
                L->blk_next++;
                continue;
            }
            if (op == 0x0B && dead > 0) { dead--; continue; }
            if (op == 0x05 && dead > 0) continue;
            if (op != 0x0B && op != 0x05) {
                skip_immediates(L, op);
                continue;
            }
        }

        if (L->vloads && !keeps_loads(op)) {
            /* A store may copy a pending load's bytes itself (fuse_move);
             * everything before it is loaded first. */
            bool store = memop_iop[op] && memop_store[op];
            flush_loads(L, store ? L->h - 1 : L->h);
        }
        ctrl *top = &L->ctrls[L->nctrl - 1];
        uint32_t a, b, np, nr;
        switch (op) {
        case 0x00:
            emit_op(L, WM_IOP_unreachable, off);
            unreachable = true;
            break;
        case 0x01:
            break;
        case 0x02:
        case 0x03:
            read_blocktype(L, &np, &nr);
            materialize_entry(L, np, L->blk_next++, off);
            push_ctrl(L, op == 0x02 ? CTRL_BLOCK : CTRL_LOOP, np, nr);
            break;
        case 0x04: {
            read_blocktype(L, &np, &nr);
            a = use(L, L->h - 1, off);
            L->h--;
            materialize_entry(L, np, L->blk_next++, off);
            wm_iop fop;
            uint32_t x, y;
            if (fuse_condition(L, L->h, true, false, &fop, &x, &y)) {
                emit_op(L, fop, off);
                emit(L, x);
                if (fop != WM_IOP_br_if && fop != WM_IOP_br_unless) emit(L, y);
            } else {
                emit_op(L, WM_IOP_br_unless, off);
                emit(L, a);
            }
            a = L->n;
            emit(L, NO_FIXUP);
            push_ctrl(L, CTRL_IF, np, nr);
            if (!L->oom) L->ctrls[L->nctrl - 1].else_fixup = a;
            break;
        }
        case 0x05:
            if (!unreachable) {
                materialize_all(L, off);
                emit_op(L, WM_IOP_br, off);
                emit_fixup(L, top);
            }
            if (top->else_fixup != NO_FIXUP && !L->oom)
                L->code[top->else_fixup] = L->n;
            top->else_fixup = NO_FIXUP;
            L->h = top->height;
            push(L, top->nparams);
            L->last_dst_valid = false;
            L->fence = L->n;
            unreachable = false;
            break;
        case 0x0B:
            if (!unreachable) materialize_all(L, off);
            if (top->kind == CTRL_FUNC) {
                if (!unreachable) {
                    L->h = top->height + top->nresults;
                    emit_branch(L, top, off);
                }
                L->nctrl--;
                break;
            }
            if (top->else_fixup != NO_FIXUP && !L->oom)
                L->code[top->else_fixup] = L->n;
            patch_chain(L, top->fixups, L->n);
            L->h = top->height;
            push(L, top->nresults);
            L->nctrl--;
            L->last_dst_valid = false;
            L->fence = L->n;
            unreachable = false;
            break;
        case 0x0C: {
            a = read_u32(L);
            if (a >= L->nctrl) { L->r.failed = true; break; }
            ctrl *c = &L->ctrls[L->nctrl - 1 - a];
            materialize_all(L, off);
            emit_branch(L, c, off);
            unreachable = true;
            break;
        }
        case 0x0D: {
            a = read_u32(L);
            if (a >= L->nctrl) { L->r.failed = true; break; }
            ctrl *c = &L->ctrls[L->nctrl - 1 - a];
            uint32_t cond = use(L, L->h - 1, off);
            L->h--;
            materialize_all(L, off);
            bool direct = !branch_needs_copies(L, c) && c->kind != CTRL_FUNC;
            wm_iop fop;
            uint32_t x, y;
            if (fuse_condition(L, L->h, !direct, direct && c->kind == CTRL_LOOP, &fop, &x, &y)) {
                if (direct && c->kind == CTRL_LOOP && fuse_increment(L, fop, x, y, c->loop_pc, off))
                    break;
                emit_op(L, fop, off);
                emit(L, x);
                if (fop != WM_IOP_br_if && fop != WM_IOP_br_unless) emit(L, y);
                if (direct) {
                    if (c->kind == CTRL_LOOP) {
                        if (fop == WM_IOP_br_if) L->code[L->last_op_at] = WM_IOP_br_if_loop;
                        emit(L, c->loop_pc);
                    } else {
                        emit_fixup(L, c);
                    }
                } else {
                    b = L->n;
                    emit(L, 0);
                    emit_branch(L, c, off);
                    if (!L->oom) L->code[b] = L->n;
                }
            } else if (direct) {
                /* `local.tee n (n - 1); br_if loop`, the count-down loop
                 * compilers emit: the step and n != 0 are one instruction. */
                if (c->kind == CTRL_LOOP &&
                    fuse_increment(L, WM_IOP_br_ne_k, cond, 0, c->loop_pc, off))
                    break;
                if (c->kind == CTRL_LOOP) {
                    emit_op(L, WM_IOP_br_if_loop, off);
                    emit(L, cond);
                    emit(L, c->loop_pc);
                } else {
                    emit_op(L, WM_IOP_br_if, off);
                    emit(L, cond);
                    emit_fixup(L, c);
                }
            } else {
                emit_op(L, WM_IOP_br_unless, off);
                emit(L, cond);
                b = L->n;
                emit(L, 0);
                emit_branch(L, c, off);
                if (!L->oom) L->code[b] = L->n;
            }
            break;
        }
        case 0x0E:
            lower_br_table(L, off);
            unreachable = true;
            break;
        case 0x0F:
            materialize_all(L, off);
            emit_branch(L, &L->ctrls[0], off);
            unreachable = true;
            break;
        case 0x10: {
            a = read_u32(L);
            if (a >= m->nfuncs) { L->r.failed = true; break; }
            const wm_functype *t = wm_func_type(m, a);
            bool args = args_from_locals(L, t->nparams, off);
            L->h -= t->nparams;
            emit_op(L, args ? WM_IOP_call_args : WM_IOP_call, off);
            emit(L, a);
            emit(L, L->h);
            if (args) emit_arg_sources(L, t->nparams);
            /* The results land at the arguments' base. */
            push(L, t->nresults);
            break;
        }
        case 0x11: {
            a = read_u32(L);
            b = read_u32(L);
            if (a >= m->ntypes) { L->r.failed = true; break; }
            const wm_functype *t = &m->types[a];
            uint32_t idx = use(L, L->h - 1, off);
            L->h--;
            bool args = args_from_locals(L, t->nparams, off);
            L->h -= t->nparams;
            emit_op(L, args ? WM_IOP_call_indirect_args : WM_IOP_call_indirect, off);
            emit(L, a);
            emit(L, b);
            emit(L, L->h);
            emit(L, idx);
            if (args) emit_arg_sources(L, t->nparams);
            push(L, t->nresults);
            break;
        }
        case 0x1A:
            L->h--;
            L->last_dst_valid = false;
            break;
        case 0x1B:
        case 0x1C:
            if (op == 0x1C) {
                const uint8_t *types;
                a = read_u32(L);
                wm_read_bytes(&L->r, a, &types);
            }
            {
                uint32_t c = use(L, L->h - 1, off);
                uint32_t vb = use(L, L->h - 2, off);
                uint32_t va = use(L, L->h - 3, off);
                L->h -= 3;
                emit_op(L, WM_IOP_select, off);
                emit_dst(L, L->h);
                emit(L, va);
                emit(L, vb);
                emit(L, c);
                push(L, 1);
            }
            break;
        case 0x20:
            push_local(L, read_u32(L));
            break;
        case 0x21:
        case 0x22:
            lower_set_local(L, read_u32(L), op == 0x22, off);
            break;
        case 0x23:
            a = read_u32(L);
            emit_op(L, WM_IOP_global_get, off);
            emit_dst(L, L->h);
            emit(L, a);
            push(L, 1);
            break;
        case 0x24:
            a = read_u32(L);
            b = use(L, L->h - 1, off);
            L->h--;
            emit_op(L, WM_IOP_global_set, off);
            emit(L, a);
            emit(L, b);
            break;
        case 0x25:
            a = read_u32(L);
            b = use(L, L->h - 1, off);
            emit_op(L, WM_IOP_table_get, off);
            emit_dst(L, L->h - 1);
            emit(L, b);
            emit(L, a);
            L->vs[L->h - 1].kind = V_SLOT;
            break;
        case 0x26: {
            a = read_u32(L);
            uint32_t v = use(L, L->h - 1, off);
            b = use(L, L->h - 2, off);
            L->h -= 2;
            emit_op(L, WM_IOP_table_set, off);
            emit(L, a);
            emit(L, b);
            emit(L, v);
            break;
        }
        case 0x3F:
            read_u8(L);
            emit_op(L, WM_IOP_memory_size, off);
            emit_dst(L, L->h);
            push(L, 1);
            break;
        case 0x40:
            read_u8(L);
            a = use(L, L->h - 1, off);
            emit_op(L, WM_IOP_memory_grow, off);
            emit_dst(L, L->h - 1);
            emit(L, a);
            L->vs[L->h - 1].kind = V_SLOT;
            break;
        case 0x41: {
            int32_t v;
            wm_read_s32(&L->r, &v);
            push_const(L, (uint32_t)v, false);
            break;
        }
        case 0x42: {
            int64_t v;
            wm_read_s64(&L->r, &v);
            push_const(L, (uint64_t)v, true);
            break;
        }
        case 0x43: {
            uint32_t v;
            wm_read_f32_bits(&L->r, &v);
            push_const(L, v, false);
            break;
        }
        case 0x44: {
            uint64_t v;
            wm_read_f64_bits(&L->r, &v);
            push_const(L, v, true);
            break;
        }
        case 0xD0:
            read_u8(L);
            push_const(L, 0, true);
            break;
        case 0xD1:
            a = use(L, L->h - 1, off);
            emit_op(L, WM_IOP_ref_is_null, off);
            emit_dst(L, L->h - 1);
            emit(L, a);
            L->vs[L->h - 1].kind = V_SLOT;
            break;
        case 0xD2:
            a = read_u32(L);
            emit_op(L, WM_IOP_ref_func, off);
            emit_dst(L, L->h);
            emit(L, a);
            push(L, 1);
            break;
        case 0xFC: {
            uint32_t sub = read_u32(L);
            if (sub < 8) {
                if (fc_binary[sub]) {
                    b = use(L, L->h - 1, off);
                    a = use(L, L->h - 2, off);
                    L->h--;
                    emit_op(L, (wm_iop)fc_iop[sub], off);
                    emit_dst(L, L->h - 1);
                    emit(L, a);
                    emit(L, b);
                } else {
                    a = use(L, L->h - 1, off);
                    emit_op(L, (wm_iop)fc_iop[sub], off);
                    emit_dst(L, L->h - 1);
                    emit(L, a);
                }
                L->vs[L->h - 1].kind = V_SLOT;
                break;
            }
            /* The bulk operations are rare: their operands go to their
             * own slots, and they keep the simple stack form. */
            materialize_range(L, L->h >= 3 ? L->h - 3 : 0, L->h, off);
            switch (sub) {
            case 8: /* memory.init seg mem */
                a = read_u32(L);
                read_u8(L);
                L->h -= 3;
                emit_op(L, WM_IOP_memory_init, off);
                emit(L, a);
                emit(L, L->h);
                emit(L, L->h + 1);
                emit(L, L->h + 2);
                break;
            case 9:
                a = read_u32(L);
                emit_op(L, WM_IOP_data_drop, off);
                emit(L, a);
                break;
            case 10:
                read_u8(L);
                read_u8(L);
                L->h -= 3;
                emit_op(L, WM_IOP_memory_copy, off);
                emit(L, L->h);
                emit(L, L->h + 1);
                emit(L, L->h + 2);
                break;
            case 11:
                read_u8(L);
                L->h -= 3;
                emit_op(L, WM_IOP_memory_fill, off);
                emit(L, L->h);
                emit(L, L->h + 1);
                emit(L, L->h + 2);
                break;
            case 12: /* table.init elem table */
                a = read_u32(L);
                b = read_u32(L);
                L->h -= 3;
                emit_op(L, WM_IOP_table_init, off);
                emit(L, b);
                emit(L, a);
                emit(L, L->h);
                emit(L, L->h + 1);
                emit(L, L->h + 2);
                break;
            case 13:
                a = read_u32(L);
                emit_op(L, WM_IOP_elem_drop, off);
                emit(L, a);
                break;
            case 14: /* table.copy dst src */
                a = read_u32(L);
                b = read_u32(L);
                L->h -= 3;
                emit_op(L, WM_IOP_table_copy, off);
                emit(L, a);
                emit(L, b);
                emit(L, L->h);
                emit(L, L->h + 1);
                emit(L, L->h + 2);
                break;
            case 15: /* table.grow: init n -> old */
                a = read_u32(L);
                L->h -= 2;
                emit_op(L, WM_IOP_table_grow, off);
                emit(L, L->h);
                emit(L, L->h);
                emit(L, L->h + 1);
                emit(L, a);
                push(L, 1);
                break;
            case 16:
                a = read_u32(L);
                emit_op(L, WM_IOP_table_size, off);
                emit(L, L->h);
                emit(L, a);
                push(L, 1);
                break;
            case 17: /* table.fill i v n */
                a = read_u32(L);
                L->h -= 3;
                emit_op(L, WM_IOP_table_fill, off);
                emit(L, a);
                emit(L, L->h);
                emit(L, L->h + 1);
                emit(L, L->h + 2);
                break;
            default:
                L->r.failed = true;
                break;
            }
            break;
        }
        default:
            if (memop_iop[op]) lower_memop(L, op, off);
            else if (simple_iop[op]) lower_numeric(L, op, off);
            else L->r.failed = true; /* validation rejects every other opcode */
            break;
        }
    }
    if (L->oom) return WB_ERR_NOMEM;
    if (L->r.failed || L->nctrl != 0) return WB_ERR_INVALID;
    return WB_OK;
}

wb_status wm_lower(const wm_module *m, uint32_t func_index, wm_lowered **out,
                   wb_error *err) {
    *out = NULL;
    if (func_index < m->nimported_funcs || func_index >= m->nfuncs)
        return wm_fail(err, WB_ERR_ARG, WB_NO_OFFSET, func_index,
                       "lowering: not a defined function");
    const wm_code *code = &m->codes[func_index - m->nimported_funcs];
    const wm_functype *ft = wm_func_type(m, func_index);
    lowerer L;
    memset(&L, 0, sizeof L);
    L.m = m;
    L.last_op_at = L.prev_op_at = NO_FIXUP;
    wm_reader_init(&L.r, m->bytes, code->body, code->end);
    L.nlocals = ft->nparams + code->nlocals;
    prescan(&L);
    L.base = L.nlocals + L.npool;
    L.h = L.maxh = L.base;
    vs_reserve(&L, L.base + 16);
    /* The prologue: each pooled constant into its slot. */
    for (uint32_t i = 0; i < L.npool; i++) {
        vval v = {.kind = V_CONST, .wide = L.pool_wide[i], .k = L.pool[i]};
        emit_const(&L, L.nlocals + i, &v, code->body_offset);
    }
    if (L.maxh < ft->nresults) L.maxh = ft->nresults;

    wb_status st = L.oom ? WB_ERR_NOMEM : lower_body(&L, ft);
    free(L.vs);
    free(L.blk_end);
    free(L.wr_off);
    free(L.wr_local);
    if (st != WB_OK) {
        free(L.code);
        free(L.pcmap);
        free(L.ctrls);
        if (st == WB_ERR_NOMEM)
            return wm_fail(err, st, code->body_offset, func_index,
                           "out of memory lowering function");
        return wm_fail(err, st, wm_reader_offset(&L.r), func_index,
                       "lowering failed on a body that passed validation");
    }
    free(L.ctrls);
    wm_lowered *l = calloc(1, sizeof *l);
    if (!l) {
        free(L.code);
        free(L.pcmap);
        return wm_fail(err, WB_ERR_NOMEM, WB_NO_OFFSET, func_index,
                       "out of memory lowering function");
    }
    l->code = L.code;
    l->ncode = L.n;
    l->pcmap = L.pcmap;
    l->npcmap = L.npc / 2;
    l->nparams = ft->nparams;
    l->nlocals = L.nlocals;
    l->nresults = ft->nresults;
    l->nslots = L.maxh + 1;
    wm_interp(NULL, NULL, NULL, l);
    *out = l;
    return WB_OK;
}

void wm_lowered_free(wm_lowered *l) {
    if (!l) return;
    free(l->code);
    free(l->pcmap);
    free(l);
}

void wm_lower_free(wm_module *m) {
    if (!m || !m->lowered) return;
    for (uint32_t i = 0; i < m->nfuncs - m->nimported_funcs; i++)
        wm_lowered_free(m->lowered[i]);
    free(m->lowered);
    m->lowered = NULL;
}

uint64_t wm_lowered_offset(const wm_lowered *l, uint32_t pc) {
    /* Last instruction starting at or before pc. */
    uint32_t lo = 0, hi = l->npcmap;
    if (hi == 0) return WB_NO_OFFSET;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (l->pcmap[2 * mid] <= pc) lo = mid;
        else hi = mid;
    }
    return l->pcmap[2 * lo + 1];
}
