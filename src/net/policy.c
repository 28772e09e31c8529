/*
 * policy.c - which binds, connects and name lookups a guest may make.
 *
 * The standalone default is no network at all. `inherit` grants every
 * bind and connect in the caller's network namespace (what a container
 * gets: its namespace is the wall); rules grant address ranges and ports
 * for one operation each. Rules are matched on the address the guest
 * names, after unwrapping IPv4-mapped IPv6 addresses, so that
 * "::ffff:10.0.0.1" cannot slip past a rule about 10.0.0.0/8.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net.h"

bool net_policy_init(net_policy *p, const wb_wasi_net *cfg) {
    memset(p, 0, sizeof *p);
    p->report_fd = -1;
    if (!cfg) return true;
    p->inherit = cfg->inherit;
    p->name_lookup = cfg->name_lookup;
    p->report_fd = cfg->report_fd;
    if (cfg->nrules > 0 && cfg->rules) {
        p->rules = calloc((size_t)cfg->nrules, sizeof *p->rules);
        if (!p->rules) return false;
        memcpy(p->rules, cfg->rules, (size_t)cfg->nrules * sizeof *p->rules);
        p->nrules = cfg->nrules;
    }
    return true;
}

void net_policy_free(net_policy *p) {
    free(p->rules);
    p->rules = NULL;
    p->nrules = 0;
}

bool net_policy_any(const net_policy *p) { return p->inherit || p->nrules > 0; }

/* The address as (family 4 or 6, bytes, port), IPv4-mapped unwrapped. */
static bool addr_parts(const struct sockaddr *sa, int *family, const uint8_t **ip,
                       uint16_t *port) {
    int af;
    size_t len;
    if (!net_addr_split(sa, &af, ip, &len, port)) return false;
    const uint8_t *v4 = af == AF_INET6 ? net_v4_unmapped(*ip) : NULL;
    if (v4) *ip = v4;
    *family = af == AF_INET || v4 ? 4 : 6;
    return true;
}

static bool prefix_match(const uint8_t *a, const uint8_t *net, unsigned prefix) {
    unsigned full = prefix / 8, rest = prefix % 8;
    if (memcmp(a, net, full) != 0) return false;
    if (rest == 0) return true;
    uint8_t mask = (uint8_t)(0xFF00u >> rest);
    return (a[full] & mask) == (net[full] & mask);
}

bool net_policy_allows(const net_policy *p, unsigned op, const struct sockaddr *sa) {
    if (p->inherit) return true;
    int family;
    const uint8_t *ip;
    uint16_t port;
    if (!addr_parts(sa, &family, &ip, &port)) return false;
    /* Linux sends to the unspecified address on the local host: a connect
     * to 0.0.0.0 or :: is matched as one to 127.0.0.1 or ::1. */
    static const uint8_t zero[16], lo4[4] = {127, 0, 0, 1},
                         lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (op == WB_NET_CONNECT && memcmp(ip, zero, family == 4 ? 4 : 16) == 0)
        ip = family == 4 ? lo4 : lo6;
    for (int i = 0; i < p->nrules; i++) {
        const wb_net_rule *r = &p->rules[i];
        if (!(r->ops & op) || r->family != family) continue;
        if (port < r->port_min || port > r->port_max) continue;
        if (prefix_match(ip, r->addr, r->prefix)) return true;
    }
    return false;
}

void net_policy_report(net_policy *p, const char *what, const struct sockaddr *sa,
                       const char *why) {
    if (p->report_fd < 0 || p->reported > NET_REPORT_MAX) return;
    char line[300], addr[80] = "";
    if (sa) net_format_addr(sa, addr, sizeof addr);
    int n;
    if (p->reported == NET_REPORT_MAX)
        n = snprintf(line, sizeof line, "wasmbox: network: further refusals are not shown\n");
    else
        n = snprintf(line, sizeof line, "wasmbox: network: %s%s%s refused: %s\n", what,
                     sa ? " " : "", addr, why);
    p->reported++;
    if (n <= 0) return;
    if ((size_t)n >= sizeof line) n = (int)sizeof line - 1;
    ssize_t w;
    do {
        w = write(p->report_fd, line, (size_t)n);
    } while (w < 0 && errno == EINTR);
}

/* ------------------------------------------------------ rule parsing */

static int rule_fail(wb_error *err, const char *spec, const char *why) {
    if (err) {
        wb_error_clear(err);
        err->status = WB_ERR_ARG;
        snprintf(err->message, sizeof err->message, "network rule '%s': %s", spec, why);
    }
    return 0;
}

