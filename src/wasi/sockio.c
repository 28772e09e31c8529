/*
 * sockio.c - data and addresses on sockets: preview1's sock_recv and
 * sock_send, and WasmEdge's sock_recv_from (7 and 8 parameters),
 * sock_send_to, sock_getlocaladdr and sock_getpeeraddr (4 and 3
 * parameters). docs/networking.md gives the layouts.
 *
 * Every guest pointer is checked before the host call, so a bad one
 * never costs the guest data it would not see (a datagram taken off the
 * queue, say), and nothing is written to guest memory on failure.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "wasi/wasi_impl.h"

#define WASI_RIFLAG_PEEK 1u
#define WASI_RIFLAG_WAITALL 2u
#define WASI_ROFLAG_TRUNCATED 1u

/* What sock_recv_from writes the sender's address as. */
typedef enum {
    ADDR_OUT_NONE,   /* sock_recv */
    ADDR_OUT_RAW,    /* 7 parameters: raw address bytes when they fit */
    ADDR_OUT_SIZED,  /* 8 parameters: 4, 16 or 128 bytes, and the port */
} addr_out;

/* The WASI family, bytes and port of a host address; false if not IP. */
static bool wasi_addr_parts(const struct sockaddr_storage *ss, uint16_t *family,
                            const uint8_t **ip, size_t *iplen, uint16_t *port) {
    int af;
    if (!net_addr_split((const struct sockaddr *)ss, &af, ip, iplen, port)) return false;
    *family = af == AF_INET ? WASI_AF_INET4 : WASI_AF_INET6;
    return true;
}

/* Receives into the guest's iovecs; with `out` the sender's address goes
 * to the {buf, buf_len} at addr_ptr (and the port to port_ptr). */
static int32_t wasi_recv(wb_wasi *w, const wasi_mem *m, uint64_t fd, uint64_t iovs, uint64_t n,
                         uint32_t riflags, uint64_t len_ptr, uint64_t flags_ptr, addr_out out,
                         uint64_t addr_ptr, uint64_t port_ptr) {
    int32_t err;
    wasi_fd *f = wasi_sock_get(w, fd, WASI_RIGHT_FD_READ, &err);
    if (!f) return err;
    if (!wasi_iovs_ok(m, iovs, n) || !wasi_in_bounds(m, len_ptr, 4) ||
        !wasi_in_bounds(m, flags_ptr, 2))
        return WASI_EFAULT;
    uint64_t abuf = 0, alen = 0;
    if (out != ADDR_OUT_NONE) {
        err = wasi_addr_buf(m, addr_ptr, &abuf, &alen);
        if (err) return err;
        if (out == ADDR_OUT_SIZED) {
            if (alen != 4 && alen != 16 && alen != WASI_ADDR_STORAGE) return WASI_EINVAL;
            if (!wasi_in_bounds(m, port_ptr, 2)) return WASI_EFAULT;
        }
    }
    if (riflags & ~(WASI_RIFLAG_PEEK | WASI_RIFLAG_WAITALL)) return WASI_EINVAL;
    struct iovec batch[WASI_IOV_BATCH];
    uint64_t next = 0, budget = INT32_MAX;
    int cnt = wasi_iovs_batch(m, iovs, n, &next, batch, &budget);
    struct sockaddr_storage from;
    memset(&from, 0, sizeof from);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = batch;
    msg.msg_iovlen = (size_t)cnt;
    if (out != ADDR_OUT_NONE) {
        msg.msg_name = &from;
        msg.msg_namelen = sizeof from;
    }
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
    if (out == ADDR_OUT_NONE) return WASI_ESUCCESS;

    uint16_t family = WASI_AF_UNSPEC, port = 0;
    const uint8_t *ip = NULL;
    size_t iplen = 0;
    bool known = msg.msg_namelen > 0 && wasi_addr_parts(&from, &family, &ip, &iplen, &port);
    if (out == ADDR_OUT_RAW) {
        /* Only the address bytes, when the buffer holds them. */
        if (known && alen >= iplen) memcpy(m->base + abuf, ip, iplen);
        return WASI_ESUCCESS;
    }
    if (alen == WASI_ADDR_STORAGE) {
        memset(m->base + abuf, 0, WASI_ADDR_STORAGE);
        wasi_store_u16(m, abuf, known ? family : WASI_AF_UNSPEC);
        if (known) memcpy(m->base + abuf + 2, ip, iplen);
    } else if (known && alen >= iplen) {
        memcpy(m->base + abuf, ip, iplen);
    }
    /* The port in host order (WasmEdge writes it byte-swapped: a bug its
     * guests do not expect). */
    wasi_store_u16(m, port_ptr, known ? port : 0);
    return WASI_ESUCCESS;
}

