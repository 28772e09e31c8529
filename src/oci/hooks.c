/*
 * hooks.c - OCI lifecycle hooks: each is run with its args and env, the
 * container's state JSON on stdin, and its timeout; a failing hook fails
 * the operation that ran it (except poststart/poststop, whose callers
 * only log). Docker relies on one: its prestart "libnetwork-setkey".
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oci/oci.h"

static const char *hook_kind_name(int kind) {
    static const char *names[OCI_HOOK_KINDS] = {"prestart",       "createRuntime",
                                                "createContainer", "startContainer",
                                                "poststart",      "poststop"};
    return names[kind];
}

static bool hook_run_one(const oci_hook *h, const char *kind, int idx, const char *state,
                         oci_err *e) {
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) return oci_fail_errno(e, "hook %s[%d]: pipe", kind, idx);
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return oci_fail_errno(e, "hook %s[%d]: fork", kind, idx);
    }
    if (pid == 0) {
        dup2(pfd[0], 0);
        /* The hook's output goes to our stderr, never into the container's
         * stdout: the shim handed stdout to the workload. */
        dup2(2, 1);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        char *const noargs[] = {h->path, NULL};
        char *const noenv[] = {NULL};
        execve(h->path, h->args && h->args[0] ? h->args : noargs, h->env ? h->env : noenv);
        fprintf(stderr, "wasmbox: hook %s[%d] %s: %s\n", kind, idx, h->path, strerror(errno));
        _exit(127);
    }
    close(pfd[0]);
    size_t len = strlen(state), off = 0;
    while (off < len) {
        ssize_t w = write(pfd[1], state + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break; /* the hook need not read its stdin */
        off += (size_t)w;
    }
    close(pfd[1]);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, h->timeout ? WNOHANG : 0);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) return oci_fail_errno(e, "hook %s[%d]: wait", kind, idx);
        if (r == 0) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec - start.tv_sec >= h->timeout) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                return oci_fail(e, "hook %s[%d] %s: timed out after %d s", kind, idx, h->path,
                                h->timeout);
            }
            usleep(10000);
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
    if (WIFEXITED(status))
        return oci_fail(e, "hook %s[%d] %s: exit status %d", kind, idx, h->path,
                        WEXITSTATUS(status));
    return oci_fail(e, "hook %s[%d] %s: killed by signal %d", kind, idx, h->path,
                    WTERMSIG(status));
}

bool oci_hooks_run(const oci_spec *s, int kind, json_t *state, oci_err *e) {
    if (s->nhooks[kind] == 0) return true;
    char *text = json_dumps(state, JSON_COMPACT);
    if (!text) return oci_fail(e, "out of memory");
    bool ok = true;
    for (int i = 0; i < s->nhooks[kind] && ok; i++) {
        oci_log_debug("running hook %s[%d] %s", hook_kind_name(kind), i, s->hooks[kind][i].path);
        ok = hook_run_one(&s->hooks[kind][i], hook_kind_name(kind), i, text, e);
    }
    free(text);
    return ok;
}
