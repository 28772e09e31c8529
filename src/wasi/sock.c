/*
 * sock.c - sockets: the listening sockets given to the guest
 * (--tcplisten), and sock_accept, sock_recv, sock_send, sock_shutdown.
 * The guest cannot create, bind or connect sockets (preview1 has no such
 * call); it only accepts connections on what it was given.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wasi/wasi_impl.h"

#define WASI_RIFLAG_PEEK 1u
#define WASI_RIFLAG_WAITALL 2u
#define WASI_ROFLAG_TRUNCATED 1u
#define WASI_SDFLAG_RD 1u
#define WASI_SDFLAG_WR 2u

int wasi_sock_listen(const char *spec, char *why, size_t why_size) {
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || colon[1] == '\0') {
        snprintf(why, why_size, "expected HOST:PORT");
        return -1;
    }
    size_t hlen = (size_t)(colon - spec);
    char host[256];
    if (hlen >= sizeof host) {
        snprintf(why, why_size, "host name too long");
        return -1;
    }
    memcpy(host, spec, hlen);
    host[hlen] = '\0';
    /* [::1]:8080 */
    char *h = host;
    if (h[0] == '[' && hlen >= 2 && h[hlen - 1] == ']') {
        h[hlen - 1] = '\0';
        h++;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(h, colon + 1, &hints, &res);
    if (gai != 0) {
        snprintf(why, why_size, "%s", gai_strerror(gai));
        return -1;
    }
    int fd = -1, e = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0) break;
        e = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) snprintf(why, why_size, "%s", strerror(e ? e : EADDRNOTAVAIL));
    return fd;
}

static bool wasi_is_socket(const wasi_fd *f) {
    return f->type == WASI_FILETYPE_SOCKET_STREAM || f->type == WASI_FILETYPE_SOCKET_DGRAM;
}

/* Looks up a socket descriptor: EBADF, ENOTSOCK, then ENOTCAPABLE. */
static wasi_fd *wasi_sock_get(wb_wasi *w, uint64_t fd, uint64_t rights, int32_t *err) {
    wasi_fd *f = wasi_fd_get(w, fd, 0, err);
    if (!f) return NULL;
    if (!wasi_is_socket(f)) {
        *err = WASI_ENOTSOCK;
        return NULL;
    }
    if ((f->base & rights) != rights) {
        *err = WASI_ENOTCAPABLE;
        return NULL;
    }
    return f;
}

int32_t wasi_sock_accept(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    int32_t err;
    wasi_fd *f = wasi_sock_get(w, wasi_arg_u32(&a[0]), WASI_RIGHT_SOCK_ACCEPT, &err);
    if (!f) return err;
    uint32_t flags = (uint32_t)a[1].of.i32 & 0xFFFF;
    uint64_t ptr = wasi_arg_u32(&a[2]);
    if (!wasi_in_bounds(m, ptr, 4)) return WASI_EFAULT;
    if (flags & ~WASI_FDFLAG_NONBLOCK) return WASI_EINVAL;
    int host;
    do {
        host = accept4(f->host, NULL, NULL,
                       SOCK_CLOEXEC | ((flags & WASI_FDFLAG_NONBLOCK) ? SOCK_NONBLOCK : 0));
    } while (host < 0 && errno == EINTR);
    if (host < 0) return wasi_errno_from_host(errno);
    int64_t n = wasi_fd_add(w, host, WASI_FILETYPE_SOCKET_STREAM, WASI_RIGHTS_SOCKET,
                            WASI_RIGHTS_SOCKET, false, false);
    if (n < 0) {
        close(host);
        return (int32_t)-n;
    }
    wasi_store_u32(m, ptr, (uint32_t)n);
    return WASI_ESUCCESS;
}

int32_t wasi_sock_recv(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    int32_t err;
    wasi_fd *f = wasi_sock_get(w, wasi_arg_u32(&a[0]), WASI_RIGHT_FD_READ, &err);
    if (!f) return err;
    uint64_t iovs = wasi_arg_u32(&a[1]), n = wasi_arg_u32(&a[2]);
    uint32_t riflags = (uint32_t)a[3].of.i32 & 0xFFFF;
    uint64_t len_ptr = wasi_arg_u32(&a[4]), flags_ptr = wasi_arg_u32(&a[5]);
    if (!wasi_iovs_ok(m, iovs, n) || !wasi_in_bounds(m, len_ptr, 4) ||
        !wasi_in_bounds(m, flags_ptr, 2))
        return WASI_EFAULT;
    if (riflags & ~(WASI_RIFLAG_PEEK | WASI_RIFLAG_WAITALL)) return WASI_EINVAL;
    struct iovec batch[WASI_IOV_BATCH];
    uint64_t next = 0, budget = INT32_MAX;
    int cnt = wasi_iovs_batch(m, iovs, n, &next, batch, &budget);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = batch;
    msg.msg_iovlen = (size_t)cnt;
    int fl = 0;
    if (riflags & WASI_RIFLAG_PEEK) fl |= MSG_PEEK;
    if (riflags & WASI_RIFLAG_WAITALL) fl |= MSG_WAITALL;
    ssize_t got;
    do {
        got = recvmsg(f->host, &msg, fl);
    } while (got < 0 && errno == EINTR);
    if (got < 0) return wasi_errno_from_host(errno);
    wasi_store_u32(m, len_ptr, (uint32_t)got);
    wasi_store_u16(m, flags_ptr, (msg.msg_flags & MSG_TRUNC) ? WASI_ROFLAG_TRUNCATED : 0);
    return WASI_ESUCCESS;
}

int32_t wasi_sock_send(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    int32_t err;
    wasi_fd *f = wasi_sock_get(w, wasi_arg_u32(&a[0]), WASI_RIGHT_FD_WRITE, &err);
    if (!f) return err;
    uint64_t iovs = wasi_arg_u32(&a[1]), n = wasi_arg_u32(&a[2]);
    uint64_t len_ptr = wasi_arg_u32(&a[4]);
    if (!wasi_iovs_ok(m, iovs, n) || !wasi_in_bounds(m, len_ptr, 4)) return WASI_EFAULT;
    if ((uint32_t)a[3].of.i32 & 0xFFFF) return WASI_EINVAL; /* no siflags exist */
    struct iovec batch[WASI_IOV_BATCH];
    uint64_t next = 0, budget = INT32_MAX;
    int cnt = wasi_iovs_batch(m, iovs, n, &next, batch, &budget);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = batch;
    msg.msg_iovlen = (size_t)cnt;
    ssize_t put;
    do {
        put = sendmsg(f->host, &msg, MSG_NOSIGNAL);
    } while (put < 0 && errno == EINTR);
    if (put < 0) return wasi_errno_from_host(errno);
    wasi_store_u32(m, len_ptr, (uint32_t)put);
    return WASI_ESUCCESS;
}

int32_t wasi_sock_shutdown(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    (void)m;
    int32_t err;
    wasi_fd *f = wasi_sock_get(w, wasi_arg_u32(&a[0]), WASI_RIGHT_SOCK_SHUTDOWN, &err);
    if (!f) return err;
    uint32_t how = (uint32_t)a[1].of.i32 & 0xFF;
    int h;
    switch (how) {
    case WASI_SDFLAG_RD: h = SHUT_RD; break;
    case WASI_SDFLAG_WR: h = SHUT_WR; break;
    case WASI_SDFLAG_RD | WASI_SDFLAG_WR: h = SHUT_RDWR; break;
    default: return WASI_EINVAL;
    }
    if (shutdown(f->host, h) != 0) return wasi_errno_from_host(errno);
    return WASI_ESUCCESS;
}
