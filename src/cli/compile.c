/*
 * compile.c - `wasmbox compile [-O0..3] [--strict-fp] FILE.wasm... [-o OUT]`.
 *
 * Compiles modules ahead of time into the native-code cache (src/native/),
 * where `wasmbox run` and containers find them; with -o (one module) the
 * sealed artifact is written to OUT instead. The compiler is a program of
 * its own (wasmbox-aotc, LLVM), run with limits on memory and time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "native/native.h"

int cli_compile(int argc, char **argv) {
    native_flags f = NATIVE_FLAGS_DEFAULT;
    const char *out = NULL;
    bool quiet = false;
    int nfiles = 0;
    char **files = calloc((size_t)argc + 1, sizeof *files);
    if (!files) return CLI_EXIT_FAILURE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cli_verb_help("compile");
            free(files);
            return CLI_EXIT_OK;
        } else if (strlen(a) == 3 && a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3') {
            f.opt_level = a[2] - '0';
        } else if (strcmp(a, "--strict-fp") == 0) {
            f.strict_fp = true;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            quiet = true;
        } else if (strcmp(a, "-o") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            cli_error("compile: unknown option '%s' (see 'wasmbox help compile')", a);
            free(files);
            return CLI_EXIT_USAGE;
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (nfiles == 0 || (out && nfiles != 1)) {
        cli_error("compile: %s", nfiles == 0 ? "no module given" : "-o takes one module");
        free(files);
        return CLI_EXIT_USAGE;
    }
    native_cache c;
    char why[512];
    if (!native_cache_open(&c, true, why, sizeof why)) {
        cli_error("compile: native-code cache: %s", why);
        free(files);
        return CLI_EXIT_FAILURE;
    }
    int rc = CLI_EXIT_OK;
    for (int i = 0; i < nfiles; i++) {
        uint8_t *bytes;
        size_t len;
        if (!cli_read_file(files[i], &bytes, &len)) {
            rc = CLI_EXIT_FAILURE;
            continue;
        }
        if (!native_cache_compile(&c, files[i], bytes, len, &f, out, why, sizeof why)) {
            cli_error("compile: %s: %s", files[i], why);
            rc = CLI_EXIT_FAILURE;
        } else if (!quiet) {
            char name[96];
            native_cache_name(bytes, len, &f, name);
            if (out) printf("%s: %s\n", files[i], out);
            else printf("%s: %s/%s\n", files[i], c.dir, name);
        }
        free(bytes);
    }
    native_cache_close(&c);
    free(files);
    return rc;
}
