/*
 * socket.c - BSD sockets for wasm32-wasi guests over WasmEdge's socket
 * extension of wasi_snapshot_preview1 (see wasmbox_socket.h; the ABI is
 * in docs/networking.md).
 *
 * Only the forms that WasmEdge and wasmbox both link are used: raw 4- and
 * 16-byte addresses for bind, connect and send_to, the 4-parameter
 * getlocaladdr/getpeeraddr and the 8-parameter recv_from, so a program
 * built with this library runs on either.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#include "wasmbox_socket.h"

#define IMPORT(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(name)))

/* The ABI's address: a buffer of 4 (IPv4), 16 (IPv6) or 128 bytes (a u16
 * family, then the address). */
typedef struct wb_addr {
    uint8_t *buf;
    uint32_t buf_len;
} wb_addr;

typedef struct wb_sockaddr {
    uint8_t family;
    uint32_t data_len;
    uint8_t *data;
} wb_sockaddr;

typedef struct wb_addrinfo {
    uint16_t flags;
    uint8_t family, socktype, protocol;
    uint32_t addrlen;
    wb_sockaddr *addr;
    char *canonname;
    uint32_t canonname_len;
    struct wb_addrinfo *next;
} wb_addrinfo;

_Static_assert(sizeof(wb_addr) == 8, "address struct is 8 bytes");
_Static_assert(sizeof(wb_sockaddr) == 12, "sockaddr struct is 12 bytes");
_Static_assert(sizeof(wb_addrinfo) == 28, "addrinfo struct is 28 bytes");

enum { WB_AF_INET4 = 1, WB_AF_INET6 = 2 };
enum { WB_SOCK_ANY = 0, WB_SOCK_DGRAM = 1, WB_SOCK_STREAM = 2 };
enum { WB_PROTO_IP = 0, WB_PROTO_TCP = 1, WB_PROTO_UDP = 2 };

IMPORT("sock_open") int32_t wb_sock_open(int32_t af, int32_t type, int32_t *fd);
IMPORT("sock_bind") int32_t wb_sock_bind(int32_t fd, const wb_addr *addr, int32_t port);
IMPORT("sock_listen") int32_t wb_sock_listen(int32_t fd, int32_t backlog);
IMPORT("sock_connect") int32_t wb_sock_connect(int32_t fd, const wb_addr *addr, int32_t port);
IMPORT("sock_recv_from")
int32_t wb_sock_recv_from(int32_t fd, const __wasi_iovec_t *iovs, int32_t n, wb_addr *addr,
                          int32_t riflags, uint16_t *port, uint32_t *got, uint16_t *roflags);
IMPORT("sock_send_to")
int32_t wb_sock_send_to(int32_t fd, const __wasi_ciovec_t *iovs, int32_t n, const wb_addr *addr,
                        int32_t port, int32_t siflags, uint32_t *sent);
IMPORT("sock_getlocaladdr")
int32_t wb_sock_getlocaladdr(int32_t fd, wb_addr *addr, uint32_t *type, uint32_t *port);
IMPORT("sock_getpeeraddr")
int32_t wb_sock_getpeeraddr(int32_t fd, wb_addr *addr, uint32_t *type, uint32_t *port);
IMPORT("sock_getsockopt")
int32_t wb_sock_getsockopt(int32_t fd, int32_t level, int32_t name, void *value, uint32_t *len);
IMPORT("sock_setsockopt")
int32_t wb_sock_setsockopt(int32_t fd, int32_t level, int32_t name, const void *value,
                           uint32_t len);
IMPORT("sock_getaddrinfo")
int32_t wb_sock_getaddrinfo(const char *node, uint32_t node_len, const char *service,
                            uint32_t service_len, const wb_addrinfo *hints, wb_addrinfo **res,
                            uint32_t max, uint32_t *res_len);

/* WASI errno values are wasi-libc's errno values. */
static int fail(int32_t e) {
    errno = e;
    return -1;
}

/* -------------------------------------------------------- addresses */

