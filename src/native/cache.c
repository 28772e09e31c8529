/*
 * cache.c - the cache of native code (see native.h).
 */
#include "native/native.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wasm/aot.h"

extern char **environ;

#define DEFAULT_MAX_BYTES ((uint64_t)2 << 30)
#define COMPILE_MAX_MIB 4096
#define COMPILE_MAX_SECONDS 600


static void hex(const uint8_t *b, size_t n, char *out) {
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) out[2 * i] = d[b[i] >> 4], out[2 * i + 1] = d[b[i] & 15];
    out[2 * n] = '\0';
}

bool native_cache_path(char *out, size_t size) {
    const char *env = getenv("WASMBOX_CACHE_DIR");
    if (env && *env) return (size_t)snprintf(out, size, "%s", env) < size;
    if (geteuid() == 0) return (size_t)snprintf(out, size, "/var/lib/wasmbox/aot") < size;
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && *xdg == '/') return (size_t)snprintf(out, size, "%s/wasmbox/aot", xdg) < size;
    const char *home = getenv("HOME");
    if (!home || *home != '/') return false;
    return (size_t)snprintf(out, size, "%s/.cache/wasmbox/aot", home) < size;
}

static bool mkdirs(const char *path) {
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return false;
        *p = '/';
    }
    return mkdir(buf, 0700) == 0 || errno == EEXIST;
}

static bool read_key(native_cache *c, char *why, size_t wsize) {
    int fd = openat(c->dirfd, "key", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st;
    ssize_t n = -1;
    if (fstat(fd, &st) == 0) {
        if (st.st_uid != geteuid() || (st.st_mode & 077) != 0 || !S_ISREG(st.st_mode)) {
            snprintf(why, wsize, "%s/key: owned by another user or readable by others; refusing it",
                     c->dir);
            close(fd);
            errno = EPERM;
            return false;
        }
        n = read(fd, c->key, sizeof c->key);
    }
    close(fd);
    if (n != (ssize_t)sizeof c->key) {
        snprintf(why, wsize, "%s/key: not a %zu-byte key", c->dir, sizeof c->key);
        errno = EINVAL;
        return false;
    }
    return true;
}

static bool make_key(native_cache *c, char *why, size_t wsize) {
    uint8_t k[WB_NATIVE_KEY_SIZE];
    if (getrandom(k, sizeof k, 0) != (ssize_t)sizeof k) {
        snprintf(why, wsize, "cannot get random bytes for the cache key: %s", strerror(errno));
        return false;
    }
    char tmp[64];
    snprintf(tmp, sizeof tmp, ".key-%ld", (long)getpid());
    int fd = openat(c->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(why, wsize, "%s/%s: %s", c->dir, tmp, strerror(errno));
        return false;
    }
    bool ok = write(fd, k, sizeof k) == (ssize_t)sizeof k && fsync(fd) == 0;
    close(fd);
    /* link fails when another process made the key first: use theirs. */
    if (ok && linkat(c->dirfd, tmp, c->dirfd, "key", 0) != 0 && errno != EEXIST) ok = false;
    unlinkat(c->dirfd, tmp, 0);
    if (!ok) snprintf(why, wsize, "%s/key: %s", c->dir, strerror(errno));
    return ok;
}

bool native_cache_open(native_cache *c, bool create, char *why, size_t wsize) {
    memset(c, 0, sizeof *c);
    c->dirfd = -1;
    c->max_bytes = DEFAULT_MAX_BYTES;
    const char *v = getenv("WASMBOX_AOT_VERBOSE");
    c->verbose = v && *v && strcmp(v, "0") != 0;
    const char *cap = getenv("WASMBOX_CACHE_MAX");
    if (cap && *cap) {
        char *end;
        unsigned long long v = strtoull(cap, &end, 10);
        uint64_t mul = *end == 'K' ? 1 << 10 : *end == 'M' ? 1 << 20 : *end == 'G' ? 1 << 30 : 1;
        if (v > 0) c->max_bytes = v * mul;
    }
    if (!native_cache_path(c->dir, sizeof c->dir)) {
        snprintf(why, wsize, "no cache folder (set WASMBOX_CACHE_DIR or HOME)");
        return false;
    }
    if (create && !mkdirs(c->dir)) {
        snprintf(why, wsize, "%s: %s", c->dir, strerror(errno));
        return false;
    }
    c->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (c->dirfd < 0) {
        snprintf(why, wsize, "%s: %s", c->dir, strerror(errno));
        return false;
    }
    if (read_key(c, why, wsize)) return true;
    if (errno != ENOENT || !create || !make_key(c, why, wsize) || !read_key(c, why, wsize)) {
        if (errno == ENOENT && !create) snprintf(why, wsize, "%s: no key yet", c->dir);
        native_cache_close(c);
        return false;
    }
    return true;
}

void native_cache_close(native_cache *c) {
    if (c->dirfd >= 0) close(c->dirfd);
    c->dirfd = -1;
    memset(c->key, 0, sizeof c->key);
}

bool native_cache_is_artifact(const char *name) {
    size_t l = strlen(name);
    return name[0] != '.' && l > 6 && strcmp(name + l - 6, ".wbaot") == 0;
}

void native_cache_name(const uint8_t *wasm, size_t len, const native_flags *f, char out[96]) {
    uint8_t sum[32], cfg[32];
    wm_aot_sha256(wasm, len, sum);
    char text[128];
    int n = snprintf(text, sizeof text, "%s|%08x|%016llx|O%d|%s", WB_VERSION_STRING, wm_aot_abi(),
                     (unsigned long long)wm_aot_cpu(), f->opt_level, f->strict_fp ? "strict" : "");
    wm_aot_sha256((const uint8_t *)text, (size_t)n, cfg);
    char h1[65], h2[17];
    hex(sum, 32, h1);
    hex(cfg, 8, h2);
    memcpy(out, h1, 64);
    out[64] = '-';
    memcpy(out + 65, h2, 16);
    memcpy(out + 81, ".wbaot", 7);
}

static bool read_fd(int fd, uint8_t **out, size_t *len) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > ((off_t)1 << 31)) return false;
    size_t n = (size_t)st.st_size, off = 0;
    uint8_t *b = malloc(n ? n : 1);
    if (!b) return false;
    while (off < n) {
        ssize_t r = pread(fd, b + off, n - off, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        off += (size_t)r;
    }
    *out = b;
    *len = off;
    return true;
}

