/*
 * aot_load.c - loading and running native code made by the ahead-of-time
 * compiler (the compiler itself is src/aot/, outside the runtime).
 *
 * An artifact is checked completely before anything of it is mapped: its
 * tag (HMAC-SHA256 with a key private to the host) first, then that it
 * was built for this module (sha256), this engine and ABI, and a CPU
 * whose features this one has, then every count and offset. The image is
 * copied into fresh anonymous memory, its absolute words relocated, and
 * only then made executable (code) or read-only (data): never writable
 * and executable at once.
 *
 * Native code reaches the runtime through the helpers at the end of this
 * file. A trap records what and where and jumps (siglongjmp) to the
 * innermost wm_exec_call, as a fault in a linear memory's guard region
 * already does for the interpreter.
 */
/* OpenSSL's SHA-256 core (SHA256_Init...): the EVP layer would pull its
 * provider machinery (4 MB) into the static runtime binary. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <cpuid.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "aot.h"

typedef struct wm_aot_image {
    uint8_t *map;
    size_t map_len;
    uint8_t *code;
    size_t code_size;
    uint32_t nfuncs, ntypes;
    uint32_t *func_off;  /* per defined function; UINT32_MAX: none */
    uint32_t *entry_off; /* per type */
    /* Every compiled function sorted by code offset, to name a faulting
     * pc (and for perf's map). */
    wm_aot_sym *syms;
    uint32_t nsyms;
} wm_aot_image;

/* --------------------------------------------------------------- cpu */

uint64_t wm_aot_cpu(void) {
    unsigned a, b, c, d;
    uint64_t f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (c & bit_SSE3) f |= WM_CPU_SSE3;
    if (c & bit_SSSE3) f |= WM_CPU_SSSE3;
    if (c & bit_SSE4_1) f |= WM_CPU_SSE41;
    if (c & bit_SSE4_2) f |= WM_CPU_SSE42;
    if (c & bit_POPCNT) f |= WM_CPU_POPCNT;
    if (c & bit_FMA) f |= WM_CPU_FMA;
    if (c & bit_MOVBE) f |= WM_CPU_MOVBE;
    if (c & bit_F16C) f |= WM_CPU_F16C;
    /* AVX state must be enabled by the OS too (XCR0). */
    bool os_avx = false, os_avx512 = false;
    if ((c & bit_OSXSAVE) && (c & bit_AVX)) {
        uint32_t lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        os_avx = (lo & 0x6) == 0x6;
        os_avx512 = os_avx && (lo & 0xE0) == 0xE0;
    }
    if (os_avx) f |= WM_CPU_AVX;
    else f &= ~(uint64_t)(WM_CPU_FMA | WM_CPU_F16C);
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        if (os_avx && (b & bit_AVX2)) f |= WM_CPU_AVX2;
        if (b & bit_BMI) f |= WM_CPU_BMI1;
        if (b & bit_BMI2) f |= WM_CPU_BMI2;
        if (os_avx512 && (b & bit_AVX512F)) f |= WM_CPU_AVX512F;
        if (os_avx512 && (b & bit_AVX512BW)) f |= WM_CPU_AVX512BW;
        if (os_avx512 && (b & bit_AVX512DQ)) f |= WM_CPU_AVX512DQ;
        if (os_avx512 && (b & bit_AVX512VL)) f |= WM_CPU_AVX512VL;
    }
    if (__get_cpuid(0x80000001, &a, &b, &c, &d) && (c & bit_LZCNT)) f |= WM_CPU_LZCNT;
    return f;
}

/* ----------------------------------------------------------- sealing */

void wm_aot_sha256(const uint8_t *data, size_t len, uint8_t out[32]) {
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);
}

