/* kill.c - `wasmbox kill [--all] ID [SIGNAL]` (default SIGTERM). */
#include <string.h>

#include "cli/cli.h"
#include "oci/runtime.h"

int cli_kill(int argc, char **argv) {
    bool all = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--all") == 0 || strcmp(argv[i], "-a") == 0) {
            all = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_verb_help("kill");
            return CLI_EXIT_OK;
        } else {
            cli_error("kill: unknown option '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (i >= argc || argc - i > 2) {
        cli_error("kill: usage: wasmbox kill [--all] ID [SIGNAL]");
        return CLI_EXIT_USAGE;
    }
    int sig = 15;
    if (i + 1 < argc) {
        sig = oci_signal_parse(argv[i + 1]);
        if (sig < 0) {
            cli_error("kill: unknown signal '%s'", argv[i + 1]);
            return CLI_EXIT_USAGE;
        }
    }
    return oci_cmd_kill(argv[i], sig, all);
}