/* A sockaddr as the ABI's raw address and port; -1 with errno. */
static int addr_from(const struct sockaddr *sa, socklen_t len, wb_addr *out, uint8_t buf[16],
                     int *port) {
    if (!sa) return fail(EFAULT);
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        memcpy(buf, &in->sin_addr, 4);
        out->buf_len = 4;
        *port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        memcpy(buf, &in6->sin6_addr, 16);
        out->buf_len = 16;
        *port = ntohs(in6->sin6_port);
    } else if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) {
        return fail(EAFNOSUPPORT);
    } else {
        return fail(EINVAL);
    }
    out->buf = buf;
    return 0;
}

/* Fills a sockaddr from family (AF_*), address bytes and port; *len is
 * set to the full size even when the caller's buffer was smaller. */
static void addr_to(int family, const uint8_t *ip, unsigned port, struct sockaddr *sa,
                    socklen_t *len) {
    if (!sa || !len) return;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t full;
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        memcpy(&in->sin_addr, ip, 4);
        full = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        memcpy(&in6->sin6_addr, ip, 16);
        full = sizeof *in6;
    }
    memcpy(sa, &ss, *len < full ? *len : full);
    *len = full;
}

/* ---------------------------------------------------------- sockets */

int socket(int domain, int type, int protocol) {
    int af = domain == AF_INET ? WB_AF_INET4 : domain == AF_INET6 ? WB_AF_INET6 : -1;
    if (af < 0) return fail(EAFNOSUPPORT);
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    int st = base == SOCK_STREAM ? WB_SOCK_STREAM : base == SOCK_DGRAM ? WB_SOCK_DGRAM : -1;
    if (st < 0) return fail(EPROTOTYPE);
    if (protocol != 0 && !(st == WB_SOCK_STREAM && protocol == IPPROTO_TCP) &&
        !(st == WB_SOCK_DGRAM && protocol == IPPROTO_UDP))
        return fail(EPROTONOSUPPORT);
    int32_t fd;
    int32_t e = wb_sock_open(af, st, &fd);
    if (e) return fail(e);
    if ((type & SOCK_NONBLOCK) && fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
        int saved = errno;
        close(fd);
        return fail(saved);
    }
    return fd;
}

/* bind and connect: the same address, another import. */
static int with_addr(int32_t (*call)(int32_t, const wb_addr *, int32_t), int fd,
                     const struct sockaddr *addr, socklen_t len) {
    wb_addr a;
    uint8_t buf[16];
    int port;
    if (addr_from(addr, len, &a, buf, &port) != 0) return -1;
    int32_t e = call(fd, &a, port);
    return e ? fail(e) : 0;
}

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
    return with_addr(wb_sock_bind, fd, addr, len);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
    return with_addr(wb_sock_connect, fd, addr, len);
}

int listen(int fd, int backlog) {
    int32_t e = wb_sock_listen(fd, backlog);
    return e ? fail(e) : 0;
}

static int sockname(int fd, struct sockaddr *addr, socklen_t *len, bool peer) {
    uint8_t buf[16] = {0};
    wb_addr a = {buf, sizeof buf};
    uint32_t type = 0, port = 0;
    int32_t e = peer ? wb_sock_getpeeraddr(fd, &a, &type, &port)
                     : wb_sock_getlocaladdr(fd, &a, &type, &port);
    if (e) return fail(e);
    if (!addr || !len) return fail(EFAULT);
    addr_to(type == 4 || type == WB_AF_INET4 ? AF_INET : AF_INET6, buf, port, addr, len);
    return 0;
}

int getsockname(int fd, struct sockaddr *__restrict addr, socklen_t *__restrict len) {
    return sockname(fd, addr, len, false);
}

int getpeername(int fd, struct sockaddr *__restrict addr, socklen_t *__restrict len) {
    return sockname(fd, addr, len, true);
}

