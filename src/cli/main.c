/*
 * main.c - `wasmbox VERB ...`: the table of verbs, help and version.
 *
 * Each verb is one entry here and one file of its own; adding a verb means
 * adding a line to cli_verbs and a file, nothing else.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "oci/oci.h"

typedef struct cli_verb {
    const char *name;
    int (*handler)(int argc, char **argv);
    const char *summary; /* one line for the verb list */
    const char *usage;   /* the verb's own help: synopsis and flags */
} cli_verb;

static const cli_verb cli_verbs[] = {
    {"run", cli_run, "run a WebAssembly program (WASI command) or one export",
     "usage: wasmbox run [OPTIONS] FILE.wasm [ARGS...]\n"
     "\n"
     "Runs the module's _start with WASI; ARGS follow FILE as the guest's\n"
     "arguments (argv[0] is FILE as given). Options end at FILE, so guest\n"
     "arguments such as -x pass through untouched. Nothing is granted by\n"
     "default: no environment, no directories, no network.\n"
     "\n"
     "options:\n"
     "  --invoke NAME   call the exported function NAME instead of _start;\n"
     "                  ARGS are its arguments (i32/i64: decimal or 0x hex,\n"
     "                  f32/f64: decimal, inf, -inf, nan, nan:0xPAYLOAD), and\n"
     "                  each result is printed on its own line\n"
     "  --env KEY=VALUE give the guest an environment variable (repeatable);\n"
     "                  --env KEY passes the host's value of KEY, if set.\n"
     "                  The guest sees no other environment.\n"
     "  --dir HOST[::GUEST][:ro]\n"
     "                  give the guest the host directory HOST under the\n"
     "                  name GUEST (default: HOST), e.g. --dir data::/ or\n"
     "                  --dir /srv/in::in:ro; with :ro nothing beneath it\n"
     "                  can be written (EROFS). Repeatable; the guest can\n"
     "                  never reach outside these directories.\n"
     "  --argv0 NAME    the guest's argv[0] (default: FILE as given)\n"
     "  --tcplisten HOST:PORT\n"
     "                  listen on a TCP address (repeatable); the socket is\n"
     "                  the guest's next descriptor after the preopens, for\n"
     "                  sock_accept\n"
     "  --inherit-network\n"
     "                  let the guest open, bind and connect sockets of its\n"
     "                  own (WasmEdge's socket ABI) on any address\n"
     "  --net-allow bind|connect|bind,connect:CIDR[:PORTS]\n"
     "                  allow only these (repeatable), e.g.\n"
     "                  connect:10.0.0.0/8:5432, bind:127.0.0.1:8080-8089,\n"
     "                  connect:[::1]/128, connect:*:443\n"
     "  --allow-ip-name-lookup\n"
     "                  let the guest resolve names (hosts file, DNS);\n"
     "                  numeric addresses always resolve\n"
     "                  A refused socket call fails with EACCES and one\n"
     "                  line on stderr.\n"
     "  --fuel N        stop the module (a trap) after N units of fuel,\n"
     "                  about one per call and loop iteration\n"
     "  --timeout DURATION\n"
     "                  stop the module after DURATION (500ms, 2s, 1m); exit\n"
     "                  status 124\n"
     "  --max-memory SIZE\n"
     "                  cap linear memory (64MiB, 1G): memory.grow beyond it\n"
     "                  returns -1\n"
     "  --max-stack N   cap the call depth (\"call stack exhausted\" beyond)\n"
     "  --max-table-elements N\n"
     "                  cap every table's size\n"
     "  --aot[=on|off|cached|background]\n"
     "                  native code: 'on' (--aot) compiles the module first\n"
     "                  when the cache has none (see 'wasmbox compile');\n"
     "                  'cached' (the default, or $WASMBOX_AOT) runs native\n"
     "                  code only when the cache has it; 'background' also\n"
     "                  starts a compile for the next run on a miss; 'off'\n"
     "                  interprets. --fuel always interprets.\n"
     "  --interp        the same as --aot=off\n"
     "  --              end of options\n"
     "  -h, --help      show this help\n"
     "\n"
     "exit status: the guest's exit code (proc_exit, or 0 when _start\n"
     "returns); 134 on a trap (fuel and stack limits included); 124 when\n"
     "--timeout stopped it; 1 when the module cannot be read, decoded,\n"
     "validated or linked; 2 on a usage error.\n"},
    {"compile", cli_compile, "compile modules ahead of time into native code",
     "usage: wasmbox compile [-O0|-O1|-O2|-O3] [--strict-fp] [-q] FILE.wasm...\n"
     "       wasmbox compile [OPTIONS] FILE.wasm -o OUT\n"
     "\n"
     "Compiles each module with LLVM (the wasmbox-aotc program) into native\n"
     "code for this machine's CPU, sealed with this host's key, and stores it\n"
     "in the cache (see 'wasmbox cache'), where 'wasmbox run' and containers\n"
     "find it: the next start runs native code. With -o the sealed artifact\n"
     "is written to OUT instead.\n"
     "\n"
     "options:\n"
     "  -O0..-O3       optimisation level (default -O2; part of the cache key)\n"
     "  --strict-fp    every float operation strict (exact signalling-NaN\n"
     "                 results even through inlining; slower)\n"
     "  -q, --quiet    print nothing on success\n"
     "\n"
     "The compile runs with limits (4 GiB of address space, 600 s of CPU).\n"
     "exit status: 0 when every module compiled, 1 otherwise, 2 on a usage\n"
     "error.\n"},
    {"cache", cli_cache, "list or clean the native-code cache",
     "usage: wasmbox cache [ls|dir|clean|trim]\n"
     "\n"
     "  ls      list the compiled artifacts (the default)\n"
     "  dir     print the cache folder: /var/lib/wasmbox/aot for root,\n"
     "          $XDG_CACHE_HOME/wasmbox/aot (~/.cache/wasmbox/aot) otherwise,\n"
     "          $WASMBOX_CACHE_DIR when set\n"
     "  clean   remove every artifact\n"
     "  trim    remove the least recently used artifacts beyond the size cap\n"
     "          ($WASMBOX_CACHE_MAX, e.g. 512M; default 2G)\n"},
    {"validate", cli_validate, "check that files are valid WebAssembly modules",
     "usage: wasmbox validate FILE.wasm...\n"
     "\n"
     "Decodes and validates each module. Prints \"FILE: ok\" for a valid one,\n"
     "and the error (kind, message, function and byte offset) for any other.\n"
     "\n"
     "exit status: 0 when every file is valid, 1 otherwise, 2 on a usage\n"
     "error.\n"},
    /* The OCI runtime: runc's command line, so that Docker, Podman,
     * containerd and Kubernetes can run Wasm containers (docs/oci.md). */
    {"create", cli_create, "runtime: create a container from an OCI bundle",
     "usage: wasmbox [GLOBAL] create [--bundle DIR] [--pid-file FILE]\n"
     "              [--console-socket SOCK] [--no-pivot] ID\n"
     "\n"
     "Reads DIR/config.json (default: the current folder). A Wasm container\n"
     "(annotation run.oci.handler=wasm or module.wasm.image/variant=compat,\n"
     "or an entrypoint starting with \\0asm) gets its namespaces, cgroup and\n"
     "mounts, its module is validated, and it waits for `start`. Any other\n"
     "container is handed to runc (or $WASMBOX_LINUX_RUNTIME) unchanged.\n"
     "\n"
     "global options (before the verb, as runc takes them):\n"
     "  --root DIR            state folder (default /run/wasmbox)\n"
     "  --log FILE            also log errors to FILE\n"
     "  --log-format json|text\n"
     "  --systemd-cgroup      cgroupsPath is slice:prefix:name\n"
     "  --debug               log debug messages\n"},
    {"start", cli_start, "runtime: start a created container", "usage: wasmbox [GLOBAL] start ID\n"},
    {"state", cli_state, "runtime: print a container's OCI state (JSON)",
     "usage: wasmbox [GLOBAL] state ID\n"},
    {"kill", cli_kill, "runtime: send a signal to a container",
     "usage: wasmbox [GLOBAL] kill [--all] ID [SIGNAL]\n"
     "\n"
     "SIGNAL is a name (TERM, SIGKILL) or number; default TERM. --all signals\n"
     "every process in the container's cgroup.\n"},
    {"delete", cli_delete, "runtime: delete a container (and its cgroup, state)",
     "usage: wasmbox [GLOBAL] delete [--force] ID\n"},
    {"list", cli_list, "runtime: list containers",
     "usage: wasmbox [GLOBAL] list [--format table|json] [-q]\n"},
    {"ps", cli_ps, "runtime: list a container's processes",
     "usage: wasmbox [GLOBAL] ps [--format table|json] ID [PS_ARGS...]\n"},
    {"pause", cli_pause, "runtime: freeze a container", "usage: wasmbox [GLOBAL] pause ID\n"},
    {"resume", cli_pause, "runtime: thaw a paused container",
     "usage: wasmbox [GLOBAL] resume ID\n"},
    {"update", cli_update, "runtime: change a container's resource limits",
     "usage: wasmbox [GLOBAL] update [--memory N] [--memory-reservation N]\n"
     "              [--memory-swap N] [--cpu-quota N] [--cpu-period N]\n"
     "              [--cpu-share N] [--cpuset-cpus L] [--cpuset-mems L]\n"
     "              [--pids-limit N] [-r FILE|-] ID\n"
     "\n"
     "Changes the cgroup limits (-r: an OCI LinuxResources JSON document).\n"
     "The module's linear-memory cap stays as set at create.\n"},
    {"exec", cli_exec, "runtime: run another Wasm program in a running container",
     "usage: wasmbox [GLOBAL] exec [--process FILE] [--detach] [--pid-file F]\n"
     "              [--console-socket S] [--tty] [--cwd DIR] [--env K=V]\n"
     "              ID [COMMAND ARGS...]\n"
     "\n"
     "COMMAND must be a WebAssembly module inside the container; it gets the\n"
     "container's namespaces, cgroup, mounts and limits.\n"},
    {"features", cli_features, "runtime: print the supported features (JSON)",
     "usage: wasmbox features\n"},
    {"spec", cli_spec, "runtime: write a config.json template for a Wasm container",
     "usage: wasmbox spec [--bundle DIR]\n"},
};