/* HMAC-SHA256 (RFC 2104) over OpenSSL's SHA-256. */
static bool mac(const uint8_t *data, size_t len, const uint8_t *key, size_t key_len,
                uint8_t out[WM_AOT_TAG_SIZE]) {
    uint8_t k[SHA256_CBLOCK], pad[SHA256_CBLOCK], inner[SHA256_DIGEST_LENGTH];
    SHA256_CTX c;
    memset(k, 0, sizeof k);
    if (key_len > sizeof k) {
        wm_aot_sha256(key, key_len, k);
    } else {
        memcpy(k, key, key_len);
    }
    for (size_t i = 0; i < sizeof k; i++) pad[i] = k[i] ^ 0x36;
    bool ok = SHA256_Init(&c) && SHA256_Update(&c, pad, sizeof pad) && SHA256_Update(&c, data, len) &&
              SHA256_Final(inner, &c);
    for (size_t i = 0; i < sizeof k; i++) pad[i] = k[i] ^ 0x5c;
    ok = ok && SHA256_Init(&c) && SHA256_Update(&c, pad, sizeof pad) &&
         SHA256_Update(&c, inner, sizeof inner) && SHA256_Final(out, &c);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
    return ok;
}


/* Test hook (tests/unit): the tag of data under key. */
bool wm_aot_hmac(const uint8_t *data, size_t len, const uint8_t *key, size_t key_len, uint8_t out[32]) {
    return mac(data, len, key, key_len, out);
}

wb_status wb_native_seal(const uint8_t *artifact, size_t len, const uint8_t *key, size_t key_len,
                         uint8_t **out, size_t *out_len, wb_error *err) {
    *out = NULL;
    *out_len = 0;
    if (!key || key_len < 16)
        return wm_fail(err, WB_ERR_ARG, WB_NO_OFFSET, WB_NO_INDEX, "native code: key too short");
    uint8_t *b = malloc(len + WM_AOT_TAG_SIZE);
    if (!b) return wm_fail(err, WB_ERR_NOMEM, WB_NO_OFFSET, WB_NO_INDEX, "out of memory");
    memcpy(b, artifact, len);
    if (!mac(artifact, len, key, key_len, b + len)) {
        free(b);
        return wm_fail(err, WB_ERR_IO, WB_NO_OFFSET, WB_NO_INDEX, "native code: HMAC failed");
    }
    *out = b;
    *out_len = len + WM_AOT_TAG_SIZE;
    return WB_OK;
}

/* ----------------------------------------------------------- loading */

static wb_status bad(wb_error *err, const char *why) {
    return wm_fail(err, WB_ERR_MALFORMED, WB_NO_OFFSET, WB_NO_INDEX, "native code refused: %s", why);
}

void wm_aot_image_free(wm_aot_image *img) {
    if (!img) return;
    if (img->map) munmap(img->map, img->map_len);
    free(img->func_off);
    free(img->entry_off);
    free(img->syms);
    free(img);
}

static int by_offset(const void *a, const void *b) {
    uint32_t x = ((const wm_aot_sym *)a)->offset, y = ((const wm_aot_sym *)b)->offset;
    return x < y ? -1 : x > y;
}

/* With $WASMBOX_PERF_MAP set, native functions are listed in
 * /tmp/perf-PID.map, where `perf report` finds their names. */
static void perf_map(const wb_module *mod, const wm_aot_image *img) {
    const char *env = getenv("WASMBOX_PERF_MAP");
    if (!env || !*env || strcmp(env, "0") == 0) return;
    char path[64];
    snprintf(path, sizeof path, "/tmp/perf-%ld.map", (long)getpid());
    FILE *f = fopen(path, "a");
    if (!f) return;
    for (uint32_t i = 0; i < img->nsyms; i++) {
        const wm_aot_sym *s = &img->syms[i];
        const char *name = wb_module_func_name(mod, s->func);
        if (name) fprintf(f, "%lx %x wasm:%s\n", (unsigned long)(uintptr_t)(img->code + s->offset), s->size, name);
        else fprintf(f, "%lx %x wasm#%u\n", (unsigned long)(uintptr_t)(img->code + s->offset), s->size, s->func);
    }
    fclose(f);
}

