/*
 * runtime.c - engine, modules, stores, runtime objects, instantiation,
 * linking, and the entry into the interpreter (with the fault handler that
 * turns guard-page faults into traps).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "lower.h"

#define PAGE_SIZE_WASM 65536u
/* Every linear memory reserves this much address space: any u32 address
 * plus u32 offset plus an 8-byte access lands inside it. */
#define MEMORY_RESERVATION ((size_t)8 << 30 | (size_t)PAGE_SIZE_WASM)
#define HUGE_FROM ((size_t)2 << 20)
/* Nesting of C-to-Wasm entries (host functions calling back in). */
#define MAX_ENTRY_DEPTH 200

/* ------------------------------------------------------------- helpers */

static bool vec_push(wm_ptrvec *v, void *p) {
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        void **items = realloc(v->items, cap * sizeof *items);
        if (!items) return false;
        v->items = items;
        v->cap = cap;
    }
    v->items[v->len++] = p;
    return true;
}

static wb_status nomem(wb_error *err, const char *what) {
    return wm_fail(err, WB_ERR_NOMEM, WB_NO_OFFSET, WB_NO_INDEX, "out of memory: %s", what);
}

static bool functype_equal(const wm_functype *a, const wm_functype *b) {
    return a->nparams == b->nparams && a->nresults == b->nresults &&
           (a->nparams == 0 || memcmp(a->params, b->params, a->nparams) == 0) &&
           (a->nresults == 0 || memcmp(a->results, b->results, a->nresults) == 0);
}


/* ---------------------------------------------------------------- engine */

void wb_config_default(wb_config *cfg) {
    cfg->max_memory_pages = 65536;
    cfg->max_table_elems = WM_MAX_TABLE_ELEMS;
    cfg->max_call_depth = 100000;
    cfg->value_stack_slots = 4u << 20;
}

wb_status wb_engine_new(const wb_config *cfg, wb_engine **out, wb_error *err) {
    *out = NULL;
    wb_engine *e = calloc(1, sizeof *e);
    if (!e) return nomem(err, "engine");
    if (cfg) e->config = *cfg;
    else wb_config_default(&e->config);
    if (e->config.max_memory_pages > 65536) e->config.max_memory_pages = 65536;
    if (e->config.max_call_depth < 16) e->config.max_call_depth = 16;
    if (e->config.value_stack_slots < 4096) e->config.value_stack_slots = 4096;
    *out = e;
    return WB_OK;
}

void wb_engine_delete(wb_engine *engine) { free(engine); }

/* ---------------------------------------------------------------- module */

static char *dup_name(wm_name n) {
    char *s = malloc((size_t)n.len + 1);
    if (!s) return NULL;
    if (n.len) memcpy(s, n.ptr, n.len);
    s[n.len] = '\0';
    return s;
}

/* The public view of t, its wb_valtype arrays written into vals (room for
 * nparams + nresults entries), which the caller owns. */
static wb_functype public_functype(const wm_functype *t, wb_valtype *vals) {
    wb_functype r;
    r.nparams = t->nparams;
    r.nresults = t->nresults;
    for (uint32_t i = 0; i < t->nparams; i++) vals[i] = (wb_valtype)t->params[i];
    for (uint32_t i = 0; i < t->nresults; i++) vals[t->nparams + i] = (wb_valtype)t->results[i];
    r.params = vals;
    r.results = vals + t->nparams;
    return r;
}

/* Builds the public views of every type of the module, in one buffer. */
static bool module_public_types(wb_module *mod) {
    const wm_module *m = mod->m;
    size_t total = 0;
    for (uint32_t i = 0; i < m->ntypes; i++) total += (size_t)m->types[i].nparams + m->types[i].nresults;
    mod->functypes = calloc(m->ntypes + 1, sizeof *mod->functypes);
    mod->valtypes = calloc(total + 1, sizeof *mod->valtypes);
    if (!mod->functypes || !mod->valtypes) return false;
    wb_valtype *next = mod->valtypes;
    for (uint32_t i = 0; i < m->ntypes; i++) {
        mod->functypes[i] = public_functype(&m->types[i], next);
        next += (size_t)m->types[i].nparams + m->types[i].nresults;
    }
    return true;
}

/* Decodes and validates `copy` (malloc'd; always taken) into a module,
 * kept in *out when keep. */
static wb_status module_make(wb_engine *engine, uint8_t *copy, size_t len, wb_module **out,
                             wb_error *err, bool keep) {
    wb_error_clear(err);
    if (out) *out = NULL;
    wm_module *m = NULL;
    wb_status st = wm_decode(copy, len, &m, err);
    if (st != WB_OK) return st;
    st = wm_validate(m, err);
    if (st != WB_OK || !keep) {
        wm_module_free(m);
        return st;
    }
    wb_module *mod = calloc(1, sizeof *mod);
    if (!mod) {
        wm_module_free(m);
        return nomem(err, "module");
    }
    mod->engine = engine;
    mod->m = m;
    uint32_t ndefined = m->nfuncs - m->nimported_funcs;
    m->lowered = calloc(ndefined ? ndefined : 1, sizeof *m->lowered);
    mod->import_modules = calloc(m->nimports + 1, sizeof(char *));
    mod->import_names = calloc(m->nimports + 1, sizeof(char *));
    mod->export_names = calloc(m->nexports + 1, sizeof(char *));
    bool ok = m->lowered && mod->import_modules && mod->import_names && mod->export_names &&
              module_public_types(mod);
    for (uint32_t i = 0; ok && i < m->nimports; i++) {
        mod->import_modules[i] = dup_name(m->imports[i].module);
        mod->import_names[i] = dup_name(m->imports[i].name);
        ok = mod->import_modules[i] && mod->import_names[i];
    }
    for (uint32_t i = 0; ok && i < m->nexports; i++) {
        mod->export_names[i] = dup_name(m->exports[i].name);
        ok = mod->export_names[i] != NULL;
    }
    if (ok && m->func_names) {
        mod->func_names = calloc(m->nfuncs + 1, sizeof(char *));
        ok = mod->func_names != NULL;
        for (uint32_t i = 0; ok && i < m->nfuncs; i++) {
            if (!m->func_names[i].ptr) continue;
            mod->func_names[i] = dup_name(m->func_names[i]);
            ok = mod->func_names[i] != NULL;
        }
    }
    if (!ok) {
        wb_module_delete(mod);
        return nomem(err, "module names");
    }
    *out = mod;
    return WB_OK;
}

/* A malloc'd copy of bytes[0..len) for module_make. */
static wb_status copy_bytes(const uint8_t *bytes, size_t len, uint8_t **copy, wb_error *err) {
    wb_error_clear(err);
    *copy = NULL;
    if (!bytes && len) return wm_fail(err, WB_ERR_ARG, WB_NO_OFFSET, WB_NO_INDEX, "no bytes");
    *copy = malloc(len ? len : 1);
    if (!*copy) return nomem(err, "module bytes");
    if (len) memcpy(*copy, bytes, len);
    return WB_OK;
}

wb_status wb_module_new(wb_engine *engine, const uint8_t *bytes, size_t len,
                        wb_module **out, wb_error *err) {
    if (out) *out = NULL;
    uint8_t *copy;
    wb_status st = copy_bytes(bytes, len, &copy, err);
    return st != WB_OK ? st : module_make(engine, copy, len, out, err, true);
}

