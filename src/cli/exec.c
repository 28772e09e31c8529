/* exec.c - `wasmbox exec [OPTIONS] ID [COMMAND ARGS...]`: runs another
 * Wasm program inside a running Wasm container (see src/oci/exec.c). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "oci/runtime.h"

int cli_exec(int argc, char **argv) {
    static const struct option opts[] = {
        {"process", required_argument, NULL, 'p'},
        {"detach", no_argument, NULL, 'd'},
        {"pid-file", required_argument, NULL, 'P'},
        {"console-socket", required_argument, NULL, 'c'},
        {"tty", no_argument, NULL, 't'},
        {"cwd", required_argument, NULL, 'w'},
        {"env", required_argument, NULL, 'e'},
        {"user", required_argument, NULL, 'u'},
        {"cap", required_argument, NULL, 'C'},
        {"no-new-privs", no_argument, NULL, 'N'},
        {"preserve-fds", required_argument, NULL, 'F'},
        {"process-label", required_argument, NULL, 'L'},
        {"apparmor", required_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    oci_exec_opts o;
    memset(&o, 0, sizeof o);
    o.env = calloc((size_t)argc + 1, sizeof *o.env);
    if (!o.env) return CLI_EXIT_FAILURE;
    int rc = CLI_EXIT_USAGE;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+p:dte:u:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': o.process_file = optarg; break;
        case 'd': o.detach = true; break;
        case 'P': o.pid_file = optarg; break;
        case 'c': o.console_socket = optarg; break;
        case 't': o.tty = true; break;
        case 'w': o.cwd = optarg; break;
        case 'e': o.env[o.nenv++] = optarg; break;
        case 'u': case 'C': case 'N': case 'F': case 'L': case 'A':
            break; /* accepted; --process carries these for real callers */
        case 'h':
            cli_verb_help("exec");
            rc = CLI_EXIT_OK;
            goto done;
        default:
            cli_error("exec: unknown or incomplete option '%s'", argv[optind - 1]);
            goto done;
        }
    }
    if (optind >= argc) {
        cli_error("exec: usage: wasmbox exec [OPTIONS] ID [COMMAND ARGS...]");
        goto done;
    }
    o.id = argv[optind];
    o.args = argv + optind + 1;
    o.nargs = argc - optind - 1;
    if (!o.process_file && o.nargs == 0) {
        cli_error("exec: give a command after the id, or --process FILE");
        goto done;
    }
    rc = oci_cmd_exec(&o);
done:
    free(o.env);
    return rc;
}
