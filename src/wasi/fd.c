/*
 * fd.c - the fd_* functions that act on open files and directories:
 * read/write (also for the standard streams and sockets), pread/pwrite,
 * seek/tell, sync, advise/allocate, filestat get/set and readdir.
 *
 * Every function first checks the descriptor's rights (ENOTCAPABLE when
 * missing); writes under a read-only preopen answer EROFS.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wasi/wasi_impl.h"

/* Bytes of directory listing cached per descriptor at most. */
#define WASI_READDIR_MAX_BYTES (UINT64_C(64) << 20)
#define WASI_DIRENT_SIZE 24

void wasi_store_filestat(const wasi_mem *m, uint64_t ptr, const struct stat *st) {
    memset(m->base + ptr, 0, 64);
    wasi_store_u64(m, ptr, (uint64_t)st->st_dev);
    wasi_store_u64(m, ptr + 8, (uint64_t)st->st_ino);
    m->base[ptr + 16] = wasi_filetype_from_mode(st->st_mode);
    wasi_store_u64(m, ptr + 24, (uint64_t)st->st_nlink);
    wasi_store_u64(m, ptr + 32, (uint64_t)st->st_size);
    wasi_store_u64(m, ptr + 40, wasi_timespec_ns(&st->st_atim));
    wasi_store_u64(m, ptr + 48, wasi_timespec_ns(&st->st_mtim));
    wasi_store_u64(m, ptr + 56, wasi_timespec_ns(&st->st_ctim));
}

int32_t wasi_times_from_flags(uint64_t atim, uint64_t mtim, uint32_t fst,
                              struct timespec ts[2]) {
    if (fst & ~(WASI_FST_ATIM | WASI_FST_ATIM_NOW | WASI_FST_MTIM | WASI_FST_MTIM_NOW))
        return WASI_EINVAL;
    if ((fst & WASI_FST_ATIM) && (fst & WASI_FST_ATIM_NOW)) return WASI_EINVAL;
    if ((fst & WASI_FST_MTIM) && (fst & WASI_FST_MTIM_NOW)) return WASI_EINVAL;
    const uint64_t G = UINT64_C(1000000000);
    ts[0].tv_sec = 0;
    ts[1].tv_sec = 0;
    if (fst & WASI_FST_ATIM_NOW) ts[0].tv_nsec = UTIME_NOW;
    else if (fst & WASI_FST_ATIM) {
        ts[0].tv_sec = (time_t)(atim / G);
        ts[0].tv_nsec = (long)(atim % G);
    } else ts[0].tv_nsec = UTIME_OMIT;
    if (fst & WASI_FST_MTIM_NOW) ts[1].tv_nsec = UTIME_NOW;
    else if (fst & WASI_FST_MTIM) {
        ts[1].tv_sec = (time_t)(mtim / G);
        ts[1].tv_nsec = (long)(mtim % G);
    } else ts[1].tv_nsec = UTIME_OMIT;
    return WASI_ESUCCESS;
}

/* ------------------------------------------------------- read, write */

/* Reads into the guest iovecs with one host call (a short read is
 * normal). offset < 0: at the current position. */
static int32_t wasi_do_read(int host, const wasi_mem *m, uint64_t iovs, uint64_t n,
                            int64_t offset, uint64_t nread_ptr) {
    if (!wasi_in_bounds(m, nread_ptr, 4) || !wasi_iovs_ok(m, iovs, n)) return WASI_EFAULT;
    struct iovec batch[WASI_IOV_BATCH];
    uint64_t next = 0, budget = INT32_MAX;
    int cnt = wasi_iovs_batch(m, iovs, n, &next, batch, &budget);
    ssize_t got = 0;
    if (cnt > 0) {
        do {
            got = offset < 0 ? readv(host, batch, cnt) : preadv(host, batch, cnt, offset);
        } while (got < 0 && errno == EINTR);
        if (got < 0) return wasi_errno_from_host(errno);
    }
    wasi_store_u32(m, nread_ptr, (uint32_t)got);
    return WASI_ESUCCESS;
}

/* Writes all the guest iovecs, resuming after short writes (a
 * non-blocking descriptor may stop early: then the count is short). */