#define CLI_VERB_COUNT (sizeof cli_verbs / sizeof cli_verbs[0])

void cli_error(const char *fmt, ...) {
    va_list ap;
    fflush(stdout); /* keep stdout and stderr in order on a shared terminal */
    fputs("wasmbox: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_error_wb(const char *file, const wb_error *err) {
    char buf[512];
    wb_error_format(err, buf, sizeof buf);
    cli_error("%s: %s", file, buf);
}

bool cli_runtime_globals;

const char *cli_single_id(int argc, char **argv) {
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        cli_verb_help(argv[0]);
        return NULL;
    }
    if (argc != 2 || argv[1][0] == '-') {
        cli_error("%s: usage: wasmbox %s ID", argv[0], argv[0]);
        return NULL;
    }
    return argv[1];
}

/* runc's global options, before the verb. Returns the index of the verb,
 * or -1 after a usage error. */
static int cli_parse_globals(int argc, char **argv) {
    oci_g.argc = argc;
    oci_g.argv = argv;
    int i = 1;
    while (i < argc && strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0') {
        char *a = argv[i];
        size_t n = strcspn(a, "=");
        const char *value = a[n] == '=' ? a + n + 1 : NULL;
        bool takes = (n == 6 && strncmp(a, "--root", 6) == 0) ||
                     (n == 5 && strncmp(a, "--log", 5) == 0) ||
                     (n == 12 && strncmp(a, "--log-format", 12) == 0) ||
                     (n == 10 && strncmp(a, "--rootless", 10) == 0) ||
                     (n == 6 && strncmp(a, "--criu", 6) == 0);
        bool flag = strcmp(a, "--systemd-cgroup") == 0 || strcmp(a, "--debug") == 0;
        if (!takes && !flag) break; /* --help, --version, or a mistake: main decides */
        if (takes && !value) {
            /* --rootless takes an optional value (true|false|auto). */
            if (n == 10 && (i + 1 >= argc || argv[i + 1][0] == '-' ||
                            !(strcmp(argv[i + 1], "true") == 0 || strcmp(argv[i + 1], "false") == 0 ||
                              strcmp(argv[i + 1], "auto") == 0))) {
                i++;
                cli_runtime_globals = true;
                continue;
            }
            if (i + 1 >= argc) {
                cli_error("option '%s' needs a value", a);
                return -1;
            }
            value = argv[++i];
        }
        if (strncmp(a, "--root", 6) == 0 && n == 6) {
            if (value[0] != '/') {
                cli_error("--root %s: must be an absolute path", value);
                return -1;
            }
            oci_g.root = value;
            oci_g.root_given = true;
        } else if (n == 5 && strncmp(a, "--log", 5) == 0) {
            oci_g.log = value;
        } else if (n == 12) {
            if (strcmp(value, "json") != 0 && strcmp(value, "text") != 0) {
                cli_error("--log-format must be json or text, got '%s'", value);
                return -1;
            }
            oci_g.log_json = strcmp(value, "json") == 0;
        } else if (strcmp(a, "--systemd-cgroup") == 0) {
            oci_g.systemd_cgroup = true;
        } else if (strcmp(a, "--debug") == 0) {
            oci_g.debug = true;
        }
        cli_runtime_globals = true;
        i++;
    }
    return i;
}

