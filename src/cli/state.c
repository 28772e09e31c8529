/* state.c - `wasmbox state ID`: the OCI state of a container as JSON. */
#include "cli/cli.h"
#include "oci/runtime.h"

int cli_state(int argc, char **argv) {
    const char *id = cli_single_id(argc, argv);
    if (!id) return CLI_EXIT_USAGE;
    return oci_cmd_state(id);
}