static int32_t wasi_do_write(int host, bool sock, const wasi_mem *m, uint64_t iovs,
                             uint64_t n, int64_t offset, uint64_t nwritten_ptr) {
    if (!wasi_in_bounds(m, nwritten_ptr, 4) || !wasi_iovs_ok(m, iovs, n)) return WASI_EFAULT;
    /* The count goes back as a u32. */
    uint64_t budget = UINT32_MAX, done = 0, next = 0;
    int host_errno = 0;
    struct iovec batch[WASI_IOV_BATCH];
    while (next < n && budget > 0 && host_errno == 0) {
        int cnt = wasi_iovs_batch(m, iovs, n, &next, batch, &budget);
        struct iovec *iov = batch;
        while (cnt > 0) {
            ssize_t w;
            if (sock) {
                /* A peer that went away gives EPIPE, never SIGPIPE. */
                struct msghdr msg;
                memset(&msg, 0, sizeof msg);
                msg.msg_iov = iov;
                msg.msg_iovlen = (size_t)cnt;
                w = sendmsg(host, &msg, MSG_NOSIGNAL);
            } else if (offset < 0) {
                w = writev(host, iov, cnt);
            } else {
#ifdef RWF_NOAPPEND
                w = pwritev2(host, iov, cnt, offset + (int64_t)done, RWF_NOAPPEND);
                if (w < 0 && (errno == EINVAL || errno == EOPNOTSUPP))
#endif
                    w = pwritev(host, iov, cnt, offset + (int64_t)done);
            }
            if (w < 0) {
                if (errno == EINTR) continue;
                host_errno = errno;
                break;
            }
            if (w == 0) break;
            done += (uint64_t)w;
            size_t left = (size_t)w;
            while (cnt > 0 && left >= iov->iov_len) {
                left -= iov->iov_len;
                iov++;
                cnt--;
            }
            if (cnt > 0) {
                iov->iov_base = (uint8_t *)iov->iov_base + left;
                iov->iov_len -= left;
            }
        }
    }
    /* An error after some bytes went out is reported as a short write. */
    if (host_errno != 0 && done == 0) return wasi_errno_from_host(host_errno);
    wasi_store_u32(m, nwritten_ptr, (uint32_t)done);
    return WASI_ESUCCESS;
}

int32_t wasi_fd_read(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    int32_t err;
    wasi_fd *f = wasi_fd_get(w, wasi_arg_u32(&a[0]), WASI_RIGHT_FD_READ, &err);
    if (!f) return err;
    return wasi_do_read(f->host, m, wasi_arg_u32(&a[1]), wasi_arg_u32(&a[2]), -1,
                        wasi_arg_u32(&a[3]));
}

int32_t wasi_fd_write(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    int32_t err;
    wasi_fd *f = wasi_fd_get(w, wasi_arg_u32(&a[0]), WASI_RIGHT_FD_WRITE, &err);
    if (!f) return err;
    if (f->read_only) return WASI_EROFS;
    bool sock = f->type == WASI_FILETYPE_SOCKET_STREAM || f->type == WASI_FILETYPE_SOCKET_DGRAM;
    return wasi_do_write(f->host, sock, m, wasi_arg_u32(&a[1]), wasi_arg_u32(&a[2]), -1,
                         wasi_arg_u32(&a[3]));
}

int32_t wasi_fd_pread(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    int32_t err;
    wasi_fd *f = wasi_fd_get(w, wasi_arg_u32(&a[0]), WASI_RIGHT_FD_READ | WASI_RIGHT_FD_SEEK, &err);
    if (!f) return err;
    uint64_t off = wasi_arg_u64(&a[3]);
    if (off > INT64_MAX) return WASI_EINVAL;
    return wasi_do_read(f->host, m, wasi_arg_u32(&a[1]), wasi_arg_u32(&a[2]), (int64_t)off,
                        wasi_arg_u32(&a[4]));
}

int32_t wasi_fd_pwrite(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    int32_t err;
    wasi_fd *f = wasi_fd_get(w, wasi_arg_u32(&a[0]), WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_SEEK, &err);
    if (!f) return err;
    if (f->read_only) return WASI_EROFS;
    uint64_t off = wasi_arg_u64(&a[3]);
    if (off > INT64_MAX) return WASI_EINVAL;
    return wasi_do_write(f->host, false, m, wasi_arg_u32(&a[1]), wasi_arg_u32(&a[2]), (int64_t)off,
                         wasi_arg_u32(&a[4]));
}