wb_status wb_module_new_owned(wb_engine *engine, uint8_t *bytes, size_t len, wb_module **out,
                              wb_error *err) {
    if (out) *out = NULL;
    if (!bytes) return wb_module_new(engine, NULL, len, out, err);
    return module_make(engine, bytes, len, out, err, true);
}

wb_status wb_module_validate(wb_engine *engine, const uint8_t *bytes, size_t len,
                             wb_error *err) {
    uint8_t *copy;
    wb_status st = copy_bytes(bytes, len, &copy, err);
    return st != WB_OK ? st : module_make(engine, copy, len, NULL, err, false);
}

void wb_module_delete(wb_module *mod) {
    if (!mod) return;
    const wm_module *m = mod->m;
    if (mod->import_modules)
        for (uint32_t i = 0; i < m->nimports; i++) free(mod->import_modules[i]);
    if (mod->import_names)
        for (uint32_t i = 0; i < m->nimports; i++) free(mod->import_names[i]);
    if (mod->export_names)
        for (uint32_t i = 0; i < m->nexports; i++) free(mod->export_names[i]);
    if (mod->func_names)
        for (uint32_t i = 0; i < m->nfuncs; i++) free(mod->func_names[i]);
    free(mod->func_names);
    free(mod->functypes);
    free(mod->valtypes);
    free(mod->import_modules);
    free(mod->import_names);
    free(mod->export_names);
    wm_aot_image_free(mod->aot);
    wm_module_free(mod->m);
    free(mod);
}

static wb_tabletype to_tabletype(const wm_tabletype *t) {
    wb_tabletype r;
    r.elem = (wb_valtype)t->elem;
    r.limits.min = t->lim.min;
    r.limits.max = t->lim.max;
    r.limits.has_max = t->lim.has_max;
    return r;
}

static wb_memorytype to_memtype(const wm_limits *l) {
    wb_memorytype r;
    r.limits.min = l->min;
    r.limits.max = l->max;
    r.limits.has_max = l->has_max;
    return r;
}

size_t wb_module_import_count(const wb_module *mod) { return mod->m->nimports; }
size_t wb_module_export_count(const wb_module *mod) { return mod->m->nexports; }

bool wb_module_import(const wb_module *mod, size_t i, wb_importdesc *out) {
    const wm_module *m = mod->m;
    if (i >= m->nimports) return false;
    const wm_import *im = &m->imports[i];
    memset(out, 0, sizeof *out);
    out->module = mod->import_modules[i];
    out->name = mod->import_names[i];
    out->module_len = im->module.len;
    out->name_len = im->name.len;
    out->kind = (wb_externkind)im->kind;
    switch (im->kind) {
    case WM_KIND_FUNC: out->type.func = mod->functypes[im->desc.functype]; break;
    case WM_KIND_TABLE: out->type.table = to_tabletype(&im->desc.table); break;
    case WM_KIND_MEMORY: out->type.memory = to_memtype(&im->desc.mem); break;
    case WM_KIND_GLOBAL:
        out->type.global.type = (wb_valtype)im->desc.global.type;
        out->type.global.mutable_ = im->desc.global.mut;
        break;
    }
    return true;
}

bool wb_module_export(const wb_module *mod, size_t i, wb_exportdesc *out) {
    const wm_module *m = mod->m;
    if (i >= m->nexports) return false;
    const wm_export *ex = &m->exports[i];
    memset(out, 0, sizeof *out);
    out->name = mod->export_names[i];
    out->name_len = ex->name.len;
    out->kind = (wb_externkind)ex->kind;
    out->index = ex->index;
    switch (ex->kind) {
    case WM_KIND_FUNC: out->type.func = mod->functypes[m->func_types[ex->index]]; break;
    case WM_KIND_TABLE: out->type.table = to_tabletype(&m->tables[ex->index]); break;
    case WM_KIND_MEMORY: out->type.memory = to_memtype(&m->mems[ex->index]); break;
    case WM_KIND_GLOBAL:
        out->type.global.type = (wb_valtype)m->globals[ex->index].type;
        out->type.global.mutable_ = m->globals[ex->index].mut;
        break;
    }
    return true;
}

const char *wb_module_func_name(const wb_module *mod, uint32_t index) {
    if (!mod->func_names || index >= mod->m->nfuncs) return NULL;
    return mod->func_names[index];
}

/* ----------------------------------------------------------------- store */

