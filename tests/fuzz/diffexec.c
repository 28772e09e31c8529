/*
 * diffexec.c - differential test against binaryen's interpreter.
 *
 * Runs a module made by binaryen's translate-to-fuzz (wasm-opt -ttf) the
 * way `wasm-opt --fuzz-exec-before` does: every exported function in
 * export order, with zero arguments, the instance's state carried from
 * one call to the next, a trap ending only that call, the export
 * hangLimitInitializer (which resets the module's loop and recursion
 * budget) called before each; the imports
 * fuzzing-support.log-<type> print their argument. What happens is
 * recorded as lines
 *
 *   call NAME | log V... | result V | trap
 *
 * and compared with binaryen's output (EXPECTED, as printed by wasm-opt):
 * integers must be equal, floats equal with the same sign (any NaN equals
 * any NaN: NaN bits are not deterministic across engines). binaryen logs
 * an i64 as its low and high 32-bit halves, and so does this program.
 *
 * usage: wb-diffexec [--aot] [--full] FILE.wasm [EXPECTED]
 *   without EXPECTED: prints the lines
 *   --aot   runs the module as native code from the ahead-of-time
 *           compiler (no fuel then: an alarm interrupts a runaway call)
 *   --full  traps print their message, NaNs print as "nan", and a last
 *           line gives the exported memory's size and FNV-1a hash: the
 *           form in which differential.sh compares native code with the
 *           interpreter (results, traps and final memory)
 * exit: 0 same (or printed), 1 different (the first difference is
 * printed) or the module failed to load, 3 not comparable (other imports,
 * or binaryen hit one of its own host limits).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <signal.h>
#include <unistd.h>
#include <wasmbox.h>
#ifdef WB_HAVE_AOT
#include <wasmbox_aot.h>
#endif

static bool full;
static wb_store *alarm_store;
static void on_alarm(int sig)
{
    (void)sig;
    if (alarm_store) wb_store_interrupt(alarm_store);
}

/* binaryen's interpreter counts no fuel; fuzz modules bound their own
 * loops and recursion with a hang-limit global. This only stops a module
 * that the hang limit does not cover from running forever. */
#define DIFF_FUEL 50000000u
#define MAX_LINES 100000

static char *lines[MAX_LINES];
static size_t nlines;
static bool overflow;

static void record(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (nlines == MAX_LINES) {
        overflow = true;
        return;
    }
    lines[nlines] = strdup(buf);
    if (!lines[nlines]) {
        overflow = true;
        return;
    }
    nlines++;
}

static void record_value(const char *what, const wb_val *v)
{
    switch (v->type) {
    case WB_I32: record("%s %d", what, v->of.i32); break;
    case WB_I64:
        if (what[0] == 'l') /* binaryen logs an i64 as two i32 halves */
            record("%s %d %d", what, (int32_t)(uint32_t)v->of.i64,
                   (int32_t)(uint32_t)((uint64_t)v->of.i64 >> 32));
        else
            record("%s %lld", what, (long long)v->of.i64);
        break;
    case WB_F32:
        if (full && isnan(v->of.f32)) record("%s nan", what);
        else record("%s %a", what, (double)v->of.f32);
        break;
    case WB_F64:
        if (full && isnan(v->of.f64)) record("%s nan", what);
        else record("%s %a", what, v->of.f64);
        break;
    default: record("%s ref", what); break;
    }
}

static wb_status log_value(wb_caller *caller, void *env, const wb_val *args, wb_val *results)
{
    (void)caller;
    (void)env;
    (void)results;
    record_value("log", &args[0]);
    return WB_OK;
}

/* Whether two number tokens mean the same value. */
static bool same_number(const char *a, const char *b)
{
    char *ea, *eb;
    if (strcmp(a, b) == 0) return true;
    errno = 0;
    long long ia = strtoll(a, &ea, 10), ib = strtoll(b, &eb, 10);
    if (*ea == 0 && *eb == 0 && errno == 0) return ia == ib;
    bool nan_a = strstr(a, "nan") != NULL, nan_b = strstr(b, "nan") != NULL;
    if (nan_a || nan_b) return nan_a && nan_b;
    double da = strtod(a, &ea), db = strtod(b, &eb);
    if (*ea != 0 || *eb != 0) return false;
    return da == db && signbit(da) == signbit(db);
}

