/*
 * run.c - `wasmbox run [OPTIONS] FILE.wasm [ARGS...]`.
 *
 * Two modes share the set-up (read, decode, validate, link with WASI,
 * instantiate): by default the module is a WASI command and its _start
 * runs with ARGS as its arguments; with --invoke NAME one export is called
 * with ARGS parsed as its parameters and its results are printed.
 *
 * Exit status: the guest's own code (proc_exit N -> N modulo 256, as a
 * native process's exit status; _start returning -> 0), CLI_EXIT_TRAP on a
 * trap, CLI_EXIT_FAILURE when the module cannot be loaded or linked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "native/native.h"
#include "wasmbox_wasi.h"

/* When native code runs (--aot, WASMBOX_AOT). */
typedef enum cli_aot_mode {
    AOT_CACHED,     /* the default: native code when the cache has it */
    AOT_OFF,        /* --interp: never */
    AOT_ON,         /* --aot: compile first when the cache has none */
    AOT_BACKGROUND  /* cached, and a miss starts a compile for next time */
} cli_aot_mode;

typedef struct cli_run_opts {
    const char *invoke; /* NULL: run _start */
    const char *argv0;  /* --argv0: the guest's argv[0] (default: FILE) */
    int ndirs;
    wb_wasi_preopen *dirs; /* --dir, strings owned */
    int nlisten;
    wb_wasi_listen *listen; /* --tcplisten, addresses borrowed from argv */
    wb_wasi_net net;        /* --inherit-network, --allow-ip-name-lookup */
    uint64_t fuel;          /* --fuel (0: unlimited) */
    uint64_t timeout_ns;    /* --timeout (0: none) */
    const char *timeout;    /* its text, for messages */
    uint64_t max_memory;    /* --max-memory in bytes (0: the engine's cap) */
    uint64_t max_stack;     /* --max-stack: call depth (0: the default) */
    uint64_t max_table;     /* --max-table-elements (0: the default) */
    int nrules;
    wb_net_rule *rules;     /* --net-allow (two per "*" rule) */
    const char *file;
    int nargs;          /* guest arguments after FILE */
    char **args;
    int nenv;
    char **env;         /* "KEY=VALUE", malloc'd array of borrowed or owned strings */
    bool *env_owned;    /* env[i] was built here and must be freed */
    cli_aot_mode aot;
    bool aot_set;       /* given on the command line */
} cli_run_opts;

/* Everything one run creates, so that a single cleanup frees it whatever
 * step failed. Deleted in reverse order of creation: the WASI context is
 * used by functions in the store, so it goes after the store. */
typedef struct cli_run_state {
    uint8_t *bytes;
    size_t len;
    wb_engine *engine;
    wb_module *module;
    wb_store *store;
    wb_linker *linker;
    wb_wasi *wasi;
    wb_instance *instance;
    cli_watchdog *watchdog; /* --timeout; stopped by cli_run before any exit */
} cli_run_state;

static void cli_run_cleanup(cli_run_state *s) {
    if (s->linker) wb_linker_delete(s->linker);
    if (s->store) wb_store_delete(s->store);
    wb_wasi_delete(s->wasi);
    if (s->module) wb_module_delete(s->module);
    if (s->engine) wb_engine_delete(s->engine);
    free(s->bytes);
}

static void cli_free_opts(cli_run_opts *o) {
    for (int i = 0; i < o->nenv; i++)
        if (o->env_owned[i]) free(o->env[i]);
    free(o->env);
    free(o->env_owned);
    for (int i = 0; i < o->ndirs; i++) {
        free((char *)o->dirs[i].host_path);
        free((char *)o->dirs[i].guest_path);
    }
    free(o->dirs);
    free(o->listen);
    free(o->rules);
}

/* Adds one --dir HOST[::GUEST][:ro]. GUEST defaults to HOST; a final
 * ":ro" makes the directory read-only. */
