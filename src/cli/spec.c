/* spec.c - `wasmbox spec [--bundle DIR]`: writes a config.json template
 * for a Wasm container (module /app.wasm in rootfs/). */
#include <string.h>

#include "cli/cli.h"
#include "oci/runtime.h"

int cli_spec(int argc, char **argv) {
    const char *bundle = NULL;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--bundle") == 0 || strcmp(argv[i], "-b") == 0) && i + 1 < argc) {
            bundle = argv[++i];
        } else if (strncmp(argv[i], "--bundle=", 9) == 0) {
            bundle = argv[i] + 9;
        } else if (strcmp(argv[i], "--rootless") == 0) {
            /* The template needs no privileges either way. */
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_verb_help("spec");
            return CLI_EXIT_OK;
        } else {
            cli_error("spec: unknown argument '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    return oci_cmd_spec(bundle);
}
