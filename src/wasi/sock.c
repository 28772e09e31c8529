/*
 * sock.c - sockets: the listening sockets given to the guest
 * (--tcplisten), preview1's sock_accept and sock_shutdown, and the socket
 * life cycle of WasmEdge's extension (sock_open, sock_bind, sock_listen,
 * sock_connect, the two-parameter sock_accept, sock_getsockopt and
 * sock_setsockopt). Data transfer and addresses are in sockio.c, name
 * resolution in getaddrinfo.c; docs/networking.md describes the ABI.
 *
 * Every bind, listen and connect asks the policy (src/net/policy.c) first;
 * a refusal is EACCES and one line on the report descriptor. Sockets are
 * created in the calling process's network namespace: inside a container
 * that is the container's.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "wasi/wasi_impl.h"

#define WASI_SDFLAG_RD 1u
#define WASI_SDFLAG_WR 2u

/* WasmEdge's `__wasi_sock_opt_level_t` and `__wasi_sock_opt_so_t`. Level
 * 6 (TCP) with TCP_NODELAY is our addition: WasmEdge has only level 0. */
#define WASI_SOL_SOCKET 0u
#define WASI_SOL_TCP 6u
#define WASI_TCP_NODELAY 1u
enum {
    WASI_SO_REUSEADDR, WASI_SO_TYPE, WASI_SO_ERROR, WASI_SO_DONTROUTE, WASI_SO_BROADCAST,
    WASI_SO_SNDBUF, WASI_SO_RCVBUF, WASI_SO_KEEPALIVE, WASI_SO_OOBINLINE, WASI_SO_LINGER,
    WASI_SO_RCVLOWAT, WASI_SO_RCVTIMEO, WASI_SO_SNDTIMEO, WASI_SO_ACCEPTCONN,
    WASI_SO_BINDTODEVICE,
};

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
    net_hints hints = {AF_UNSPEC, SOCK_STREAM, 0, AI_PASSIVE | AI_NUMERICSERV};
    net_results res;
    int gai = net_resolve(h, colon + 1, &hints, &res);
    if (gai != 0) {
        snprintf(why, why_size, "%s", gai_strerror(gai));
        return -1;
    }
    int fd = -1, e = 0;
    for (size_t i = 0; i < res.count; i++) {
        const net_result *r = &res.items[i];
        fd = socket(r->family, r->socktype | SOCK_CLOEXEC, r->protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (const struct sockaddr *)&r->addr, r->addrlen) == 0 && listen(fd, 1024) == 0)
            break;
        e = errno;
        close(fd);
        fd = -1;
    }
    net_results_free(&res);
    if (fd < 0) snprintf(why, why_size, "%s", strerror(e ? e : EADDRNOTAVAIL));
    return fd;
}

static bool wasi_is_socket(const wasi_fd *f) {
    return f->type == WASI_FILETYPE_SOCKET_STREAM || f->type == WASI_FILETYPE_SOCKET_DGRAM;
}