int accept4(int fd, struct sockaddr *__restrict addr, socklen_t *__restrict len, int flags) {
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return fail(EINVAL);
    __wasi_fd_t nfd;
    __wasi_errno_t e =
        __wasi_sock_accept(fd, (flags & SOCK_NONBLOCK) ? __WASI_FDFLAGS_NONBLOCK : 0, &nfd);
    if (e) return fail(e);
    if (addr && len && sockname((int)nfd, addr, len, true) != 0) {
        /* A peer already gone still leaves a connection to read. */
        memset(addr, 0, *len);
        *len = 0;
    }
    return (int)nfd;
}

int accept(int fd, struct sockaddr *__restrict addr, socklen_t *__restrict len) {
    return accept4(fd, addr, len, 0);
}

/* ---------------------------------------------------------- datagrams */

#ifdef MSG_NOSIGNAL
#define SENDTO_FLAGS MSG_NOSIGNAL
#else
#define SENDTO_FLAGS 0
#endif

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
               socklen_t tolen) {
    /* Sends never raise SIGPIPE under WASI: MSG_NOSIGNAL is implied. */
    if (flags & ~SENDTO_FLAGS) return fail(EOPNOTSUPP);
    if (!to) return send(fd, buf, len, 0);
    wb_addr a;
    uint8_t ip[16];
    int port;
    if (addr_from(to, tolen, &a, ip, &port) != 0) return -1;
    __wasi_ciovec_t iov = {buf, len};
    uint32_t sent = 0;
    int32_t e = wb_sock_send_to(fd, &iov, 1, &a, port, 0, &sent);
    return e ? fail(e) : (ssize_t)sent;
}

ssize_t recvfrom(int fd, void *__restrict buf, size_t len, int flags,
                 struct sockaddr *__restrict from, socklen_t *__restrict fromlen) {
    if (flags & ~(MSG_PEEK | MSG_WAITALL)) return fail(EOPNOTSUPP);
    uint8_t storage[128] = {0};
    wb_addr a = {storage, sizeof storage};
    __wasi_iovec_t iov = {buf, len};
    uint16_t port = 0, roflags = 0;
    uint32_t got = 0;
    int32_t e = wb_sock_recv_from(fd, &iov, 1, &a, flags, &port, &got, &roflags);
    if (e) return fail(e);
    uint16_t family = (uint16_t)(storage[0] | storage[1] << 8);
    if (from && fromlen) {
        if (family == WB_AF_INET4 || family == WB_AF_INET6)
            addr_to(family == WB_AF_INET4 ? AF_INET : AF_INET6, storage + 2, port, from,
                    fromlen);
        else
            *fromlen = 0;
    }
    return (ssize_t)got;
}

/* ------------------------------------------------------------ options */

/* wasi-libc's option names to the ABI's; false when there is none. */
static bool opt_map(int level, int name, int32_t *wl, int32_t *wn) {
    if (level == IPPROTO_TCP && name == TCP_NODELAY) {
        *wl = 6;
        *wn = 1;
        return true;
    }
    if (level != SOL_SOCKET) return false;
    static const struct {
        int name, wasi;
    } map[] = {
        {SO_REUSEADDR, 0}, {SO_TYPE, 1},       {SO_ERROR, 2},     {SO_DONTROUTE, 3},
        {SO_BROADCAST, 4}, {SO_SNDBUF, 5},     {SO_RCVBUF, 6},    {SO_KEEPALIVE, 7},
        {SO_OOBINLINE, 8}, {SO_LINGER, 9},     {SO_RCVLOWAT, 10}, {SO_RCVTIMEO, 11},
        {SO_SNDTIMEO, 12}, {SO_ACCEPTCONN, 13}, {SO_BINDTODEVICE, 14},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].name == name) {
            *wl = 0;
            *wn = map[i].wasi;
            return true;
        }
    return false;
}

int setsockopt(int fd, int level, int name, const void *value, socklen_t len) {
    int32_t wl, wn;
    if (!opt_map(level, name, &wl, &wn)) return fail(ENOPROTOOPT);
    int32_t e = wb_sock_setsockopt(fd, wl, wn, value, len);
    return e ? fail(e) : 0;
}