int native_cache_load_name(native_cache *c, wb_module *mod, const char *name, char *why,
                           size_t wsize) {
    int fd = openat(c->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return 0;
    uint8_t *art;
    size_t alen;
    bool ok = read_fd(fd, &art, &alen);
    if (ok) futimens(fd, NULL); /* recently used: trimmed last */
    close(fd);
    if (!ok) {
        snprintf(why, wsize, "%s/%s: cannot read it", c->dir, name);
        unlinkat(c->dirfd, name, 0);
        return -1;
    }
    wb_error err;
    wb_status st = wb_module_load_native(mod, art, alen, c->key, sizeof c->key, &err);
    free(art);
    if (st != WB_OK) {
        snprintf(why, wsize, "%s/%s: %s", c->dir, name, err.message);
        unlinkat(c->dirfd, name, 0);
        return -1;
    }
    if (c->verbose) fprintf(stderr, "wasmbox: running native code %s/%s\n", c->dir, name);
    return 1;
}

bool native_compiler_path(char *out, size_t size) {
    const char *env = getenv("WASMBOX_AOTC");
    if (env && *env) {
        snprintf(out, size, "%s", env);
        return access(out, X_OK) == 0;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            if ((size_t)snprintf(out, size, "%s/wasmbox-aotc", self) < size && access(out, X_OK) == 0)
                return true;
        }
    }
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; *p;) {
        size_t l = strcspn(p, ":");
        if (l && (size_t)snprintf(out, size, "%.*s/wasmbox-aotc", (int)l, p) < size &&
            access(out, X_OK) == 0)
            return true;
        p += l;
        if (*p == ':') p++;
    }
    return false;
}

