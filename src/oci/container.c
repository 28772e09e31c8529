/*
 * container.c - the process model of a Wasm container.
 *
 *   create (P)   reads and checks the bundle, makes the state folder and
 *                the cgroup, and clones the container process C into the
 *                namespaces config.json asks for. P and C talk over a
 *                socketpair: P adds C to the cgroup (and writes user-ns
 *                maps) and says GO; C joins namespaces given by path,
 *                mounts the rootfs, asks P to run the prestart and
 *                createRuntime hooks (they need the host's view), pivots
 *                into the rootfs, validates the module, prepares WASI,
 *                drops privileges and says READY. P writes the pid file
 *                and the state and exits; C is left blocked opening
 *                <state>/exec.fifo for writing.
 *   start        opens exec.fifo for reading, which releases C: C writes
 *                one byte, instantiates the module and runs _start.
 *   C's exit     status = the module's exit code (128+N on signal N,
 *                134 on a trap); the shim, C's reaper, reports it.
 *
 * C never executes a host binary: the engine is already in its memory,
 * so nothing inside the container can reach or rewrite the runtime
 * (runc's CVE-2019-5736). It reaches exec.fifo through a descriptor of the
 * state folder opened before pivot_root, and closes it before any guest
 * code runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "native/native.h"
#include "oci/runtime.h"
#include "oci/workload.h"

enum { SYNC_GO = 1, SYNC_HOOKS, SYNC_HOOKS_DONE, SYNC_READY, SYNC_ACK, SYNC_ERROR };

/* Everything the container process needs, set up by P before the clone. */
typedef struct create_ctx {
    const oci_create_opts *o;
    oci_spec spec;
    oci_security sec;
    oci_resources res;
    oci_state st;
    int sync;    /* C's end */
    int console; /* the pty slave for process.terminal, else -1 */
    bool mount_ns;
} create_ctx;

static json_t *create_state_json(const create_ctx *c, const char *status, pid_t pid) {
    json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:s}", "ociVersion", "1.0.2", "id", c->st.id,
                          "status", status, "pid", (int)pid, "bundle", c->spec.bundle);
    if (j && c->spec.annotations) json_object_set(j, "annotations", c->spec.annotations);
    return j;
}

static void child_fail(int sync, const oci_err *e) {
    oci_sync_send(sync, SYNC_ERROR, 0, e->msg);
    _exit(1);
}

static bool child_join_namespaces(const create_ctx *c, oci_err *e) {
    /* The user namespace first: it decides what we may join after. */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < c->spec.nnamespaces; i++) {
            const oci_namespace *ns = &c->spec.namespaces[i];
            if (!ns->path || ns->type == CLONE_NEWPID) continue;
            if ((pass == 0) != (ns->type == CLONE_NEWUSER)) continue;
            int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) return oci_fail_errno(e, "namespace %s", ns->path);
            int r = setns(fd, ns->type);
            close(fd);
            if (r != 0) return oci_fail_errno(e, "join namespace %s", ns->path);
        }
    return true;
}

/* Shows the module and its arguments in ps/top instead of the runtime's
 * own long command line: the original argv strings are contiguous, so
 * they are overwritten in place (never beyond their end). */
static void set_process_title(const oci_spec *s) {
    if (oci_g.argc < 1 || !oci_g.argv) return;
    char *start = oci_g.argv[0];
    char *end = oci_g.argv[oci_g.argc - 1] + strlen(oci_g.argv[oci_g.argc - 1]);
    size_t room = (size_t)(end - start);
    size_t used = 0;
    for (int i = 0; i < s->nargs && used < room; i++) {
        size_t n = strlen(s->args[i]);
        if (i > 0) start[used++] = ' ';
        if (n > room - used) n = room - used;
        memcpy(start + used, s->args[i], n);
        used += n;
    }
    memset(start + used, 0, room - used + 1);
    const char *base = strrchr(s->args[0], '/');
    prctl(PR_SET_NAME, base ? base + 1 : s->args[0], 0, 0, 0);
}

static bool ns_is_new(const oci_spec *s, int type) {
    for (int i = 0; i < s->nnamespaces; i++)
        if (s->namespaces[i].type == type) return s->namespaces[i].path == NULL;
    return false;
}

