/*
 * emit.c - the compiler's driver: module setup, LLVM's optimisation and
 * code generation, and the link of the object into an artifact.
 *
 * LLVM emits a relocatable ELF object (PIC, small code model, no symbol
 * outside it). We lay its code and read-only sections out in one image
 * and resolve its relocations here, so the runtime's loader needs no ELF
 * parser and no dynamic linker: PC-relative relocations become fixed
 * displacements, absolute ones (jump tables, if any) a list of words to
 * which the loader adds the load address. An object with anything else
 * (undefined symbols, writable data, thread-locals) is refused.
 */
#include <elf.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aot_impl.h"
#include "wasmbox_aot.h"
#include "wasm/runtime.h"

void wb_aot_options_default(wb_aot_options *opt) {
    memset(opt, 0, sizeof *opt);
    opt->opt_level = 2;
}

/* ------------------------------------------------------------ target */

static const struct {
    const char *name;
    uint64_t bit;
} cpu_features[] = {
    {"sse3", WM_CPU_SSE3},       {"ssse3", WM_CPU_SSSE3},       {"sse4.1", WM_CPU_SSE41},
    {"sse4.2", WM_CPU_SSE42},    {"popcnt", WM_CPU_POPCNT},     {"avx", WM_CPU_AVX},
    {"avx2", WM_CPU_AVX2},       {"bmi", WM_CPU_BMI1},          {"bmi2", WM_CPU_BMI2},
    {"lzcnt", WM_CPU_LZCNT},     {"fma", WM_CPU_FMA},           {"movbe", WM_CPU_MOVBE},
    {"avx512f", WM_CPU_AVX512F}, {"avx512bw", WM_CPU_AVX512BW}, {"avx512dq", WM_CPU_AVX512DQ},
    {"avx512vl", WM_CPU_AVX512VL}, {"f16c", WM_CPU_F16C},
};

typedef struct target {
    char tune[32];
    char features[512]; /* every feature we know, + or - */
    uint64_t mask;
} target;

static pthread_once_t llvm_once = PTHREAD_ONCE_INIT;
static target host;

static bool has_feature(const char *list, const char *name) {
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n + 1 && p[0] == '+' && memcmp(p + 1, name, n) == 0) return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

static void llvm_init(void) {
    LLVMInitializeNativeTarget();
    LLVMInitializeNativeAsmPrinter();
    char *cpu = LLVMGetHostCPUName();
    char *feat = LLVMGetHostCPUFeatures();
    snprintf(host.tune, sizeof host.tune, "%s", cpu);
    size_t at = 0;
    for (size_t i = 0; i < sizeof cpu_features / sizeof cpu_features[0]; i++) {
        bool on = has_feature(feat, cpu_features[i].name);
        if (on) host.mask |= cpu_features[i].bit;
        at += (size_t)snprintf(host.features + at, sizeof host.features - at, "%s%c%s",
                               i ? "," : "", on ? '+' : '-', cpu_features[i].name);
    }
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(feat);
}

static unsigned llvm_major(void) {
    unsigned major, minor, patch;
    LLVMGetVersion(&major, &minor, &patch);
    return major;
}

const char *wb_aot_target(void) {
    static char buf[640];
    pthread_once(&llvm_once, llvm_init);
    snprintf(buf, sizeof buf, "llvm%d x86-64 %s %s", llvm_major(), host.tune, host.features);
    return buf;
}

/* -------------------------------------------------------------- setup */

static LLVMValueRef md_string(aot_mod *am, const char *s) {
    return LLVMMDStringInContext(am->C, s, (unsigned)strlen(s));
}

static LLVMValueRef tbaa_type(aot_mod *am, LLVMValueRef root, const char *name) {
    LLVMValueRef scalar[3] = {md_string(am, name), root, LLVMConstInt(am->i64, 0, 0)};
    LLVMValueRef node = LLVMMDNodeInContext(am->C, scalar, 3);
    /* Access tag: (base, access, offset). */
    LLVMValueRef tag[3] = {node, node, LLVMConstInt(am->i64, 0, 0)};
    return LLVMMDNodeInContext(am->C, tag, 3);
}