static void *map_reserve(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void install_fault_handler(void);

wb_status wb_store_new(wb_engine *engine, wb_store **out, wb_error *err) {
    *out = NULL;
    install_fault_handler();
    wb_store *s = calloc(1, sizeof *s);
    if (!s) return nomem(err, "store");
    s->engine = engine;
    wm_exec *ex = &s->exec;
    ex->store = s;
    ex->trap_offset = WB_NO_OFFSET;
    ex->stack_bytes = (size_t)engine->config.value_stack_slots * sizeof(wm_slot);
    ex->frames_bytes = (size_t)engine->config.max_call_depth * sizeof(wm_frame);
    ex->stack = map_reserve(ex->stack_bytes);
    ex->frames = map_reserve(ex->frames_bytes);
    if (!ex->stack || !ex->frames) {
        if (ex->stack) munmap(ex->stack, ex->stack_bytes);
        if (ex->frames) munmap(ex->frames, ex->frames_bytes);
        free(s);
        return nomem(err, "value stack");
    }
    ex->stack_end = ex->stack + engine->config.value_stack_slots;
    ex->stack_top = ex->stack;
    ex->frames_end = ex->frames + engine->config.max_call_depth;
    ex->frame_top = ex->frames;
    *out = s;
    return WB_OK;
}

static void func_free(wb_func *f) {
    if (!f) return;
    if (!f->inst) {
        if (f->finalizer) f->finalizer(f->env);
        if (f->type) {
            free(f->type->params);
            free((void *)f->type);
        }
        free((void *)f->pub.params);
    }
    free(f);
}

static void memory_free(wb_memory *mem) {
    if (!mem) return;
    if (mem->base) munmap(mem->base, mem->reserved);
    free(mem);
}

static void table_free(wb_table *t) {
    if (!t) return;
    free(t->elems);
    free(t);
}

static void instance_free(wb_instance *inst) {
    if (!inst) return;
    if (inst->elems && inst->m)
        for (uint32_t i = 0; i < inst->m->nelems; i++) free(inst->elems[i].refs);
    free(inst->elems);
    free(inst->funcs);
    free(inst->tables);
    free(inst->mems);
    free(inst->globals);
    free(inst->type_ids);
    free(inst->data_dropped);
    wm_aot_instance_free(inst);
    free(inst);
}

void wb_store_delete(wb_store *s) {
    if (!s) return;
    for (size_t i = 0; i < s->instances.len; i++) instance_free(s->instances.items[i]);
    for (size_t i = 0; i < s->funcs.len; i++) func_free(s->funcs.items[i]);
    for (size_t i = 0; i < s->tables.len; i++) table_free(s->tables.items[i]);
    for (size_t i = 0; i < s->memories.len; i++) memory_free(s->memories.items[i]);
    for (size_t i = 0; i < s->globals.len; i++) free(s->globals.items[i]);
    free(s->instances.items);
    free(s->funcs.items);
    free(s->tables.items);
    free(s->memories.items);
    free(s->globals.items);
    for (uint32_t i = 0; i < s->ntypes; i++) free(s->types[i].params);
    free(s->types);
    munmap(s->exec.stack, s->exec.stack_bytes);
    munmap(s->exec.frames, s->exec.frames_bytes);
    wm_aot_store_free(&s->exec);
    free(s);
}

void wb_store_set_fuel(wb_store *s, uint64_t fuel) {
    s->exec.fuel_limited = fuel != 0;
    s->exec.fuel = fuel > INT64_MAX ? INT64_MAX : (int64_t)fuel;
}

uint64_t wb_store_fuel_left(const wb_store *s) {
    return s->exec.fuel_limited ? (uint64_t)(s->exec.fuel > 0 ? s->exec.fuel : 0) : UINT64_MAX;
}

void wb_store_interrupt(wb_store *s) {
    /* The flag first: native code that sees the limit fail looks at it. */
    __atomic_store_n(&s->exec.interrupt, 1, __ATOMIC_SEQ_CST);
    wm_aot_limit_all(&s->exec, UINTPTR_MAX);
}

wb_status wm_store_intern_type(wb_store *s, const wm_functype *t, uint32_t *id) {
    for (uint32_t i = 0; i < s->ntypes; i++) {
        if (functype_equal(&s->types[i], t)) {
            *id = i;
            return WB_OK;
        }
    }
    if (s->ntypes == s->captypes) {
        uint32_t cap = s->captypes ? s->captypes * 2 : 16;
        wm_functype *nt = realloc(s->types, (size_t)cap * sizeof *nt);
        if (!nt) return WB_ERR_NOMEM;
        s->types = nt;
        s->captypes = cap;
    }
    size_t n = (size_t)t->nparams + t->nresults;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return WB_ERR_NOMEM;
    if (t->nparams) memcpy(buf, t->params, t->nparams);
    if (t->nresults) memcpy(buf + t->nparams, t->results, t->nresults);
    wm_functype *c = &s->types[s->ntypes];
    c->nparams = t->nparams;
    c->nresults = t->nresults;
    c->params = buf;
    c->results = buf + t->nparams;
    *id = s->ntypes++;
    return WB_OK;
}

/* ------------------------------------------------------------- functions */

wb_status wb_func_new(wb_store *s, const wb_functype *type, wb_host_func fn,
                      void *env, void (*finalizer)(void *), wb_func **out,
                      wb_error *err) {
    *out = NULL;
    if (!fn) return wm_fail(err, WB_ERR_ARG, WB_NO_OFFSET, WB_NO_INDEX, "no host function");
    wb_func *f = calloc(1, sizeof *f);
    wm_functype *t = calloc(1, sizeof *t);
    size_t n = (size_t)type->nparams + type->nresults;
    uint8_t *buf = malloc(n ? n : 1);
    wb_valtype *vals = malloc((n ? n : 1) * sizeof *vals);
    if (!f || !t || !buf || !vals || !vec_push(&s->funcs, f)) {
        free(f);
        free(t);
        free(buf);
        free(vals);
        return nomem(err, "host function");
    }
    for (uint32_t i = 0; i < type->nparams; i++) buf[i] = (uint8_t)type->params[i];
    for (uint32_t i = 0; i < type->nresults; i++) buf[type->nparams + i] = (uint8_t)type->results[i];
    t->nparams = type->nparams;
    t->nresults = type->nresults;
    t->params = buf;
    t->results = buf + type->nparams;
    f->type = t;
    f->pub = public_functype(t, vals);
    f->host = fn;
    f->env = env;
    f->finalizer = finalizer;
    if (wm_store_intern_type(s, t, &f->type_id) != WB_OK) return nomem(err, "function type");
    *out = f;
    return WB_OK;
}

wb_functype wb_func_type(const wb_func *f) { return f->pub; }

wb_status wm_func_prepare(wb_func *f, wb_error *err) {
    if (f->code || f->host) return WB_OK;
    wm_module *m = (wm_module *)f->inst->m;
    uint32_t di = f->index - m->nimported_funcs;
    if (!m->lowered[di]) {
        wm_lowered *l;
        wb_status st = wm_lower(m, f->index, &l, err);
        if (st != WB_OK) return st;
        m->lowered[di] = l;
    }
    f->code = m->lowered[di];
    return WB_OK;
}

static void val_to_slot(const wb_val *v, wm_slot *s) {
    s->u64 = 0;
    switch (v->type) {
    case WB_I32: s->u64 = (uint32_t)v->of.i32; break;
    case WB_I64: s->i64 = v->of.i64; break;
    case WB_F32: s->f32 = v->of.f32; break;
    case WB_F64: s->f64 = v->of.f64; break;
    case WB_FUNCREF: s->ref = v->of.func; break;
    case WB_EXTERNREF: s->ref = v->of.ref; break;
    case WB_V128: break;
    }
}

static void slot_to_val(const wm_slot *s, uint8_t type, wb_val *v) {
    memset(v, 0, sizeof *v);
    v->type = (wb_valtype)type;
    switch (type) {
    case WM_I32: v->of.i32 = s->i32; break;
    case WM_I64: v->of.i64 = s->i64; break;
    case WM_F32: v->of.f32 = s->f32; break;
    case WM_F64: v->of.f64 = s->f64; break;
    case WM_FUNCREF: v->of.func = s->ref; break;
    case WM_EXTERNREF: v->of.ref = s->ref; break;
    default: break;
    }
}

wb_status wm_call_host(wm_exec *ex, wb_func *f, wb_instance *caller, wm_slot *fp) {
    wb_val argbuf[16], resbuf[16];
    const wm_functype *t = f->type;
    wb_val *args = argbuf, *res = resbuf;
    if (t->nparams > 16) args = calloc(t->nparams, sizeof *args);
    if (t->nresults > 16) res = calloc(t->nresults, sizeof *res);
    if (!args || !res) {
        if (args != argbuf) free(args);
        snprintf(ex->host_message, sizeof ex->host_message, "out of memory calling host function");
        ex->trap = WB_TRAP_HOST;
        return WB_ERR_TRAP;
    }
    for (uint32_t i = 0; i < t->nparams; i++) slot_to_val(&fp[i], t->params[i], &args[i]);
    for (uint32_t i = 0; i < t->nresults; i++) {
        memset(&res[i], 0, sizeof res[i]);
        res[i].type = (wb_valtype)t->results[i];
    }
    wb_caller c = {ex, caller};
    wb_status st = f->host(&c, f->env, args, res);
    if (st == WB_OK) {
        for (uint32_t i = 0; i < t->nresults; i++) val_to_slot(&res[i], &fp[i]);
    } else if (st != WB_ERR_TRAP && st != WB_ERR_EXIT) {
        snprintf(ex->host_message, sizeof ex->host_message, "host function failed: %s",
                 wb_status_name(st));
        ex->trap = WB_TRAP_HOST;
        st = WB_ERR_TRAP;
    }
    if (args != argbuf) free(args);
    if (res != resbuf) free(res);
    return st;
}

wb_memory *wb_caller_memory(wb_caller *c) { return c->inst ? c->inst->mem0 : NULL; }
wb_instance *wb_caller_instance(wb_caller *c) { return c->inst; }
wb_store *wb_caller_store(wb_caller *c) { return c->exec->store; }

wb_status wb_caller_trap(wb_caller *c, const char *message) {
    snprintf(c->exec->host_message, sizeof c->exec->host_message, "%s",
             message ? message : "host trap");
    c->exec->trap = WB_TRAP_HOST;
    return WB_ERR_TRAP;
}

wb_status wb_caller_exit(wb_caller *c, int code) {
    c->exec->exit_code = code;
    return WB_ERR_EXIT;
}

/* --------------------------------------------------- faults become traps */

static _Thread_local wm_exec *current_exec;
static struct sigaction old_segv, old_bus;
static pthread_once_t handler_once = PTHREAD_ONCE_INIT;

static bool address_in_memory(wb_store *s, uintptr_t addr) {
    for (size_t i = 0; i < s->memories.len; i++) {
        wb_memory *m = s->memories.items[i];
        uintptr_t base = (uintptr_t)m->base;
        if (addr >= base && addr - base < m->reserved) return true;
    }
    return false;
}

static void fault_handler(int sig, siginfo_t *si, void *uc) {
    wm_exec *ex = current_exec;
    if (ex && ex->in_wasm && ex->jmp) {
        uintptr_t addr = (uintptr_t)si->si_addr;
#if defined(__x86_64__) && defined(REG_RIP)
        ex->fault_pc = (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
#endif
        if (address_in_memory(ex->store, addr)) {
            ex->in_wasm = 0;
            siglongjmp(*ex->jmp, WM_JUMP_FAULT);
        }
        /* Native code probes its stack frame page by page: a fault just
         * below the limit it checks is the thread's stack running out. */
        if (ex->stack_limit && addr < ex->stack_limit && addr + ((uintptr_t)64 << 20) > ex->stack_limit) {
            ex->in_wasm = 0;
            siglongjmp(*ex->jmp, WM_JUMP_STACK);
        }
    }
    /* Not ours: hand it to whoever was installed before us. */
    struct sigaction *old = sig == SIGSEGV ? &old_segv : &old_bus;
    if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction) {
        old->sa_sigaction(sig, si, uc);
    } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
        old->sa_handler(sig);
    } else {
        /* Restore the default action; the faulting instruction re-runs. */
        signal(sig, SIG_DFL);
    }
}

