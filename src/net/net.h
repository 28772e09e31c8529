/*
 * net.h - the host side of guest networking (internal).
 *
 *   addr.c     host socket addresses taken apart and put together
 *   policy.c   which binds, connects and name lookups a guest may make
 *              (wb_wasi_net), and the one-line reports of refusals
 *   resolve.c  name resolution that works in a static binary inside a
 *              container: numeric addresses, the hosts file, DNS through
 *              the resolver configuration (libresolv, no NSS modules),
 *              and service names without /etc/services
 *
 * Addresses are kept as host sockaddrs (sockaddr_storage); the WASI layer
 * converts to and from the guest's layouts.
 */
#ifndef WASMBOX_NET_H
#define WASMBOX_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "wasmbox_wasi.h"

/* ------------------------------------------------------------- policy */

typedef struct net_policy {
    bool inherit;
    bool name_lookup;
    int nrules;
    wb_net_rule *rules; /* owned */
    int report_fd;
    unsigned reported;  /* refusals reported so far */
} net_policy;

/* Copies the embedder's settings; false when out of memory. */
bool net_policy_init(net_policy *p, const wb_wasi_net *cfg);
void net_policy_free(net_policy *p);
/* May the guest create sockets at all (some network granted)? */
bool net_policy_any(const net_policy *p);
/* May the guest do op (WB_NET_BIND or WB_NET_CONNECT) with this address?
 * IPv4-mapped IPv6 addresses are matched as IPv4. */
bool net_policy_allows(const net_policy *p, unsigned op, const struct sockaddr *sa);
/* Reports one refusal on report_fd ("wasmbox: network: ..."): the first
 * NET_REPORT_MAX ones, then one line saying the rest are not shown. */
void net_policy_report(net_policy *p, const char *what, const struct sockaddr *sa,
                       const char *why);
#define NET_REPORT_MAX 20

/* ---------------------------------------------------------- addresses */

/* The family (AF_INET or AF_INET6), the address bytes (4 or 16, inside
 * sa) and the port (host order) of sa; false for any other family. */
bool net_addr_split(const struct sockaddr *sa, int *family, const uint8_t **ip, size_t *iplen,
                    uint16_t *port);
/* Fills ss from a family, its 4 or 16 address bytes and a port (host
 * order); returns the address's length. */
socklen_t net_addr_make(int family, const uint8_t *ip, uint16_t port, struct sockaddr_storage *ss);
/* ::ffff:a.b.c.d from a.b.c.d. */
void net_v4_mapped(const uint8_t v4[4], uint8_t out[16]);
/* The IPv4 address inside an IPv4-mapped IPv6 one, or NULL. */
const uint8_t *net_v4_unmapped(const uint8_t v6[16]);
/* Formats "1.2.3.4:80" or "[::1]:80". */
void net_format_addr(const struct sockaddr *sa, char *buf, size_t size);

/* ------------------------------------------------------------ resolve */

typedef struct net_hints {
    int family;   /* AF_UNSPEC, AF_INET, AF_INET6 */
    int socktype; /* 0, SOCK_STREAM, SOCK_DGRAM */
    int protocol; /* 0, IPPROTO_TCP, IPPROTO_UDP */
    int flags;    /* AI_PASSIVE, AI_NUMERICHOST, AI_NUMERICSERV, AI_CANONNAME,
                   * AI_V4MAPPED, AI_ALL, AI_ADDRCONFIG (host values) */
} net_hints;

typedef struct net_result {
    int family, socktype, protocol;
    struct sockaddr_storage addr;
    socklen_t addrlen;
} net_result;

typedef struct net_results {
    net_result *items;
    size_t count;
    char *canonname; /* with AI_CANONNAME: the name as found, else NULL */
} net_results;

/* Resolves node and service like getaddrinfo(3): returns 0 or an EAI_*
 * code (host values). node NULL means the wildcard (AI_PASSIVE) or the
 * loopback address; service NULL means port 0. Names are looked up in the
 * hosts file, then through DNS (res_nsearch with the resolver
 * configuration); "localhost" and its subdomains are always loopback.
 * IPv4 answers come before IPv6 ones. *out is freed with
 * net_results_free. */
int net_resolve(const char *node, const char *service, const net_hints *hints,
                net_results *out);
void net_results_free(net_results *r);
/* A numeric address: IPv4 in any form inet_aton takes ("127.1" too, with
 * nothing after it), or IPv6. */
bool net_is_numeric(const char *node);
/* The port of a service: a number, or a name from the services file or
 * the built-in list of common ones; -1 when unknown. */
int net_service_port(const char *service, int socktype);

#endif /* WASMBOX_NET_H */
