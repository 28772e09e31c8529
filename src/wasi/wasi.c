/*
 * wasi.c - the WASI preview1 host: the context (arguments, environment,
 * descriptor table set-up), the table of the 46 functions (and of
 * WasmEdge's socket extension) and the simple
 * ones (args, environ, clocks, random, sched_yield, proc_exit/raise).
 * The others live in fdtable.c, fd.c, pathops.c, poll.c and sock.c.
 *
 * Guest memory is never trusted: every pointer and length the guest passes
 * is checked against the current memory size with 64-bit arithmetic (a
 * 32-bit pointer plus a 32-bit length cannot wrap there) before it is
 * touched, and a bad one yields EFAULT. Values in guest memory are
 * little-endian whatever the host is, so they are read and written byte by
 * byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "wasi/wasi_impl.h"

/* Clock ids (witx `clockid`). */
enum {
    WASI_CLOCK_REALTIME = 0,
    WASI_CLOCK_MONOTONIC = 1,
    WASI_CLOCK_PROCESS_CPUTIME = 2,
    WASI_CLOCK_THREAD_CPUTIME = 3,
};

/* One defined function: what the trampoline needs to call it. */
typedef struct wasi_binding {
    wb_wasi *wasi;
    wasi_fn fn;
    bool needs_memory;
} wasi_binding;

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
    cfg->net.report_fd = 2;
}

/* Adds one standard stream; a negative host fd leaves a hole (EBADF). */
static wb_status wasi_add_stdio(wb_wasi *w, int host, wb_error *err) {
    int64_t r;
    if (host < 0) {
        /* Reserve the slot, then free it: numbering must stay 0, 1, 2. */
        r = wasi_fd_add(w, -1, WASI_FILETYPE_UNKNOWN, 0, 0, false, true);
        if (r >= 0) w->fds[r].used = false;
    } else {
        /* The standard streams are streams whatever is behind them: a
         * character device whose seek fails with ESPIPE. A terminal has
         * no seek rights (what wasi-libc's isatty looks for); a pipe or a
         * redirected file has them, so the guest can tell them apart. */
        uint8_t type = WASI_FILETYPE_CHARACTER_DEVICE;
        uint64_t base, inh;
        wasi_rights_for_type(type, &base, &inh);
        if (!isatty(host))
            base |= WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL;
        r = wasi_fd_add(w, host, type, base, inh, false, true);
    }
    if (r < 0) return wasi_fail(err, WB_ERR_NOMEM, "wasi: out of memory");
    return WB_OK;
}

static wb_status wasi_fail_path(wb_error *err, wb_status st, const char *what,
                                const char *path, int e) {
    char msg[512];
    snprintf(msg, sizeof msg, "wasi: %s '%s': %s", what, path, strerror(e));
    return wasi_fail(err, st, msg);
}