static void install_once(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fault_handler;
    /* SA_NODEFER: we leave the handler by siglongjmp without restoring the
     * signal mask (sigsetjmp(.., 0) is cheaper), so the signal must not be
     * blocked while the handler runs. */
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
}

static void install_fault_handler(void) { pthread_once(&handler_once, install_once); }

/* ------------------------------------------------------- running code */

/* Copies n into err->func_name, cut to fit. */
static void set_func_name(wb_error *err, wm_name n) {
    size_t len = n.len < sizeof err->func_name - 1 ? n.len : sizeof err->func_name - 1;
    memcpy(err->func_name, n.ptr, len);
    err->func_name[len] = '\0';
}

/* Names f from the name section, else from an export naming it. */
static void fill_func_name(wb_error *err, const wb_func *f) {
    err->func_name[0] = '\0';
    if (!f || !f->inst) return;
    const wm_module *m = f->inst->m;
    if (m->func_names && f->index < m->nfuncs && m->func_names[f->index].ptr) {
        set_func_name(err, m->func_names[f->index]);
        return;
    }
    for (uint32_t i = 0; i < m->nexports; i++) {
        if (m->exports[i].kind == WM_KIND_FUNC && m->exports[i].index == f->index) {
            set_func_name(err, m->exports[i].name);
            return;
        }
    }
}

static wb_status report(wm_exec *ex, wb_status st, wb_error *err) {
    if (!err) return st;
    wb_error_clear(err);
    err->status = st;
    if (st == WB_ERR_EXIT) {
        err->exit_code = ex->exit_code;
        snprintf(err->message, sizeof err->message, "exit with code %d", ex->exit_code);
        return st;
    }
    if (st != WB_ERR_TRAP) {
        snprintf(err->message, sizeof err->message, "%s", ex->host_message);
        return st;
    }
    err->trap = ex->trap;
    if (ex->trap == WB_TRAP_HOST)
        snprintf(err->message, sizeof err->message, "%s", ex->host_message);
    else if (ex->trap == WB_TRAP_UNINITIALIZED_ELEMENT || ex->trap == WB_TRAP_UNDEFINED_ELEMENT)
        snprintf(err->message, sizeof err->message, "%s %u", wb_trap_message(ex->trap),
                 ex->trap_detail);
    else
        snprintf(err->message, sizeof err->message, "%s", wb_trap_message(ex->trap));
    wb_func *f = ex->trap_func;
    if (f && f->inst) {
        err->func_index = f->index;
        fill_func_name(err, f);
        if (ex->trap_offset != WB_NO_OFFSET)
            err->offset = ex->trap_offset;
        else if (f->code && ex->trap_pc && ex->trap_pc >= f->code->code &&
            ex->trap_pc < f->code->code + f->code->ncode)
            err->offset = wm_lowered_offset(f->code, (uint32_t)(ex->trap_pc - f->code->code));
    }
    return st;
}

wb_status wm_exec_call(wm_exec *ex, wb_func *f, wb_error *err) {
    wm_slot *const saved_top = ex->stack_top;
    wm_frame *const saved_frames = ex->frame_top;
    sigjmp_buf *const saved_jmp = ex->jmp;
    wm_exec *const saved_current = current_exec;
    const sig_atomic_t saved_in = ex->in_wasm;
    sigjmp_buf jb;
    volatile wb_status st = WB_OK;

    ex->trap = WB_TRAP_NONE;
    ex->trap_func = NULL;
    ex->trap_pc = NULL;
    ex->trap_offset = WB_NO_OFFSET;
    if (ex->depth >= MAX_ENTRY_DEPTH) {
        ex->trap = WB_TRAP_STACK_EXHAUSTED;
        ex->trap_func = f;
        return report(ex, WB_ERR_TRAP, err);
    }
    bool native = f->aot_code && !ex->fuel_limited;
    if (!f->host && !native) {
        wb_status pst = wm_func_prepare(f, err);
        if (pst != WB_OK) return pst;
        if (saved_top + f->code->nslots > ex->stack_end) {
            ex->trap = WB_TRAP_STACK_EXHAUSTED;
            ex->trap_func = f;
            return report(ex, WB_ERR_TRAP, err);
        }
    }
    ex->depth++;
    switch (sigsetjmp(jb, 0)) {
    case 0:
        ex->jmp = &jb;
        current_exec = ex;
        if (f->host) {
            st = wm_call_host(ex, f, NULL, saved_top);
        } else if (native) {
            wm_aot_enter(ex, f, saved_top);
            st = WB_OK;
        } else {
            wm_lowered *l = f->code;
            if (l->nlocals > l->nparams)
                memset(saved_top + l->nparams, 0, (size_t)(l->nlocals - l->nparams) * sizeof(wm_slot));
            st = wm_interp(ex, f, saved_top, NULL);
        }
        break;
    case WM_JUMP_TRAP:
        /* Native code trapped, or a call it made failed; ex says why. */
        st = ex->jump_status;
        break;
    case WM_JUMP_STACK:
        ex->trap = WB_TRAP_STACK_EXHAUSTED;
        ex->trap_func = wm_aot_func_at(ex->store, ex->fault_pc);
        st = WB_ERR_TRAP;
        break;
    default: {
        /* A fault in a linear memory's guard region. */
        wb_func *at = wm_aot_func_at(ex->store, ex->fault_pc);
        if (at) {
            ex->trap_func = at;
            ex->trap_pc = NULL;
        }
        ex->trap = WB_TRAP_OOB_MEMORY;
        st = WB_ERR_TRAP;
        break;
    }
    }
    ex->depth--;
    ex->jmp = saved_jmp;
    current_exec = saved_current;
    ex->in_wasm = saved_in;
    ex->stack_top = saved_top;
    ex->frame_top = saved_frames;
    if (st == WB_OK) {
        wb_error_clear(err);
        return WB_OK;
    }
    if (ex->trap == WB_TRAP_INTERRUPTED) {
        ex->interrupt = 0;
        /* The limit was UINTPTR_MAX: native code of outer calls (if any)
         * gets this thread's back; else the next entry sets it. */
        wm_aot_rearm(ex);
    }
    return report(ex, st, err);
}