static void mod_setup(aot_mod *am) {
    am->i1 = LLVMInt1TypeInContext(am->C);
    am->i8 = LLVMInt8TypeInContext(am->C);
    am->i16 = LLVMInt16TypeInContext(am->C);
    am->i32 = LLVMInt32TypeInContext(am->C);
    am->i64 = LLVMInt64TypeInContext(am->C);
    am->f32 = LLVMFloatTypeInContext(am->C);
    am->f64 = LLVMDoubleTypeInContext(am->C);
    am->ptr = LLVMPointerTypeInContext(am->C, 0);
    am->voidt = LLVMVoidTypeInContext(am->C);
    am->md_invariant = LLVMGetMDKindIDInContext(am->C, "invariant.load", 14);
    am->md_tbaa = LLVMGetMDKindIDInContext(am->C, "tbaa", 4);
    am->md_prof = LLVMGetMDKindIDInContext(am->C, "prof", 4);
    am->md_empty = LLVMMDNodeInContext(am->C, NULL, 0);
    am->md_round = md_string(am, "round.tonearest");
    am->md_except = md_string(am, "fpexcept.strict");
    LLVMValueRef rootname = md_string(am, "wasmbox tbaa");
    LLVMValueRef root = LLVMMDNodeInContext(am->C, &rootname, 1);
    am->tbaa_mem = tbaa_type(am, root, "linear memory");
    am->tbaa_rt = tbaa_type(am, root, "runtime");
    am->tbaa_global = tbaa_type(am, root, "global");
    LLVMValueRef w[3] = {md_string(am, "branch_weights"), LLVMConstInt(am->i32, 1, 0),
                         LLVMConstInt(am->i32, 1u << 20, 0)};
    am->prof_unlikely = LLVMMDNodeInContext(am->C, w, 3);
    am->attr_noreturn = LLVMCreateEnumAttribute(am->C, LLVMGetEnumAttributeKindForName("noreturn", 8), 0);
    am->attr_cold = LLVMCreateEnumAttribute(am->C, LLVMGetEnumAttributeKindForName("cold", 4), 0);

    LLVMTypeRef p = am->ptr, i32 = am->i32, i64 = am->i64, v = am->voidt;
#define FT(idx, ret, ...)                                                          \
    do {                                                                           \
        LLVMTypeRef a[] = {__VA_ARGS__};                                           \
        am->helper_types[idx] = LLVMFunctionType(ret, a, sizeof a / sizeof a[0], 0); \
    } while (0)
    FT(WM_H_TRAP, v, p, i32, i64, i32);
    FT(WM_H_CALL, v, p, p, p, i64);
    FT(WM_H_MEMORY_GROW, i32, p, i32);
    FT(WM_H_MEMORY_INIT, v, p, i32, i32, i32, i32, i64);
    FT(WM_H_DATA_DROP, v, p, i32);
    FT(WM_H_MEMORY_COPY, v, p, i32, i32, i32, i64);
    FT(WM_H_MEMORY_FILL, v, p, i32, i32, i32, i64);
    FT(WM_H_TABLE_INIT, v, p, i32, i32, i32, i32, i32, i64);
    FT(WM_H_ELEM_DROP, v, p, i32);
    FT(WM_H_TABLE_COPY, v, p, i32, i32, i32, i32, i32, i64);
    FT(WM_H_TABLE_GET, p, p, i32, i32, i64);
    FT(WM_H_TABLE_SET, v, p, i32, i32, p, i64);
    FT(WM_H_TABLE_GROW, i32, p, i32, p, i32);
    FT(WM_H_TABLE_FILL, v, p, i32, i32, p, i32, i64);
#undef FT
}

static void add_fn_attrs(aot_mod *am, LLVMValueRef f) {
    static const char *enums[] = {"nounwind"};
    for (size_t i = 0; i < sizeof enums / sizeof enums[0]; i++) {
        unsigned k = LLVMGetEnumAttributeKindForName(enums[i], strlen(enums[i]));
        LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(am->C, k, 0));
    }
    const char *kv[][2] = {
        {"target-cpu", "x86-64"},
        {"tune-cpu", host.tune},
        {"target-features", host.features},
        {"probe-stack", "inline-asm"},
        {"no-builtins", ""},
        {"frame-pointer", "none"},
        /* Keeps recursion recursive: turned into a loop (tail recursion
         * elimination), a runaway recursion would never exhaust the stack. */
        {"disable-tail-calls", "true"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
                                LLVMCreateStringAttribute(am->C, kv[i][0], (unsigned)strlen(kv[i][0]),
                                                          kv[i][1], (unsigned)strlen(kv[i][1])));
}

