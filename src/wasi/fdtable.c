/*
 * fdtable.c - the guest's descriptor table.
 *
 * Guest descriptors are indexes into wb_wasi.fds, never host descriptors.
 * Each entry carries the host descriptor, the WASI file type, the base and
 * inheriting rights, the guest name of a preopen and whether it lies under
 * a read-only preopen. Rights only ever shrink: path_open intersects with
 * the directory's inheriting rights, fd_fdstat_set_rights refuses to widen
 * (ENOTCAPABLE), fd_renumber moves an entry as it is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi/wasi_impl.h"

void wasi_dirents_free(wasi_fd *f) {
    for (uint32_t i = 0; i < f->ndirents; i++) free(f->dirents[i].name);
    free(f->dirents);
    f->dirents = NULL;
    f->ndirents = 0;
}

void wasi_fd_release(wasi_fd *f) {
    if (!f->used) return;
    if (!f->borrowed && f->host >= 0) close(f->host);
    free(f->preopen);
    wasi_dirents_free(f);
    memset(f, 0, sizeof *f);
    f->host = -1;
}

void wasi_fdtable_free(wb_wasi *w) {
    for (uint32_t i = 0; i < w->nfds; i++) wasi_fd_release(&w->fds[i]);
    free(w->fds);
    w->fds = NULL;
    w->nfds = 0;
}

int64_t wasi_fd_add(wb_wasi *w, int host, uint8_t type, uint64_t base,
                    uint64_t inheriting, bool read_only, bool borrowed) {
    uint32_t i = 0;
    while (i < w->nfds && w->fds[i].used) i++;
    if (i == w->nfds) {
        if (w->nfds >= WASI_MAX_FDS) return -WASI_EMFILE;
        uint32_t n = w->nfds ? w->nfds * 2 : 8;
        if (n > WASI_MAX_FDS) n = WASI_MAX_FDS;
        wasi_fd *fds = realloc(w->fds, (size_t)n * sizeof *fds);
        if (!fds) return -WASI_ENOMEM;
        memset(fds + w->nfds, 0, (size_t)(n - w->nfds) * sizeof *fds);
        for (uint32_t j = w->nfds; j < n; j++) fds[j].host = -1;
        w->fds = fds;
        w->nfds = n;
    }
    wasi_fd *f = &w->fds[i];
    memset(f, 0, sizeof *f);
    f->used = true;
    f->host = host;
    f->type = type;
    f->base = base;
    f->inheriting = inheriting;
    f->read_only = read_only;
    f->borrowed = borrowed;
    return i;
}

wasi_fd *wasi_fd_get(wb_wasi *w, uint64_t fd, uint64_t rights, int32_t *err) {
    if (fd >= w->nfds || !w->fds[fd].used) {
        *err = WASI_EBADF;
        return NULL;
    }
    wasi_fd *f = &w->fds[fd];
    if ((f->base & rights) != rights) {
        *err = WASI_ENOTCAPABLE;
        return NULL;
    }
    *err = WASI_ESUCCESS;
    return f;
}

uint8_t wasi_fd_host_type(int host) {
    struct stat st;
    if (fstat(host, &st) != 0) return WASI_FILETYPE_UNKNOWN;
    if (S_ISSOCK(st.st_mode)) {
        int type = 0;
        socklen_t len = sizeof type;
        if (getsockopt(host, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_DGRAM)
            return WASI_FILETYPE_SOCKET_DGRAM;
        return WASI_FILETYPE_SOCKET_STREAM;
    }
    return wasi_filetype_from_mode(st.st_mode);
}

void wasi_rights_for_type(uint8_t type, uint64_t *base, uint64_t *inheriting) {
    switch (type) {
    case WASI_FILETYPE_DIRECTORY:
        *base = WASI_RIGHTS_DIR;
        *inheriting = WASI_RIGHTS_DIR | WASI_RIGHTS_FILE;
        break;
    case WASI_FILETYPE_REGULAR_FILE:
    case WASI_FILETYPE_BLOCK_DEVICE:
        *base = WASI_RIGHTS_FILE;
        *inheriting = 0;
        break;
    case WASI_FILETYPE_SOCKET_STREAM:
    case WASI_FILETYPE_SOCKET_DGRAM:
        *base = WASI_RIGHTS_SOCKET;
        *inheriting = WASI_RIGHTS_SOCKET;
        break;
    default: /* terminals, pipes, character devices */
        *base = WASI_RIGHTS_TTY;
        *inheriting = 0;
        break;
    }
}

int32_t wasi_fd_close(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    (void)m;
    int32_t err;
    wasi_fd *f = wasi_fd_get(w, wasi_arg_u32(&a[0]), 0, &err);
    if (!f) return err;
    wasi_fd_release(f);
    return WASI_ESUCCESS;
}

/* fd_renumber(from, to): `to` must be open; it is closed and `from` moves
 * there with its rights unchanged. */
