/*
 * update.c - `wasmbox update [OPTIONS] ID`: changes a container's cgroup
 * limits, from flags or from a LinuxResources JSON document (-r FILE, or
 * -r - for stdin, which is how containerd's shim passes Docker's
 * `docker update`). The module's linear-memory cap is fixed at create.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "oci/runtime.h"

/* "64m", "1g", "1048576"; -1 for "-1" (unlimited). */
static bool cli_parse_size(const char *s, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s) return false;
    long long mul = 1;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': mul = 1LL << 10; end++; break;
    case 'm': case 'M': mul = 1LL << 20; end++; break;
    case 'g': case 'G': mul = 1LL << 30; end++; break;
    default: return false;
    }
    if (*end == 'b' || *end == 'B') end++;
    if (*end != '\0' || (v > 0 && v > INT64_MAX / mul)) return false;
    *out = v < 0 ? -1 : v * mul;
    return true;
}

int cli_update(int argc, char **argv) {
    static const struct option opts[] = {
        {"resources", required_argument, NULL, 'r'},
        {"memory", required_argument, NULL, 'm'},
        {"memory-reservation", required_argument, NULL, 'R'},
        {"memory-swap", required_argument, NULL, 'w'},
        {"cpu-quota", required_argument, NULL, 'q'},
        {"cpu-period", required_argument, NULL, 'p'},
        {"cpu-share", required_argument, NULL, 's'},
        {"cpu-shares", required_argument, NULL, 's'},
        {"cpuset-cpus", required_argument, NULL, 'c'},
        {"cpuset-mems", required_argument, NULL, 'M'},
        {"pids-limit", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    oci_resources r;
    memset(&r, 0, sizeof r);
    json_t *doc = NULL;
    int rc = CLI_EXIT_USAGE;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+r:h", opts, NULL)) != -1) {
        int64_t v;
        const char *name = argv[optind - 1];
        if (c == 'h') {
            cli_verb_help("update");
            rc = CLI_EXIT_OK;
            goto done;
        }
        if (c == '?' || c == ':') {
            cli_error("update: unknown or incomplete option '%s'", name);
            goto done;
        }
        if (c == 'r') {
            json_error_t jerr;
            json_decref(doc);
            doc = strcmp(optarg, "-") == 0 ? json_loadf(stdin, 0, &jerr)
                                           : json_load_file(optarg, 0, &jerr);
            if (!doc) {
                cli_error("update: %s: invalid JSON: %s", optarg, jerr.text);
                rc = CLI_EXIT_FAILURE;
                goto done;
            }
            oci_err e = {{0}};
            oci_resources_free(&r);
            if (!oci_resources_parse(doc, &r, &e)) {
                cli_error("update: %s", e.msg);
                rc = CLI_EXIT_FAILURE;
                goto done;
            }
            continue;
        }
        if (c == 'c' || c == 'M') {
            char **slot = c == 'c' ? &r.cpuset_cpus : &r.cpuset_mems;
            free(*slot);
            *slot = strdup(optarg);
            continue;
        }
        if (!cli_parse_size(optarg, &v)) {
            cli_error("update: %s: '%s' is not a number", name, optarg);
            goto done;
        }
        switch (c) {
        case 'm': r.has_memory_limit = true; r.memory_limit = v; break;
        case 'R': r.has_memory_reservation = true; r.memory_reservation = v; break;
        case 'w': r.has_memory_swap = true; r.memory_swap = v; break;
        case 'q': r.has_cpu_quota = true; r.cpu_quota = v; break;
        case 'p': r.has_cpu_period = true; r.cpu_period = (uint64_t)(v < 0 ? 0 : v); break;
        case 's': r.has_cpu_shares = true; r.cpu_shares = (uint64_t)(v < 0 ? 0 : v); break;
        case 'P': r.has_pids_limit = true; r.pids_limit = v; break;
        default: break;
        }
    }
    if (optind != argc - 1) {
        cli_error("update: usage: wasmbox update [OPTIONS] ID");
        goto done;
    }
    rc = oci_cmd_update(argv[optind], &r);
done:
    oci_resources_free(&r);
    json_decref(doc);
    return rc;
}
