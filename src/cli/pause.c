/* pause.c - `wasmbox pause ID` and `wasmbox resume ID` (cgroup freezer). */
#include <string.h>

#include "cli/cli.h"
#include "oci/runtime.h"

int cli_pause(int argc, char **argv) {
    const char *id = cli_single_id(argc, argv);
    if (!id) return CLI_EXIT_USAGE;
    return oci_cmd_pause(id, strcmp(argv[0], "pause") == 0);
}
