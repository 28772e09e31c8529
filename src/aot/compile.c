/*
 * compile.c - Wasm function bodies to LLVM IR.
 *
 * One pass over each validated body, the way a baseline compiler works:
 * an operand stack of LLVM values and a stack of control frames. Locals
 * are allocas (SROA turns them into SSA values); block results and loop
 * parameters are phis. Code after an unconditional branch is skipped up
 * to the end of its block. Every rule that keeps the result a faithful
 * Wasm program is here: traps for division, conversions, table accesses
 * and the stack limit; masked shift counts; float operations LLVM must not
 * fold; loads whose value is dropped kept alive (their trap is the only
 * effect they have).
 */
#include "aot_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/reader.h"

/* ------------------------------------------------------------ utilities */

LLVMTypeRef aot_valtype(aot_mod *am, uint8_t t) {
    switch (t) {
    case WM_I32: return am->i32;
    case WM_I64: return am->i64;
    case WM_F32: return am->f32;
    case WM_F64: return am->f64;
    default: return am->ptr; /* funcref, externref */
    }
}

LLVMTypeRef aot_result_type(aot_mod *am, const wm_functype *t) {
    if (t->nresults == 0) return am->voidt;
    if (t->nresults == 1) return aot_valtype(am, t->results[0]);
    LLVMTypeRef *el = malloc(t->nresults * sizeof *el);
    for (uint32_t i = 0; i < t->nresults; i++) el[i] = aot_valtype(am, t->results[i]);
    LLVMTypeRef s = LLVMStructTypeInContext(am->C, el, t->nresults, 0);
    free(el);
    return s;
}

LLVMTypeRef aot_func_type(aot_mod *am, const wm_functype *t) {
    LLVMTypeRef *ps = malloc((t->nparams + 1) * sizeof *ps);
    ps[0] = am->ptr;
    for (uint32_t i = 0; i < t->nparams; i++) ps[i + 1] = aot_valtype(am, t->params[i]);
    LLVMTypeRef ft = LLVMFunctionType(aot_result_type(am, t), ps, t->nparams + 1, 0);
    free(ps);
    return ft;
}

static LLVMValueRef c32(aot_mod *am, uint64_t v) { return LLVMConstInt(am->i32, v, 0); }
static LLVMValueRef c64(aot_mod *am, uint64_t v) { return LLVMConstInt(am->i64, v, 0); }

/* A load from ctx or another runtime structure that never changes while
 * code runs: marked invariant so LLVM hoists it freely. */
static LLVMValueRef load_invariant(aot_fn *fc, LLVMTypeRef t, LLVMValueRef base, uint64_t off,
                                   const char *name) {
    aot_mod *am = fc->am;
    LLVMValueRef p = base;
    if (off) p = LLVMBuildGEP2(am->B, am->i8, base, (LLVMValueRef[]){c64(am, off)}, 1, "");
    LLVMValueRef v = LLVMBuildLoad2(am->B, t, p, name);
    LLVMSetMetadata(v, am->md_invariant, am->md_empty);
    LLVMSetMetadata(v, am->md_tbaa, am->tbaa_rt);
    return v;
}

/* A load of runtime state that may change (table sizes, globals). */
static LLVMValueRef load_rt(aot_fn *fc, LLVMTypeRef t, LLVMValueRef base, uint64_t off) {
    aot_mod *am = fc->am;
    LLVMValueRef p = base;
    if (off) p = LLVMBuildGEP2(am->B, am->i8, base, (LLVMValueRef[]){c64(am, off)}, 1, "");
    LLVMValueRef v = LLVMBuildLoad2(am->B, t, p, "");
    LLVMSetMetadata(v, am->md_tbaa, am->tbaa_rt);
    return v;
}

static LLVMValueRef ptr_at(aot_fn *fc, LLVMValueRef base, LLVMValueRef index, unsigned scale) {
    aot_mod *am = fc->am;
    LLVMValueRef off = LLVMBuildMul(am->B, LLVMBuildZExt(am->B, index, am->i64, ""),
                                    c64(am, scale), "");
    return LLVMBuildGEP2(am->B, am->i8, base, &off, 1, "");
}

static LLVMValueRef where_of(aot_fn *fc) {
    return c64(fc->am, (uint64_t)fc->func_index << 32 | fc->offset);
}

/* Helpers are looked up where they are called (mostly cold paths): a
 * table pointer loaded at entry would hold a callee-saved register. */
static LLVMValueRef helper(aot_fn *fc, unsigned idx) {
    LLVMValueRef h = load_invariant(fc, fc->am->ptr, fc->ctx, offsetof(wm_aot_ctx, helpers), "helpers");
    return load_invariant(fc, fc->am->ptr, h, (uint64_t)idx * sizeof(void *), "");
}

static LLVMValueRef call_helper(aot_fn *fc, unsigned idx, LLVMValueRef *args, unsigned n) {
    aot_mod *am = fc->am;
    LLVMValueRef all[8];
    all[0] = fc->ctx;
    for (unsigned i = 0; i < n; i++) all[i + 1] = args[i];
    return LLVMBuildCall2(am->B, am->helper_types[idx], helper(fc, idx), all, n + 1, "");
}

static void keep_alive(aot_fn *fc, LLVMValueRef v);

/* A load from linear memory (not of a local: those are allocas). */
static bool is_load(LLVMValueRef v) {
    if (LLVMIsACastInst(v)) v = LLVMGetOperand(v, 0);
    return LLVMIsALoadInst(v) && !LLVMIsAAllocaInst(LLVMGetOperand(v, 0));
}

/* Loads the program has done before this point (values on the operand
 * stack, or operands of the instruction at hand) happen before what
 * follows: LLVM would otherwise sink a load past a trap (or delete it
 * before `unreachable`), and an out-of-bounds load would report the
 * wrong trap, or none. Only cold paths and calls pay for it. */
static void keep_loads(aot_fn *fc) {
    for (uint32_t i = 0; i < fc->sp; i++)
        if (is_load(fc->stack[i])) keep_alive(fc, fc->stack[i]);
    for (uint32_t i = 0; i < fc->nlive; i++)
        if (is_load(fc->live[i])) keep_alive(fc, fc->live[i]);
}

/* Calls the trap helper (which does not return) and ends the block. */
static void emit_trap(aot_fn *fc, uint32_t trap, LLVMValueRef detail) {
    aot_mod *am = fc->am;
    keep_loads(fc);
    LLVMValueRef args[3] = {c32(am, trap), where_of(fc), detail ? detail : c32(am, 0)};
    LLVMValueRef call = call_helper(fc, WM_H_TRAP, args, 3);
    LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex, am->attr_noreturn);
    LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex, am->attr_cold);
    LLVMBuildUnreachable(am->B);
}

/* if (cond) trap; execution goes on in a new block. */
static void trap_if(aot_fn *fc, LLVMValueRef cond, uint32_t trap, LLVMValueRef detail) {
    aot_mod *am = fc->am;
    LLVMBasicBlockRef t = LLVMAppendBasicBlockInContext(am->C, fc->fn, "trap");
    LLVMBasicBlockRef ok = LLVMAppendBasicBlockInContext(am->C, fc->fn, "ok");
    LLVMValueRef br = LLVMBuildCondBr(am->B, cond, t, ok);
    LLVMSetMetadata(br, am->md_prof, am->prof_unlikely);
    LLVMPositionBuilderAtEnd(am->B, t);
    emit_trap(fc, trap, detail);
    LLVMPositionBuilderAtEnd(am->B, ok);
}

static LLVMValueRef intrinsic(aot_mod *am, const char *name, LLVMTypeRef *tys, unsigned ntys,
                              LLVMTypeRef *fnty) {
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMValueRef f = LLVMGetIntrinsicDeclaration(am->M, id, tys, ntys);
    *fnty = LLVMIntrinsicGetType(am->C, id, tys, ntys);
    return f;
}

static LLVMValueRef call_intrinsic(aot_mod *am, const char *name, LLVMTypeRef ty,
                                   LLVMValueRef *args, unsigned n) {
    LLVMTypeRef fnty;
    LLVMValueRef f = intrinsic(am, name, &ty, ty ? 1 : 0, &fnty);
    return LLVMBuildCall2(am->B, fnty, f, args, n, "");
}

/* ------------------------------------------------------- operand stack */

static void push(aot_fn *fc, LLVMValueRef v) {
    if (fc->sp == fc->scap) {
        fc->scap = fc->scap ? fc->scap * 2 : 64;
        fc->stack = realloc(fc->stack, fc->scap * sizeof *fc->stack);
    }
    fc->stack[fc->sp++] = v;
}

/* Pops a value; the operands of the current instruction are remembered
 * (keep_loads). */
static LLVMValueRef pop(aot_fn *fc) {
    LLVMValueRef v = fc->stack[--fc->sp];
    if (fc->nlive < sizeof fc->live / sizeof fc->live[0]) fc->live[fc->nlive++] = v;
    return v;
}