/* The container process. Never returns. */
static void create_child(create_ctx *c) {
    oci_err e = {{0}};
    int sync = c->sync;
    oci_sync_msg m;
    /* Only the standard streams, the --preserve-fds ones (3, 4, ...) and
     * our two channels survive: nothing of the shim's or ours leaks in. */
    int keep[16] = {sync, c->st.dirfd, c->console};
    int nkeep = 3;
    for (int fd = 3; fd < 3 + c->o->preserve_fds && nkeep < 16; fd++) keep[nkeep++] = fd;
    oci_linux_close_fds(keep, nkeep);
    c->st.lockfd = -1; /* closed above: the lock stays with P */
    oci_workload_signals();
    signal(SIGPIPE, SIG_IGN);
    if (oci_sync_recv(sync, &m) != SYNC_GO) _exit(1);
    pid_t host_pid = m.pid;

    if (!child_join_namespaces(c, &e)) child_fail(sync, &e);
    if (ns_is_new(&c->spec, CLONE_NEWUTS)) {
        if (c->spec.hostname && sethostname(c->spec.hostname, strlen(c->spec.hostname)) != 0) {
            oci_fail_errno(&e, "sethostname %s", c->spec.hostname);
            child_fail(sync, &e);
        }
        if (c->spec.domainname &&
            setdomainname(c->spec.domainname, strlen(c->spec.domainname)) != 0) {
            oci_fail_errno(&e, "setdomainname %s", c->spec.domainname);
            child_fail(sync, &e);
        }
    }
    if (!oci_linux_sysctl(&c->spec, &e)) child_fail(sync, &e);
    if (c->console >= 0 && !oci_linux_console_attach(c->console, &e)) child_fail(sync, &e);
    if (c->mount_ns && !oci_linux_mount_rootfs(&c->spec, false, &e)) child_fail(sync, &e);

    if (!oci_sync_send(sync, SYNC_HOOKS, 0, NULL)) _exit(1);
    int t = oci_sync_recv(sync, &m);
    if (t != SYNC_HOOKS_DONE) _exit(1);

    json_t *state = create_state_json(c, "created", host_pid);
    if (!state) {
        oci_fail(&e, "out of memory");
        child_fail(sync, &e);
    }
    if (!oci_hooks_run(&c->spec, OCI_HOOK_CREATE_CONTAINER, state, &e)) child_fail(sync, &e);
    if (!oci_security_apply_limits(&c->sec, &e)) child_fail(sync, &e);
    /* The native-code cache is the host's: opened while the host's files
     * are still in view. No cache (or WASMBOX_AOT=off in the container's
     * environment): the module is interpreted. */
    native_cache nc;
    char nwhy[600];
    const char *aot_env = oci_spec_env(&c->spec, "WASMBOX_AOT");
    bool have_nc = !(aot_env && strcmp(aot_env, "off") == 0) && native_cache_open(&nc, false, nwhy, sizeof nwhy);
    if (have_nc && oci_spec_env(&c->spec, "WASMBOX_AOT_VERBOSE")) nc.verbose = true;
    if (c->mount_ns && !oci_linux_pivot(&c->spec, c->o->no_pivot, &e)) child_fail(sync, &e);

    /* cwd: inside the container's root, which pivot_root made "/". */
    char cwd[PATH_MAX * 2];
    snprintf(cwd, sizeof cwd, "%s%s", c->mount_ns ? "" : c->spec.root_path, c->spec.cwd);
    if (!oci_enter_cwd(cwd, c->spec.cwd, &e)) child_fail(sync, &e);
    int rootfd = open(c->mount_ns ? "/" : c->spec.root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        oci_fail_errno(&e, "root filesystem");
        child_fail(sync, &e);
    }
    int modfd;
    char guest[PATH_MAX];
    if (!oci_find_entrypoint(rootfd, &c->spec, &modfd, guest, &e)) child_fail(sync, &e);
    close(rootfd);
    oci_workload w;
    uint64_t cap = c->res.has_memory_limit ? oci_memory_cap(c->res.memory_limit) : 0;
    if (!oci_workload_load(&w, &c->spec, modfd, guest, c->mount_ns, cap, have_nc ? &nc : NULL, &e))
        child_fail(sync, &e);
    close(modfd);
    if (have_nc) native_cache_close(&nc);
    set_process_title(&c->spec);
    /* Nothing of ours may stay reachable from /proc/<pid>/ (no exe of
     * interest, but also no memory or descriptors) for other processes. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (!oci_security_apply(&c->sec, &e)) child_fail(sync, &e);

    if (!oci_sync_send(sync, SYNC_READY, 0, NULL)) _exit(1);
    if (oci_sync_recv(sync, &m) != SYNC_ACK) _exit(1);
    close(sync);

    /* Wait for `start`. */
    int fifo;
    do fifo = openat(c->st.dirfd, "exec.fifo", O_WRONLY | O_CLOEXEC);
    while (fifo < 0 && errno == EINTR);
    if (fifo < 0) {
        fprintf(stderr, "wasmbox: exec.fifo: %s\n", strerror(errno));
        _exit(1);
    }
    if (write(fifo, "0", 1) != 1) _exit(1);
    close(fifo);
    close(c->st.dirfd);
    json_object_set_new(state, "status", json_string("running"));
    if (!oci_hooks_run(&c->spec, OCI_HOOK_START_CONTAINER, state, &e)) {
        fprintf(stderr, "wasmbox: %s\n", e.msg);
        _exit(1);
    }
    json_decref(state);
    int rc = oci_workload_run(&w);
    _exit(rc);
}