static bool val_matches(const wb_val *v, uint8_t type) { return (uint8_t)v->type == type; }

wb_status wb_func_call(wb_store *s, wb_func *f, const wb_val *args, size_t nargs,
                       wb_val *results, size_t nresults, wb_error *err) {
    wb_error_clear(err);
    const wm_functype *t = f->type;
    if (nargs != t->nparams || nresults != t->nresults)
        return wm_fail(err, WB_ERR_ARG, WB_NO_OFFSET, f->index,
                       "wrong number of arguments or results: expected %u and %u, got %zu and %zu",
                       t->nparams, t->nresults, nargs, nresults);
    for (size_t i = 0; i < nargs; i++)
        if (!val_matches(&args[i], t->params[i]))
            return wm_fail(err, WB_ERR_ARG, WB_NO_OFFSET, f->index,
                           "argument %zu has type %s, expected %s", i,
                           wb_valtype_name(args[i].type), wb_valtype_name((wb_valtype)t->params[i]));
    wm_exec *ex = &s->exec;
    size_t need = nargs > nresults ? nargs : nresults;
    if (ex->stack_top + need + 1 > ex->stack_end) {
        ex->trap = WB_TRAP_STACK_EXHAUSTED;
        ex->trap_func = f;
        ex->trap_pc = NULL;
        ex->trap_offset = WB_NO_OFFSET;
        return report(ex, WB_ERR_TRAP, err);
    }
    for (size_t i = 0; i < nargs; i++) val_to_slot(&args[i], &ex->stack_top[i]);
    wb_status st = wm_exec_call(ex, f, err);
    if (st != WB_OK) return st;
    for (size_t i = 0; i < nresults; i++) slot_to_val(&ex->stack_top[i], t->results[i], &results[i]);
    return WB_OK;
}

/* -------------------------------------------------------------- memories */

/* Large memories get transparent huge pages where the system offers them
 * on request: random access over a big heap then misses the TLB far less.
 * Asked once the memory is larger than HUGE_FROM, for the whole
 * reservation above it: the first 2 MiB stay small pages, so a small
 * program neither faults in (and zeroes) 2 MiB at a time nor pays the
 * system call. Advice only: failure is harmless. */
static void memory_advise(wb_memory *mem) {
#ifdef MADV_HUGEPAGE
    if (!mem->advised && mem->pages * PAGE_SIZE_WASM > HUGE_FROM) {
        madvise(mem->base + HUGE_FROM, mem->reserved - HUGE_FROM, MADV_HUGEPAGE);
        mem->advised = true;
    }
#else
    (void)mem;
#endif
}

static wb_status memory_make(wb_store *s, const wm_limits *lim, wb_memory **out, wb_error *err) {
    *out = NULL;
    const wb_config *cfg = &s->engine->config;
    if (lim->min > WM_MAX_PAGES || (lim->has_max && lim->max > WM_MAX_PAGES))
        return wm_fail(err, WB_ERR_ARG, WB_NO_OFFSET, WB_NO_INDEX,
                       "memory size must be at most 65536 pages (4GiB)");
    if (lim->min > cfg->max_memory_pages)
        return wm_fail(err, WB_ERR_NOMEM, WB_NO_OFFSET, WB_NO_INDEX,
                       "memory of %llu pages exceeds the configured limit of %u pages",
                       (unsigned long long)lim->min, cfg->max_memory_pages);
    wb_memory *mem = calloc(1, sizeof *mem);
    if (!mem) return nomem(err, "memory");
    mem->reserved = MEMORY_RESERVATION;
    void *p = mmap(NULL, mem->reserved, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        free(mem);
        return wm_fail(err, WB_ERR_NOMEM, WB_NO_OFFSET, WB_NO_INDEX,
                       "cannot reserve address space for a linear memory: %s", strerror(errno));
    }
    mem->base = p;
    mem->limits = *lim;
    mem->max_pages = lim->has_max ? lim->max : WM_MAX_PAGES;
    if (mem->max_pages > cfg->max_memory_pages) mem->max_pages = cfg->max_memory_pages;
    if (lim->min && mprotect(p, (size_t)lim->min * PAGE_SIZE_WASM, PROT_READ | PROT_WRITE) != 0) {
        munmap(p, mem->reserved);
        free(mem);
        return nomem(err, "linear memory");
    }
    mem->pages = lim->min;
    memory_advise(mem);
    if (!vec_push(&s->memories, mem)) {
        memory_free(mem);
        return nomem(err, "memory");
    }
    *out = mem;
    return WB_OK;
}

wb_status wb_memory_new(wb_store *s, const wb_memorytype *type, wb_memory **out, wb_error *err) {
    wm_limits lim = {type->limits.min, type->limits.max, type->limits.has_max};
    return memory_make(s, &lim, out, err);
}

wb_memorytype wb_memory_type(const wb_memory *mem) {
    wb_memorytype t = to_memtype(&mem->limits);
    t.limits.min = mem->pages;
    return t;
}

uint8_t *wb_memory_data(wb_memory *mem) { return mem->base; }
size_t wb_memory_size(const wb_memory *mem) { return (size_t)mem->pages * PAGE_SIZE_WASM; }
uint32_t wb_memory_pages(const wb_memory *mem) { return (uint32_t)mem->pages; }

int64_t wm_memory_grow_raw(wb_memory *mem, uint64_t delta) {
    uint64_t old = mem->pages;
    if (delta == 0) return (int64_t)old;
    if (delta > mem->max_pages || old + delta > mem->max_pages) return -1;
    if (mprotect(mem->base + old * PAGE_SIZE_WASM, (size_t)delta * PAGE_SIZE_WASM,
                 PROT_READ | PROT_WRITE) != 0)
        return -1;
    mem->pages = old + delta;
    memory_advise(mem);
    return (int64_t)old;
}

wb_status wb_memory_grow(wb_memory *mem, uint32_t delta, uint32_t *old_pages) {
    int64_t r = wm_memory_grow_raw(mem, delta);
    if (r < 0) return WB_ERR_NOMEM;
    if (old_pages) *old_pages = (uint32_t)r;
    return WB_OK;
}

/* ---------------------------------------------------------------- tables */