/* Whether function fi can be reached from outside the module's code:
 * then the image exports it (wb_func.aot_code). */
static bool func_exported(const wm_module *m, uint32_t fi) {
    return (m->func_declared && m->func_declared[fi]) || (m->has_start && m->start == fi);
}

/* The C-to-Wasm entry of type ti: void e(ctx, code, wm_slot *io). */
static void build_entry(aot_mod *am, uint32_t ti, LLVMValueRef e) {
    const wm_functype *t = &am->m->types[ti];
    LLVMBuilderRef B = am->B;
    LLVMPositionBuilderAtEnd(B, LLVMAppendBasicBlockInContext(am->C, e, "entry"));
    LLVMValueRef io = LLVMGetParam(e, 2);
    LLVMValueRef *args = malloc((t->nparams + 1) * sizeof *args);
    args[0] = LLVMGetParam(e, 0);
    for (uint32_t i = 0; i < t->nparams; i++) {
        LLVMValueRef p = LLVMBuildGEP2(B, am->i8, io, (LLVMValueRef[]){LLVMConstInt(am->i64, 8u * i, 0)}, 1, "");
        args[i + 1] = LLVMBuildLoad2(B, aot_valtype(am, t->params[i]), p, "");
    }
    LLVMValueRef r = LLVMBuildCall2(B, am->ftypes[ti], LLVMGetParam(e, 1), args, t->nparams + 1, "");
    for (uint32_t i = 0; i < t->nresults; i++) {
        LLVMValueRef v = t->nresults == 1 ? r : LLVMBuildExtractValue(B, r, i, "");
        uint8_t vt = t->results[i];
        if (vt == WM_F32) v = LLVMBuildBitCast(B, v, am->i32, "");
        if (vt == WM_I32 || vt == WM_F32) v = LLVMBuildZExt(B, v, am->i64, "");
        LLVMValueRef p = LLVMBuildGEP2(B, am->i8, io, (LLVMValueRef[]){LLVMConstInt(am->i64, 8u * i, 0)}, 1, "");
        LLVMBuildStore(B, v, p);
    }
    LLVMBuildRetVoid(B);
    free(args);
}

/* --------------------------------------------------------------- link */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static void buf_put(buf *b, const void *data, size_t n) {
    if (b->len + n > b->cap) {
        while (b->len + n > b->cap) b->cap = b->cap ? b->cap * 2 : 4096;
        b->p = realloc(b->p, b->cap);
    }
    if (data) memcpy(b->p + b->len, data, n);
    else memset(b->p + b->len, 0, n);
    b->len += n;
}

static void buf_align(buf *b, size_t a) {
    if (a > 1 && b->len % a) buf_put(b, NULL, a - b->len % a);
}

typedef struct linked {
    buf code, rodata, syms;
    uint32_t *func_off, *entry_off;
    uint32_t *relative;
    uint32_t nrelative;
} linked;

static bool link_fail(char *err, size_t size, const char *fmt, const char *what) {
    snprintf(err, size, fmt, what);
    return false;
}

