/*
 * interp.c - the interpreter loop over lowered code.
 *
 * One function, one loop. Dispatch is computed goto on GCC and Clang (the
 * address of each handler taken from a table indexed by the opcode word)
 * and a switch elsewhere; the handlers are written once with CASE/NEXT.
 *
 * Hot state lives in locals the compiler keeps in registers: pc (the
 * current instruction, which stays at the opcode word while it executes),
 * fp (the frame's slot 0), mem (linear memory 0's base), inst and budget
 * (fuel left before the next check of the store's fuel and interrupt flag).
 *
 * Memory accesses are not bounds checked: addresses are 33-bit at most
 * (u32 base + u32 offset) and every linear memory reserves 8 GiB of address
 * space beyond its base, so an out-of-bounds access faults and the fault
 * handler (runtime.c) turns it into a trap. Each access first records pc so
 * that the trap can name the instruction.
 *
 * Wasm-to-Wasm calls do not recurse on the C stack: they push a wm_frame
 * and continue in the same loop. Depth and stack space are checked on each
 * call ("call stack exhausted").
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lower.h"

#if defined(__GNUC__) && !defined(WM_INTERP_SWITCH)
#define WM_COMPUTED_GOTO 1
#endif

#if defined(__GNUC__)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define UNLIKELY(x) (x)
#endif

#define FUEL_CHUNK 65536

static bool refuel(wm_exec *ex, int64_t *budget) {
    if (ex->interrupt) return false;
    if (!ex->fuel_limited) {
        *budget = FUEL_CHUNK;
        return true;
    }
    if (ex->fuel <= 0) return false;
    int64_t take = ex->fuel < 1024 ? ex->fuel : 1024;
    ex->fuel -= take;
    *budget = take - 1;
    return true;
}

/* ------------------------------------------------------- float helpers */

static inline uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline uint64_t f64_bits(double f) { uint64_t u; memcpy(&u, &f, 8); return u; }

