/*
 * resolve.c - getaddrinfo for a static binary inside a container.
 *
 * glibc's getaddrinfo goes through NSS, which loads libnss_*.so at run
 * time: a static wasmbox in a container built FROM scratch has none, so
 * it would fail for every name. This resolver needs no module:
 *
 *   1. numeric addresses (inet_aton's IPv4 forms, inet_pton's IPv6);
 *   2. the hosts file (/etc/hosts: Docker bind-mounts the container's);
 *   3. "localhost" and *.localhost are loopback (RFC 6761);
 *   4. DNS with libresolv's res_nsearch, which reads /etc/resolv.conf
 *      (search domains, ndots, timeouts: Docker's embedded DNS server at
 *      127.0.0.11 answers Compose service names there).
 *
 * Service names come from /etc/services when it exists and otherwise
 * from a built-in list of the common ones. Results are IPv4 before IPv6.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/net.h"

#define NET_MAX_RESULTS 64

/* ------------------------------------------------------------ services */

static const struct {
    const char *name;
    uint16_t port;
} net_services[] = {
    {"ftp", 21},         {"ssh", 22},        {"telnet", 23},     {"smtp", 25},
    {"domain", 53},      {"http", 80},       {"www", 80},        {"pop3", 110},
    {"ntp", 123},        {"imap", 143},      {"imap2", 143},     {"ldap", 389},
    {"https", 443},      {"submission", 587}, {"ldaps", 636},    {"imaps", 993},
    {"pop3s", 995},      {"mysql", 3306},    {"postgresql", 5432}, {"postgres", 5432},
    {"amqp", 5672},      {"redis", 6379},    {"http-alt", 8080}, {"memcache", 11211},
    {"mongodb", 27017},
};

/* Looks service up in /etc/services for the protocol ("tcp"/"udp"). */
static int services_file_port(const char *service, const char *proto) {
    FILE *f = fopen("/etc/services", "re");
    if (!f) return -1;
    char line[512];
    int port = -1;
    while (port < 0 && fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *save = NULL;
        char *name = strtok_r(line, " \t\r\n", &save);
        char *pp = strtok_r(NULL, " \t\r\n", &save);
        if (!name || !pp) continue;
        char *slash = strchr(pp, '/');
        if (!slash || strcmp(slash + 1, proto) != 0) continue;
        *slash = '\0';
        bool match = strcmp(name, service) == 0;
        for (char *alias; !match && (alias = strtok_r(NULL, " \t\r\n", &save));)
            match = strcmp(alias, service) == 0;
        if (match) {
            long v = strtol(pp, NULL, 10);
            if (v >= 0 && v <= 65535) port = (int)v;
        }
    }
    fclose(f);
    return port;
}

int net_service_port(const char *service, int socktype) {
    if (!service || !*service) return 0;
    if (isdigit((unsigned char)service[0])) {
        char *end;
        errno = 0;
        long v = strtol(service, &end, 10);
        if (*end || errno || v < 0 || v > 65535) return -1;
        return (int)v;
    }
    int port = services_file_port(service, socktype == SOCK_DGRAM ? "udp" : "tcp");
    if (port >= 0) return port;
    for (size_t i = 0; i < sizeof net_services / sizeof net_services[0]; i++)
        if (strcmp(net_services[i].name, service) == 0) return net_services[i].port;
    return -1;
}

/* ------------------------------------------------------------- results */

typedef struct addr_one {
    int family; /* AF_INET or AF_INET6 */
    uint8_t ip[16];
} addr_one;

typedef struct addrs {
    addr_one items[NET_MAX_RESULTS];
    size_t count;
} addrs;

static void addrs_add(addrs *a, int family, const void *ip) {
    size_t len = family == AF_INET ? 4 : 16;
    for (size_t i = 0; i < a->count; i++)
        if (a->items[i].family == family && memcmp(a->items[i].ip, ip, len) == 0) return;
    if (a->count == NET_MAX_RESULTS) return;
    a->items[a->count].family = family;
    memset(a->items[a->count].ip, 0, 16);
    memcpy(a->items[a->count].ip, ip, len);
    a->count++;
}