static bool link_object(const uint8_t *obj, size_t len, const wm_module *m, linked *out, char *err,
                        size_t esize) {
    if (len < sizeof(Elf64_Ehdr)) return link_fail(err, esize, "object %s", "too short");
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)obj;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_machine != EM_X86_64 || eh->e_type != ET_REL || eh->e_shentsize != sizeof(Elf64_Shdr) ||
        eh->e_shoff > len || (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > len - eh->e_shoff)
        return link_fail(err, esize, "object: %s", "not an x86-64 relocatable ELF file");
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(obj + eh->e_shoff);
    uint32_t n = eh->e_shnum;
    const char *shstr = (const char *)obj + sh[eh->e_shstrndx].sh_offset;
    /* Image address of each loaded section: code first, then rodata. */
    uint64_t *base = calloc(n, sizeof *base);
    int8_t *where = calloc(n, 1); /* 0 not loaded, 1 code, 2 rodata */
    for (int pass = 1; pass <= 2; pass++) {
        buf *b = pass == 1 ? &out->code : &out->rodata;
        for (uint32_t i = 1; i < n; i++) {
            const Elf64_Shdr *s = &sh[i];
            const char *name = shstr + s->sh_name;
            if (!(s->sh_flags & SHF_ALLOC) || s->sh_size == 0) continue;
            if (s->sh_type == SHT_X86_64_UNWIND || strncmp(name, ".eh_frame", 9) == 0) continue;
            if (s->sh_flags & (SHF_WRITE | SHF_TLS) || s->sh_type == SHT_NOBITS) {
                free(base), free(where);
                return link_fail(err, esize, "object has writable data (%s)", name);
            }
            bool exec = s->sh_flags & SHF_EXECINSTR;
            if ((pass == 1) != exec) continue;
            if (s->sh_offset > len || s->sh_size > len - s->sh_offset) {
                free(base), free(where);
                return link_fail(err, esize, "object section %s out of bounds", name);
            }
            buf_align(b, s->sh_addralign ? s->sh_addralign : 1);
            base[i] = b->len;
            where[i] = (int8_t)pass;
            buf_put(b, obj + s->sh_offset, s->sh_size);
        }
    }
    /* rodata follows the code at the next page. */
    uint64_t ro_start = (out->code.len + WM_AOT_PAGE - 1) / WM_AOT_PAGE * WM_AOT_PAGE;
    for (uint32_t i = 1; i < n; i++)
        if (where[i] == 2) base[i] += ro_start;

    const Elf64_Shdr *symtab = NULL;
    for (uint32_t i = 1; i < n; i++)
        if (sh[i].sh_type == SHT_SYMTAB) symtab = &sh[i];
    bool ok = true;
    uint32_t ndef = m->nfuncs - m->nimported_funcs;
    for (uint32_t i = 0; i < ndef; i++) out->func_off[i] = UINT32_MAX;
    for (uint32_t i = 0; i < m->ntypes; i++) out->entry_off[i] = UINT32_MAX;
    const Elf64_Sym *syms = symtab ? (const Elf64_Sym *)(obj + symtab->sh_offset) : NULL;
    uint32_t nsyms = symtab ? (uint32_t)(symtab->sh_size / sizeof(Elf64_Sym)) : 0;
    const char *strtab = symtab ? (const char *)obj + sh[symtab->sh_link].sh_offset : NULL;
    for (uint32_t k = 0; k < nsyms && ok; k++) {
        const Elf64_Sym *s = &syms[k];
        const char *name = strtab + s->st_name;
        unsigned idx;
        char c;
        if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF ||
            s->st_shndx >= n || where[s->st_shndx] != 1)
            continue;
        uint32_t at = (uint32_t)(base[s->st_shndx] + s->st_value);
        if (sscanf(name, "f%u%c", &idx, &c) == 1 && idx >= m->nimported_funcs && idx < m->nfuncs) {
            /* Every function, for profilers; only global ones keep the
             * Wasm signature (LLVM may change an internal one's). */
            wm_aot_sym sym = {at, (uint32_t)s->st_size, idx};
            buf_put(&out->syms, &sym, sizeof sym);
            if (ELF64_ST_BIND(s->st_info) == STB_GLOBAL) out->func_off[idx - m->nimported_funcs] = at;
        }
        else if (sscanf(name, "e%u%c", &idx, &c) == 1 && idx < m->ntypes &&
                 ELF64_ST_BIND(s->st_info) == STB_GLOBAL)
            out->entry_off[idx] = at;
    }
    buf rel = {0};
    for (uint32_t i = 1; i < n && ok; i++) {
        const Elf64_Shdr *rs = &sh[i];
        if (rs->sh_type == SHT_REL) { ok = link_fail(err, esize, "object has %s relocations", "REL"); break; }
        if (rs->sh_type != SHT_RELA || rs->sh_info >= n || !where[rs->sh_info]) continue;
        uint8_t *target = where[rs->sh_info] == 1 ? out->code.p : out->rodata.p;
        uint64_t tbase = base[rs->sh_info];
        uint64_t tlocal = where[rs->sh_info] == 1 ? tbase : tbase - ro_start;
        const Elf64_Rela *r = (const Elf64_Rela *)(obj + rs->sh_offset);
        size_t nr = rs->sh_size / sizeof *r;
        for (size_t k = 0; k < nr && ok; k++) {
            uint32_t type = ELF64_R_TYPE(r[k].r_info), si = ELF64_R_SYM(r[k].r_info);
            if (si >= nsyms) { ok = link_fail(err, esize, "relocation %s", "names no symbol"); break; }
            const Elf64_Sym *s = &syms[si];
            if (s->st_shndx == SHN_UNDEF || s->st_shndx >= n || !where[s->st_shndx]) {
                ok = link_fail(err, esize, "generated code refers to %s, outside the image",
                               s->st_name ? strtab + s->st_name : "an unloaded section");
                break;
            }
            int64_t S = (int64_t)(base[s->st_shndx] + s->st_value), A = r[k].r_addend;
            int64_t P = (int64_t)(tbase + r[k].r_offset);
            uint8_t *at = target + tlocal + r[k].r_offset;
            if (type == R_X86_64_PC32 || type == R_X86_64_PLT32) {
                int64_t v = S + A - P;
                if (v != (int32_t)v) { ok = link_fail(err, esize, "relocation %s out of range", "PC32"); break; }
                int32_t v32 = (int32_t)v;
                memcpy(at, &v32, 4);
            } else if (type == R_X86_64_PC64) {
                int64_t v = S + A - P;
                memcpy(at, &v, 8);
            } else if (type == R_X86_64_64) {
                int64_t v = S + A;
                memcpy(at, &v, 8);
                uint32_t off = (uint32_t)P;
                buf_put(&rel, &off, 4);
            } else {
                char t[32];
                snprintf(t, sizeof t, "%u", type);
                ok = link_fail(err, esize, "unsupported relocation type %s", t);
            }
        }
    }
    out->relative = (uint32_t *)rel.p;
    out->nrelative = (uint32_t)(rel.len / 4);
    free(base);
    free(where);
    return ok;
}

