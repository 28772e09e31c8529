/*
 * fuzz_module.c - libFuzzer target: decode, validate, instantiate and run
 * arbitrary bytes as a WebAssembly module.
 *
 * Every input goes through wb_module_new. A module that validates is
 * instantiated in a fresh store whose imports are all satisfied by dummies
 * of exactly the imported type, and then every exported function is called
 * with zero arguments. Fuel bounds the running time, so an infinite loop in
 * the input is a trap rather than a libFuzzer timeout. Traps are expected
 * and ignored; what the fuzzer looks for is crashes, sanitizer reports and
 * leaks in the engine.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <wasmbox.h>

/* Enough to run meaningful code, small enough that each input takes at
 * most milliseconds. */
#define FUZZ_FUEL 100000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One engine for the whole run: it is configuration only, and making it
 * per input would just slow the fuzzer down. */
static wb_engine *engine;

static wb_engine *get_engine(void)
{
    if (!engine) {
        wb_config cfg;
        wb_config_default(&cfg);
        /* Keep a module that declares a huge memory or table from hitting
         * the fuzzer's RSS limit: those are resource limits, not bugs. */
        if (cfg.max_memory_pages > 1024)
            cfg.max_memory_pages = 1024; /* 64 MiB */
        if (cfg.max_table_elems > 100000)
            cfg.max_table_elems = 100000;
        if (wb_engine_new(&cfg, &engine, NULL) != WB_OK)
            abort(); /* nothing can be fuzzed without an engine */
    }
    return engine;
}

static wb_val zero_value(wb_valtype t)
{
    wb_val v;
    memset(&v, 0, sizeof v); /* 0, 0.0, all-zero v128, null reference */
    v.type = t;
    return v;
}

/* The dummy host function's env: its result types, so it can answer with
 * zeros of the right types. Freed by the store's finalizer call. */
typedef struct dummy_results {
    uint32_t n;
    wb_valtype types[];
} dummy_results;

static wb_status dummy_func(wb_caller *caller, void *env, const wb_val *args,
                            wb_val *results)
{
    (void)caller;
    (void)args;
    const dummy_results *r = env;
    for (uint32_t i = 0; i < r->n; i++)
        results[i] = zero_value(r->types[i]);
    return WB_OK;
}

/* Makes an extern of exactly the import's type in store. */
static bool make_dummy(wb_store *store, const wb_importdesc *imp,
                       wb_extern *out)
{
    out->kind = imp->kind;
    switch (imp->kind) {
    case WB_EXTERN_FUNC: {
        const wb_functype *ft = &imp->type.func;
        dummy_results *r =
            malloc(sizeof *r + (size_t)ft->nresults * sizeof r->types[0]);
        if (!r)
            return false;
        r->n = ft->nresults;
        for (uint32_t i = 0; i < ft->nresults; i++)
            r->types[i] = ft->results[i];
        if (wb_func_new(store, ft, dummy_func, r, free, &out->of.func, NULL) !=
            WB_OK) {
            free(r); /* not created, so the store will not finalize it */
            return false;
        }
        return true;
    }
    case WB_EXTERN_TABLE:
        return wb_table_new(store, &imp->type.table,
                            zero_value(imp->type.table.elem), &out->of.table,
                            NULL) == WB_OK;
    case WB_EXTERN_MEMORY:
        return wb_memory_new(store, &imp->type.memory, &out->of.memory,
                             NULL) == WB_OK;
    case WB_EXTERN_GLOBAL:
        return wb_global_new(store, &imp->type.global,
                             zero_value(imp->type.global.type),
                             &out->of.global, NULL) == WB_OK;
    }
    return false;
}

/* Calls every exported function with zero arguments, ignoring traps. */
static void call_exports(wb_store *store, const wb_instance *inst)
{
    size_t n = wb_instance_export_count(inst);
    for (size_t i = 0; i < n; i++) {
        const char *name;
        wb_extern ext;
        if (!wb_instance_export_nth(inst, i, &name, &ext) ||
            ext.kind != WB_EXTERN_FUNC)
            continue;
        wb_functype ft = wb_func_type(ext.of.func);
        wb_val *args = calloc(ft.nparams ? ft.nparams : 1, sizeof *args);
        wb_val *results = calloc(ft.nresults ? ft.nresults : 1,
                                 sizeof *results);
        if (args && results) {
            for (uint32_t k = 0; k < ft.nparams; k++)
                args[k] = zero_value(ft.params[k]);
            wb_error err;
            (void)wb_func_call(store, ext.of.func, args, ft.nparams, results,
                               ft.nresults, &err);
        }
        free(args);
        free(results);
    }
}

static void run_module(const wb_module *module)
{
    wb_store *store = NULL;
    wb_linker *linker = NULL;
    wb_extern *imports = NULL;
    if (wb_store_new(get_engine(), &store, NULL) != WB_OK)
        return;
    wb_store_set_fuel(store, FUZZ_FUEL);
    if (wb_linker_new(store, &linker, NULL) != WB_OK)
        goto out;

    size_t nimports = wb_module_import_count(module);
    imports = calloc(nimports ? nimports : 1, sizeof *imports);
    if (!imports)
        goto out;
    for (size_t i = 0; i < nimports; i++) {
        wb_importdesc imp;
        if (!wb_module_import(module, i, &imp) ||
            !make_dummy(store, &imp, &imports[i]))
            goto out;
        (void)wb_linker_define(linker, imp.module, imp.name, imports[i]);
    }

    wb_instance *inst = NULL;
    wb_error err;
    wb_status st = wb_linker_instantiate(linker, module, &inst, &err);
    if (st == WB_ERR_LINK)
        /* The linker keys by C-string name and keeps the last definition,
         * so a module importing one name twice with different types, or a
         * name with a NUL byte, cannot link through it. The positional API
         * still reaches the rest of the engine with such a module. */
        st = wb_instance_new(store, module, imports, nimports, &inst, &err);
    if (st == WB_OK && inst)
        call_exports(store, inst);

out:
    free(imports);
    if (linker)
        wb_linker_delete(linker);
    wb_store_delete(store); /* frees every object made above */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wb_module *module = NULL;
    wb_error err;
    if (wb_module_new(get_engine(), data, size, &module, &err) == WB_OK) {
        run_module(module);
        /* after the store: the module must outlive its instances */
        wb_module_delete(module);
    }
    return 0;
}
