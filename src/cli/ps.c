/* ps.c - `wasmbox ps [--format table|json] ID [PS_ARGS...]`: the
 * processes in the container's cgroup. */
#include <string.h>

#include "cli/cli.h"
#include "oci/runtime.h"

int cli_ps(int argc, char **argv) {
    bool json = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--format=json") == 0) {
            json = true;
        } else if (strcmp(a, "--format=table") == 0) {
            json = false;
        } else if ((strcmp(a, "--format") == 0 || strcmp(a, "-f") == 0) && i + 1 < argc) {
            json = strcmp(argv[++i], "json") == 0;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cli_verb_help("ps");
            return CLI_EXIT_OK;
        } else {
            cli_error("ps: unknown option '%s'", a);
            return CLI_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        cli_error("ps: usage: wasmbox ps [--format table|json] ID [PS_ARGS...]");
        return CLI_EXIT_USAGE;
    }
    return oci_cmd_ps(argv[i], json, argv + i + 1, argc - i - 1);
}