static wb_status wasi_add_preopen(wb_wasi *w, const wb_wasi_preopen *p, wb_error *err) {
    if (!p->host_path || !p->guest_path)
        return wasi_fail(err, WB_ERR_ARG, "wasi: preopen with a NULL path");
    int host = open(p->host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (host < 0) return wasi_fail_path(err, WB_ERR_IO, "cannot preopen", p->host_path, errno);
    char *name = strdup(p->guest_path);
    if (!name) {
        close(host);
        return wasi_fail(err, WB_ERR_NOMEM, "wasi: out of memory");
    }
    uint64_t base = WASI_RIGHTS_DIR, inh = WASI_RIGHTS_DIR | WASI_RIGHTS_FILE;
    if (p->read_only) {
        base &= ~WASI_RIGHTS_WRITE;
        inh &= ~WASI_RIGHTS_WRITE;
    }
    int64_t r = wasi_fd_add(w, host, WASI_FILETYPE_DIRECTORY, base, inh, p->read_only, false);
    if (r < 0) {
        close(host);
        free(name);
        return wasi_fail(err, WB_ERR_NOMEM, "wasi: out of memory");
    }
    w->fds[r].preopen = name;
    return WB_OK;
}

static wb_status wasi_add_listen(wb_wasi *w, const wb_wasi_listen *l, wb_error *err) {
    int host = l->fd;
    bool borrowed = true;
    if (l->address) {
        char why[256];
        host = wasi_sock_listen(l->address, why, sizeof why);
        if (host < 0) {
            char msg[512];
            snprintf(msg, sizeof msg, "wasi: cannot listen on '%s': %s", l->address, why);
            return wasi_fail(err, WB_ERR_IO, msg);
        }
        borrowed = false;
    } else if (host < 0) {
        return wasi_fail(err, WB_ERR_ARG, "wasi: listening socket without address or fd");
    }
    uint64_t base = WASI_RIGHTS_SOCKET | WASI_RIGHT_SOCK_ACCEPT, inh = WASI_RIGHTS_SOCKET;
    int64_t r = wasi_fd_add(w, host, WASI_FILETYPE_SOCKET_STREAM, base, inh, false, borrowed);
    if (r < 0) {
        if (!borrowed) close(host);
        return wasi_fail(err, WB_ERR_NOMEM, "wasi: out of memory");
    }
    w->fds[r].sock_family = wasi_sock_family(host);
    return WB_OK;
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
    if (cfg->npreopens < 0 || (cfg->npreopens > 0 && !cfg->preopens) || cfg->nlisten < 0 ||
        (cfg->nlisten > 0 && !cfg->listen))
        return wasi_fail(err, WB_ERR_ARG, "wasi: bad preopen or listen count");
    if ((uint64_t)cfg->npreopens + (uint64_t)cfg->nlisten + 3 > WASI_MAX_FDS)
        return wasi_fail(err, WB_ERR_ARG, "wasi: too many preopens or sockets");
    wb_wasi *wasi = calloc(1, sizeof *wasi);
    if (!wasi) return wasi_fail(err, WB_ERR_NOMEM, "wasi: out of memory");
    if (!net_policy_init(&wasi->net, &cfg->net)) {
        free(wasi);
        return wasi_fail(err, WB_ERR_NOMEM, "wasi: out of memory");
    }
    wb_status st = wasi_strings_copy(&wasi->args, cfg->argc, cfg->argv, err);
    if (st == WB_OK)
        st = wasi_strings_copy(&wasi->env, cfg->envc, cfg->envp, err);
    if (st == WB_OK) st = wasi_add_stdio(wasi, cfg->stdin_fd, err);
    if (st == WB_OK) st = wasi_add_stdio(wasi, cfg->stdout_fd, err);
    if (st == WB_OK) st = wasi_add_stdio(wasi, cfg->stderr_fd, err);
    for (int i = 0; st == WB_OK && i < cfg->npreopens; i++)
        st = wasi_add_preopen(wasi, &cfg->preopens[i], err);
    for (int i = 0; st == WB_OK && i < cfg->nlisten; i++)
        st = wasi_add_listen(wasi, &cfg->listen[i], err);
    if (st != WB_OK) {
        wb_wasi_delete(wasi);
        return st;
    }
    *out = wasi;
    return WB_OK;
}

void wb_wasi_delete(wb_wasi *wasi) {
    if (!wasi) return;
    wasi_strings_free(&wasi->args);
    wasi_strings_free(&wasi->env);
    wasi_fdtable_free(wasi);
    net_policy_free(&wasi->net);
    free(wasi->bindings);
    free(wasi);
}

/* ------------------------------------------------------------ helpers */

int32_t wasi_errno_from_host(int e) {
    switch (e) {
    case 0: return WASI_ESUCCESS;
    case E2BIG: return WASI_E2BIG;
    case EACCES: return WASI_EACCES;
    case EADDRINUSE: return WASI_EADDRINUSE;
    case EADDRNOTAVAIL: return WASI_EADDRNOTAVAIL;
    case EAFNOSUPPORT: return WASI_EAFNOSUPPORT;
    case EAGAIN: return WASI_EAGAIN;
    case EALREADY: return WASI_EALREADY;
    case EBADF: return WASI_EBADF;
    case EBADMSG: return WASI_EBADMSG;
    case EBUSY: return WASI_EBUSY;
    case ECANCELED: return WASI_ECANCELED;
    case ECHILD: return WASI_ECHILD;
    case ECONNABORTED: return WASI_ECONNABORTED;
    case ECONNREFUSED: return WASI_ECONNREFUSED;
    case ECONNRESET: return WASI_ECONNRESET;
    case EDEADLK: return WASI_EDEADLK;
    case EDESTADDRREQ: return WASI_EDESTADDRREQ;
    case EDOM: return WASI_EDOM;
    case EDQUOT: return WASI_EDQUOT;
    case EEXIST: return WASI_EEXIST;
    case EFAULT: return WASI_EFAULT;
    case EFBIG: return WASI_EFBIG;
    case EHOSTUNREACH: return WASI_EHOSTUNREACH;
    case EHOSTDOWN: return WASI_EHOSTUNREACH;
    case EIDRM: return WASI_EIDRM;
    case EILSEQ: return WASI_EILSEQ;
    case EINPROGRESS: return WASI_EINPROGRESS;
    case EINTR: return WASI_EINTR;
    case EINVAL: return WASI_EINVAL;
    case EIO: return WASI_EIO;
    case EISCONN: return WASI_EISCONN;
    case EISDIR: return WASI_EISDIR;
    case ELOOP: return WASI_ELOOP;
    case EMFILE: return WASI_EMFILE;
    case EMLINK: return WASI_EMLINK;
    case EMSGSIZE: return WASI_EMSGSIZE;
    case EMULTIHOP: return WASI_EMULTIHOP;
    case ENAMETOOLONG: return WASI_ENAMETOOLONG;
    case ENETDOWN: return WASI_ENETDOWN;
    case ENETRESET: return WASI_ENETRESET;
    case ENETUNREACH: return WASI_ENETUNREACH;
    case ENFILE: return WASI_ENFILE;
    case ENOBUFS: return WASI_ENOBUFS;
    case ENODEV: return WASI_ENODEV;
    case ENOENT: return WASI_ENOENT;
    case ENOEXEC: return WASI_ENOEXEC;
    case ENOLCK: return WASI_ENOLCK;
    case ENOLINK: return WASI_ENOLINK;
    case ENOMEM: return WASI_ENOMEM;
    case ENOMSG: return WASI_ENOMSG;
    case ENOPROTOOPT: return WASI_ENOPROTOOPT;
    case ENOSPC: return WASI_ENOSPC;
    case ENOSYS: return WASI_ENOSYS;
    case ENOTCONN: return WASI_ENOTCONN;
    case ENOTDIR: return WASI_ENOTDIR;
    case ENOTEMPTY: return WASI_ENOTEMPTY;
    case ENOTRECOVERABLE: return WASI_ENOTRECOVERABLE;
    case ENOTSOCK: return WASI_ENOTSOCK;
    case ENOTSUP: return WASI_ENOTSUP; /* == EOPNOTSUPP on Linux */
    case ENOTTY: return WASI_ENOTTY;
    case ENXIO: return WASI_ENXIO;
    case EOVERFLOW: return WASI_EOVERFLOW;
    case EOWNERDEAD: return WASI_EOWNERDEAD;
    case EPERM: return WASI_EPERM;
    case EPIPE: return WASI_EPIPE;
    case EPROTO: return WASI_EPROTO;
    case EPROTONOSUPPORT: return WASI_EPROTONOSUPPORT;
    case EPROTOTYPE: return WASI_EPROTOTYPE;
    case ERANGE: return WASI_ERANGE;
    case EROFS: return WASI_EROFS;
    case ESPIPE: return WASI_ESPIPE;
    case ESRCH: return WASI_ESRCH;
    case ESTALE: return WASI_ESTALE;
    case ETIMEDOUT: return WASI_ETIMEDOUT;
    case ETXTBSY: return WASI_ETXTBSY;
    case EXDEV: return WASI_EXDEV;
    default: return WASI_EIO;
    }
}

uint8_t wasi_filetype_from_mode(mode_t mode) {
    switch (mode & S_IFMT) {
    case S_IFREG: return WASI_FILETYPE_REGULAR_FILE;
    case S_IFDIR: return WASI_FILETYPE_DIRECTORY;
    case S_IFCHR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case S_IFBLK: return WASI_FILETYPE_BLOCK_DEVICE;
    case S_IFLNK: return WASI_FILETYPE_SYMBOLIC_LINK;
    case S_IFSOCK: return WASI_FILETYPE_SOCKET_STREAM;
    default: return WASI_FILETYPE_UNKNOWN;
    }
}

uint64_t wasi_timespec_ns(const struct timespec *ts) {
    /* Times before 1970 cannot be expressed as a WASI timestamp. */
    if (ts->tv_sec < 0) return 0;
    return (uint64_t)ts->tv_sec * UINT64_C(1000000000) + (uint64_t)ts->tv_nsec;
}

bool wasi_iovs_ok(const wasi_mem *m, uint64_t iovs, uint64_t n) {
    if (!wasi_in_bounds(m, iovs, n * WASI_IOVEC_SIZE)) return false;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t at = iovs + i * WASI_IOVEC_SIZE;
        if (!wasi_in_bounds(m, wasi_load_u32(m, at), wasi_load_u32(m, at + 4))) return false;
    }
    return true;
}