static bool cli_add_dir(cli_run_opts *o, const char *spec) {
    size_t len = strlen(spec);
    bool ro = false;
    if (len > 3 && strcmp(spec + len - 3, ":ro") == 0) {
        ro = true;
        len -= 3;
    }
    const char *sep = NULL;
    for (size_t i = 0; i + 1 < len; i++)
        if (spec[i] == ':' && spec[i + 1] == ':') {
            sep = spec + i;
            break;
        }
    size_t hlen = sep ? (size_t)(sep - spec) : len;
    const char *guest = sep ? sep + 2 : spec;
    size_t glen = sep ? len - hlen - 2 : len;
    if (hlen == 0 || glen == 0) {
        cli_error("run: --dir needs HOST[::GUEST][:ro], got '%s'", spec);
        return false;
    }
    char *h = strndup(spec, hlen), *g = strndup(guest, glen);
    if (!h || !g) {
        free(h);
        free(g);
        cli_error("run: out of memory");
        return false;
    }
    o->dirs[o->ndirs].host_path = h;
    o->dirs[o->ndirs].guest_path = g;
    o->dirs[o->ndirs].read_only = ro;
    o->ndirs++;
    return true;
}

/* Adds one --env value. KEY=VALUE is taken as is; a bare KEY passes the
 * host's value of KEY when it has one and is otherwise ignored. */
static bool cli_add_env(cli_run_opts *o, char *spec) {
    if (spec[0] == '\0' || spec[0] == '=') {
        cli_error("run: --env needs KEY=VALUE, got '%s'", spec);
        return false;
    }
    if (strchr(spec, '=')) {
        o->env[o->nenv] = spec;
        o->env_owned[o->nenv] = false;
        o->nenv++;
        return true;
    }
    const char *host = getenv(spec);
    if (!host) return true;
    size_t klen = strlen(spec), vlen = strlen(host);
    char *kv = malloc(klen + vlen + 2);
    if (!kv) {
        cli_error("run: out of memory");
        return false;
    }
    memcpy(kv, spec, klen);
    kv[klen] = '=';
    memcpy(kv + klen + 1, host, vlen + 1);
    o->env[o->nenv] = kv;
    o->env_owned[o->nenv] = true;
    o->nenv++;
    return true;
}

/* The options that take a value (--opt VALUE or --opt=VALUE). */
typedef enum cli_opt {
    OPT_INVOKE, OPT_ENV, OPT_DIR, OPT_ARGV0, OPT_TCPLISTEN, OPT_NET_ALLOW, OPT_FUEL,
    OPT_TIMEOUT, OPT_MAX_MEMORY, OPT_MAX_STACK, OPT_MAX_TABLE,
} cli_opt;

static const char *const cli_opt_names[] = {
    [OPT_INVOKE] = "--invoke",         [OPT_ENV] = "--env",
    [OPT_DIR] = "--dir",               [OPT_ARGV0] = "--argv0",
    [OPT_TCPLISTEN] = "--tcplisten",   [OPT_NET_ALLOW] = "--net-allow",
    [OPT_FUEL] = "--fuel",             [OPT_TIMEOUT] = "--timeout",
    [OPT_MAX_MEMORY] = "--max-memory", [OPT_MAX_STACK] = "--max-stack",
    [OPT_MAX_TABLE] = "--max-table-elements",
};

/* The option named by name[0..len), or -1. */
static int cli_value_option(const char *name, size_t len) {
    for (size_t k = 0; k < sizeof cli_opt_names / sizeof cli_opt_names[0]; k++)
        if (strlen(cli_opt_names[k]) == len && strncmp(name, cli_opt_names[k], len) == 0)
            return (int)k;
    return -1;
}

