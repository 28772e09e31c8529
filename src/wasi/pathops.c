/*
 * pathops.c - the path_* functions. Each takes a directory descriptor and
 * a path; the path is resolved beneath that directory by path.c (escapes
 * give ENOTCAPABLE). Opens resolve the whole path; the others resolve the
 * parent and act on the last component with the *at call, never following
 * a final symlink unless asked.
 *
 * Read-only preopens: everything under one refuses to create, change,
 * rename or remove (EROFS), checked before the host is asked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi/wasi_impl.h"

/* Looks up a directory descriptor with `rights` and copies its path. */
/* With `writes`, a directory under a read-only preopen gives EROFS (before
 * the rights are looked at: the preopen lost its write rights, and EROFS
 * says why). */
static wasi_fd *wasi_dir_and_path(wb_wasi *w, const wasi_mem *m, uint64_t fd, uint64_t rights,
                                  bool writes, uint64_t ptr, uint64_t len, char **path,
                                  int32_t *err) {
    *path = NULL;
    wasi_fd *f = wasi_fd_get(w, fd, 0, err);
    if (!f) return NULL;
    if (f->type != WASI_FILETYPE_DIRECTORY) {
        *err = WASI_ENOTDIR;
        return NULL;
    }
    if (writes && f->read_only) {
        *err = WASI_EROFS;
        return NULL;
    }
    if ((f->base & rights) != rights) {
        *err = WASI_ENOTCAPABLE;
        return NULL;
    }
    *err = wasi_path_get(m, ptr, len, path);
    return *err ? NULL : f;
}

static bool wasi_has_trailing_slash(const char *leaf) {
    size_t n = strlen(leaf);
    return n > 0 && leaf[n - 1] == '/';
}

/* ------------------------------------------------------------- open */

int32_t wasi_path_open(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    uint32_t lookup = (uint32_t)a[1].of.i32;
    uint32_t oflags = (uint32_t)a[4].of.i32 & 0xFFFF;
    uint64_t base = wasi_arg_u64(&a[5]), inh = wasi_arg_u64(&a[6]);
    uint32_t fdflags = (uint32_t)a[7].of.i32 & 0xFFFF;
    uint64_t fd_ptr = wasi_arg_u32(&a[8]);
    uint64_t need = WASI_RIGHT_PATH_OPEN;
    if (oflags & WASI_OFLAG_CREAT) need |= WASI_RIGHT_PATH_CREATE_FILE;
    if (oflags & WASI_OFLAG_TRUNC) need |= WASI_RIGHT_PATH_FILESTAT_SET_SIZE;
    char *path;
    int32_t err;
    wasi_fd *dir = wasi_dir_and_path(w, m, wasi_arg_u32(&a[0]), 0, false, wasi_arg_u32(&a[2]),
                                     wasi_arg_u32(&a[3]), &path, &err);
    if (!dir) return err;
    if (!wasi_in_bounds(m, fd_ptr, 4)) err = WASI_EFAULT;
    else if (oflags & ~(WASI_OFLAG_CREAT | WASI_OFLAG_DIRECTORY | WASI_OFLAG_EXCL |
                        WASI_OFLAG_TRUNC))
        err = WASI_EINVAL;
    else if (fdflags & ~(WASI_FDFLAG_APPEND | WASI_FDFLAG_DSYNC | WASI_FDFLAG_NONBLOCK |
                         WASI_FDFLAG_RSYNC | WASI_FDFLAG_SYNC))
        err = WASI_EINVAL;
    else if ((oflags & WASI_OFLAG_DIRECTORY) && (oflags & WASI_OFLAG_TRUNC))
        err = WASI_EINVAL;
    const uint64_t write_rights = WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_DATASYNC |
                                  WASI_RIGHT_FD_ALLOCATE | WASI_RIGHT_FD_FILESTAT_SET_SIZE;
    bool want_read = base & (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_READDIR);
    bool want_write = (base & write_rights) || (fdflags & WASI_FDFLAG_APPEND) ||
                      (oflags & WASI_OFLAG_TRUNC);
    if (!err && dir->read_only && (want_write || (oflags & WASI_OFLAG_CREAT)))
        err = WASI_EROFS;
    else if (!err && (dir->base & need) != need)
        err = WASI_ENOTCAPABLE;
    if (err) {
        free(path);
        return err;
    }
    int flags = O_NOCTTY;
    if (oflags & WASI_OFLAG_DIRECTORY) flags |= O_DIRECTORY | O_RDONLY;
    else if (want_write) flags |= want_read ? O_RDWR : O_WRONLY;
    else flags |= O_RDONLY;
    if ((oflags & WASI_OFLAG_DIRECTORY) && (base & write_rights)) {
        /* A directory cannot be opened for writing. */
        flags = (flags & ~O_RDONLY) | O_RDWR;
    }
    if (oflags & WASI_OFLAG_CREAT) flags |= O_CREAT;
    if (oflags & WASI_OFLAG_EXCL) flags |= O_EXCL;
    if (oflags & WASI_OFLAG_TRUNC) flags |= O_TRUNC;
    if (fdflags & WASI_FDFLAG_APPEND) flags |= O_APPEND;
    if (fdflags & WASI_FDFLAG_NONBLOCK) flags |= O_NONBLOCK;
    if (fdflags & WASI_FDFLAG_DSYNC) flags |= O_DSYNC;
    if (fdflags & (WASI_FDFLAG_SYNC | WASI_FDFLAG_RSYNC)) flags |= O_SYNC;
    if (!(lookup & WASI_LOOKUP_SYMLINK_FOLLOW)) flags |= O_NOFOLLOW;
    int host;
    err = wasi_path_openat(dir->host, path, flags, 0666, &host);
    free(path);
    if (err) return err;
    uint8_t type = wasi_fd_host_type(host);
    uint64_t tbase, tinh;
    wasi_rights_for_type(type, &tbase, &tinh);
    uint64_t nbase = base & dir->inheriting & tbase;
    uint64_t ninh = inh & dir->inheriting;
    if (dir->read_only) {
        nbase &= ~WASI_RIGHTS_WRITE;
        ninh &= ~WASI_RIGHTS_WRITE;
    }
    int64_t n = wasi_fd_add(w, host, type, nbase, ninh, dir->read_only, false);
    if (n < 0) {
        close(host);
        return (int32_t)-n;
    }
    wasi_store_u32(m, fd_ptr, (uint32_t)n);
    return WASI_ESUCCESS;
}

