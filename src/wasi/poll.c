/*
 * poll.c - poll_oneoff: clock subscriptions (relative or absolute, any of
 * the four clocks) and fd_read / fd_write subscriptions, waited for with
 * one ppoll(2). The subscription count is capped (WASI_POLL_MAX) and the
 * working arrays live on the heap.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wasi/wasi_impl.h"

#define WASI_SUB_SIZE 48
#define WASI_EVENT_SIZE 32
#define WASI_EVENTTYPE_CLOCK 0
#define WASI_EVENTTYPE_FD_READ 1
#define WASI_EVENTTYPE_FD_WRITE 2
#define WASI_SUBCLOCK_ABSTIME 1u
#define WASI_EVENT_FD_HANGUP 1u

typedef struct wasi_sub {
    uint64_t userdata;
    uint8_t type;
    int32_t error;       /* known before waiting: reported at once */
    uint64_t deadline;   /* clocks: ns from the start of the call */
    int pollidx;         /* fds: index in the pollfd array, or -1 */
    int host;
    uint8_t ftype;
} wasi_sub;

static uint64_t wasi_now(clockid_t id) {
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0) return 0;
    return wasi_timespec_ns(&ts);
}

static bool wasi_poll_clock(uint32_t id, clockid_t *out) {
    switch (id) {
    case 0: *out = CLOCK_REALTIME; return true;
    case 1: *out = CLOCK_MONOTONIC; return true;
    case 2: *out = CLOCK_PROCESS_CPUTIME_ID; return true;
    case 3: *out = CLOCK_THREAD_CPUTIME_ID; return true;
    default: return false;
    }
}

static void wasi_store_event(const wasi_mem *m, uint64_t at, const wasi_sub *s,
                             uint64_t nbytes, uint16_t flags) {
    memset(m->base + at, 0, WASI_EVENT_SIZE);
    wasi_store_u64(m, at, s->userdata);
    wasi_store_u16(m, at + 8, (uint16_t)s->error);
    m->base[at + 10] = s->type;
    if (s->type != WASI_EVENTTYPE_CLOCK) {
        wasi_store_u64(m, at + 16, nbytes);
        wasi_store_u16(m, at + 24, flags);
    }
}

/* Bytes ready to read, as far as the host can tell. */
static uint64_t wasi_readable(const wasi_sub *s) {
    if (s->ftype == WASI_FILETYPE_REGULAR_FILE) {
        struct stat st;
        off_t pos = lseek(s->host, 0, SEEK_CUR);
        if (fstat(s->host, &st) == 0 && pos >= 0 && st.st_size > pos)
            return (uint64_t)(st.st_size - pos);
        return 0;
    }
    int n = 0;
    if (ioctl(s->host, FIONREAD, &n) == 0 && n > 0) return (uint64_t)n;
    return 0;
}

