/*
 * workload.h - running a container's module (workload.c): the config of
 * an OCI container mapped onto the engine and WASI.
 */
#ifndef WASMBOX_OCI_WORKLOAD_H
#define WASMBOX_OCI_WORKLOAD_H

#include <limits.h>

#include "oci/oci.h"
#include "wasmbox.h"
#include "wasmbox_wasi.h"

/* A trap ends the container like a process killed by SIGABRT. */
#define OCI_EXIT_TRAP 134
#define OCI_MAX_PREOPENS 64

typedef struct oci_workload {
    char module_path[PATH_MAX]; /* inside the container, for messages */
    wb_engine *engine;
    wb_module *module;
    wb_store *store;
    wb_linker *linker;
    wb_wasi *wasi;
    wb_instance *instance;
    int npreopens;
    char *preopen_host[OCI_MAX_PREOPENS];
    char *preopen_guest[OCI_MAX_PREOPENS];
    bool preopen_ro[OCI_MAX_PREOPENS];
} oci_workload;

/* The linear-memory cap for a cgroup memory limit (0: none). */
uint64_t oci_memory_cap(int64_t limit);
/* Reads and validates the module from modfd and prepares WASI from the
 * spec. pivoted: the process already sees the container's root (paths
 * are container paths); otherwise host paths from the spec are used. */
/* nc: the native-code cache, opened before pivot_root (NULL: none); the
 * module runs its cached native code when there is some. */
struct native_cache;
bool oci_workload_load(oci_workload *w, const oci_spec *s, int modfd, const char *module_path,
                       bool pivoted, uint64_t memory_cap, struct native_cache *nc, oci_err *e);
/* Instantiates and runs _start; returns the exit status. */
int oci_workload_run(oci_workload *w);
void oci_workload_free(oci_workload *w);
/* Terminating signals end the module at once with status 128+signal. */
void oci_workload_signals(void);

#endif