/* --------------------------------------------------------- filestat */

int32_t wasi_path_filestat_get(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    char *path;
    int32_t err;
    wasi_fd *dir = wasi_dir_and_path(w, m, wasi_arg_u32(&a[0]), WASI_RIGHT_PATH_FILESTAT_GET,
                                     false, wasi_arg_u32(&a[2]), wasi_arg_u32(&a[3]), &path, &err);
    if (!dir) return err;
    uint64_t ptr = wasi_arg_u32(&a[4]);
    if (!wasi_in_bounds(m, ptr, 64)) {
        free(path);
        return WASI_EFAULT;
    }
    int flags = O_PATH;
    if (!((uint32_t)a[1].of.i32 & WASI_LOOKUP_SYMLINK_FOLLOW)) flags |= O_NOFOLLOW;
    int fd;
    err = wasi_path_openat(dir->host, path, flags, 0, &fd);
    free(path);
    if (err) return err;
    struct stat st;
    if (fstat(fd, &st) != 0) err = wasi_errno_from_host(errno);
    else wasi_store_filestat(m, ptr, &st);
    close(fd);
    return err;
}

int32_t wasi_path_filestat_set_times(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    char *path;
    int32_t err;
    wasi_fd *dir = wasi_dir_and_path(w, m, wasi_arg_u32(&a[0]),
                                     WASI_RIGHT_PATH_FILESTAT_SET_TIMES, true, wasi_arg_u32(&a[2]),
                                     wasi_arg_u32(&a[3]), &path, &err);
    if (!dir) return err;
    struct timespec ts[2];
    err = wasi_times_from_flags(wasi_arg_u64(&a[4]), wasi_arg_u64(&a[5]),
                                (uint32_t)a[6].of.i32 & 0xFFFF, ts);
    if (err) {
        free(path);
        return err;
    }
    int flags = O_PATH;
    if (!((uint32_t)a[1].of.i32 & WASI_LOOKUP_SYMLINK_FOLLOW)) flags |= O_NOFOLLOW;
    int fd;
    err = wasi_path_openat(dir->host, path, flags, 0, &fd);
    free(path);
    if (err) return err;
    if (utimensat(fd, "", ts, AT_EMPTY_PATH) != 0) err = wasi_errno_from_host(errno);
    close(fd);
    return err;
}

/* ------------------------------------------ create, remove, readlink */

/* The common shape: dir fd a[0] with `rights`, path a[1], a[2]; resolves
 * the parent and hands the last component to `op`. */