/* ------------------------------------------------------------ compile */

static wb_status compile_fail(wb_error *err, wb_status st, const char *msg) {
    wb_error_clear(err);
    if (err) {
        err->status = st;
        snprintf(err->message, sizeof err->message, "compile: %.230s", msg);
    }
    return st;
}

wb_status wb_aot_compile(const uint8_t *bytes, size_t len, const wb_aot_options *opt,
                         uint8_t **out, size_t *out_len, wb_error *err) {
    wb_aot_options defaults;
    if (!opt) {
        wb_aot_options_default(&defaults);
        opt = &defaults;
    }
    *out = NULL;
    *out_len = 0;
    pthread_once(&llvm_once, llvm_init);
    wb_engine *engine;
    wb_status st = wb_engine_new(NULL, &engine, err);
    if (st != WB_OK) return st;
    wb_module *mod;
    st = wb_module_new(engine, bytes, len, &mod, err);
    if (st != WB_OK) {
        wb_engine_delete(engine);
        return st;
    }
    const wm_module *m = mod->m;
    if (m->nmems > 1) {
        wb_module_delete(mod);
        wb_engine_delete(engine);
        return compile_fail(err, WB_ERR_UNSUPPORTED, "more than one memory");
    }

    aot_mod amv, *am = &amv;
    memset(am, 0, sizeof *am);
    am->m = m;
    am->strict_fp = opt->strict_fp;
    am->keep_all_loads = true;
    am->C = LLVMContextCreate();
    am->M = LLVMModuleCreateWithNameInContext("wasm", am->C);
    am->B = LLVMCreateBuilderInContext(am->C);
    mod_setup(am);

    char *triple = LLVMNormalizeTargetTriple("x86_64-pc-linux-gnu");
    LLVMTargetRef T;
    char *msg = NULL;
    LLVMTargetMachineRef TM = NULL;
    uint8_t *result = NULL;
    size_t result_len = 0;
    linked lk = {0};
    LLVMMemoryBufferRef objbuf = NULL;
    if (LLVMGetTargetFromTriple(triple, &T, &msg)) {
        st = compile_fail(err, WB_ERR_UNSUPPORTED, msg);
        goto done;
    }
    LLVMCodeGenOptLevel cg = opt->opt_level <= 0   ? LLVMCodeGenLevelNone
                             : opt->opt_level == 1 ? LLVMCodeGenLevelLess
                             : opt->opt_level == 2 ? LLVMCodeGenLevelDefault
                                                   : LLVMCodeGenLevelAggressive;
    TM = LLVMCreateTargetMachine(T, triple, "x86-64", host.features, cg, LLVMRelocPIC,
                                 LLVMCodeModelSmall);
    LLVMSetTarget(am->M, triple);
    LLVMTargetDataRef DL = LLVMCreateTargetDataLayout(TM);
    char *dls = LLVMCopyStringRepOfTargetData(DL);
    LLVMSetDataLayout(am->M, dls);
    LLVMDisposeMessage(dls);
    LLVMDisposeTargetData(DL);

    am->ftypes = calloc(m->ntypes + 1, sizeof *am->ftypes);
    for (uint32_t i = 0; i < m->ntypes; i++) {
        am->ftypes[i] = aot_func_type(am, &m->types[i]);
        uint32_t need = m->types[i].nparams > m->types[i].nresults ? m->types[i].nparams
                                                                    : m->types[i].nresults;
        if (need > am->max_slots) am->max_slots = need;
    }
    uint32_t ndef = m->nfuncs - m->nimported_funcs;
    am->funcs = calloc(ndef + 1, sizeof *am->funcs);
    am->check_stack = calloc(ndef + 1, sizeof *am->check_stack);
    if (!aot_stack_checks(m, am->check_stack))
        for (uint32_t i = 0; i < ndef; i++) am->check_stack[i] = true;
    for (uint32_t i = 0; i < ndef; i++) {
        uint32_t fi = m->nimported_funcs + i;
        char name[24];
        snprintf(name, sizeof name, "f%u", fi);
        LLVMValueRef f = LLVMAddFunction(am->M, name, am->ftypes[m->func_types[fi]]);
        if (func_exported(m, fi)) {
            LLVMSetVisibility(f, LLVMHiddenVisibility);
        } else {
            LLVMSetLinkage(f, LLVMInternalLinkage);
        }
        add_fn_attrs(am, f);
        am->funcs[i] = f;
    }
    for (uint32_t i = 0; i < ndef; i++) {
        if (!aot_compile_body(am, m->nimported_funcs + i)) {
            st = compile_fail(err, WB_ERR_UNSUPPORTED, am->error);
            goto done;
        }
    }
    LLVMTypeRef etype = LLVMFunctionType(am->voidt, (LLVMTypeRef[]){am->ptr, am->ptr, am->ptr}, 3, 0);
    for (uint32_t ti = 0; ti < m->ntypes; ti++) {
        char name[24];
        snprintf(name, sizeof name, "e%u", ti);
        LLVMValueRef e = LLVMAddFunction(am->M, name, etype);
        LLVMSetVisibility(e, LLVMHiddenVisibility);
        add_fn_attrs(am, e);
        build_entry(am, ti, e);
    }
    if (LLVMVerifyModule(am->M, LLVMReturnStatusAction, &msg)) {
        char cut[200];
        snprintf(cut, sizeof cut, "invalid IR (a compiler bug): %s", msg);
        st = compile_fail(err, WB_ERR_UNSUPPORTED, cut);
        goto done;
    }
    LLVMDisposeMessage(msg);
    msg = NULL;
    if (getenv("WASMBOX_AOT_DUMP_IR")) LLVMPrintModuleToFile(am->M, getenv("WASMBOX_AOT_DUMP_IR"), NULL);
    {
        static const char *pipelines[] = {"default<O0>", "default<O1>", "default<O2>", "default<O3>"};
        int lvl = opt->opt_level < 0 ? 0 : opt->opt_level > 3 ? 3 : opt->opt_level;
        LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
        LLVMErrorRef e = LLVMRunPasses(am->M, pipelines[lvl], TM, po);
        LLVMDisposePassBuilderOptions(po);
        if (e) {
            char *em = LLVMGetErrorMessage(e);
            st = compile_fail(err, WB_ERR_UNSUPPORTED, em);
            LLVMDisposeErrorMessage(em);
            goto done;
        }
    }
    if (getenv("WASMBOX_AOT_DUMP_OPT")) LLVMPrintModuleToFile(am->M, getenv("WASMBOX_AOT_DUMP_OPT"), NULL);
    if (LLVMTargetMachineEmitToMemoryBuffer(TM, am->M, LLVMObjectFile, &msg, &objbuf)) {
        st = compile_fail(err, WB_ERR_UNSUPPORTED, msg);
        goto done;
    }
    if (getenv("WASMBOX_AOT_DUMP_OBJ")) {
        FILE *df = fopen(getenv("WASMBOX_AOT_DUMP_OBJ"), "wb");
        if (df) {
            fwrite(LLVMGetBufferStart(objbuf), 1, LLVMGetBufferSize(objbuf), df);
            fclose(df);
        }
    }
    lk.func_off = calloc(ndef + 1, sizeof *lk.func_off);
    lk.entry_off = calloc(m->ntypes + 1, sizeof *lk.entry_off);
    {
        char lerr[200];
        if (!link_object((const uint8_t *)LLVMGetBufferStart(objbuf), LLVMGetBufferSize(objbuf), m, &lk,
                         lerr, sizeof lerr)) {
            st = compile_fail(err, WB_ERR_UNSUPPORTED, lerr);
            goto done;
        }
    }
    if ((uint64_t)lk.code.len + lk.rodata.len + 2 * WM_AOT_PAGE > WM_AOT_MAX_IMAGE) {
        st = compile_fail(err, WB_ERR_UNSUPPORTED, "native code larger than 1 GiB");
        goto done;
    }
    {
        wm_aot_header h;
        memset(&h, 0, sizeof h);
        memcpy(h.magic, WM_AOT_MAGIC, 8);
        h.format = WM_AOT_FORMAT;
        h.abi = wm_aot_abi();
        SHA256(bytes, len, h.module_sha256);
        snprintf(h.engine, sizeof h.engine, "%s", WB_VERSION_STRING);
        snprintf(h.cpu, sizeof h.cpu, "%s", host.tune);
        h.features = host.mask;
        h.flags = (opt->strict_fp ? WM_AOT_FLAG_STRICT_FP : 0) |
                  (opt->opt_level <= 0 ? WM_AOT_FLAG_O0 : opt->opt_level == 1 ? WM_AOT_FLAG_O1
                   : opt->opt_level >= 3 ? WM_AOT_FLAG_O3 : 0);
        h.llvm_major = llvm_major();
        h.nfuncs = ndef;
        h.ntypes = m->ntypes;
        h.nrelative = lk.nrelative;
        h.nsyms = (uint32_t)(lk.syms.len / sizeof(wm_aot_sym));
        h.code_size = (uint32_t)lk.code.len;
        h.rodata_size = (uint32_t)lk.rodata.len;
        buf b = {0};
        buf_put(&b, &h, sizeof h);
        buf_put(&b, lk.func_off, (size_t)ndef * 4);
        buf_put(&b, lk.entry_off, (size_t)m->ntypes * 4);
        buf_put(&b, lk.relative, (size_t)lk.nrelative * 4);
        buf_put(&b, lk.syms.p, lk.syms.len);
        buf_put(&b, lk.code.p, lk.code.len);
        buf_put(&b, NULL, (lk.code.len + WM_AOT_PAGE - 1) / WM_AOT_PAGE * WM_AOT_PAGE - lk.code.len);
        buf_put(&b, lk.rodata.p, lk.rodata.len);
        result = b.p;
        result_len = b.len;
    }
    st = WB_OK;
done:
    if (msg) LLVMDisposeMessage(msg);
    if (objbuf) LLVMDisposeMemoryBuffer(objbuf);
    if (TM) LLVMDisposeTargetMachine(TM);
    LLVMDisposeMessage(triple);
    LLVMDisposeBuilder(am->B);
    LLVMDisposeModule(am->M);
    LLVMContextDispose(am->C);
    free(am->ftypes);
    free(am->funcs);
    free(am->check_stack);
    free(lk.code.p);
    free(lk.rodata.p);
    free(lk.syms.p);
    free(lk.func_off);
    free(lk.entry_off);
    free(lk.relative);
    wb_module_delete(mod);
    wb_engine_delete(engine);
    if (st == WB_OK) {
        *out = result;
        *out_len = result_len;
        wb_error_clear(err);
    }
    return st;
}
