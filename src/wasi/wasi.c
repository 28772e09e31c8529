/*
 * wasi.c - the WASI preview1 host: the part a command-line program needs
 * (arguments, environment, standard streams, clocks, random, exit).
 *
 * Every function of wasi_snapshot_preview1 is defined so that any WASI
 * module links; the file system, polling and sockets answer ENOSYS until the
 * full implementation lands.
 *
 * Guest memory is never trusted: every pointer and length the guest passes
 * is checked against the current memory size with 64-bit arithmetic (a
 * 32-bit pointer plus a 32-bit length cannot wrap there) before it is
 * touched, and a bad one yields EFAULT. Values in guest memory are
 * little-endian whatever the host is, so they are read and written byte by
 * byte.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "wasmbox.h"
#include "wasmbox_wasi.h"

/* WASI errno values (witx `errno`); only those used here. */
enum {
    WASI_ESUCCESS = 0,
    WASI_EACCES = 2,
    WASI_EAGAIN = 6,
    WASI_EBADF = 8,
    WASI_EFAULT = 21,
    WASI_EFBIG = 22,
    WASI_EINTR = 27,
    WASI_EINVAL = 28,
    WASI_EIO = 29,
    WASI_EISDIR = 31,
    WASI_ENOMEM = 48,
    WASI_ENOSPC = 51,
    WASI_ENOSYS = 52,
    WASI_EPERM = 63,
    WASI_EPIPE = 64,
    WASI_ESPIPE = 70,
};

/* Clock ids (witx `clockid`). */
enum {
    WASI_CLOCK_REALTIME = 0,
    WASI_CLOCK_MONOTONIC = 1,
    WASI_CLOCK_PROCESS_CPUTIME = 2,
    WASI_CLOCK_THREAD_CPUTIME = 3,
};

#define WASI_FILETYPE_CHARACTER_DEVICE 2
/* All 30 rights bits of witx `rights` (fd_datasync .. sock_accept). */
#define WASI_RIGHTS_ALL ((UINT64_C(1) << 30) - 1)
/* Size of witx `fdstat`: filetype u8, flags u16 at 2, two u64 rights. */
#define WASI_FDSTAT_SIZE 24
/* Size of witx `iovec` / `ciovec`: buf u32, buf_len u32. */
#define WASI_IOVEC_SIZE 8
/* How many guest iovecs are handed to one readv/writev. The array lives on
 * the C stack, so its size is fixed here, never taken from the guest. */
#define WASI_IOV_BATCH 32

/* A list of NUL-terminated strings as the guest sees them through
 * args_get / environ_get: `count` entries, `bytes` bytes including every
 * terminating NUL (guaranteed to fit in a u32). */
typedef struct wasi_strings {
    uint32_t count;
    uint32_t bytes;
    char **items;
} wasi_strings;

struct wb_wasi {
    wasi_strings args;
    wasi_strings env;
    int host_fd[3]; /* guest fd 0, 1, 2 -> host descriptor */
};

/* The calling instance's memory, captured once per host call. Its size
 * cannot change during the call: host functions never grow it. */
typedef struct wasi_mem {
    uint8_t *base;
    uint64_t size;
} wasi_mem;

/* --------------------------------------------------------- the context */

static void wasi_strings_free(wasi_strings *s) {
    if (s->items) {
        for (uint32_t i = 0; i < s->count; i++) free(s->items[i]);
        free(s->items);
    }
    s->items = NULL;
    s->count = 0;
    s->bytes = 0;
}

static wb_status wasi_fail(wb_error *err, wb_status status, const char *msg) {
    if (err) {
        wb_error_clear(err);
        err->status = status;
        strncpy(err->message, msg, sizeof err->message - 1);
        err->message[sizeof err->message - 1] = '\0';
    }
    return status;
}