int wasi_iovs_batch(const wasi_mem *m, uint64_t iovs, uint64_t n, uint64_t *next,
                    struct iovec *out, uint64_t *budget) {
    int cnt = 0;
    for (; *next < n && cnt < WASI_IOV_BATCH && *budget > 0; (*next)++) {
        uint64_t at = iovs + *next * WASI_IOVEC_SIZE;
        uint64_t buf = wasi_load_u32(m, at);
        uint64_t len = wasi_load_u32(m, at + 4);
        if (len == 0) continue;
        if (len > *budget) len = *budget;
        *budget -= len;
        out[cnt].iov_base = m->base + buf;
        out[cnt].iov_len = (size_t)len;
        cnt++;
    }
    return cnt;
}

/* --------------------------------------------- arguments, environment */

static int32_t wasi_sizes_get(const wasi_strings *s, const wasi_mem *m, const wb_val *a) {
    uint64_t count_ptr = wasi_arg_u32(&a[0]), size_ptr = wasi_arg_u32(&a[1]);
    if (!wasi_in_bounds(m, count_ptr, 4) || !wasi_in_bounds(m, size_ptr, 4)) return WASI_EFAULT;
    wasi_store_u32(m, count_ptr, s->count);
    wasi_store_u32(m, size_ptr, s->bytes);
    return WASI_ESUCCESS;
}