static wb_status table_make(wb_store *s, const wm_tabletype *tt, void *init, wb_table **out,
                            wb_error *err) {
    *out = NULL;
    const wb_config *cfg = &s->engine->config;
    if (tt->lim.min > cfg->max_table_elems)
        return wm_fail(err, WB_ERR_NOMEM, WB_NO_OFFSET, WB_NO_INDEX,
                       "table of %llu elements exceeds the limit of %u",
                       (unsigned long long)tt->lim.min, cfg->max_table_elems);
    wb_table *t = calloc(1, sizeof *t);
    if (!t) return nomem(err, "table");
    t->elemtype = tt->elem;
    t->limits = tt->lim;
    t->size = (uint32_t)tt->lim.min;
    uint64_t max = tt->lim.has_max ? tt->lim.max : UINT32_MAX;
    t->max = (uint32_t)(max < cfg->max_table_elems ? max : cfg->max_table_elems);
    t->elems = calloc(t->size ? t->size : 1, sizeof(void *));
    if (!t->elems || !vec_push(&s->tables, t)) {
        table_free(t);
        return nomem(err, "table elements");
    }
    for (uint32_t i = 0; i < t->size; i++) t->elems[i] = init;
    *out = t;
    return WB_OK;
}

wb_status wb_table_new(wb_store *s, const wb_tabletype *type, wb_val init, wb_table **out,
                       wb_error *err) {
    wm_tabletype tt;
    tt.elem = (uint8_t)type->elem;
    tt.lim.min = type->limits.min;
    tt.lim.max = type->limits.max;
    tt.lim.has_max = type->limits.has_max;
    return table_make(s, &tt, init.of.ref, out, err);
}

wb_tabletype wb_table_type(const wb_table *t) {
    wm_tabletype tt = {t->elemtype, t->limits};
    wb_tabletype r = to_tabletype(&tt);
    r.limits.min = t->size;
    return r;
}

uint32_t wb_table_size(const wb_table *t) { return t->size; }

bool wb_table_get(const wb_table *t, uint32_t index, wb_val *out) {
    if (index >= t->size) return false;
    memset(out, 0, sizeof *out);
    out->type = (wb_valtype)t->elemtype;
    out->of.ref = t->elems[index];
    return true;
}

bool wb_table_set(wb_table *t, uint32_t index, wb_val val) {
    if (index >= t->size) return false;
    t->elems[index] = val.of.ref;
    return true;
}

bool wm_table_grow_raw(wb_table *t, uint32_t delta, void *init, uint32_t *old) {
    uint32_t size = t->size;
    if ((uint64_t)size + delta > t->max) return false;
    if (delta) {
        void **e = realloc(t->elems, ((size_t)size + delta) * sizeof *e);
        if (!e) return false;
        t->elems = e;
        for (uint32_t i = 0; i < delta; i++) e[size + i] = init;
        t->size = size + delta;
    }
    *old = size;
    return true;
}

wb_status wb_table_grow(wb_table *t, uint32_t delta, wb_val init, uint32_t *old_size) {
    uint32_t old;
    if (!wm_table_grow_raw(t, delta, init.of.ref, &old)) return WB_ERR_NOMEM;
    if (old_size) *old_size = old;
    return WB_OK;
}

/* --------------------------------------------------------------- globals */

static wb_status global_make(wb_store *s, uint8_t type, bool mut, wm_slot val, wb_global **out,
                             wb_error *err) {
    wb_global *g = calloc(1, sizeof *g);
    if (!g || !vec_push(&s->globals, g)) {
        free(g);
        return nomem(err, "global");
    }
    g->type = type;
    g->mut = mut;
    g->val = val;
    *out = g;
    return WB_OK;
}

wb_status wb_global_new(wb_store *s, const wb_globaltype *type, wb_val init, wb_global **out,
                        wb_error *err) {
    *out = NULL;
    if (init.type != type->type)
        return wm_fail(err, WB_ERR_ARG, WB_NO_OFFSET, WB_NO_INDEX, "global initial value has the wrong type");
    wm_slot v;
    val_to_slot(&init, &v);
    return global_make(s, (uint8_t)type->type, type->mutable_, v, out, err);
}

wb_globaltype wb_global_type(const wb_global *g) {
    wb_globaltype t = {(wb_valtype)g->type, g->mut};
    return t;
}

void wb_global_get(const wb_global *g, wb_val *out) { slot_to_val(&g->val, g->type, out); }

wb_status wb_global_set(wb_global *g, wb_val val) {
    if (!g->mut || (uint8_t)val.type != g->type) return WB_ERR_ARG;
    val_to_slot(&val, &g->val);
    return WB_OK;
}

/* ------------------------------------------------------------- instances */

static wm_slot eval_const(const wb_instance *inst, const wm_constexpr *e) {
    wm_slot v;
    v.u64 = 0;
    switch (e->op) {
    case 0x41: v.u64 = (uint32_t)e->value; break;
    case 0x42: v.u64 = e->value; break;
    case 0x43: v.u64 = (uint32_t)e->value; break;
    case 0x44: v.u64 = e->value; break;
    case 0x23: v = inst->globals[e->index]->val; break;
    case 0xD0: v.ref = NULL; break;
    case 0xD2: v.ref = inst->funcs[e->index]; break;
    default: break;
    }
    return v;
}

static bool limits_match(const wm_limits *actual, const wm_limits *want) {
    if (actual->min < want->min) return false;
    if (want->has_max) {
        if (!actual->has_max || actual->max > want->max) return false;
    }
    return true;
}

static wb_status link_fail(wb_error *err, const wb_module *mod, uint32_t i, const char *why) {
    return wm_fail(err, WB_ERR_LINK, WB_NO_OFFSET, WB_NO_INDEX,
                   "incompatible import type for \"%s\" \"%s\": %s", mod->import_modules[i],
                   mod->import_names[i], why);
}

static wb_status instance_trap(wb_store *s, wb_trap trap, wb_error *err) {
    wm_exec *ex = &s->exec;
    ex->trap = trap;
    ex->trap_func = NULL;
    ex->trap_pc = NULL;
    return report(ex, WB_ERR_TRAP, err);
}

