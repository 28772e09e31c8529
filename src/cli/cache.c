/*
 * cache.c - `wasmbox cache [ls|dir|clean|trim]`: the native-code cache.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "native/native.h"

static int cache_walk(native_cache *c, bool remove) {
    int fd = dup(c->dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        cli_error("cache: %s: cannot list it", c->dir);
        return CLI_EXIT_FAILURE;
    }
    unsigned long long total = 0, n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        bool art = native_cache_is_artifact(e->d_name);
        bool tmp = strncmp(e->d_name, ".tmp-", 5) == 0;
        if (!art && !(remove && tmp)) continue;
        struct stat st;
        if (fstatat(c->dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (remove) {
            if (unlinkat(c->dirfd, e->d_name, 0) == 0 && art) n++, total += (unsigned long long)st.st_size;
            continue;
        }
        char when[32];
        struct tm tm;
        strftime(when, sizeof when, "%Y-%m-%d %H:%M", localtime_r(&st.st_mtime, &tm));
        printf("%10lld  %s  %s\n", (long long)st.st_size, when, e->d_name);
        n++, total += (unsigned long long)st.st_size;
    }
    closedir(d);
    if (remove)
        printf("removed %llu artifacts (%llu bytes) from %s\n", n, total, c->dir);
    else
        printf("%llu artifacts, %llu bytes, in %s (cap %llu bytes)\n", n, total, c->dir,
               (unsigned long long)c->max_bytes);
    return CLI_EXIT_OK;
}

int cli_cache(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "ls";
    if (strcmp(what, "-h") == 0 || strcmp(what, "--help") == 0) {
        cli_verb_help("cache");
        return CLI_EXIT_OK;
    }
    if (argc > 2) {
        cli_error("cache: too many arguments (see 'wasmbox help cache')");
        return CLI_EXIT_USAGE;
    }
    if (strcmp(what, "dir") == 0) {
        char dir[PATH_MAX];
        if (!native_cache_path(dir, sizeof dir)) {
            cli_error("cache: no cache folder (set WASMBOX_CACHE_DIR or HOME)");
            return CLI_EXIT_FAILURE;
        }
        printf("%s\n", dir);
        return CLI_EXIT_OK;
    }
    bool ls = strcmp(what, "ls") == 0 || strcmp(what, "list") == 0;
    bool clean = strcmp(what, "clean") == 0;
    bool trim = strcmp(what, "trim") == 0;
    if (!ls && !clean && !trim) {
        cli_error("cache: unknown subcommand '%s' (ls, dir, clean, trim)", what);
        return CLI_EXIT_USAGE;
    }
    native_cache c;
    char why[512];
    if (!native_cache_open(&c, false, why, sizeof why)) {
        /* Nothing cached yet is not an error for ls and clean. */
        printf("no native-code cache yet (%s)\n", why);
        return CLI_EXIT_OK;
    }
    int rc = CLI_EXIT_OK;
    if (trim) native_cache_trim(&c);
    else rc = cache_walk(&c, clean);
    native_cache_close(&c);
    return rc;
}
