/*
 * workload.c - a container's config mapped onto the engine and WASI:
 *
 *   process.args, process.env  -> the guest's argv and environ
 *   the rootfs                 -> preopen "/" (read-only when root.readonly)
 *   each bind or tmpfs mount   -> a preopen at its destination, read-only
 *                                 when the mount is "ro" (the kernel mount
 *                                 is read-only too: two walls)
 *   process.cwd                -> the host cwd, and a preopen "." for it
 *   memory.limit               -> the cap on linear memory, below the
 *                                 cgroup limit so memory.grow fails (-1)
 *                                 before the kernel's OOM killer fires
 *   stdio                      -> the descriptors the shim handed over
 *   the network namespace      -> sockets of the guest's own (WasmEdge's
 *                                 socket ABI) and name lookups, allowed:
 *                                 the namespace is the wall. Annotation
 *                                 io.wasmbox.network=none (or the env
 *                                 WASMBOX_NETWORK=none) turns them off;
 *                                 io.wasmbox.tcplisten / WASMBOX_TCPLISTEN
 *                                 = HOST:PORT[,...] hands listeners over
 *                                 (made here, inside the namespace)
 *
 * The module is read and validated at `create`; instantiation (which runs
 * guest code: the start function) waits for `start`.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "native/native.h"
#include "oci/oci.h"
#include "oci/workload.h"

uint64_t oci_memory_cap(int64_t limit) {
    if (limit <= 0) return 0;
    uint64_t l = (uint64_t)limit;
    /* The runtime itself (binary, engine state, lowered code) needs a
     * few MiB of the cgroup's budget next to the guest's memory. */
    uint64_t headroom = l / 16;
    if (headroom < (4u << 20)) headroom = 4u << 20;
    if (headroom > (32u << 20)) headroom = 32u << 20;
    if (headroom >= l) headroom = l / 2;
    return l - headroom;
}

static bool workload_add_preopen(oci_workload *w, const char *host, const char *guest, bool ro,
                                 oci_err *e) {
    if (w->npreopens == OCI_MAX_PREOPENS)
        return oci_fail(e, "more than %d directories to give the module", OCI_MAX_PREOPENS);
    for (int i = 0; i < w->npreopens; i++)
        if (strcmp(w->preopen_guest[i], guest) == 0) { /* a later mount hides an earlier one */
            free(w->preopen_host[i]);
            w->preopen_host[i] = strdup(host);
            w->preopen_ro[i] = ro;
            return w->preopen_host[i] ? true : oci_fail(e, "out of memory");
        }
    w->preopen_host[w->npreopens] = strdup(host);
    w->preopen_guest[w->npreopens] = strdup(guest);
    w->preopen_ro[w->npreopens] = ro;
    w->npreopens++;
    if (!w->preopen_host[w->npreopens - 1] || !w->preopen_guest[w->npreopens - 1])
        return oci_fail(e, "out of memory");
    return true;
}

/* A setting from the annotation `key`, else from the variable `env`
 * of process.env; NULL when neither is set. */
static const char *workload_setting(const oci_spec *s, const char *key, const char *env) {
    const char *v = oci_spec_annotation(s, key);
    return v ? v : oci_spec_env(s, env);
}

/* Fills the network part of the WASI config; listen[] gets pointers into
 * buf (one entry per comma-separated address). */
static bool workload_network(const oci_spec *s, wb_wasi_config *wc, char *buf, size_t size,
                             wb_wasi_listen *listen, int max_listen, oci_err *e) {
    const char *mode = workload_setting(s, "io.wasmbox.network", "WASMBOX_NETWORK");
    if (mode && strcmp(mode, "none") != 0 && strcmp(mode, "inherit") != 0)
        return oci_fail(e, "io.wasmbox.network / WASMBOX_NETWORK: '%s' is neither 'inherit' nor "
                           "'none'", mode);
    bool on = !mode || strcmp(mode, "inherit") == 0;
    wc->net.inherit = on;
    wc->net.name_lookup = on;
    const char *l = workload_setting(s, "io.wasmbox.tcplisten", "WASMBOX_TCPLISTEN");
    if (!l || !*l) return true;
    if (strlen(l) >= size) return oci_fail(e, "io.wasmbox.tcplisten: too long");
    strcpy(buf, l);
    int n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == max_listen) return oci_fail(e, "io.wasmbox.tcplisten: more than %d addresses", max_listen);
        listen[n].address = t;
        listen[n].fd = -1;
        n++;
    }
    wc->nlisten = n;
    wc->listen = listen;
    return true;
}