static const cli_verb *cli_find_verb(const char *name) {
    for (size_t i = 0; i < CLI_VERB_COUNT; i++)
        if (strcmp(cli_verbs[i].name, name) == 0) return &cli_verbs[i];
    return NULL;
}

void cli_verb_help(const char *verb) {
    const cli_verb *v = cli_find_verb(verb);
    if (v) fputs(v->usage, stdout);
}

static void cli_usage(FILE *out) {
    fprintf(out,
            "wasmbox %s - WebAssembly programs as containers\n"
            "\n"
            "usage: wasmbox VERB [OPTIONS] [ARGS...]\n"
            "       wasmbox --help | --version\n"
            "\n"
            "verbs:\n",
            WB_VERSION_STRING);
    for (size_t i = 0; i < CLI_VERB_COUNT; i++)
        fprintf(out, "  %-10s %s\n", cli_verbs[i].name, cli_verbs[i].summary);
    fprintf(out, "  %-10s %s\n", "help", "show this help, or a verb's (help VERB)");
    fputs("\n", out);
    /* Every verb's own flags, so one --help shows everything. */
    for (size_t i = 0; i < CLI_VERB_COUNT; i++) {
        fputs(cli_verbs[i].usage, out);
        fputs("\n", out);
    }
}

static bool cli_is_help(const char *arg) {
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0 ||
           strcmp(arg, "help") == 0;
}

