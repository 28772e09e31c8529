/* delete.c - `wasmbox delete [--force] ID`: removes a stopped container
 * (with --force, kills a running one first). */
#include <string.h>

#include "cli/cli.h"
#include "oci/runtime.h"

int cli_delete(int argc, char **argv) {
    bool force = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-f") == 0) {
            force = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_verb_help("delete");
            return CLI_EXIT_OK;
        } else {
            cli_error("delete: unknown option '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (i != argc - 1) {
        cli_error("delete: usage: wasmbox delete [--force] ID");
        return CLI_EXIT_USAGE;
    }
    return oci_cmd_delete(argv[i], force);
}
