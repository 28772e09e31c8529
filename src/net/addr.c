/*
 * addr.c - host socket addresses taken apart and put together, one way
 * for the policy, the resolver and the WASI socket functions.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "net/net.h"

bool net_addr_split(const struct sockaddr *sa, int *family, const uint8_t **ip, size_t *iplen,
                    uint16_t *port) {
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        *ip = (const uint8_t *)&in->sin_addr;
        *iplen = 4;
        *port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        *ip = in6->sin6_addr.s6_addr;
        *iplen = 16;
        *port = ntohs(in6->sin6_port);
    } else {
        return false;
    }
    *family = sa->sa_family;
    return true;
}

socklen_t net_addr_make(int family, const uint8_t *ip, uint16_t port, struct sockaddr_storage *ss) {
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        memcpy(&in->sin_addr, ip, 4);
        return sizeof *in;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    memcpy(in6->sin6_addr.s6_addr, ip, 16);
    return sizeof *in6;
}

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

void net_v4_mapped(const uint8_t v4[4], uint8_t out[16]) {
    memcpy(out, v4_mapped_prefix, 12);
    memcpy(out + 12, v4, 4);
}

const uint8_t *net_v4_unmapped(const uint8_t v6[16]) {
    return memcmp(v6, v4_mapped_prefix, 12) == 0 ? v6 + 12 : NULL;
}

void net_format_addr(const struct sockaddr *sa, char *buf, size_t size) {
    char ip[INET6_ADDRSTRLEN] = "?";
    int family;
    const uint8_t *bytes;
    size_t len;
    uint16_t port;
    if (!net_addr_split(sa, &family, &bytes, &len, &port)) {
        snprintf(buf, size, "(address family %d)", (int)sa->sa_family);
        return;
    }
    inet_ntop(family, bytes, ip, sizeof ip);
    if (family == AF_INET6)
        snprintf(buf, size, "[%s]:%u", ip, (unsigned)port);
    else
        snprintf(buf, size, "%s:%u", ip, (unsigned)port);
}