int32_t wasi_poll_oneoff(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    uint64_t in = wasi_arg_u32(&a[0]), out = wasi_arg_u32(&a[1]);
    uint64_t n = wasi_arg_u32(&a[2]), nev_ptr = wasi_arg_u32(&a[3]);
    if (n == 0) return WASI_EINVAL;
    if (!wasi_in_bounds(m, in, n * WASI_SUB_SIZE) || !wasi_in_bounds(m, out, n * WASI_EVENT_SIZE) ||
        !wasi_in_bounds(m, nev_ptr, 4))
        return WASI_EFAULT;
    if (n > WASI_POLL_MAX) return WASI_ENOTSUP;
    wasi_sub *subs = calloc((size_t)n, sizeof *subs);
    struct pollfd *pfds = calloc((size_t)n, sizeof *pfds);
    if (!subs || !pfds) {
        free(subs);
        free(pfds);
        return WASI_ENOMEM;
    }
    uint64_t start = wasi_now(CLOCK_MONOTONIC);
    uint64_t timeout = UINT64_MAX; /* ns, nearest clock */
    int npfd = 0;
    bool immediate = false;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t at = in + i * WASI_SUB_SIZE;
        wasi_sub *s = &subs[i];
        s->userdata = wasi_load_u64(m, at);
        s->type = m->base[at + 8];
        s->pollidx = -1;
        if (s->type == WASI_EVENTTYPE_CLOCK) {
            uint32_t id = wasi_load_u32(m, at + 16);
            uint64_t t = wasi_load_u64(m, at + 24);
            uint16_t fl = wasi_load_u16(m, at + 40);
            clockid_t cid;
            if (!wasi_poll_clock(id, &cid) || (fl & ~WASI_SUBCLOCK_ABSTIME)) {
                s->error = WASI_EINVAL;
                immediate = true;
                continue;
            }
            uint64_t rel = t;
            if (fl & WASI_SUBCLOCK_ABSTIME) {
                uint64_t now = wasi_now(cid);
                rel = t > now ? t - now : 0;
            }
            s->deadline = rel;
            if (rel < timeout) timeout = rel;
        } else if (s->type == WASI_EVENTTYPE_FD_READ || s->type == WASI_EVENTTYPE_FD_WRITE) {
            int32_t err;
            wasi_fd *f = wasi_fd_get(w, wasi_load_u32(m, at + 16), WASI_RIGHT_POLL_FD_READWRITE, &err);
            if (!f) {
                s->error = err;
                immediate = true;
                continue;
            }
            s->host = f->host;
            s->ftype = f->type;
            s->pollidx = npfd;
            pfds[npfd].fd = f->host;
            pfds[npfd].events = s->type == WASI_EVENTTYPE_FD_READ ? POLLIN : POLLOUT;
            npfd++;
        } else {
            s->error = WASI_EINVAL;
            immediate = true;
        }
    }
    int32_t result = WASI_ESUCCESS;
    for (;;) {
        struct timespec ts, *tsp = NULL;
        if (immediate) {
            ts.tv_sec = 0;
            ts.tv_nsec = 0;
            tsp = &ts;
        } else if (timeout != UINT64_MAX) {
            uint64_t elapsed = wasi_now(CLOCK_MONOTONIC) - start;
            uint64_t left = timeout > elapsed ? timeout - elapsed : 0;
            ts.tv_sec = (time_t)(left / 1000000000u);
            ts.tv_nsec = (long)(left % 1000000000u);
            tsp = &ts;
        }
        int r = npfd > 0 || tsp ? ppoll(pfds, (nfds_t)npfd, tsp, NULL) : 0;
        if (r < 0) {
            if (errno == EINTR) continue;
            result = wasi_errno_from_host(errno);
            break;
        }
        uint64_t elapsed = wasi_now(CLOCK_MONOTONIC) - start;
        uint32_t nev = 0;
        for (uint64_t i = 0; i < n; i++) {
            wasi_sub *s = &subs[i];
            uint64_t at = out + (uint64_t)nev * WASI_EVENT_SIZE;
            if (s->error) {
                wasi_store_event(m, at, s, 0, 0);
                nev++;
            } else if (s->type == WASI_EVENTTYPE_CLOCK) {
                if (s->deadline <= elapsed) {
                    wasi_store_event(m, at, s, 0, 0);
                    nev++;
                }
            } else if (s->pollidx >= 0) {
                short re = pfds[s->pollidx].revents;
                if (!re) continue;
                uint16_t flags = (re & POLLHUP) ? WASI_EVENT_FD_HANGUP : 0;
                if (re & POLLNVAL) {
                    s->error = WASI_EBADF;
                } else if ((re & POLLERR) && !(re & (POLLIN | POLLOUT))) {
                    /* A socket's error is read with SO_ERROR or the next
                     * recv: the socket is ready. A stream's (a refused
                     * connect) ends it; a datagram socket's (an ICMP
                     * error) does not, and a hang-up would make mio drop
                     * a socket that still works. */
                    if (s->ftype == WASI_FILETYPE_SOCKET_STREAM) flags |= WASI_EVENT_FD_HANGUP;
                    else if (s->ftype != WASI_FILETYPE_SOCKET_DGRAM) s->error = WASI_EIO;
                }
                uint64_t nbytes = s->type == WASI_EVENTTYPE_FD_READ ? wasi_readable(s) : 0;
                wasi_store_event(m, at, s, nbytes, flags);
                nev++;
            }
        }
        if (nev > 0 || immediate) {
            wasi_store_u32(m, nev_ptr, nev);
            break;
        }
        /* Woken early with nothing to report (rounding): wait again. */
    }
    free(subs);
    free(pfds);
    return result;
}
