/*
 * validate.c - `wasmbox validate FILE...`: decode and validate modules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static int cli_validate_one(wb_engine *engine, const char *path) {
    uint8_t *bytes;
    size_t len;
    if (!cli_read_file(path, &bytes, &len)) return CLI_EXIT_FAILURE;
    wb_error err;
    wb_error_clear(&err);
    wb_status st = wb_module_validate(engine, bytes, len, &err);
    free(bytes);
    if (st != WB_OK) {
        /* Fill the status in case the engine left the record empty. */
        if (err.status == WB_OK) err.status = st;
        cli_error_wb(path, &err);
        return CLI_EXIT_FAILURE;
    }
    printf("%s: ok\n", path);
    return CLI_EXIT_OK;
}

int cli_validate(int argc, char **argv) {
    int first = 1;
    for (; first < argc; first++) {
        const char *a = argv[first];
        if (strcmp(a, "--") == 0) {
            first++;
            break;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cli_verb_help("validate");
            return CLI_EXIT_OK;
        }
        if (a[0] != '-' || a[1] == '\0') break;
        cli_error("validate: unknown option '%s' (see 'wasmbox help validate')", a);
        return CLI_EXIT_USAGE;
    }
    if (first >= argc) {
        cli_error("validate: no file given (usage: wasmbox validate FILE.wasm...)");
        return CLI_EXIT_USAGE;
    }

    wb_engine *engine;
    wb_error err;
    wb_error_clear(&err);
    if (wb_engine_new(NULL, &engine, &err) != WB_OK) {
        cli_error_wb("engine", &err);
        return CLI_EXIT_FAILURE;
    }
    int status = CLI_EXIT_OK;
    for (int i = first; i < argc; i++)
        if (cli_validate_one(engine, argv[i]) != CLI_EXIT_OK) status = CLI_EXIT_FAILURE;
    wb_engine_delete(engine);
    return status;
}
