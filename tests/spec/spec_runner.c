/*
 * wb-spec - runs the WebAssembly core spec tests (.wast) against wasmbox.
 *
 *   wb-spec [--skip FILE] [--verbose] [--jobs-dir TMPDIR] [--timeout SECONDS]
 *           WAST_OR_DIR...
 *
 * wasmbox reads only the binary format, so the runner does not parse .wast
 * itself: every file is converted at test time with wabt's wast2json, which
 * writes a JSON command list plus one .wasm per module, and the commands are
 * then driven through the public API (include/wasmbox.h) only.
 *
 * Each .wast file runs in a forked child so that a crash or a hang in the
 * engine costs that one file, not the whole run. The child reports one byte
 * per finished assertion through a pipe ('p' passed, 'f' failed, 'e' a
 * failed module/register/action command, 'D' done); the parent already knows
 * how many assertions the file has, so whatever the child did not report
 * before dying is counted as failed.
 *
 * Counting follows the testsuite README: only assert_* commands count. A
 * module, register or action command that fails is reported as an error and
 * counted as one failure as well, because every assertion after it would
 * otherwise test something other than what the file intends.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <wasmbox.h>
#ifdef WB_HAVE_AOT
#include <wasmbox_aot.h>
#endif

extern char **environ;

/* Failures printed per file when not --verbose: enough to diagnose, not so
 * many that one broken opcode floods the log. */
#define MAX_SHOWN_FAILURES 10
#define DEFAULT_TIMEOUT_S 120

static struct {
    bool verbose;
    const char *skip_path;
    const char *jobs_dir;
    unsigned timeout_s;
    bool aot;    /* every module compiled ahead of time and run natively */
    int aot_opt; /* its optimisation level */
} opt = {false, NULL, NULL, DEFAULT_TIMEOUT_S, false, 2};

/* Line of the command the child is running, in memory shared with the
 * parent, so that a crash or a hang can be pinned to a line of the .wast. */
static volatile uint32_t *current_line;

/* ------------------------------------------------------------ utilities */

static void *xrealloc(void *old, size_t n)
{
    void *p = realloc(old, n ? n : 1);
    if (!p) {
        fprintf(stderr, "wb-spec: out of memory\n");
        exit(2);
    }
    return p;
}

#define xmalloc(n) xrealloc(NULL, (n))

static void *xcalloc(size_t n, size_t size)
{
    void *p = xmalloc(n * size);
    memset(p, 0, n * size);
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);
    memcpy(p, s, n);
    return p;
}

static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        fprintf(stderr, "wb-spec: bad format\n");
        exit(2);
    }
    char *buf = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(buf, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return buf;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Signal names are spelled out ourselves: sigabbrev_np is too new to rely
 * on and strsignal's wording varies between libcs. */
static const char *signal_name(int sig, char *buf, size_t size)
{
    static const struct { int sig; const char *name; } names[] = {
        {SIGSEGV, "SIGSEGV"}, {SIGBUS, "SIGBUS"},   {SIGABRT, "SIGABRT"},
        {SIGFPE, "SIGFPE"},   {SIGILL, "SIGILL"},   {SIGKILL, "SIGKILL"},
        {SIGTERM, "SIGTERM"}, {SIGTRAP, "SIGTRAP"}, {SIGSYS, "SIGSYS"},
        {SIGINT, "SIGINT"},   {SIGPIPE, "SIGPIPE"}, {SIGXCPU, "SIGXCPU"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig)
            return names[i].name;
    snprintf(buf, size, "signal %d", sig);
    return buf;
}

/* Parses an unsigned decimal string as wast2json writes it. */
static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = (uint64_t)v;
    return true;
}

static const char *json_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* ---------------------------------------------------------------- skips */

typedef enum { RULE_FILE, RULE_COMMAND } rule_kind;

typedef struct skip_rule {
    rule_kind kind;
    char *pattern;     /* as written, for the report */
    char *glob;        /* file glob, or command-type glob */
    char *module_type; /* RULE_COMMAND: glob on the command's module_type */
    char *reason;
    uint64_t assertions; /* assertions skipped because of this rule */
    unsigned files;      /* RULE_FILE: files skipped */
    bool builtin;
} skip_rule;

static skip_rule *rules;
static size_t nrules;

static void add_rule(const char *pattern, const char *reason, bool builtin)
{
    skip_rule r = {0};
    r.pattern = xstrdup(pattern);
    r.reason = xstrdup(reason);
    r.builtin = builtin;
    if (strncmp(pattern, "file:", 5) == 0) {
        r.kind = RULE_FILE;
        r.glob = xstrdup(pattern + 5);
    } else {
        /* COMMAND_TYPE:MODULE_TYPE, e.g. assert_malformed:text. */
        const char *colon = strchr(pattern, ':');
        r.kind = RULE_COMMAND;
        if (colon) {
            r.glob = xmalloc((size_t)(colon - pattern) + 1);
            memcpy(r.glob, pattern, (size_t)(colon - pattern));
            r.glob[colon - pattern] = '\0';
            r.module_type = xstrdup(colon + 1);
        } else {
            r.glob = xstrdup(pattern);
            r.module_type = xstrdup("*");
        }
    }
    rules = xrealloc(rules, (nrules + 1) * sizeof *rules);
    rules[nrules++] = r;
}

static bool load_skip_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "wb-spec: cannot open skip file %s: %s\n", path,
                strerror(errno));
        return false;
    }
    char line[1024];
    unsigned lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        p[strcspn(p, "\r\n")] = '\0';
        if (*p == '\0' || *p == '#')
            continue;
        char *pat_end = p + strcspn(p, " \t");
        char *reason = pat_end;
        if (*reason) {
            *reason++ = '\0';
            while (*reason == ' ' || *reason == '\t')
                reason++;
        }
        if (*reason == '\0') {
            fprintf(stderr, "wb-spec: %s:%u: skip entry '%s' has no reason\n",
                    path, lineno, p);
            fclose(f);
            return false;
        }
        add_rule(p, reason, false);
    }
    fclose(f);
    return true;
}

static int file_rule(const char *file)
{
    for (size_t i = 0; i < nrules; i++)
        if (rules[i].kind == RULE_FILE && fnmatch(rules[i].glob, file, 0) == 0)
            return (int)i;
    return -1;
}