/* The mode named by text (as --aot=MODE and $WASMBOX_AOT name them). */
static bool cli_aot_mode_parse(const char *text, cli_aot_mode *out) {
    static const char *const names[] = {[AOT_CACHED] = "cached", [AOT_OFF] = "off",
                                        [AOT_ON] = "on", [AOT_BACKGROUND] = "background"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        if (strcmp(text, names[k]) == 0) {
            *out = (cli_aot_mode)k;
            return true;
        }
    }
    return false;
}

/* Returns -1 when parsing succeeded, or the exit status to end with. */
static int cli_parse_opts(int argc, char **argv, cli_run_opts *o) {
    memset(o, 0, sizeof *o);
    /* At most one --env per argument, so argc entries always suffice. */
    o->env = calloc((size_t)argc + 1, sizeof *o->env);
    o->env_owned = calloc((size_t)argc + 1, sizeof *o->env_owned);
    o->dirs = calloc((size_t)argc + 1, sizeof *o->dirs);
    o->listen = calloc((size_t)argc + 1, sizeof *o->listen);
    o->rules = calloc(2 * (size_t)argc + 2, sizeof *o->rules);
    if (!o->env || !o->env_owned || !o->dirs || !o->listen || !o->rules) {
        cli_error("run: out of memory");
        return CLI_EXIT_FAILURE;
    }
    int i = 1;
    for (; i < argc; i++) {
        char *a = argv[i];
        /* Options end at the first non-option: that is FILE, and all that
         * follows belongs to the guest. */
        if (a[0] != '-' || a[1] == '\0') break;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cli_verb_help("run");
            return CLI_EXIT_OK;
        }
        if (strcmp(a, "--inherit-network") == 0) {
            o->net.inherit = true;
            continue;
        }
        if (strcmp(a, "--allow-ip-name-lookup") == 0) {
            o->net.name_lookup = true;
            continue;
        }
        if (strcmp(a, "--interp") == 0 || strncmp(a, "--aot", 5) == 0) {
            const char *m = a[2] == 'i' ? "off" : a[5] == '\0' ? "on" : a[5] == '=' ? a + 6 : "";
            if (!cli_aot_mode_parse(m, &o->aot)) {
                cli_error("run: unknown option '%s' (--aot[=on|off|cached|background], --interp)", a);
                return CLI_EXIT_USAGE;
            }
            o->aot_set = true;
            continue;
        }
        const char *name = a;
        char *value = NULL;
        char *eq = NULL;
        /* --opt=value and --opt value are both accepted. */
        if (strncmp(a, "--", 2) == 0 && (eq = strchr(a, '=')) != NULL) value = eq + 1;
        size_t name_len = eq ? (size_t)(eq - a) : strlen(a);
        int opt = cli_value_option(name, name_len);
        if (opt < 0) {
            cli_error("run: unknown option '%s' (see 'wasmbox help run')", a);
            return CLI_EXIT_USAGE;
        }
        if (!value) {
            if (i + 1 >= argc) {
                cli_error("run: option '%.*s' needs a value", (int)name_len, name);
                return CLI_EXIT_USAGE;
            }
            value = argv[++i];
        }
        switch ((cli_opt)opt) {
        case OPT_INVOKE:
            if (value[0] == '\0') {
                cli_error("run: --invoke needs a function name");
                return CLI_EXIT_USAGE;
            }
            o->invoke = value;
            break;
        case OPT_ENV:
            if (!cli_add_env(o, value)) return CLI_EXIT_USAGE;
            break;
        case OPT_DIR:
            if (!cli_add_dir(o, value)) return CLI_EXIT_USAGE;
            break;
        case OPT_ARGV0:
            o->argv0 = value;
            break;
        case OPT_FUEL:
            if (!cli_parse_count(value, UINT64_MAX, &o->fuel) || o->fuel == 0) {
                cli_error("run: --fuel needs a positive number of units, got '%s'", value);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_TIMEOUT:
            if (!cli_parse_duration(value, &o->timeout_ns)) {
                cli_error("run: --timeout needs a duration such as 500ms, 2s or 1m, got '%s'",
                          value);
                return CLI_EXIT_USAGE;
            }
            o->timeout = value;
            break;
        case OPT_MAX_MEMORY:
            if (!cli_parse_bytes(value, &o->max_memory) || o->max_memory == 0) {
                cli_error("run: --max-memory needs a size such as 64MiB or 1G, got '%s'", value);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_MAX_STACK:
            if (!cli_parse_count(value, UINT32_MAX, &o->max_stack) || o->max_stack == 0) {
                cli_error("run: --max-stack needs a call depth (a positive number), got '%s'",
                          value);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_MAX_TABLE:
            if (!cli_parse_count(value, UINT32_MAX, &o->max_table)) {
                cli_error("run: --max-table-elements needs a number, got '%s'", value);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_NET_ALLOW: {
            wb_error err;
            int n = wb_net_rule_parse(value, o->rules + o->nrules, &err);
            if (n == 0) {
                cli_error("run: --net-allow: %s", err.message);
                return CLI_EXIT_USAGE;
            }
            o->nrules += n;
            break;
        }
        case OPT_TCPLISTEN:
            if (!strchr(value, ':')) {
                cli_error("run: --tcplisten needs HOST:PORT, got '%s'", value);
                return CLI_EXIT_USAGE;
            }
            o->listen[o->nlisten].address = value;
            o->listen[o->nlisten].fd = -1;
            o->nlisten++;
            break;
        }
    }
    if (i >= argc) {
        cli_error("run: no module given (usage: wasmbox run [OPTIONS] FILE.wasm [ARGS...])");
        return CLI_EXIT_USAGE;
    }
    o->file = argv[i];
    o->args = argv + i + 1;
    o->nargs = argc - i - 1;
    return -1;
}

/* Turns the outcome of running guest code into the exit status. */
static int cli_outcome(const cli_run_opts *o, wb_status st, wb_error *err) {
    if (st == WB_OK) return CLI_EXIT_OK;
    if (err->status == WB_OK) err->status = st;
    if (st == WB_ERR_EXIT) return (int)((unsigned)err->exit_code & 0xFFu);
    if (st == WB_ERR_TRAP) {
        char buf[512];
        cli_error("%s", wb_error_format(err, buf, sizeof buf));
        /* Name the limit that was hit. */
        if (err->trap == WB_TRAP_INTERRUPTED && o->timeout) {
            cli_error("timeout: the module ran longer than --timeout %s", o->timeout);
            return CLI_EXIT_TIMEOUT;
        }
        if (err->trap == WB_TRAP_OUT_OF_FUEL && o->fuel)
            cli_error("the --fuel limit of %llu units was used up", (unsigned long long)o->fuel);
        if (err->trap == WB_TRAP_STACK_EXHAUSTED && o->max_stack)
            cli_error("the call depth limit --max-stack %llu was reached",
                      (unsigned long long)o->max_stack);
        return CLI_EXIT_TRAP;
    }
    cli_error_wb(o->file, err);
    return CLI_EXIT_FAILURE;
}

static const char *cli_kind_name(wb_externkind kind) {
    switch (kind) {
    case WB_EXTERN_FUNC: return "a function";
    case WB_EXTERN_TABLE: return "a table";
    case WB_EXTERN_MEMORY: return "a memory";
    case WB_EXTERN_GLOBAL: return "a global";
    }
    return "not a function";
}

/* Finds export `name`, which must be a function. */
static bool cli_find_func(const cli_run_opts *o, const cli_run_state *s,
                          const char *name, wb_func **out) {
    wb_extern ext;
    if (!wb_instance_export(s->instance, name, &ext)) {
        cli_error("%s: no exported function '%s'", o->file, name);
        /* Listing what is there saves a round trip to a disassembler. */
        size_t n = wb_instance_export_count(s->instance), shown = 0;
        for (size_t i = 0; i < n; i++) {
            const char *ename;
            wb_extern e;
            if (!wb_instance_export_nth(s->instance, i, &ename, &e) ||
                e.kind != WB_EXTERN_FUNC)
                continue;
            if (shown == 20) {
                fprintf(stderr, " ...");
                break;
            }
            if (shown == 0) fprintf(stderr, "wasmbox: exported functions:");
            fprintf(stderr, " %s", ename);
            shown++;
        }
        if (shown) fputc('\n', stderr);
        return false;
    }
    if (ext.kind != WB_EXTERN_FUNC) {
        cli_error("%s: export '%s' is %s, not a function", o->file, name,
                  cli_kind_name(ext.kind));
        return false;
    }
    *out = ext.of.func;
    return true;
}

static void cli_type_list(char *buf, size_t size, const wb_valtype *types, uint32_t n) {
    size_t used = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < n && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? " " : "",
                         wb_valtype_name(types[i]));
        if (w < 0) break;
        used += (size_t)w;
    }
}

/* Calls _initialize when the module has one (a WASI reactor), so that
 * an invoked export finds the module's runtime set up, as wasmtime does.
 * Returns -1 to go on, or the exit status to end with (the guest may also
 * exit or trap here). */
static int cli_initialize(const cli_run_opts *o, cli_run_state *s) {
    wb_extern ext;
    if (!wb_instance_export(s->instance, "_initialize", &ext) ||
        ext.kind != WB_EXTERN_FUNC)
        return -1;
    wb_functype t = wb_func_type(ext.of.func);
    if (t.nparams != 0 || t.nresults != 0) return -1;
    wb_error err;
    wb_error_clear(&err);
    fflush(stdout);
    wb_status st = wb_func_call(s->store, ext.of.func, NULL, 0, NULL, 0, &err);
    return st == WB_OK ? -1 : cli_outcome(o, st, &err);
}

static int cli_invoke(const cli_run_opts *o, cli_run_state *s) {
    if (strcmp(o->invoke, "_initialize") != 0) {
        int rc = cli_initialize(o, s);
        if (rc >= 0) return rc;
    }
    wb_func *func;
    if (!cli_find_func(o, s, o->invoke, &func)) return CLI_EXIT_FAILURE;
    wb_functype t = wb_func_type(func);
    if ((uint32_t)o->nargs != t.nparams) {
        char types[256];
        cli_type_list(types, sizeof types, t.params, t.nparams);
        cli_error("%s: function '%s' takes %u argument%s (%s), %d given", o->file,
                  o->invoke, t.nparams, t.nparams == 1 ? "" : "s", types, o->nargs);
        return CLI_EXIT_USAGE;
    }
    /* Sized by the function's type, which comes from the module: heap, not
     * stack. One extra element keeps the size nonzero. */
    wb_val *params = calloc((size_t)t.nparams + 1, sizeof *params);
    wb_val *results = calloc((size_t)t.nresults + 1, sizeof *results);
    int rc = CLI_EXIT_OK;
    if (!params || !results) {
        cli_error("run: out of memory");
        rc = CLI_EXIT_FAILURE;
        goto done;
    }
    for (uint32_t i = 0; i < t.nparams; i++) {
        char why[128];
        if (!cli_parse_value(t.params[i], o->args[i], &params[i], why, sizeof why)) {
            cli_error("%s: argument %u of '%s' ('%s'): %s: %s", o->file, i + 1, o->invoke,
                      o->args[i], wb_valtype_name(t.params[i]), why);
            rc = CLI_EXIT_USAGE;
            goto done;
        }
    }
    for (uint32_t i = 0; i < t.nresults; i++) results[i].type = t.results[i];
    wb_error err;
    wb_error_clear(&err);
    /* Whatever the guest prints goes straight to fd 1; flush ours first so
     * the order on the terminal is the order of events. */
    fflush(stdout);
    wb_status st = wb_func_call(s->store, func, params, t.nparams, results, t.nresults, &err);
    if (st != WB_OK) {
        rc = cli_outcome(o, st, &err);
        goto done;
    }
    for (uint32_t i = 0; i < t.nresults; i++) {
        char text[64];
        cli_format_value(&results[i], text, sizeof text);
        printf("%s\n", text);
    }
    if (fflush(stdout) != 0) {
        cli_error("stdout: write failed");
        rc = CLI_EXIT_FAILURE;
    }
done:
    free(params);
    free(results);
    return rc;
}

static int cli_run_start(const cli_run_opts *o, cli_run_state *s) {
    wb_extern ext;
    if (!wb_instance_export(s->instance, "_start", &ext)) {
        cli_error("%s: the module has no '_start' function to run "
                  "(use --invoke NAME to call one of its exports)", o->file);
        return CLI_EXIT_FAILURE;
    }
    if (ext.kind != WB_EXTERN_FUNC) {
        cli_error("%s: export '_start' is %s, not a function", o->file, cli_kind_name(ext.kind));
        return CLI_EXIT_FAILURE;
    }
    wb_functype t = wb_func_type(ext.of.func);
    if (t.nparams != 0 || t.nresults != 0) {
        cli_error("%s: '_start' must take no arguments and return nothing", o->file);
        return CLI_EXIT_FAILURE;
    }
    wb_error err;
    wb_error_clear(&err);
    fflush(stdout);
    wb_status st = wb_func_call(s->store, ext.of.func, NULL, 0, NULL, 0, &err);
    return cli_outcome(o, st, &err);
}

static cli_aot_mode cli_aot_mode_of(const cli_run_opts *o) {
    cli_aot_mode mode = o->aot;
    if (!o->aot_set) {
        /* Unset or unknown: the default. */
        const char *env = getenv("WASMBOX_AOT");
        if (!env || !cli_aot_mode_parse(env, &mode)) mode = AOT_CACHED;
    }
    /* Only the interpreter meters fuel and counts call depth: say so
     * rather than ignore the limit. */
    if ((o->fuel || o->max_stack) && mode != AOT_OFF) {
        if (o->aot_set && mode == AOT_ON)
            cli_error("run: %s is metered by the interpreter only; running interpreted",
                      o->fuel ? "--fuel" : "--max-stack");
        mode = AOT_OFF;
    }
    return mode;
}

/* Starts `wasmbox compile -q FILE` on its own, niced, detached from this
 * process (its session, no terminal), to fill the cache for the next run. */
static void cli_compile_in_background(const char *file) {
    char self[PATH_MAX], aotc[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || !native_compiler_path(aotc, sizeof aotc)) return;
    self[n] = '\0';
    pid_t pid = fork();
    if (pid != 0) {
        if (pid > 0) waitpid(pid, NULL, 0); /* the middle child exits at once */
        return;
    }
    if (fork() != 0) _exit(0);
    setsid();
    if (nice(10) == -1) { /* best effort */
    }
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0), dup2(null, 1), dup2(null, 2);
        if (null > 2) close(null);
    }
    execl(self, "wasmbox", "compile", "-q", file, (char *)NULL);
    _exit(127);
}