wb_status wb_module_load_native(wb_module *mod, const uint8_t *a, size_t len, const uint8_t *key,
                                size_t key_len, wb_error *err) {
    wb_error_clear(err);
    if (mod->aot)
        return wm_fail(err, WB_ERR_ARG, WB_NO_OFFSET, WB_NO_INDEX, "module already has native code");
    if (len < sizeof(wm_aot_header) + WM_AOT_TAG_SIZE) return bad(err, "truncated (no header)");
    size_t body = len - WM_AOT_TAG_SIZE;
    if (key) {
        uint8_t tag[WM_AOT_TAG_SIZE];
        if (!mac(a, body, key, key_len, tag)) return bad(err, "HMAC failed");
        if (CRYPTO_memcmp(tag, a + body, WM_AOT_TAG_SIZE) != 0)
            return bad(err, "integrity tag does not match (corrupted, truncated or made with another key)");
    }
    wm_aot_header h;
    memcpy(&h, a, sizeof h);
    if (memcmp(h.magic, WM_AOT_MAGIC, 8) != 0) return bad(err, "not a wasmbox native artifact");
    if (h.format != WM_AOT_FORMAT) return bad(err, "artifact format version differs");
    if (h.abi != wm_aot_abi()) return bad(err, "made for another engine ABI");
    if (strncmp(h.engine, WB_VERSION_STRING, sizeof h.engine) != 0)
        return bad(err, "made by another engine version");
    uint8_t sum[32];
    const wm_module *m = mod->m;
    wm_aot_sha256(m->bytes, m->len, sum);
    if (memcmp(sum, h.module_sha256, 32) != 0) return bad(err, "made from another module");
    uint64_t cpu = wm_aot_cpu();
    if ((h.features & ~cpu) != 0) return bad(err, "needs CPU features this machine lacks");
    uint32_t ndef = m->nfuncs - m->nimported_funcs;
    if (h.nfuncs != ndef || h.ntypes != m->ntypes) return bad(err, "function or type count differs");
    uint64_t tables = (uint64_t)h.nfuncs * 4 + (uint64_t)h.ntypes * 4 + (uint64_t)h.nrelative * 4 +
                      (uint64_t)h.nsyms * sizeof(wm_aot_sym);
    if (h.nsyms > h.nfuncs) return bad(err, "more symbols than functions");
    uint64_t code_pages = ((uint64_t)h.code_size + WM_AOT_PAGE - 1) / WM_AOT_PAGE * WM_AOT_PAGE;
    uint64_t image = code_pages + h.rodata_size;
    if (image > WM_AOT_MAX_IMAGE) return bad(err, "image size out of range");
    if (sizeof h + tables + image != body) return bad(err, "sizes do not add up (truncated?)");
    const uint8_t *p = a + sizeof h;
    wm_aot_image *img = calloc(1, sizeof *img);
    if (!img) return wm_fail(err, WB_ERR_NOMEM, WB_NO_OFFSET, WB_NO_INDEX, "out of memory");
    img->nfuncs = h.nfuncs;
    img->ntypes = h.ntypes;
    img->func_off = malloc(((size_t)h.nfuncs + 1) * 4);
    img->entry_off = malloc(((size_t)h.ntypes + 1) * 4);
    img->syms = malloc(((size_t)h.nsyms + 1) * sizeof *img->syms);
    if (!img->func_off || !img->entry_off || !img->syms) {
        wm_aot_image_free(img);
        return wm_fail(err, WB_ERR_NOMEM, WB_NO_OFFSET, WB_NO_INDEX, "out of memory");
    }
    memcpy(img->func_off, p, (size_t)h.nfuncs * 4);
    p += (size_t)h.nfuncs * 4;
    memcpy(img->entry_off, p, (size_t)h.ntypes * 4);
    p += (size_t)h.ntypes * 4;
    const uint8_t *rel = p;
    p += (size_t)h.nrelative * 4;
    memcpy(img->syms, p, (size_t)h.nsyms * sizeof *img->syms);
    p += (size_t)h.nsyms * sizeof *img->syms;
    img->nsyms = h.nsyms;
    for (uint32_t i = 0; i < h.nfuncs; i++) {
        if (img->func_off[i] != UINT32_MAX && img->func_off[i] >= h.code_size) {
            wm_aot_image_free(img);
            return bad(err, "function offset outside the code");
        }
    }
    for (uint32_t i = 0; i < h.nsyms; i++) {
        const wm_aot_sym *s = &img->syms[i];
        if ((uint64_t)s->offset + s->size > h.code_size || s->func < m->nimported_funcs ||
            s->func >= m->nfuncs) {
            wm_aot_image_free(img);
            return bad(err, "function symbol outside the code");
        }
    }
    for (uint32_t i = 0; i < h.ntypes; i++) {
        if (img->entry_off[i] >= h.code_size) { /* the compiler makes one per type */
            wm_aot_image_free(img);
            return bad(err, "entry offset outside the code");
        }
    }
    for (uint32_t i = 0; i < h.nrelative; i++) {
        uint32_t off;
        memcpy(&off, rel + 4 * (size_t)i, 4);
        if ((uint64_t)off + 8 > image || (off >= h.code_size && off < code_pages)) {
            wm_aot_image_free(img);
            return bad(err, "relocation outside the image");
        }
    }
    img->map_len = (size_t)((image + WM_AOT_PAGE - 1) / WM_AOT_PAGE * WM_AOT_PAGE);
    if (img->map_len == 0) { /* no code at all: a module without functions */
        mod->aot = img;
        return WB_OK;
    }
    void *map = mmap(NULL, img->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
        wm_aot_image_free(img);
        return wm_fail(err, WB_ERR_NOMEM, WB_NO_OFFSET, WB_NO_INDEX, "cannot map native code");
    }
    img->map = map;
    memcpy(img->map, p, (size_t)image);
    for (uint32_t i = 0; i < h.nrelative; i++) {
        uint32_t off;
        uint64_t v;
        memcpy(&off, rel + 4 * (size_t)i, 4);
        memcpy(&v, img->map + off, 8);
        v += (uint64_t)(uintptr_t)img->map;
        memcpy(img->map + off, &v, 8);
    }
    if (mprotect(img->map, (size_t)code_pages, PROT_READ | PROT_EXEC) != 0 ||
        (img->map_len > code_pages &&
         mprotect(img->map + code_pages, img->map_len - (size_t)code_pages, PROT_READ) != 0)) {
        wm_aot_image_free(img);
        return wm_fail(err, WB_ERR_NOMEM, WB_NO_OFFSET, WB_NO_INDEX, "cannot protect native code");
    }
    img->code = img->map;
    img->code_size = h.code_size;
    qsort(img->syms, img->nsyms, sizeof *img->syms, by_offset);
    mod->aot = img;
    perf_map(mod, img);
    return WB_OK;
}

