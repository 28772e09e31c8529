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
     "  --              end of options\n"
     "  -h, --help      show this help\n"
     "\n"
     "exit status: the guest's exit code (proc_exit, or 0 when _start\n"
     "returns); 134 on a trap; 1 when the module cannot be read, decoded,\n"
     "validated or linked; 2 on a usage error.\n"},
    {"validate", cli_validate, "check that files are valid WebAssembly modules",
     "usage: wasmbox validate FILE.wasm...\n"
     "\n"
     "Decodes and validates each module. Prints \"FILE: ok\" for a valid one,\n"
     "and the error (kind, message, function and byte offset) for any other.\n"
     "\n"
     "exit status: 0 when every file is valid, 1 otherwise, 2 on a usage\n"
     "error.\n"},
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

    if (argc < 2) {
        cli_error("no verb given (usage: wasmbox VERB [OPTIONS] [ARGS...]; "
                  "see 'wasmbox --help')");
        return CLI_EXIT_USAGE;
    }
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