static bool workload_error(oci_err *e, const char *what, const wb_error *err) {
    char buf[512];
    wb_error_format(err, buf, sizeof buf);
    return oci_fail(e, "%s: %s", what, buf);
}

bool oci_workload_load(oci_workload *w, const oci_spec *s, int modfd, const char *module_path,
                       bool pivoted, uint64_t memory_cap, native_cache *nc, oci_err *e) {
    memset(w, 0, sizeof *w);
    snprintf(w->module_path, sizeof w->module_path, "%s", module_path);
    struct stat st;
    if (fstat(modfd, &st) != 0) return oci_fail_errno(e, "module %s", module_path);
    if (st.st_size > (off_t)1 << 30) return oci_fail(e, "module %s: larger than 1 GiB", module_path);
    size_t len = (size_t)st.st_size;
    uint8_t *bytes = malloc(len ? len : 1);
    if (!bytes) return oci_fail(e, "module %s: out of memory", module_path);
    size_t off = 0;
    while (off < len) {
        ssize_t r = pread(modfd, bytes + off, len - off, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            free(bytes);
            return oci_fail_errno(e, "module %s: read", module_path);
        }
        off += (size_t)r;
    }
    wb_config cfg;
    wb_config_default(&cfg);
    if (memory_cap) {
        uint64_t pages = memory_cap / 65536;
        if (pages < cfg.max_memory_pages) cfg.max_memory_pages = (uint32_t)pages;
    }
    wb_error err;
    wb_error_clear(&err);
    bool ok = wb_engine_new(&cfg, &w->engine, &err) == WB_OK;
    if (!ok) {
        free(bytes);
        return workload_error(e, "engine", &err);
    }
    /* The cache names native code by the module's hash: taken before the
     * module takes the bytes. */
    char native_name[96];
    native_flags nflags = NATIVE_FLAGS_DEFAULT;
    if (nc) native_cache_name(bytes, len, &nflags, native_name);
    /* The module takes the bytes. */
    if (wb_module_new_owned(w->engine, bytes, len, &w->module, &err) != WB_OK) {
        w->module = NULL;
        char what[PATH_MAX + 64];
        snprintf(what, sizeof what, "invalid WebAssembly module %s", module_path);
        return workload_error(e, what, &err);
    }
    if (nc) {
        char why[600];
        if (native_cache_load_name(nc, w->module, native_name, why, sizeof why) < 0)
            fprintf(stderr, "wasmbox: native code refused (%s); running interpreted\n", why);
    }

    /* Preopens: "/" first; mounts after it, so that wasi-libc's longest-
     * prefix match sends /data/x to the /data mount's own preopen. */
    if (!workload_add_preopen(w, pivoted ? "/" : s->root_path, "/", s->root_readonly, e))
        return false;
    for (int i = 0; i < s->nmounts; i++) {
        const oci_mount *m = &s->mounts[i];
        bool dir_mount = strcmp(m->type, "tmpfs") == 0;
        if (m->bind) {
            struct stat ms;
            dir_mount = stat(pivoted ? m->destination : m->source, &ms) == 0 && S_ISDIR(ms.st_mode);
        }
        if (!dir_mount) continue;
        if (!pivoted && !m->bind) continue; /* nothing mounted without a mount namespace */
        if (!workload_add_preopen(w, pivoted ? m->destination : m->source, m->destination,
                                  m->readonly, e))
            return false;
    }
    if (strcmp(s->cwd, "/") != 0 && pivoted &&
        !workload_add_preopen(w, s->cwd, ".", s->root_readonly, e))
        return false;

    wb_wasi_preopen pre[OCI_MAX_PREOPENS];
    for (int i = 0; i < w->npreopens; i++) {
        pre[i].host_path = w->preopen_host[i];
        pre[i].guest_path = w->preopen_guest[i];
        pre[i].read_only = w->preopen_ro[i];
    }
    wb_wasi_config wc;
    wb_wasi_config_default(&wc);
    wc.argc = s->nargs;
    wc.argv = (const char *const *)s->args;
    wc.envc = s->nenv;
    wc.envp = (const char *const *)s->env;
    wc.npreopens = w->npreopens;
    wc.preopens = pre;
    char listen_buf[1024];
    wb_wasi_listen listen[16];
    if (!workload_network(s, &wc, listen_buf, sizeof listen_buf, listen, 16, e)) return false;
    if (wb_wasi_new(&wc, &w->wasi, &err) != WB_OK) {
        w->wasi = NULL;
        return workload_error(e, "WASI", &err);
    }
    if (wb_store_new(w->engine, &w->store, &err) != WB_OK ||
        wb_linker_new(w->store, &w->linker, &err) != WB_OK)
        return workload_error(e, "engine", &err);
    if (wb_wasi_define(w->wasi, w->linker) != WB_OK)
        return oci_fail(e, "cannot define the WASI functions");
    return true;
}