/* Whether two lines (ours, binaryen's translated) say the same. */
static bool same_line(const char *ours, const char *theirs)
{
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s", ours);
    snprintf(b, sizeof b, "%s", theirs);
    if (strncmp(a, "call ", 5) == 0 || strncmp(b, "call ", 5) == 0) return strcmp(a, b) == 0;
    char *sa, *sb;
    char *ta = strtok_r(a, " ", &sa), *tb = strtok_r(b, " ", &sb);
    if (!ta || !tb || strcmp(ta, tb) != 0) return false;
    for (;;) {
        ta = strtok_r(NULL, " ", &sa);
        tb = strtok_r(NULL, " ", &sb);
        if (!ta || !tb) return ta == tb;
        if (!same_number(ta, tb)) return false;
    }
}

/* binaryen's line -> ours: 1 translated, 0 not an event, -1 not
 * comparable. */
static int translate(char *line, char *out, size_t size)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    const char *p;
    if (strncmp(line, "[fuzz-exec] calling ", 20) == 0) {
        snprintf(out, size, "call %s", line + 20);
        return 1;
    }
    if (strncmp(line, "[LoggingExternalInterface logging ", 34) == 0 && n > 34) {
        line[n - 1] = 0; /* the closing ] */
        snprintf(out, size, "log %s", line + 34);
        return 1;
    }
    if (strncmp(line, "[fuzz-exec] note result: ", 25) == 0 && (p = strstr(line, " => "))) {
        snprintf(out, size, "result %s", p + 4);
        return 1;
    }
    if (strncmp(line, "[trap ", 6) == 0) {
        snprintf(out, size, "trap");
        return 1;
    }
    if (strncmp(line, "[host limit", 11) == 0 || strncmp(line, "[exception", 10) == 0)
        return -1;
    return 0;
}

/* Compares the recorded lines with binaryen's output file. */
static int compare(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    char line[4096], want[4096];
    size_t i = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        int t = translate(line, want, sizeof want);
        if (t < 0) {
            printf("not comparable: binaryen: %s\n", line);
            rc = 3;
            break;
        }
        if (t == 0) continue;
        if (i >= nlines) {
            printf("line %zu: binaryen: [%s], wasmbox: nothing more\n", i + 1, want);
            rc = 1;
            break;
        }
        if (!same_line(lines[i], want)) {
            printf("line %zu: binaryen: [%s], wasmbox: [%s]\n", i + 1, want, lines[i]);
            rc = 1;
            break;
        }
        i++;
    }
    if (rc == 0 && i < nlines) {
        printf("line %zu: binaryen: nothing more, wasmbox: [%s]\n", i + 1, lines[i]);
        rc = 1;
    }
    fclose(f);
    if (rc == 0) printf("same: %zu events\n", nlines);
    return rc;
}

static int load(const char *path, uint8_t **bytes, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *b = realloc(buf, cap *= 2);
            if (!b) free(buf);
            buf = b;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "%s: out of memory\n", path);
        return -1;
    }
    *bytes = buf;
    *len = n;
    return 0;
}

int main(int argc, char **argv)
{
    bool aot = false;
    while (argc > 1 && argv[1][0] == '-') {
        if (strcmp(argv[1], "--aot") == 0) {
#ifdef WB_HAVE_AOT
            aot = true;
#else
            fprintf(stderr, "wb-diffexec: built without the AOT compiler\n");
            return 77;
#endif
        } else if (strcmp(argv[1], "--full") == 0) {
            full = true;
        } else {
            break;
        }
        argv++, argc--;
    }
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: wb-diffexec [--aot] [--full] FILE.wasm [EXPECTED]\n");
        return 2;
    }
    uint8_t *bytes;
    size_t len;
    if (load(argv[1], &bytes, &len) != 0) return 1;

    wb_error err;
    char msg[512];
    wb_engine *engine = NULL;
    wb_module *module = NULL;
    wb_store *store = NULL;
    wb_instance *inst = NULL;
    wb_extern *imports = NULL;
    int rc = 1;
    if (wb_engine_new(NULL, &engine, &err) != WB_OK ||
        wb_module_new(engine, bytes, len, &module, &err) != WB_OK ||
        wb_store_new(engine, &store, &err) != WB_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], wb_error_format(&err, msg, sizeof msg));
        goto out;
    }

#ifdef WB_HAVE_AOT
    if (aot) {
        static const uint8_t key[WB_NATIVE_KEY_SIZE] = "wb-diffexec key, not a secret";
        uint8_t *art = NULL, *sealed = NULL;
        size_t alen, slen;
        wb_status ast = wb_aot_compile(bytes, len, NULL, &art, &alen, &err);
        if (ast == WB_OK) ast = wb_native_seal(art, alen, key, sizeof key, &sealed, &slen, &err);
        if (ast == WB_OK) ast = wb_module_load_native(module, sealed, slen, key, sizeof key, &err);
        free(art);
        free(sealed);
        if (ast != WB_OK) {
            fprintf(stderr, "%s: aot: %s\n", argv[1], wb_error_format(&err, msg, sizeof msg));
            goto out;
        }
        alarm_store = store;
        signal(SIGALRM, on_alarm);
    }