static int command_rule(const json_t *cmd)
{
    const char *type = json_str(cmd, "type");
    const char *mtype = json_str(cmd, "module_type");
    if (!type)
        return -1;
    for (size_t i = 0; i < nrules; i++) {
        const skip_rule *r = &rules[i];
        if (r->kind != RULE_COMMAND || fnmatch(r->glob, type, 0) != 0)
            continue;
        if (strcmp(r->module_type, "*") == 0 ||
            (mtype && fnmatch(r->module_type, mtype, 0) == 0))
            return (int)i;
    }
    return -1;
}

static bool is_assertion(const json_t *cmd)
{
    const char *type = json_str(cmd, "type");
    return type && strncmp(type, "assert_", 7) == 0;
}

/* ------------------------------------------------------------ values */

static bool valtype_from_name(const char *name, wb_valtype *out)
{
    static const struct { const char *name; wb_valtype t; } types[] = {
        {"i32", WB_I32},   {"i64", WB_I64},         {"f32", WB_F32},
        {"f64", WB_F64},   {"v128", WB_V128},       {"funcref", WB_FUNCREF},
        {"externref", WB_EXTERNREF},
    };
    if (!name)
        return false;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i].name, name) == 0) {
            *out = types[i].t;
            return true;
        }
    return false;
}

/* Lane layout of a v128 constant: lane_type -> (count, bytes per lane). */
static bool lane_shape(const char *lane_type, unsigned *count, unsigned *width)
{
    static const struct { const char *name; unsigned count, width; } shapes[] = {
        {"i8", 16, 1}, {"i16", 8, 2}, {"i32", 4, 4},
        {"i64", 2, 8}, {"f32", 4, 4}, {"f64", 2, 8},
    };
    if (!lane_type)
        return false;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        if (strcmp(shapes[i].name, lane_type) == 0) {
            *count = shapes[i].count;
            *width = shapes[i].width;
            return true;
        }
    return false;
}

/* v128 lanes are little-endian, as in linear memory. */
static void lane_store(uint8_t *bytes, unsigned width, uint64_t v)
{
    for (unsigned i = 0; i < width; i++)
        bytes[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t lane_load(const uint8_t *bytes, unsigned width)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v |= (uint64_t)bytes[i] << (8 * i);
    return v;
}

/* Turns a JSON argument into a value; false (with why) when it is not a
 * concrete value of a known type. */
static bool parse_value(const json_t *jv, wb_val *out, char *why, size_t wsize)
{
    const char *tname = json_str(jv, "type");
    wb_valtype t;
    if (!valtype_from_name(tname, &t)) {
        snprintf(why, wsize, "unknown value type '%s'", tname ? tname : "?");
        return false;
    }
    memset(out, 0, sizeof *out);
    out->type = t;
    if (t == WB_V128) {
        const char *lt = json_str(jv, "lane_type");
        const json_t *lanes = json_object_get(jv, "value");
        unsigned count, width;
        if (!lane_shape(lt, &count, &width) || !json_is_array(lanes) ||
            json_array_size(lanes) != count) {
            snprintf(why, wsize, "bad v128 value");
            return false;
        }
        for (unsigned i = 0; i < count; i++) {
            uint64_t v;
            if (!parse_u64(json_string_value(json_array_get(lanes, i)), &v)) {
                snprintf(why, wsize, "bad v128 lane");
                return false;
            }
            lane_store(out->of.v128 + i * width, width, v);
        }
        return true;
    }
    const char *s = json_str(jv, "value");
    uint64_t v;
    if (t == WB_FUNCREF || t == WB_EXTERNREF) {
        if (s && strcmp(s, "null") == 0)
            return true; /* the union is already zeroed: NULL */
        if (t == WB_EXTERNREF && parse_u64(s, &v)) {
            /* N + 1 keeps (ref.extern 0) distinct from ref.null. */
            out->of.ref = (void *)(uintptr_t)(v + 1);
            return true;
        }
        snprintf(why, wsize, "cannot pass %s value '%s'", tname, s ? s : "?");
        return false;
    }
    if (!parse_u64(s, &v)) {
        snprintf(why, wsize, "bad %s value '%s'", tname, s ? s : "?");
        return false;
    }
    switch (t) {
    case WB_I32: out->of.i32 = (int32_t)(uint32_t)v; break;
    case WB_I64: out->of.i64 = (int64_t)v; break;
    case WB_F32: {
        uint32_t bits = (uint32_t)v;
        memcpy(&out->of.f32, &bits, sizeof bits);
        break;
    }
    case WB_F64: memcpy(&out->of.f64, &v, sizeof v); break;
    default: break;
    }
    return true;
}

/* Compares one float lane given as bits against an expected string, which
 * may be a NaN class instead of a bit pattern. */
static bool float_matches(const char *expect, uint64_t bits, bool is64)
{
    uint64_t sign_off = is64 ? 0x7fffffffffffffffULL : 0x7fffffffULL;
    uint64_t canon = is64 ? 0x7ff8000000000000ULL : 0x7fc00000ULL;
    if (!expect)
        return false;
    if (strcmp(expect, "nan:canonical") == 0)
        return (bits & sign_off) == canon;
    if (strcmp(expect, "nan:arithmetic") == 0)
        /* exponent all ones and the quiet bit set: a quiet NaN */
        return (bits & canon) == canon;
    uint64_t want;
    return parse_u64(expect, &want) && want == bits;
}

static uint64_t val_bits(const wb_val *v, wb_valtype t)
{
    uint32_t b32;
    uint64_t b64;
    switch (t) {
    case WB_I32: return (uint32_t)v->of.i32;
    case WB_I64: return (uint64_t)v->of.i64;
    case WB_F32: memcpy(&b32, &v->of.f32, sizeof b32); return b32;
    case WB_F64: memcpy(&b64, &v->of.f64, sizeof b64); return b64;
    default: return 0;
    }
}

static bool value_matches(const json_t *exp, const wb_val *got, wb_valtype gt)
{
    wb_valtype t;
    if (!valtype_from_name(json_str(exp, "type"), &t) || t != gt)
        return false;
    const char *s = json_str(exp, "value");
    uint64_t want;
    switch (t) {
    case WB_I32:
    case WB_I64:
        return parse_u64(s, &want) && want == val_bits(got, t);
    case WB_F32:
    case WB_F64:
        return float_matches(s, val_bits(got, t), t == WB_F64);
    case WB_FUNCREF:
        if (!s) /* (ref.func) without an index: any non-null function */
            return got->of.func != NULL;
        return strcmp(s, "null") == 0 && got->of.func == NULL;
    case WB_EXTERNREF:
        if (!s)
            return got->of.ref != NULL;
        if (strcmp(s, "null") == 0)
            return got->of.ref == NULL;
        return parse_u64(s, &want) &&
               got->of.ref == (void *)(uintptr_t)(want + 1);
    case WB_V128: {
        const char *lt = json_str(exp, "lane_type");
        const json_t *lanes = json_object_get(exp, "value");
        unsigned count, width;
        if (!lane_shape(lt, &count, &width) || !json_is_array(lanes) ||
            json_array_size(lanes) != count)
            return false;
        bool is_float = lt[0] == 'f';
        for (unsigned i = 0; i < count; i++) {
            const char *ls = json_string_value(json_array_get(lanes, i));
            uint64_t bits = lane_load(got->of.v128 + i * width, width);
            if (is_float) {
                if (!float_matches(ls, bits, width == 8))
                    return false;
            } else if (!parse_u64(ls, &want) || want != bits) {
                return false;
            }
        }
        return true;
    }
    }
    return false;
}

/* Appends a readable form of a value to buf ("i32:42", "f32:0x3f800000"). */
static void format_value(char *buf, size_t size, const wb_val *v,
                         wb_valtype t)
{
    switch (t) {
    case WB_I32:
        snprintf(buf, size, "i32:%" PRIu32, (uint32_t)v->of.i32);
        break;
    case WB_I64:
        snprintf(buf, size, "i64:%" PRIu64, (uint64_t)v->of.i64);
        break;
    case WB_F32:
        snprintf(buf, size, "f32:%" PRIu64 " (%g)", val_bits(v, t),
                 (double)v->of.f32);
        break;
    case WB_F64:
        snprintf(buf, size, "f64:%" PRIu64 " (%g)", val_bits(v, t), v->of.f64);
        break;
    case WB_FUNCREF:
        snprintf(buf, size, "funcref:%s", v->of.func ? "<func>" : "null");
        break;
    case WB_EXTERNREF:
        if (v->of.ref)
            snprintf(buf, size, "externref:%" PRIuPTR,
                     (uintptr_t)v->of.ref - 1);
        else
            snprintf(buf, size, "externref:null");
        break;
    case WB_V128: {
        size_t n = (size_t)snprintf(buf, size, "v128:");
        for (unsigned i = 0; i < 16 && n < size; i++)
            n += (size_t)snprintf(buf + n, size - n, "%02x", v->of.v128[i]);
        break;
    }
    default:
        snprintf(buf, size, "<type 0x%x>", (unsigned)t);
    }
}

/* Writes a JSON value list as "i32:1, f32:nan:canonical". */
static void format_json_values(char *buf, size_t size, const json_t *list)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < json_array_size(list) && n < size; i++) {
        const json_t *v = json_array_get(list, i);
        const json_t *val = json_object_get(v, "value");
        const char *tname = json_str(v, "type");
        n += (size_t)snprintf(buf + n, size - n, "%s%s:", i ? ", " : "",
                              tname ? tname : "?");
        if (json_is_string(val)) {
            if (n < size)
                n += (size_t)snprintf(buf + n, size - n, "%s",
                                      json_string_value(val));
        } else if (json_is_array(val)) {
            for (size_t j = 0; j < json_array_size(val) && n < size; j++)
                n += (size_t)snprintf(buf + n, size - n, "%s%s", j ? " " : "",
                                      json_string_value(json_array_get(val, j)));
        } else if (n < size) {
            n += (size_t)snprintf(buf + n, size - n, "<any>");
        }
    }
}

