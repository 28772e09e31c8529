/* start.c - `wasmbox start ID`: releases a created container. */
#include "cli/cli.h"
#include "oci/runtime.h"

int cli_start(int argc, char **argv) {
    const char *id = cli_single_id(argc, argv);
    if (!id) return CLI_EXIT_USAGE;
    return oci_cmd_start(id);
}