bool wb_module_is_native(const wb_module *mod) { return mod->aot != NULL; }

/* --------------------------------------------------------- instances */

static const wm_aot_helpers helpers;

wb_status wm_aot_instance_bind(wb_instance *inst, wb_error *err) {
    const wm_aot_image *img = inst->module->aot;
    const wm_module *m = inst->m;
    wm_aot_ctx *c = calloc(1, sizeof *c);
    if (!c) return wm_fail(err, WB_ERR_NOMEM, WB_NO_OFFSET, WB_NO_INDEX, "out of memory");
    wm_exec *ex = &inst->store->exec;
    c->mem_base = inst->mem0 ? inst->mem0->base : NULL;
    c->mem = inst->mem0;
    c->globals = inst->globals;
    c->tables = inst->tables;
    c->funcs = inst->funcs;
    c->type_ids = inst->type_ids;
    c->stack_limit = __atomic_load_n(&ex->stack_limit, __ATOMIC_SEQ_CST);
    /* Published to wb_store_interrupt only once complete. */
    c->next = ex->aot_ctxs;
    __atomic_store_n(&ex->aot_ctxs, c, __ATOMIC_SEQ_CST);
    /* An interrupt that came while c was not in the list yet. */
    if (__atomic_load_n(&ex->interrupt, __ATOMIC_SEQ_CST))
        __atomic_store_n(&c->stack_limit, UINTPTR_MAX, __ATOMIC_SEQ_CST);
    c->helpers = &helpers;
    c->inst = inst;
    c->exec = ex;
    inst->aot = c;
    for (uint32_t i = 0; i < img->nfuncs; i++) {
        if (img->func_off[i] == UINT32_MAX) continue;
        wb_func *f = inst->funcs[m->nimported_funcs + i];
        f->aot_code = img->code + img->func_off[i];
        f->aot_vmctx = c;
    }
    return WB_OK;
}

