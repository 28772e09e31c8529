/*
 * exec.c - `wasmbox exec`: another Wasm program inside a running Wasm
 * container's sandbox: its namespaces, its cgroup, its root and mounts
 * (the same preopens as the container's own module), its limits and
 * security settings. A program that is not WebAssembly is refused: the
 * container has no Linux userland to run it in.
 *
 *   P (exec) --fork--> E: joins the namespaces and the cgroup
 *                      E --fork--> G: in the pid namespace; loads and runs
 * G reports READY or an error to P; E reports G's pid (as the host sees
 * it). With --detach, P and E exit once G runs (the shim reaps G);
 * otherwise E waits for G and exits with its status, and so does P.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci/runtime.h"
#include "oci/workload.h"

enum { EXEC_PID = 1, EXEC_READY, EXEC_ERROR };

static const struct {
    const char *name;
    int type;
} exec_ns[] = {
    {"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC},       {"uts", CLONE_NEWUTS},
    {"net", CLONE_NEWNET},   {"cgroup", CLONE_NEWCGROUP}, {"pid", CLONE_NEWPID},
    {"mnt", CLONE_NEWNS},
};
#define EXEC_NNS (sizeof exec_ns / sizeof exec_ns[0])

/* Opens /proc/<pid>/ns/X for every namespace the container does not
 * share with us (joining one's own user namespace is an error). */