int getsockopt(int fd, int level, int name, void *__restrict value, socklen_t *__restrict len) {
    int32_t wl, wn;
    if (!opt_map(level, name, &wl, &wn)) return fail(ENOPROTOOPT);
    if (!len) return fail(EFAULT);
    uint32_t l = *len;
    int32_t e = wb_sock_getsockopt(fd, wl, wn, value, &l);
    if (e) return fail(e);
    *len = l;
    /* The socket type comes back as the ABI's; errors are already errno
     * values. */
    if (wl == 0 && wn == 1 && l >= sizeof(int)) {
        int *t = value;
        *t = *t == WB_SOCK_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
    }
    return 0;
}

/* ------------------------------------------------------- getaddrinfo */

/* One result: the public struct and its address in one allocation. */
typedef struct gai_node {
    struct addrinfo ai;
    struct sockaddr_storage ss;
} gai_node;

static int gai_from_errno(int32_t e) {
    switch (e) {
    case 77: return EAI_ADDRFAMILY;
    case 78: return EAI_AGAIN;
    case 79: return EAI_BADFLAGS;
    case 80: return EAI_FAIL;
    case 81: return EAI_FAMILY;
    case 82: return EAI_MEMORY;
    case 83: return EAI_NODATA;
    case 84: return EAI_NONAME;
    case 85: return EAI_SERVICE;
    case 86: return EAI_SOCKTYPE;
    case ENOSYS: return EAI_SOCKTYPE;
    default: errno = e; return EAI_SYSTEM;
    }
}

int getaddrinfo(const char *__restrict node, const char *__restrict service,
                const struct addrinfo *__restrict hints, struct addrinfo **__restrict res) {
    if (!res) return EAI_SYSTEM;
    *res = NULL;
    wb_addrinfo h;
    memset(&h, 0, sizeof h);
    if (hints) {
        if (hints->ai_flags & ~0x7F) return EAI_BADFLAGS;
        h.flags = (uint16_t)hints->ai_flags;
        if (hints->ai_family == AF_INET) h.family = WB_AF_INET4;
        else if (hints->ai_family == AF_INET6) h.family = WB_AF_INET6;
        else if (hints->ai_family != AF_UNSPEC) return EAI_FAMILY;
        if (hints->ai_socktype == SOCK_STREAM) h.socktype = WB_SOCK_STREAM;
        else if (hints->ai_socktype == SOCK_DGRAM) h.socktype = WB_SOCK_DGRAM;
        else if (hints->ai_socktype != 0) return EAI_SOCKTYPE;
        if (hints->ai_protocol == IPPROTO_TCP) h.protocol = WB_PROTO_TCP;
        else if (hints->ai_protocol == IPPROTO_UDP) h.protocol = WB_PROTO_UDP;
        else if (hints->ai_protocol != 0) return EAI_SERVICE;
    }
    /* The host fills a chain the guest provides. */
    enum { MAX = WASMBOX_GAI_MAX, DATA = 26, CANON = 256 };
    struct {
        wb_addrinfo ai[MAX];
        wb_sockaddr sa[MAX];
        uint8_t data[MAX][DATA];
        char canon[CANON];
    } *scratch = calloc(1, sizeof *scratch);
    if (!scratch) return EAI_MEMORY;
    for (int i = 0; i < MAX; i++) {
        scratch->sa[i].data = scratch->data[i];
        scratch->sa[i].data_len = DATA;
        scratch->ai[i].addr = &scratch->sa[i];
        scratch->ai[i].canonname = i == 0 ? scratch->canon : NULL;
        scratch->ai[i].canonname_len = i == 0 ? CANON - 1 : 0;
        scratch->ai[i].next = i + 1 < MAX ? &scratch->ai[i + 1] : NULL;
    }
    wb_addrinfo *first = scratch->ai;
    uint32_t n = 0;
    int32_t e = wb_sock_getaddrinfo(node, node ? (uint32_t)strlen(node) + 1 : 0, service,
                                    service ? (uint32_t)strlen(service) + 1 : 0, &h, &first, MAX,
                                    &n);
    if (e) {
        free(scratch);
        return gai_from_errno(e);
    }
    struct addrinfo *head = NULL, **tail = &head;
    for (uint32_t i = 0; i < n && i < MAX; i++) {
        const wb_addrinfo *w = &scratch->ai[i];
        const wb_sockaddr *sa = w->addr;
        int family = sa->family == WB_AF_INET4 ? AF_INET : sa->family == WB_AF_INET6 ? AF_INET6 : -1;
        if (family < 0 || sa->data_len < (family == AF_INET ? 6u : 22u)) continue;
        gai_node *g = calloc(1, sizeof *g);
        if (!g) {
            freeaddrinfo(head);
            free(scratch);
            return EAI_MEMORY;
        }
        unsigned port = (unsigned)sa->data[0] << 8 | sa->data[1];
        socklen_t len = sizeof g->ss;
        addr_to(family, sa->data + (family == AF_INET ? 2 : 6), port, (struct sockaddr *)&g->ss,
                &len);
        g->ai.ai_flags = w->flags;
        g->ai.ai_family = family;
        g->ai.ai_socktype = w->socktype == WB_SOCK_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
        g->ai.ai_protocol = w->protocol == WB_PROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP;
        g->ai.ai_addrlen = len;
        g->ai.ai_addr = (struct sockaddr *)&g->ss;
        if (i == 0 && w->canonname_len > 0) {
            scratch->canon[w->canonname_len < CANON ? w->canonname_len : CANON - 1] = '\0';
            g->ai.ai_canonname = strdup(scratch->canon);
        }
        *tail = &g->ai;
        tail = &g->ai.ai_next;
    }
    free(scratch);
    if (!head) return EAI_NONAME;
    *res = head;
    return 0;
}