/* ------------------------------------------------------ the spectest host */

static wb_status spectest_print(wb_caller *caller, void *env,
                                const wb_val *args, wb_val *results)
{
    (void)caller;
    (void)results;
    const char *name = env;
    if (!opt.verbose)
        return WB_OK;
    /* The arity comes from the name: print_i32_f32 has two arguments. */
    printf("    spectest.%s(", name);
    const char *p = strchr(name, '_');
    size_t i = 0;
    while (p) {
        char buf[96];
        wb_valtype t = WB_I32;
        if (strncmp(p + 1, "i64", 3) == 0)
            t = WB_I64;
        else if (strncmp(p + 1, "f32", 3) == 0)
            t = WB_F32;
        else if (strncmp(p + 1, "f64", 3) == 0)
            t = WB_F64;
        format_value(buf, sizeof buf, &args[i], t);
        printf("%s%s", i ? ", " : "", buf);
        i++;
        p = strchr(p + 1, '_');
    }
    printf(")\n");
    return WB_OK;
}

static bool define_spectest(wb_store *store, wb_linker *linker, wb_error *err)
{
    static const wb_valtype i32[] = {WB_I32}, i64[] = {WB_I64},
                            f32[] = {WB_F32}, f64[] = {WB_F64},
                            i32f32[] = {WB_I32, WB_F32},
                            f64f64[] = {WB_F64, WB_F64};
    static const struct {
        const char *name;
        uint32_t nparams;
        const wb_valtype *params;
    } funcs[] = {
        {"print", 0, NULL},          {"print_i32", 1, i32},
        {"print_i64", 1, i64},       {"print_f32", 1, f32},
        {"print_f64", 1, f64},       {"print_i32_f32", 2, i32f32},
        {"print_f64_f64", 2, f64f64},
    };
    for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++) {
        wb_functype ft = {funcs[i].nparams, 0, funcs[i].params, NULL};
        if (wb_linker_define_func(linker, "spectest", funcs[i].name, &ft,
                                  spectest_print,
                                  (void *)funcs[i].name) != WB_OK) {
            snprintf(err->message, sizeof err->message,
                     "cannot define spectest.%s", funcs[i].name);
            return false;
        }
    }

    const struct {
        const char *name;
        wb_val init;
    } globals[] = {
        {"global_i32", WB_VAL_I32(666)},
        {"global_i64", WB_VAL_I64(666)},
        {"global_f32", WB_VAL_F32(666.6f)},
        {"global_f64", WB_VAL_F64(666.6)},
    };
    for (size_t i = 0; i < sizeof globals / sizeof globals[0]; i++) {
        wb_globaltype gt = {globals[i].init.type, false};
        wb_extern ext = {.kind = WB_EXTERN_GLOBAL};
        if (wb_global_new(store, &gt, globals[i].init, &ext.of.global, err) !=
                WB_OK ||
            wb_linker_define(linker, "spectest", globals[i].name, ext) != WB_OK)
            return false;
    }

    wb_tabletype tt = {WB_FUNCREF, {10, 20, true}};
    wb_val null_func = {.type = WB_FUNCREF, .of.func = NULL};
    wb_extern table = {.kind = WB_EXTERN_TABLE};
    if (wb_table_new(store, &tt, null_func, &table.of.table, err) != WB_OK ||
        wb_linker_define(linker, "spectest", "table", table) != WB_OK)
        return false;

    wb_memorytype mt = {{1, 2, true}};
    wb_extern mem = {.kind = WB_EXTERN_MEMORY};
    if (wb_memory_new(store, &mt, &mem.of.memory, err) != WB_OK ||
        wb_linker_define(linker, "spectest", "memory", mem) != WB_OK)
        return false;
    return true;
}