/* ---------------------------------------------------------- position */

int32_t wasi_fd_seek(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    int64_t off = a[1].of.i64;
    uint32_t whence = (uint32_t)a[2].of.i32 & 0xFF;
    /* Asking for the position only needs the tell right. */
    uint64_t need = (off == 0 && whence == 1) ? WASI_RIGHT_FD_TELL : WASI_RIGHT_FD_SEEK;
    int32_t err;
    wasi_fd *f = wasi_fd_get(w, wasi_arg_u32(&a[0]), 0, &err);
    if (!f) return err;
    if (f->type == WASI_FILETYPE_DIRECTORY) return WASI_EBADF;
    if (f->type == WASI_FILETYPE_CHARACTER_DEVICE || f->type == WASI_FILETYPE_SOCKET_STREAM ||
        f->type == WASI_FILETYPE_SOCKET_DGRAM)
        return WASI_ESPIPE;
    if ((f->base & need) != need) return WASI_ENOTCAPABLE;
    uint64_t ptr = wasi_arg_u32(&a[3]);
    if (!wasi_in_bounds(m, ptr, 8)) return WASI_EFAULT;
    int hw;
    switch (whence) {
    case 0: hw = SEEK_SET; break;
    case 1: hw = SEEK_CUR; break;
    case 2: hw = SEEK_END; break;
    default: return WASI_EINVAL;
    }
    off_t r = lseek(f->host, (off_t)off, hw);
    if (r < 0) return wasi_errno_from_host(errno);
    wasi_store_u64(m, ptr, (uint64_t)r);
    return WASI_ESUCCESS;
}

int32_t wasi_fd_tell(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    int32_t err;
    wasi_fd *f = wasi_fd_get(w, wasi_arg_u32(&a[0]), 0, &err);
    if (!f) return err;
    if (f->type == WASI_FILETYPE_CHARACTER_DEVICE) return WASI_ESPIPE;
    if (!(f->base & WASI_RIGHT_FD_TELL)) return WASI_ENOTCAPABLE;
    uint64_t ptr = wasi_arg_u32(&a[1]);
    if (!wasi_in_bounds(m, ptr, 8)) return WASI_EFAULT;
    off_t r = lseek(f->host, 0, SEEK_CUR);
    if (r < 0) return wasi_errno_from_host(errno);
    wasi_store_u64(m, ptr, (uint64_t)r);
    return WASI_ESUCCESS;
}

/* ------------------------------------------- sync, advise, allocate */

int32_t wasi_fd_sync(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    (void)m;
    int32_t err;
    wasi_fd *f = wasi_fd_get(w, wasi_arg_u32(&a[0]), WASI_RIGHT_FD_SYNC, &err);
    if (!f) return err;
    if (fsync(f->host) != 0 && errno != EINVAL) return wasi_errno_from_host(errno);
    return WASI_ESUCCESS;
}

int32_t wasi_fd_datasync(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    (void)m;
    int32_t err;
    wasi_fd *f = wasi_fd_get(w, wasi_arg_u32(&a[0]), WASI_RIGHT_FD_DATASYNC, &err);
    if (!f) return err;
    if (fdatasync(f->host) != 0 && errno != EINVAL) return wasi_errno_from_host(errno);
    return WASI_ESUCCESS;
}

