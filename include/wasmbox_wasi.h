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
 * variable leaks in, and (today) no file system at all; preopened
 * directories come with the full WASI implementation.
 *
 * Every function of the preview1 interface is defined, with its exact
 * signature, so that any module built for WASI links. Those not implemented
 * yet return ENOSYS (52) to the guest.
 */
#ifndef WASMBOX_WASI_H
#define WASMBOX_WASI_H

#include "wasmbox.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The module name every preview1 import uses. */
#define WB_WASI_MODULE "wasi_snapshot_preview1"

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
} wb_wasi_config;

typedef struct wb_wasi wb_wasi;

/* Fills cfg with the defaults: no arguments, no environment, and the host's
 * own descriptors 0, 1 and 2. Start from this so that fields added later
 * get sensible values. */
void wb_wasi_config_default(wb_wasi_config *cfg);

/* Creates a WASI context from cfg (NULL means the defaults). Fails with
 * WB_ERR_ARG on a negative count or a NULL string, WB_ERR_NOMEM when out of
 * memory. */
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