typedef int (*wasi_leaf_op)(int parent, const char *leaf, void *ctx);

static int32_t wasi_on_leaf(wb_wasi *w, const wasi_mem *m, const wb_val *a, uint64_t rights,
                            bool writes, wasi_leaf_op op, void *ctx) {
    char *path;
    int32_t err;
    wasi_fd *dir = wasi_dir_and_path(w, m, wasi_arg_u32(&a[0]), rights, writes,
                                     wasi_arg_u32(&a[1]), wasi_arg_u32(&a[2]), &path, &err);
    if (!dir) return err;
    int parent;
    const char *leaf;
    err = wasi_path_parent(dir->host, path, &parent, &leaf);
    if (!err && op(parent, leaf, ctx) != 0) err = wasi_errno_from_host(errno);
    if (parent >= 0) close(parent);
    free(path);
    return err;
}

static int wasi_op_mkdir(int parent, const char *leaf, void *ctx) {
    (void)ctx;
    return mkdirat(parent, leaf, 0777);
}

static int wasi_op_rmdir(int parent, const char *leaf, void *ctx) {
    (void)ctx;
    return unlinkat(parent, leaf, AT_REMOVEDIR);
}

static int wasi_op_unlink(int parent, const char *leaf, void *ctx) {
    (void)ctx;
    return unlinkat(parent, leaf, 0);
}

int32_t wasi_path_create_directory(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    return wasi_on_leaf(w, m, a, WASI_RIGHT_PATH_CREATE_DIRECTORY, true, wasi_op_mkdir, NULL);
}

int32_t wasi_path_remove_directory(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    return wasi_on_leaf(w, m, a, WASI_RIGHT_PATH_REMOVE_DIRECTORY, true, wasi_op_rmdir, NULL);
}

int32_t wasi_path_unlink_file(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    return wasi_on_leaf(w, m, a, WASI_RIGHT_PATH_UNLINK_FILE, true, wasi_op_unlink, NULL);
}

typedef struct wasi_readlink_ctx {
    char *buf;
    size_t size;
    ssize_t got;
} wasi_readlink_ctx;

static int wasi_op_readlink(int parent, const char *leaf, void *ctx) {
    wasi_readlink_ctx *c = ctx;
    /* "link/" would make the kernel follow the link: not a readlink. */
    if (wasi_has_trailing_slash(leaf)) {
        errno = ENOTDIR;
        return -1;
    }
    c->got = readlinkat(parent, leaf, c->buf, c->size);
    return c->got < 0 ? -1 : 0;
}

/* path_readlink(fd, path, path_len, buf, buf_len, bufused): the link's
 * contents, cut to buf_len bytes, without NUL. */
int32_t wasi_path_readlink(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    uint64_t buf = wasi_arg_u32(&a[3]), len = wasi_arg_u32(&a[4]);
    uint64_t used_ptr = wasi_arg_u32(&a[5]);
    if (!wasi_in_bounds(m, buf, len) || !wasi_in_bounds(m, used_ptr, 4)) return WASI_EFAULT;
    wasi_readlink_ctx c;
    c.size = WASI_PATH_MAX;
    c.buf = malloc(c.size);
    c.got = 0;
    if (!c.buf) return WASI_ENOMEM;
    int32_t err = wasi_on_leaf(w, m, a, WASI_RIGHT_PATH_READLINK, false, wasi_op_readlink, &c);
    if (!err) {
        uint64_t n = (uint64_t)c.got < len ? (uint64_t)c.got : len;
        memcpy(m->base + buf, c.buf, (size_t)n);
        wasi_store_u32(m, used_ptr, (uint32_t)n);
    }
    free(c.buf);
    return err;
}

/* --------------------------------------------------- symlink, rename */

/* path_symlink(old_path, old_len, fd, new_path, new_len): a symlink at
 * new_path (beneath fd) whose contents are old_path. The contents are not
 * resolved now; every later use resolves them beneath the directory, so a
 * link that points outside is harmless. Absolute contents can never work
 * inside the sandbox and are refused (ENOTCAPABLE). */
