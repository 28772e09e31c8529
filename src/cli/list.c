/* list.c - `wasmbox list [--format table|json] [-q]`: the containers
 * under --root (ours and the Linux runtime's). */
#include <string.h>

#include "cli/cli.h"
#include "oci/runtime.h"

int cli_list(int argc, char **argv) {
    bool json = false, quiet = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(a, "--format=json") == 0 || strcmp(a, "-f=json") == 0) {
            json = true;
        } else if ((strcmp(a, "--format") == 0 || strcmp(a, "-f") == 0) && i + 1 < argc) {
            const char *v = argv[++i];
            if (strcmp(v, "json") != 0 && strcmp(v, "table") != 0) {
                cli_error("list: --format must be table or json, got '%s'", v);
                return CLI_EXIT_USAGE;
            }
            json = strcmp(v, "json") == 0;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cli_verb_help("list");
            return CLI_EXIT_OK;
        } else {
            cli_error("list: unknown argument '%s'", a);
            return CLI_EXIT_USAGE;
        }
    }
    return oci_cmd_list(json, quiet);
}