static bool write_id_map(pid_t pid, const char *file, json_t *maps, oci_err *e) {
    char buf[4096];
    size_t used = 0;
    size_t i;
    json_t *m;
    json_array_foreach(maps, i, m) {
        json_int_t cid, hid, size;
        if (json_unpack(m, "{s:I, s:I, s:I}", "containerID", &cid, "hostID", &hid, "size",
                        &size) != 0 ||
            cid < 0 || hid < 0 || size <= 0)
            return oci_fail(e, "config.json: linux.%s[%zu]: needs containerID, hostID and size",
                            strcmp(file, "uid_map") == 0 ? "uidMappings" : "gidMappings", i);
        int n = snprintf(buf + used, sizeof buf - used, "%lld %lld %lld\n", (long long)cid,
                         (long long)hid, (long long)size);
        if (n < 0 || (size_t)n >= sizeof buf - used) return oci_fail(e, "%s: too many entries", file);
        used += (size_t)n;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return oci_fail_errno(e, "%s", path);
    bool ok = write(fd, buf, used) == (ssize_t)used;
    if (!ok) oci_fail_errno(e, "write %s", path);
    close(fd);
    return ok;
}

/* Waits up to ~2 s for a killed child. */
static void reap(pid_t pid) {
    for (int i = 0; i < 200; i++) {
        if (waitpid(pid, NULL, WNOHANG) != 0) return;
        usleep(10000);
    }
}

/* Creates the container; on success *child is C's pid (our child) and the
 * state is saved and unlocked. Returns 0, or the exit status on failure
 * (already logged). */
static int create_container(const oci_create_opts *o, pid_t *child) {
    create_ctx c;
    memset(&c, 0, sizeof c);
    c.o = o;
    c.sync = -1;
    c.console = -1;
    c.st.dirfd = c.st.lockfd = -1;
    oci_err e = {{0}};
    int socks[2] = {-1, -1};
    pid_t pid = -1;
    bool made_state = false, made_cgroup = false;
    int rc = 1;

    if (!oci_id_valid(o->id, &e)) goto fail;
    if (!oci_spec_load(o->bundle ? o->bundle : ".", &c.spec, &e)) goto fail;
    oci_kind kind;
    if (!oci_detect(&c.spec, &kind, &e)) goto fail;
    if (kind == OCI_KIND_LINUX) {
        oci_spec_free(&c.spec);
        return oci_delegate_exec();
    }
    oci_log_debug("container %s: WebAssembly entrypoint %s", o->id, c.spec.args[0]);
    if (!oci_resources_parse(c.spec.resources, &c.res, &e)) goto fail;
    if (!oci_security_parse(c.spec.process, c.spec.linux_cfg, &c.sec, &e)) goto fail;
    c.mount_ns = oci_spec_has_namespace(&c.spec, CLONE_NEWNS);
    if (!c.mount_ns && c.spec.nmounts > 0)
        oci_log_debug("no mount namespace: mounts become preopens of their sources");

    if (!oci_state_create(oci_g.root, o->id, &c.st, &e)) goto fail;
    made_state = true;
    snprintf(c.st.bundle, sizeof c.st.bundle, "%s", c.spec.bundle);
    oci_timestamp(c.st.created, sizeof c.st.created);
    if (c.spec.annotations) c.st.annotations = json_deep_copy(c.spec.annotations);
    c.st.own_pidns = ns_is_new(&c.spec, CLONE_NEWPID);
    /* Writable by the container's user, whoever it is (process.user, or
     * root of a user namespace): only `start` reads it. */
    if (mkfifoat(c.st.dirfd, "exec.fifo", 0600) != 0 ||
        fchmodat(c.st.dirfd, "exec.fifo", 0622, 0) != 0) {
        oci_fail_errno(&e, "%s/exec.fifo", c.st.dir);
        goto fail;
    }
    if (!oci_cgroup_init(&c.st.cgroup, c.spec.cgroups_path, o->id, oci_g.systemd_cgroup, &e))
        goto fail;
    if (!oci_cgroup_create(&c.st.cgroup, &c.res, &e)) goto fail;
    c.st.has_cgroup = made_cgroup = true;
    /* Saved now (pid 0) so that a failure from here on, or a crash, can
     * still be cleaned up by `delete`. */
    if (!oci_state_save(&c.st, &e)) goto fail;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) != 0) {
        oci_fail_errno(&e, "socketpair");
        goto fail;
    }
    if (c.spec.terminal) {
        if (!o->console_socket) {
            oci_fail(&e, "process.terminal is true but no --console-socket was given");
            goto fail;
        }
        c.console = oci_linux_console_open(o->console_socket, &e);
        if (c.console < 0) goto fail;
    }
    unsigned long flags = 0;
    for (int i = 0; i < c.spec.nnamespaces; i++) {
        const oci_namespace *ns = &c.spec.namespaces[i];
        if (!ns->path) {
            flags |= (unsigned long)ns->type;
        } else if (ns->type == CLONE_NEWPID) {
            /* Joining a pid namespace applies to children only: do it here. */
            int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
            if (fd < 0 || setns(fd, CLONE_NEWPID) != 0) {
                oci_fail_errno(&e, "join namespace %s", ns->path);
                if (fd >= 0) close(fd);
                goto fail;
            }
            close(fd);
        }
    }
    fflush(NULL);
    pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid < 0) {
        oci_fail_errno(&e, "clone the container process");
        goto fail;
    }
    if (pid == 0) {
        close(socks[0]);
        c.sync = socks[1];
        create_child(&c);
    }
    close(socks[1]);
    socks[1] = -1;
    if (c.console >= 0) close(c.console);
    c.console = -1;
    if (ns_is_new(&c.spec, CLONE_NEWUSER)) {
        if (!write_id_map(pid, "uid_map", c.spec.uid_mappings, &e) ||
            !write_id_map(pid, "gid_map", c.spec.gid_mappings, &e))
            goto fail;
    }
    if (!oci_cgroup_add(&c.st.cgroup, pid, &e)) goto fail;
    c.st.pid = pid;
    c.st.start_time = oci_proc_start_time(pid);
    if (!oci_state_save(&c.st, &e)) goto fail;
    if (!oci_sync_send(socks[0], SYNC_GO, pid, NULL)) {
        oci_fail_errno(&e, "container process");
        goto fail;
    }
    for (;;) {
        oci_sync_msg m;
        int t = oci_sync_recv(socks[0], &m);
        if (t == SYNC_HOOKS) {
            json_t *state = create_state_json(&c, "creating", pid);
            bool ok = state && oci_hooks_run(&c.spec, OCI_HOOK_PRESTART, state, &e) &&
                      oci_hooks_run(&c.spec, OCI_HOOK_CREATE_RUNTIME, state, &e);
            json_decref(state);
            if (!ok) {
                if (!state) oci_fail(&e, "out of memory");
                goto fail;
            }
            oci_sync_send(socks[0], SYNC_HOOKS_DONE, 0, NULL);
        } else if (t == SYNC_READY) {
            break;
        } else if (t == SYNC_ERROR) {
            snprintf(e.msg, sizeof e.msg, "%s", m.msg);
            goto fail;
        } else {
            int status = 0;
            waitpid(pid, &status, 0);
            pid = -1;
            if (WIFSIGNALED(status))
                oci_fail(&e, "container process killed by signal %d during setup", WTERMSIG(status));
            else
                oci_fail(&e, "container process exited during setup (status %d)",
                         WEXITSTATUS(status));
            goto fail;
        }
    }
    if (o->pid_file && !oci_write_pid_file(o->pid_file, pid, &e)) goto fail;
    if (!oci_sync_send(socks[0], SYNC_ACK, 0, NULL)) {
        oci_fail(&e, "container process exited during setup");
        goto fail;
    }
    close(socks[0]);
    oci_state_close(&c.st);
    oci_security_free(&c.sec);
    oci_resources_free(&c.res);
    oci_spec_free(&c.spec);
    *child = pid;
    return 0;