int main(int argc, char **argv) {
    /* A guest writing to a closed pipe must get EPIPE back from fd_write,
     * not kill the whole runtime. */
    signal(SIGPIPE, SIG_IGN);

    int first = cli_parse_globals(argc, argv);
    if (first < 0) return CLI_EXIT_USAGE;
    if (first >= argc) {
        cli_error("no verb given (usage: wasmbox VERB [OPTIONS] [ARGS...]; "
                  "see 'wasmbox --help')");
        return CLI_EXIT_USAGE;
    }
    argc -= first - 1;
    argv += first - 1;
    const char *verb = argv[1];
    if (cli_is_help(verb)) {
        if (argc > 2) {
            if (!cli_find_verb(argv[2])) {
                cli_error("unknown verb '%s' (see 'wasmbox --help')", argv[2]);
                return CLI_EXIT_USAGE;
            }
            cli_verb_help(argv[2]);
        } else {
            cli_usage(stdout);
        }
        return CLI_EXIT_OK;
    }
    if (strcmp(verb, "--version") == 0 || strcmp(verb, "-V") == 0 ||
        strcmp(verb, "version") == 0) {
        printf("wasmbox %s\n", WB_VERSION_STRING);
        return CLI_EXIT_OK;
    }
    const cli_verb *v = cli_find_verb(verb);
    if (!v) {
        if (verb[0] == '-')
            cli_error("unknown option '%s' (see 'wasmbox --help')", verb);
        else
            cli_error("unknown verb '%s' (see 'wasmbox --help')", verb);
        return CLI_EXIT_USAGE;
    }
    return v->handler(argc - 1, argv + 1);
}