static wb_status wasi_strings_copy(wasi_strings *dst, int n,
                                   const char *const *src, wb_error *err) {
    if (n < 0 || (n > 0 && !src))
        return wasi_fail(err, WB_ERR_ARG, "wasi: bad argument or environment count");
    dst->items = NULL;
    dst->count = 0;
    dst->bytes = 0;
    if (n == 0) return WB_OK;
    dst->items = calloc((size_t)n, sizeof *dst->items);
    if (!dst->items) return wasi_fail(err, WB_ERR_NOMEM, "wasi: out of memory");
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        if (!src[i]) {
            wasi_strings_free(dst);
            return wasi_fail(err, WB_ERR_ARG, "wasi: NULL argument or environment string");
        }
        size_t len = strlen(src[i]);
        total += (uint64_t)len + 1;
        /* The guest learns the sizes through u32 fields. */
        if (total > UINT32_MAX) {
            wasi_strings_free(dst);
            return wasi_fail(err, WB_ERR_ARG, "wasi: arguments or environment too large");
        }
        dst->items[i] = malloc(len + 1);
        if (!dst->items[i]) {
            wasi_strings_free(dst);
            return wasi_fail(err, WB_ERR_NOMEM, "wasi: out of memory");
        }
        memcpy(dst->items[i], src[i], len + 1);
        dst->count = (uint32_t)i + 1;
    }
    dst->bytes = (uint32_t)total;
    return WB_OK;
}

void wb_wasi_config_default(wb_wasi_config *cfg) {
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->stdin_fd = 0;
    cfg->stdout_fd = 1;
    cfg->stderr_fd = 2;
}

wb_status wb_wasi_new(const wb_wasi_config *cfg, wb_wasi **out,
                      wb_error *err) {
    if (err) wb_error_clear(err);
    if (!out) return wasi_fail(err, WB_ERR_ARG, "wasi: out is NULL");
    *out = NULL;
    wb_wasi_config defaults;
    if (!cfg) {
        wb_wasi_config_default(&defaults);
        cfg = &defaults;
    }
    wb_wasi *wasi = calloc(1, sizeof *wasi);
    if (!wasi) return wasi_fail(err, WB_ERR_NOMEM, "wasi: out of memory");
    wb_status st = wasi_strings_copy(&wasi->args, cfg->argc, cfg->argv, err);
    if (st == WB_OK)
        st = wasi_strings_copy(&wasi->env, cfg->envc, cfg->envp, err);
    if (st != WB_OK) {
        wb_wasi_delete(wasi);
        return st;
    }
    wasi->host_fd[0] = cfg->stdin_fd;
    wasi->host_fd[1] = cfg->stdout_fd;
    wasi->host_fd[2] = cfg->stderr_fd;
    *out = wasi;
    return WB_OK;
}

void wb_wasi_delete(wb_wasi *wasi) {
    if (!wasi) return;
    wasi_strings_free(&wasi->args);
    wasi_strings_free(&wasi->env);
    free(wasi);
}

/* ------------------------------------------------------- guest memory */

static bool wasi_memory(wb_caller *caller, wasi_mem *m) {
    wb_memory *mem = wb_caller_memory(caller);
    if (!mem) return false;
    m->base = wb_memory_data(mem);
    m->size = (uint64_t)wb_memory_size(mem);
    return true;
}

static wb_status wasi_no_memory(wb_caller *caller) {
    return wb_caller_trap(caller, "wasi: module has no memory");
}

/* True when [ptr, ptr+len) lies inside memory. Both are at most 2^32 on
 * entry from the guest, but the check holds for any 64-bit values. */
static bool wasi_in_bounds(const wasi_mem *m, uint64_t ptr, uint64_t len) {
    return ptr <= m->size && len <= m->size - ptr;
}