/* Contexts stay in the store's list until the store goes: freed by
 * wm_aot_store_free, not with their instance. */
void wm_aot_instance_free(wb_instance *inst) { (void)inst; }

void wm_aot_store_free(wm_exec *ex) {
    for (wm_aot_ctx *c = ex->aot_ctxs, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    ex->aot_ctxs = NULL;
}

wb_func *wm_aot_func_at(wb_store *s, uintptr_t pc) {
    for (size_t k = 0; k < s->instances.len; k++) {
        wb_instance *inst = s->instances.items[k];
        const wm_aot_image *img = inst->aot ? inst->module->aot : NULL;
        if (!img || pc < (uintptr_t)img->code || pc >= (uintptr_t)img->code + img->code_size) continue;
        uint32_t off = (uint32_t)(pc - (uintptr_t)img->code);
        /* The last function starting at or before off, if off is in it. */
        uint32_t lo = 0, hi = img->nsyms;
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (img->syms[mid].offset <= off) lo = mid + 1;
            else hi = mid;
        }
        if (lo == 0 || off >= img->syms[lo - 1].offset + img->syms[lo - 1].size) return NULL;
        return inst->funcs[img->syms[lo - 1].func];
    }
    return NULL;
}

/* --------------------------------------------------------- the stack */

/* Native code may use the thread's stack down to this address; below it,
 * a call traps with "call stack exhausted". Room is left for host calls
 * made at the deepest point, and for the runtime around them. */
#define STACK_HEADROOM ((uintptr_t)512 << 10)
#define STACK_BUDGET ((uintptr_t)1 << 30)
#define ALTSTACK_SIZE ((size_t)64 << 10)

static _Thread_local uintptr_t thread_limit;

static uintptr_t thread_stack_limit(void) {
    if (thread_limit) return thread_limit;
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    uintptr_t lo = 0;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *addr;
        size_t size;
        if (pthread_attr_getstack(&attr, &addr, &size) == 0) lo = (uintptr_t)addr;
        pthread_attr_destroy(&attr);
    }
    if (!lo || lo + STACK_HEADROOM >= sp) lo = sp > ((uintptr_t)4 << 20) ? sp - ((uintptr_t)4 << 20) : 0;
    uintptr_t limit = lo + STACK_HEADROOM;
    if (sp > STACK_BUDGET && limit < sp - STACK_BUDGET) limit = sp - STACK_BUDGET;
    /* The fault handler must run when the stack is what overflowed. */
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && (cur.ss_flags & SS_DISABLE)) {
        void *alt = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (alt != MAP_FAILED) {
            stack_t ss = {.ss_sp = alt, .ss_size = ALTSTACK_SIZE, .ss_flags = 0};
            sigaltstack(&ss, NULL);
        }
    }
    thread_limit = limit;
    return limit;
}

void wm_aot_limit_all(wm_exec *ex, uintptr_t v) {
    __atomic_store_n(&ex->stack_limit, v, __ATOMIC_SEQ_CST);
    for (wm_aot_ctx *c = __atomic_load_n(&ex->aot_ctxs, __ATOMIC_SEQ_CST); c; c = c->next)
        __atomic_store_n(&c->stack_limit, v, __ATOMIC_SEQ_CST);
}

void wm_aot_set_limit(wm_exec *ex, uintptr_t v) {
    wm_aot_limit_all(ex, v);
    /* wb_store_interrupt sets the flag, then the limits: if the flag is
     * seen clear here, its stores come after ours. */
    if (__atomic_load_n(&ex->interrupt, __ATOMIC_SEQ_CST)) wm_aot_limit_all(ex, UINTPTR_MAX);
}

void wm_aot_rearm(wm_exec *ex) {
    if (ex->aot_ctxs) wm_aot_set_limit(ex, thread_stack_limit());
    else ex->stack_limit = 0;
}