/* preview1: sock_recv(fd, iovs, n, riflags, ro_len, ro_flags). */
int32_t wasi_sock_recv(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    return wasi_recv(w, m, wasi_arg_u32(&a[0]), wasi_arg_u32(&a[1]), wasi_arg_u32(&a[2]),
                     (uint32_t)a[3].of.i32 & 0xFFFF, wasi_arg_u32(&a[4]), wasi_arg_u32(&a[5]),
                     ADDR_OUT_NONE, 0, 0);
}

/* sock_recv_from(fd, iovs, n, addr, riflags, ro_len, ro_flags). */
int32_t wasi_sock_recv_from_v1(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    return wasi_recv(w, m, wasi_arg_u32(&a[0]), wasi_arg_u32(&a[1]), wasi_arg_u32(&a[2]),
                     (uint32_t)a[4].of.i32 & 0xFFFF, wasi_arg_u32(&a[5]), wasi_arg_u32(&a[6]),
                     ADDR_OUT_RAW, wasi_arg_u32(&a[3]), 0);
}

/* sock_recv_from(fd, iovs, n, addr, riflags, ro_port, ro_len, ro_flags). */
int32_t wasi_sock_recv_from_v2(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    return wasi_recv(w, m, wasi_arg_u32(&a[0]), wasi_arg_u32(&a[1]), wasi_arg_u32(&a[2]),
                     (uint32_t)a[4].of.i32 & 0xFFFF, wasi_arg_u32(&a[6]), wasi_arg_u32(&a[7]),
                     ADDR_OUT_SIZED, wasi_arg_u32(&a[3]), wasi_arg_u32(&a[5]));
}

/* Sends the guest's ciovecs, to `to` when given. */
static int32_t wasi_send(wb_wasi *w, const wasi_mem *m, uint64_t fd, uint64_t iovs, uint64_t n,
                         uint32_t siflags, uint64_t len_ptr, const wb_val *to) {
    int32_t err;
    wasi_fd *f = wasi_sock_get(w, fd, WASI_RIGHT_FD_WRITE, &err);
    if (!f) return err;
    if (!wasi_iovs_ok(m, iovs, n) || !wasi_in_bounds(m, len_ptr, 4)) return WASI_EFAULT;
    if (siflags) return WASI_EINVAL; /* no siflags exist */
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    if (to) {
        err = wasi_addr_read(m, wasi_arg_u32(&to[0]), (uint32_t)to[1].of.i32 & 0xFFFF,
                             f->sock_family, &ss, &sslen);
        if (err) return err;
        err = wasi_net_check(w, WB_NET_CONNECT, (const struct sockaddr *)&ss);
        if (err) return err;
    }
    struct iovec batch[WASI_IOV_BATCH];
    uint64_t next = 0, budget = INT32_MAX;
    int cnt = wasi_iovs_batch(m, iovs, n, &next, batch, &budget);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = batch;
    msg.msg_iovlen = (size_t)cnt;
    if (to) {
        msg.msg_name = &ss;
        msg.msg_namelen = sslen;
    }
    ssize_t put;
    do {
        put = sendmsg(f->host, &msg, MSG_NOSIGNAL);
    } while (put < 0 && errno == EINTR);
    if (put < 0) return wasi_errno_from_host(errno);
    wasi_store_u32(m, len_ptr, (uint32_t)put);
    return WASI_ESUCCESS;
}