wasi_fd *wasi_sock_get(wb_wasi *w, uint64_t fd, uint64_t rights, int32_t *err) {
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

int wasi_sock_family(int host) {
    int family = AF_UNSPEC;
    socklen_t len = sizeof family;
    if (getsockopt(host, SOL_SOCKET, SO_DOMAIN, &family, &len) != 0) return AF_UNSPEC;
    return family;
}

/* Adds a host socket to the table; stores the guest number at ptr. */
static int32_t wasi_sock_add(wb_wasi *w, const wasi_mem *m, int host, uint8_t type,
                             uint64_t base, uint64_t ptr) {
    int64_t n = wasi_fd_add(w, host, type, base, WASI_RIGHTS_SOCKET, false, false);
    if (n < 0) {
        close(host);
        return (int32_t)-n;
    }
    w->fds[n].sock_family = wasi_sock_family(host);
    wasi_store_u32(m, ptr, (uint32_t)n);
    return WASI_ESUCCESS;
}

/* ------------------------------------------------------------ open */

int32_t wasi_sock_open(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    uint32_t af = (uint32_t)a[0].of.i32 & 0xFF, type = (uint32_t)a[1].of.i32 & 0xFF;
    uint64_t ptr = wasi_arg_u32(&a[2]);
    if (!wasi_in_bounds(m, ptr, 4)) return WASI_EFAULT;
    int domain, stype;
    switch (af) {
    case WASI_AF_INET4: domain = AF_INET; break;
    case WASI_AF_INET6: domain = AF_INET6; break;
    case WASI_AF_UNIX: return WASI_ENOSYS; /* Unix sockets are not offered */
    default: return WASI_EINVAL;
    }
    switch (type) {
    case WASI_SOCK_DGRAM: stype = SOCK_DGRAM; break;
    case WASI_SOCK_STREAM: stype = SOCK_STREAM; break;
    default: return WASI_EINVAL;
    }
    if (!net_policy_any(&w->net)) {
        net_policy_report(&w->net, "socket", NULL,
                          "no network is granted (--inherit-network or --net-allow grant it)");
        return WASI_EACCES;
    }
    int host = socket(domain, stype | SOCK_CLOEXEC, 0);
    if (host < 0) return wasi_errno_from_host(errno);
    uint8_t ft = stype == SOCK_DGRAM ? WASI_FILETYPE_SOCKET_DGRAM : WASI_FILETYPE_SOCKET_STREAM;
    return wasi_sock_add(w, m, host, ft, WASI_RIGHTS_SOCKET | WASI_RIGHT_SOCK_ACCEPT, ptr);
}

/* ------------------------------------------------------- addresses in */

int32_t wasi_addr_buf(const wasi_mem *m, uint64_t addr_ptr, uint64_t *buf, uint64_t *len) {
    if (!wasi_in_bounds(m, addr_ptr, 8)) return WASI_EFAULT;
    *buf = wasi_load_u32(m, addr_ptr);
    *len = wasi_load_u32(m, addr_ptr + 4);
    return wasi_in_bounds(m, *buf, *len) ? WASI_ESUCCESS : WASI_EFAULT;
}

/* Reads the guest's address (an 8-byte {buf, buf_len} at addr_ptr; buf
 * holds 4 raw IPv4 bytes, 16 raw IPv6 bytes, or 128 bytes: a u16 family
 * then the address) and the port (host order) into a host sockaddr for a
 * socket of family `sock_family`: IPv4 for an IPv6 socket becomes
 * IPv4-mapped, IPv4-mapped for an IPv4 socket becomes plain IPv4. */
int32_t wasi_addr_read(const wasi_mem *m, uint64_t addr_ptr, uint32_t port, int sock_family,
                       struct sockaddr_storage *ss, socklen_t *len) {
    uint64_t buf, buf_len;
    int32_t err = wasi_addr_buf(m, addr_ptr, &buf, &buf_len);
    if (err) return err;
    const uint8_t *ip = m->base + buf;
    int family;
    if (buf_len == 4) {
        family = AF_INET;
    } else if (buf_len == 16) {
        family = AF_INET6;
    } else if (buf_len == WASI_ADDR_STORAGE) {
        uint16_t f = wasi_load_u16(m, buf);
        if (f == WASI_AF_INET4) family = AF_INET;
        else if (f == WASI_AF_INET6) family = AF_INET6;
        else if (f == WASI_AF_UNIX) return WASI_ENOSYS;
        else return WASI_EINVAL;
        ip += 2;
    } else {
        return WASI_EINVAL;
    }
    const uint8_t *v4 = family == AF_INET6 && sock_family == AF_INET ? net_v4_unmapped(ip) : NULL;
    uint8_t mapped[16];
    if (v4) {
        ip = v4;
        family = AF_INET;
    } else if (family == AF_INET && sock_family == AF_INET6) {
        net_v4_mapped(ip, mapped);
        ip = mapped;
        family = AF_INET6;
    }
    *len = net_addr_make(family, ip, (uint16_t)port, ss);
    return WASI_ESUCCESS;
}

/* Asks the policy; reports and answers EACCES on a refusal. */
int32_t wasi_net_check(wb_wasi *w, unsigned op, const struct sockaddr *sa) {
    if (net_policy_allows(&w->net, op, sa)) return WASI_ESUCCESS;
    net_policy_report(&w->net, op == WB_NET_BIND ? "bind to" : "connect to", sa,
                      net_policy_any(&w->net) ? "no --net-allow rule grants it"
                                              : "no network is granted");
    return WASI_EACCES;
}

/* An IPv6 socket bound to "::" receives IPv4 too (dual stack) unless it
 * is IPV6_V6ONLY. Under rules that takes a bind grant for 0.0.0.0 as
 * well; without one the socket is made IPv6-only, so a grant for [::]
 * never opens IPv4. */
static void wasi_dual_stack_check(wb_wasi *w, int host, const struct sockaddr *sa) {
    if (w->net.inherit || sa->sa_family != AF_INET6) return;
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    if (!IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr)) return;
    static const uint8_t any4[4];
    struct sockaddr_storage v4;
    net_addr_make(AF_INET, any4, ntohs(in6->sin6_port), &v4);
    if (net_policy_allows(&w->net, WB_NET_BIND, (const struct sockaddr *)&v4)) return;
    int one = 1;
    setsockopt(host, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
}

/* sock_bind / sock_connect: (fd, addr_ptr, port). */
static int32_t wasi_sock_bind_or_connect(wb_wasi *w, const wasi_mem *m, const wb_val *a,
                                         unsigned op) {
    int32_t err;
    wasi_fd *f = wasi_sock_get(w, wasi_arg_u32(&a[0]), 0, &err);
    if (!f) return err;
    struct sockaddr_storage ss;
    socklen_t len;
    err = wasi_addr_read(m, wasi_arg_u32(&a[1]), (uint32_t)a[2].of.i32 & 0xFFFF,
                         f->sock_family, &ss, &len);
    if (err) return err;
    err = wasi_net_check(w, op, (const struct sockaddr *)&ss);
    if (err) return err;
    int r;
    if (op == WB_NET_BIND) {
        wasi_dual_stack_check(w, f->host, (const struct sockaddr *)&ss);
        r = bind(f->host, (const struct sockaddr *)&ss, len);
    } else {
        /* A connect cut by a signal goes on in the background; asking
         * again would say EALREADY, so EINTR is passed on. */
        r = connect(f->host, (const struct sockaddr *)&ss, len);
    }
    return r == 0 ? WASI_ESUCCESS : wasi_errno_from_host(errno);
}

int32_t wasi_sock_bind(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    return wasi_sock_bind_or_connect(w, m, a, WB_NET_BIND);
}

int32_t wasi_sock_connect(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    return wasi_sock_bind_or_connect(w, m, a, WB_NET_CONNECT);
}

/* listen on an unbound socket binds it to the wildcard address and a port
 * the kernel picks: a bind the policy must allow. */
int32_t wasi_sock_listen_fn(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    (void)m;
    int32_t err;
    wasi_fd *f = wasi_sock_get(w, wasi_arg_u32(&a[0]), 0, &err);
    if (!f) return err;
    int backlog = a[1].of.i32;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if (getsockname(f->host, (struct sockaddr *)&ss, &len) != 0) return wasi_errno_from_host(errno);
    bool unbound = (ss.ss_family == AF_INET && ((struct sockaddr_in *)&ss)->sin_port == 0) ||
                   (ss.ss_family == AF_INET6 && ((struct sockaddr_in6 *)&ss)->sin6_port == 0);
    if (unbound) {
        err = wasi_net_check(w, WB_NET_BIND, (const struct sockaddr *)&ss);
        if (err) return err;
        wasi_dual_stack_check(w, f->host, (const struct sockaddr *)&ss);
    }
    if (backlog < 0 || backlog > 4096) backlog = 4096;
    if (listen(f->host, backlog) != 0) return wasi_errno_from_host(errno);
    return WASI_ESUCCESS;
}

/* ------------------------------------------------------------ accept */

static int32_t wasi_accept(wb_wasi *w, const wasi_mem *m, uint64_t fd, uint32_t flags,
                           uint64_t ptr) {
    int32_t err;
    wasi_fd *f = wasi_sock_get(w, fd, WASI_RIGHT_SOCK_ACCEPT, &err);
    if (!f) return err;
    if (!wasi_in_bounds(m, ptr, 4)) return WASI_EFAULT;
    /* Any fdflags are taken, as WasmEdge does; only NONBLOCK means
     * something for a socket. */
    if (flags & ~(WASI_FDFLAG_APPEND | WASI_FDFLAG_DSYNC | WASI_FDFLAG_NONBLOCK |
                  WASI_FDFLAG_RSYNC | WASI_FDFLAG_SYNC))
        return WASI_EINVAL;
    int host;
    do {
        host = accept4(f->host, NULL, NULL,
                       SOCK_CLOEXEC | ((flags & WASI_FDFLAG_NONBLOCK) ? SOCK_NONBLOCK : 0));
    } while (host < 0 && errno == EINTR);
    if (host < 0) return wasi_errno_from_host(errno);
    return wasi_sock_add(w, m, host, WASI_FILETYPE_SOCKET_STREAM, WASI_RIGHTS_SOCKET, ptr);
}

/* preview1: sock_accept(fd, fdflags, ro_fd). */
int32_t wasi_sock_accept(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    return wasi_accept(w, m, wasi_arg_u32(&a[0]), (uint32_t)a[1].of.i32 & 0xFFFF,
                       wasi_arg_u32(&a[2]));
}

/* WasmEdge's first form: sock_accept(fd, ro_fd), a blocking new socket. */
int32_t wasi_sock_accept_v1(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    return wasi_accept(w, m, wasi_arg_u32(&a[0]), 0, wasi_arg_u32(&a[1]));
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

/* ----------------------------------------------------------- options */

typedef enum { OPT_INT, OPT_LINGER, OPT_TIMEVAL, OPT_BYTES } opt_kind;

/* Maps (level, name) to the host's; false when unknown. */
static bool wasi_sockopt_host(uint32_t level, uint32_t name, int *hl, int *hn, opt_kind *kind) {
    static const int so[] = {
        [WASI_SO_REUSEADDR] = SO_REUSEADDR, [WASI_SO_TYPE] = SO_TYPE,
        [WASI_SO_ERROR] = SO_ERROR,         [WASI_SO_DONTROUTE] = SO_DONTROUTE,
        [WASI_SO_BROADCAST] = SO_BROADCAST, [WASI_SO_SNDBUF] = SO_SNDBUF,
        [WASI_SO_RCVBUF] = SO_RCVBUF,       [WASI_SO_KEEPALIVE] = SO_KEEPALIVE,
        [WASI_SO_OOBINLINE] = SO_OOBINLINE, [WASI_SO_LINGER] = SO_LINGER,
        [WASI_SO_RCVLOWAT] = SO_RCVLOWAT,   [WASI_SO_RCVTIMEO] = SO_RCVTIMEO,
        [WASI_SO_SNDTIMEO] = SO_SNDTIMEO,   [WASI_SO_ACCEPTCONN] = SO_ACCEPTCONN,
        [WASI_SO_BINDTODEVICE] = SO_BINDTODEVICE,
    };
    if (level == WASI_SOL_TCP && name == WASI_TCP_NODELAY) {
        *hl = IPPROTO_TCP;
        *hn = TCP_NODELAY;
        *kind = OPT_INT;
        return true;
    }
    if (level != WASI_SOL_SOCKET || name >= sizeof so / sizeof so[0]) return false;
    *hl = SOL_SOCKET;
    *hn = so[name];
    *kind = name == WASI_SO_LINGER ? OPT_LINGER
            : (name == WASI_SO_RCVTIMEO || name == WASI_SO_SNDTIMEO) ? OPT_TIMEVAL
            : name == WASI_SO_BINDTODEVICE ? OPT_BYTES
                                            : OPT_INT;
    return true;
}

/* The guest's sizes: linger {i32, i32}, timeval {i64 sec, i64 usec}. */
static uint64_t opt_guest_size(opt_kind k) {
    return k == OPT_INT ? 4 : k == OPT_LINGER ? 8 : 16;
}

/* sock_getsockopt(fd, level, name, val_ptr, val_len_ptr). A length
 * "pointer" below LEN_BY_VALUE is the length itself: dispatchrun/net (Go)
 * passes 4 there, which WasmEdge reads as the address 4. No allocator
 * hands out such an address, so it is taken as the value and nothing is
 * written back. */
#define LEN_BY_VALUE 16u
int32_t wasi_sock_getsockopt(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    int32_t err;
    wasi_fd *f = wasi_sock_get(w, wasi_arg_u32(&a[0]), 0, &err);
    if (!f) return err;
    uint32_t level = (uint32_t)a[1].of.i32, name = (uint32_t)a[2].of.i32;
    uint64_t val = wasi_arg_u32(&a[3]), len_ptr = wasi_arg_u32(&a[4]);
    bool by_value = len_ptr < LEN_BY_VALUE;
    if (!by_value && !wasi_in_bounds(m, len_ptr, 4)) return WASI_EFAULT;
    uint64_t cap = by_value ? len_ptr : wasi_load_u32(m, len_ptr);
    if (!wasi_in_bounds(m, val, cap)) return WASI_EFAULT;
    int hl, hn;
    opt_kind kind;
    if (!wasi_sockopt_host(level, name, &hl, &hn, &kind)) return WASI_EINVAL;
    if (kind != OPT_BYTES && cap < opt_guest_size(kind)) return WASI_EINVAL;
    uint8_t *out = m->base + val;
    uint64_t put;
    if (kind == OPT_INT) {
        int v = 0;
        socklen_t hlen = sizeof v;
        if (getsockopt(f->host, hl, hn, &v, &hlen) != 0) return wasi_errno_from_host(errno);
        if (hn == SO_ERROR && hl == SOL_SOCKET) v = wasi_errno_from_host(v);
        if (hn == SO_TYPE && hl == SOL_SOCKET)
            v = v == SOCK_DGRAM ? WASI_SOCK_DGRAM : v == SOCK_STREAM ? WASI_SOCK_STREAM : 0;
        wasi_store_u32(m, val, (uint32_t)v);
        put = 4;
    } else if (kind == OPT_LINGER) {
        struct linger l;
        socklen_t hlen = sizeof l;
        if (getsockopt(f->host, hl, hn, &l, &hlen) != 0) return wasi_errno_from_host(errno);
        wasi_store_u32(m, val, (uint32_t)l.l_onoff);
        wasi_store_u32(m, val + 4, (uint32_t)l.l_linger);
        put = 8;
    } else if (kind == OPT_TIMEVAL) {
        struct timeval tv;
        socklen_t hlen = sizeof tv;
        if (getsockopt(f->host, hl, hn, &tv, &hlen) != 0) return wasi_errno_from_host(errno);
        wasi_store_u64(m, val, (uint64_t)(int64_t)tv.tv_sec);
        wasi_store_u64(m, val + 8, (uint64_t)(int64_t)tv.tv_usec);
        put = 16;
    } else {
        char dev[64];
        socklen_t hlen = sizeof dev;
        if (getsockopt(f->host, hl, hn, dev, &hlen) != 0) return wasi_errno_from_host(errno);
        put = hlen < cap ? hlen : cap;
        memcpy(out, dev, (size_t)put);
    }
    if (!by_value) wasi_store_u32(m, len_ptr, (uint32_t)put);
    return WASI_ESUCCESS;
}

/* sock_setsockopt(fd, level, name, val_ptr, val_len): the length is a
 * value here, not a pointer. */
int32_t wasi_sock_setsockopt(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    int32_t err;
    wasi_fd *f = wasi_sock_get(w, wasi_arg_u32(&a[0]), 0, &err);
    if (!f) return err;
    uint32_t level = (uint32_t)a[1].of.i32, name = (uint32_t)a[2].of.i32;
    uint64_t val = wasi_arg_u32(&a[3]), len = wasi_arg_u32(&a[4]);
    if (!wasi_in_bounds(m, val, len)) return WASI_EFAULT;
    int hl, hn;
    opt_kind kind;
    if (!wasi_sockopt_host(level, name, &hl, &hn, &kind)) return WASI_EINVAL;
    if (kind != OPT_BYTES && len < opt_guest_size(kind)) return WASI_EINVAL;
    int r;
    if (kind == OPT_INT) {
        int v = (int)wasi_load_u32(m, val);
        r = setsockopt(f->host, hl, hn, &v, sizeof v);
    } else if (kind == OPT_LINGER) {
        struct linger l = {(int)wasi_load_u32(m, val), (int)wasi_load_u32(m, val + 4)};
        r = setsockopt(f->host, hl, hn, &l, sizeof l);
    } else if (kind == OPT_TIMEVAL) {
        struct timeval tv;
        tv.tv_sec = (time_t)(int64_t)wasi_load_u64(m, val);
        tv.tv_usec = (suseconds_t)(int64_t)wasi_load_u64(m, val + 8);
        r = setsockopt(f->host, hl, hn, &tv, sizeof tv);
    } else {
        char dev[64];
        if (len >= sizeof dev) return WASI_EINVAL;
        memcpy(dev, m->base + val, (size_t)len);
        dev[len] = '\0';
        r = setsockopt(f->host, hl, hn, dev, (socklen_t)len);
    }
    return r == 0 ? WASI_ESUCCESS : wasi_errno_from_host(errno);
}