void wm_aot_enter(wm_exec *ex, wb_func *f, wm_slot *io) {
    const wm_aot_image *img = f->inst->module->aot;
    uint32_t ti = f->inst->m->func_types[f->index];
    void (*entry)(void *, void *, wm_slot *) =
        (void (*)(void *, void *, wm_slot *))(void *)(img->code + img->entry_off[ti]);
    /* The limit stays from one entry to the next on this thread; another
     * thread (or the first entry) sets its own. */
    uintptr_t limit = thread_stack_limit();
    if (ex->stack_limit != limit) wm_aot_set_limit(ex, limit);
    ex->in_wasm = 1;
    entry(f->aot_vmctx, f->aot_code, io);
    ex->in_wasm = 0;
}

/* ------------------------------------------------------------ helpers */

static _Noreturn void jump(wm_exec *ex, wb_status st) {
    ex->jump_status = st;
    ex->in_wasm = 0;
    siglongjmp(*ex->jmp, WM_JUMP_TRAP);
}

static void set_where(wm_aot_ctx *c, wm_aot_where where) {
    wm_exec *ex = c->exec;
    uint32_t fi = (uint32_t)(where >> 32);
    ex->trap_func = fi < c->inst->m->nfuncs ? c->inst->funcs[fi] : NULL;
    ex->trap_pc = NULL;
    ex->trap_offset = (uint32_t)where;
}

static _Noreturn void h_trap(wm_aot_ctx *c, uint32_t trap, wm_aot_where where, uint32_t detail) {
    wm_exec *ex = c->exec;
    /* A failed stack check is an interrupt when one was asked for. */
    if (trap == WB_TRAP_STACK_EXHAUSTED && __atomic_load_n(&ex->interrupt, __ATOMIC_SEQ_CST))
        trap = WB_TRAP_INTERRUPTED;
    ex->trap = (wb_trap)trap;
    ex->trap_detail = detail;
    set_where(c, where);
    jump(ex, WB_ERR_TRAP);
}

static void h_call(wm_aot_ctx *c, wb_func *f, wm_slot *io, wm_aot_where where) {
    wm_exec *ex = c->exec;
    wb_status st;
    if (f->host) {
        ex->in_wasm = 0;
        st = wm_call_host(ex, f, c->inst, io);
        ex->in_wasm = 1;
        if (st != WB_OK) {
            set_where(c, where);
            jump(ex, st);
        }
        return;
    }
    /* An interpreted function (or one of a store with fuel): on the value
     * stack, through the executor, which catches its own traps. */
    const wm_functype *t = f->type;
    uint32_t n = t->nparams > t->nresults ? t->nparams : t->nresults;
    if (ex->stack_top + n + 1 > ex->stack_end) {
        ex->trap = WB_TRAP_STACK_EXHAUSTED;
        set_where(c, where);
        jump(ex, WB_ERR_TRAP);
    }
    memcpy(ex->stack_top, io, (size_t)t->nparams * sizeof *io);
    wb_error err;
    ex->in_wasm = 0;
    st = wm_exec_call(ex, f, &err);
    ex->in_wasm = 1;
    if (st != WB_OK) {
        if (st != WB_ERR_TRAP && st != WB_ERR_EXIT) {
            ex->trap = WB_TRAP_HOST;
            snprintf(ex->host_message, sizeof ex->host_message, "%s", err.message);
            set_where(c, where);
            st = WB_ERR_TRAP;
        }
        jump(ex, st);
    }
    memcpy(io, ex->stack_top, (size_t)t->nresults * sizeof *io);
}

static int32_t h_memory_grow(wm_aot_ctx *c, uint32_t delta) {
    return (int32_t)wm_memory_grow_raw(c->mem, delta);
}

static _Noreturn void oob(wm_aot_ctx *c, wb_trap trap, wm_aot_where where) {
    h_trap(c, trap, where, 0);
}

static uint64_t mem_bytes(wm_aot_ctx *c) { return c->mem->pages * 65536u; }