/* An array of `count` u32 pointers at a[0], each pointing into the strings
 * packed at a[1]. */
static int32_t wasi_strings_get(const wasi_strings *s, const wasi_mem *m, const wb_val *a) {
    uint64_t array_ptr = wasi_arg_u32(&a[0]), buf_ptr = wasi_arg_u32(&a[1]);
    if (!wasi_in_bounds(m, array_ptr, (uint64_t)s->count * 4) ||
        !wasi_in_bounds(m, buf_ptr, s->bytes))
        return WASI_EFAULT;
    uint64_t at = buf_ptr;
    for (uint32_t i = 0; i < s->count; i++) {
        size_t len = strlen(s->items[i]) + 1;
        wasi_store_u32(m, array_ptr + (uint64_t)i * 4, (uint32_t)at);
        memcpy(m->base + at, s->items[i], len);
        at += len;
    }
    return WASI_ESUCCESS;
}

static int32_t wasi_args_sizes_get(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    return wasi_sizes_get(&w->args, m, a);
}
static int32_t wasi_args_get(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    return wasi_strings_get(&w->args, m, a);
}
static int32_t wasi_environ_sizes_get(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    return wasi_sizes_get(&w->env, m, a);
}
static int32_t wasi_environ_get(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    return wasi_strings_get(&w->env, m, a);
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

static int32_t wasi_clock_res_get(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    (void)w;
    clockid_t id;
    if (!wasi_clock_host_id(a[0].of.i32, &id)) return WASI_EINVAL;
    uint64_t ptr = wasi_arg_u32(&a[1]);
    if (!wasi_in_bounds(m, ptr, 8)) return WASI_EFAULT;
    struct timespec ts;
    if (clock_getres(id, &ts) != 0) return wasi_errno_from_host(errno);
    wasi_store_u64(m, ptr, wasi_timespec_ns(&ts));
    return WASI_ESUCCESS;
}

static int32_t wasi_clock_time_get(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    (void)w;
    clockid_t id;
    if (!wasi_clock_host_id(a[0].of.i32, &id)) return WASI_EINVAL;
    /* a[1] is the precision the guest would accept: a hint, unused. */
    uint64_t ptr = wasi_arg_u32(&a[2]);
    if (!wasi_in_bounds(m, ptr, 8)) return WASI_EFAULT;
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0) return wasi_errno_from_host(errno);
    wasi_store_u64(m, ptr, wasi_timespec_ns(&ts));
    return WASI_ESUCCESS;
}