/* ------------------------------------------------- running one JSON file */

typedef struct named_instance {
    char *name;
    wb_instance *inst; /* NULL when the named module failed to load */
} named_instance;

typedef struct runner {
    const char *file; /* the .wast's base name, for messages */
    const char *dir;  /* folder of the JSON and its .wasm files */
    int fd;           /* progress pipe to the parent */
    wb_engine *engine;
    wb_store *store;
    wb_linker *linker;
    wb_module **modules;
    size_t nmodules;
    named_instance *named;
    size_t nnamed;
    wb_instance *current; /* the last module instantiated, or NULL */
    unsigned failures;    /* failures seen, for the print limit */
} runner;

static void report(runner *r, char what)
{
    while (write(r->fd, &what, 1) < 0 && errno == EINTR)
        ;
}

/* Prints one failure (all with --verbose, the first few otherwise). */
static void failure(runner *r, unsigned line, const char *fmt, ...)
{
    r->failures++;
    if (!opt.verbose && r->failures > MAX_SHOWN_FAILURES) {
        if (r->failures == MAX_SHOWN_FAILURES + 1)
            printf("  %s: more failures not shown (use --verbose)\n", r->file);
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    printf("  %s:%u: ", r->file, line);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    /* a crash later in the file must not lose what was already found */
    fflush(stdout);
}

static void bind_name(runner *r, const char *name, wb_instance *inst)
{
    for (size_t i = 0; i < r->nnamed; i++)
        if (strcmp(r->named[i].name, name) == 0) {
            r->named[i].inst = inst;
            return;
        }
    r->named = xrealloc(r->named, (r->nnamed + 1) * sizeof *r->named);
    r->named[r->nnamed].name = xstrdup(name);
    r->named[r->nnamed].inst = inst;
    r->nnamed++;
}

/* The instance a command refers to: a named one, or the last one made. */
static wb_instance *find_instance(runner *r, const char *name)
{
    if (!name)
        return r->current;
    for (size_t i = 0; i < r->nnamed; i++)
        if (strcmp(r->named[i].name, name) == 0)
            return r->named[i].inst;
    return NULL;
}

/* Export lookup by (name, length): spec export names may contain NUL
 * bytes, which the C-string lookup cannot express. */
static bool find_export(const wb_instance *inst, const json_t *jname,
                        wb_extern *out)
{
    const char *name = json_string_value(jname);
    size_t len = json_string_length(jname);
    const wb_module *m = wb_instance_module(inst);
    if (m) {
        size_t n = wb_module_export_count(m);
        for (size_t i = 0; i < n; i++) {
            wb_exportdesc d;
            const char *iname;
            if (wb_module_export(m, i, &d) && d.name_len == len &&
                memcmp(d.name, name, len) == 0 &&
                wb_instance_export_nth(inst, i, &iname, out) &&
                strcmp(iname, d.name) == 0) /* same order, checked */
                return true;
        }
    }
    return wb_instance_export(inst, name, out);
}

/* Reads dir/filename and decodes it; the module is kept (it must outlive
 * its instances) until the file is done. */
static wb_status load_module(runner *r, const char *filename, wb_module **out,
                             wb_error *err)
{
    wb_error_clear(err);
    *out = NULL;
    if (!filename) {
        err->status = WB_ERR_ARG;
        snprintf(err->message, sizeof err->message, "command has no filename");
        return err->status;
    }
    char *path = xasprintf("%s/%s", r->dir, filename);
    FILE *f = fopen(path, "rb");
    if (!f) {
        err->status = WB_ERR_IO;
        snprintf(err->message, sizeof err->message, "cannot open %s: %s",
                 filename, strerror(errno));
        free(path);
        return err->status;
    }
    free(path);
    size_t cap = 4096, len = 0;
    uint8_t *bytes = xmalloc(cap);
    size_t got;
    while ((got = fread(bytes + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap)
            bytes = xrealloc(bytes, cap *= 2);
    }
    fclose(f);
    wb_status st = wb_module_new(r->engine, bytes, len, out, err);
#ifdef WB_HAVE_AOT
    if (st == WB_OK && opt.aot) {
        /* Through the whole native path: compile, seal, verify, load. A
         * module that does not compile fails its command. */
        static const uint8_t key[WB_NATIVE_KEY_SIZE] = "wb-spec test key, not a secret";
        wb_aot_options ao;
        wb_aot_options_default(&ao);
        ao.opt_level = opt.aot_opt;
        uint8_t *art = NULL, *sealed = NULL;
        size_t alen, slen;
        st = wb_aot_compile(bytes, len, &ao, &art, &alen, err);
        if (st == WB_OK)
            st = wb_native_seal(art, alen, key, sizeof key, &sealed, &slen, err);
        if (st == WB_OK)
            st = wb_module_load_native(*out, sealed, slen, key, sizeof key, err);
        free(art);
        free(sealed);
        if (st != WB_OK) {
            char m[sizeof err->message];
            snprintf(m, sizeof m, "%s", err->message);
            snprintf(err->message, sizeof err->message, "aot: %.200s", m);
            wb_module_delete(*out);
        }
    }
#endif
    free(bytes);
    if (st == WB_OK) {
        r->modules = xrealloc(r->modules, (r->nmodules + 1) * sizeof *r->modules);
        r->modules[r->nmodules++] = *out;
    } else {
        *out = NULL;
        if (err->status == WB_OK) /* keep the status even if err was not filled */
            err->status = st;
    }
    return st;
}

static wb_status instantiate(runner *r, const wb_module *m, wb_instance **out,
                             wb_error *err)
{
    wb_error_clear(err);
    *out = NULL;
    wb_status st = wb_linker_instantiate(r->linker, m, out, err);
    if (st != WB_OK && err->status == WB_OK)
        err->status = st;
    return st;
}

/* The outcome of an invoke or get. */
typedef struct action_result {
    bool setup_failed; /* could not even be attempted; see why */
    char why[256];
    wb_status status;
    wb_error err;
    wb_val *results;
    wb_valtype *types;
    size_t nresults;
    char desc[200]; /* "invoke f(i32:1)" for messages */
} action_result;

static void action_free(action_result *a)
{
    free(a->results);
    free(a->types);
}

static void do_action(runner *r, const json_t *action, action_result *a)
{
    memset(a, 0, sizeof *a);
    const char *type = json_str(action, "type");
    const json_t *jfield = json_object_get(action, "field");
    const char *field = json_string_value(jfield);
    const char *modname = json_str(action, "module");
    const json_t *args = json_object_get(action, "args");
    char argbuf[128];
    format_json_values(argbuf, sizeof argbuf, args);
    snprintf(a->desc, sizeof a->desc, "%s %s%s\"%s\"(%s)", type ? type : "?",
             modname ? modname : "", modname ? "." : "", field ? field : "?",
             argbuf);

    wb_instance *inst = find_instance(r, modname);
    if (!inst) {
        a->setup_failed = true;
        snprintf(a->why, sizeof a->why, "no instance%s%s (module not loaded)",
                 modname ? " " : "", modname ? modname : "");
        return;
    }
    wb_extern ext;
    if (!field || !find_export(inst, jfield, &ext)) {
        a->setup_failed = true;
        snprintf(a->why, sizeof a->why, "no export \"%s\"", field ? field : "?");
        return;
    }

    if (type && strcmp(type, "get") == 0) {
        if (ext.kind != WB_EXTERN_GLOBAL) {
            a->setup_failed = true;
            snprintf(a->why, sizeof a->why, "export \"%s\" is not a global",
                     field);
            return;
        }
        a->nresults = 1;
        a->results = xcalloc(1, sizeof *a->results);
        a->types = xcalloc(1, sizeof *a->types);
        a->types[0] = wb_global_type(ext.of.global).type;
        wb_global_get(ext.of.global, &a->results[0]);
        a->status = WB_OK;
        return;
    }
    if (!type || strcmp(type, "invoke") != 0) {
        a->setup_failed = true;
        snprintf(a->why, sizeof a->why, "unknown action type '%s'",
                 type ? type : "?");
        return;
    }
    if (ext.kind != WB_EXTERN_FUNC) {
        a->setup_failed = true;
        snprintf(a->why, sizeof a->why, "export \"%s\" is not a function", field);
        return;
    }
    wb_functype ft = wb_func_type(ext.of.func);
    size_t nargs = json_array_size(args);
    if (nargs != ft.nparams) {
        a->setup_failed = true;
        snprintf(a->why, sizeof a->why, "%zu arguments given, %u expected",
                 nargs, ft.nparams);
        return;
    }
    wb_val *vals = xcalloc(nargs, sizeof *vals);
    for (size_t i = 0; i < nargs; i++) {
        if (!parse_value(json_array_get(args, i), &vals[i], a->why,
                         sizeof a->why)) {
            a->setup_failed = true;
            free(vals);
            return;
        }
        if (vals[i].type != ft.params[i]) {
            a->setup_failed = true;
            snprintf(a->why, sizeof a->why, "argument %zu is %s, function wants %s",
                     i, wb_valtype_name(vals[i].type), wb_valtype_name(ft.params[i]));
            free(vals);
            return;
        }
    }
    a->nresults = ft.nresults;
    a->results = xcalloc(ft.nresults, sizeof *a->results);
    a->types = xcalloc(ft.nresults, sizeof *a->types);
    for (size_t i = 0; i < ft.nresults; i++)
        a->types[i] = ft.results[i];
    wb_error_clear(&a->err);
    a->status = wb_func_call(r->store, ext.of.func, vals, nargs, a->results,
                             ft.nresults, &a->err);
    if (a->status != WB_OK && a->err.status == WB_OK)
        a->err.status = a->status;
    free(vals);
}

/* Describes what an action produced, for a failure message. */
static void describe_outcome(const action_result *a, char *buf, size_t size)
{
    if (a->setup_failed) {
        snprintf(buf, size, "not run: %s", a->why);
        return;
    }
    if (a->status != WB_OK) {
        char eb[400];
        snprintf(buf, size, "error: %s", wb_error_format(&a->err, eb, sizeof eb));
        return;
    }
    size_t n = (size_t)snprintf(buf, size, "(");
    for (size_t i = 0; i < a->nresults && n < size; i++) {
        char vb[96];
        format_value(vb, sizeof vb, &a->results[i], a->types[i]);
        n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "", vb);
    }
    if (n < size)
        snprintf(buf + n, size - n, ")");
}

static bool message_starts_with(const wb_error *err, const char *text)
{
    return text && strncmp(err->message, text, strlen(text)) == 0;
}

static void cmd_module(runner *r, const json_t *cmd, unsigned line)
{
    const char *name = json_str(cmd, "name");
    wb_module *m;
    wb_instance *inst = NULL;
    wb_error err;
    char eb[400];
    if (load_module(r, json_str(cmd, "filename"), &m, &err) == WB_OK)
        instantiate(r, m, &inst, &err);
    r->current = inst;
    if (name)
        bind_name(r, name, inst);
    if (!inst) {
        failure(r, line, "module %s%s%s: error: %s", json_str(cmd, "filename"),
                name ? " " : "", name ? name : "",
                wb_error_format(&err, eb, sizeof eb));
        report(r, 'e');
    }
}

static void cmd_register(runner *r, const json_t *cmd, unsigned line)
{
    const char *as = json_str(cmd, "as");
    const char *name = json_str(cmd, "name");
    wb_instance *inst = find_instance(r, name);
    if (!inst || !as) {
        failure(r, line, "register %s as \"%s\": error: no such instance",
                name ? name : "(last module)", as ? as : "?");
        report(r, 'e');
        return;
    }
    wb_status st = wb_linker_define_instance(r->linker, as, inst);
    if (st != WB_OK) {
        failure(r, line, "register as \"%s\": error: %s", as,
                wb_status_name(st));
        report(r, 'e');
    }
}

static void cmd_action(runner *r, const json_t *cmd, unsigned line)
{
    action_result a;
    do_action(r, json_object_get(cmd, "action"), &a);
    if (a.setup_failed || a.status != WB_OK) {
        char ob[600];
        describe_outcome(&a, ob, sizeof ob);
        failure(r, line, "action %s: %s", a.desc, ob);
        report(r, 'e');
    }
    action_free(&a);
}

static void cmd_assert_return(runner *r, const json_t *cmd, unsigned line)
{
    action_result a;
    do_action(r, json_object_get(cmd, "action"), &a);
    const json_t *expected = json_object_get(cmd, "expected");
    bool ok = !a.setup_failed && a.status == WB_OK &&
              json_array_size(expected) == a.nresults;
    for (size_t i = 0; ok && i < a.nresults; i++)
        ok = value_matches(json_array_get(expected, i), &a.results[i],
                           a.types[i]);
    if (ok) {
        report(r, 'p');
    } else {
        char eb[300], ob[600];
        format_json_values(eb, sizeof eb, expected);
        describe_outcome(&a, ob, sizeof ob);
        failure(r, line, "assert_return %s: expected (%s), got %s", a.desc, eb,
                ob);
        report(r, 'f');
    }
    action_free(&a);
}

/* assert_trap / assert_exhaustion: on an action, or (with a filename) on
 * the instantiation of a module whose start function or segments trap. */
static void cmd_assert_trap(runner *r, const json_t *cmd, unsigned line)
{
    const char *type = json_str(cmd, "type");
    const char *text = json_str(cmd, "text");
    const char *filename = json_str(cmd, "filename");
    char eb[400];
    if (filename) {
        wb_module *m;
        wb_instance *inst = NULL;
        wb_error err;
        if (load_module(r, filename, &m, &err) == WB_OK)
            instantiate(r, m, &inst, &err);
        if (!inst && err.status == WB_ERR_TRAP && message_starts_with(&err, text)) {
            report(r, 'p');
        } else {
            failure(r, line, "%s module %s: expected trap \"%s\", got %s", type,
                    filename, text ? text : "?",
                    inst ? "success" : wb_error_format(&err, eb, sizeof eb));
            report(r, 'f');
        }
        return;
    }
    action_result a;
    do_action(r, json_object_get(cmd, "action"), &a);
    if (!a.setup_failed && a.status == WB_ERR_TRAP &&
        message_starts_with(&a.err, text)) {
        report(r, 'p');
    } else {
        char ob[600];
        describe_outcome(&a, ob, sizeof ob);
        failure(r, line, "%s %s: expected trap \"%s\", got %s", type, a.desc,
                text ? text : "?", ob);
        report(r, 'f');
    }
    action_free(&a);
}

/* assert_invalid / assert_malformed: decoding must fail with `want`.
 * assert_unlinkable / assert_uninstantiable (`link`): the module is valid
 * and its instantiation fails with `want`. Only the status is compared:
 * the spec's wording of decode errors is not binding for an engine. */
static void cmd_assert_error(runner *r, const json_t *cmd, unsigned line,
                             wb_status want, bool link)
{
    const char *type = json_str(cmd, "type");
    const char *filename = json_str(cmd, "filename");
    const char *text = json_str(cmd, "text");
    wb_module *m;
    wb_instance *inst = NULL;
    wb_error err;
    char eb[400];
    wb_status st = load_module(r, filename, &m, &err);
    if (link && st != WB_OK) {
        failure(r, line, "%s %s: expected a valid module, got %s", type,
                filename ? filename : "?", wb_error_format(&err, eb, sizeof eb));
        report(r, 'f');
        return;
    }
    if (link)
        st = instantiate(r, m, &inst, &err);
    if (st == want) {
        report(r, 'p');
        return;
    }
    failure(r, line, "%s %s: expected %s (\"%s\"), got %s", type,
            filename ? filename : "?", wb_status_name(want), text ? text : "?",
            st == WB_OK ? (link ? "success" : "a valid module")
                        : wb_error_format(&err, eb, sizeof eb));
    report(r, 'f');
}

static void run_command(runner *r, const json_t *cmd)
{
    const char *type = json_str(cmd, "type");
    unsigned line = (unsigned)json_integer_value(json_object_get(cmd, "line"));
    if (current_line)
        *current_line = line;
    if (!type)
        type = "?";
    if (command_rule(cmd) >= 0)
        return; /* the parent counted it as skipped */

    if (strcmp(type, "module") == 0)
        cmd_module(r, cmd, line);
    else if (strcmp(type, "register") == 0)
        cmd_register(r, cmd, line);
    else if (strcmp(type, "action") == 0)
        cmd_action(r, cmd, line);
    else if (strcmp(type, "assert_return") == 0)
        cmd_assert_return(r, cmd, line);
    else if (strcmp(type, "assert_trap") == 0 ||
             strcmp(type, "assert_exhaustion") == 0)
        cmd_assert_trap(r, cmd, line);
    else if (strcmp(type, "assert_invalid") == 0)
        cmd_assert_error(r, cmd, line, WB_ERR_INVALID, false);
    else if (strcmp(type, "assert_malformed") == 0)
        cmd_assert_error(r, cmd, line, WB_ERR_MALFORMED, false);
    else if (strcmp(type, "assert_unlinkable") == 0)
        cmd_assert_error(r, cmd, line, WB_ERR_LINK, true);
    else if (strcmp(type, "assert_uninstantiable") == 0)
        cmd_assert_error(r, cmd, line, WB_ERR_TRAP, true);
    else {
        failure(r, line, "unknown command type '%s'", type);
        report(r, is_assertion(cmd) ? 'f' : 'e');
    }
}

/* The child's whole job: one store, linker and spectest per .wast file. */
static int run_commands(const json_t *root, const char *dir, const char *file,
                        int fd)
{
    runner r = {0};
    r.file = file;
    r.dir = dir;
    r.fd = fd;
    wb_error err;
    char eb[400];
    wb_error_clear(&err);
    if (wb_engine_new(NULL, &r.engine, &err) != WB_OK ||
        wb_store_new(r.engine, &r.store, &err) != WB_OK ||
        wb_linker_new(r.store, &r.linker, &err) != WB_OK ||
        !define_spectest(r.store, r.linker, &err)) {
        printf("  %s: cannot set up the engine: %s\n", file,
               wb_error_format(&err, eb, sizeof eb));
        /* exit without 'D': the parent fails every assertion of the file */
        return 1;
    }
    const json_t *cmds = json_object_get(root, "commands");
    for (size_t i = 0; i < json_array_size(cmds); i++)
        run_command(&r, json_array_get(cmds, i));

    wb_linker_delete(r.linker);
    wb_store_delete(r.store);
    for (size_t i = 0; i < r.nmodules; i++)
        wb_module_delete(r.modules[i]);
    free(r.modules);
    for (size_t i = 0; i < r.nnamed; i++)
        free(r.named[i].name);
    free(r.named);
    wb_engine_delete(r.engine);
    report(&r, 'D');
    return 0;
}

/* --------------------------------------------------------- the parent */

typedef struct totals {
    uint64_t passed, failed, skipped;
    unsigned files_run, files_skipped, files_failed;
} totals;

static char **failed_files;
static size_t nfailed_files;

/* Runs wast2json without a shell, so paths need no quoting. */
static bool convert(const char *wast, const char *json_out)
{
    char *argv[] = {"wast2json", (char *)wast, "-o", (char *)json_out, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "wast2json", NULL, NULL, argv, environ);
    if (rc != 0) {
        fprintf(stderr, "wb-spec: cannot run wast2json: %s\n", strerror(rc));
        return false;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return false;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "wb-spec: wast2json failed on %s\n", wast);
        return false;
    }
    return true;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char *p = xasprintf("%s/%s", dir, e->d_name);
            unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct child_outcome {
    uint64_t passed, failed, errors;
    bool done;      /* the child got through every command */
    char why[128];  /* when !done: crash, timeout, exit status */
} child_outcome;

/* Forks the child for one file and follows its progress bytes until it
 * exits, or kills it at the time limit. */
static void run_child(const json_t *root, const char *dir, const char *file,
                      child_outcome *out)
{
    memset(out, 0, sizeof *out);
    int fds[2];
    if (pipe(fds) != 0) {
        snprintf(out->why, sizeof out->why, "pipe: %s", strerror(errno));
        return;
    }
    if (current_line)
        *current_line = 0;
    fflush(stdout); /* or the child would print the parent's buffer again */
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(out->why, sizeof out->why, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        int rc = run_commands(root, dir, file, fds[1]);
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }
    close(fds[1]);

    int64_t deadline = now_ms() + (int64_t)opt.timeout_s * 1000;
    bool timed_out = false;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd p = {fds[0], POLLIN, 0};
        int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            continue; /* timeout re-checked at the top */
        char buf[4096];
        ssize_t got = read(fds[0], buf, sizeof buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break; /* EOF: the child is gone */
        for (ssize_t i = 0; i < got; i++) {
            switch (buf[i]) {
            case 'p': out->passed++; break;
            case 'f': out->failed++; break;
            case 'e': out->errors++; break;
            case 'D': out->done = true; break;
            default: break;
            }
        }
    }
    close(fds[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    char sb[32], where[40] = "";
    if (current_line && *current_line)
        snprintf(where, sizeof where, " at line %u", (unsigned)*current_line);
    if (timed_out) {
        out->done = false;
        snprintf(out->why, sizeof out->why, "timed out after %u s%s",
                 opt.timeout_s, where);
    } else if (WIFSIGNALED(status)) {
        out->done = false;
        snprintf(out->why, sizeof out->why, "crashed with %s%s",
                 signal_name(WTERMSIG(status), sb, sizeof sb), where);
    } else if (!out->done || WEXITSTATUS(status) != 0) {
        out->done = false;
        snprintf(out->why, sizeof out->why, "exited with status %d%s",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1, where);
    }
}

static void note_failed_file(const char *file)
{
    failed_files = xrealloc(failed_files,
                            (nfailed_files + 1) * sizeof *failed_files);
    failed_files[nfailed_files++] = xstrdup(file);
}

static void run_file(const char *path, const char *tmp, unsigned index,
                     totals *t)
{
    const char *file = base_name(path);
    char *stem = xstrdup(file);
    stem[strlen(stem) - strlen(".wast")] = '\0';
    /* one folder per input, numbered so equal names cannot collide */
    char *dir = xasprintf("%s/%u-%s", tmp, index, stem);
    char *json_path = xasprintf("%s/%s.json", dir, stem);
    json_t *root = NULL;

    if (mkdir(dir, 0700) != 0) {
        printf("%s: cannot create %s: %s\n", file, dir, strerror(errno));
        t->failed++;
        t->files_failed++;
        note_failed_file(file);
        goto out;
    }
    if (!convert(path, json_path)) {
        printf("%s: 0 passed, 1 failed, 0 skipped (wast2json failed)\n", file);
        t->failed++;
        t->files_failed++;
        note_failed_file(file);
        goto out;
    }
    json_error_t jerr;
    /* Export names in the tests may contain NUL characters. */
    root = json_load_file(json_path, JSON_ALLOW_NUL, &jerr);
    if (!root) {
        printf("%s: 0 passed, 1 failed, 0 skipped (bad JSON: %s)\n", file,
               jerr.text);
        t->failed++;
        t->files_failed++;
        note_failed_file(file);
        goto out;
    }

    /* Count before running, so skips are honest and a crash can be charged
     * with every assertion the child did not get to. */
    const json_t *cmds = json_object_get(root, "commands");
    int frule = file_rule(file);
    uint64_t assertions = 0, skipped = 0;
    for (size_t i = 0; i < json_array_size(cmds); i++) {
        const json_t *cmd = json_array_get(cmds, i);
        if (!is_assertion(cmd))
            continue;
        assertions++;
        int rule = frule >= 0 ? frule : command_rule(cmd);
        if (rule >= 0) {
            skipped++;
            rules[rule].assertions++;
        }
    }
    if (frule >= 0) {
        rules[frule].files++;
        t->files_skipped++;
        t->skipped += skipped;
        printf("%s: 0 passed, 0 failed, %" PRIu64 " skipped (%s)\n", file,
               skipped, rules[frule].pattern);
        goto out;
    }

    child_outcome c;
    run_child(root, dir, file, &c);
    uint64_t runnable = assertions - skipped;
    uint64_t seen = c.passed + c.failed;
    uint64_t failed = c.failed + c.errors;
    if (!c.done && seen < runnable)
        failed += runnable - seen; /* the ones the child never reached */
    if (!c.done && failed == 0)
        failed = 1; /* a file that dies must not pass */
    t->files_run++;
    t->passed += c.passed;
    t->failed += failed;
    t->skipped += skipped;
    if (failed) {
        t->files_failed++;
        note_failed_file(file);
    }
    printf("%s: %" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64 " skipped",
           file, c.passed, failed, skipped);
    if (!c.done)
        printf(" (%s)", c.why);
    else if (c.errors)
        printf(" (%" PRIu64 " command error%s)", c.errors,
               c.errors == 1 ? "" : "s");
    printf("\n");

out:
    if (root)
        json_decref(root);
    remove_tree(dir);
    free(json_path);
    free(dir);
    free(stem);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expands the arguments into the list of .wast files: a folder gives its
 * .wast files sorted by name, a file is taken as is. */
static bool collect(int argc, char **argv, int first, char ***out, size_t *n)
{
    char **list = NULL;
    size_t count = 0;
    for (int i = first; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "wb-spec: %s: %s\n", argv[i], strerror(errno));
            return false;
        }
        if (!S_ISDIR(st.st_mode)) {
            list = xrealloc(list, (count + 1) * sizeof *list);
            list[count++] = xstrdup(argv[i]);
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d) {
            fprintf(stderr, "wb-spec: %s: %s\n", argv[i], strerror(errno));
            return false;
        }
        size_t start = count;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!ends_with(e->d_name, ".wast") || e->d_name[0] == '.')
                continue;
            list = xrealloc(list, (count + 1) * sizeof *list);
            list[count++] = xasprintf("%s/%s", argv[i], e->d_name);
        }
        closedir(d);
        qsort(list + start, count - start, sizeof *list, compare_names);
    }
    *out = list;
    *n = count;
    return true;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wb-spec [--skip FILE] [--verbose] [--jobs-dir TMPDIR]\n"
            "               [--aot[=0..3]] (run every module as native code)\n"
            "               [--timeout SECONDS] WAST_OR_DIR...\n"
            "Runs WebAssembly spec tests (.wast, converted with wast2json).\n");
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            opt.verbose = true;
        } else if (strncmp(a, "--aot", 5) == 0 &&
                   (a[5] == '\0' || (a[5] == '=' && a[6] >= '0' && a[6] <= '3' && !a[7]))) {
#ifdef WB_HAVE_AOT
            opt.aot = true;
            if (a[5] == '=')
                opt.aot_opt = a[6] - '0';
#else
            fprintf(stderr, "wb-spec: built without the AOT compiler (no LLVM)\n");
            return 2;
#endif
        } else if (strcmp(a, "--skip") == 0 && i + 1 < argc) {
            opt.skip_path = argv[++i];
        } else if (strcmp(a, "--jobs-dir") == 0 && i + 1 < argc) {
            opt.jobs_dir = argv[++i];
        } else if (strcmp(a, "--timeout") == 0 && i + 1 < argc) {
            uint64_t v;
            if (!parse_u64(argv[++i], &v) || v == 0 || v > 86400) {
                fprintf(stderr, "wb-spec: bad --timeout\n");
                return 2;
            }
            opt.timeout_s = (unsigned)v;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    if (opt.skip_path && !load_skip_file(opt.skip_path))
        return 2;
    /* A binary-only engine cannot load a .wat, so text-format modules are
     * never run even without a skip file; listing them keeps that visible. */
    add_rule("*:text", "(built in) text-format module; wasmbox reads only "
                       "the binary format", true);

    char **files;
    size_t nfiles;
    if (!collect(argc, argv, i, &files, &nfiles))
        return 2;
    if (nfiles == 0) {
        fprintf(stderr, "wb-spec: no .wast files given\n");
        return 2;
    }

    const char *base = opt.jobs_dir ? opt.jobs_dir : getenv("TMPDIR");
    char *tmp = xasprintf("%s/wb-spec-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmp)) {
        fprintf(stderr, "wb-spec: cannot create a folder in %s: %s\n",
                base && *base ? base : "/tmp", strerror(errno));
        return 2;
    }
    /* A child dying must not kill the parent through a broken pipe write. */
    signal(SIGPIPE, SIG_IGN);
    void *shared = mmap(NULL, sizeof *current_line, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared != MAP_FAILED) /* only a diagnostic: run without it if need be */
        current_line = shared;

    totals t = {0};
    for (size_t k = 0; k < nfiles; k++)
        run_file(files[k], tmp, (unsigned)k, &t);
    rmdir(tmp);

    printf("\nfiles: %zu (%u run, %u skipped, %u with failures)\n", nfiles,
           t.files_run, t.files_skipped, t.files_failed);
    if (nfailed_files) {
        printf("files with failures:");
        for (size_t k = 0; k < nfailed_files; k++)
            printf(" %s", failed_files[k]);
        printf("\n");
    }
    printf("skip list:\n");
    for (size_t k = 0; k < nrules; k++) {
        const skip_rule *r = &rules[k];
        if (r->builtin && r->assertions == 0)
            continue;
        if (r->kind == RULE_FILE)
            printf("  %-24s %6" PRIu64 " assertions in %u files: %s\n",
                   r->pattern, r->assertions, r->files, r->reason);
        else
            printf("  %-24s %6" PRIu64 " assertions: %s\n", r->pattern,
                   r->assertions, r->reason);
    }
    printf("%" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64 " skipped\n",
           t.passed, t.failed, t.skipped);

    for (size_t k = 0; k < nfiles; k++)
        free(files[k]);
    free(files);
    for (size_t k = 0; k < nfailed_files; k++)
        free(failed_files[k]);
    free(failed_files);
    for (size_t k = 0; k < nrules; k++) {
        free(rules[k].pattern);
        free(rules[k].glob);
        free(rules[k].module_type);
        free(rules[k].reason);
    }
    free(rules);
    free(tmp);
    return t.failed == 0 ? 0 : 1;
}
