/*
 * path.c - guest path names, resolved beneath a directory descriptor.
 *
 * A guest path is always relative to one of its directory descriptors and
 * must never reach outside it: not through "..", not through an absolute
 * path, not through a symlink (absolute, or relative with too many ".."),
 * not even while another process swaps a directory for a symlink under
 * our feet. Escapes are reported as ENOTCAPABLE.
 *
 * Preferred mechanism: openat2(2) with RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS, where the kernel does the walk atomically. When
 * the kernel lacks openat2 (ENOSYS, before Linux 5.6), or the environment
 * variable WASMBOX_WASI_NO_OPENAT2 is set (to test the fallback), we walk
 * the path ourselves one component at a time: each component is opened
 * relative to the previous one with O_NOFOLLOW, symlinks are read with
 * readlinkat and expanded by us (at most 40 of them, then ELOOP), and ".."
 * pops a stack of descriptors we opened, so it can never climb above the
 * starting directory whatever happens to the tree meanwhile.
 *
 * Operations that are not opens (mkdir, unlink, rename, stat, ...) use
 * wasi_path_parent: the directory part is resolved beneath as above
 * (O_PATH | O_DIRECTORY) and the *at call acts on the last component only.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wasi/wasi_impl.h"

#define WASI_SYMLINK_MAX 40

int32_t wasi_path_get(const wasi_mem *m, uint64_t ptr, uint64_t len, char **out) {
    *out = NULL;
    if (!wasi_in_bounds(m, ptr, len)) return WASI_EFAULT;
    if (len > WASI_PATH_MAX) return WASI_ENAMETOOLONG;
    if (memchr(m->base + ptr, '\0', (size_t)len)) return WASI_EINVAL;
    char *s = malloc((size_t)len + 1);
    if (!s) return WASI_ENOMEM;
    memcpy(s, m->base + ptr, (size_t)len);
    s[len] = '\0';
    *out = s;
    return WASI_ESUCCESS;
}

/* 1: use openat2, 0: do not, -1: not decided yet. Decided once; a race
 * between two threads deciding gives the same answer. */
static int wasi_openat2_state = -1;

bool wasi_path_use_openat2(void) {
    if (wasi_openat2_state < 0) {
        const char *no = getenv("WASMBOX_WASI_NO_OPENAT2");
        wasi_openat2_state = (no && *no) ? 0 : 1;
    }
    return wasi_openat2_state == 1;
}

/* Returns 0 and *out, or the host errno; ENOSYS when the kernel lacks
 * openat2. */
static int wasi_openat2(int dirfd, const char *path, int flags, mode_t mode, int *out) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(unsigned)(flags | O_CLOEXEC);
    how.mode = (flags & O_CREAT) ? (uint64_t)mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    for (int tries = 0;; tries++) {
        long r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        if (r >= 0) {
            *out = (int)r;
            return 0;
        }
        /* EAGAIN: a rename raced with the walk; the kernel asks to retry. */
        if (errno == EINTR || (errno == EAGAIN && tries < 128)) continue;
        return errno;
    }
}

/* A stack of directory descriptors for the manual walk; [0] is borrowed. */
typedef struct wasi_walk {
    int *fds;
    size_t n, cap;
} wasi_walk;

static void wasi_walk_free(wasi_walk *wk) {
    for (size_t i = 1; i < wk->n; i++) close(wk->fds[i]);
    free(wk->fds);
}

static int wasi_walk_push(wasi_walk *wk, int fd) {
    if (wk->n == wk->cap) {
        size_t cap = wk->cap ? wk->cap * 2 : 16;
        int *fds = realloc(wk->fds, cap * sizeof *fds);
        if (!fds) return ENOMEM;
        wk->fds = fds;
        wk->cap = cap;
    }
    wk->fds[wk->n++] = fd;
    return 0;
}

/* Replaces the remaining path: target, then what followed the symlink. */
static char *wasi_splice(const char *target, size_t tlen, const char *rest) {
    size_t rlen = strlen(rest);
    char *s = malloc(tlen + rlen + 2);
    if (!s) return NULL;
    memcpy(s, target, tlen);
    if (rlen == 0) {
        s[tlen] = '\0';
        return s;
    }
    s[tlen] = '/';
    memcpy(s + tlen + 1, rest, rlen + 1);
    return s;
}

/* The manual walk. Returns 0 and *out, or a host errno (EXDEV for an
 * escape). */