/* ------------------------------------------------- random, sched, proc */

static int32_t wasi_random_get(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    (void)w;
    uint64_t ptr = wasi_arg_u32(&a[0]), len = wasi_arg_u32(&a[1]);
    if (!wasi_in_bounds(m, ptr, len)) return WASI_EFAULT;
    /* getrandom may return less than asked (large requests, signals). */
    while (len > 0) {
        ssize_t got = getrandom(m->base + ptr, (size_t)len, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            return WASI_EIO;
        }
        ptr += (uint64_t)got;
        len -= (uint64_t)got;
    }
    return WASI_ESUCCESS;
}

static int32_t wasi_sched_yield(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    (void)w;
    (void)m;
    (void)a;
    sched_yield();
    return WASI_ESUCCESS;
}

/* Raising a signal in the guest has no sensible meaning for a sandboxed
 * module; like most runtimes we answer ENOSYS. */
static int32_t wasi_proc_raise(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    (void)w;
    (void)m;
    (void)a;
    return WASI_ENOSYS;
}

static wb_status wasi_proc_exit(wb_caller *caller, void *env,
                                const wb_val *args, wb_val *results) {
    (void)env;
    (void)results;
    return wb_caller_exit(caller, args[0].of.i32);
}

/* -------------------------------------------------- the function table */

/* Signatures are written as strings over 'i' (i32) and 'I' (i64): every
 * preview1 function takes only those, and all but proc_exit return one
 * i32 errno. They follow the witx of wasi_snapshot_preview1 after lowering
 * (pointers and sizes are i32, 64-bit values i64, results via pointers).
 * `mem` says whether the function touches guest memory: those trap when
 * the module has none. */
typedef struct wasi_def {
    const char *name;
    const char *params;
    wasi_fn fn;
    bool mem;
} wasi_def;