int32_t wasi_fd_advise(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    (void)m;
    int32_t err;
    wasi_fd *f = wasi_fd_get(w, wasi_arg_u32(&a[0]), WASI_RIGHT_FD_ADVISE, &err);
    if (!f) return err;
    uint64_t off = wasi_arg_u64(&a[1]), len = wasi_arg_u64(&a[2]);
    static const int advice[] = {POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                 POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
    uint32_t adv = (uint32_t)a[3].of.i32 & 0xFF;
    if (adv > 5 || off > INT64_MAX || len > INT64_MAX) return WASI_EINVAL;
    if (f->type == WASI_FILETYPE_DIRECTORY) return WASI_EBADF;
    int r = posix_fadvise(f->host, (off_t)off, (off_t)len, advice[adv]);
    /* Advice is only a hint: where the host cannot take it, ignore it. */
    if (r != 0 && r != ESPIPE && r != EINVAL) return wasi_errno_from_host(r);
    return r == ESPIPE ? WASI_ESPIPE : WASI_ESUCCESS;
}

int32_t wasi_fd_allocate(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    (void)m;
    int32_t err;
    wasi_fd *f = wasi_fd_get(w, wasi_arg_u32(&a[0]), WASI_RIGHT_FD_ALLOCATE, &err);
    if (!f) return err;
    if (f->read_only) return WASI_EROFS;
    uint64_t off = wasi_arg_u64(&a[1]), len = wasi_arg_u64(&a[2]);
    if (off > INT64_MAX || len > INT64_MAX || off + len > INT64_MAX) return WASI_EINVAL;
    int r = posix_fallocate(f->host, (off_t)off, (off_t)len);
    return r ? wasi_errno_from_host(r) : WASI_ESUCCESS;
}

/* ---------------------------------------------------------- filestat */

int32_t wasi_fd_filestat_get(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    int32_t err;
    wasi_fd *f = wasi_fd_get(w, wasi_arg_u32(&a[0]), WASI_RIGHT_FD_FILESTAT_GET, &err);
    if (!f) return err;
    uint64_t ptr = wasi_arg_u32(&a[1]);
    if (!wasi_in_bounds(m, ptr, 64)) return WASI_EFAULT;
    struct stat st;
    if (fstat(f->host, &st) != 0) return wasi_errno_from_host(errno);
    wasi_store_filestat(m, ptr, &st);
    /* The type the descriptor was given (standard streams are character
     * devices, sockets say which kind) agrees with fd_fdstat_get. */
    if (f->type != WASI_FILETYPE_UNKNOWN) m->base[ptr + 16] = f->type;
    return WASI_ESUCCESS;
}

int32_t wasi_fd_filestat_set_size(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    (void)m;
    int32_t err;
    wasi_fd *f = wasi_fd_get(w, wasi_arg_u32(&a[0]), WASI_RIGHT_FD_FILESTAT_SET_SIZE, &err);
    if (!f) return err;
    if (f->read_only) return WASI_EROFS;
    uint64_t size = wasi_arg_u64(&a[1]);
    if (size > INT64_MAX) return WASI_EINVAL;
    if (ftruncate(f->host, (off_t)size) != 0) return wasi_errno_from_host(errno);
    return WASI_ESUCCESS;
}

int32_t wasi_fd_filestat_set_times(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    (void)m;
    int32_t err;
    wasi_fd *f = wasi_fd_get(w, wasi_arg_u32(&a[0]), WASI_RIGHT_FD_FILESTAT_SET_TIMES, &err);
    if (!f) return err;
    struct timespec ts[2];
    int32_t r = wasi_times_from_flags(wasi_arg_u64(&a[1]), wasi_arg_u64(&a[2]),
                                      (uint32_t)a[3].of.i32 & 0xFFFF, ts);
    if (r) return r;
    if (f->read_only) return WASI_EROFS;
    if (futimens(f->host, ts) != 0) return wasi_errno_from_host(errno);
    return WASI_ESUCCESS;
}

/* ----------------------------------------------------------- readdir */

static uint8_t wasi_dtype(unsigned char d_type) {
    switch (d_type) {
    case DT_REG: return WASI_FILETYPE_REGULAR_FILE;
    case DT_DIR: return WASI_FILETYPE_DIRECTORY;
    case DT_LNK: return WASI_FILETYPE_SYMBOLIC_LINK;
    case DT_CHR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case DT_BLK: return WASI_FILETYPE_BLOCK_DEVICE;
    case DT_SOCK: return WASI_FILETYPE_SOCKET_STREAM;
    default: return WASI_FILETYPE_UNKNOWN;
    }
}

struct wasi_linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Reads the whole listing of the directory into f->dirents. */
static int32_t wasi_dirents_load(wasi_fd *f) {
    wasi_dirents_free(f);
    if (lseek(f->host, 0, SEEK_SET) < 0) return wasi_errno_from_host(errno);
    size_t bufsize = 32768;
    char *buf = malloc(bufsize);
    if (!buf) return WASI_ENOMEM;
    uint32_t cap = 0;
    uint64_t bytes = 0;
    int32_t r = WASI_ESUCCESS;
    for (;;) {
        long got = syscall(SYS_getdents64, f->host, buf, bufsize);
        if (got < 0) {
            if (errno == EINTR) continue;
            r = wasi_errno_from_host(errno);
            break;
        }
        if (got == 0) break;
        for (long at = 0; at < got;) {
            struct wasi_linux_dirent64 *d = (struct wasi_linux_dirent64 *)(buf + at);
            at += d->d_reclen;
            size_t len = strlen(d->d_name);
            bytes += len + WASI_DIRENT_SIZE;
            if (bytes > WASI_READDIR_MAX_BYTES || f->ndirents == UINT32_MAX) {
                r = WASI_ENOMEM;
                break;
            }
            if (f->ndirents == cap) {
                uint32_t ncap = cap ? cap * 2 : 32;
                wasi_dirent *nd = realloc(f->dirents, (size_t)ncap * sizeof *nd);
                if (!nd) {
                    r = WASI_ENOMEM;
                    break;
                }
                f->dirents = nd;
                cap = ncap;
            }
            wasi_dirent *e = &f->dirents[f->ndirents];
            e->name = malloc(len + 1);
            if (!e->name) {
                r = WASI_ENOMEM;
                break;
            }
            memcpy(e->name, d->d_name, len + 1);
            e->namelen = (uint32_t)len;
            e->ino = d->d_ino;
            e->type = wasi_dtype(d->d_type);
            if (d->d_type == DT_UNKNOWN) {
                struct stat st;
                if (fstatat(f->host, e->name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                    e->type = wasi_filetype_from_mode(st.st_mode);
            }
            f->ndirents++;
        }
        if (r) break;
    }
    free(buf);
    if (r) wasi_dirents_free(f);
    return r;
}

/* fd_readdir(fd, buf, buf_len, cookie, bufused): entries from index
 * `cookie` on, each a 24-byte dirent (d_next = index + 1, d_ino,
 * d_namlen, d_type) then the name without NUL; the buffer is filled
 * completely, the last entry cut where it ends (the guest sees bufused ==
 * buf_len and asks again from that entry's cookie). */
int32_t wasi_fd_readdir(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    int32_t err;
    wasi_fd *f = wasi_fd_get(w, wasi_arg_u32(&a[0]), WASI_RIGHT_FD_READDIR, &err);
    if (!f) return err;
    if (f->type != WASI_FILETYPE_DIRECTORY) return WASI_ENOTDIR;
    uint64_t buf = wasi_arg_u32(&a[1]), len = wasi_arg_u32(&a[2]);
    uint64_t cookie = wasi_arg_u64(&a[3]), used_ptr = wasi_arg_u32(&a[4]);
    if (!wasi_in_bounds(m, buf, len) || !wasi_in_bounds(m, used_ptr, 4)) return WASI_EFAULT;
    if (cookie == 0 || !f->dirents) {
        int32_t r = wasi_dirents_load(f);
        if (r) return r;
    }
    uint64_t used = 0;
    uint8_t hdr[WASI_DIRENT_SIZE];
    wasi_mem hm = {hdr, sizeof hdr};
    for (uint64_t i = cookie; i < f->ndirents && used < len; i++) {
        const wasi_dirent *e = &f->dirents[i];
        memset(hdr, 0, sizeof hdr);
        wasi_store_u64(&hm, 0, i + 1);
        wasi_store_u64(&hm, 8, e->ino);
        wasi_store_u32(&hm, 16, e->namelen);
        hdr[20] = e->type;
        uint64_t n = len - used < sizeof hdr ? len - used : sizeof hdr;
        memcpy(m->base + buf + used, hdr, (size_t)n);
        used += n;
        n = len - used < e->namelen ? len - used : e->namelen;
        memcpy(m->base + buf + used, e->name, (size_t)n);
        used += n;
    }
    wasi_store_u32(m, used_ptr, (uint32_t)used);
    return WASI_ESUCCESS;
}