/* Attaches cached native code to the module, compiling it first in mode
 * on. Any failure leaves the module interpreting, with a note. */
static void cli_native(const cli_run_opts *o, cli_run_state *s, cli_aot_mode mode,
                       const native_flags *f, const char *name) {
    native_cache c;
    char why[600];
    if (!native_cache_open(&c, mode == AOT_ON, why, sizeof why)) {
        if (mode == AOT_ON) cli_error("run: native code: %s; running interpreted", why);
        else if (mode == AOT_BACKGROUND) cli_compile_in_background(o->file);
        return;
    }
    int got = native_cache_load_name(&c, s->module, name, why, sizeof why);
    if (got < 0)
        cli_error("run: native code refused (%s); %s", why,
                  mode == AOT_ON ? "compiling it again" : "running interpreted");
    if (got <= 0 && mode == AOT_ON) {
        if (!native_cache_compile(&c, o->file, s->bytes, s->len, f, NULL, why, sizeof why))
            cli_error("run: cannot compile %s (%s); running interpreted", o->file, why);
        else if (native_cache_load_name(&c, s->module, name, why, sizeof why) <= 0)
            cli_error("run: native code refused (%s); running interpreted", why);
    } else if (got <= 0 && mode == AOT_BACKGROUND) {
        cli_compile_in_background(o->file);
    }
    native_cache_close(&c);
}