/* ------------------------------------------------------- control frames */

enum { CTL_BLOCK, CTL_LOOP, CTL_IF, CTL_FUNC };

typedef struct aot_ctl {
    uint8_t kind;
    bool else_seen;
    bool end_used;              /* some branch or fallthrough reaches end */
    uint32_t height;            /* operand stack height below the params */
    uint32_t nparams, nresults;
    const uint8_t *params, *results;
    LLVMBasicBlockRef end_bb, loop_bb, else_bb;
    LLVMValueRef *end_phis;     /* nresults phis in end_bb */
    LLVMValueRef *loop_phis;    /* nparams phis in loop_bb */
    LLVMValueRef *if_params;    /* the params at `if`, for the else arm */
} aot_ctl;

static void block_type(aot_fn *fc, int64_t bt, uint32_t *np, const uint8_t **p, uint32_t *nr,
                       const uint8_t **r) {
    static const uint8_t vt[256] = {[WM_I32] = WM_I32, [WM_I64] = WM_I64, [WM_F32] = WM_F32,
                                    [WM_F64] = WM_F64, [WM_FUNCREF] = WM_FUNCREF,
                                    [WM_EXTERNREF] = WM_EXTERNREF};
    if (bt >= 0) {
        const wm_functype *t = &fc->am->m->types[bt];
        *np = t->nparams, *p = t->params, *nr = t->nresults, *r = t->results;
        return;
    }
    uint8_t b = (uint8_t)(bt & 0x7F);
    *np = 0, *p = NULL;
    if (b == WM_BLOCK_EMPTY) {
        *nr = 0, *r = NULL;
    } else {
        *nr = 1, *r = &vt[b];
    }
}

