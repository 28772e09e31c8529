/*
 * aot_impl.h - the compiler's internal state (src/aot/).
 */
#ifndef WB_AOT_IMPL_H
#define WB_AOT_IMPL_H

#include <llvm-c/Core.h>
#include <stdbool.h>
#include <stdint.h>

#include "wasm/aot.h"
#include "wasm/module.h"

typedef struct aot_mod {
    LLVMContextRef C;
    LLVMModuleRef M;
    LLVMBuilderRef B;
    const wm_module *m;
    bool strict_fp;
    bool keep_all_loads;          /* see mem_load */
    LLVMTypeRef i1, i8, i16, i32, i64, f32, f64, ptr, voidt;
    LLVMTypeRef *ftypes;          /* per module type: (ctx, params) -> results */
    LLVMValueRef *funcs;          /* per defined function */
    bool *check_stack;            /* per defined function (aot_stack_checks) */
    LLVMTypeRef helper_types[WM_H_COUNT];
    uint32_t max_slots;           /* largest params/results count of a type */
    unsigned md_invariant, md_tbaa, md_prof;
    LLVMValueRef md_empty, md_round, md_except;
    LLVMValueRef tbaa_mem, tbaa_rt, tbaa_global;
    LLVMValueRef prof_unlikely;
    LLVMAttributeRef attr_noreturn, attr_cold;
    char error[256];
} aot_mod;

typedef struct aot_ctl aot_ctl;

typedef struct aot_fn {
    aot_mod *am;
    uint32_t func_index;
    uint32_t offset;              /* of the instruction being compiled */
    const wm_functype *type;
    LLVMValueRef fn, ctx, mem_base, slots;
    LLVMBasicBlockRef entry;
    LLVMValueRef *locals;
    uint8_t *local_types;
    uint32_t nlocals;
    LLVMValueRef *stack;
    uint32_t sp, scap;
    aot_ctl *ctls;
    uint32_t nctl, cctl;
    LLVMValueRef live[8];         /* operands popped by this instruction */
    uint32_t nlive;
} aot_fn;

/* compile.c */
LLVMTypeRef aot_valtype(aot_mod *am, uint8_t t);
LLVMTypeRef aot_result_type(aot_mod *am, const wm_functype *t);
LLVMTypeRef aot_func_type(aot_mod *am, const wm_functype *t);
bool aot_compile_body(aot_mod *am, uint32_t func_index);
/* Fills needs[defined index]: whether a function checks the stack limit
 * at entry. False when a body cannot be read (then check everywhere). */
bool aot_stack_checks(const wm_module *m, bool *needs);

#endif /* WB_AOT_IMPL_H */