static void h_memory_init(wm_aot_ctx *c, uint32_t seg, uint32_t d, uint32_t s, uint32_t n,
                          wm_aot_where where) {
    const wm_data *data = &c->inst->m->datas[seg];
    uint64_t len = c->inst->data_dropped[seg] ? 0 : data->len;
    if ((uint64_t)s + n > len || (uint64_t)d + n > mem_bytes(c)) oob(c, WB_TRAP_OOB_MEMORY, where);
    if (n) memcpy(c->mem_base + d, data->bytes + s, n);
}

static void h_data_drop(wm_aot_ctx *c, uint32_t seg) { c->inst->data_dropped[seg] = 1; }

static void h_memory_copy(wm_aot_ctx *c, uint32_t d, uint32_t s, uint32_t n, wm_aot_where where) {
    uint64_t size = mem_bytes(c);
    if ((uint64_t)s + n > size || (uint64_t)d + n > size) oob(c, WB_TRAP_OOB_MEMORY, where);
    if (n) memmove(c->mem_base + d, c->mem_base + s, n);
}

static void h_memory_fill(wm_aot_ctx *c, uint32_t d, uint32_t v, uint32_t n, wm_aot_where where) {
    if ((uint64_t)d + n > mem_bytes(c)) oob(c, WB_TRAP_OOB_MEMORY, where);
    if (n) memset(c->mem_base + d, (int)(uint8_t)v, n);
}

static void h_table_init(wm_aot_ctx *c, uint32_t ti, uint32_t seg, uint32_t d, uint32_t s, uint32_t n,
                         wm_aot_where where) {
    wb_table *t = c->tables[ti];
    const wm_elemrt *e = &c->inst->elems[seg];
    if ((uint64_t)s + n > e->count || (uint64_t)d + n > t->size) oob(c, WB_TRAP_OOB_TABLE, where);
    if (n) memcpy(t->elems + d, e->refs + s, (size_t)n * sizeof(void *));
}

static void h_elem_drop(wm_aot_ctx *c, uint32_t seg) { c->inst->elems[seg].count = 0; }

static void h_table_copy(wm_aot_ctx *c, uint32_t dt, uint32_t st, uint32_t d, uint32_t s, uint32_t n,
                         wm_aot_where where) {
    wb_table *a = c->tables[dt], *b = c->tables[st];
    if ((uint64_t)s + n > b->size || (uint64_t)d + n > a->size) oob(c, WB_TRAP_OOB_TABLE, where);
    if (n) memmove(a->elems + d, b->elems + s, (size_t)n * sizeof(void *));
}

static void *h_table_get(wm_aot_ctx *c, uint32_t ti, uint32_t i, wm_aot_where where) {
    wb_table *t = c->tables[ti];
    if (i >= t->size) oob(c, WB_TRAP_OOB_TABLE, where);
    return t->elems[i];
}

static void h_table_set(wm_aot_ctx *c, uint32_t ti, uint32_t i, void *v, wm_aot_where where) {
    wb_table *t = c->tables[ti];
    if (i >= t->size) oob(c, WB_TRAP_OOB_TABLE, where);
    t->elems[i] = v;
}

static int32_t h_table_grow(wm_aot_ctx *c, uint32_t ti, void *init, uint32_t n) {
    uint32_t old;
    return wm_table_grow_raw(c->tables[ti], n, init, &old) ? (int32_t)old : -1;
}

static void h_table_fill(wm_aot_ctx *c, uint32_t ti, uint32_t i, void *v, uint32_t n,
                         wm_aot_where where) {
    wb_table *t = c->tables[ti];
    if ((uint64_t)i + n > t->size) oob(c, WB_TRAP_OOB_TABLE, where);
    for (uint32_t k = 0; k < n; k++) t->elems[i + k] = v;
}

static const wm_aot_helpers helpers = {
    .trap = h_trap,
    .call = h_call,
    .memory_grow = h_memory_grow,
    .memory_init = h_memory_init,
    .data_drop = h_data_drop,
    .memory_copy = h_memory_copy,
    .memory_fill = h_memory_fill,
    .table_init = h_table_init,
    .elem_drop = h_elem_drop,
    .table_copy = h_table_copy,
    .table_get = h_table_get,
    .table_set = h_table_set,
    .table_grow = h_table_grow,
    .table_fill = h_table_fill,
};