static aot_ctl *ctl_push(aot_fn *fc, uint8_t kind, uint32_t np, const uint8_t *p, uint32_t nr,
                         const uint8_t *r) {
    if (fc->nctl == fc->cctl) {
        fc->cctl = fc->cctl ? fc->cctl * 2 : 16;
        fc->ctls = realloc(fc->ctls, fc->cctl * sizeof *fc->ctls);
    }
    aot_ctl *c = &fc->ctls[fc->nctl++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->nparams = np, c->params = p, c->nresults = nr, c->results = r;
    c->height = fc->sp - np;
    aot_mod *am = fc->am;
    c->end_bb = LLVMAppendBasicBlockInContext(am->C, fc->fn, "end");
    if (nr) {
        c->end_phis = malloc(nr * sizeof *c->end_phis);
        LLVMBasicBlockRef cur = LLVMGetInsertBlock(am->B);
        LLVMPositionBuilderAtEnd(am->B, c->end_bb);
        for (uint32_t i = 0; i < nr; i++) c->end_phis[i] = LLVMBuildPhi(am->B, aot_valtype(am, r[i]), "");
        LLVMPositionBuilderAtEnd(am->B, cur);
    }
    return c;
}

static void ctl_free(aot_ctl *c) {
    free(c->end_phis);
    free(c->loop_phis);
    free(c->if_params);
}

/* Adds the current block as a predecessor of c's target, passing the top
 * values of the operand stack (it does not emit the branch). */
static LLVMBasicBlockRef to_end(aot_fn *fc, aot_ctl *c) {
    LLVMBasicBlockRef from = LLVMGetInsertBlock(fc->am->B);
    for (uint32_t i = 0; i < c->nresults; i++)
        LLVMAddIncoming(c->end_phis[i], &fc->stack[fc->sp - c->nresults + i], &from, 1);
    c->end_used = true;
    return c->end_bb;
}

/* The same for a branch (br, br_if, br_table) to label c: a loop's label
 * is its start. */
static LLVMBasicBlockRef branch_target(aot_fn *fc, aot_ctl *c) {
    if (c->kind != CTL_LOOP) return to_end(fc, c);
    LLVMBasicBlockRef from = LLVMGetInsertBlock(fc->am->B);
    for (uint32_t i = 0; i < c->nparams; i++)
        LLVMAddIncoming(c->loop_phis[i], &fc->stack[fc->sp - c->nparams + i], &from, 1);
    return c->loop_bb;
}

/* ------------------------------------------------------------ locals */

static LLVMValueRef zero_of(aot_mod *am, uint8_t t) {
    return LLVMConstNull(aot_valtype(am, t));
}

/* ------------------------------------------------------------ numerics */

/* Keeps v (and the loads it depends on) alive: LLVM would delete a load
 * whose value is unused, and with it the trap of an out-of-bounds one. */
static void keep_alive(aot_fn *fc, LLVMValueRef v) {
    if (LLVMIsAConstant(v) || LLVMIsAArgument(v)) return;
    aot_mod *am = fc->am;
    LLVMTypeRef t = LLVMTypeOf(v);
    LLVMTypeRef ft = LLVMFunctionType(am->voidt, &t, 1, 0);
    const char *cons = LLVMGetTypeKind(t) == LLVMFloatTypeKind ||
                               LLVMGetTypeKind(t) == LLVMDoubleTypeKind
                           ? "x"
                           : "r";
    LLVMValueRef asmv = LLVMGetInlineAsm(ft, (char *)"", 0, (char *)cons, 1, 1, 0,
                                         LLVMInlineAsmDialectATT, 0);
    LLVMBuildCall2(am->B, ft, asmv, &v, 1, "");
}

static LLVMValueRef fp_constrained(aot_fn *fc, const char *name, LLVMTypeRef t, LLVMValueRef *args,
                                   unsigned n, bool with_rounding) {
    aot_mod *am = fc->am;
    LLVMValueRef all[4];
    for (unsigned i = 0; i < n; i++) all[i] = args[i];
    if (with_rounding) all[n++] = am->md_round;
    all[n++] = am->md_except;
    LLVMValueRef r = call_intrinsic(am, name, t, all, n);
    return r;
}

static bool is_const(LLVMValueRef v) { return LLVMIsAConstant(v) != NULL; }

static LLVMValueRef fbinop(aot_fn *fc, LLVMOpcode op, LLVMValueRef a, LLVMValueRef b) {
    aot_mod *am = fc->am;
    /* A constant operand lets LLVM fold x*1, x/1, x+-0, x-0, -0-x to x or
     * -x, which would skip the quieting of a signalling NaN: those use
     * the constrained form (as every operation does in strict mode). */
    if (am->strict_fp || is_const(a) || is_const(b)) {
        const char *name = op == LLVMFAdd   ? "llvm.experimental.constrained.fadd"
                           : op == LLVMFSub ? "llvm.experimental.constrained.fsub"
                           : op == LLVMFMul ? "llvm.experimental.constrained.fmul"
                                            : "llvm.experimental.constrained.fdiv";
        LLVMValueRef args[2] = {a, b};
        return fp_constrained(fc, name, LLVMTypeOf(a), args, 2, true);
    }
    return LLVMBuildBinOp(am->B, op, a, b, "");
}

static LLVMValueRef fminmax(aot_fn *fc, bool is_min, LLVMValueRef a, LLVMValueRef b) {
    aot_mod *am = fc->am;
    LLVMBuilderRef B = am->B;
    LLVMTypeRef ft = LLVMTypeOf(a);
    LLVMTypeRef it = ft == am->f32 ? am->i32 : am->i64;
    LLVMValueRef uno = LLVMBuildFCmp(B, LLVMRealUNO, a, b, "");
    LLVMValueRef eq = LLVMBuildFCmp(B, LLVMRealOEQ, a, b, "");
    LLVMValueRef lt = LLVMBuildFCmp(B, is_min ? LLVMRealOLT : LLVMRealOGT, a, b, "");
    LLVMValueRef ai = LLVMBuildBitCast(B, a, it, ""), bi = LLVMBuildBitCast(B, b, it, "");
    /* Equal: +0 and -0 differ only in sign; min takes -0 (or), max +0 (and). */
    LLVMValueRef eqv = LLVMBuildBitCast(B, is_min ? LLVMBuildOr(B, ai, bi, "") : LLVMBuildAnd(B, ai, bi, ""),
                                        ft, "");
    LLVMValueRef args[2] = {a, b};
    LLVMValueRef nan = fp_constrained(fc, "llvm.experimental.constrained.fadd", ft, args, 2, true);
    LLVMValueRef r = LLVMBuildSelect(B, lt, a, b, "");
    r = LLVMBuildSelect(B, eq, eqv, r, "");
    return LLVMBuildSelect(B, uno, nan, r, "");
}

/* Trapping float to int: NaN is "invalid conversion", out of range
 * "integer overflow"; lo and hi are exclusive bounds. */
static LLVMValueRef trunc_checked(aot_fn *fc, LLVMValueRef x, LLVMTypeRef it, bool is_signed) {
    aot_mod *am = fc->am;
    LLVMBuilderRef B = am->B;
    LLVMTypeRef ft = LLVMTypeOf(x);
    bool f32 = ft == am->f32, i32 = it == am->i32;
    double lo, hi;
    if (is_signed) {
        if (i32) lo = f32 ? -2147483904.0 : -2147483649.0, hi = 2147483648.0;
        else lo = f32 ? -9223373136366403584.0 : -9223372036854777856.0, hi = 9223372036854775808.0;
    } else {
        lo = -1.0;
        hi = i32 ? 4294967296.0 : 18446744073709551616.0;
    }
    trap_if(fc, LLVMBuildFCmp(B, LLVMRealUNO, x, x, ""), WB_TRAP_INVALID_CONVERSION, NULL);
    LLVMValueRef in = LLVMBuildAnd(B, LLVMBuildFCmp(B, LLVMRealOGT, x, LLVMConstReal(ft, lo), ""),
                                   LLVMBuildFCmp(B, LLVMRealOLT, x, LLVMConstReal(ft, hi), ""), "");
    trap_if(fc, LLVMBuildNot(B, in, ""), WB_TRAP_INT_OVERFLOW, NULL);
    return is_signed ? LLVMBuildFPToSI(B, x, it, "") : LLVMBuildFPToUI(B, x, it, "");
}

static LLVMValueRef trunc_sat(aot_fn *fc, LLVMValueRef x, LLVMTypeRef it, bool is_signed) {
    aot_mod *am = fc->am;
    LLVMTypeRef tys[2] = {it, LLVMTypeOf(x)};
    LLVMTypeRef fnty;
    LLVMValueRef f = intrinsic(am, is_signed ? "llvm.fptosi.sat" : "llvm.fptoui.sat", tys, 2, &fnty);
    return LLVMBuildCall2(am->B, fnty, f, &x, 1, "");
}

static LLVMValueRef divrem(aot_fn *fc, uint8_t op, LLVMValueRef a, LLVMValueRef b) {
    aot_mod *am = fc->am;
    LLVMBuilderRef B = am->B;
    LLVMTypeRef t = LLVMTypeOf(a);
    bool is64 = t == am->i64;
    /* i32: div_s 0x6D div_u 0x6E rem_s 0x6F rem_u 0x70; i64 +0x12. */
    uint8_t k = (uint8_t)(op - (is64 ? 0x7F : 0x6D));
    bool is_signed = k == 0 || k == 2, is_rem = k >= 2;
    LLVMValueRef zero = LLVMConstInt(t, 0, 0), m1 = LLVMConstAllOnes(t);
    LLVMValueRef min = LLVMConstInt(t, is64 ? (uint64_t)1 << 63 : (uint64_t)1 << 31, 0);
    if (!(is_const(b) && !LLVMIsNull(b)))
        trap_if(fc, LLVMBuildICmp(B, LLVMIntEQ, b, zero, ""), WB_TRAP_INT_DIV_ZERO, NULL);
    bool b_may_be_m1 = !is_const(b) || LLVMConstIntGetSExtValue(b) == -1;
    if (is_signed && !is_rem && b_may_be_m1) {
        LLVMValueRef ovf = LLVMBuildAnd(B, LLVMBuildICmp(B, LLVMIntEQ, a, min, ""),
                                        LLVMBuildICmp(B, LLVMIntEQ, b, m1, ""), "");
        trap_if(fc, ovf, WB_TRAP_INT_OVERFLOW, NULL);
    }
    if (is_signed && is_rem && b_may_be_m1) {
        /* INT_MIN % -1 faults in idiv; the answer is 0 for every a. */
        LLVMValueRef is_m1 = LLVMBuildICmp(B, LLVMIntEQ, b, m1, "");
        LLVMValueRef safe_b = LLVMBuildSelect(B, is_m1, LLVMConstInt(t, 1, 0), b, "");
        return LLVMBuildSRem(B, a, safe_b, "");
    }
    if (is_rem) return is_signed ? LLVMBuildSRem(B, a, b, "") : LLVMBuildURem(B, a, b, "");
    return is_signed ? LLVMBuildSDiv(B, a, b, "") : LLVMBuildUDiv(B, a, b, "");
}

static LLVMValueRef bool_to_i32(aot_fn *fc, LLVMValueRef c) {
    return LLVMBuildZExt(fc->am->B, c, fc->am->i32, "");
}

/* The numeric instructions without immediates (opcodes 0x45..0xC4). */
static bool numeric(aot_fn *fc, uint8_t op) {
    aot_mod *am = fc->am;
    LLVMBuilderRef B = am->B;
    LLVMValueRef a, b, r;
    /* Comparisons. */
    static const LLVMIntPredicate ipred[10] = {LLVMIntEQ, LLVMIntNE, LLVMIntSLT, LLVMIntULT,
                                               LLVMIntSGT, LLVMIntUGT, LLVMIntSLE, LLVMIntULE,
                                               LLVMIntSGE, LLVMIntUGE};
    static const LLVMRealPredicate fpred[6] = {LLVMRealOEQ, LLVMRealUNE, LLVMRealOLT,
                                               LLVMRealOGT, LLVMRealOLE, LLVMRealOGE};
    if (op == 0x45 || op == 0x50) {
        a = pop(fc);
        push(fc, bool_to_i32(fc, LLVMBuildICmp(B, LLVMIntEQ, a, LLVMConstNull(LLVMTypeOf(a)), "")));
        return true;
    }
    if ((op >= 0x46 && op <= 0x4F) || (op >= 0x51 && op <= 0x5A)) {
        b = pop(fc), a = pop(fc);
        push(fc, bool_to_i32(fc, LLVMBuildICmp(B, ipred[op - (op >= 0x51 ? 0x51 : 0x46)], a, b, "")));
        return true;
    }
    if (op >= 0x5B && op <= 0x66) {
        b = pop(fc), a = pop(fc);
        push(fc, bool_to_i32(fc, LLVMBuildFCmp(B, fpred[(op - 0x5B) % 6], a, b, "")));
        return true;
    }
    switch (op) {
    case 0x67: case 0x79: /* clz */
        a = pop(fc);
        push(fc, call_intrinsic(am, "llvm.ctlz", LLVMTypeOf(a), (LLVMValueRef[]){a, LLVMConstInt(am->i1, 0, 0)}, 2));
        return true;
    case 0x68: case 0x7A:
        a = pop(fc);
        push(fc, call_intrinsic(am, "llvm.cttz", LLVMTypeOf(a), (LLVMValueRef[]){a, LLVMConstInt(am->i1, 0, 0)}, 2));
        return true;
    case 0x69: case 0x7B:
        a = pop(fc);
        push(fc, call_intrinsic(am, "llvm.ctpop", LLVMTypeOf(a), &a, 1));
        return true;
    case 0x6A: case 0x7C: b = pop(fc), a = pop(fc); push(fc, LLVMBuildAdd(B, a, b, "")); return true;
    case 0x6B: case 0x7D: b = pop(fc), a = pop(fc); push(fc, LLVMBuildSub(B, a, b, "")); return true;
    case 0x6C: case 0x7E: b = pop(fc), a = pop(fc); push(fc, LLVMBuildMul(B, a, b, "")); return true;
    case 0x6D: case 0x6E: case 0x6F: case 0x70:
    case 0x7F: case 0x80: case 0x81: case 0x82:
        b = pop(fc), a = pop(fc);
        push(fc, divrem(fc, op, a, b));
        return true;
    case 0x71: case 0x83: b = pop(fc), a = pop(fc); push(fc, LLVMBuildAnd(B, a, b, "")); return true;
    case 0x72: case 0x84: b = pop(fc), a = pop(fc); push(fc, LLVMBuildOr(B, a, b, "")); return true;
    case 0x73: case 0x85: b = pop(fc), a = pop(fc); push(fc, LLVMBuildXor(B, a, b, "")); return true;
    case 0x74: case 0x75: case 0x76: case 0x86: case 0x87: case 0x88: {
        b = pop(fc), a = pop(fc);
        LLVMTypeRef t = LLVMTypeOf(a);
        b = LLVMBuildAnd(B, b, LLVMConstInt(t, t == am->i32 ? 31 : 63, 0), "");
        uint8_t k = (uint8_t)(op - (op >= 0x86 ? 0x86 : 0x74));
        r = k == 0 ? LLVMBuildShl(B, a, b, "") : k == 1 ? LLVMBuildAShr(B, a, b, "") : LLVMBuildLShr(B, a, b, "");
        push(fc, r);
        return true;
    }
    case 0x77: case 0x78: case 0x89: case 0x8A: {
        b = pop(fc), a = pop(fc);
        bool left = op == 0x77 || op == 0x89;
        push(fc, call_intrinsic(am, left ? "llvm.fshl" : "llvm.fshr", LLVMTypeOf(a), (LLVMValueRef[]){a, a, b}, 3));
        return true;
    }
    /* Floats. */
    case 0x8B: case 0x99: a = pop(fc); push(fc, call_intrinsic(am, "llvm.fabs", LLVMTypeOf(a), &a, 1)); return true;
    case 0x8C: case 0x9A: a = pop(fc); push(fc, LLVMBuildFNeg(B, a, "")); return true;
    case 0x8D: case 0x9B: a = pop(fc); push(fc, call_intrinsic(am, "llvm.ceil", LLVMTypeOf(a), &a, 1)); return true;
    case 0x8E: case 0x9C: a = pop(fc); push(fc, call_intrinsic(am, "llvm.floor", LLVMTypeOf(a), &a, 1)); return true;
    case 0x8F: case 0x9D: a = pop(fc); push(fc, call_intrinsic(am, "llvm.trunc", LLVMTypeOf(a), &a, 1)); return true;
    case 0x90: case 0x9E: a = pop(fc); push(fc, call_intrinsic(am, "llvm.roundeven", LLVMTypeOf(a), &a, 1)); return true;
    case 0x91: case 0x9F:
        a = pop(fc);
        if (am->strict_fp || is_const(a))
            push(fc, fp_constrained(fc, "llvm.experimental.constrained.sqrt", LLVMTypeOf(a), &a, 1, true));
        else
            push(fc, call_intrinsic(am, "llvm.sqrt", LLVMTypeOf(a), &a, 1));
        return true;
    case 0x92: case 0xA0: b = pop(fc), a = pop(fc); push(fc, fbinop(fc, LLVMFAdd, a, b)); return true;
    case 0x93: case 0xA1: b = pop(fc), a = pop(fc); push(fc, fbinop(fc, LLVMFSub, a, b)); return true;
    case 0x94: case 0xA2: b = pop(fc), a = pop(fc); push(fc, fbinop(fc, LLVMFMul, a, b)); return true;
    case 0x95: case 0xA3: b = pop(fc), a = pop(fc); push(fc, fbinop(fc, LLVMFDiv, a, b)); return true;
    case 0x96: case 0xA4: b = pop(fc), a = pop(fc); push(fc, fminmax(fc, true, a, b)); return true;
    case 0x97: case 0xA5: b = pop(fc), a = pop(fc); push(fc, fminmax(fc, false, a, b)); return true;
    case 0x98: case 0xA6:
        b = pop(fc), a = pop(fc);
        push(fc, call_intrinsic(am, "llvm.copysign", LLVMTypeOf(a), (LLVMValueRef[]){a, b}, 2));
        return true;
    /* Conversions. */
    case 0xA7: a = pop(fc); push(fc, LLVMBuildTrunc(B, a, am->i32, "")); return true;
    case 0xA8: case 0xAA: a = pop(fc); push(fc, trunc_checked(fc, a, am->i32, true)); return true;
    case 0xA9: case 0xAB: a = pop(fc); push(fc, trunc_checked(fc, a, am->i32, false)); return true;
    case 0xAC: a = pop(fc); push(fc, LLVMBuildSExt(B, a, am->i64, "")); return true;
    case 0xAD: a = pop(fc); push(fc, LLVMBuildZExt(B, a, am->i64, "")); return true;
    case 0xAE: case 0xB0: a = pop(fc); push(fc, trunc_checked(fc, a, am->i64, true)); return true;
    case 0xAF: case 0xB1: a = pop(fc); push(fc, trunc_checked(fc, a, am->i64, false)); return true;
    case 0xB2: case 0xB4: a = pop(fc); push(fc, LLVMBuildSIToFP(B, a, am->f32, "")); return true;
    case 0xB3: case 0xB5: a = pop(fc); push(fc, LLVMBuildUIToFP(B, a, am->f32, "")); return true;
    case 0xB7: case 0xB9: a = pop(fc); push(fc, LLVMBuildSIToFP(B, a, am->f64, "")); return true;
    case 0xB8: case 0xBA: a = pop(fc); push(fc, LLVMBuildUIToFP(B, a, am->f64, "")); return true;
    case 0xB6: { /* demote: constrained, so demote(promote(x)) is not folded to x */
        a = pop(fc);
        LLVMTypeRef tys[2] = {am->f32, am->f64}, fnty;
        LLVMValueRef f = intrinsic(am, "llvm.experimental.constrained.fptrunc", tys, 2, &fnty);
        push(fc, LLVMBuildCall2(B, fnty, f, (LLVMValueRef[]){a, am->md_round, am->md_except}, 3, ""));
        return true;
    }
    case 0xBB: {
        a = pop(fc);
        LLVMTypeRef tys[2] = {am->f64, am->f32}, fnty;
        LLVMValueRef f = intrinsic(am, "llvm.experimental.constrained.fpext", tys, 2, &fnty);
        push(fc, LLVMBuildCall2(B, fnty, f, (LLVMValueRef[]){a, am->md_except}, 2, ""));
        return true;
    }
    case 0xBC: a = pop(fc); push(fc, LLVMBuildBitCast(B, a, am->i32, "")); return true;
    case 0xBD: a = pop(fc); push(fc, LLVMBuildBitCast(B, a, am->i64, "")); return true;
    case 0xBE: a = pop(fc); push(fc, LLVMBuildBitCast(B, a, am->f32, "")); return true;
    case 0xBF: a = pop(fc); push(fc, LLVMBuildBitCast(B, a, am->f64, "")); return true;
    case 0xC0: case 0xC1: case 0xC2: case 0xC3: case 0xC4: {
        a = pop(fc);
        LLVMTypeRef t = LLVMTypeOf(a);
        LLVMTypeRef n = op == 0xC0 || op == 0xC2 ? am->i8 : op == 0xC4 ? am->i32 : am->i16;
        push(fc, LLVMBuildSExt(B, LLVMBuildTrunc(B, a, n, ""), t, ""));
        return true;
    }
    }
    return false;
}

/* --------------------------------------------------------------- memory */

static LLVMValueRef mem_addr(aot_fn *fc, LLVMValueRef addr, uint64_t offset) {
    aot_mod *am = fc->am;
    LLVMValueRef a = LLVMBuildZExt(am->B, addr, am->i64, "");
    if (offset) a = LLVMBuildAdd(am->B, a, c64(am, offset), "");
    return LLVMBuildGEP2(am->B, am->i8, fc->mem_base, &a, 1, "");
}

static void mem_load(aot_fn *fc, uint8_t op, uint64_t offset) {
    aot_mod *am = fc->am;
    LLVMBuilderRef B = am->B;
    LLVMValueRef p = mem_addr(fc, pop(fc), offset);
    LLVMTypeRef lt, rt;
    bool sext = false;
    switch (op) {
    case 0x28: lt = rt = am->i32; break;
    case 0x29: lt = rt = am->i64; break;
    case 0x2A: lt = rt = am->f32; break;
    case 0x2B: lt = rt = am->f64; break;
    case 0x2C: lt = am->i8, rt = am->i32, sext = true; break;
    case 0x2D: lt = am->i8, rt = am->i32; break;
    case 0x2E: lt = am->i16, rt = am->i32, sext = true; break;
    case 0x2F: lt = am->i16, rt = am->i32; break;
    case 0x30: lt = am->i8, rt = am->i64, sext = true; break;
    case 0x31: lt = am->i8, rt = am->i64; break;
    case 0x32: lt = am->i16, rt = am->i64, sext = true; break;
    case 0x33: lt = am->i16, rt = am->i64; break;
    case 0x34: lt = am->i32, rt = am->i64, sext = true; break;
    default: lt = am->i32, rt = am->i64; break;
    }
    LLVMValueRef v = LLVMBuildLoad2(B, lt, p, "");
    LLVMSetAlignment(v, 1);
    LLVMSetMetadata(v, am->md_tbaa, am->tbaa_mem);
    /* Every load stays, even when its value turns out dead (through a
     * local overwritten later, a shift that ignores its bits...): its
     * trap is an effect. An empty asm that takes the value costs no
     * instruction; it keeps LLVM from deleting the load. */
    if (fc->am->keep_all_loads) keep_alive(fc, v);
    if (lt != rt) v = sext ? LLVMBuildSExt(B, v, rt, "") : LLVMBuildZExt(B, v, rt, "");
    push(fc, v);
}

static void mem_store(aot_fn *fc, uint8_t op, uint64_t offset) {
    aot_mod *am = fc->am;
    LLVMBuilderRef B = am->B;
    LLVMValueRef v = pop(fc);
    LLVMValueRef p = mem_addr(fc, pop(fc), offset);
    LLVMTypeRef st = NULL;
    switch (op) {
    case 0x3A: case 0x3C: st = am->i8; break;
    case 0x3B: case 0x3D: st = am->i16; break;
    case 0x3E: st = am->i32; break;
    }
    if (st) v = LLVMBuildTrunc(B, v, st, "");
    LLVMValueRef s = LLVMBuildStore(B, v, p);
    LLVMSetAlignment(s, 1);
    LLVMSetMetadata(s, am->md_tbaa, am->tbaa_mem);
}

/* ---------------------------------------------------------------- calls */

static LLVMValueRef slot_ptr(aot_fn *fc, uint32_t i) {
    aot_mod *am = fc->am;
    return LLVMBuildGEP2(am->B, am->i8, fc->slots, (LLVMValueRef[]){c64(am, 8u * i)}, 1, "");
}

static void store_slot(aot_fn *fc, uint32_t i, LLVMValueRef v, uint8_t t) {
    aot_mod *am = fc->am;
    LLVMBuilderRef B = am->B;
    if (t == WM_I32) v = LLVMBuildZExt(B, v, am->i64, "");
    else if (t == WM_F32) v = LLVMBuildZExt(B, LLVMBuildBitCast(B, v, am->i32, ""), am->i64, "");
    LLVMBuildStore(B, v, slot_ptr(fc, i));
}

static LLVMValueRef load_slot(aot_fn *fc, uint32_t i, uint8_t t) {
    return LLVMBuildLoad2(fc->am->B, aot_valtype(fc->am, t), slot_ptr(fc, i), "");
}

/* The argument/result array for calls through the runtime, one per
 * function, in the entry block. */
static void need_slots(aot_fn *fc) {
    if (fc->slots) return;
    aot_mod *am = fc->am;
    LLVMBasicBlockRef cur = LLVMGetInsertBlock(am->B);
    LLVMValueRef first = LLVMGetFirstInstruction(fc->entry);
    if (first) LLVMPositionBuilderBefore(am->B, first);
    else LLVMPositionBuilderAtEnd(am->B, fc->entry);
    uint32_t n = am->max_slots ? am->max_slots : 1;
    fc->slots = LLVMBuildAlloca(am->B, LLVMArrayType(am->i64, n), "io");
    LLVMSetAlignment(fc->slots, 16);
    LLVMPositionBuilderAtEnd(am->B, cur);
}

/* Pops the arguments of a call of type t, calls, pushes the results. */
static void push_results(aot_fn *fc, const wm_functype *t, LLVMValueRef r) {
    if (t->nresults == 1) {
        push(fc, r);
    } else {
        for (uint32_t i = 0; i < t->nresults; i++)
            push(fc, LLVMBuildExtractValue(fc->am->B, r, i, ""));
    }
}

/* A call to wb_func *f (a run-time value) of module type ti: native code
 * straight through its aot_code, anything else through the runtime. */
static void call_func_value(aot_fn *fc, LLVMValueRef f, uint32_t ti) {
    aot_mod *am = fc->am;
    LLVMBuilderRef B = am->B;
    const wm_functype *t = &am->m->types[ti];
    LLVMValueRef *args = malloc((t->nparams + 1) * sizeof *args);
    for (uint32_t i = t->nparams; i > 0; i--) args[i] = pop(fc);
    LLVMValueRef code = load_rt(fc, am->ptr, f, offsetof(wb_func, aot_code));
    LLVMBasicBlockRef native = LLVMAppendBasicBlockInContext(am->C, fc->fn, "native");
    LLVMBasicBlockRef slow = LLVMAppendBasicBlockInContext(am->C, fc->fn, "slow");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(am->C, fc->fn, "called");
    LLVMBuildCondBr(B, LLVMBuildIsNotNull(B, code, ""), native, slow);

    LLVMPositionBuilderAtEnd(B, native);
    args[0] = load_rt(fc, am->ptr, f, offsetof(wb_func, aot_vmctx));
    LLVMValueRef r1 = LLVMBuildCall2(B, am->ftypes[ti], code, args, t->nparams + 1, "");
    LLVMBasicBlockRef native_end = LLVMGetInsertBlock(B);
    LLVMBuildBr(B, done);

    LLVMPositionBuilderAtEnd(B, slow);
    need_slots(fc);
    for (uint32_t i = 0; i < t->nparams; i++) store_slot(fc, i, args[i + 1], t->params[i]);
    call_helper(fc, WM_H_CALL, (LLVMValueRef[]){f, fc->slots, where_of(fc)}, 3);
    LLVMValueRef r2 = NULL;
    if (t->nresults == 1) {
        r2 = load_slot(fc, 0, t->results[0]);
    } else if (t->nresults > 1) {
        r2 = LLVMGetUndef(aot_result_type(am, t));
        for (uint32_t i = 0; i < t->nresults; i++)
            r2 = LLVMBuildInsertValue(B, r2, load_slot(fc, i, t->results[i]), i, "");
    }
    LLVMBasicBlockRef slow_end = LLVMGetInsertBlock(B);
    LLVMBuildBr(B, done);

    LLVMPositionBuilderAtEnd(B, done);
    if (t->nresults) {
        LLVMValueRef phi = LLVMBuildPhi(B, aot_result_type(am, t), "");
        LLVMAddIncoming(phi, (LLVMValueRef[]){r1, r2}, (LLVMBasicBlockRef[]){native_end, slow_end}, 2);
        push_results(fc, t, phi);
    }
    free(args);
}

static void call_direct(aot_fn *fc, uint32_t fi) {
    aot_mod *am = fc->am;
    const wm_module *m = am->m;
    uint32_t ti = m->func_types[fi];
    if (fi < m->nimported_funcs) {
        LLVMValueRef funcs = load_invariant(fc, am->ptr, fc->ctx, offsetof(wm_aot_ctx, funcs), "funcs");
        LLVMValueRef f = load_invariant(fc, am->ptr, funcs, (uint64_t)fi * sizeof(void *), "");
        call_func_value(fc, f, ti);
        return;
    }
    const wm_functype *t = &m->types[ti];
    LLVMValueRef *args = malloc((t->nparams + 1) * sizeof *args);
    args[0] = fc->ctx;
    for (uint32_t i = t->nparams; i > 0; i--) args[i] = pop(fc);
    /* The callee may be inlined and trap. */
    keep_loads(fc);
    LLVMValueRef r = LLVMBuildCall2(am->B, am->ftypes[ti], am->funcs[fi - m->nimported_funcs], args,
                                    t->nparams + 1, "");
    if (t->nresults) push_results(fc, t, r);
    free(args);
}

static void call_indirect(aot_fn *fc, uint32_t ti, uint32_t table) {
    aot_mod *am = fc->am;
    LLVMBuilderRef B = am->B;
    LLVMValueRef idx = pop(fc);
    LLVMValueRef tables = load_invariant(fc, am->ptr, fc->ctx, offsetof(wm_aot_ctx, tables), "tables");
    LLVMValueRef t = load_invariant(fc, am->ptr, tables, (uint64_t)table * sizeof(void *), "");
    LLVMValueRef size = load_rt(fc, am->i32, t, offsetof(wb_table, size));
    trap_if(fc, LLVMBuildICmp(B, LLVMIntUGE, idx, size, ""), WB_TRAP_UNDEFINED_ELEMENT, idx);
    LLVMValueRef elems = load_rt(fc, am->ptr, t, offsetof(wb_table, elems));
    LLVMValueRef f = load_rt(fc, am->ptr, ptr_at(fc, elems, idx, sizeof(void *)), 0);
    trap_if(fc, LLVMBuildIsNull(B, f, ""), WB_TRAP_UNINITIALIZED_ELEMENT, idx);
    LLVMValueRef ids = load_invariant(fc, am->ptr, fc->ctx, offsetof(wm_aot_ctx, type_ids), "");
    LLVMValueRef want = load_invariant(fc, am->i32, ids, (uint64_t)ti * 4, "");
    LLVMValueRef have = load_rt(fc, am->i32, f, offsetof(wb_func, type_id));
    trap_if(fc, LLVMBuildICmp(B, LLVMIntNE, have, want, ""), WB_TRAP_INDIRECT_CALL_MISMATCH, NULL);
    call_func_value(fc, f, ti);
}

/* ------------------------------------------------------------ checks */

/* sp < *ctx->stack_limit: the stack is exhausted, or (the limit set to
 * UINTPTR_MAX) the store was interrupted; one load and one compare serve
 * both, at every function entry and loop header. The load is volatile:
 * another thread changes the limit while a loop runs. */
static void check_stack(aot_fn *fc) {
    aot_mod *am = fc->am;
    LLVMMetadataRef name = LLVMMDStringInContext2(am->C, "rsp", 3);
    LLVMValueRef md = LLVMMetadataAsValue(am->C, LLVMMDNodeInContext2(am->C, &name, 1));
    LLVMValueRef sp = call_intrinsic(am, "llvm.read_register", am->i64, &md, 1);
    LLVMValueRef p = LLVMBuildGEP2(am->B, am->i8, fc->ctx,
                                   (LLVMValueRef[]){c64(am, offsetof(wm_aot_ctx, stack_limit))}, 1, "");
    LLVMValueRef limit = LLVMBuildLoad2(am->B, am->i64, p, "");
    LLVMSetVolatile(limit, 1);
    trap_if(fc, LLVMBuildICmp(am->B, LLVMIntULT, sp, limit, ""), WB_TRAP_STACK_EXHAUSTED, NULL);
}

/* ------------------------------------------------------ the body walk */

static bool fail(aot_fn *fc, const char *msg) {
    snprintf(fc->am->error, sizeof fc->am->error, "function %u at 0x%x: %s", fc->func_index,
             fc->offset, msg);
    return false;
}

/* Ends a frame: wires the fallthrough into end_bb and continues there.
 * Returns false when the code after it cannot be reached. */
static bool end_frame(aot_fn *fc, aot_ctl *c, bool reachable) {
    aot_mod *am = fc->am;
    LLVMBuilderRef B = am->B;
    if (c->kind == CTL_IF && !c->else_seen) {
        /* The missing else passes the params through (params == results). */
        if (reachable) LLVMBuildBr(B, to_end(fc, c));
        LLVMPositionBuilderAtEnd(B, c->else_bb);
        fc->sp = c->height;
        for (uint32_t i = 0; i < c->nparams; i++) push(fc, c->if_params[i]);
        LLVMBuildBr(B, to_end(fc, c));
        reachable = false;
    }
    if (reachable) LLVMBuildBr(B, to_end(fc, c));
    fc->sp = c->height;
    LLVMPositionBuilderAtEnd(B, c->end_bb);
    if (!c->end_used) {
        for (uint32_t i = 0; i < c->nresults; i++) LLVMInstructionEraseFromParent(c->end_phis[i]);
        /* Leave the block empty but well formed: nothing reaches it. */
        LLVMBuildUnreachable(B);
        return false;
    }
    for (uint32_t i = 0; i < c->nresults; i++) push(fc, c->end_phis[i]);
    return true;
}

static void do_return(aot_fn *fc) {
    aot_mod *am = fc->am;
    const wm_functype *t = fc->type;
    if (t->nresults == 0) {
        LLVMBuildRetVoid(am->B);
    } else if (t->nresults == 1) {
        LLVMBuildRet(am->B, fc->stack[fc->sp - 1]);
    } else {
        LLVMValueRef r = LLVMGetUndef(LLVMGetReturnType(am->ftypes[am->m->func_types[fc->func_index]]));
        for (uint32_t i = 0; i < t->nresults; i++)
            r = LLVMBuildInsertValue(am->B, r, fc->stack[fc->sp - t->nresults + i], i, "");
        LLVMBuildRet(am->B, r);
    }
}

/* Skips the immediates of an instruction in dead code. */
static bool skip_immediates(wm_reader *r, uint8_t op) {
    uint32_t u;
    uint64_t u64;
    int64_t s;
    switch (op) {
    case 0x0C: case 0x0D: case 0x10: case 0x20: case 0x21: case 0x22: case 0x23: case 0x24:
    case 0x25: case 0x26: case 0xD2:
        return wm_read_u32(r, &u);
    case 0x0E: {
        uint32_t n;
        if (!wm_read_u32(r, &n)) return false;
        for (uint32_t i = 0; i <= n; i++) wm_read_u32(r, &u);
        return !r->failed;
    }
    case 0x11: wm_read_u32(r, &u); return wm_read_u32(r, &u);
    case 0x1C: {
        uint32_t n;
        if (!wm_read_u32(r, &n)) return false;
        for (uint32_t i = 0; i < n; i++) { uint8_t b; wm_read_u8(r, &b); }
        return !r->failed;
    }
    case 0x3F: case 0x40: { uint8_t b; return wm_read_u8(r, &b); }
    case 0x41: return wm_read_sleb(r, 32, &s);
    case 0x42: return wm_read_sleb(r, 64, &s);
    case 0x43: return wm_read_f32_bits(r, &u);
    case 0x44: return wm_read_f64_bits(r, &u64);
    case 0xD0: { uint8_t b; return wm_read_u8(r, &b); }
    case 0xFC: {
        if (!wm_read_u32(r, &u)) return false;
        switch (u) {
        case 8: { uint8_t b; wm_read_u32(r, &u); return wm_read_u8(r, &b); }
        case 9: case 13: case 15: case 16: case 17: return wm_read_u32(r, &u);
        case 10: { uint8_t b; wm_read_u8(r, &b); return wm_read_u8(r, &b); }
        case 11: { uint8_t b; return wm_read_u8(r, &b); }
        case 12: case 14: wm_read_u32(r, &u); return wm_read_u32(r, &u);
        default: return true;
        }
    }
    default:
        if (op >= 0x28 && op <= 0x3E) {
            wm_read_u32(r, &u);
            return wm_read_uleb(r, 64, &u64);
        }
        return true;
    }
}

bool aot_compile_body(aot_mod *am, uint32_t fi) {
    const wm_module *m = am->m;
    const wm_code *code = &m->codes[fi - m->nimported_funcs];
    aot_fn fcs, *fc = &fcs;
    memset(fc, 0, sizeof *fc);
    fc->am = am;
    fc->func_index = fi;
    fc->type = wm_func_type(m, fi);
    fc->fn = am->funcs[fi - m->nimported_funcs];
    fc->offset = code->body_offset;
    LLVMBuilderRef B = am->B;

    fc->entry = LLVMAppendBasicBlockInContext(am->C, fc->fn, "entry");
    LLVMPositionBuilderAtEnd(B, fc->entry);
    fc->ctx = LLVMGetParam(fc->fn, 0);
    fc->mem_base = load_invariant(fc, am->ptr, fc->ctx, offsetof(wm_aot_ctx, mem_base), "mem");

    /* Locals. */
    uint32_t np = fc->type->nparams;
    fc->nlocals = np + code->nlocals;
    fc->locals = malloc((fc->nlocals + 1) * sizeof *fc->locals);
    fc->local_types = malloc(fc->nlocals + 1);
    for (uint32_t i = 0; i < np; i++) fc->local_types[i] = fc->type->params[i];
    uint32_t li = np;
    for (uint32_t k = 0; k < code->nruns; k++)
        for (uint32_t j = 0; j < code->runs[k].count; j++) fc->local_types[li++] = code->runs[k].type;
    for (uint32_t i = 0; i < fc->nlocals; i++)
        fc->locals[i] = LLVMBuildAlloca(B, aot_valtype(am, fc->local_types[i]), "");
    for (uint32_t i = 0; i < fc->nlocals; i++)
        LLVMBuildStore(B, i < np ? LLVMGetParam(fc->fn, i + 1) : zero_of(am, fc->local_types[i]),
                       fc->locals[i]);
    if (am->check_stack[fi - m->nimported_funcs]) check_stack(fc);

    ctl_push(fc, CTL_FUNC, 0, NULL, fc->type->nresults, fc->type->results);

    wm_reader rd;
    wm_reader_init(&rd, m->bytes, code->body, code->end);
    bool dead = false;
    uint32_t dead_depth = 0;
    bool ok = true;
    while (fc->nctl > 0 && ok) {
        fc->offset = (uint32_t)wm_reader_offset(&rd);
        fc->nlive = 0;
        uint8_t op;
        if (!wm_read_u8(&rd, &op)) { ok = fail(fc, "unexpected end of body"); break; }
        if (dead) {
            if (op == 0x02 || op == 0x03 || op == 0x04) {
                int64_t bt;
                wm_read_s33(&rd, &bt);
                dead_depth++;
                continue;
            }
            if (op == 0x0B && dead_depth > 0) { dead_depth--; continue; }
            if (op == 0x05 && dead_depth > 0) continue;
            if (op != 0x0B && op != 0x05) {
                if (!skip_immediates(&rd, op)) ok = fail(fc, "bad immediate");
                continue;
            }
        }
        aot_ctl *top = &fc->ctls[fc->nctl - 1];
        switch (op) {
        case 0x00: emit_trap(fc, WB_TRAP_UNREACHABLE, NULL); dead = true; break;
        case 0x01: break;
        case 0x02: case 0x03: case 0x04: {
            int64_t bt;
            wm_read_s33(&rd, &bt);
            uint32_t bnp, bnr;
            const uint8_t *bp, *br;
            block_type(fc, bt, &bnp, &bp, &bnr, &br);
            LLVMValueRef cond = op == 0x04 ? pop(fc) : NULL;
            aot_ctl *c = ctl_push(fc, op == 0x02 ? CTL_BLOCK : op == 0x03 ? CTL_LOOP : CTL_IF, bnp, bp, bnr, br);
            if (op == 0x03) {
                c->loop_bb = LLVMAppendBasicBlockInContext(am->C, fc->fn, "loop");
                LLVMBasicBlockRef from = LLVMGetInsertBlock(B);
                LLVMBuildBr(B, c->loop_bb);
                LLVMPositionBuilderAtEnd(B, c->loop_bb);
                if (bnp) c->loop_phis = malloc(bnp * sizeof *c->loop_phis);
                for (uint32_t i = 0; i < bnp; i++) {
                    c->loop_phis[i] = LLVMBuildPhi(B, aot_valtype(am, bp[i]), "");
                    LLVMAddIncoming(c->loop_phis[i], &fc->stack[c->height + i], &from, 1);
                    fc->stack[c->height + i] = c->loop_phis[i];
                }
                check_stack(fc);
            } else if (op == 0x04) {
                LLVMBasicBlockRef then = LLVMAppendBasicBlockInContext(am->C, fc->fn, "then");
                c->else_bb = LLVMAppendBasicBlockInContext(am->C, fc->fn, "else");
                LLVMBuildCondBr(B, LLVMBuildICmp(B, LLVMIntNE, cond, c32(am, 0), ""), then, c->else_bb);
                if (bnp) c->if_params = malloc(bnp * sizeof *c->if_params);
                for (uint32_t i = 0; i < bnp; i++) c->if_params[i] = fc->stack[c->height + i];
                LLVMPositionBuilderAtEnd(B, then);
            }
            break;
        }
        case 0x05: { /* else */
            if (!dead) LLVMBuildBr(B, to_end(fc, top));
            top->else_seen = true;
            LLVMPositionBuilderAtEnd(B, top->else_bb);
            fc->sp = top->height;
            for (uint32_t i = 0; i < top->nparams; i++) push(fc, top->if_params[i]);
            dead = false;
            break;
        }
        case 0x0B: { /* end */
            aot_ctl c = *top;
            fc->nctl--;
            if (c.kind == CTL_FUNC) {
                if (!dead) LLVMBuildBr(B, to_end(fc, &c));
                LLVMPositionBuilderAtEnd(B, c.end_bb);
                if (!c.end_used) {
                    for (uint32_t i = 0; i < c.nresults; i++) LLVMInstructionEraseFromParent(c.end_phis[i]);
                    LLVMBuildUnreachable(B);
                } else {
                    fc->sp = 0;
                    for (uint32_t i = 0; i < c.nresults; i++) push(fc, c.end_phis[i]);
                    do_return(fc);
                }
                ctl_free(&c);
                break;
            }
            dead = !end_frame(fc, &c, !dead);
            ctl_free(&c);
            break;
        }
        case 0x0C: case 0x0D: { /* br, br_if */
            uint32_t depth;
            wm_read_u32(&rd, &depth);
            aot_ctl *c = &fc->ctls[fc->nctl - 1 - depth];
            if (op == 0x0C) {
                /* Values below the branch's are discarded: keep their loads. */
                LLVMBuildBr(B, branch_target(fc, c));
                dead = true;
            } else {
                LLVMValueRef cond = pop(fc);
                LLVMBasicBlockRef cont = LLVMAppendBasicBlockInContext(am->C, fc->fn, "cont");
                LLVMBasicBlockRef target = branch_target(fc, c);
                LLVMBuildCondBr(B, LLVMBuildICmp(B, LLVMIntNE, cond, c32(am, 0), ""), target, cont);
                LLVMPositionBuilderAtEnd(B, cont);
            }
            break;
        }
        case 0x0E: { /* br_table */
            uint32_t n;
            wm_read_u32(&rd, &n);
            uint32_t *depths = malloc((n + 1) * sizeof *depths);
            for (uint32_t i = 0; i <= n; i++) wm_read_u32(&rd, &depths[i]);
            LLVMValueRef idx = pop(fc);
            /* One edge per distinct target, through a block of its own, so
             * phis see each predecessor once. */
            LLVMBasicBlockRef *via = calloc(fc->nctl, sizeof *via);
            LLVMBasicBlockRef from = LLVMGetInsertBlock(B);
            for (uint32_t i = 0; i <= n; i++) {
                uint32_t d = depths[i];
                if (via[d]) continue;
                via[d] = LLVMAppendBasicBlockInContext(am->C, fc->fn, "brt");
                LLVMPositionBuilderAtEnd(B, via[d]);
                LLVMBuildBr(B, branch_target(fc, &fc->ctls[fc->nctl - 1 - d]));
            }
            LLVMPositionBuilderAtEnd(B, from);
            LLVMValueRef sw = LLVMBuildSwitch(B, idx, via[depths[n]], n);
            for (uint32_t i = 0; i < n; i++) LLVMAddCase(sw, c32(am, i), via[depths[i]]);
            free(via);
            free(depths);
            dead = true;
            break;
        }
        case 0x0F: do_return(fc); dead = true; break;
        case 0x10: { uint32_t f; wm_read_u32(&rd, &f); call_direct(fc, f); break; }
        case 0x11: {
            uint32_t ti, table;
            wm_read_u32(&rd, &ti);
            wm_read_u32(&rd, &table);
            call_indirect(fc, ti, table);
            break;
        }
        case 0x1A: keep_alive(fc, pop(fc)); break;
        case 0x1B: case 0x1C: {
            if (op == 0x1C) {
                uint32_t n;
                uint8_t t;
                wm_read_u32(&rd, &n);
                for (uint32_t i = 0; i < n; i++) wm_read_u8(&rd, &t);
            }
            LLVMValueRef c = pop(fc), b = pop(fc), a = pop(fc);
            push(fc, LLVMBuildSelect(B, LLVMBuildICmp(B, LLVMIntNE, c, c32(am, 0), ""), a, b, ""));
            break;
        }
        case 0x20: { uint32_t i; wm_read_u32(&rd, &i);
            push(fc, LLVMBuildLoad2(B, aot_valtype(am, fc->local_types[i]), fc->locals[i], "")); break; }
        case 0x21: { uint32_t i; wm_read_u32(&rd, &i); LLVMBuildStore(B, pop(fc), fc->locals[i]); break; }
        case 0x22: { uint32_t i; wm_read_u32(&rd, &i); LLVMBuildStore(B, fc->stack[fc->sp - 1], fc->locals[i]); break; }
        case 0x23: case 0x24: {
            uint32_t i;
            wm_read_u32(&rd, &i);
            LLVMValueRef gs = load_invariant(fc, am->ptr, fc->ctx, offsetof(wm_aot_ctx, globals), "globals");
            LLVMValueRef g = load_invariant(fc, am->ptr, gs, (uint64_t)i * sizeof(void *), "");
            LLVMTypeRef t = aot_valtype(am, m->globals[i].type);
            if (op == 0x23) {
                LLVMValueRef v = LLVMBuildLoad2(B, t, g, "");
                LLVMSetMetadata(v, am->md_tbaa, am->tbaa_global);
                if (!m->globals[i].mut) LLVMSetMetadata(v, am->md_invariant, am->md_empty);
                push(fc, v);
            } else {
                LLVMValueRef s = LLVMBuildStore(B, pop(fc), g);
                LLVMSetMetadata(s, am->md_tbaa, am->tbaa_global);
            }
            break;
        }
        case 0x25: { /* table.get */
            uint32_t t;
            wm_read_u32(&rd, &t);
            LLVMValueRef i = pop(fc);
            push(fc, call_helper(fc, WM_H_TABLE_GET, (LLVMValueRef[]){c32(am, t), i, where_of(fc)}, 3));
            break;
        }
        case 0x26: {
            uint32_t t;
            wm_read_u32(&rd, &t);
            LLVMValueRef v = pop(fc), i = pop(fc);
            call_helper(fc, WM_H_TABLE_SET, (LLVMValueRef[]){c32(am, t), i, v, where_of(fc)}, 4);
            break;
        }
        case 0x3F: {
            uint8_t b;
            wm_read_u8(&rd, &b);
            LLVMValueRef mem = load_invariant(fc, am->ptr, fc->ctx, offsetof(wm_aot_ctx, mem), "");
            push(fc, LLVMBuildTrunc(B, load_rt(fc, am->i64, mem, offsetof(wb_memory, pages)), am->i32, ""));
            break;
        }
        case 0x40: {
            uint8_t b;
            wm_read_u8(&rd, &b);
            LLVMValueRef d = pop(fc);
            push(fc, call_helper(fc, WM_H_MEMORY_GROW, &d, 1));
            break;
        }
        case 0x41: { int64_t v; wm_read_sleb(&rd, 32, &v); push(fc, c32(am, (uint32_t)v)); break; }
        case 0x42: { int64_t v; wm_read_sleb(&rd, 64, &v); push(fc, c64(am, (uint64_t)v)); break; }
        case 0x43: { uint32_t v; wm_read_f32_bits(&rd, &v); push(fc, LLVMConstBitCast(c32(am, v), am->f32)); break; }
        case 0x44: { uint64_t v; wm_read_f64_bits(&rd, &v); push(fc, LLVMConstBitCast(c64(am, v), am->f64)); break; }
        case 0xD0: { uint8_t t; wm_read_u8(&rd, &t); push(fc, LLVMConstNull(am->ptr)); break; }
        case 0xD1: push(fc, bool_to_i32(fc, LLVMBuildIsNull(B, pop(fc), ""))); break;
        case 0xD2: {
            uint32_t f;
            wm_read_u32(&rd, &f);
            LLVMValueRef funcs = load_invariant(fc, am->ptr, fc->ctx, offsetof(wm_aot_ctx, funcs), "funcs");
            push(fc, load_invariant(fc, am->ptr, funcs, (uint64_t)f * sizeof(void *), ""));
            break;
        }
        case 0xFC: {
            uint32_t sub;
            wm_read_u32(&rd, &sub);
            if (sub <= 7) {
                LLVMValueRef a = pop(fc);
                LLVMTypeRef it = sub < 4 ? am->i32 : am->i64;
                push(fc, trunc_sat(fc, a, it, (sub & 1) == 0));
                break;
            }
            uint32_t x = 0, y = 0;
            uint8_t b;
            switch (sub) {
            case 8: { /* memory.init */
                wm_read_u32(&rd, &x);
                wm_read_u8(&rd, &b);
                LLVMValueRef n = pop(fc), s = pop(fc), d = pop(fc);
                call_helper(fc, WM_H_MEMORY_INIT, (LLVMValueRef[]){c32(am, x), d, s, n, where_of(fc)}, 5);
                break;
            }
            case 9: wm_read_u32(&rd, &x); call_helper(fc, WM_H_DATA_DROP, (LLVMValueRef[]){c32(am, x)}, 1); break;
            case 10: {
                wm_read_u8(&rd, &b);
                wm_read_u8(&rd, &b);
                LLVMValueRef n = pop(fc), s = pop(fc), d = pop(fc);
                call_helper(fc, WM_H_MEMORY_COPY, (LLVMValueRef[]){d, s, n, where_of(fc)}, 4);
                break;
            }
            case 11: {
                wm_read_u8(&rd, &b);
                LLVMValueRef n = pop(fc), v = pop(fc), d = pop(fc);
                call_helper(fc, WM_H_MEMORY_FILL, (LLVMValueRef[]){d, v, n, where_of(fc)}, 4);
                break;
            }
            case 12: { /* table.init seg table */
                wm_read_u32(&rd, &y);
                wm_read_u32(&rd, &x);
                LLVMValueRef n = pop(fc), s = pop(fc), d = pop(fc);
                call_helper(fc, WM_H_TABLE_INIT, (LLVMValueRef[]){c32(am, x), c32(am, y), d, s, n, where_of(fc)}, 6);
                break;
            }
            case 13: wm_read_u32(&rd, &x); call_helper(fc, WM_H_ELEM_DROP, (LLVMValueRef[]){c32(am, x)}, 1); break;
            case 14: {
                wm_read_u32(&rd, &x);
                wm_read_u32(&rd, &y);
                LLVMValueRef n = pop(fc), s = pop(fc), d = pop(fc);
                call_helper(fc, WM_H_TABLE_COPY, (LLVMValueRef[]){c32(am, x), c32(am, y), d, s, n, where_of(fc)}, 6);
                break;
            }
            case 15: { /* table.grow */
                wm_read_u32(&rd, &x);
                LLVMValueRef n = pop(fc), v = pop(fc);
                push(fc, call_helper(fc, WM_H_TABLE_GROW, (LLVMValueRef[]){c32(am, x), v, n}, 3));
                break;
            }
            case 16: { /* table.size */
                wm_read_u32(&rd, &x);
                LLVMValueRef tables = load_invariant(fc, am->ptr, fc->ctx, offsetof(wm_aot_ctx, tables), "tables");
                LLVMValueRef t = load_invariant(fc, am->ptr, tables, (uint64_t)x * sizeof(void *), "");
                push(fc, load_rt(fc, am->i32, t, offsetof(wb_table, size)));
                break;
            }
            case 17: {
                wm_read_u32(&rd, &x);
                LLVMValueRef n = pop(fc), v = pop(fc), i = pop(fc);
                call_helper(fc, WM_H_TABLE_FILL, (LLVMValueRef[]){c32(am, x), i, v, n, where_of(fc)}, 5);
                break;
            }
            default: ok = fail(fc, "unsupported 0xFC instruction"); break;
            }
            break;
        }
        default:
            if (op >= 0x28 && op <= 0x3E) {
                uint32_t align;
                uint64_t off;
                wm_read_u32(&rd, &align);
                wm_read_uleb(&rd, 64, &off);
                if (op <= 0x35) mem_load(fc, op, off);
                else mem_store(fc, op, off);
            } else if (!numeric(fc, op)) {
                ok = fail(fc, op == 0xFD ? "SIMD is not supported" : "unsupported instruction");
            }
            break;
        }
        if (rd.failed) ok = fail(fc, rd.error);
    }
    for (uint32_t i = 0; i < fc->nctl; i++) ctl_free(&fc->ctls[i]);
    free(fc->ctls);
    free(fc->stack);
    free(fc->locals);
    free(fc->local_types);
    return ok;
}

/* Which functions check the stack limit at entry (a compare with the
 * limit, which also serves interrupts). Those that can recurse (a cycle of
 * direct calls) need it: a runaway recursion must trap, and an interrupt
 * reach a recursion without loops. Those that call outside the module's
 * code (imports, call_indirect) need it: a host function must find room
 * below them. The others are bounded: their callees check, and a deep
 * chain of them ends at the guard page, which the fault handler turns
 * into "call stack exhausted" too. */
typedef struct callgraph {
    uint32_t n;
    uint32_t **callees; /* per function: direct callees (defined ones) */
    uint32_t *ncallees;
    uint32_t *index, *low, *stack, sp, next;
    bool *on_stack;
} callgraph;

static void tarjan(callgraph *g, uint32_t v, bool *needs) {
    /* Recursive: call chains in Wasm modules are shallow compared with the
     * compiler's stack, and the compile runs under a CPU limit anyway. */
    g->index[v] = g->low[v] = ++g->next;
    g->stack[g->sp++] = v;
    g->on_stack[v] = true;
    for (uint32_t k = 0; k < g->ncallees[v]; k++) {
        uint32_t w = g->callees[v][k];
        if (w == v) needs[v] = true;
        if (!g->index[w]) {
            tarjan(g, w, needs);
            if (g->low[w] < g->low[v]) g->low[v] = g->low[w];
        } else if (g->on_stack[w] && g->index[w] < g->low[v]) {
            g->low[v] = g->index[w];
        }
    }
    if (g->low[v] == g->index[v]) {
        uint32_t size = 0, w;
        uint32_t start = g->sp;
        do {
            w = g->stack[--start];
            size++;
        } while (w != v);
        for (uint32_t k = start; k < g->sp; k++) {
            g->on_stack[g->stack[k]] = false;
            if (size > 1) needs[g->stack[k]] = true;
        }
        g->sp = start;
    }
}

bool aot_stack_checks(const wm_module *m, bool *needs) {
    uint32_t n = m->nfuncs - m->nimported_funcs;
    callgraph g = {0};
    g.n = n;
    g.callees = calloc(n + 1, sizeof *g.callees);
    g.ncallees = calloc(n + 1, sizeof *g.ncallees);
    g.index = calloc(n + 1, sizeof *g.index);
    g.low = calloc(n + 1, sizeof *g.low);
    g.stack = calloc(n + 1, sizeof *g.stack);
    g.on_stack = calloc(n + 1, sizeof *g.on_stack);
    bool ok = g.callees && g.ncallees && g.index && g.low && g.stack && g.on_stack;
    for (uint32_t i = 0; ok && i < n; i++) {
        const wm_code *code = &m->codes[i];
        wm_reader rd;
        wm_reader_init(&rd, m->bytes, code->body, code->end);
        uint32_t cap = 0;
        while (ok && wm_reader_left(&rd) > 0) {
            uint8_t op;
            wm_read_u8(&rd, &op);
            if (op == 0x02 || op == 0x03 || op == 0x04) {
                int64_t bt;
                wm_read_s33(&rd, &bt);
            } else if (op == 0x10) {
                uint32_t f;
                wm_read_u32(&rd, &f);
                if (f < m->nimported_funcs) {
                    needs[i] = true;
                } else if (!rd.failed) {
                    if (g.ncallees[i] == cap) {
                        uint32_t *nc = realloc(g.callees[i], (cap = cap ? cap * 2 : 4) * sizeof *nc);
                        if (!nc) { ok = false; break; }
                        g.callees[i] = nc;
                    }
                    g.callees[i][g.ncallees[i]++] = f - m->nimported_funcs;
                }
            } else {
                if (op == 0x11) needs[i] = true;
                ok = skip_immediates(&rd, op);
            }
            if (rd.failed) ok = false;
        }
    }
    for (uint32_t i = 0; ok && i < n; i++)
        if (!g.index[i]) tarjan(&g, i, needs);
    for (uint32_t i = 0; i < n && g.callees; i++) free(g.callees[i]);
    free(g.callees);
    free(g.ncallees);
    free(g.index);
    free(g.low);
    free(g.stack);
    free(g.on_stack);
    return ok;
}