/* preview1: sock_send(fd, ciovs, n, siflags, ro_len). */
int32_t wasi_sock_send(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    return wasi_send(w, m, wasi_arg_u32(&a[0]), wasi_arg_u32(&a[1]), wasi_arg_u32(&a[2]),
                     (uint32_t)a[3].of.i32 & 0xFFFF, wasi_arg_u32(&a[4]), NULL);
}

/* sock_send_to(fd, ciovs, n, addr, port, siflags, ro_len). */
int32_t wasi_sock_send_to(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    return wasi_send(w, m, wasi_arg_u32(&a[0]), wasi_arg_u32(&a[1]), wasi_arg_u32(&a[2]),
                     (uint32_t)a[5].of.i32 & 0xFFFF, wasi_arg_u32(&a[6]), &a[3]);
}

/* ----------------------------------------------- local and peer names */

/* sock_getlocaladdr / sock_getpeeraddr. v1: (fd, addr, ro_type, ro_port)
 * with a 4- or 16-byte buffer and the type as the number 4 or 6; v2:
 * (fd, addr, ro_port) with a 128-byte buffer that starts with the
 * family. */
static int32_t wasi_sockname(wb_wasi *w, const wasi_mem *m, const wb_val *a, bool peer, bool v2) {
    int32_t err;
    wasi_fd *f = wasi_sock_get(w, wasi_arg_u32(&a[0]), 0, &err);
    if (!f) return err;
    uint64_t addr_ptr = wasi_arg_u32(&a[1]);
    uint64_t type_ptr = v2 ? 0 : wasi_arg_u32(&a[2]);
    uint64_t port_ptr = wasi_arg_u32(&a[v2 ? 2 : 3]);
    uint64_t buf, len;
    err = wasi_addr_buf(m, addr_ptr, &buf, &len);
    if (err) return err;
    if (!wasi_in_bounds(m, port_ptr, 4) || (!v2 && !wasi_in_bounds(m, type_ptr, 4)))
        return WASI_EFAULT;
    if (v2 ? len != WASI_ADDR_STORAGE : (len != 4 && len != 16)) return WASI_EINVAL;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sslen = sizeof ss;
    int r = peer ? getpeername(f->host, (struct sockaddr *)&ss, &sslen)
                 : getsockname(f->host, (struct sockaddr *)&ss, &sslen);
    if (r != 0) return wasi_errno_from_host(errno);
    uint16_t family, port;
    const uint8_t *ip;
    size_t iplen;
    if (!wasi_addr_parts(&ss, &family, &ip, &iplen, &port)) return WASI_ENOTSUP;
    if (v2) {
        memset(m->base + buf, 0, WASI_ADDR_STORAGE);
        wasi_store_u16(m, buf, family);
        memcpy(m->base + buf + 2, ip, iplen);
    } else {
        /* An IPv6 address does not fit a 4-byte buffer (WasmEdge says
         * ENOMEM). */
        if (len < iplen) return WASI_ENOMEM;
        memcpy(m->base + buf, ip, iplen);
        wasi_store_u32(m, type_ptr, family == WASI_AF_INET4 ? 4 : 6);
    }
    wasi_store_u32(m, port_ptr, port);
    return WASI_ESUCCESS;
}

int32_t wasi_sock_getlocaladdr_v1(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    return wasi_sockname(w, m, a, false, false);
}
int32_t wasi_sock_getlocaladdr_v2(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    return wasi_sockname(w, m, a, false, true);
}
int32_t wasi_sock_getpeeraddr_v1(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    return wasi_sockname(w, m, a, true, false);
}
int32_t wasi_sock_getpeeraddr_v2(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    return wasi_sockname(w, m, a, true, true);
}