static const wasi_def wasi_defs[] = {
    {"args_get", "ii", wasi_args_get, true},
    {"args_sizes_get", "ii", wasi_args_sizes_get, true},
    {"environ_get", "ii", wasi_environ_get, true},
    {"environ_sizes_get", "ii", wasi_environ_sizes_get, true},
    {"clock_res_get", "ii", wasi_clock_res_get, true},
    {"clock_time_get", "iIi", wasi_clock_time_get, true},
    {"fd_advise", "iIIi", wasi_fd_advise, false},
    {"fd_allocate", "iII", wasi_fd_allocate, false},
    {"fd_close", "i", wasi_fd_close, false},
    {"fd_datasync", "i", wasi_fd_datasync, false},
    {"fd_fdstat_get", "ii", wasi_fd_fdstat_get, true},
    {"fd_fdstat_set_flags", "ii", wasi_fd_fdstat_set_flags, false},
    {"fd_fdstat_set_rights", "iII", wasi_fd_fdstat_set_rights, false},
    {"fd_filestat_get", "ii", wasi_fd_filestat_get, true},
    {"fd_filestat_set_size", "iI", wasi_fd_filestat_set_size, false},
    {"fd_filestat_set_times", "iIIi", wasi_fd_filestat_set_times, false},
    {"fd_pread", "iiiIi", wasi_fd_pread, true},
    {"fd_prestat_get", "ii", wasi_fd_prestat_get, true},
    {"fd_prestat_dir_name", "iii", wasi_fd_prestat_dir_name, true},
    {"fd_pwrite", "iiiIi", wasi_fd_pwrite, true},
    {"fd_read", "iiii", wasi_fd_read, true},
    {"fd_readdir", "iiiIi", wasi_fd_readdir, true},
    {"fd_renumber", "ii", wasi_fd_renumber, false},
    {"fd_seek", "iIii", wasi_fd_seek, true},
    {"fd_sync", "i", wasi_fd_sync, false},
    {"fd_tell", "ii", wasi_fd_tell, true},
    {"fd_write", "iiii", wasi_fd_write, true},
    {"path_create_directory", "iii", wasi_path_create_directory, true},
    {"path_filestat_get", "iiiii", wasi_path_filestat_get, true},
    {"path_filestat_set_times", "iiiiIIi", wasi_path_filestat_set_times, true},
    {"path_link", "iiiiiii", wasi_path_link, true},
    {"path_open", "iiiiiIIii", wasi_path_open, true},
    {"path_readlink", "iiiiii", wasi_path_readlink, true},
    {"path_remove_directory", "iii", wasi_path_remove_directory, true},
    {"path_rename", "iiiiii", wasi_path_rename, true},
    {"path_symlink", "iiiii", wasi_path_symlink, true},
    {"path_unlink_file", "iii", wasi_path_unlink_file, true},
    {"poll_oneoff", "iiii", wasi_poll_oneoff, true},
    {"proc_exit", "i", NULL, false},
    {"proc_raise", "i", wasi_proc_raise, false},
    {"sched_yield", "", wasi_sched_yield, false},
    {"random_get", "ii", wasi_random_get, true},
    {"sock_accept", "iii", wasi_sock_accept, true},
    {"sock_recv", "iiiiii", wasi_sock_recv, true},
    {"sock_send", "iiiii", wasi_sock_send, true},
    {"sock_shutdown", "ii", wasi_sock_shutdown, false},

    /* WasmEdge's socket extension of the same module (docs/networking.md).
     * A name listed twice has two signatures: each import links to the
     * one of its type (the linker matches on name and type). The plain
     * names take every address form the _v2 ones do. */
    {"sock_open", "iii", wasi_sock_open, true},
    {"sock_open_v2", "iii", wasi_sock_open, true},
    {"sock_bind", "iii", wasi_sock_bind, true},
    {"sock_bind_v2", "iii", wasi_sock_bind, true},
    {"sock_connect", "iii", wasi_sock_connect, true},
    {"sock_connect_v2", "iii", wasi_sock_connect, true},
    {"sock_listen", "ii", wasi_sock_listen_fn, false},
    {"sock_listen_v2", "ii", wasi_sock_listen_fn, false},
    {"sock_accept", "ii", wasi_sock_accept_v1, true},
    {"sock_accept_v2", "iii", wasi_sock_accept, true},
    {"sock_recv_v2", "iiiiii", wasi_sock_recv, true},
    {"sock_recv_from", "iiiiiii", wasi_sock_recv_from_v1, true},
    {"sock_recv_from", "iiiiiiii", wasi_sock_recv_from_v2, true},
    {"sock_recv_from_v2", "iiiiiiii", wasi_sock_recv_from_v2, true},
    {"sock_send_v2", "iiiii", wasi_sock_send, true},
    {"sock_send_to", "iiiiiii", wasi_sock_send_to, true},
    {"sock_send_to_v2", "iiiiiii", wasi_sock_send_to, true},
    {"sock_getlocaladdr", "iiii", wasi_sock_getlocaladdr_v1, true},
    {"sock_getlocaladdr", "iii", wasi_sock_getlocaladdr_v2, true},
    {"sock_getlocaladdr_v2", "iii", wasi_sock_getlocaladdr_v2, true},
    {"sock_getpeeraddr", "iiii", wasi_sock_getpeeraddr_v1, true},
    {"sock_getpeeraddr", "iii", wasi_sock_getpeeraddr_v2, true},
    {"sock_getpeeraddr_v2", "iii", wasi_sock_getpeeraddr_v2, true},
    {"sock_getsockopt", "iiiii", wasi_sock_getsockopt, true},
    {"sock_setsockopt", "iiiii", wasi_sock_setsockopt, true},
    {"sock_getaddrinfo", "iiiiiiii", wasi_sock_getaddrinfo, true},
    /* WasmEdge's edge-triggered poll_oneoff; level-triggered here, which
     * such guests take as extra wake-ups. */
    {"epoll_oneoff", "iiii", wasi_poll_oneoff, true},
};

