/*
 * getaddrinfo.c - WasmEdge's sock_getaddrinfo(node, node_len, service,
 * service_len, hints, res, max_res_len, ro_res_len).
 *
 * The guest allocates everything: a chain of max_res_len 28-byte addrinfo
 * nodes (linked by ai_next, the first one's address stored at `res`),
 * each pointing at a 12-byte sockaddr with its own sa_data buffer and at
 * a canonname buffer. The host fills values in and never writes a
 * pointer. Unlike WasmEdge it writes no byte beyond a capacity the guest
 * declared: a result whose address does not fit its sa_data is left out,
 * and the canonical name is cut to its buffer.
 *
 *   addrinfo (28): flags u16 @0, family u8 @2, socktype u8 @3,
 *                  protocol u8 @4, addrlen u32 @8, addr ptr @12,
 *                  canonname ptr @16, canonname_len u32 @20, next ptr @24
 *   sockaddr (12): family u8 @0, sa_data_len u32 @4, sa_data ptr @8
 *   sa_data:       port (big-endian u16), then the IPv4 address (14 bytes
 *                  in all) or flowinfo, the IPv6 address and scope id (26)
 *
 * Names are looked up only with the policy's name_lookup; without it,
 * numeric hosts still resolve (nothing is asked of the outside).
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "wasi/wasi_impl.h"

#define AI_SIZE 28
#define SA_SIZE 12
#define NODE_MAX 1024   /* longest host name accepted (DNS allows 253) */
#define SERVICE_MAX 256
#define CHAIN_MAX 128   /* at most 64 addresses, each as stream and datagram */

/* WasmEdge's `__wasi_aiflags_t` bits. */
#define WASI_AI_PASSIVE 0x01u
#define WASI_AI_CANONNAME 0x02u
#define WASI_AI_NUMERICHOST 0x04u
#define WASI_AI_NUMERICSERV 0x08u
#define WASI_AI_V4MAPPED 0x10u
#define WASI_AI_ALL 0x20u
#define WASI_AI_ADDRCONFIG 0x40u
#define WASI_AI_ALL_FLAGS 0x7Fu

/* WasmEdge's errno values for getaddrinfo failures (after 76). */
enum {
    WASI_EAI_ADDRFAMILY = 77, WASI_EAI_AGAIN, WASI_EAI_BADFLAGS, WASI_EAI_FAIL,
    WASI_EAI_FAMILY, WASI_EAI_MEMORY, WASI_EAI_NODATA, WASI_EAI_NONAME,
    WASI_EAI_SERVICE, WASI_EAI_SOCKTYPE, WASI_EAI_SYSTEM,
};

/* One node of the guest's result chain, as checked: the node, its
 * sockaddr, sa_data and its capacity, the canonname buffer and its. */
typedef struct gai_node {
    uint64_t at, sa, data, cap, cname, ccap;
} gai_node;

static int32_t wasi_eai(int eai) {
    switch (eai) {
    case EAI_ADDRFAMILY: return WASI_EAI_ADDRFAMILY;
    case EAI_AGAIN: return WASI_EAI_AGAIN;
    case EAI_BADFLAGS: return WASI_EAI_BADFLAGS;
    case EAI_FAIL: return WASI_EAI_FAIL;
    case EAI_FAMILY: return WASI_EAI_FAMILY;
    case EAI_MEMORY: return WASI_EAI_MEMORY;
    case EAI_NODATA: return WASI_EAI_NODATA;
    case EAI_NONAME: return WASI_EAI_NONAME;
    case EAI_SERVICE: return WASI_EAI_SERVICE;
    case EAI_SOCKTYPE: return WASI_EAI_SOCKTYPE;
    default: return WASI_EAI_SYSTEM;
    }
}

/* Copies a guest string of at most max bytes that ends at its first NUL
 * or at len; len 0 is "not given" (NULL). */
static int32_t guest_string(const wasi_mem *m, uint64_t ptr, uint64_t len, char *out, size_t max,
                            const char **res) {
    *res = NULL;
    if (len == 0) return WASI_ESUCCESS;
    if (!wasi_in_bounds(m, ptr, len)) return WASI_EFAULT;
    const uint8_t *s = m->base + ptr;
    const uint8_t *nul = memchr(s, 0, (size_t)len);
    size_t n = nul ? (size_t)(nul - s) : (size_t)len;
    if (n >= max) return WASI_EAI_NONAME;
    memcpy(out, s, n);
    out[n] = '\0';
    *res = out;
    return WASI_ESUCCESS;
}