static int wasi_walk_open(int dirfd, const char *path, int flags, mode_t mode, int *out) {
    wasi_walk wk = {NULL, 0, 0};
    int e = wasi_walk_push(&wk, dirfd);
    if (e) return e;
    char *buf = strdup(path);
    if (!buf) {
        wasi_walk_free(&wk);
        return ENOMEM;
    }
    bool follow_last = !(flags & O_NOFOLLOW);
    int links = 0;
    char *p = buf;
    char *target = malloc(WASI_PATH_MAX + 1);
    if (!target) e = ENOMEM;
    if (!e && *p == '\0') e = ENOENT;
    while (!e) {
        if (*p == '/') {
            e = EXDEV; /* absolute path, or symlink to one */
            break;
        }
        char *q = p;
        while (*q && *q != '/') q++;
        char *after = q;
        while (*after == '/') after++;
        bool last = *after == '\0';
        bool trailing = last && q != after;
        size_t clen = (size_t)(q - p);
        *q = '\0';
        int top = wk.fds[wk.n - 1];
        if (clen == 0 || (clen == 1 && p[0] == '.') || (clen == 2 && p[0] == '.' && p[1] == '.')) {
            if (clen == 2) {
                if (wk.n == 1) {
                    e = EXDEV;
                    break;
                }
                close(wk.fds[--wk.n]);
                top = wk.fds[wk.n - 1];
            }
            if (last) {
                if (flags & O_CREAT && flags & O_EXCL) {
                    e = EEXIST;
                    break;
                }
                int fd = openat(top, ".", (flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC, mode);
                if (fd < 0) e = errno;
                else *out = fd;
                break;
            }
            p = after;
            continue;
        }
        if (!last || follow_last || trailing) {
            ssize_t tl = readlinkat(top, p, target, WASI_PATH_MAX);
            if (tl >= 0) {
                if (++links > WASI_SYMLINK_MAX) {
                    e = ELOOP;
                    break;
                }
                if (tl == 0) {
                    e = ENOENT;
                    break;
                }
                const char *rest = last ? (trailing ? "/" : "") : after;
                char *nb = wasi_splice(target, (size_t)tl, rest);
                if (!nb) {
                    e = ENOMEM;
                    break;
                }
                free(buf);
                buf = p = nb;
                continue;
            }
            if (!last) {
                int fd = openat(top, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                    e = errno;
                    break;
                }
                e = wasi_walk_push(&wk, fd);
                if (e) close(fd);
                p = after;
                continue;
            }
        }
        /* The last component, never followed by the kernel. */
        int fl = flags | O_NOFOLLOW | O_CLOEXEC;
        if (trailing) {
            if (fl & O_CREAT) {
                e = EISDIR;
                break;
            }
            fl |= O_DIRECTORY;
        }
        int fd = openat(top, p, fl, mode);
        if (fd < 0) e = errno;
        else *out = fd;
        break;
    }
    free(target);
    free(buf);
    wasi_walk_free(&wk);
    return e;
}

static int32_t wasi_resolve_errno(int e) {
    return e == EXDEV ? WASI_ENOTCAPABLE : wasi_errno_from_host(e);
}

int32_t wasi_path_openat(int dirfd, const char *path, int flags, mode_t mode, int *out) {
    *out = -1;
    if (path[0] == '/') return WASI_ENOTCAPABLE;
    int e = ENOSYS;
    if (wasi_path_use_openat2()) {
        e = wasi_openat2(dirfd, path, flags, mode, out);
        if (e == ENOSYS) wasi_openat2_state = 0;
    }
    if (e == ENOSYS) e = wasi_walk_open(dirfd, path, flags, mode, out);
    return e ? wasi_resolve_errno(e) : WASI_ESUCCESS;
}

int32_t wasi_path_parent(int dirfd, char *path, int *parent, const char **leaf) {
    *parent = -1;
    *leaf = NULL;
    size_t len = strlen(path);
    if (len == 0) return WASI_ENOENT;
    if (path[0] == '/') return WASI_ENOTCAPABLE;
    size_t end = len;
    while (end > 0 && path[end - 1] == '/') end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/') start--;
    size_t clen = end - start;
    bool dots = (clen == 1 && path[start] == '.') ||
                (clen == 2 && path[start] == '.' && path[start + 1] == '.');
    int32_t r;
    if (dots) {
        /* "x/.." or ".": the directory itself is the target, named ".". */
        char save = path[end];
        path[end] = '\0';
        r = wasi_path_openat(dirfd, path, O_PATH | O_DIRECTORY, 0, parent);
        path[end] = save;
        *leaf = ".";
        return r;
    }
    if (start == 0) {
        r = wasi_path_openat(dirfd, ".", O_PATH | O_DIRECTORY, 0, parent);
    } else {
        path[start - 1] = '\0';
        r = wasi_path_openat(dirfd, path, O_PATH | O_DIRECTORY, 0, parent);
    }
    *leaf = path + start;
    return r;
}