#define WASI_NDEFS (sizeof wasi_defs / sizeof wasi_defs[0])
/* The longest signature above has 9 parameters (path_open). */
#define WASI_MAX_PARAMS 9
/* 46 of preview1, 27 of the socket extension. */
_Static_assert(WASI_NDEFS == 46 + 27, "the function table lost or gained an entry");

/* Every function but proc_exit goes through here. */
static wb_status wasi_trampoline(wb_caller *caller, void *env, const wb_val *args,
                                 wb_val *results) {
    const wasi_binding *b = env;
    wasi_mem m = {NULL, 0};
    wb_memory *mem = wb_caller_memory(caller);
    if (mem) {
        m.base = wb_memory_data(mem);
        m.size = (uint64_t)wb_memory_size(mem);
    } else if (b->needs_memory) {
        return wb_caller_trap(caller, "wasi: module has no memory");
    }
    results[0] = WB_VAL_I32(b->fn(b->wasi, &m, args));
    return WB_OK;
}

static uint32_t wasi_sig_types(const char *sig, wb_valtype *out) {
    uint32_t n = 0;
    for (; sig[n] && n < WASI_MAX_PARAMS; n++)
        out[n] = sig[n] == 'I' ? WB_I64 : WB_I32;
    return n;
}

wb_status wb_wasi_define(wb_wasi *wasi, wb_linker *linker) {
    if (!wasi || !linker) return WB_ERR_ARG;
    if (!wasi->bindings) {
        wasi->bindings = calloc(WASI_NDEFS, sizeof *wasi->bindings);
        if (!wasi->bindings) return WB_ERR_NOMEM;
        for (size_t i = 0; i < WASI_NDEFS; i++) {
            wasi->bindings[i].wasi = wasi;
            wasi->bindings[i].fn = wasi_defs[i].fn;
            wasi->bindings[i].needs_memory = wasi_defs[i].mem;
        }
    }
    for (size_t i = 0; i < WASI_NDEFS; i++) {
        const wasi_def *d = &wasi_defs[i];
        wb_valtype params[WASI_MAX_PARAMS], results[1];
        wb_functype type;
        type.nparams = wasi_sig_types(d->params, params);
        type.nresults = d->fn ? 1 : 0;
        results[0] = WB_I32;
        type.params = params;
        type.results = results;
        wb_status st = d->fn ? wb_linker_define_func(linker, WB_WASI_MODULE, d->name, &type,
                                                     wasi_trampoline, &wasi->bindings[i])
                             : wb_linker_define_func(linker, WB_WASI_MODULE, d->name, &type,
                                                     wasi_proc_exit, wasi);
        if (st != WB_OK) return st;
    }
    return WB_OK;
}