static bool family_wanted(int want, int family) {
    return want == AF_UNSPEC || want == family;
}

/* ---------------------------------------------------------- hosts file */

static bool name_eq(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    /* A trailing dot (fully qualified) does not change the name. */
    if (la && a[la - 1] == '.') la--;
    if (lb && b[lb - 1] == '.') lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

/* Adds the hosts-file addresses of name; sets *canon to the entry's
 * canonical (first) name when found. */
static void hosts_lookup(const char *name, int family, addrs *out, char **canon) {
    FILE *f = fopen("/etc/hosts", "re");
    if (!f) return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        if (!strchr(line, '\n') && !feof(f)) {
            /* A line longer than the buffer: skip all of it. */
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n') {}
            continue;
        }
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *save = NULL;
        char *ip = strtok_r(line, " \t\r\n", &save);
        if (!ip) continue;
        char *first = NULL;
        bool match = false;
        for (char *n; (n = strtok_r(NULL, " \t\r\n", &save));) {
            if (!first) first = n;
            if (name_eq(n, name)) match = true;
        }
        if (!match) continue;
        uint8_t bin[16];
        if (inet_pton(AF_INET, ip, bin) == 1) {
            if (!family_wanted(family, AF_INET)) continue;
            addrs_add(out, AF_INET, bin);
        } else if (inet_pton(AF_INET6, ip, bin) == 1) {
            if (!family_wanted(family, AF_INET6)) continue;
            addrs_add(out, AF_INET6, bin);
        } else {
            continue;
        }
        if (canon && !*canon && first) *canon = strdup(first);
    }
    fclose(f);
}

/* ------------------------------------------------------------------ DNS */

static int dns_answer(res_state st, const char *name, int type, unsigned char *answer,
                      int size, addrs *out, char **canon);

/* Queries one record type; adds the addresses; returns 0 or an EAI code. */
static int dns_query(res_state st, const char *name, int type, addrs *out, char **canon) {
    /* Big enough for any answer (TCP's limit): res_nsearch retries over
     * TCP when a UDP answer was truncated. */
    enum { ANSWER_MAX = 65536 };
    unsigned char *answer = malloc(ANSWER_MAX);
    if (!answer) return EAI_MEMORY;
    int rc = dns_answer(st, name, type, answer, ANSWER_MAX, out, canon);
    free(answer);
    return rc;
}

static int dns_answer(res_state st, const char *name, int type, unsigned char *answer,
                      int size, addrs *out, char **canon) {
    int n = res_nsearch(st, name, ns_c_in, type, answer, size);
    if (n < 0) {
        switch (st->res_h_errno) {
        case HOST_NOT_FOUND: return EAI_NONAME;
        case NO_DATA: return EAI_NODATA;
        case NO_RECOVERY: return EAI_FAIL;
        default: return EAI_AGAIN; /* TRY_AGAIN, or no server answered */
        }
    }
    if (n > size) n = size;
    ns_msg msg;
    if (ns_initparse(answer, n, &msg) != 0) return EAI_FAIL;
    int count = ns_msg_count(msg, ns_s_an), found = 0;
    for (int i = 0; i < count; i++) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) break;
        if (ns_rr_class(rr) != ns_c_in || (int)ns_rr_type(rr) != type) continue;
        if (type == ns_t_a && ns_rr_rdlen(rr) == 4) {
            addrs_add(out, AF_INET, ns_rr_rdata(rr));
            found++;
        } else if (type == ns_t_aaaa && ns_rr_rdlen(rr) == 16) {
            addrs_add(out, AF_INET6, ns_rr_rdata(rr));
            found++;
        } else {
            continue;
        }
        if (canon && !*canon) *canon = strdup(ns_rr_name(rr));
    }
    return found ? 0 : EAI_NODATA;
}