fail:
    oci_log_error("%s", e.msg);
    if (pid > 0) {
        kill(pid, SIGKILL);
        reap(pid);
    }
    if (socks[0] >= 0) close(socks[0]);
    if (socks[1] >= 0) close(socks[1]);
    if (c.console >= 0) close(c.console);
    if (made_cgroup) {
        oci_err e2 = {{0}};
        if (!oci_cgroup_destroy(&c.st.cgroup, &e2)) oci_log_error("%s", e2.msg);
    }
    if (made_state) oci_state_remove(&c.st);
    if (o->pid_file && pid > 0) unlink(o->pid_file);
    oci_security_free(&c.sec);
    oci_resources_free(&c.res);
    oci_spec_free(&c.spec);
    return rc;
}

int oci_cmd_create(const oci_create_opts *o) {
    pid_t child;
    return create_container(o, &child);
}

int oci_cmd_start(const char *id) {
    int rc;
    if (oci_maybe_delegate(id, &rc)) return rc;
    oci_state st;
    oci_err e = {{0}};
    if (!oci_state_open(oci_g.root, id, true, &st, &e)) {
        oci_log_error("%s", e.msg);
        return 1;
    }
    oci_status status = oci_state_status(&st);
    if (status != OCI_STATUS_CREATED) {
        oci_log_error("cannot start container %s: it is %s, not created", id,
                      oci_status_name(status));
        oci_state_close(&st);
        return 1;
    }
    int fd = openat(st.dirfd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        oci_log_error("container %s: %s/exec.fifo: %s", id, st.dir, strerror(errno));
        oci_state_close(&st);
        return 1;
    }
    bool released = false;
    while (!released) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, 50);
        if (r > 0 && (p.revents & POLLIN)) {
            char b;
            released = read(fd, &b, 1) == 1;
            if (!released) break;
        } else if (r < 0 && errno != EINTR) {
            break;
        } else if (!oci_state_pid_alive(&st)) {
            break;
        }
    }
    close(fd);
    if (!released) {
        oci_log_error("cannot start container %s: its process exited before start", id);
        oci_state_close(&st);
        return 1;
    }
    unlinkat(st.dirfd, "exec.fifo", 0);
    /* poststart hooks: their failure is reported, the container runs on. */
    oci_spec spec;
    oci_err se = {{0}};
    if (oci_spec_load(st.bundle, &spec, &se)) {
        json_t *state = oci_state_json(&st, OCI_STATUS_RUNNING);
        if (state && !oci_hooks_run(&spec, OCI_HOOK_POSTSTART, state, &se))
            oci_log_error("container %s: %s", id, se.msg);
        json_decref(state);
        oci_spec_free(&spec);
    }
    oci_state_close(&st);
    return 0;
}

static volatile sig_atomic_t run_child_pid;

static void run_forward(int sig) {
    if (run_child_pid > 0) kill((pid_t)run_child_pid, sig);
}

int oci_cmd_run(const oci_create_opts *o) {
    pid_t child;
    int rc = create_container(o, &child);
    if (rc != 0) return rc;
    if (!o->detach) {
        run_child_pid = child;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = run_forward;
        const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
    }
    rc = oci_cmd_start(o->id);
    if (rc != 0) {
        oci_cmd_delete(o->id, true);
        return rc;
    }
    if (o->detach) return 0;
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (!o->keep) oci_cmd_delete(o->id, true);
    return rc;
}