void freeaddrinfo(struct addrinfo *res) {
    while (res) {
        struct addrinfo *next = res->ai_next;
        free(res->ai_canonname);
        free(res); /* the gai_node starts with its addrinfo */
        res = next;
    }
}

const char *gai_strerror(int code) {
    switch (code) {
    case 0: return "Success";
    case EAI_BADFLAGS: return "Invalid flags";
    case EAI_NONAME: return "Name does not resolve";
    case EAI_AGAIN: return "Temporary failure in name resolution";
    case EAI_FAIL: return "Non-recoverable failure in name resolution";
    case EAI_NODATA: return "No address for the name";
    case EAI_FAMILY: return "Unrecognized address family or invalid length";
    case EAI_SOCKTYPE: return "Unrecognized socket type";
    case EAI_SERVICE: return "Unrecognized service";
    case EAI_ADDRFAMILY: return "Address family for the name not supported";
    case EAI_MEMORY: return "Out of memory";
    case EAI_SYSTEM: return "System error";
    case EAI_OVERFLOW: return "Overflow";
    default: return "Unknown error";
    }
}

int getnameinfo(const struct sockaddr *__restrict addr, socklen_t addrlen, char *__restrict host,
                socklen_t hostlen, char *__restrict serv, socklen_t servlen, int flags) {
    if (!addr) return EAI_FAMILY;
    if (flags & NI_NAMEREQD) return EAI_NONAME; /* no reverse lookups */
    const void *ip;
    unsigned port;
    if (addr->sa_family == AF_INET && addrlen >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        ip = &in->sin_addr;
        port = ntohs(in->sin_port);
    } else if (addr->sa_family == AF_INET6 && addrlen >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
        ip = &in6->sin6_addr;
        port = ntohs(in6->sin6_port);
    } else {
        return EAI_FAMILY;
    }
    if (host && hostlen > 0 && !inet_ntop(addr->sa_family, ip, host, hostlen))
        return EAI_OVERFLOW;
    if (serv && servlen > 0 && snprintf(serv, servlen, "%u", port) >= (int)servlen)
        return EAI_OVERFLOW;
    return 0;
}