/* Builds the engine objects and instantiates the module; returns -1 on
 * success or the exit status to end with. */
static int cli_load(const cli_run_opts *o, cli_run_state *s) {
    if (!cli_read_file(o->file, &s->bytes, &s->len)) return CLI_EXIT_FAILURE;
    wb_error err;
    wb_error_clear(&err);
    wb_config ecfg;
    wb_config_default(&ecfg);
    if (o->max_memory) {
        /* Whole pages: a cap below one page allows none. */
        uint64_t pages = o->max_memory / 65536;
        if (pages < ecfg.max_memory_pages) ecfg.max_memory_pages = (uint32_t)pages;
    }
    if (o->max_stack) ecfg.max_call_depth = (uint32_t)o->max_stack;
    if (o->max_table && o->max_table < ecfg.max_table_elems)
        ecfg.max_table_elems = (uint32_t)o->max_table;
    if (wb_engine_new(&ecfg, &s->engine, &err) != WB_OK) {
        cli_error_wb("engine", &err);
        return CLI_EXIT_FAILURE;
    }
    /* Native code is looked up by the module's hash, taken before the
     * module takes the bytes (no copy). Only a compile (--aot on a miss)
     * needs them again: then they are copied. */
    cli_aot_mode mode = cli_aot_mode_of(o);
    char native_name[96];
    native_flags nflags = NATIVE_FLAGS_DEFAULT;
    if (mode != AOT_OFF) native_cache_name(s->bytes, s->len, &nflags, native_name);
    wb_status st = mode == AOT_ON
                       ? wb_module_new(s->engine, s->bytes, s->len, &s->module, &err)
                       : wb_module_new_owned(s->engine, s->bytes, s->len, &s->module, &err);
    if (mode != AOT_ON) s->bytes = NULL;
    if (st != WB_OK) {
        s->module = NULL;
        if (err.status == WB_OK) err.status = st;
        cli_error_wb(o->file, &err);
        return CLI_EXIT_FAILURE;
    }
    if (mode != AOT_OFF) cli_native(o, s, mode, &nflags, native_name);
    st = wb_store_new(s->engine, &s->store, &err);
    if (st == WB_OK) st = wb_linker_new(s->store, &s->linker, &err);
    if (st != WB_OK) {
        if (err.status == WB_OK) err.status = st;
        cli_error_wb(o->file, &err);
        return CLI_EXIT_FAILURE;
    }

    /* The guest's argv: FILE as given, then ARGS. In --invoke mode ARGS
     * are the function's arguments, so the guest sees only FILE. */
    int guest_argc = o->invoke ? 1 : o->nargs + 1;
    const char **guest_argv = calloc((size_t)guest_argc, sizeof *guest_argv);
    if (!guest_argv) {
        cli_error("run: out of memory");
        return CLI_EXIT_FAILURE;
    }
    guest_argv[0] = o->argv0 ? o->argv0 : o->file;
    for (int i = 1; i < guest_argc; i++) guest_argv[i] = o->args[i - 1];
    wb_wasi_config cfg;
    wb_wasi_config_default(&cfg);
    cfg.argc = guest_argc;
    cfg.argv = guest_argv;
    cfg.envc = o->nenv;
    cfg.envp = (const char *const *)o->env;
    cfg.npreopens = o->ndirs;
    cfg.preopens = o->dirs;
    cfg.nlisten = o->nlisten;
    cfg.listen = o->listen;
    cfg.net.inherit = o->net.inherit;
    cfg.net.name_lookup = o->net.name_lookup;
    cfg.net.nrules = o->nrules;
    cfg.net.rules = o->rules;
    st = wb_wasi_new(&cfg, &s->wasi, &err);
    free(guest_argv); /* copied by wb_wasi_new */
    if (st == WB_OK) {
        st = wb_wasi_define(s->wasi, s->linker);
        if (st != WB_OK) {
            wb_error_clear(&err);
            err.status = st;
            snprintf(err.message, sizeof err.message, "cannot define the WASI functions");
        }
    }
    if (st != WB_OK) {
        if (err.status == WB_OK) err.status = st;
        cli_error_wb(o->file, &err);
        return CLI_EXIT_FAILURE;
    }

    if (o->fuel) wb_store_set_fuel(s->store, o->fuel);
    /* The clock starts before the start function, which is guest code. */
    if (o->timeout_ns && !(s->watchdog = cli_watchdog_start(s->store, o->timeout_ns, o->timeout))) {
        cli_error("run: cannot start the --timeout watchdog");
        return CLI_EXIT_FAILURE;
    }
    /* Instantiation runs the module's start function, which may trap or
     * exit like any other guest code. */
    fflush(stdout);
    st = wb_linker_instantiate(s->linker, s->module, &s->instance, &err);
    if (st != WB_OK) {
        s->instance = NULL;
        return cli_outcome(o, st, &err);
    }
    return -1;
}

