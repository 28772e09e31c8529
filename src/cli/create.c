/*
 * create.c - `wasmbox create` and runc's `wasmbox run` (create + start +
 * wait): the runtime verbs that make a container from a bundle.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "oci/runtime.h"

static int cli_create_common(int argc, char **argv, bool is_run) {
    oci_create_opts o;
    memset(&o, 0, sizeof o);
    static const struct option opts[] = {
        {"bundle", required_argument, NULL, 'b'},
        {"pid-file", required_argument, NULL, 'p'},
        {"console-socket", required_argument, NULL, 'c'},
        {"no-pivot", no_argument, NULL, 'n'},
        {"preserve-fds", required_argument, NULL, 'f'},
        {"detach", no_argument, NULL, 'd'},
        {"keep", no_argument, NULL, 'k'},
        {"no-new-keyring", no_argument, NULL, 'K'},
        {"no-subreaper", no_argument, NULL, 'S'},
        {"systemd-cgroup", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+b:dh", opts, NULL)) != -1) {
        switch (c) {
        case 'b': o.bundle = optarg; break;
        case 'p': o.pid_file = optarg; break;
        case 'c': o.console_socket = optarg; break;
        case 'n': o.no_pivot = true; break;
        case 'f': o.preserve_fds = atoi(optarg); break;
        case 'd': o.detach = true; break;
        case 'k': o.keep = true; break;
        case 's': oci_g.systemd_cgroup = true; break;
        case 'K': case 'S': break; /* accepted for runc compatibility */
        case 'h': cli_verb_help(argv[0]); return CLI_EXIT_OK;
        default:
            cli_error("%s: unknown or incomplete option '%s'", argv[0], argv[optind - 1]);
            return CLI_EXIT_USAGE;
        }
        if ((c == 'd' || c == 'k') && !is_run) {
            cli_error("create: unknown option '%s'", argv[optind - 1]);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_error("%s: needs exactly one container id (usage: wasmbox %s [OPTIONS] ID)",
                  argv[0], argv[0]);
        return CLI_EXIT_USAGE;
    }
    o.id = argv[optind];
    return is_run ? oci_cmd_run(&o) : oci_cmd_create(&o);
}

int cli_create(int argc, char **argv) { return cli_create_common(argc, argv, false); }

int cli_oci_run(int argc, char **argv) { return cli_create_common(argc, argv, true); }