int32_t wasi_fd_renumber(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    (void)m;
    int32_t err;
    uint64_t from = wasi_arg_u32(&a[0]), to = wasi_arg_u32(&a[1]);
    wasi_fd *f = wasi_fd_get(w, from, 0, &err);
    if (!f) return err;
    wasi_fd *t = wasi_fd_get(w, to, 0, &err);
    if (!t) return err;
    if (from == to) return WASI_ESUCCESS;
    wasi_fd_release(t);
    *t = *f;
    memset(f, 0, sizeof *f);
    f->host = -1;
    return WASI_ESUCCESS;
}

static uint16_t wasi_fdflags_of(const wasi_fd *f) {
    if (f->host < 0) return 0;
    int fl = fcntl(f->host, F_GETFL);
    if (fl < 0) return 0;
    uint16_t out = 0;
    if (fl & O_APPEND) out |= WASI_FDFLAG_APPEND;
    if (fl & O_NONBLOCK) out |= WASI_FDFLAG_NONBLOCK;
    if ((fl & O_SYNC) == O_SYNC) out |= WASI_FDFLAG_SYNC | WASI_FDFLAG_RSYNC;
    else if (fl & O_DSYNC) out |= WASI_FDFLAG_DSYNC;
    return out;
}

int32_t wasi_fd_fdstat_get(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    int32_t err;
    wasi_fd *f = wasi_fd_get(w, wasi_arg_u32(&a[0]), 0, &err);
    if (!f) return err;
    uint64_t ptr = wasi_arg_u32(&a[1]);
    if (!wasi_in_bounds(m, ptr, 24)) return WASI_EFAULT;
    memset(m->base + ptr, 0, 24);
    m->base[ptr] = f->type;
    wasi_store_u16(m, ptr + 2, wasi_fdflags_of(f));
    wasi_store_u64(m, ptr + 8, f->base);
    wasi_store_u64(m, ptr + 16, f->inheriting);
    return WASI_ESUCCESS;
}

/* Only append and nonblock can change on an open Linux descriptor; asking
 * for the sync flags is refused (ENOTSUP) rather than silently ignored. */
int32_t wasi_fd_fdstat_set_flags(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    (void)m;
    int32_t err;
    wasi_fd *f = wasi_fd_get(w, wasi_arg_u32(&a[0]), WASI_RIGHT_FD_FDSTAT_SET_FLAGS, &err);
    if (!f) return err;
    uint32_t flags = (uint32_t)a[1].of.i32 & 0xFFFF;
    if (flags & ~(WASI_FDFLAG_APPEND | WASI_FDFLAG_NONBLOCK | WASI_FDFLAG_DSYNC |
                  WASI_FDFLAG_RSYNC | WASI_FDFLAG_SYNC))
        return WASI_EINVAL;
    if (flags & (WASI_FDFLAG_DSYNC | WASI_FDFLAG_RSYNC | WASI_FDFLAG_SYNC)) return WASI_ENOTSUP;
    if ((flags & WASI_FDFLAG_APPEND) && f->read_only) return WASI_EROFS;
    int fl = fcntl(f->host, F_GETFL);
    if (fl < 0) return wasi_errno_from_host(errno);
    fl &= ~(O_APPEND | O_NONBLOCK);
    if (flags & WASI_FDFLAG_APPEND) fl |= O_APPEND;
    if (flags & WASI_FDFLAG_NONBLOCK) fl |= O_NONBLOCK;
    if (fcntl(f->host, F_SETFL, fl) != 0) return wasi_errno_from_host(errno);
    return WASI_ESUCCESS;
}

int32_t wasi_fd_fdstat_set_rights(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    (void)m;
    int32_t err;
    wasi_fd *f = wasi_fd_get(w, wasi_arg_u32(&a[0]), 0, &err);
    if (!f) return err;
    uint64_t base = wasi_arg_u64(&a[1]), inh = wasi_arg_u64(&a[2]);
    if ((base & ~f->base) || (inh & ~f->inheriting)) return WASI_ENOTCAPABLE;
    f->base = base;
    f->inheriting = inh;
    return WASI_ESUCCESS;
}

int32_t wasi_fd_prestat_get(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    int32_t err;
    wasi_fd *f = wasi_fd_get(w, wasi_arg_u32(&a[0]), 0, &err);
    if (!f) return err;
    if (!f->preopen) return WASI_EBADF;
    uint64_t ptr = wasi_arg_u32(&a[1]);
    if (!wasi_in_bounds(m, ptr, 8)) return WASI_EFAULT;
    memset(m->base + ptr, 0, 8);
    wasi_store_u32(m, ptr + 4, (uint32_t)strlen(f->preopen));
    return WASI_ESUCCESS;
}

int32_t wasi_fd_prestat_dir_name(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    int32_t err;
    wasi_fd *f = wasi_fd_get(w, wasi_arg_u32(&a[0]), 0, &err);
    if (!f) return err;
    if (!f->preopen) return WASI_EBADF;
    uint64_t ptr = wasi_arg_u32(&a[1]), len = wasi_arg_u32(&a[2]);
    if (!wasi_in_bounds(m, ptr, len)) return WASI_EFAULT;
    size_t n = strlen(f->preopen);
    if (len < n) return WASI_ENAMETOOLONG;
    memcpy(m->base + ptr, f->preopen, n);
    return WASI_ESUCCESS;
}