#endif
    size_t nimports = wb_module_import_count(module);
    imports = calloc(nimports ? nimports : 1, sizeof *imports);
    if (!imports) goto out;
    for (size_t i = 0; i < nimports; i++) {
        wb_importdesc imp;
        wb_module_import(module, i, &imp);
        if (imp.kind != WB_EXTERN_FUNC || strcmp(imp.module, "fuzzing-support") != 0 ||
            strncmp(imp.name, "log-", 4) != 0 || imp.type.func.nparams != 1 ||
            imp.type.func.nresults != 0) {
            printf("not comparable: imports %s.%s\n", imp.module, imp.name);
            rc = 3;
            goto out;
        }
        imports[i].kind = WB_EXTERN_FUNC;
        if (wb_func_new(store, &imp.type.func, log_value, NULL, NULL, &imports[i].of.func,
                        &err) != WB_OK) {
            fprintf(stderr, "%s: %s\n", argv[1], wb_error_format(&err, msg, sizeof msg));
            goto out;
        }
    }
    if (wb_instance_new(store, module, imports, nimports, &inst, &err) != WB_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], wb_error_format(&err, msg, sizeof msg));
        goto out;
    }

    wb_extern reset;
    bool has_reset = wb_instance_export(inst, "hangLimitInitializer", &reset) &&
                     reset.kind == WB_EXTERN_FUNC;
    size_t nexports = wb_module_export_count(module);
    for (size_t i = 0; i < nexports; i++) {
        wb_exportdesc ex;
        wb_module_export(module, i, &ex);
        if (ex.kind != WB_EXTERN_FUNC) continue;
        wb_extern fn;
        if (!wb_instance_export(inst, ex.name, &fn)) continue;
        const wb_functype *ft = &ex.type.func;
        wb_val args[64], results[64];
        if (ft->nparams > 64 || ft->nresults > 64) {
            printf("not comparable: %s has too many values\n", ex.name);
            rc = 3;
            goto out;
        }
        for (uint32_t p = 0; p < ft->nparams; p++) {
            memset(&args[p], 0, sizeof args[p]);
            args[p].type = ft->params[p];
        }
        record("call %s", ex.name);
        if (aot) alarm(10);
        else wb_store_set_fuel(store, DIFF_FUEL);
        /* As binaryen does: the hang limit is reset before every call. */
        if (has_reset && wb_func_call(store, reset.of.func, NULL, 0, NULL, 0, &err) != WB_OK) {
            if (full) record("trap %s", err.message);
            else record("trap");
            continue;
        }
        wb_status st = wb_func_call(store, fn.of.func, args, ft->nparams, results,
                                    ft->nresults, &err);
        if (aot) alarm(0);
        if (st == WB_ERR_TRAP) {
            if (full) record("trap %s", err.message);
            else record("trap");
            continue;
        }
        if (st != WB_OK) {
            record("error %s", wb_error_format(&err, msg, sizeof msg));
            continue;
        }
        for (uint32_t r = 0; r < ft->nresults; r++) record_value("result", &results[r]);
    }
    if (full) {
        /* The final state: every exported memory's size and hash. */
        for (size_t i = 0; i < nexports; i++) {
            wb_exportdesc ex;
            wb_extern x;
            wb_module_export(module, i, &ex);
            if (ex.kind != WB_EXTERN_MEMORY || !wb_instance_export(inst, ex.name, &x)) continue;
            const uint8_t *m = wb_memory_data(x.of.memory);
            size_t n = wb_memory_size(x.of.memory);
            uint64_t h = 1469598103934665603ull;
            for (size_t k = 0; k < n; k++) h = (h ^ m[k]) * 1099511628211ull;
            record("memory %s %zu %016llx", ex.name, n, (unsigned long long)h);
        }
    }
    if (overflow) {
        printf("not comparable: more than %d events\n", MAX_LINES);
        rc = 3;
    } else if (argc == 3) {
        rc = compare(argv[2]);
    } else {
        for (size_t i = 0; i < nlines; i++) printf("%s\n", lines[i]);
        rc = 0;
    }
out:
    for (size_t i = 0; i < nlines; i++) free(lines[i]);
    fflush(stdout);
    free(imports);
    wb_store_delete(store);
    wb_module_delete(module);
    wb_engine_delete(engine);
    free(bytes);
    return rc;
}