wb_status wb_instance_new(wb_store *s, const wb_module *mod, const wb_extern *imports,
                          size_t nimports, wb_instance **out, wb_error *err) {
    wb_error_clear(err);
    *out = NULL;
    const wm_module *m = mod->m;
    if (nimports != m->nimports)
        return wm_fail(err, WB_ERR_LINK, WB_NO_OFFSET, WB_NO_INDEX,
                       "module needs %u imports, %zu given", m->nimports, nimports);

    /* Check every import before creating anything. */
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wm_import *im = &m->imports[i];
        const wb_extern *x = &imports[i];
        if ((uint8_t)x->kind != im->kind) return link_fail(err, mod, i, "wrong kind");
        switch (im->kind) {
        case WM_KIND_FUNC:
            if (!x->of.func || !functype_equal(x->of.func->type, &m->types[im->desc.functype]))
                return link_fail(err, mod, i, "function type differs");
            break;
        case WM_KIND_TABLE: {
            const wb_table *t = x->of.table;
            wm_limits actual = {t->size, t->limits.max, t->limits.has_max};
            if (t->elemtype != im->desc.table.elem || !limits_match(&actual, &im->desc.table.lim))
                return link_fail(err, mod, i, "table type differs");
            break;
        }
        case WM_KIND_MEMORY: {
            const wb_memory *mm = x->of.memory;
            wm_limits actual = {mm->pages, mm->limits.max, mm->limits.has_max};
            if (!limits_match(&actual, &im->desc.mem))
                return link_fail(err, mod, i, "memory limits differ");
            break;
        }
        case WM_KIND_GLOBAL:
            if (x->of.global->type != im->desc.global.type || x->of.global->mut != im->desc.global.mut)
                return link_fail(err, mod, i, "global type differs");
            break;
        }
    }

    wb_instance *inst = calloc(1, sizeof *inst);
    if (!inst || !vec_push(&s->instances, inst)) {
        free(inst);
        return nomem(err, "instance");
    }
    inst->store = s;
    inst->module = mod;
    inst->m = m;
    inst->funcs = calloc(m->nfuncs + 1, sizeof *inst->funcs);
    inst->tables = calloc(m->ntables + 1, sizeof *inst->tables);
    inst->mems = calloc(m->nmems + 1, sizeof *inst->mems);
    inst->globals = calloc(m->nglobals + 1, sizeof *inst->globals);
    inst->type_ids = calloc(m->ntypes + 1, sizeof *inst->type_ids);
    inst->elems = calloc(m->nelems + 1, sizeof *inst->elems);
    inst->data_dropped = calloc(m->ndatas + 1, 1);
    if (!inst->funcs || !inst->tables || !inst->mems || !inst->globals || !inst->type_ids ||
        !inst->elems || !inst->data_dropped)
        return nomem(err, "instance");
    for (uint32_t i = 0; i < m->ntypes; i++)
        if (wm_store_intern_type(s, &m->types[i], &inst->type_ids[i]) != WB_OK)
            return nomem(err, "types");

    uint32_t fi = 0, ti = 0, mi = 0, gi = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        switch (m->imports[i].kind) {
        case WM_KIND_FUNC: inst->funcs[fi++] = imports[i].of.func; break;
        case WM_KIND_TABLE: inst->tables[ti++] = imports[i].of.table; break;
        case WM_KIND_MEMORY: inst->mems[mi++] = imports[i].of.memory; break;
        case WM_KIND_GLOBAL: inst->globals[gi++] = imports[i].of.global; break;
        }
    }
    for (uint32_t i = m->nimported_funcs; i < m->nfuncs; i++) {
        wb_func *f = calloc(1, sizeof *f);
        if (!f || !vec_push(&s->funcs, f)) {
            free(f);
            return nomem(err, "function");
        }
        f->inst = inst;
        f->index = i;
        f->type = wm_func_type(m, i);
        f->pub = mod->functypes[m->func_types[i]];
        f->type_id = inst->type_ids[m->func_types[i]];
        f->code = m->lowered[i - m->nimported_funcs];
        inst->funcs[i] = f;
    }
    for (uint32_t i = m->nimported_tables; i < m->ntables; i++) {
        wb_status st = table_make(s, &m->tables[i], NULL, &inst->tables[i], err);
        if (st != WB_OK) return st;
    }
    for (uint32_t i = m->nimported_mems; i < m->nmems; i++) {
        wb_status st = memory_make(s, &m->mems[i], &inst->mems[i], err);
        if (st != WB_OK) return st;
    }
    inst->mem0 = m->nmems ? inst->mems[0] : NULL;
    for (uint32_t i = m->nimported_globals; i < m->nglobals; i++) {
        wm_slot v = eval_const(inst, &m->global_inits[i - m->nimported_globals]);
        wb_status st = global_make(s, m->globals[i].type, m->globals[i].mut, v, &inst->globals[i], err);
        if (st != WB_OK) return st;
    }
    /* Native code, unless fuel is metered: only the interpreter counts it. */
    if (mod->aot && !s->exec.fuel_limited) {
        wb_status st = wm_aot_instance_bind(inst, err);
        if (st != WB_OK) return st;
    }
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wm_elem *e = &m->elems[i];
        wm_elemrt *rt = &inst->elems[i];
        rt->refs = calloc(e->count ? e->count : 1, sizeof(void *));
        if (!rt->refs) return nomem(err, "element segment");
        for (uint32_t k = 0; k < e->count; k++) rt->refs[k] = eval_const(inst, &e->items[k]).ref;
        rt->count = e->count;
    }

    /* Active element segments, then active data segments, in order; each
     * is dropped once applied. A failure leaves earlier writes in place. */
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wm_elem *e = &m->elems[i];
        wm_elemrt *rt = &inst->elems[i];
        if (e->mode == WM_SEG_ACTIVE) {
            uint32_t off = eval_const(inst, &e->offset).u32;
            wb_table *t = inst->tables[e->table];
            if ((uint64_t)off + e->count > t->size) return instance_trap(s, WB_TRAP_OOB_TABLE, err);
            if (e->count) memcpy(t->elems + off, rt->refs, (size_t)e->count * sizeof(void *));
        }
        if (e->mode != WM_SEG_PASSIVE) rt->count = 0;
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wm_data *d = &m->datas[i];
        if (d->mode != WM_SEG_ACTIVE) continue;
        uint32_t off = eval_const(inst, &d->offset).u32;
        wb_memory *mem = inst->mems[d->mem];
        if ((uint64_t)off + d->len > mem->pages * PAGE_SIZE_WASM)
            return instance_trap(s, WB_TRAP_OOB_MEMORY, err);
        if (d->len) memcpy(mem->base + off, d->bytes, d->len);
        inst->data_dropped[i] = 1;
    }
    if (m->has_start) {
        wb_status st = wm_exec_call(&s->exec, inst->funcs[m->start], err);
        if (st != WB_OK) return st;
    }
    *out = inst;
    return WB_OK;
}

static wb_extern extern_of(const wb_instance *inst, const wm_export *e) {
    wb_extern x;
    x.kind = (wb_externkind)e->kind;
    switch (e->kind) {
    case WM_KIND_FUNC: x.of.func = inst->funcs[e->index]; break;
    case WM_KIND_TABLE: x.of.table = inst->tables[e->index]; break;
    case WM_KIND_MEMORY: x.of.memory = inst->mems[e->index]; break;
    default: x.of.global = inst->globals[e->index]; break;
    }
    return x;
}

bool wb_instance_export(const wb_instance *inst, const char *name, wb_extern *out) {
    const wm_module *m = inst->m;
    size_t len = strlen(name);
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wm_export *e = &m->exports[i];
        if (e->name.len == len && memcmp(e->name.ptr, name, len) == 0) {
            *out = extern_of(inst, e);
            return true;
        }
    }
    return false;
}

size_t wb_instance_export_count(const wb_instance *inst) { return inst->m->nexports; }

bool wb_instance_export_nth(const wb_instance *inst, size_t i, const char **name, wb_extern *out) {
    if (i >= inst->m->nexports) return false;
    if (name) *name = inst->module->export_names[i];
    *out = extern_of(inst, &inst->m->exports[i]);
    return true;
}

const wb_module *wb_instance_module(const wb_instance *inst) { return inst->module; }

/* ---------------------------------------------------------------- linker */

/* Definitions are kept in order; a lookup walks them newest first. A host
 * function defined with wb_linker_define_func is an overload: an import
 * takes the newest definition of its name whose type is its own, so one
 * name can carry several signatures (WasmEdge's socket ABI has such). Any
 * other definition hides everything older of the same name. */
