/*
 * wasmbox_wasi.h - the WASI preview1 host (`wasi_snapshot_preview1`).
 *
 * Objects and ownership:
 *
 *   wb_wasi      the state one guest sees through WASI: its arguments, its
 *                environment and the host descriptors behind its standard
 *                streams. Owned by the caller: wb_wasi_new / wb_wasi_delete.
 *                Everything in the config is copied, so the config and its
 *                strings may be freed once wb_wasi_new returns.
 *                The functions defined by wb_wasi_define keep a pointer to
 *                the wb_wasi, so it must outlive the store they live in
 *                (delete the store first, then the wb_wasi).
 *
 * The guest sees only what the config gives it: no host environment
 * variable leaks in, no file outside the preopened directories can be
 * reached, and no network but the listening sockets given and what
 * cfg.net grants.
 *
 * Every function of the preview1 interface is implemented (docs/wasi.md);
 * proc_raise answers ENOSYS (52), as most runtimes do.
 *
 * Guest descriptors: 0, 1, 2 are the standard streams, then one per
 * preopen in config order (3, 4, ...), then one per listening socket.
 */
#ifndef WASMBOX_WASI_H
#define WASMBOX_WASI_H

#include "wasmbox.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The module name every preview1 import uses. */
#define WB_WASI_MODULE "wasi_snapshot_preview1"

/* A host directory the guest may use, under the name guest_path (what
 * fd_prestat_dir_name reports, e.g. "/" or "data"). With read_only, nothing
 * beneath it can be created, changed, renamed or removed (EROFS). */
typedef struct wb_wasi_preopen {
    const char *host_path;
    const char *guest_path;
    bool read_only;
} wb_wasi_preopen;

/* A listening TCP socket handed to the guest (sock_accept). Either address
 * "HOST:PORT" (IPv4 or [IPv6]; wasmbox binds and listens with
 * SO_REUSEADDR) or, when address is NULL, fd: a socket already listening,
 * borrowed (never closed by wasmbox). */
typedef struct wb_wasi_listen {
    const char *address;
    int fd;
} wb_wasi_listen;

/* Network access (docs/networking.md). The guest opens, binds and
 * connects sockets of its own through WasmEdge's socket extension of
 * wasi_snapshot_preview1 (sock_open, sock_bind, sock_connect,
 * sock_getaddrinfo, ...). Nothing is allowed by default; a refused call
 * answers EACCES (2) and is reported in one line on report_fd. */
#define WB_NET_BIND 1u    /* bind (and listen, which binds when unbound) */
#define WB_NET_CONNECT 2u /* connect, and sending a datagram to an address */

/* One grant: ops on addresses inside addr/prefix with a port in
 * [port_min, port_max]. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are
 * matched as IPv4. */
typedef struct wb_net_rule {
    unsigned ops;     /* WB_NET_BIND | WB_NET_CONNECT */
    int family;       /* 4 or 6 */
    uint8_t addr[16]; /* the network: 4 bytes for IPv4, 16 for IPv6 */
    unsigned prefix;  /* 0..32 for IPv4, 0..128 for IPv6 */
    uint16_t port_min, port_max;
} wb_net_rule;

typedef struct wb_wasi_net {
    bool inherit;     /* every bind and connect, in the caller's network
                       * namespace (a container's namespace is its wall) */
    bool name_lookup; /* sock_getaddrinfo: hosts file and DNS */
    int nrules;       /* finer grants, when inherit is false */
    const wb_net_rule *rules;
    int report_fd;    /* refusals are reported here (-1: silent) */
} wb_wasi_net;

/* Parses "bind:CIDR[:PORTS]", "connect:CIDR[:PORTS]" or
 * "bind,connect:...". CIDR is an address with an optional /PREFIX (IPv6 in
 * brackets: "[::1]/128"), or "*" for every address of both families (then
 * the rule is given as two: *out gets IPv4 and out[1] IPv6, so out must
 * hold 2); PORTS is N or N-M (all ports when absent). Returns the number
 * of rules written (1 or 2), or 0 with a message naming the fault in
 * err. */
int wb_net_rule_parse(const char *spec, wb_net_rule out[2], wb_error *err);

typedef struct wb_wasi_config {
    /* Arguments as the guest's argv; argv[0] is conventionally the
     * program's name. argc may be 0 (then argv may be NULL). */
    int argc;
    const char *const *argv;
    /* Environment entries "KEY=VALUE"; envc may be 0. */
    int envc;
    const char *const *envp;
    /* Host descriptors behind guest descriptors 0, 1 and 2. They are
     * borrowed: never closed by wasmbox, not even on the guest's fd_close.
     * A negative one leaves that guest descriptor closed (EBADF). */
    int stdin_fd;
    int stdout_fd;
    int stderr_fd;
    /* Preopened directories (npreopens may be 0). Each must exist and be a
     * directory, or wb_wasi_new fails with WB_ERR_IO naming it. */
    int npreopens;
    const wb_wasi_preopen *preopens;
    /* Listening sockets, after the preopens (nlisten may be 0). */
    int nlisten;
    const wb_wasi_listen *listen;
    /* Sockets the guest makes itself (none by default). */
    wb_wasi_net net;
} wb_wasi_config;

typedef struct wb_wasi wb_wasi;

/* Fills cfg with the defaults: no arguments, no environment, and the host's
 * own descriptors 0, 1 and 2. Start from this so that fields added later
 * get sensible values. */
void wb_wasi_config_default(wb_wasi_config *cfg);

/* Creates a WASI context from cfg (NULL means the defaults). Fails with
 * WB_ERR_ARG on a negative count or a NULL string, WB_ERR_NOMEM when out of
 * memory, WB_ERR_IO when a preopen cannot be opened (missing, not a
 * directory) or a listening socket cannot be created; the message names
 * the path or address. */
wb_status wb_wasi_new(const wb_wasi_config *cfg, wb_wasi **out,
                      wb_error *err);
/* Frees the context. NULL is allowed. */
void wb_wasi_delete(wb_wasi *wasi);

/* Defines all 46 functions of wasi_snapshot_preview1 in linker, under
 * WB_WASI_MODULE, and WasmEdge's socket extension of that module
 * (sock_open, sock_bind, ..., sock_getaddrinfo, the _v2 names and
 * epoll_oneoff; some names with two signatures, see wb_linker_define_func).
 * proc_exit ends the guest with WB_ERR_EXIT (the code is in
 * wb_error.exit_code); a function that needs guest memory when the module
 * has none traps with "wasi: module has no memory". */
wb_status wb_wasi_define(wb_wasi *wasi, wb_linker *linker);

#ifdef __cplusplus
}
#endif
#endif /* WASMBOX_WASI_H */