static bool parse_port(const char *s, const char *end, uint16_t *out) {
    if (s == end || end - s > 5) return false;
    unsigned v = 0;
    for (const char *c = s; c < end; c++) {
        if (*c < '0' || *c > '9') return false;
        v = v * 10 + (unsigned)(*c - '0');
    }
    if (v > 65535) return false;
    *out = (uint16_t)v;
    return true;
}

int wb_net_rule_parse(const char *spec, wb_net_rule out[2], wb_error *err) {
    if (!spec || !out) return rule_fail(err, spec ? spec : "(null)", "no rule given");
    const char *colon = strchr(spec, ':');
    if (!colon) return rule_fail(err, spec, "expected bind:CIDR[:PORTS] or connect:CIDR[:PORTS]");
    wb_net_rule r;
    memset(&r, 0, sizeof r);
    /* Operations: "bind", "connect" or both, comma-separated. */
    for (const char *w = spec; w < colon;) {
        const char *e = w;
        while (e < colon && *e != ',') e++;
        size_t n = (size_t)(e - w);
        if (n == 4 && strncmp(w, "bind", 4) == 0)
            r.ops |= WB_NET_BIND;
        else if (n == 7 && strncmp(w, "connect", 7) == 0)
            r.ops |= WB_NET_CONNECT;
        else
            return rule_fail(err, spec, "the operation must be bind, connect or bind,connect");
        w = e < colon ? e + 1 : e;
    }
    const char *a = colon + 1;
    const char *ports = NULL, *aend;
    char ip[INET6_ADDRSTRLEN + 1];
    bool star = false;
    if (*a == '[') {
        const char *close = strchr(a, ']');
        if (!close) return rule_fail(err, spec, "an IPv6 address needs its closing ']'");
        if ((size_t)(close - a - 1) >= sizeof ip) return rule_fail(err, spec, "address too long");
        memcpy(ip, a + 1, (size_t)(close - a - 1));
        ip[close - a - 1] = '\0';
        if (inet_pton(AF_INET6, ip, r.addr) != 1)
            return rule_fail(err, spec, "not an IPv6 address");
        r.family = 6;
        aend = close + 1;
    } else {
        aend = a;
        while (*aend && *aend != '/' && *aend != ':') aend++;
        if ((size_t)(aend - a) >= sizeof ip) return rule_fail(err, spec, "address too long");
        memcpy(ip, a, (size_t)(aend - a));
        ip[aend - a] = '\0';
        if (strcmp(ip, "*") == 0) {
            star = true;
        } else if (inet_pton(AF_INET, ip, r.addr) == 1) {
            r.family = 4;
        } else {
            return rule_fail(err, spec,
                             "not an IPv4 address (write IPv6 in brackets: [::1]/128)");
        }
    }
    r.prefix = star ? 0 : (r.family == 4 ? 32 : 128);
    if (*aend == '/') {
        if (star) return rule_fail(err, spec, "'*' takes no prefix length");
        const char *p = aend + 1, *pe = p;
        while (*pe >= '0' && *pe <= '9') pe++;
        if (pe == p || pe - p > 3) return rule_fail(err, spec, "bad prefix length");
        unsigned v = (unsigned)atoi(p);
        if (v > r.prefix) return rule_fail(err, spec, "prefix length out of range");
        r.prefix = v;
        aend = pe;
    }
    r.port_min = 0;
    r.port_max = 65535;
    if (*aend == ':') {
        ports = aend + 1;
        const char *dash = strchr(ports, '-');
        const char *end = ports + strlen(ports);
        if (dash) {
            if (!parse_port(ports, dash, &r.port_min) || !parse_port(dash + 1, end, &r.port_max))
                return rule_fail(err, spec, "bad port range (expected N or N-M, 0..65535)");
        } else {
            if (!parse_port(ports, end, &r.port_min))
                return rule_fail(err, spec, "bad port (expected N or N-M, 0..65535)");
            r.port_max = r.port_min;
        }
        if (r.port_min > r.port_max) return rule_fail(err, spec, "empty port range");
    } else if (*aend != '\0') {
        return rule_fail(err, spec, "unexpected text after the address");
    }
    /* Host bits set below the prefix are cleared: 10.1.2.3/8 is 10/8. */
    for (unsigned bit = r.prefix; bit < 128; bit++) r.addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
    if (!star) {
        out[0] = r;
        return 1;
    }
    r.family = 4;
    out[0] = r;
    r.family = 6;
    out[1] = r;
    return 2;
}