/* `run` is two verbs: the Wasm program runner (FILE.wasm ARGS) and runc's
 * `run [--bundle DIR] ID`. It is runc's when runtime global options came
 * first, when a runc-only flag is given, or when the operand is no file
 * but the current folder holds a bundle (config.json), as runc assumes. */
static bool cli_run_is_oci(int argc, char **argv) {
    static const char *const oci_flags[] = {"--bundle", "-b", "--detach", "-d", "--pid-file",
                                            "--console-socket", "--no-pivot", "--keep",
                                            "--preserve-fds", "--no-new-keyring",
                                            "--no-subreaper"};
    if (cli_runtime_globals) return true;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        if (strcmp(argv[i], "--") == 0) return false;
        size_t n = strcspn(argv[i], "=");
        for (size_t k = 0; k < sizeof oci_flags / sizeof oci_flags[0]; k++)
            if (strlen(oci_flags[k]) == n && strncmp(argv[i], oci_flags[k], n) == 0) return true;
    }
    if (i != argc - 1) return false; /* a module with arguments, or nothing */
    struct stat st;
    return stat(argv[i], &st) != 0 && stat("config.json", &st) == 0;
}

int cli_run(int argc, char **argv) {
    if (cli_run_is_oci(argc, argv)) return cli_oci_run(argc, argv);
    cli_run_opts opts;
    int rc = cli_parse_opts(argc, argv, &opts);
    if (rc >= 0) {
        cli_free_opts(&opts);
        return rc;
    }
    cli_run_state state;
    memset(&state, 0, sizeof state);
    rc = cli_load(&opts, &state);
    if (rc < 0) rc = opts.invoke ? cli_invoke(&opts, &state) : cli_run_start(&opts, &state);
    /* The guest is done (or never ran): the watchdog may not fire now. */
    cli_watchdog_stop(state.watchdog);
#ifndef WB_SANITIZE_BUILD
    /* All that is left belongs to this process, and the kernel frees it
     * faster than teardown would (the linear memory's 8 GiB reservation,
     * every allocation): exit now (atexit handlers and stdio still run).
     * Sanitizer builds tear down, so that the leak checker sees
     * everything freed. */
    exit(rc);
#endif
    cli_run_cleanup(&state);
    cli_free_opts(&opts);
    return rc;
}