typedef struct link_entry {
    char *module, *name;
    size_t module_len, name_len;
    wb_extern ext;
    bool overload;
} link_entry;

struct wb_linker {
    wb_store *store;
    link_entry *entries;
    size_t len, cap;
};

wb_status wb_linker_new(wb_store *store, wb_linker **out, wb_error *err) {
    *out = calloc(1, sizeof **out);
    if (!*out) return nomem(err, "linker");
    (*out)->store = store;
    return WB_OK;
}

void wb_linker_delete(wb_linker *l) {
    if (!l) return;
    for (size_t i = 0; i < l->len; i++) {
        free(l->entries[i].module);
        free(l->entries[i].name);
    }
    free(l->entries);
    free(l);
}

static wb_status linker_add(wb_linker *l, const char *module, size_t mlen, const char *name,
                            size_t nlen, wb_extern ext, bool overload) {
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        link_entry *e = realloc(l->entries, cap * sizeof *e);
        if (!e) return WB_ERR_NOMEM;
        l->entries = e;
        l->cap = cap;
    }
    link_entry *e = &l->entries[l->len];
    e->module = malloc(mlen + 1);
    e->name = malloc(nlen + 1);
    if (!e->module || !e->name) {
        free(e->module);
        free(e->name);
        return WB_ERR_NOMEM;
    }
    memcpy(e->module, module, mlen);
    e->module[mlen] = '\0';
    memcpy(e->name, name, nlen);
    e->name[nlen] = '\0';
    e->module_len = mlen;
    e->name_len = nlen;
    e->ext = ext;
    e->overload = overload;
    l->len++;
    return WB_OK;
}

wb_status wb_linker_define(wb_linker *l, const char *module, const char *name, wb_extern ext) {
    return linker_add(l, module, strlen(module), name, strlen(name), ext, false);
}

wb_status wb_linker_define_instance(wb_linker *l, const char *module, const wb_instance *inst) {
    const wm_module *m = inst->m;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wm_export *e = &m->exports[i];
        wb_status st = linker_add(l, module, strlen(module), e->name.ptr, e->name.len, extern_of(inst, e), false);
        if (st != WB_OK) return st;
    }
    return WB_OK;
}

wb_status wb_linker_define_func(wb_linker *l, const char *module, const char *name,
                                const wb_functype *type, wb_host_func fn, void *env) {
    wb_func *f;
    wb_status st = wb_func_new(l->store, type, fn, env, NULL, &f, NULL);
    if (st != WB_OK) return st;
    wb_extern x;
    x.kind = WB_EXTERN_FUNC;
    x.of.func = f;
    return linker_add(l, module, strlen(module), name, strlen(name), x, true);
}

static bool link_entry_is(const link_entry *e, const char *module, size_t mlen, const char *name,
                          size_t nlen) {
    return e->module_len == mlen && e->name_len == nlen && memcmp(e->module, module, mlen) == 0 &&
           memcmp(e->name, name, nlen) == 0;
}

bool wb_linker_get(const wb_linker *l, const char *module, size_t mlen, const char *name,
                   size_t nlen, wb_extern *out) {
    for (size_t i = l->len; i-- > 0;) {
        if (link_entry_is(&l->entries[i], module, mlen, name, nlen)) {
            *out = l->entries[i].ext;
            return true;
        }
    }
    return false;
}

/* Appends printf-style text to buf at *at, truncating quietly. */
static void append(char *buf, size_t size, size_t *at, const char *fmt, ...) {
    if (*at >= size) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *at, size - *at, fmt, ap);
    va_end(ap);
    if (n > 0) *at += (size_t)n < size - *at ? (size_t)n : size - *at - 1;
}

/* Appends a function type as "(i32, i32) -> i32". */
static void functype_format(const wm_functype *t, char *buf, size_t size, size_t *at) {
    append(buf, size, at, "(");
    for (uint32_t i = 0; i < t->nparams; i++)
        append(buf, size, at, "%s%s", i ? ", " : "", wb_valtype_name((wb_valtype)t->params[i]));
    append(buf, size, at, ") ->");
    for (uint32_t i = 0; i < t->nresults; i++)
        append(buf, size, at, " %s", wb_valtype_name((wb_valtype)t->results[i]));
    if (t->nresults == 0) append(buf, size, at, " ()");
}

/* Resolves import i of mod: the newest definition of its name, except
 * that overloads of another type are passed over for an older one of the
 * import's type. When overloads exist but none has that type, the error
 * names the import's type and every type defined. */
static wb_status linker_resolve(const wb_linker *l, const wb_module *mod, uint32_t i,
                                wb_extern *out, wb_error *err) {
    const wm_module *m = mod->m;
    const wm_import *im = &m->imports[i];
    const wm_functype *want = im->kind == WM_KIND_FUNC ? &m->types[im->desc.functype] : NULL;
    size_t overloads = 0;
    for (size_t k = l->len; k-- > 0;) {
        const link_entry *e = &l->entries[k];
        if (!link_entry_is(e, im->module.ptr, im->module.len, im->name.ptr, im->name.len))
            continue;
        bool fits = want && e->ext.kind == WB_EXTERN_FUNC && e->ext.of.func &&
                    functype_equal(e->ext.of.func->type, want);
        if (fits || !e->overload || !want) {
            if (!fits && overloads > 0) break;
            *out = e->ext;
            return WB_OK;
        }
        overloads++;
    }
    if (overloads == 0)
        return wm_fail(err, WB_ERR_LINK, WB_NO_OFFSET, WB_NO_INDEX,
                       "unknown import: \"%s\" \"%s\" is not defined", mod->import_modules[i],
                       mod->import_names[i]);
    char wanted[160], offered[400];
    size_t wat = 0, oat = 0;
    wanted[0] = offered[0] = '\0';
    functype_format(want, wanted, sizeof wanted, &wat);
    for (size_t k = l->len; k-- > 0;) {
        const link_entry *e = &l->entries[k];
        if (!e->overload ||
            !link_entry_is(e, im->module.ptr, im->module.len, im->name.ptr, im->name.len))
            continue;
        if (oat > 0) append(offered, sizeof offered, &oat, " or ");
        functype_format(e->ext.of.func->type, offered, sizeof offered, &oat);
    }
    return wm_fail(err, WB_ERR_LINK, WB_NO_OFFSET, WB_NO_INDEX,
                   "incompatible import type for \"%s\" \"%s\": the module imports %s, the host "
                   "defines %s",
                   mod->import_modules[i], mod->import_names[i], wanted, offered);
}

wb_status wb_linker_instantiate(wb_linker *l, const wb_module *mod, wb_instance **out,
                                wb_error *err) {
    const wm_module *m = mod->m;
    *out = NULL;
    wb_extern *imports = calloc(m->nimports + 1, sizeof *imports);
    if (!imports) return nomem(err, "imports");
    for (uint32_t i = 0; i < m->nimports; i++) {
        wb_status st = linker_resolve(l, mod, i, &imports[i], err);
        if (st != WB_OK) {
            free(imports);
            return st;
        }
    }
    wb_status st = wb_instance_new(l->store, mod, imports, m->nimports, out, err);
    free(imports);
    return st;
}