static int dns_lookup(const char *name, int family, addrs *out, char **canon) {
    struct __res_state st;
    memset(&st, 0, sizeof st);
    if (res_ninit(&st) != 0) return EAI_FAIL;
    int e4 = EAI_NODATA, e6 = EAI_NODATA;
    if (family_wanted(family, AF_INET)) e4 = dns_query(&st, name, ns_t_a, out, canon);
    /* A name that does not exist has no AAAA either: ask once. */
    if (family_wanted(family, AF_INET6) && e4 != EAI_NONAME)
        e6 = dns_query(&st, name, ns_t_aaaa, out, canon);
    res_nclose(&st);
    if (out->count > 0) return 0;
    if (e4 == EAI_AGAIN || e6 == EAI_AGAIN) return EAI_AGAIN;
    if (e4 == EAI_FAIL || e6 == EAI_FAIL) return EAI_FAIL;
    if (e4 == EAI_NONAME || e6 == EAI_NONAME) return EAI_NONAME;
    return EAI_NODATA;
}

/* ------------------------------------------------------------- resolve */

/* A numeric IPv4 address in any form inet_aton takes ("127.1" too), with
 * nothing after it. */
static bool numeric_v4(const char *node, uint8_t out[4]) {
    struct in_addr in;
    if (strpbrk(node, " \t\r\n") || inet_aton(node, &in) == 0) return false;
    memcpy(out, &in, 4);
    return true;
}

bool net_is_numeric(const char *node) {
    uint8_t bin[16];
    return numeric_v4(node, bin) || inet_pton(AF_INET6, node, bin) == 1;
}

/* Keeps the IPv6 addresses and adds the IPv4 ones after them as
 * IPv4-mapped IPv6 ones: all of them with `all`, else only when there is
 * no IPv6 one. */
static void map_v4(addrs *a, bool all) {
    addrs *in = malloc(sizeof *in);
    if (!in) return; /* then the IPv4 ones are simply left out */
    *in = *a;
    a->count = 0;
    for (size_t i = 0; i < in->count; i++)
        if (in->items[i].family == AF_INET6) addrs_add(a, AF_INET6, in->items[i].ip);
    if (all || a->count == 0) {
        for (size_t i = 0; i < in->count; i++) {
            if (in->items[i].family != AF_INET) continue;
            uint8_t mapped[16];
            net_v4_mapped(in->items[i].ip, mapped);
            addrs_add(a, AF_INET6, mapped);
        }
    }
    free(in);
}

static bool is_localhost(const char *name) {
    size_t n = strlen(name);
    if (n && name[n - 1] == '.') n--;
    if (n == 9 && strncasecmp(name, "localhost", 9) == 0) return true;
    return n > 10 && strncasecmp(name + n - 10, ".localhost", 10) == 0;
}

void net_results_free(net_results *r) {
    if (!r) return;
    free(r->items);
    free(r->canonname);
    memset(r, 0, sizeof *r);
}