int32_t wasi_sock_getaddrinfo(wb_wasi *w, const wasi_mem *m, const wb_val *a) {
    uint64_t node_ptr = wasi_arg_u32(&a[0]), node_len = wasi_arg_u32(&a[1]);
    uint64_t svc_ptr = wasi_arg_u32(&a[2]), svc_len = wasi_arg_u32(&a[3]);
    uint64_t hints_ptr = wasi_arg_u32(&a[4]), res_ptr = wasi_arg_u32(&a[5]);
    uint64_t max = wasi_arg_u32(&a[6]), res_len_ptr = wasi_arg_u32(&a[7]);

    char node_buf[NODE_MAX], svc_buf[SERVICE_MAX];
    const char *node, *service;
    int32_t err = guest_string(m, node_ptr, node_len, node_buf, sizeof node_buf, &node);
    if (err) return err;
    err = guest_string(m, svc_ptr, svc_len, svc_buf, sizeof svc_buf, &service);
    if (err) return err;
    if (!wasi_in_bounds(m, hints_ptr, AI_SIZE) || !wasi_in_bounds(m, res_ptr, 4) ||
        !wasi_in_bounds(m, res_len_ptr, 4))
        return WASI_EFAULT;
    if (!node && !service) return WASI_EAI_NONAME;
    if (max < 1) return WASI_EAI_MEMORY;

    uint32_t hflags = wasi_load_u16(m, hints_ptr);
    uint8_t hfamily = m->base[hints_ptr + 2], htype = m->base[hints_ptr + 3];
    uint8_t hproto = m->base[hints_ptr + 4];
    if (hflags & ~WASI_AI_ALL_FLAGS) return WASI_EAI_BADFLAGS;
    if ((hflags & WASI_AI_CANONNAME) && (!node || !*node)) return WASI_EAI_BADFLAGS;
    net_hints h;
    switch (hfamily) {
    case WASI_AF_UNSPEC: h.family = AF_UNSPEC; break;
    case WASI_AF_INET4: h.family = AF_INET; break;
    case WASI_AF_INET6: h.family = AF_INET6; break;
    default: return WASI_EAI_FAMILY;
    }
    switch (htype) {
    case WASI_SOCK_ANY: h.socktype = 0; break;
    case WASI_SOCK_DGRAM: h.socktype = SOCK_DGRAM; break;
    case WASI_SOCK_STREAM: h.socktype = SOCK_STREAM; break;
    default: return WASI_ENOSYS;
    }
    switch (hproto) {
    case WASI_PROTO_IP: h.protocol = 0; break;
    case WASI_PROTO_TCP: h.protocol = IPPROTO_TCP; break;
    case WASI_PROTO_UDP: h.protocol = IPPROTO_UDP; break;
    default: return WASI_ENOSYS;
    }
    h.flags = 0;
    if (hflags & WASI_AI_PASSIVE) h.flags |= AI_PASSIVE;
    if (hflags & WASI_AI_CANONNAME) h.flags |= AI_CANONNAME;
    if (hflags & WASI_AI_NUMERICHOST) h.flags |= AI_NUMERICHOST;
    if (hflags & WASI_AI_NUMERICSERV) h.flags |= AI_NUMERICSERV;
    if (hflags & WASI_AI_V4MAPPED) h.flags |= AI_V4MAPPED;
    if (hflags & WASI_AI_ALL) h.flags |= AI_ALL;
    if (hflags & WASI_AI_ADDRCONFIG) h.flags |= AI_ADDRCONFIG;

    /* The nodes that can receive a result, each checked before anything
     * is resolved and remembered as checked: the writes below use only
     * these values, never one read again from guest memory (a guest
     * buffer may overlap another's pointer, and writing one would change
     * the other). At most CHAIN_MAX nodes (no lookup gives more results);
     * the walk ends at a null ai_next and where the chain loops back (as
     * dispatchrun/net's Go library builds it). */
    gai_node nodes[CHAIN_MAX];
    size_t nnodes = 0;
    uint64_t at = wasi_load_u32(m, res_ptr);
    while (nnodes < max && nnodes < CHAIN_MAX && (nnodes == 0 || at != 0)) {
        bool seen = false;
        for (size_t k = 0; k < nnodes && !seen; k++) seen = nodes[k].at == at;
        if (seen) break;
        gai_node *g = &nodes[nnodes];
        if (!wasi_in_bounds(m, at, AI_SIZE)) return WASI_EFAULT;
        g->at = at;
        g->sa = wasi_load_u32(m, at + 12);
        if (!wasi_in_bounds(m, g->sa, SA_SIZE)) return WASI_EFAULT;
        g->data = wasi_load_u32(m, g->sa + 8);
        g->cap = wasi_load_u32(m, g->sa + 4);
        g->cname = wasi_load_u32(m, at + 16);
        g->ccap = wasi_load_u32(m, at + 20);
        if (!wasi_in_bounds(m, g->data, g->cap) || !wasi_in_bounds(m, g->cname, g->ccap))
            return WASI_EFAULT;
        nnodes++;
        at = wasi_load_u32(m, at + 24);
    }

    if (node && *node && !w->net.name_lookup && !(hflags & WASI_AI_NUMERICHOST) &&
        !net_is_numeric(node)) {
        char what[NODE_MAX + 32];
        snprintf(what, sizeof what, "name lookup of '%s'", node);
        net_policy_report(&w->net, what, NULL,
                          "name lookups are not granted (--allow-ip-name-lookup grants them)");
        return WASI_EACCES;
    }
    net_results res;
    int eai = net_resolve(node, service, &h, &res);
    if (eai) return wasi_eai(eai);

    uint32_t written = 0;
    for (size_t i = 0; i < res.count && written < nnodes; i++) {
        const net_result *r = &res.items[i];
        const gai_node *g = &nodes[written];
        uint8_t bytes[26];
        uint32_t nbytes;
        memset(bytes, 0, sizeof bytes);
        if (r->family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)&r->addr;
            memcpy(bytes, &in->sin_port, 2); /* network order */
            memcpy(bytes + 2, &in->sin_addr, 4);
            nbytes = 14;
        } else {
            const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&r->addr;
            memcpy(bytes, &in6->sin6_port, 2);
            memcpy(bytes + 2, &in6->sin6_flowinfo, 4);
            memcpy(bytes + 6, in6->sin6_addr.s6_addr, 16);
            memcpy(bytes + 22, &in6->sin6_scope_id, 4);
            nbytes = 26;
        }
        if (g->cap < nbytes) continue; /* does not fit what the guest gave */
        uint8_t wfamily = r->family == AF_INET ? WASI_AF_INET4 : WASI_AF_INET6;
        wasi_store_u16(m, g->at, (uint16_t)hflags);
        m->base[g->at + 2] = wfamily;
        m->base[g->at + 3] = r->socktype == SOCK_DGRAM ? WASI_SOCK_DGRAM : WASI_SOCK_STREAM;
        m->base[g->at + 4] = r->protocol == IPPROTO_UDP ? WASI_PROTO_UDP : WASI_PROTO_TCP;
        wasi_store_u32(m, g->at + 8, (uint32_t)r->addrlen);
        m->base[g->sa] = wfamily;
        memcpy(m->base + g->data, bytes, nbytes);
        wasi_store_u32(m, g->sa + 4, nbytes);
        /* The canonical name with the first result written, cut to its
         * buffer (with its NUL when there is room for it). */
        uint32_t clen = 0;
        if (written == 0 && res.canonname && g->ccap > 0) {
            size_t n = strlen(res.canonname);
            if (n > g->ccap) n = (size_t)g->ccap;
            memcpy(m->base + g->cname, res.canonname, n);
            if (n < g->ccap) m->base[g->cname + n] = 0;
            clen = (uint32_t)n;
        }
        wasi_store_u32(m, g->at + 20, clen);
        written++;
    }
    net_results_free(&res);
    wasi_store_u32(m, res_len_ptr, written);
    return written ? WASI_ESUCCESS : WASI_EAI_NODATA;
}