static uint32_t wasi_load_u32(const wasi_mem *m, uint64_t ptr) {
    const uint8_t *p = m->base + ptr;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void wasi_store_u16(const wasi_mem *m, uint64_t ptr, uint16_t v) {
    m->base[ptr] = (uint8_t)v;
    m->base[ptr + 1] = (uint8_t)(v >> 8);
}

static void wasi_store_u32(const wasi_mem *m, uint64_t ptr, uint32_t v) {
    for (int i = 0; i < 4; i++) m->base[ptr + (uint64_t)i] = (uint8_t)(v >> (8 * i));
}

static void wasi_store_u64(const wasi_mem *m, uint64_t ptr, uint64_t v) {
    for (int i = 0; i < 8; i++) m->base[ptr + (uint64_t)i] = (uint8_t)(v >> (8 * i));
}

/* Guest i32 arguments are unsigned addresses and sizes. */
static uint64_t wasi_u32_arg(const wb_val *v) {
    return (uint64_t)(uint32_t)v->of.i32;
}

static wb_status wasi_return(wb_val *results, int32_t errno_value) {
    results[0] = WB_VAL_I32(errno_value);
    return WB_OK;
}

static int32_t wasi_errno_from_host(int e) {
    switch (e) {
    case EACCES: return WASI_EACCES;
    case EAGAIN: return WASI_EAGAIN;
    case EBADF: return WASI_EBADF;
    case EFAULT: return WASI_EFAULT;
    case EFBIG: return WASI_EFBIG;
    case EINTR: return WASI_EINTR;
    case EINVAL: return WASI_EINVAL;
    case EISDIR: return WASI_EISDIR;
    case ENOMEM: return WASI_ENOMEM;
    case ENOSPC: return WASI_ENOSPC;
    case EPERM: return WASI_EPERM;
    case EPIPE: return WASI_EPIPE;
    case ESPIPE: return WASI_ESPIPE;
    default: return WASI_EIO;
    }
}

/* --------------------------------------------- arguments, environment */

/* Shared by args_sizes_get and environ_sizes_get. */
static wb_status wasi_sizes_get(wb_caller *caller, const wasi_strings *s,
                                const wb_val *args, wb_val *results) {
    wasi_mem m;
    if (!wasi_memory(caller, &m)) return wasi_no_memory(caller);
    uint64_t count_ptr = wasi_u32_arg(&args[0]);
    uint64_t size_ptr = wasi_u32_arg(&args[1]);
    if (!wasi_in_bounds(&m, count_ptr, 4) || !wasi_in_bounds(&m, size_ptr, 4))
        return wasi_return(results, WASI_EFAULT);
    wasi_store_u32(&m, count_ptr, s->count);
    wasi_store_u32(&m, size_ptr, s->bytes);
    return wasi_return(results, WASI_ESUCCESS);
}

/* Shared by args_get and environ_get: an array of `count` u32 pointers at
 * args[0], each pointing into the strings packed at args[1]. */
static wb_status wasi_strings_get(wb_caller *caller, const wasi_strings *s,
                                  const wb_val *args, wb_val *results) {
    wasi_mem m;
    if (!wasi_memory(caller, &m)) return wasi_no_memory(caller);
    uint64_t array_ptr = wasi_u32_arg(&args[0]);
    uint64_t buf_ptr = wasi_u32_arg(&args[1]);
    if (!wasi_in_bounds(&m, array_ptr, (uint64_t)s->count * 4) ||
        !wasi_in_bounds(&m, buf_ptr, s->bytes))
        return wasi_return(results, WASI_EFAULT);
    uint64_t at = buf_ptr;
    for (uint32_t i = 0; i < s->count; i++) {
        size_t len = strlen(s->items[i]) + 1;
        /* at + len <= buf_ptr + bytes, checked above; at fits in u32. */
        wasi_store_u32(&m, array_ptr + (uint64_t)i * 4, (uint32_t)at);
        memcpy(m.base + at, s->items[i], len);
        at += len;
    }
    return wasi_return(results, WASI_ESUCCESS);
}

static wb_status wasi_args_sizes_get(wb_caller *caller, void *env,
                                     const wb_val *args, wb_val *results) {
    return wasi_sizes_get(caller, &((wb_wasi *)env)->args, args, results);
}

static wb_status wasi_args_get(wb_caller *caller, void *env,
                               const wb_val *args, wb_val *results) {
    return wasi_strings_get(caller, &((wb_wasi *)env)->args, args, results);
}

static wb_status wasi_environ_sizes_get(wb_caller *caller, void *env,
                                        const wb_val *args, wb_val *results) {
    return wasi_sizes_get(caller, &((wb_wasi *)env)->env, args, results);
}

static wb_status wasi_environ_get(wb_caller *caller, void *env,
                                  const wb_val *args, wb_val *results) {
    return wasi_strings_get(caller, &((wb_wasi *)env)->env, args, results);
}

/* ------------------------------------------------------------ clocks */

static bool wasi_clock_host_id(int32_t id, clockid_t *out) {
    switch (id) {
    case WASI_CLOCK_REALTIME: *out = CLOCK_REALTIME; return true;
    case WASI_CLOCK_MONOTONIC: *out = CLOCK_MONOTONIC; return true;
    case WASI_CLOCK_PROCESS_CPUTIME: *out = CLOCK_PROCESS_CPUTIME_ID; return true;
    case WASI_CLOCK_THREAD_CPUTIME: *out = CLOCK_THREAD_CPUTIME_ID; return true;
    default: return false;
    }
}

static uint64_t wasi_timespec_ns(const struct timespec *ts) {
    /* Times before 1970 cannot be expressed as a WASI timestamp. */
    if (ts->tv_sec < 0) return 0;
    return (uint64_t)ts->tv_sec * UINT64_C(1000000000) + (uint64_t)ts->tv_nsec;
}

static wb_status wasi_clock_res_get(wb_caller *caller, void *env,
                                    const wb_val *args, wb_val *results) {
    (void)env;
    wasi_mem m;
    if (!wasi_memory(caller, &m)) return wasi_no_memory(caller);
    clockid_t id;
    if (!wasi_clock_host_id(args[0].of.i32, &id))
        return wasi_return(results, WASI_EINVAL);
    uint64_t ptr = wasi_u32_arg(&args[1]);
    if (!wasi_in_bounds(&m, ptr, 8)) return wasi_return(results, WASI_EFAULT);
    struct timespec ts;
    if (clock_getres(id, &ts) != 0)
        return wasi_return(results, wasi_errno_from_host(errno));
    wasi_store_u64(&m, ptr, wasi_timespec_ns(&ts));
    return wasi_return(results, WASI_ESUCCESS);
}

static wb_status wasi_clock_time_get(wb_caller *caller, void *env,
                                     const wb_val *args, wb_val *results) {
    (void)env;
    wasi_mem m;
    if (!wasi_memory(caller, &m)) return wasi_no_memory(caller);
    clockid_t id;
    if (!wasi_clock_host_id(args[0].of.i32, &id))
        return wasi_return(results, WASI_EINVAL);
    /* args[1] is the requested precision; the host clock is as precise as
     * it gets, so it is ignored. */
    uint64_t ptr = wasi_u32_arg(&args[2]);
    if (!wasi_in_bounds(&m, ptr, 8)) return wasi_return(results, WASI_EFAULT);
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return wasi_return(results, wasi_errno_from_host(errno));
    wasi_store_u64(&m, ptr, wasi_timespec_ns(&ts));
    return wasi_return(results, WASI_ESUCCESS);
}

/* --------------------------------------------------- standard streams */

/* The host descriptor behind guest fd for the given direction, or -1. */
static int wasi_stdio_fd(const wb_wasi *wasi, int32_t fd, bool for_write) {
    if (for_write && (fd == 1 || fd == 2)) return wasi->host_fd[fd];
    if (!for_write && fd == 0) return wasi->host_fd[0];
    return -1;
}

/* True when guest fd is one of the standard streams and is open (the
 * embedder may leave one closed by giving a negative host descriptor). */
static bool wasi_stdio_open(const wb_wasi *wasi, int32_t fd) {
    return fd >= 0 && fd <= 2 && wasi->host_fd[fd] >= 0;
}

/* Checks that the iovec array and every buffer it names lie in memory. */
static bool wasi_iovs_ok(const wasi_mem *m, uint64_t iovs, uint64_t n) {
    if (!wasi_in_bounds(m, iovs, n * WASI_IOVEC_SIZE)) return false;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t at = iovs + i * WASI_IOVEC_SIZE;
        uint64_t buf = wasi_load_u32(m, at);
        uint64_t len = wasi_load_u32(m, at + 4);
        if (!wasi_in_bounds(m, buf, len)) return false;
    }
    return true;
}