int net_resolve(const char *node, const char *service, const net_hints *hints,
                net_results *out) {
    memset(out, 0, sizeof *out);
    net_hints h = {AF_UNSPEC, 0, 0, 0};
    if (hints) h = *hints;
    if (h.family != AF_UNSPEC && h.family != AF_INET && h.family != AF_INET6) return EAI_FAMILY;
    if (h.socktype != 0 && h.socktype != SOCK_STREAM && h.socktype != SOCK_DGRAM)
        return EAI_SOCKTYPE;
    if (h.protocol != 0 && h.protocol != IPPROTO_TCP && h.protocol != IPPROTO_UDP)
        return EAI_SERVICE;
    if ((h.socktype == SOCK_STREAM && h.protocol == IPPROTO_UDP) ||
        (h.socktype == SOCK_DGRAM && h.protocol == IPPROTO_TCP))
        return EAI_SERVICE;
    if ((!node || !*node) && (!service || !*service)) return EAI_NONAME;
    if (node && !*node) return EAI_NONAME; /* as glibc: "" names nothing */

    int port = 0;
    if (service && *service) {
        if ((h.flags & AI_NUMERICSERV) && !isdigit((unsigned char)service[0])) return EAI_NONAME;
        port = net_service_port(service, h.socktype);
        if (port < 0) return EAI_SERVICE;
    }

    addrs *found = calloc(1, sizeof *found);
    if (!found) return EAI_MEMORY;
    char *canon = NULL;
    char **want_canon = (h.flags & AI_CANONNAME) ? &canon : NULL;
    int rc = 0;
    uint8_t bin[16];
    if (!node) {
        bool passive = (h.flags & AI_PASSIVE) != 0;
        if (family_wanted(h.family, AF_INET)) {
            in_addr_t v4 = htonl(passive ? INADDR_ANY : INADDR_LOOPBACK);
            addrs_add(found, AF_INET, &v4);
        }
        if (family_wanted(h.family, AF_INET6))
            addrs_add(found, AF_INET6, passive ? &in6addr_any : &in6addr_loopback);
    } else if (numeric_v4(node, bin)) {
        if (h.family == AF_INET6) {
            if (!(h.flags & AI_V4MAPPED)) rc = EAI_ADDRFAMILY;
            uint8_t mapped[16];
            net_v4_mapped(bin, mapped);
            if (!rc) addrs_add(found, AF_INET6, mapped);
        } else {
            addrs_add(found, AF_INET, bin);
        }
        if (want_canon && !rc) canon = strdup(node);
    } else if (inet_pton(AF_INET6, node, bin) == 1) {
        if (h.family == AF_INET)
            rc = EAI_ADDRFAMILY;
        else
            addrs_add(found, AF_INET6, bin);
        if (want_canon && !rc) canon = strdup(node);
    } else if (h.flags & AI_NUMERICHOST) {
        rc = EAI_NONAME;
    } else if (strlen(node) > 253 + (node[strlen(node) - 1] == '.')) {
        rc = EAI_NONAME;
    } else {
        /* IPv6 with AI_V4MAPPED also takes IPv4 answers, as mapped
         * addresses: when there is no IPv6 one, or always with AI_ALL. */
        bool mapped = h.family == AF_INET6 && (h.flags & AI_V4MAPPED);
        int family = mapped ? AF_UNSPEC : h.family;
        hosts_lookup(node, family, found, want_canon);
        if (found->count == 0 && is_localhost(node)) {
            if (family_wanted(family, AF_INET)) {
                in_addr_t v4 = htonl(INADDR_LOOPBACK);
                addrs_add(found, AF_INET, &v4);
            }
            if (family_wanted(family, AF_INET6)) addrs_add(found, AF_INET6, &in6addr_loopback);
            if (want_canon && !canon) canon = strdup(node);
        }
        if (found->count == 0) rc = dns_lookup(node, family, found, want_canon);
        if (mapped) map_v4(found, (h.flags & AI_ALL) != 0);
    }
    if (!rc && found->count == 0) rc = EAI_NONAME;
    if (rc) {
        free(found);
        free(canon);
        return rc;
    }

    /* One result per address and socket type asked for (both when none):
     * IPv4 first, then IPv6, each in the order found. */
    int types[2][2] = {{SOCK_STREAM, IPPROTO_TCP}, {SOCK_DGRAM, IPPROTO_UDP}};
    size_t ntypes = 2, first_type = 0;
    if (h.socktype == SOCK_DGRAM || h.protocol == IPPROTO_UDP) first_type = 1;
    if (h.socktype || h.protocol) ntypes = 1;
    out->items = calloc(found->count * ntypes, sizeof *out->items);
    if (!out->items) {
        free(found);
        free(canon);
        return EAI_MEMORY;
    }
    static const int order[2] = {AF_INET, AF_INET6};
    for (int o = 0; o < 2; o++) {
        for (size_t i = 0; i < found->count; i++) {
            const addr_one *a = &found->items[i];
            if (a->family != order[o]) continue;
            for (size_t t = first_type; t < first_type + ntypes; t++) {
                net_result *r = &out->items[out->count++];
                r->family = a->family;
                r->socktype = types[t][0];
                r->protocol = types[t][1];
                r->addrlen = net_addr_make(a->family, a->ip, (uint16_t)port, &r->addr);
            }
        }
    }
    out->canonname = canon;
    free(found);
    return 0;
}