/* Runs the compiler; its last line of stderr goes into why. */
static bool run_compiler(const char *aotc, const char *in, const char *out, const native_flags *f,
                         char *why, size_t wsize) {
    char olevel[8], mem[16], secs[16];
    snprintf(olevel, sizeof olevel, "-O%d", f->opt_level);
    snprintf(mem, sizeof mem, "%d", COMPILE_MAX_MIB);
    snprintf(secs, sizeof secs, "%d", COMPILE_MAX_SECONDS);
    char *argv[12];
    int n = 0;
    argv[n++] = (char *)aotc;
    argv[n++] = olevel;
    if (f->strict_fp) argv[n++] = (char *)"--strict-fp";
    argv[n++] = (char *)"--max-memory";
    argv[n++] = mem;
    argv[n++] = (char *)"--max-time";
    argv[n++] = secs;
    argv[n++] = (char *)in;
    argv[n++] = (char *)"-o";
    argv[n++] = (char *)out;
    argv[n] = NULL;
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        snprintf(why, wsize, "pipe: %s", strerror(errno));
        return false;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, aotc, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (rc != 0) {
        close(pipefd[0]);
        snprintf(why, wsize, "%s: %s", aotc, strerror(rc));
        return false;
    }
    char msg[1024];
    size_t got = 0;
    for (;;) {
        ssize_t r = read(pipefd[0], msg + got, sizeof msg - 1 - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
        if (got == sizeof msg - 1) {
            /* Keep the tail. */
            memmove(msg, msg + sizeof msg / 2, got - sizeof msg / 2);
            got -= sizeof msg / 2;
        }
    }
    close(pipefd[0]);
    msg[got] = '\0';
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
    while (got && (msg[got - 1] == '\n')) msg[--got] = '\0';
    const char *last = strrchr(msg, '\n');
    last = last ? last + 1 : msg;
    if (WIFSIGNALED(status))
        snprintf(why, wsize, "the compiler was killed by signal %d%s%s", WTERMSIG(status),
                 WTERMSIG(status) == SIGXCPU ? " (CPU time limit)" : "", *last ? ": " : "");
    else
        snprintf(why, wsize, "%s", *last ? "" : "the compiler failed");
    size_t l = strlen(why);
    snprintf(why + l, wsize - l, "%s", last);
    return false;
}

static bool write_file_at(int dirfd, const char *name, const uint8_t *b, size_t len) {
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, b + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
    bool ok = off == len && fsync(fd) == 0;
    return close(fd) == 0 && ok;
}

bool native_cache_compile(native_cache *c, const char *wasm_path, const uint8_t *wasm, size_t len,
                          const native_flags *f, const char *out_path, char *why, size_t wsize) {
    char aotc[PATH_MAX];
    if (!native_compiler_path(aotc, sizeof aotc)) {
        snprintf(why, wsize, "the compiler wasmbox-aotc is not installed (beside wasmbox, on PATH, "
                             "or named by $WASMBOX_AOTC)");
        return false;
    }
    static unsigned seq;
    char tmp[PATH_MAX + 64], tmpname[48];
    snprintf(tmpname, sizeof tmpname, ".tmp-%ld-%u", (long)getpid(), seq++);
    snprintf(tmp, sizeof tmp, "%s/%s", c->dir, tmpname);
    bool ok = run_compiler(aotc, wasm_path, tmp, f, why, wsize);
    uint8_t *art = NULL, *sealed = NULL;
    size_t alen = 0, slen = 0;
    if (ok) {
        int fd = openat(c->dirfd, tmpname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        ok = fd >= 0 && read_fd(fd, &art, &alen);
        if (fd >= 0) close(fd);
        if (!ok) snprintf(why, wsize, "%s: cannot read the compiler's output", tmp);
    }
    unlinkat(c->dirfd, tmpname, 0);
    /* The artifact must be of these very bytes (the file could have
     * changed under us): the header names the module's sha256. */
    if (ok) {
        uint8_t sum[32];
        wm_aot_sha256(wasm, len, sum);
        wm_aot_header h;
        if (alen < sizeof h) {
            ok = false;
        } else {
            memcpy(&h, art, sizeof h);
            ok = memcmp(h.module_sha256, sum, 32) == 0;
        }
        if (!ok) snprintf(why, wsize, "%s changed while it was compiled", wasm_path);
    }
    if (ok) {
        wb_error err;
        ok = wb_native_seal(art, alen, c->key, sizeof c->key, &sealed, &slen, &err) == WB_OK;
        if (!ok) snprintf(why, wsize, "%s", err.message);
    }
    free(art);
    if (ok) {
        if (out_path) {
            ok = write_file_at(AT_FDCWD, out_path, sealed, slen);
            if (!ok) snprintf(why, wsize, "%s: %s", out_path, strerror(errno));
        } else {
            char name[96];
            native_cache_name(wasm, len, f, name);
            ok = write_file_at(c->dirfd, tmpname, sealed, slen) &&
                 renameat(c->dirfd, tmpname, c->dirfd, name) == 0;
            if (!ok) {
                snprintf(why, wsize, "%s/%s: %s", c->dir, name, strerror(errno));
                unlinkat(c->dirfd, tmpname, 0);
            }
        }
    }
    free(sealed);
    if (ok && !out_path) native_cache_trim(c);
    return ok;
}

typedef struct entry {
    char name[96];
    off_t size;
    struct timespec mtime;
} entry;

static int by_mtime(const void *a, const void *b) {
    const entry *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec) return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : x->mtime.tv_nsec > y->mtime.tv_nsec;
}

void native_cache_trim(native_cache *c) {
    int fd = dup(c->dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0) close(fd);
        return;
    }
    entry *list = NULL;
    size_t n = 0, cap = 0;
    uint64_t total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!native_cache_is_artifact(e->d_name) || strlen(e->d_name) >= sizeof list[0].name) continue;
        struct stat st;
        if (fstatat(c->dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (n == cap) {
            entry *nl = realloc(list, (cap = cap ? cap * 2 : 64) * sizeof *list);
            if (!nl) break;
            list = nl;
        }
        snprintf(list[n].name, sizeof list[n].name, "%s", e->d_name);
        list[n].size = st.st_size;
        list[n].mtime = st.st_mtim;
        total += (uint64_t)st.st_size;
        n++;
    }
    closedir(d);
    if (total > c->max_bytes) {
        qsort(list, n, sizeof *list, by_mtime);
        for (size_t i = 0; i < n && total > c->max_bytes; i++)
            if (unlinkat(c->dirfd, list[i].name, 0) == 0) total -= (uint64_t)list[i].size;
    }
    free(list);
}
