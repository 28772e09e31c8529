/* features.c - `wasmbox features`: what this runtime supports, as JSON
 * (the runtime-spec features document). */
#include "cli/cli.h"
#include "oci/runtime.h"

int cli_features(int argc, char **argv) {
    (void)argv;
    if (argc > 1) {
        cli_error("features: takes no arguments");
        return CLI_EXIT_USAGE;
    }
    return oci_cmd_features();
}
