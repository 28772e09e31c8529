/*
 * fuzz_sockabi.c - libFuzzer target: WasmEdge's socket ABI (the host side,
 * src/wasi/sock.c, sockio.c, getaddrinfo.c) called with arbitrary
 * arguments over an arbitrary guest memory.
 *
 * An input is the first bytes of a 64 KiB guest memory (the rest zero)
 * followed by calls: one byte picking the function, then eight
 * little-endian u32 arguments. The memory is a heap block of exactly its
 * size, so AddressSanitizer reports any host read or write outside it, the
 * bug class this target exists for (a guest pointer or length used
 * unchecked, or re-read after the host wrote guest memory).
 *
 * Each input gets a fresh WASI context whose policy grants bind and
 * connect on 127.0.0.1 only and no name lookups: sockets are real, traffic
 * stays on loopback, and no DNS query is ever made. Every socket is made
 * non-blocking after each call, so nothing waits.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wasi/wasi_impl.h"

#define MEM_SIZE 65536u
#define CALL_SIZE 33u /* function byte + 8 x u32 */
#define MAX_CALLS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const wasi_fn calls[] = {
    wasi_sock_open,          wasi_sock_bind,           wasi_sock_connect,
    wasi_sock_listen_fn,     wasi_sock_accept,         wasi_sock_accept_v1,
    wasi_sock_recv,          wasi_sock_recv_from_v1,   wasi_sock_recv_from_v2,
    wasi_sock_send,          wasi_sock_send_to,        wasi_sock_shutdown,
    wasi_sock_getlocaladdr_v1, wasi_sock_getlocaladdr_v2, wasi_sock_getpeeraddr_v1,
    wasi_sock_getpeeraddr_v2, wasi_sock_getsockopt,    wasi_sock_setsockopt,
    wasi_sock_getaddrinfo,   wasi_fd_close,            wasi_fd_fdstat_get,
};
#define NCALLS (sizeof calls / sizeof calls[0])

static uint32_t u32_at(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* No call may block the fuzzer: every socket in the table, non-blocking. */
static void unblock_all(wb_wasi *w) {
    for (uint32_t i = 0; i < w->nfds; i++) {
        wasi_fd *f = &w->fds[i];
        if (!f->used || f->host < 0 ||
            (f->type != WASI_FILETYPE_SOCKET_STREAM && f->type != WASI_FILETYPE_SOCKET_DGRAM))
            continue;
        int fl = fcntl(f->host, F_GETFL);
        if (fl >= 0 && !(fl & O_NONBLOCK)) fcntl(f->host, F_SETFL, fl | O_NONBLOCK);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* The memory image: how many bytes of it the input gives (u16), them,
     * then the calls. */
    if (size < 2) return 0;
    size_t image = (size_t)(data[0] | data[1] << 8);
    data += 2;
    size -= 2;
    if (image > size) image = size;
    uint8_t *mem = calloc(1, MEM_SIZE);
    if (!mem) return 0;
    memcpy(mem, data, image);
    data += image;
    size -= image;

    wb_net_rule rules[1];
    memset(rules, 0, sizeof rules);
    rules[0].ops = WB_NET_BIND | WB_NET_CONNECT;
    rules[0].family = 4;
    rules[0].addr[0] = 127;
    rules[0].addr[3] = 1;
    rules[0].prefix = 32;
    rules[0].port_max = 65535;
    wb_wasi_config cfg;
    wb_wasi_config_default(&cfg);
    cfg.net.nrules = 1;
    cfg.net.rules = rules;
    cfg.net.report_fd = -1;
    wb_wasi *w = NULL;
    if (wb_wasi_new(&cfg, &w, NULL) != WB_OK) {
        free(mem);
        return 0;
    }
    wasi_mem m = {mem, MEM_SIZE};
    for (size_t n = 0; n < MAX_CALLS && size >= CALL_SIZE; n++, data += CALL_SIZE, size -= CALL_SIZE) {
        wb_val args[8];
        for (int i = 0; i < 8; i++) args[i] = WB_VAL_I32((int32_t)u32_at(data + 1 + 4 * i));
        calls[data[0] % NCALLS](w, &m, args);
        unblock_all(w);
    }
    wb_wasi_delete(w);
    free(mem);
    return 0;
}