static bool exec_open_ns(pid_t pid, int fds[EXEC_NNS], oci_err *e) {
    for (size_t i = 0; i < EXEC_NNS; i++) {
        char theirs[64], ours[64];
        snprintf(theirs, sizeof theirs, "/proc/%d/ns/%s", (int)pid, exec_ns[i].name);
        snprintf(ours, sizeof ours, "/proc/self/ns/%s", exec_ns[i].name);
        struct stat a, b;
        fds[i] = -1;
        if (stat(theirs, &a) != 0) {
            if (errno == ENOENT && access(ours, F_OK) != 0) continue; /* kernel lacks it */
            return oci_fail_errno(e, "%s", theirs);
        }
        if (stat(ours, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) continue;
        fds[i] = open(theirs, O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0) return oci_fail_errno(e, "%s", theirs);
    }
    return true;
}

/* Builds the exec'd process into spec (which holds the container's
 * config): from --process, or args/env/cwd given on the command line. */
static bool exec_process(const oci_exec_opts *o, oci_spec *s, json_t **proc_json, oci_err *e) {
    json_t *p;
    if (o->process_file) {
        json_error_t jerr;
        p = json_load_file(o->process_file, 0, &jerr);
        if (!p) return oci_fail(e, "--process %s: invalid JSON: %s", o->process_file, jerr.text);
    } else {
        p = json_deep_copy(s->process);
        if (!p) return oci_fail(e, "out of memory");
        json_t *args = json_array();
        for (int i = 0; i < o->nargs; i++) json_array_append_new(args, json_string(o->args[i]));
        json_object_set_new(p, "args", args);
        json_t *env = json_object_get(p, "env");
        if (!json_is_array(env)) {
            env = json_array();
            json_object_set_new(p, "env", env);
        }
        for (int i = 0; i < o->nenv; i++) json_array_append_new(env, json_string(o->env[i]));
        if (o->cwd) json_object_set_new(p, "cwd", json_string(o->cwd));
        json_object_set_new(p, "terminal", json_boolean(o->tty));
    }
    *proc_json = p;
    /* Replace the container's process with this one. */
    for (int i = 0; i < s->nargs; i++) free(s->args[i]);
    free(s->args);
    for (int i = 0; i < s->nenv; i++) free(s->env[i]);
    free(s->env);
    free(s->cwd);
    s->args = s->env = NULL;
    s->cwd = NULL;
    s->nargs = s->nenv = 0;
    return oci_spec_parse_process(p, s, o->process_file ? "--process" : "exec", e);
}

static void exec_grandchild(int sock, int console, const oci_spec *s, const oci_security *sec,
                            uint64_t cap) {
    oci_err e = {{0}};
    oci_workload_signals();
    signal(SIGPIPE, SIG_IGN);
    if (console >= 0 && !oci_linux_console_attach(console, &e)) goto fail;
    if (!oci_enter_cwd(s->cwd, s->cwd, &e)) goto fail;
    int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    int modfd;
    char guest[PATH_MAX];
    if (rootfd < 0 || !oci_find_entrypoint(rootfd, s, &modfd, guest, &e)) goto fail;
    close(rootfd);
    if (!oci_is_wasm_fd(modfd)) {
        oci_fail(&e, "exec: %s is not a WebAssembly module; a Wasm container runs only "
                     "Wasm programs (it has no Linux userland)", guest);
        goto fail;
    }
    oci_workload w;
    /* exec joins the container after its pivot: no host cache in view. */
    if (!oci_workload_load(&w, s, modfd, guest, true, cap, NULL, &e)) goto fail;
    close(modfd);
    if (!oci_security_apply(sec, &e)) goto fail;
    oci_sync_send(sock, EXEC_READY, 0, NULL);
    close(sock);
    _exit(oci_workload_run(&w));
fail:
    oci_sync_send(sock, EXEC_ERROR, 0, e.msg);
    _exit(1);
}

int oci_cmd_exec(const oci_exec_opts *o) {
    int rc;
    if (oci_maybe_delegate(o->id, &rc)) return rc;
    oci_state st;
    oci_err e = {{0}};
    oci_spec spec;
    oci_security sec;
    oci_resources res;
    json_t *proc = NULL;
    int nsfd[EXEC_NNS];
    int socks[2] = {-1, -1};
    int console = -1;
    memset(&spec, 0, sizeof spec);
    memset(&sec, 0, sizeof sec);
    memset(&res, 0, sizeof res);
    for (size_t i = 0; i < EXEC_NNS; i++) nsfd[i] = -1;
    rc = 1;
    if (!oci_state_open(oci_g.root, o->id, false, &st, &e)) {
        oci_log_error("%s", e.msg);
        return 1;
    }
    oci_status status = oci_state_status(&st);
    oci_cgroup cg = st.cgroup;
    bool has_cg = st.has_cgroup;
    pid_t init = st.pid;
    if (status != OCI_STATUS_RUNNING) {
        oci_fail(&e, "cannot exec in container %s: it is %s, not running", o->id,
                 oci_status_name(status));
        oci_state_close(&st);
        goto out;
    }
    bool ok = oci_spec_load(st.bundle, &spec, &e) && exec_process(o, &spec, &proc, &e) &&
              oci_resources_parse(spec.resources, &res, &e) &&
              oci_security_parse(proc, spec.linux_cfg, &sec, &e) && exec_open_ns(init, nsfd, &e);
    oci_state_close(&st);
    if (!ok) goto out;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) != 0) {
        oci_fail_errno(&e, "socketpair");
        goto out;
    }
    uint64_t cap = res.has_memory_limit ? oci_memory_cap(res.memory_limit) : 0;
    if (spec.terminal) {
        if (!o->console_socket) {
            oci_fail(&e, "exec: a terminal was asked for but no --console-socket was given");
            goto out;
        }
        console = oci_linux_console_open(o->console_socket, &e);
        if (console < 0) goto out;
    }
    /* rlimits and oomScoreAdj need the host's /proc: before joining. */
    fflush(NULL);
    pid_t mid = fork();
    if (mid < 0) {
        oci_fail_errno(&e, "fork");
        goto out;
    }
    if (mid == 0) {
        close(socks[0]);
        int sock = socks[1];
        oci_err ce = {{0}};
        if (!oci_security_apply_limits(&sec, &ce) || (has_cg && !oci_cgroup_add(&cg, getpid(), &ce))) {
            oci_sync_send(sock, EXEC_ERROR, 0, ce.msg);
            _exit(1);
        }
        for (size_t i = 0; i < EXEC_NNS; i++) {
            if (nsfd[i] < 0) continue;
            if (setns(nsfd[i], exec_ns[i].type) != 0) {
                oci_fail_errno(&ce, "exec: join the container's %s namespace", exec_ns[i].name);
                oci_sync_send(sock, EXEC_ERROR, 0, ce.msg);
                _exit(1);
            }
            close(nsfd[i]);
        }
        pid_t g = fork();
        if (g < 0) {
            oci_fail_errno(&ce, "exec: fork");
            oci_sync_send(sock, EXEC_ERROR, 0, ce.msg);
            _exit(1);
        }
        if (g == 0) exec_grandchild(sock, console, &spec, &sec, cap);
        oci_sync_send(sock, EXEC_PID, g, NULL);
        close(sock);
        if (o->detach) _exit(0);
        int gs = 0;
        while (waitpid(g, &gs, 0) < 0 && errno == EINTR) {
        }
        _exit(WIFEXITED(gs) ? WEXITSTATUS(gs) : 128 + WTERMSIG(gs));
    }
    close(socks[1]);
    socks[1] = -1;
    if (console >= 0) close(console);
    console = -1;
    pid_t gpid = 0;
    for (;;) {
        oci_sync_msg m;
        if (!oci_sync_recv(socks[0], &m)) {
            oci_fail(&e, "exec: the process exited during setup");
            break;
        }
        if (m.type == EXEC_PID) {
            gpid = m.pid;
        } else if (m.type == EXEC_ERROR) {
            snprintf(e.msg, sizeof e.msg, "%s", m.msg);
            break;
        } else if (m.type == EXEC_READY) {
            rc = 0;
            break;
        }
    }
    if (rc == 0 && o->pid_file && gpid > 0 && !oci_write_pid_file(o->pid_file, gpid, &e)) rc = 1;
    int ms = 0;
    while (waitpid(mid, &ms, 0) < 0 && errno == EINTR) {
    }
    if (rc == 0 && !o->detach) rc = WIFEXITED(ms) ? WEXITSTATUS(ms) : 128 + WTERMSIG(ms);
    if (rc != 0 && e.msg[0] && gpid > 0 && o->detach) kill(gpid, SIGKILL);
out:
    if (e.msg[0]) oci_log_error("%s", e.msg);
    for (size_t i = 0; i < EXEC_NNS; i++)
        if (nsfd[i] >= 0) close(nsfd[i]);
    if (socks[0] >= 0) close(socks[0]);
    if (socks[1] >= 0) close(socks[1]);
    if (console >= 0) close(console);
    json_decref(proc);
    oci_security_free(&sec);
    oci_resources_free(&res);
    oci_spec_free(&spec);
    return rc;
}
