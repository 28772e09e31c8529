/*
 * api_test.c - exercises the public embedding API (include/wasmbox.h) on a
 * module compiled from api.wat at build time: host functions and
 * re-entry, fuel, interruption from another thread, memories, globals,
 * tables, import/export listing, link errors and error records.
 *
 * Usage: wb-api-test api.wasm. Prints one line per check and ends with
 * "N passed, N failed".
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wasmbox.h"

static int passed, failed;

#define CHECK(cond, ...)                                   \
    do {                                                   \
        if (cond) {                                        \
            passed++;                                      \
        } else {                                           \
            failed++;                                      \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);    \
            printf(__VA_ARGS__);                           \
            printf("\n");                                  \
        }                                                  \
    } while (0)

typedef struct fixture {
    wb_engine *engine;
    wb_module *module;
    wb_store *store;
    wb_instance *inst;
    wb_global *counter;
} fixture;

static fixture fx;

static wb_func *export_func(const char *name) {
    wb_extern x;
    if (!wb_instance_export(fx.inst, name, &x) || x.kind != WB_EXTERN_FUNC) {
        printf("FAIL: no exported function %s\n", name);
        exit(1);
    }
    return x.of.func;
}

/* host.add3(i32, i64, f64) -> f64 */
static wb_status host_add3(wb_caller *c, void *env, const wb_val *args, wb_val *res) {
    (void)c;
    (void)env;
    res[0] = WB_VAL_F64((double)args[0].of.i32 + (double)args[1].of.i64 + args[2].of.f64);
    return WB_OK;
}

/* host.callback(i32) -> i32: calls the guest's "double" again. */
static wb_status host_callback(wb_caller *c, void *env, const wb_val *args, wb_val *res) {
    (void)env;
    wb_error err;
    wb_val out;
    wb_status st = wb_func_call(wb_caller_store(c), export_func("double"), args, 1, &out, 1, &err);
    if (st != WB_OK) return wb_caller_trap(c, "callback failed");
    CHECK(wb_caller_memory(c) != NULL, "caller has a memory");
    res[0] = WB_VAL_I32(out.of.i32 + 1);
    return WB_OK;
}

static wb_status host_fail(wb_caller *c, void *env, const wb_val *args, wb_val *res) {
    (void)env;
    (void)args;
    (void)res;
    return wb_caller_trap(c, "host says no");
}