void oci_workload_free(oci_workload *w) {
    if (w->linker) wb_linker_delete(w->linker);
    if (w->store) wb_store_delete(w->store);
    wb_wasi_delete(w->wasi);
    if (w->module) wb_module_delete(w->module);
    if (w->engine) wb_engine_delete(w->engine);
    for (int i = 0; i < w->npreopens; i++) {
        free(w->preopen_host[i]);
        free(w->preopen_guest[i]);
    }
    memset(w, 0, sizeof *w);
}

static int workload_outcome(const oci_workload *w, wb_status st, wb_error *err) {
    if (st == WB_OK) return 0;
    if (err->status == WB_OK) err->status = st;
    if (st == WB_ERR_EXIT) return (int)((unsigned)err->exit_code & 0xFFu);
    char buf[512];
    wb_error_format(err, buf, sizeof buf);
    fprintf(stderr, "wasmbox: %s: %s\n", w->module_path, buf);
    return st == WB_ERR_TRAP ? OCI_EXIT_TRAP : 1;
}

int oci_workload_run(oci_workload *w) {
    wb_error err;
    wb_error_clear(&err);
    wb_status st = wb_linker_instantiate(w->linker, w->module, &w->instance, &err);
    if (st != WB_OK) {
        w->instance = NULL;
        return workload_outcome(w, st, &err);
    }
    wb_extern ext;
    if (!wb_instance_export(w->instance, "_start", &ext) || ext.kind != WB_EXTERN_FUNC) {
        fprintf(stderr, "wasmbox: %s: the module has no '_start' function (not a WASI command)\n",
                w->module_path);
        return 1;
    }
    wb_functype t = wb_func_type(ext.of.func);
    if (t.nparams != 0 || t.nresults != 0) {
        fprintf(stderr, "wasmbox: %s: '_start' must take no arguments and return nothing\n",
                w->module_path);
        return 1;
    }
    wb_error_clear(&err);
    st = wb_func_call(w->store, ext.of.func, NULL, 0, NULL, 0, &err);
    return workload_outcome(w, st, &err);
}

/* A Wasm guest has no signal handlers of its own, so a signal whose
 * default action ends a process ends the module at once, as it would end
 * a Linux process: _exit(128 + signal). As pid 1 of a pid namespace the
 * kernel would drop such signals without a handler, so one is needed. */
static void workload_on_signal(int sig) {
    _exit(128 + sig);
}

void oci_workload_signals(void) {
    static const int sigs[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGTERM, SIGUSR1,
                               SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGPWR};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = workload_on_signal;
    sigfillset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}