/* Writes iov[0..cnt) completely, resuming after short writes and EINTR.
 * Adds what was written to *done; returns 0 or the host errno. */
static int wasi_writev_all(int fd, struct iovec *iov, int cnt, uint64_t *done) {
    while (cnt > 0) {
        if (iov->iov_len == 0) {
            iov++;
            cnt--;
            continue;
        }
        ssize_t n = writev(fd, iov, cnt);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        *done += (uint64_t)n;
        size_t left = (size_t)n;
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
    return 0;
}

static wb_status wasi_fd_write(wb_caller *caller, void *env,
                               const wb_val *args, wb_val *results) {
    wb_wasi *wasi = env;
    wasi_mem m;
    if (!wasi_memory(caller, &m)) return wasi_no_memory(caller);
    int host = wasi_stdio_fd(wasi, args[0].of.i32, true);
    if (host < 0) return wasi_return(results, WASI_EBADF);
    uint64_t iovs = wasi_u32_arg(&args[1]);
    uint64_t n = wasi_u32_arg(&args[2]);
    uint64_t nwritten_ptr = wasi_u32_arg(&args[3]);
    if (!wasi_in_bounds(&m, nwritten_ptr, 4) || !wasi_iovs_ok(&m, iovs, n))
        return wasi_return(results, WASI_EFAULT);

    /* The count goes back as a u32, so stop before it could overflow (only
     * possible with iovecs that overlap in memory). */
    uint64_t budget = UINT32_MAX, done = 0;
    int host_errno = 0;
    struct iovec batch[WASI_IOV_BATCH];
    uint64_t i = 0;
    while (i < n && budget > 0 && host_errno == 0) {
        int cnt = 0;
        for (; i < n && cnt < WASI_IOV_BATCH && budget > 0; i++) {
            uint64_t at = iovs + i * WASI_IOVEC_SIZE;
            uint64_t buf = wasi_load_u32(&m, at);
            uint64_t len = wasi_load_u32(&m, at + 4);
            if (len > budget) len = budget;
            budget -= len;
            batch[cnt].iov_base = m.base + buf;
            batch[cnt].iov_len = (size_t)len;
            cnt++;
        }
        host_errno = wasi_writev_all(host, batch, cnt, &done);
    }
    /* As with POSIX write: an error after some bytes went out is reported
     * as a short write, so the guest does not resend what was written. */
    if (host_errno != 0 && done == 0)
        return wasi_return(results, wasi_errno_from_host(host_errno));
    wasi_store_u32(&m, nwritten_ptr, (uint32_t)done);
    return wasi_return(results, WASI_ESUCCESS);
}

static wb_status wasi_fd_read(wb_caller *caller, void *env,
                              const wb_val *args, wb_val *results) {
    wb_wasi *wasi = env;
    wasi_mem m;
    if (!wasi_memory(caller, &m)) return wasi_no_memory(caller);
    int host = wasi_stdio_fd(wasi, args[0].of.i32, false);
    if (host < 0) return wasi_return(results, WASI_EBADF);
    uint64_t iovs = wasi_u32_arg(&args[1]);
    uint64_t n = wasi_u32_arg(&args[2]);
    uint64_t nread_ptr = wasi_u32_arg(&args[3]);
    if (!wasi_in_bounds(&m, nread_ptr, 4) || !wasi_iovs_ok(&m, iovs, n))
        return wasi_return(results, WASI_EFAULT);

    /* One read, like POSIX readv: a short count is normal (a terminal
     * delivers a line at a time). Only the first WASI_IOV_BATCH non-empty
     * buffers take part; the guest sees a short read and asks again. The
     * total stays below 2^31 so the count always fits. */
    struct iovec batch[WASI_IOV_BATCH];
    int cnt = 0;
    uint64_t budget = INT32_MAX;
    for (uint64_t i = 0; i < n && cnt < WASI_IOV_BATCH && budget > 0; i++) {
        uint64_t at = iovs + i * WASI_IOVEC_SIZE;
        uint64_t buf = wasi_load_u32(&m, at);
        uint64_t len = wasi_load_u32(&m, at + 4);
        if (len == 0) continue;
        if (len > budget) len = budget;
        budget -= len;
        batch[cnt].iov_base = m.base + buf;
        batch[cnt].iov_len = (size_t)len;
        cnt++;
    }
    ssize_t got = 0;
    if (cnt > 0) {
        do {
            got = readv(host, batch, cnt);
        } while (got < 0 && errno == EINTR);
        if (got < 0) return wasi_return(results, wasi_errno_from_host(errno));
    }
    wasi_store_u32(&m, nread_ptr, (uint32_t)got);
    return wasi_return(results, WASI_ESUCCESS);
}

static wb_status wasi_fd_close(wb_caller *caller, void *env,
                               const wb_val *args, wb_val *results) {
    (void)caller;
    /* The standard streams are borrowed from the host and stay open; the
     * guest's close only succeeds. */
    return wasi_return(results, wasi_stdio_open(env, args[0].of.i32) ? WASI_ESUCCESS
                                                                      : WASI_EBADF);
}

static wb_status wasi_fd_fdstat_get(wb_caller *caller, void *env,
                                    const wb_val *args, wb_val *results) {
    wasi_mem m;
    if (!wasi_memory(caller, &m)) return wasi_no_memory(caller);
    if (!wasi_stdio_open(env, args[0].of.i32)) return wasi_return(results, WASI_EBADF);
    uint64_t ptr = wasi_u32_arg(&args[1]);
    if (!wasi_in_bounds(&m, ptr, WASI_FDSTAT_SIZE))
        return wasi_return(results, WASI_EFAULT);
    memset(m.base + ptr, 0, WASI_FDSTAT_SIZE);
    m.base[ptr] = WASI_FILETYPE_CHARACTER_DEVICE;
    wasi_store_u16(&m, ptr + 2, 0); /* fdflags */
    wasi_store_u64(&m, ptr + 8, WASI_RIGHTS_ALL);
    wasi_store_u64(&m, ptr + 16, WASI_RIGHTS_ALL);
    return wasi_return(results, WASI_ESUCCESS);
}

static wb_status wasi_fd_seek(wb_caller *caller, void *env,
                              const wb_val *args, wb_val *results) {
    (void)caller;
    /* Only the standard streams exist, and they are streams. */
    return wasi_return(results, wasi_stdio_open(env, args[0].of.i32) ? WASI_ESPIPE
                                                                      : WASI_EBADF);
}

static wb_status wasi_fd_prestat_get(wb_caller *caller, void *env,
                                     const wb_val *args, wb_val *results) {
    (void)caller;
    (void)env;
    (void)args;
    /* No preopened directories yet. EBADF is what ends wasi-libc's scan of
     * the preopens at start-up. */
    return wasi_return(results, WASI_EBADF);
}

/* ------------------------------------------------- random, sched, proc */

static wb_status wasi_random_get(wb_caller *caller, void *env,
                                 const wb_val *args, wb_val *results) {
    (void)env;
    wasi_mem m;
    if (!wasi_memory(caller, &m)) return wasi_no_memory(caller);
    uint64_t ptr = wasi_u32_arg(&args[0]);
    uint64_t len = wasi_u32_arg(&args[1]);
    if (!wasi_in_bounds(&m, ptr, len)) return wasi_return(results, WASI_EFAULT);
    /* getrandom may return less than asked (large requests, signals). */
    while (len > 0) {
        ssize_t got = getrandom(m.base + ptr, (size_t)len, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            return wasi_return(results, WASI_EIO);
        }
        ptr += (uint64_t)got;
        len -= (uint64_t)got;
    }
    return wasi_return(results, WASI_ESUCCESS);
}

static wb_status wasi_sched_yield(wb_caller *caller, void *env,
                                  const wb_val *args, wb_val *results) {
    (void)caller;
    (void)env;
    (void)args;
    sched_yield();
    return wasi_return(results, WASI_ESUCCESS);
}

static wb_status wasi_proc_exit(wb_caller *caller, void *env,
                                const wb_val *args, wb_val *results) {
    (void)env;
    (void)results;
    return wb_caller_exit(caller, args[0].of.i32);
}

/* Everything not implemented yet. Every such function returns one errno. */
static wb_status wasi_enosys(wb_caller *caller, void *env, const wb_val *args,
                             wb_val *results) {
    (void)caller;
    (void)env;
    (void)args;
    return wasi_return(results, WASI_ENOSYS);
}

/* -------------------------------------------------- the function table */

/* Signatures are written as strings over 'i' (i32) and 'I' (i64): every
 * preview1 function takes only those, and all but proc_exit return one
 * i32 errno. They follow the witx of wasi_snapshot_preview1 after lowering
 * (pointers and sizes are i32, 64-bit values i64, results via pointers). */
typedef struct wasi_def {
    const char *name;
    const char *params;
    const char *results;
    wb_host_func fn;
} wasi_def;

static const wasi_def wasi_defs[] = {
    {"args_get", "ii", "i", wasi_args_get},
    {"args_sizes_get", "ii", "i", wasi_args_sizes_get},
    {"environ_get", "ii", "i", wasi_environ_get},
    {"environ_sizes_get", "ii", "i", wasi_environ_sizes_get},
    {"clock_res_get", "ii", "i", wasi_clock_res_get},
    {"clock_time_get", "iIi", "i", wasi_clock_time_get},
    {"fd_advise", "iIIi", "i", wasi_enosys},
    {"fd_allocate", "iII", "i", wasi_enosys},
    {"fd_close", "i", "i", wasi_fd_close},
    {"fd_datasync", "i", "i", wasi_enosys},
    {"fd_fdstat_get", "ii", "i", wasi_fd_fdstat_get},
    {"fd_fdstat_set_flags", "ii", "i", wasi_enosys},
    {"fd_fdstat_set_rights", "iII", "i", wasi_enosys},
    {"fd_filestat_get", "ii", "i", wasi_enosys},
    {"fd_filestat_set_size", "iI", "i", wasi_enosys},
    {"fd_filestat_set_times", "iIIi", "i", wasi_enosys},
    {"fd_pread", "iiiIi", "i", wasi_enosys},
    {"fd_prestat_get", "ii", "i", wasi_fd_prestat_get},
    {"fd_prestat_dir_name", "iii", "i", wasi_enosys},
    {"fd_pwrite", "iiiIi", "i", wasi_enosys},
    {"fd_read", "iiii", "i", wasi_fd_read},
    {"fd_readdir", "iiiIi", "i", wasi_enosys},
    {"fd_renumber", "ii", "i", wasi_enosys},
    {"fd_seek", "iIii", "i", wasi_fd_seek},
    {"fd_sync", "i", "i", wasi_enosys},
    {"fd_tell", "ii", "i", wasi_enosys},
    {"fd_write", "iiii", "i", wasi_fd_write},
    {"path_create_directory", "iii", "i", wasi_enosys},
    {"path_filestat_get", "iiiii", "i", wasi_enosys},
    {"path_filestat_set_times", "iiiiIIi", "i", wasi_enosys},
    {"path_link", "iiiiiii", "i", wasi_enosys},
    {"path_open", "iiiiiIIii", "i", wasi_enosys},
    {"path_readlink", "iiiiii", "i", wasi_enosys},
    {"path_remove_directory", "iii", "i", wasi_enosys},
    {"path_rename", "iiiiii", "i", wasi_enosys},
    {"path_symlink", "iiiii", "i", wasi_enosys},
    {"path_unlink_file", "iii", "i", wasi_enosys},
    {"poll_oneoff", "iiii", "i", wasi_enosys},
    {"proc_exit", "i", "", wasi_proc_exit},
    {"proc_raise", "i", "i", wasi_enosys},
    {"sched_yield", "", "i", wasi_sched_yield},
    {"random_get", "ii", "i", wasi_random_get},
    {"sock_accept", "iii", "i", wasi_enosys},
    {"sock_recv", "iiiiii", "i", wasi_enosys},
    {"sock_send", "iiiii", "i", wasi_enosys},
    {"sock_shutdown", "ii", "i", wasi_enosys},
};

/* The longest signature above has 9 parameters (path_open). */
#define WASI_MAX_PARAMS 9
_Static_assert(sizeof wasi_defs / sizeof wasi_defs[0] == 46,
               "wasi_snapshot_preview1 has 46 functions");

static uint32_t wasi_sig_types(const char *sig, wb_valtype *out) {
    uint32_t n = 0;
    for (; sig[n] && n < WASI_MAX_PARAMS; n++)
        out[n] = sig[n] == 'I' ? WB_I64 : WB_I32;
    return n;
}

wb_status wb_wasi_define(wb_wasi *wasi, wb_linker *linker) {
    if (!wasi || !linker) return WB_ERR_ARG;
    for (size_t i = 0; i < sizeof wasi_defs / sizeof wasi_defs[0]; i++) {
        const wasi_def *d = &wasi_defs[i];
        wb_valtype params[WASI_MAX_PARAMS], results[1];
        wb_functype type;
        type.nparams = wasi_sig_types(d->params, params);
        type.nresults = d->results[0] ? 1 : 0;
        results[0] = WB_I32;
        type.params = params;
        type.results = results;
        wb_status st = wb_linker_define_func(linker, WB_WASI_MODULE, d->name,
                                             &type, d->fn, wasi);
        if (st != WB_OK) return st;
    }
    return WB_OK;
}