static inline float f32_min(float a, float b) {
    if (isnan(a) || isnan(b)) return a + b;
    if (a == b) return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline float f32_max(float a, float b) {
    if (isnan(a) || isnan(b)) return a + b;
    if (a == b) return signbit(a) ? b : a;
    return a > b ? a : b;
}
static inline double f64_min(double a, double b) {
    if (isnan(a) || isnan(b)) return a + b;
    if (a == b) return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline double f64_max(double a, double b) {
    if (isnan(a) || isnan(b)) return a + b;
    if (a == b) return signbit(a) ? b : a;
    return a > b ? a : b;
}

/* libm may return a signalling NaN unchanged; Wasm requires a quiet
 * (arithmetic) NaN from every arithmetic instruction. */
#define QUIET_ROUND(name, type, fn) \
    static inline type name(type x) { return isnan(x) ? x + x : fn(x); }
QUIET_ROUND(f32_ceil, float, ceilf)
QUIET_ROUND(f32_floor, float, floorf)
QUIET_ROUND(f32_trunc, float, truncf)
QUIET_ROUND(f32_nearest, float, nearbyintf)
QUIET_ROUND(f32_sqrt, float, sqrtf)
QUIET_ROUND(f64_ceil, double, ceil)
QUIET_ROUND(f64_floor, double, floor)
QUIET_ROUND(f64_trunc, double, trunc)
QUIET_ROUND(f64_nearest, double, nearbyint)
QUIET_ROUND(f64_sqrt, double, sqrt)
#undef QUIET_ROUND

/* Saturating truncations: NaN -> 0, out of range -> the nearest bound. */
static inline int32_t sat_i32(double x) {
    if (isnan(x)) return 0;
    if (x <= -2147483649.0) return INT32_MIN;
    if (x >= 2147483648.0) return INT32_MAX;
    return (int32_t)x;
}
static inline uint32_t sat_u32(double x) {
    if (isnan(x) || x <= -1.0) return 0;
    if (x >= 4294967296.0) return UINT32_MAX;
    return (uint32_t)x;
}
static inline int64_t sat_i64(double x) {
    if (isnan(x)) return 0;
    if (x < -9223372036854775808.0) return INT64_MIN;
    if (x >= 9223372036854775808.0) return INT64_MAX;
    return (int64_t)x;
}
static inline uint64_t sat_u64(double x) {
    if (isnan(x) || x <= -1.0) return 0;
    if (x >= 18446744073709551616.0) return UINT64_MAX;
    return (uint64_t)x;
}

static inline uint32_t rotl32(uint32_t x, uint32_t n) { n &= 31; return (x << n) | (x >> ((32 - n) & 31)); }
static inline uint32_t rotr32(uint32_t x, uint32_t n) { n &= 31; return (x >> n) | (x << ((32 - n) & 31)); }
static inline uint64_t rotl64(uint64_t x, uint64_t n) { n &= 63; return (x << n) | (x >> ((64 - n) & 63)); }
static inline uint64_t rotr64(uint64_t x, uint64_t n) { n &= 63; return (x >> n) | (x << ((64 - n) & 63)); }

/* ------------------------------------------------------ op profiling */

#ifdef WM_PROFILE_OPS
/* A developer's aid (cmake -DWB_PROFILE_OPS=ON): counts executed internal
 * instructions and pairs of consecutive ones, printed at exit, to find
 * what superinstructions would pay. Never in a normal build. */
#include <stdlib.h>
static const char *const wm_prof_names[WM_IOP_COUNT] = {
#define WM_IOP(name, nwords) [WM_IOP_##name] = #name,
#include "iops.def"
};
static uint64_t wm_prof_single[WM_IOP_COUNT];
static uint64_t wm_prof_pair[WM_IOP_COUNT][WM_IOP_COUNT];
static unsigned wm_prof_prev;

static void wm_prof_report(void) {
    uint64_t total = 0;
    for (int i = 0; i < WM_IOP_COUNT; i++) total += wm_prof_single[i];
    fprintf(stderr, "wasmbox: %llu instructions executed\n", (unsigned long long)total);
    for (int round = 0; round < 2; round++) {
        fprintf(stderr, round ? "top pairs:\n" : "top instructions:\n");
        for (int k = 0; k < 25; k++) {
            uint64_t best = 0;
            int bi = -1, bj = -1;
            for (int i = 0; i < WM_IOP_COUNT; i++) {
                if (!round) {
                    if (wm_prof_single[i] > best) { best = wm_prof_single[i]; bi = i; }
                    continue;
                }
                for (int j = 0; j < WM_IOP_COUNT; j++)
                    if (wm_prof_pair[i][j] > best) { best = wm_prof_pair[i][j]; bi = i; bj = j; }
            }
            if (bi < 0) break;
            fprintf(stderr, "  %5.2f%%  %s%s%s\n", 100.0 * (double)best / (double)(total ? total : 1),
                    wm_prof_names[bi], round ? " -> " : "", round ? wm_prof_names[bj] : "");
            if (round) wm_prof_pair[bi][bj] = 0; else wm_prof_single[bi] = 0;
        }
    }
}

static inline void wm_prof_count(unsigned op) {
    static int registered;
    if (!registered) { registered = 1; atexit(wm_prof_report); }
    wm_prof_single[op]++;
    wm_prof_pair[wm_prof_prev][op]++;
    wm_prof_prev = op;
}
#define WM_PROF(op) wm_prof_count(op)
#else
#define WM_PROF(op) ((void)0)
#endif

/* -------------------------------------------------------------- the loop */

#if defined(WM_COMPUTED_GOTO) && !defined(WM_PROFILE_OPS)
/* Direct threading: once a function is lowered, each opcode word is
 * replaced by its handler's distance from the first handler, so that
 * dispatch is one add and one indirect jump, without a table load. */
#define WM_THREADED 1
#endif

wb_status wm_interp(wm_exec *ex, wb_func *f, wm_slot *fp, wm_lowered *thread) {
#ifdef WM_COMPUTED_GOTO
    static const void *const labels[WM_IOP_COUNT] = {
#define WM_IOP(name, nwords) [WM_IOP_##name] = &&L_##name,
#include "iops.def"
    };
#define CASE(name) L_##name:
#ifdef WM_THREADED
#define DISPATCH() goto *(const void *)((const char *)&&L_unreachable + (int32_t)*pc)
#else
#define DISPATCH() do { WM_PROF(*pc); goto *labels[*pc]; } while (0)
#endif
    if (UNLIKELY(thread != NULL)) {
#ifdef WM_THREADED
        for (uint32_t i = 0; i < thread->npcmap; i++) {
            wm_word *w = &thread->code[thread->pcmap[2 * i]];
            *w = (wm_word)(int32_t)((const char *)labels[*w] - (const char *)&&L_unreachable);
        }
#endif
        return WB_OK;
    }
#else
    if (thread != NULL) return WB_OK;
#define CASE(name) case WM_IOP_##name:
#define DISPATCH() goto dispatch
#endif
#define NEXT(n)        \
    do {               \
        pc += (n);     \
        DISPATCH();    \
    } while (0)
#define TRAP(code)              \
    do {                        \
        trap = (code);          \
        goto trapped;           \
    } while (0)
#define FUEL_CHECK()                                                     \
    do {                                                                 \
        if (UNLIKELY(--budget < 0) && !refuel(ex, &budget))              \
            TRAP(ex->interrupt ? WB_TRAP_INTERRUPTED : WB_TRAP_OUT_OF_FUEL); \
    } while (0)
/* Operand word i of the current instruction, and the slot it names. */
#define W(i) (pc[i])
#define S(i) (fp[pc[i]])
/* The host address of a memory access whose address words start at word
 * a and whose static offset is word o, in each address form: plain (slot
 * A), _X u32(A + B), _S u32(A + (B << K)), _A u32(A + K) and _SK
 * u32((B << S) + K). The 32-bit sums wrap as i32.add does. */
#define MEMADDR(a, o) (mem + (uint64_t)fp[pc[a]].u32 + (uint64_t)pc[o])
#define MEMADDR_X(a, o) (mem + (uint64_t)(uint32_t)(fp[pc[a]].u32 + fp[pc[(a) + 1]].u32) + pc[o])
#define MEMADDR_S(a, o) \
    (mem + (uint64_t)(uint32_t)(fp[pc[a]].u32 + (fp[pc[(a) + 1]].u32 << (pc[(a) + 2] & 31))) + pc[o])
#define MEMADDR_A(a, o) (mem + (uint64_t)(uint32_t)(fp[pc[a]].u32 + pc[(a) + 1]) + pc[o])
#define MEMADDR_SK(a, o) \
    (mem + (uint64_t)(uint32_t)((fp[pc[a]].u32 << (pc[(a) + 1] & 31)) + pc[(a) + 2]) + pc[o])

    wb_func *func = f;
    wm_lowered *code = f->code;
    const wm_word *pc = code->code;
    wb_instance *inst = f->inst;
    uint8_t *mem = inst->mem0 ? inst->mem0->base : NULL;
    wm_frame *fsp = ex->frame_top;
    wm_frame *const fsp_base = fsp;
    int64_t budget = 0;
    wb_trap trap = WB_TRAP_NONE;
    wb_status status = WB_OK;

    ex->trap_func = func;
    ex->in_wasm = 1;
    FUEL_CHECK();

#ifndef WM_COMPUTED_GOTO
dispatch:
    switch ((wm_iop)*pc) {
#endif
    DISPATCH();

    CASE(unreachable) TRAP(WB_TRAP_UNREACHABLE);

    CASE(br) pc = code->code + W(1); DISPATCH();
    CASE(br_loop)
        FUEL_CHECK();
        pc = code->code + W(1);
        DISPATCH();
    CASE(br_if)
        if (S(1).u32) { pc = code->code + W(2); DISPATCH(); }
        NEXT(3);
    CASE(br_if_loop)
        if (S(1).u32) {
            FUEL_CHECK();
            pc = code->code + W(2);
            DISPATCH();
        }
        NEXT(3);
    CASE(br_unless)
        if (!S(1).u32) { pc = code->code + W(2); DISPATCH(); }
        NEXT(3);
    CASE(br_table) {
        uint32_t i = S(1).u32, n = W(2);
        pc = code->code + pc[3 + (i < n ? i : n)];
        DISPATCH();
    }

    CASE(return1)
        fp[0] = S(1);
        /* fall through */
    CASE(return)
        if (fsp == fsp_base) goto done;
        fsp--;
        pc = fsp->ret_pc;
        fp = fsp->ret_fp;
        func = fsp->func;
        code = func->code;
        ex->trap_func = func;
        if (func->inst != inst) {
            inst = func->inst;
            mem = inst->mem0 ? inst->mem0->base : NULL;
        }
        DISPATCH();

    {
        wb_func *callee;
        wm_slot *nfp;
        const wm_word *ret;
    /* The _args forms first copy their arguments into place (from the
     * slots listed after the instruction). */
    CASE(call_args)
        for (uint32_t k = 0; k < W(3); k++) fp[W(2) + k] = fp[pc[4 + k]];
        ret = pc + 4 + W(3);
        goto direct;
    CASE(call)
        ret = pc + 3;
    direct:
        callee = inst->funcs[W(1)];
        nfp = fp + W(2);
        goto do_call;
    CASE(call_indirect_args)
        for (uint32_t k = 0; k < W(5); k++) fp[W(3) + k] = fp[pc[6 + k]];
        ret = pc + 6 + W(5);
        goto indirect;
    CASE(call_indirect)
        ret = pc + 5;
    indirect: {
        wb_table *t = inst->tables[W(2)];
        uint32_t i = S(4).u32;
        if (UNLIKELY(i >= t->size)) {
            ex->trap_detail = i;
            TRAP(WB_TRAP_UNDEFINED_ELEMENT);
        }
        callee = (wb_func *)t->elems[i];
        if (UNLIKELY(!callee)) {
            ex->trap_detail = i;
            TRAP(WB_TRAP_UNINITIALIZED_ELEMENT);
        }
        if (UNLIKELY(callee->type_id != inst->type_ids[W(1)]))
            TRAP(WB_TRAP_INDIRECT_CALL_MISMATCH);
        nfp = fp + W(3);
        goto do_call;
    }
    do_call:
        if (UNLIKELY(callee->aot_code != NULL) && !ex->fuel_limited) {
            /* Native code of another instance: a trap in it jumps to the
             * executor's sigsetjmp, past this frame. */
            ex->trap_pc = pc;
            ex->stack_top = fp + code->nslots;
            ex->frame_top = fsp;
            wm_aot_enter(ex, callee, nfp);
            ex->in_wasm = 1;
            ex->trap_func = func;
            pc = ret;
            DISPATCH();
        }
        if (callee->host) {
            ex->trap_pc = pc;
            ex->stack_top = fp + code->nslots;
            ex->frame_top = fsp;
            if (ex->fuel_limited) ex->fuel += budget;
            budget = 0;
            ex->in_wasm = 0;
            status = wm_call_host(ex, callee, inst, nfp);
            ex->in_wasm = 1;
            ex->trap_func = func;
            if (status != WB_OK) goto failed;
            FUEL_CHECK();
            pc = ret;
            DISPATCH();
        }
        if (UNLIKELY(!callee->code)) {
            wb_error err;
            if (wm_func_prepare(callee, &err) != WB_OK) {
                status = err.status;
                snprintf(ex->host_message, sizeof ex->host_message, "%s", err.message);
                trap = WB_TRAP_HOST;
                ex->trap = trap;
                goto failed_pc;
            }
        }
        {
            wm_lowered *cc = callee->code;
            if (UNLIKELY(nfp + cc->nslots > ex->stack_end || fsp == ex->frames_end))
                TRAP(WB_TRAP_STACK_EXHAUSTED);
            fsp->ret_pc = ret;
            fsp->ret_fp = fp;
            fsp->func = func;
            fsp++;
            if (cc->nlocals > cc->nparams)
                memset(nfp + cc->nparams, 0, (size_t)(cc->nlocals - cc->nparams) * sizeof *nfp);
            fp = nfp;
            func = callee;
            code = cc;
            pc = cc->code;
            ex->trap_func = func;
            if (func->inst != inst) {
                inst = func->inst;
                mem = inst->mem0 ? inst->mem0->base : NULL;
            }
            FUEL_CHECK();
            DISPATCH();
        }
    }

    CASE(copy) S(1) = S(2); NEXT(3);
    CASE(select) S(1) = S(4).u32 ? S(2) : S(3); NEXT(5);
    CASE(const32) S(1).u64 = W(2); NEXT(3);
    CASE(const64) S(1).u64 = (uint64_t)W(2) | (uint64_t)W(3) << 32; NEXT(4);
    CASE(global_get) S(1) = inst->globals[W(2)]->val; NEXT(3);
    CASE(global_set) inst->globals[W(1)]->val = S(2); NEXT(3);

    /* Memory accesses, each in every address form (MEMADDR*). */
    /* Loads: D then the address words. */
#define LOAD_AT(label, ctype, member, cast, addr, nwords) \
    CASE(label) {                                         \
        ctype v;                                          \
        ex->trap_pc = pc;                                 \
        memcpy(&v, addr, sizeof v);                       \
        S(1).member = cast v;                             \
        NEXT(nwords);                                     \
    }
#define LOAD(name, ctype, member, cast) LOAD_AT(name, ctype, member, cast, MEMADDR(2, 3), 4)
/* A load in its plain form and every fused address form. */
#define LOADX(name, ctype, member, cast)                         \
    LOAD(name, ctype, member, cast)                              \
    LOAD_AT(name##_x, ctype, member, cast, MEMADDR_X(2, 4), 5)   \
    LOAD_AT(name##_s, ctype, member, cast, MEMADDR_S(2, 5), 6)   \
    LOAD_AT(name##_a, ctype, member, cast, MEMADDR_A(2, 4), 5)   \
    LOAD_AT(name##_sk, ctype, member, cast, MEMADDR_SK(2, 5), 6)
    LOAD(i64_load8_s, int8_t, i64, (int64_t))
    LOAD(i64_load8_u, uint8_t, u64, (uint64_t))
    LOAD(i64_load16_s, int16_t, i64, (int64_t))
    LOAD(i64_load16_u, uint16_t, u64, (uint64_t))
    LOAD(i64_load32_s, int32_t, i64, (int64_t))
    LOAD(i64_load32_u, uint32_t, u64, (uint64_t))
    LOADX(i32_load, uint32_t, u32, )
    LOADX(i64_load, uint64_t, u64, )
    LOADX(f32_load, uint32_t, u32, )
    LOADX(f64_load, uint64_t, u64, )
    LOADX(i32_load8_u, uint8_t, u32, (uint32_t))
    LOADX(i32_load8_s, int8_t, i32, (int32_t))
    LOADX(i32_load16_u, uint16_t, u32, (uint32_t))
    LOADX(i32_load16_s, int16_t, i32, (int32_t))
#undef LOAD
#undef LOADX
#undef LOAD_AT

    /* Stores: the address words, then V (slot) after them; _k stores
     * take V as a constant (sign-extended from 32 bits). */
#define STORE_AT(label, ctype, value, addr, nwords) \
    CASE(label) {                                   \
        ctype v = (ctype)(value);                   \
        ex->trap_pc = pc;                           \
        memcpy(addr, &v, sizeof v);                 \
        NEXT(nwords);                               \
    }
#define STORE(name, ctype, member) STORE_AT(name, ctype, S(2).member, MEMADDR(1, 3), 4)
/* A store in its plain form and every fused address form. */
#define STOREX(name, ctype, member)                                  \
    STORE(name, ctype, member)                                       \
    STORE_AT(name##_x, ctype, S(3).member, MEMADDR_X(1, 4), 5)       \
    STORE_AT(name##_s, ctype, S(4).member, MEMADDR_S(1, 5), 6)       \
    STORE_AT(name##_a, ctype, S(3).member, MEMADDR_A(1, 4), 5)       \
    STORE_AT(name##_sk, ctype, S(4).member, MEMADDR_SK(1, 5), 6)
#define STOREK(name, ctype) STORE_AT(name##_k, ctype, (int64_t)(int32_t)W(2), MEMADDR(1, 3), 4)
    STORE(i64_store8, uint8_t, u64)
    STORE(i64_store16, uint16_t, u64)
    STORE(i64_store32, uint32_t, u64)
    STOREX(i32_store, uint32_t, u32)
    STOREX(i64_store, uint64_t, u64)
    STOREX(f32_store, uint32_t, u32)
    STOREX(f64_store, uint64_t, u64)
    STOREX(i32_store8, uint8_t, u32)
    STOREX(i32_store16, uint16_t, u32)
    STOREK(i32_store, uint32_t)
    STOREK(i32_store8, uint8_t)
    STOREK(i32_store16, uint16_t)
    STOREK(i64_store, uint64_t)
    STOREK(i64_store32, uint32_t)
#undef STORE
#undef STOREX
#undef STOREK
#undef STORE_AT

    CASE(memory_size) S(1).u64 = inst->mem0->pages; NEXT(2);
    CASE(memory_grow)
        S(1).u64 = (uint32_t)(int32_t)wm_memory_grow_raw(inst->mem0, S(2).u32);
        NEXT(3);

    /* Numeric instructions. */
#define UN(name, expr) CASE(name) { wm_slot *a_ = &S(2); (void)a_; S(1) expr; NEXT(3); }
#define BIN(name, expr) CASE(name) { wm_slot *a_ = &S(2), *b_ = &S(3); S(1) expr; NEXT(4); }
#define A (*a_)
#define B (*b_)
/* Also the form with a constant second operand (sign-extended word 3). */
#define BINK(name, expr)                                   \
    BIN(name, expr)                                        \
    CASE(name##_k) {                                       \
        wm_slot *a_ = &S(2);                               \
        wm_slot k_;                                        \
        k_.u64 = (uint64_t)(int64_t)(int32_t)W(3);         \
        wm_slot *b_ = &k_;                                 \
        S(1) expr;                                         \
        NEXT(4);                                           \
    }
/* A comparison fused with br_if: jump to word 3 when it holds. */
#define BRCMP(name, cond)                                  \
    CASE(br_##name) {                                      \
        wm_slot *a_ = &S(1), *b_ = &S(2);                  \
        if (cond) {                                        \
            FUEL_CHECK();                                  \
            pc = code->code + W(3);                        \
            DISPATCH();                                    \
        }                                                  \
        NEXT(4);                                           \
    }                                                      \
    CASE(br_##name##_k) {                                  \
        wm_slot *a_ = &S(1);                               \
        wm_slot k_;                                        \
        k_.u64 = (uint64_t)(int64_t)(int32_t)W(2);         \
        wm_slot *b_ = &k_;                                 \
        if (cond) {                                        \
            FUEL_CHECK();                                  \
            pc = code->code + W(3);                        \
            DISPATCH();                                    \
        }                                                  \
        NEXT(4);                                           \
    }
    /* The integer comparisons: the value form (with its _k form) and the
     * branch form, from one list. */
#define INT_CMPS(X)                                            \
    X(i32_eq, eq, A.u32 == B.u32) X(i32_ne, ne, A.u32 != B.u32)  \
    X(i32_lt_s, lt_s, A.i32 < B.i32) X(i32_lt_u, lt_u, A.u32 < B.u32) \
    X(i32_gt_s, gt_s, A.i32 > B.i32) X(i32_gt_u, gt_u, A.u32 > B.u32) \
    X(i32_le_s, le_s, A.i32 <= B.i32) X(i32_le_u, le_u, A.u32 <= B.u32) \
    X(i32_ge_s, ge_s, A.i32 >= B.i32) X(i32_ge_u, ge_u, A.u32 >= B.u32) \
    X(i64_eq, i64_eq, A.u64 == B.u64) X(i64_ne, i64_ne, A.u64 != B.u64) \
    X(i64_lt_s, i64_lt_s, A.i64 < B.i64) X(i64_lt_u, i64_lt_u, A.u64 < B.u64) \
    X(i64_gt_s, i64_gt_s, A.i64 > B.i64) X(i64_gt_u, i64_gt_u, A.u64 > B.u64) \
    X(i64_le_s, i64_le_s, A.i64 <= B.i64) X(i64_le_u, i64_le_u, A.u64 <= B.u64) \
    X(i64_ge_s, i64_ge_s, A.i64 >= B.i64) X(i64_ge_u, i64_ge_u, A.u64 >= B.u64)
#define BRCMP_OF(value, br, cond) BRCMP(br, cond)
    INT_CMPS(BRCMP_OF)
#undef BRCMP_OF
#undef BRCMP
    CASE(i32_add_shl) S(1).u32 = S(2).u32 + (S(3).u32 << (W(4) & 31)); NEXT(5);
    CASE(i32_shl_add_k) S(1).u32 = (S(2).u32 << (W(3) & 31)) + W(4); NEXT(5);
    /* Arithmetic with a memory operand: D A ADDR.. OFF, D = A op m. */
#define MEMARITH(name, ctype, member, addr, nwords, expr) \
    CASE(name) {                                          \
        ctype m;                                          \
        ex->trap_pc = pc;                                 \
        memcpy(&m, addr, sizeof m);                       \
        ctype a = S(2).member;                            \
        S(1).member = expr;                               \
        NEXT(nwords);                                     \
    }
#define FMEM(name, expr) MEMARITH(name, double, f64, MEMADDR(3, 4), 5, expr)
#define FMEMA(name, expr) MEMARITH(name, double, f64, MEMADDR_A(3, 5), 6, expr)
    FMEM(f64_add_m, a + m)
    FMEM(f64_sub_m, a - m)
    FMEM(f64_rsub_m, m - a)
    FMEM(f64_mul_m, a * m)
    FMEMA(f64_add_ma, a + m)
    FMEMA(f64_sub_ma, a - m)
    FMEMA(f64_rsub_ma, m - a)
    FMEMA(f64_mul_ma, a * m)
    MEMARITH(i32_add_m, uint32_t, u32, MEMADDR(3, 4), 5, a + m)
    MEMARITH(i32_sub_m, uint32_t, u32, MEMADDR(3, 4), 5, a - m)
    MEMARITH(i32_rsub_m, uint32_t, u32, MEMADDR(3, 4), 5, m - a)
    MEMARITH(i64_add_m, uint64_t, u64, MEMADDR(3, 4), 5, a + m)
    MEMARITH(i64_sub_m, uint64_t, u64, MEMADDR(3, 4), 5, a - m)
    MEMARITH(i64_rsub_m, uint64_t, u64, MEMADDR(3, 4), 5, m - a)
#undef FMEM
#undef FMEMA
#undef MEMARITH
    CASE(f64_mul3) {
        double t = S(2).f64 * S(3).f64;
        S(1).f64 = t * S(4).f64;
        NEXT(5);
    }
#define MOVE(name, ctype)                        \
    CASE(name) {                                 \
        ctype m;                                 \
        ex->trap_pc = pc;                        \
        memcpy(&m, MEMADDR(3, 4), sizeof m);     \
        memcpy(MEMADDR(1, 2), &m, sizeof m);     \
        NEXT(5);                                 \
    }
    MOVE(move32, uint32_t)
    MOVE(move64, uint64_t)
#undef MOVE
    /* Read-modify-write of memory: ADDR V OFF. */
#define UPDATE(name, ctype, member, op)                   \
    CASE(name) {                                          \
        ctype m;                                          \
        uint8_t *p_ = MEMADDR(1, 3);                      \
        ex->trap_pc = pc;                                 \
        memcpy(&m, p_, sizeof m);                         \
        m = m op S(2).member;                             \
        memcpy(p_, &m, sizeof m);                         \
        NEXT(4);                                          \
    }
    UPDATE(i32_add_to, uint32_t, u32, +)
    UPDATE(i32_sub_to, uint32_t, u32, -)
    UPDATE(i64_add_to, uint64_t, u64, +)
    UPDATE(i64_sub_to, uint64_t, u64, -)
    UPDATE(f64_add_to, double, f64, +)
    UPDATE(f64_sub_to, double, f64, -)
#undef UPDATE
#define BRINC(name, cond)                                 \
    CASE(name) {                                          \
        uint32_t v = S(2).u32 + W(3);                     \
        S(1).u32 = v;                                     \
        if (cond) {                                       \
            FUEL_CHECK();                                 \
            pc = code->code + W(5);                       \
            DISPATCH();                                   \
        }                                                 \
        NEXT(6);                                          \
    }
    BRINC(br_inc_ne, v != S(4).u32)
    BRINC(br_inc_lt_u, v < S(4).u32)
    BRINC(br_inc_lt_s, (int32_t)v < S(4).i32)
    BRINC(br_inc_ne_k, v != W(4))
    BRINC(br_inc_lt_u_k, v < W(4))
    BRINC(br_inc_lt_s_k, (int32_t)v < (int32_t)W(4))
#undef BRINC
    CASE(i64_xorshr_k) S(1).u64 = S(2).u64 ^ (S(2).u64 >> (W(3) & 63)); NEXT(4);
    CASE(i64_xorshr_mul) S(1).u64 = (S(2).u64 ^ (S(2).u64 >> (W(3) & 63))) * S(4).u64; NEXT(5);
    CASE(i64_mul_shr_u_k) S(1).u64 = (S(2).u64 * S(3).u64) >> (W(4) & 63); NEXT(5);
    UN(i32_eqz, .u64 = A.u32 == 0)
#define CMP_OF(value, br, cond) BINK(value, .u64 = cond)
    INT_CMPS(CMP_OF)
#undef CMP_OF
#undef INT_CMPS
    UN(i64_eqz, .u64 = A.u64 == 0)
    BIN(f32_eq, .u64 = A.f32 == B.f32)
    BIN(f32_ne, .u64 = A.f32 != B.f32)
    BIN(f32_lt, .u64 = A.f32 < B.f32)
    BIN(f32_gt, .u64 = A.f32 > B.f32)
    BIN(f32_le, .u64 = A.f32 <= B.f32)
    BIN(f32_ge, .u64 = A.f32 >= B.f32)
    BIN(f64_eq, .u64 = A.f64 == B.f64)
    BIN(f64_ne, .u64 = A.f64 != B.f64)
    BIN(f64_lt, .u64 = A.f64 < B.f64)
    BIN(f64_gt, .u64 = A.f64 > B.f64)
    BIN(f64_le, .u64 = A.f64 <= B.f64)
    BIN(f64_ge, .u64 = A.f64 >= B.f64)

    UN(i32_clz, .u64 = A.u32 ? (uint32_t)__builtin_clz(A.u32) : 32)
    UN(i32_ctz, .u64 = A.u32 ? (uint32_t)__builtin_ctz(A.u32) : 32)
    UN(i32_popcnt, .u64 = (uint32_t)__builtin_popcount(A.u32))
    BINK(i32_add, .u32 = A.u32 + B.u32)
    BINK(i32_sub, .u32 = A.u32 - B.u32)
    BINK(i32_mul, .u32 = A.u32 * B.u32)
    CASE(i32_div_s) {
        int32_t a = S(2).i32, b = S(3).i32;
        if (UNLIKELY(b == 0)) TRAP(WB_TRAP_INT_DIV_ZERO);
        if (UNLIKELY(a == INT32_MIN && b == -1)) TRAP(WB_TRAP_INT_OVERFLOW);
        S(1).i32 = a / b;
        NEXT(4);
    }
    CASE(i32_div_u) {
        uint32_t a = S(2).u32, b = S(3).u32;
        if (UNLIKELY(b == 0)) TRAP(WB_TRAP_INT_DIV_ZERO);
        S(1).u32 = a / b;
        NEXT(4);
    }
    CASE(i32_rem_s) {
        int32_t a = S(2).i32, b = S(3).i32;
        if (UNLIKELY(b == 0)) TRAP(WB_TRAP_INT_DIV_ZERO);
        S(1).i32 = (b == -1) ? 0 : a % b;
        NEXT(4);
    }
    CASE(i32_rem_u) {
        uint32_t a = S(2).u32, b = S(3).u32;
        if (UNLIKELY(b == 0)) TRAP(WB_TRAP_INT_DIV_ZERO);
        S(1).u32 = a % b;
        NEXT(4);
    }
    BINK(i32_and, .u32 = A.u32 & B.u32)
    BINK(i32_or, .u32 = A.u32 | B.u32)
    BINK(i32_xor, .u32 = A.u32 ^ B.u32)
    BINK(i32_shl, .u32 = A.u32 << (B.u32 & 31))
    BINK(i32_shr_s, .i32 = A.i32 >> (B.u32 & 31))
    BINK(i32_shr_u, .u32 = A.u32 >> (B.u32 & 31))
    BIN(i32_rotl, .u32 = rotl32(A.u32, B.u32))
    BIN(i32_rotr, .u32 = rotr32(A.u32, B.u32))

    UN(i64_clz, .u64 = A.u64 ? (uint64_t)__builtin_clzll(A.u64) : 64)
    UN(i64_ctz, .u64 = A.u64 ? (uint64_t)__builtin_ctzll(A.u64) : 64)
    UN(i64_popcnt, .u64 = (uint64_t)__builtin_popcountll(A.u64))
    BINK(i64_add, .u64 = A.u64 + B.u64)
    BINK(i64_sub, .u64 = A.u64 - B.u64)
    BINK(i64_mul, .u64 = A.u64 * B.u64)
    CASE(i64_div_s) {
        int64_t a = S(2).i64, b = S(3).i64;
        if (UNLIKELY(b == 0)) TRAP(WB_TRAP_INT_DIV_ZERO);
        if (UNLIKELY(a == INT64_MIN && b == -1)) TRAP(WB_TRAP_INT_OVERFLOW);
        S(1).i64 = a / b;
        NEXT(4);
    }
    CASE(i64_div_u) {
        uint64_t a = S(2).u64, b = S(3).u64;
        if (UNLIKELY(b == 0)) TRAP(WB_TRAP_INT_DIV_ZERO);
        S(1).u64 = a / b;
        NEXT(4);
    }
    CASE(i64_rem_s) {
        int64_t a = S(2).i64, b = S(3).i64;
        if (UNLIKELY(b == 0)) TRAP(WB_TRAP_INT_DIV_ZERO);
        S(1).i64 = (b == -1) ? 0 : a % b;
        NEXT(4);
    }
    CASE(i64_rem_u) {
        uint64_t a = S(2).u64, b = S(3).u64;
        if (UNLIKELY(b == 0)) TRAP(WB_TRAP_INT_DIV_ZERO);
        S(1).u64 = a % b;
        NEXT(4);
    }
    BINK(i64_and, .u64 = A.u64 & B.u64)
    BINK(i64_or, .u64 = A.u64 | B.u64)
    BINK(i64_xor, .u64 = A.u64 ^ B.u64)
    BINK(i64_shl, .u64 = A.u64 << (B.u64 & 63))
    BINK(i64_shr_s, .i64 = A.i64 >> (B.u64 & 63))
    BINK(i64_shr_u, .u64 = A.u64 >> (B.u64 & 63))
    BIN(i64_rotl, .u64 = rotl64(A.u64, B.u64))
    BIN(i64_rotr, .u64 = rotr64(A.u64, B.u64))

    UN(f32_abs, .u64 = f32_bits(A.f32) & 0x7FFFFFFFu)
    UN(f32_neg, .u64 = f32_bits(A.f32) ^ 0x80000000u)
    UN(f32_ceil, .f32 = f32_ceil(A.f32))
    UN(f32_floor, .f32 = f32_floor(A.f32))
    UN(f32_trunc, .f32 = f32_trunc(A.f32))
    UN(f32_nearest, .f32 = f32_nearest(A.f32))
    UN(f32_sqrt, .f32 = f32_sqrt(A.f32))
    BIN(f32_add, .f32 = A.f32 + B.f32)
    BIN(f32_sub, .f32 = A.f32 - B.f32)
    BIN(f32_mul, .f32 = A.f32 * B.f32)
    BIN(f32_div, .f32 = A.f32 / B.f32)
    BIN(f32_min, .f32 = f32_min(A.f32, B.f32))
    BIN(f32_max, .f32 = f32_max(A.f32, B.f32))
    BIN(f32_copysign, .u64 = (f32_bits(A.f32) & 0x7FFFFFFFu) | (f32_bits(B.f32) & 0x80000000u))
    UN(f64_abs, .u64 = f64_bits(A.f64) & 0x7FFFFFFFFFFFFFFFull)
    UN(f64_neg, .u64 = f64_bits(A.f64) ^ 0x8000000000000000ull)
    UN(f64_ceil, .f64 = f64_ceil(A.f64))
    UN(f64_floor, .f64 = f64_floor(A.f64))
    UN(f64_trunc, .f64 = f64_trunc(A.f64))
    UN(f64_nearest, .f64 = f64_nearest(A.f64))
    UN(f64_sqrt, .f64 = f64_sqrt(A.f64))
    BIN(f64_add, .f64 = A.f64 + B.f64)
    BIN(f64_sub, .f64 = A.f64 - B.f64)
    BIN(f64_mul, .f64 = A.f64 * B.f64)
    BIN(f64_div, .f64 = A.f64 / B.f64)
    BIN(f64_min, .f64 = f64_min(A.f64, B.f64))
    BIN(f64_max, .f64 = f64_max(A.f64, B.f64))
    BIN(f64_copysign, .u64 = (f64_bits(A.f64) & 0x7FFFFFFFFFFFFFFFull) | (f64_bits(B.f64) & 0x8000000000000000ull))

    UN(i32_wrap_i64, .u64 = (uint32_t)A.u64)
    /* Trapping truncations: NaN is "invalid conversion", out of range
     * "integer overflow"; the bounds are the first values that do not
     * truncate into range. */
#define TRUNC(name, member, ftype, lo, hi, lo_inclusive, store)                 \
    CASE(name) {                                                                \
        ftype x = S(2).member;                                                  \
        if (UNLIKELY(isnan(x))) TRAP(WB_TRAP_INVALID_CONVERSION);               \
        if (UNLIKELY(!((lo_inclusive ? x >= (lo) : x > (lo)) && x < (hi))))     \
            TRAP(WB_TRAP_INT_OVERFLOW);                                         \
        S(1).u64 = store;                                                       \
        NEXT(3);                                                                \
    }
    TRUNC(i32_trunc_f32_s, f32, float, -2147483648.0f, 2147483648.0f, 1, (uint32_t)(int32_t)x)
    TRUNC(i32_trunc_f32_u, f32, float, -1.0f, 4294967296.0f, 0, (uint32_t)x)
    TRUNC(i32_trunc_f64_s, f64, double, -2147483649.0, 2147483648.0, 0, (uint32_t)(int32_t)x)
    TRUNC(i32_trunc_f64_u, f64, double, -1.0, 4294967296.0, 0, (uint32_t)x)
    TRUNC(i64_trunc_f32_s, f32, float, -9223372036854775808.0f, 9223372036854775808.0f, 1, (uint64_t)(int64_t)x)
    TRUNC(i64_trunc_f32_u, f32, float, -1.0f, 18446744073709551616.0f, 0, (uint64_t)x)
    TRUNC(i64_trunc_f64_s, f64, double, -9223372036854775808.0, 9223372036854775808.0, 1, (uint64_t)(int64_t)x)
    TRUNC(i64_trunc_f64_u, f64, double, -1.0, 18446744073709551616.0, 0, (uint64_t)x)
#undef TRUNC
    UN(i64_extend_i32_s, .i64 = (int64_t)A.i32)
    UN(i64_extend_i32_u, .u64 = (uint64_t)A.u32)
    UN(f32_convert_i32_s, .f32 = (float)A.i32)
    UN(f32_convert_i32_u, .f32 = (float)A.u32)
    UN(f32_convert_i64_s, .f32 = (float)A.i64)
    UN(f32_convert_i64_u, .f32 = (float)A.u64)
    UN(f32_demote_f64, .f32 = (float)A.f64)
    UN(f64_convert_i32_s, .f64 = (double)A.i32)
    UN(f64_convert_i32_u, .f64 = (double)A.u32)
    UN(f64_convert_i64_s, .f64 = (double)A.i64)
    UN(f64_convert_i64_u, .f64 = (double)A.u64)
    UN(f64_promote_f32, .f64 = (double)A.f32)
    UN(i32_reinterpret_f32, .u64 = A.u32)
    UN(i64_reinterpret_f64, .u64 = A.u64)
    UN(f32_reinterpret_i32, .u64 = A.u32)
    UN(f64_reinterpret_i64, .u64 = A.u64)
    UN(i32_extend8_s, .u64 = (uint32_t)(int32_t)(int8_t)A.u32)
    UN(i32_extend16_s, .u64 = (uint32_t)(int32_t)(int16_t)A.u32)
    UN(i64_extend8_s, .i64 = (int64_t)(int8_t)A.u64)
    UN(i64_extend16_s, .i64 = (int64_t)(int16_t)A.u64)
    UN(i64_extend32_s, .i64 = (int64_t)(int32_t)A.u64)

    UN(i32_trunc_sat_f32_s, .u64 = (uint32_t)sat_i32(A.f32))
    UN(i32_trunc_sat_f32_u, .u64 = sat_u32(A.f32))
    UN(i32_trunc_sat_f64_s, .u64 = (uint32_t)sat_i32(A.f64))
    UN(i32_trunc_sat_f64_u, .u64 = sat_u32(A.f64))
    UN(i64_trunc_sat_f32_s, .i64 = sat_i64(A.f32))
    UN(i64_trunc_sat_f32_u, .u64 = sat_u64(A.f32))
    UN(i64_trunc_sat_f64_s, .i64 = sat_i64(A.f64))
    UN(i64_trunc_sat_f64_u, .u64 = sat_u64(A.f64))
#undef UN
#undef BIN
#undef BINK
#undef A
#undef B

    CASE(ref_is_null) S(1).u64 = S(2).ref == NULL; NEXT(3);
    CASE(ref_func) S(1).ref = inst->funcs[W(2)]; NEXT(3);

    CASE(table_get) {
        wb_table *t = inst->tables[W(3)];
        uint32_t i = S(2).u32;
        if (UNLIKELY(i >= t->size)) TRAP(WB_TRAP_OOB_TABLE);
        S(1).ref = t->elems[i];
        NEXT(4);
    }
    CASE(table_set) {
        wb_table *t = inst->tables[W(1)];
        uint32_t i = S(2).u32;
        if (UNLIKELY(i >= t->size)) TRAP(WB_TRAP_OOB_TABLE);
        t->elems[i] = S(3).ref;
        NEXT(4);
    }
    CASE(table_size) S(1).u64 = inst->tables[W(2)]->size; NEXT(3);
    CASE(table_grow) {
        uint32_t old;
        void *init = S(2).ref;
        uint32_t n = S(3).u32;
        if (wm_table_grow_raw(inst->tables[W(4)], n, init, &old))
            S(1).u64 = old;
        else
            S(1).u64 = UINT32_MAX;
        NEXT(5);
    }
    CASE(table_fill) {
        wb_table *t = inst->tables[W(1)];
        uint32_t i = S(2).u32, n = S(4).u32;
        void *v = S(3).ref;
        if (UNLIKELY((uint64_t)i + n > t->size)) TRAP(WB_TRAP_OOB_TABLE);
        for (uint32_t k = 0; k < n; k++) t->elems[i + k] = v;
        NEXT(5);
    }
    CASE(table_copy) {
        wb_table *dt = inst->tables[W(1)], *st = inst->tables[W(2)];
        uint32_t d = S(3).u32, s = S(4).u32, n = S(5).u32;
        if (UNLIKELY((uint64_t)d + n > dt->size || (uint64_t)s + n > st->size))
            TRAP(WB_TRAP_OOB_TABLE);
        if (n) memmove(dt->elems + d, st->elems + s, (size_t)n * sizeof(void *));
        NEXT(6);
    }
    CASE(table_init) {
        wb_table *t = inst->tables[W(1)];
        wm_elemrt *e = &inst->elems[W(2)];
        uint32_t d = S(3).u32, s = S(4).u32, n = S(5).u32;
        if (UNLIKELY((uint64_t)s + n > e->count || (uint64_t)d + n > t->size))
            TRAP(WB_TRAP_OOB_TABLE);
        if (n) memcpy(t->elems + d, e->refs + s, (size_t)n * sizeof(void *));
        NEXT(6);
    }
    CASE(elem_drop) inst->elems[W(1)].count = 0; NEXT(2);

    CASE(memory_init) {
        const wm_data *seg = &inst->m->datas[W(1)];
        uint64_t seglen = inst->data_dropped[W(1)] ? 0 : seg->len;
        uint32_t d = S(2).u32, s = S(3).u32, n = S(4).u32;
        wb_memory *m0 = inst->mem0;
        if (UNLIKELY((uint64_t)s + n > seglen || (uint64_t)d + n > m0->pages * 65536u))
            TRAP(WB_TRAP_OOB_MEMORY);
        if (n) memcpy(mem + d, seg->bytes + s, n);
        NEXT(5);
    }
    CASE(data_drop) inst->data_dropped[W(1)] = 1; NEXT(2);
    CASE(memory_copy) {
        uint32_t d = S(1).u32, s = S(2).u32, n = S(3).u32;
        uint64_t size = inst->mem0->pages * 65536u;
        if (UNLIKELY((uint64_t)d + n > size || (uint64_t)s + n > size))
            TRAP(WB_TRAP_OOB_MEMORY);
        if (n) memmove(mem + d, mem + s, n);
        NEXT(4);
    }
    CASE(memory_fill) {
        uint32_t d = S(1).u32, n = S(3).u32;
        uint8_t v = (uint8_t)S(2).u32;
        if (UNLIKELY((uint64_t)d + n > inst->mem0->pages * 65536u))
            TRAP(WB_TRAP_OOB_MEMORY);
        if (n) memset(mem + d, v, n);
        NEXT(4);
    }

#ifndef WM_COMPUTED_GOTO
    default:
        trap = WB_TRAP_UNREACHABLE;
        goto trapped;
    }
#endif

done:
    ex->in_wasm = 0;
    if (ex->fuel_limited && budget > 0) ex->fuel += budget;
    return WB_OK;

trapped:
    ex->trap = trap;
failed_pc:
    ex->trap_pc = pc;
    ex->trap_func = func;
    ex->in_wasm = 0;
    if (ex->fuel_limited && budget > 0) ex->fuel += budget;
    return status != WB_OK ? status : WB_ERR_TRAP;

failed:
    /* A host function failed; ex->trap and friends are already set. */
    ex->trap_pc = pc;
    ex->trap_func = func;
    ex->in_wasm = 0;
    return status;

#undef CASE
#undef DISPATCH
#undef NEXT
#undef TRAP
#undef FUEL_CHECK
#undef W
#undef S
#undef MEMADDR
#undef MEMADDR_X
#undef MEMADDR_S
#undef MEMADDR_A
#undef MEMADDR_SK
}