int32_t wasi_path_symlink(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    char *target;
    int32_t err = wasi_path_get(m, wasi_arg_u32(&a[0]), wasi_arg_u32(&a[1]), &target);
    if (err) return err;
    char *path;
    wasi_fd *dir = wasi_dir_and_path(w, m, wasi_arg_u32(&a[2]), WASI_RIGHT_PATH_SYMLINK, true,
                                     wasi_arg_u32(&a[3]), wasi_arg_u32(&a[4]), &path, &err);
    if (dir && target[0] == '/') err = WASI_ENOTCAPABLE;
    if (dir && !err) {
        int parent;
        const char *leaf;
        err = wasi_path_parent(dir->host, path, &parent, &leaf);
        if (!err && symlinkat(target, parent, leaf) != 0) err = wasi_errno_from_host(errno);
        if (parent >= 0) close(parent);
    }
    free(path);
    free(target);
    return err;
}

/* Resolves both sides of a rename or link. */
static int32_t wasi_two_parents(wb_wasi *w, const wasi_mem *m, uint64_t ofd, uint64_t orights,
                                uint64_t optr, uint64_t olen, uint64_t nfd, uint64_t nrights,
                                uint64_t nptr, uint64_t nlen, char **opath, char **npath,
                                int *op, const char **oleaf, int *np, const char **nleaf) {
    *opath = *npath = NULL;
    *op = *np = -1;
    int32_t err;
    wasi_fd *od = wasi_dir_and_path(w, m, ofd, orights, true, optr, olen, opath, &err);
    if (!od) return err;
    wasi_fd *nd = wasi_dir_and_path(w, m, nfd, nrights, true, nptr, nlen, npath, &err);
    if (!nd) return err;
    err = wasi_path_parent(od->host, *opath, op, oleaf);
    if (!err) err = wasi_path_parent(nd->host, *npath, np, nleaf);
    return err;
}

static void wasi_two_free(char *opath, char *npath, int op, int np) {
    free(opath);
    free(npath);
    if (op >= 0) close(op);
    if (np >= 0) close(np);
}

/* path_rename(fd, old, old_len, new_fd, new, new_len). Both ends lie
 * beneath their directories; across two preopens the host decides (EXDEV
 * across file systems). */
int32_t wasi_path_rename(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    char *opath, *npath;
    int op, np;
    const char *oleaf, *nleaf;
    int32_t err = wasi_two_parents(w, m, wasi_arg_u32(&a[0]), WASI_RIGHT_PATH_RENAME_SOURCE,
                                   wasi_arg_u32(&a[1]), wasi_arg_u32(&a[2]),
                                   wasi_arg_u32(&a[3]), WASI_RIGHT_PATH_RENAME_TARGET,
                                   wasi_arg_u32(&a[4]), wasi_arg_u32(&a[5]), &opath, &npath,
                                   &op, &oleaf, &np, &nleaf);
    if (!err && renameat(op, oleaf, np, nleaf) != 0) err = wasi_errno_from_host(errno);
    wasi_two_free(opath, npath, op, np);
    return err;
}

/* path_link(old_fd, old_flags, old, old_len, new_fd, new, new_len): a hard
 * link. Following a symlink source is refused (EINVAL), as in wasmtime. */
int32_t wasi_path_link(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    if ((uint32_t)a[1].of.i32 & WASI_LOOKUP_SYMLINK_FOLLOW) return WASI_EINVAL;
    char *opath, *npath;
    int op, np;
    const char *oleaf, *nleaf;
    int32_t err = wasi_two_parents(w, m, wasi_arg_u32(&a[0]), WASI_RIGHT_PATH_LINK_SOURCE,
                                   wasi_arg_u32(&a[2]), wasi_arg_u32(&a[3]),
                                   wasi_arg_u32(&a[4]), WASI_RIGHT_PATH_LINK_TARGET,
                                   wasi_arg_u32(&a[5]), wasi_arg_u32(&a[6]), &opath, &npath,
                                   &op, &oleaf, &np, &nleaf);
    if (!err && wasi_has_trailing_slash(oleaf)) {
        /* "x/" would make the kernel follow a symlink x: it names a
         * directory, and directories cannot be hard-linked. */
        char *copy = strdup(oleaf);
        if (!copy) err = WASI_ENOMEM;
        else {
            size_t n = strlen(copy);
            while (n > 0 && copy[n - 1] == '/') copy[--n] = '\0';
            struct stat st;
            if (fstatat(op, copy, &st, AT_SYMLINK_NOFOLLOW) != 0) err = wasi_errno_from_host(errno);
            else err = S_ISDIR(st.st_mode) ? WASI_EPERM : WASI_ENOTDIR;
            free(copy);
        }
    }
    if (!err && linkat(op, oleaf, np, nleaf, 0) != 0) err = wasi_errno_from_host(errno);
    wasi_two_free(opath, npath, op, np);
    return err;
}
