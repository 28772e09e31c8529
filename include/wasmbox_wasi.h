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
 * reached, and no network but the listening sockets given.
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
 * WB_WASI_MODULE. proc_exit ends the guest with WB_ERR_EXIT (the code is in
 * wb_error.exit_code); a function that needs guest memory when the module
 * has none traps with "wasi: module has no memory". */
wb_status wb_wasi_define(wb_wasi *wasi, wb_linker *linker);

#ifdef __cplusplus
}
#endif
#endif /* WASMBOX_WASI_H */
