/*
 * aotc.c - wasmbox-aotc, the ahead-of-time compiler as a program.
 *
 *   wasmbox-aotc [-O0|-O1|-O2|-O3] [--strict-fp] [--max-memory MIB]
 *                [--max-time SECONDS] IN.wasm -o OUT
 *   wasmbox-aotc --target
 *
 * Writes an unsealed artifact (wasmbox seals and caches it: `wasmbox
 * compile`). The limits bound a compile of hostile input: the address
 * space and CPU time of this process (the kernel stops it past them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "wasmbox_aot.h"

static int usage(void) {
    fprintf(stderr, "usage: wasmbox-aotc [-O0|-O1|-O2|-O3] [--strict-fp] [--max-memory MIB] "
                    "[--max-time SECONDS] IN.wasm -o OUT\n"
                    "       wasmbox-aotc --target\n");
    return 2;
}

static bool read_file(const char *path, uint8_t **out, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    size_t k;
    while (b && (k = fread(b + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            uint8_t *nb = realloc(b, cap *= 2);
            if (!nb) free(b);
            b = nb;
        }
    }
    bool ok = b && !ferror(f);
    fclose(f);
    if (!ok) {
        free(b);
        return false;
    }
    *out = b;
    *len = n;
    return true;
}

static bool parse_num(const char *s, unsigned long *v) {
    char *end;
    errno = 0;
    *v = strtoul(s, &end, 10);
    return !errno && end != s && !*end && *v > 0;
}

int main(int argc, char **argv) {
    wb_aot_options opt;
    wb_aot_options_default(&opt);
    const char *in = NULL, *out = NULL;
    unsigned long max_mib = 0, max_s = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--target") == 0) {
            printf("%s\n", wb_aot_target());
            return 0;
        } else if (strlen(a) == 3 && a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3') {
            opt.opt_level = a[2] - '0';
        } else if (strcmp(a, "--strict-fp") == 0) {
            opt.strict_fp = true;
        } else if (strcmp(a, "--max-memory") == 0 && i + 1 < argc) {
            if (!parse_num(argv[++i], &max_mib)) return usage();
        } else if (strcmp(a, "--max-time") == 0 && i + 1 < argc) {
            if (!parse_num(argv[++i], &max_s)) return usage();
        } else if (strcmp(a, "-o") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "wasmbox-aotc: unknown option %s\n", a);
            return usage();
        } else if (!in) {
            in = a;
        } else {
            return usage();
        }
    }
    if (!in || !out) return usage();
#ifndef WB_SANITIZE_BUILD
    /* (Not under AddressSanitizer: its shadow memory alone reserves
     * terabytes of address space.) */
    if (max_mib) {
        struct rlimit r = {(rlim_t)max_mib << 20, (rlim_t)max_mib << 20};
        setrlimit(RLIMIT_AS, &r);
    }
#endif
    if (max_s) {
        struct rlimit r = {(rlim_t)max_s, (rlim_t)max_s + 1};
        setrlimit(RLIMIT_CPU, &r);
    }
    uint8_t *bytes;
    size_t len;
    if (!read_file(in, &bytes, &len)) {
        fprintf(stderr, "wasmbox-aotc: %s: %s\n", in, strerror(errno ? errno : EIO));
        return 1;
    }
    uint8_t *art;
    size_t art_len;
    wb_error err;
    wb_status st = wb_aot_compile(bytes, len, &opt, &art, &art_len, &err);
    free(bytes);
    if (st != WB_OK) {
        char msg[400];
        fprintf(stderr, "wasmbox-aotc: %s: %s\n", in, wb_error_format(&err, msg, sizeof msg));
        return 1;
    }
    FILE *f = strcmp(out, "-") == 0 ? stdout : fopen(out, "wb");
    bool ok = f && fwrite(art, 1, art_len, f) == art_len;
    if (f && f != stdout) ok = fclose(f) == 0 && ok;
    else if (f) ok = fflush(f) == 0 && ok;
    free(art);
    if (!ok) {
        fprintf(stderr, "wasmbox-aotc: %s: %s\n", out, strerror(errno ? errno : EIO));
        return 1;
    }
    return 0;
}