static wb_status host_leave(wb_caller *c, void *env, const wb_val *args, wb_val *res) {
    (void)env;
    (void)res;
    return wb_caller_exit(c, args[0].of.i32);
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void setup(const uint8_t *bytes, size_t len, uint32_t max_pages) {
    wb_error err;
    wb_config cfg;
    wb_config_default(&cfg);
    cfg.max_memory_pages = max_pages;
    cfg.max_call_depth = 1000;
    if (wb_engine_new(&cfg, &fx.engine, &err) || wb_module_new(fx.engine, bytes, len, &fx.module, &err) ||
        wb_store_new(fx.engine, &fx.store, &err)) {
        printf("FAIL: setup: %s\n", err.message);
        exit(1);
    }
    wb_linker *l;
    wb_linker_new(fx.store, &l, &err);
    wb_valtype p3[] = {WB_I32, WB_I64, WB_F64}, r1[] = {WB_F64}, i1[] = {WB_I32};
    wb_functype t_add3 = {3, 1, p3, r1}, t_cb = {1, 1, i1, i1}, t_void = {0, 0, NULL, NULL},
                t_leave = {1, 0, i1, NULL};
    wb_linker_define_func(l, "host", "add3", &t_add3, host_add3, NULL);
    wb_linker_define_func(l, "host", "callback", &t_cb, host_callback, NULL);
    wb_linker_define_func(l, "host", "fail", &t_void, host_fail, NULL);
    wb_linker_define_func(l, "host", "leave", &t_leave, host_leave, NULL);
    /* A second host function of the same name and another type is an
     * overload: the import still links to the one of its own type. */
    wb_linker_define_func(l, "host", "add3", &t_void, host_fail, NULL);
    wb_globaltype gt = {WB_I32, true};
    wb_global_new(fx.store, &gt, WB_VAL_I32(41), &fx.counter, &err);
    wb_extern gx = {.kind = WB_EXTERN_GLOBAL, .of.global = fx.counter};
    wb_linker_define(l, "host", "counter", gx);

    /* A missing import is a link error naming it. */
    wb_linker *empty;
    wb_linker_new(fx.store, &empty, &err);
    wb_instance *none;
    wb_status st = wb_linker_instantiate(empty, fx.module, &none, &err);
    CHECK(st == WB_ERR_LINK && strstr(err.message, "unknown import") && strstr(err.message, "add3"),
          "missing import: %d %s", st, err.message);
    /* A function of the wrong type is an incompatible import. */
    wb_linker_define_func(empty, "host", "add3", &t_void, host_fail, NULL);
    st = wb_linker_instantiate(empty, fx.module, &none, &err);
    CHECK(st == WB_ERR_LINK &&
              strstr(err.message, "the module imports (i32, i64, f64) -> f64, the host defines () -> ()"),
          "wrong import type gives a link error naming both types: %d %s", st, err.message);
    wb_linker_delete(empty);

    st = wb_linker_instantiate(l, fx.module, &fx.inst, &err);
    if (st != WB_OK) {
        printf("FAIL: instantiate: %s\n", err.message);
        exit(1);
    }
    wb_linker_delete(l);
}

static void teardown(void) {
    wb_store_delete(fx.store);
    wb_module_delete(fx.module);
    wb_engine_delete(fx.engine);
    memset(&fx, 0, sizeof fx);
}

static void test_listing(void) {
    CHECK(wb_module_import_count(fx.module) == 5, "5 imports");
    wb_importdesc im;
    CHECK(wb_module_import(fx.module, 0, &im) && im.kind == WB_EXTERN_FUNC && !strcmp(im.module, "host") &&
              !strcmp(im.name, "add3") && im.type.func.nparams == 3 && im.type.func.params[1] == WB_I64 &&
              im.type.func.results[0] == WB_F64,
          "import 0 is host.add3 (i32 i64 f64) -> f64");
    CHECK(wb_module_import(fx.module, 4, &im) && im.kind == WB_EXTERN_GLOBAL && im.type.global.mutable_,
          "import 4 is a mutable global");
    CHECK(!wb_module_import(fx.module, 5, &im), "no import 5");
    size_t n = wb_module_export_count(fx.module);
    bool saw_mem = false;
    for (size_t i = 0; i < n; i++) {
        wb_exportdesc ex;
        CHECK(wb_module_export(fx.module, i, &ex), "export %zu", i);
        if (!strcmp(ex.name, "mem"))
            saw_mem = ex.kind == WB_EXTERN_MEMORY && ex.type.memory.limits.min == 1 &&
                      ex.type.memory.limits.has_max && ex.type.memory.limits.max == 4;
    }
    CHECK(saw_mem, "memory export with limits 1..4");
}

static void test_calls(void) {
    wb_error err;
    wb_val args[3] = {WB_VAL_I32(1), WB_VAL_I64(2), WB_VAL_F64(0.5)}, out[3];
    CHECK(wb_func_call(fx.store, export_func("call_add3"), args, 3, out, 1, &err) == WB_OK &&
              out[0].type == WB_F64 && out[0].of.f64 == 3.5,
          "wasm -> host with mixed types: %s", err.message);
    CHECK(wb_func_call(fx.store, export_func("call_add3"), args, 2, out, 1, &err) == WB_ERR_ARG,
          "wrong argument count is refused");
    args[0] = WB_VAL_I64(1);
    CHECK(wb_func_call(fx.store, export_func("double"), args, 1, out, 1, &err) == WB_ERR_ARG,
          "wrong argument type is refused");
    args[0] = WB_VAL_I32(20);
    CHECK(wb_func_call(fx.store, export_func("via_host"), args, 1, out, 1, &err) == WB_OK && out[0].of.i32 == 41,
          "wasm -> host -> wasm re-entry: got %d (%s)", out[0].of.i32, err.message);
    args[0] = WB_VAL_I64(-5);
    CHECK(wb_func_call(fx.store, export_func("multi"), args, 1, out, 3, &err) == WB_OK && out[0].of.i64 == -5 &&
              out[1].of.i32 == -5 && out[2].of.f32 == 0.5f,
          "multi-value results");
}

static void test_traps(void) {
    wb_error err;
    wb_val args[1] = {WB_VAL_I32(1)}, out[1];
    wb_status st = wb_func_call(fx.store, export_func("deep"), args, 1, out, 1, &err);
    CHECK(st == WB_ERR_TRAP && err.trap == WB_TRAP_STACK_EXHAUSTED &&
              !strcmp(err.message, "call stack exhausted") && !strcmp(err.func_name, "deep"),
          "deep recursion: %s", err.message);
    CHECK(wb_func_call(fx.store, export_func("double"), args, 1, out, 1, &err) == WB_OK && out[0].of.i32 == 2,
          "store still usable after exhaustion");
    st = wb_func_call(fx.store, export_func("oob"), NULL, 0, out, 1, &err);
    CHECK(st == WB_ERR_TRAP && err.trap == WB_TRAP_OOB_MEMORY && err.offset != WB_NO_OFFSET &&
              !strcmp(err.func_name, "oob_reader"),
          "guard-page trap names function (name section) and offset: %s %s", err.message, err.func_name);
    st = wb_func_call(fx.store, export_func("fail"), NULL, 0, NULL, 0, &err);
    CHECK(st == WB_ERR_TRAP && err.trap == WB_TRAP_HOST && !strcmp(err.message, "host says no"),
          "host trap message: %s", err.message);
    args[0] = WB_VAL_I32(9);
    st = wb_func_call(fx.store, export_func("leave"), args, 1, NULL, 0, &err);
    CHECK(st == WB_ERR_EXIT && err.exit_code == 9, "exit request carries the code: %d", err.exit_code);
    char buf[300];
    wb_func_call(fx.store, export_func("oob"), NULL, 0, out, 1, &err);
    wb_error_format(&err, buf, sizeof buf);
    CHECK(strstr(buf, "out of bounds memory access") && strstr(buf, "byte offset 0x"), "formatted: %s", buf);
}

static void test_fuel(void) {
    wb_error err;
    wb_store_set_fuel(fx.store, 10000);
    wb_status st = wb_func_call(fx.store, export_func("spin"), NULL, 0, NULL, 0, &err);
    CHECK(st == WB_ERR_TRAP && err.trap == WB_TRAP_OUT_OF_FUEL, "fuel stops an endless loop: %s", err.message);
    CHECK(wb_store_fuel_left(fx.store) == 0, "fuel used up");
    wb_store_set_fuel(fx.store, 1000);
    wb_val args[1] = {WB_VAL_I32(4)}, out[1];
    CHECK(wb_func_call(fx.store, export_func("double"), args, 1, out, 1, &err) == WB_OK,
          "refuelled store runs");
    CHECK(wb_store_fuel_left(fx.store) < 1000 && wb_store_fuel_left(fx.store) > 900, "fuel consumed: %llu",
          (unsigned long long)wb_store_fuel_left(fx.store));
    wb_store_set_fuel(fx.store, 0);
    CHECK(wb_store_fuel_left(fx.store) == UINT64_MAX, "0 = unlimited");
}

static void *interrupter(void *arg) {
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    wb_store_interrupt((wb_store *)arg);
    return NULL;
}

static void test_interrupt(void) {
    wb_error err;
    pthread_t t;
    pthread_create(&t, NULL, interrupter, fx.store);
    wb_status st = wb_func_call(fx.store, export_func("spin"), NULL, 0, NULL, 0, &err);
    pthread_join(t, NULL);
    CHECK(st == WB_ERR_TRAP && err.trap == WB_TRAP_INTERRUPTED, "interrupt from another thread: %s",
          err.message);
    wb_val args[1] = {WB_VAL_I32(4)}, out[1];
    CHECK(wb_func_call(fx.store, export_func("double"), args, 1, out, 1, &err) == WB_OK,
          "store runs again after an interrupt");
}

static void test_memory_globals_tables(void) {
    wb_error err;
    wb_extern x;
    CHECK(wb_instance_export(fx.inst, "mem", &x) && x.kind == WB_EXTERN_MEMORY, "memory export");
    wb_memory *mem = x.of.memory;
    CHECK(wb_memory_size(mem) == 65536 && wb_memory_pages(mem) == 1, "1 page");
    wb_memory_data(mem)[123] = 77;
    wb_val args[2] = {WB_VAL_I32(123)}, out[1];
    CHECK(wb_func_call(fx.store, export_func("peek"), args, 1, out, 1, &err) == WB_OK && out[0].of.i32 == 77,
          "host write seen by guest");
    /* The engine caps memories at 2 pages in this fixture, below the
     * module's own maximum of 4. */
    args[0] = WB_VAL_I32(1);
    wb_func_call(fx.store, export_func("grow"), args, 1, out, 1, &err);
    CHECK(out[0].of.i32 == 1, "grow to 2 pages: old size %d", out[0].of.i32);
    wb_func_call(fx.store, export_func("grow"), args, 1, out, 1, &err);
    CHECK(out[0].of.i32 == -1, "grow past the engine cap fails with -1: %d", out[0].of.i32);
    CHECK(wb_memory_pages(mem) == 2, "still 2 pages");

    CHECK(wb_func_call(fx.store, export_func("bump"), NULL, 0, NULL, 0, &err) == WB_OK, "bump");
    wb_val v;
    wb_global_get(fx.counter, &v);
    CHECK(v.of.i32 == 42, "imported mutable global written by guest: %d", v.of.i32);
    CHECK(wb_instance_export(fx.inst, "g", &x) && x.kind == WB_EXTERN_GLOBAL, "global export");
    CHECK(wb_global_set(x.of.global, WB_VAL_I64(-3)) == WB_OK, "set mutable global");
    CHECK(wb_func_call(fx.store, export_func("get_g"), NULL, 0, out, 1, &err) == WB_OK && out[0].of.i64 == -3,
          "guest sees host's global write");
    CHECK(wb_global_set(x.of.global, WB_VAL_I32(1)) == WB_ERR_ARG, "type mismatch refused");
    CHECK(wb_instance_export(fx.inst, "k", &x) && wb_global_set(x.of.global, WB_VAL_F32(2)) == WB_ERR_ARG,
          "immutable global refused");

    CHECK(wb_instance_export(fx.inst, "tab", &x) && x.kind == WB_EXTERN_TABLE, "table export");
    wb_table *tab = x.of.table;
    args[0] = WB_VAL_I32(2);
    args[1] = WB_VAL_I32(5);
    wb_status st = wb_func_call(fx.store, export_func("call_slot"), args, 2, out, 1, &err);
    CHECK(st == WB_ERR_TRAP && err.trap == WB_TRAP_UNINITIALIZED_ELEMENT, "empty slot traps: %s", err.message);
    wb_val fref = {.type = WB_FUNCREF, .of.func = export_func("double")};
    CHECK(wb_table_set(tab, 2, fref), "host sets a table slot");
    CHECK(wb_func_call(fx.store, export_func("call_slot"), args, 2, out, 1, &err) == WB_OK && out[0].of.i32 == 10,
          "call_indirect through the host's entry");
    fref.of.func = export_func("get_g");
    wb_table_set(tab, 2, fref);
    st = wb_func_call(fx.store, export_func("call_slot"), args, 2, out, 1, &err);
    CHECK(st == WB_ERR_TRAP && err.trap == WB_TRAP_INDIRECT_CALL_MISMATCH, "type mismatch traps: %s",
          err.message);
    CHECK(!wb_table_set(tab, 4, fref), "table bounds checked");
    uint32_t old;
    CHECK(wb_table_grow(tab, 3, fref, &old) == WB_OK && old == 4 && wb_table_size(tab) == 7, "table grows");
}

static void test_bad_modules(void) {
    wb_error err;
    static const uint8_t bad_magic[] = {0, 'a', 's', 'n', 1, 0, 0, 0};
    static const uint8_t huge_count[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 5, 0xff, 0xff, 0xff, 0xff, 0x0f};
    static const uint8_t simd_type[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 5, 1, 0x60, 1, 0x7b, 0};
    CHECK(wb_module_validate(fx.engine, bad_magic, sizeof bad_magic, &err) == WB_ERR_MALFORMED &&
              err.offset != WB_NO_OFFSET,
          "bad magic: %s", err.message);
    CHECK(wb_module_validate(fx.engine, huge_count, sizeof huge_count, &err) == WB_ERR_MALFORMED,
          "huge count fails without allocating: %s", err.message);
    CHECK(wb_module_validate(fx.engine, simd_type, sizeof simd_type, &err) == WB_ERR_UNSUPPORTED &&
              strstr(err.message, "SIMD not supported yet"),
          "v128 is refused clearly: %s", err.message);
    CHECK(wb_module_validate(fx.engine, NULL, 0, &err) == WB_ERR_MALFORMED, "empty input: %s", err.message);
    /* wb_module_new_owned takes the bytes on failure as well as on
     * success (ASan reports a leak or double free otherwise). */
    static const uint8_t empty_module[] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    uint8_t *owned = malloc(sizeof bad_magic);
    wb_module *mod = NULL;
    memcpy(owned, bad_magic, sizeof bad_magic);
    CHECK(wb_module_new_owned(fx.engine, owned, sizeof bad_magic, &mod, &err) == WB_ERR_MALFORMED &&
              mod == NULL,
          "owned bytes, bad magic: %s", err.message);
    owned = malloc(sizeof empty_module);
    memcpy(owned, empty_module, sizeof empty_module);
    CHECK(wb_module_new_owned(fx.engine, owned, sizeof empty_module, &mod, &err) == WB_OK && mod &&
              wb_module_export_count(mod) == 0,
          "owned bytes, empty module");
    wb_module_delete(mod);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s api.wasm\n", argv[0]);
        return 2;
    }
    size_t len;
    uint8_t *bytes = read_file(argv[1], &len);
    if (!bytes) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    setup(bytes, len, 2);
    test_listing();
    test_calls();
    test_traps();
    test_fuel();
    test_interrupt();
    test_memory_globals_tables();
    test_bad_modules();
    teardown();
    free(bytes);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
