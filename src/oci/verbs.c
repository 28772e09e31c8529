/*
 * verbs.c - the runtime verbs that act on an existing container: state,
 * kill, delete, list, ps, pause/resume, update; and features and spec.
 * A container that is not ours (a Linux one) is handed to the Linux
 * runtime with the command line unchanged.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci/runtime.h"

bool oci_maybe_delegate(const char *id, int *rc) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", oci_g.root, id);
    struct stat st;
    /* Ours, or nobody's (then our own "does not exist" is the answer). */
    if (oci_state_is_ours(oci_g.root, id) || stat(dir, &st) != 0) return false;
    *rc = oci_delegate_exec();
    return true;
}

static bool open_or_log(const char *id, bool exclusive, oci_state *st) {
    oci_err e = {{0}};
    if (oci_state_open(oci_g.root, id, exclusive, st, &e)) return true;
    oci_log_error("%s", e.msg);
    return false;
}

/* The start of every verb on one container: hand a Linux one over, else
 * open and lock ours. False with *rc set when the verb is done. */
static bool verb_open(const char *id, bool exclusive, oci_state *st, oci_status *status, int *rc) {
    if (oci_maybe_delegate(id, rc)) return false;
    if (!open_or_log(id, exclusive, st)) {
        *rc = 1;
        return false;
    }
    *status = oci_state_status(st);
    return true;
}

static void print_json(json_t *j) {
    char *text = json_dumps(j, JSON_INDENT(2));
    if (text) {
        puts(text);
        free(text);
    }
    fflush(stdout);
}

int oci_cmd_state(const char *id) {
    int rc;
    oci_state st;
    oci_status s;
    if (!verb_open(id, false, &st, &s, &rc)) return rc;
    json_t *j = oci_state_json(&st, s);
    oci_state_close(&st);
    if (!j) {
        oci_log_error("out of memory");
        return 1;
    }
    print_json(j);
    json_decref(j);
    return 0;
}

int oci_cmd_kill(const char *id, int sig, bool all) {
    int rc;
    oci_state st;
    oci_status s;
    if (!verb_open(id, false, &st, &s, &rc)) return rc;
    rc = 0;
    if (all && st.has_cgroup) {
        oci_err e = {{0}};
        if (!oci_cgroup_kill(&st.cgroup, sig, &e)) {
            oci_log_error("%s", e.msg);
            rc = 1;
        }
    } else if (s == OCI_STATUS_STOPPED || s == OCI_STATUS_CREATING) {
        oci_log_error("container %s is not running", id);
        rc = 1;
    } else if (kill(st.pid, sig) != 0) {
        oci_log_error("kill container %s (pid %d) with signal %d: %s", id, (int)st.pid, sig,
                      strerror(errno));
        rc = 1;
    }
    oci_state_close(&st);
    return rc;
}

/* Waits until the container's process is gone (up to `ms`). */
static bool wait_gone(const oci_state *st, int ms) {
    for (int i = 0; i < ms / 10; i++) {
        if (!oci_state_pid_alive(st)) return true;
        usleep(10000);
    }
    return !oci_state_pid_alive(st);
}

int oci_cmd_delete(const char *id, bool force) {
    int rc;
    oci_state st;
    oci_status s;
    if (!verb_open(id, true, &st, &s, &rc)) return rc;
    oci_err e = {{0}};
    if ((s == OCI_STATUS_RUNNING || s == OCI_STATUS_PAUSED) && !force) {
        oci_log_error("cannot delete container %s that is %s (stop it first, or use --force)", id,
                      oci_status_name(s));
        oci_state_close(&st);
        return 1;
    }
    if (s != OCI_STATUS_STOPPED && s != OCI_STATUS_CREATING) {
        /* A frozen process cannot act on SIGKILL until it is thawed. */
        if (st.has_cgroup) {
            oci_cgroup_kill(&st.cgroup, SIGKILL, &e);
            if (s == OCI_STATUS_PAUSED) oci_cgroup_freeze(&st.cgroup, false, &e);
        }
        if (oci_state_pid_alive(&st)) kill(st.pid, SIGKILL);
        if (!wait_gone(&st, 10000)) {
            oci_log_error("container %s: process %d did not exit after SIGKILL", id, (int)st.pid);
            oci_state_close(&st);
            return 1;
        }
    }
    rc = 0;
    if (st.has_cgroup && !oci_cgroup_destroy(&st.cgroup, &e)) {
        oci_log_error("%s", e.msg);
        rc = 1;
    }
    oci_spec spec;
    oci_err se = {{0}};
    if (st.bundle[0] && oci_spec_load(st.bundle, &spec, &se)) {
        json_t *state = oci_state_json(&st, OCI_STATUS_STOPPED);
        if (state && !oci_hooks_run(&spec, OCI_HOOK_POSTSTOP, state, &se))
            oci_log_error("container %s: %s", id, se.msg);
        json_decref(state);
        oci_spec_free(&spec);
    }
    oci_state_remove(&st);
    return rc;
}

/* Entries of the Linux runtime, from its own `list --format json`. */
static json_t *list_delegate(void) {
    const char *rt = oci_delegate_runtime();
    if (!rt) return NULL;
    int pfd[2];
    if (pipe(pfd) != 0) return NULL;
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return NULL;
    }
    if (pid == 0) {
        dup2(pfd[1], 1);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, 2);
        execl(rt, rt, "--root", oci_g.root, "list", "--format", "json", (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    FILE *f = fdopen(pfd[0], "r");
    json_t *j = f ? json_loadf(f, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
    if (f) fclose(f);
    else close(pfd[0]);
    waitpid(pid, NULL, 0);
    if (j && !json_is_array(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

int oci_cmd_list(bool as_json, bool quiet) {
    json_t *all = json_array();
    if (!all) return 1;
    DIR *d = opendir(oci_g.root);
    bool others = false;
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.') continue;
            if (!oci_state_is_ours(oci_g.root, de->d_name)) {
                others = true;
                continue;
            }
            oci_state st;
            oci_err e = {{0}};
            if (!oci_state_open(oci_g.root, de->d_name, false, &st, &e)) continue;
            json_t *j = oci_state_json(&st, oci_state_status(&st));
            oci_state_close(&st);
            if (j) json_array_append_new(all, j);
        }
        closedir(d);
    }
    if (others) {
        json_t *theirs = list_delegate();
        if (theirs) json_array_extend(all, theirs);
        json_decref(theirs);
    }
    size_t i;
    json_t *c;
    if (as_json) {
        print_json(all);
    } else if (quiet) {
        json_array_foreach(all, i, c) puts(json_string_value(json_object_get(c, "id")));
    } else {
        printf("%-20s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
               "OWNER");
        json_array_foreach(all, i, c) {
            const char *owner = json_string_value(json_object_get(c, "owner"));
            printf("%-20s %-8lld %-10s %-40s %-30s %s\n",
                   json_string_value(json_object_get(c, "id")),
                   (long long)json_integer_value(json_object_get(c, "pid")),
                   json_string_value(json_object_get(c, "status")),
                   json_string_value(json_object_get(c, "bundle")),
                   json_string_value(json_object_get(c, "created")), owner ? owner : "");
        }
    }
    json_decref(all);
    return 0;
}

int oci_cmd_ps(const char *id, bool as_json, char **ps_args, int nps_args) {
    int rc;
    if (oci_maybe_delegate(id, &rc)) return rc;
    oci_state st;
    if (!open_or_log(id, false, &st)) return 1;
    pid_t *pids = NULL;
    int n = 0;
    oci_err e = {{0}};
    if (st.has_cgroup) n = oci_cgroup_pids(&st.cgroup, &pids, &e);
    oci_state_close(&st);
    if (n < 0) {
        oci_log_error("%s", e.msg);
        return 1;
    }
    if (as_json) {
        json_t *arr = json_array();
        for (int i = 0; i < n; i++) json_array_append_new(arr, json_integer(pids[i]));
        char *text = json_dumps(arr, JSON_COMPACT);
        if (text) puts(text);
        free(text);
        json_decref(arr);
        free(pids);
        return 0;
    }
    /* Table: ps(1) for exactly these pids, like runc ps. */
    char list[8192] = "";
    size_t used = 0;
    for (int i = 0; i < n && used < sizeof list - 16; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%d", i ? "," : "", (int)pids[i]);
    free(pids);
    fflush(stdout);
    if (n == 0) {
        puts("UID          PID    PPID  C STIME TTY          TIME CMD");
        return 0;
    }
    char **argv = calloc((size_t)nps_args + 5, sizeof *argv);
    if (!argv) return 1;
    int k = 0;
    argv[k++] = "ps";
    if (nps_args == 0) argv[k++] = "-f";
    for (int i = 0; i < nps_args; i++) argv[k++] = ps_args[i];
    argv[k++] = "-p";
    argv[k++] = list;
    pid_t pid = fork();
    if (pid == 0) {
        execvp("ps", argv);
        _exit(127);
    }
    free(argv);
    int status = 1;
    if (pid > 0) waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int oci_cmd_pause(const char *id, bool pause) {
    int rc;
    oci_state st;
    oci_status s;
    if (!verb_open(id, true, &st, &s, &rc)) return rc;
    oci_err e = {{0}};
    rc = 0;
    if (pause && s != OCI_STATUS_RUNNING && s != OCI_STATUS_CREATED) {
        oci_log_error("cannot pause container %s: it is %s", id, oci_status_name(s));
        rc = 1;
    } else if (!pause && s != OCI_STATUS_PAUSED) {
        oci_log_error("cannot resume container %s: it is %s, not paused", id, oci_status_name(s));
        rc = 1;
    } else if (!st.has_cgroup || !oci_cgroup_freeze(&st.cgroup, pause, &e)) {
        oci_log_error("%s", st.has_cgroup ? e.msg : "container has no cgroup to freeze");
        rc = 1;
    }
    oci_state_close(&st);
    return rc;
}

int oci_cmd_update(const char *id, const oci_resources *r) {
    int rc;
    oci_state st;
    oci_status s;
    if (!verb_open(id, true, &st, &s, &rc)) return rc;
    oci_err e = {{0}};
    rc = 0;
    if (s == OCI_STATUS_STOPPED) {
        oci_log_error("cannot update container %s: it is stopped", id);
        rc = 1;
    } else if (!st.has_cgroup || !oci_cgroup_update(&st.cgroup, r, &e)) {
        oci_log_error("%s", st.has_cgroup ? e.msg : "container has no cgroup");
        rc = 1;
    }
    oci_state_close(&st);
    return rc;
}

int oci_cmd_features(void) {
    static const char *features =
        "{\n"
        "  \"ociVersionMin\": \"1.0.0\",\n"
        "  \"ociVersionMax\": \"1.1.0\",\n"
        "  \"hooks\": [\"prestart\", \"createRuntime\", \"createContainer\", "
        "\"startContainer\", \"poststart\", \"poststop\"],\n"
        "  \"mountOptions\": [\"async\", \"atime\", \"bind\", \"dev\", \"diratime\", \"dirsync\", "
        "\"exec\", \"loud\", \"mand\", \"noatime\", \"nodev\", \"nodiratime\", \"noexec\", "
        "\"nomand\", \"norelatime\", \"nostrictatime\", \"nosuid\", \"private\", \"rbind\", "
        "\"relatime\", \"remount\", \"ro\", \"rprivate\", \"rshared\", \"rslave\", "
        "\"runbindable\", \"rw\", \"shared\", \"silent\", \"slave\", \"strictatime\", "
        "\"suid\", \"sync\", \"unbindable\"],\n"
        "  \"linux\": {\n"
        "    \"namespaces\": [\"cgroup\", \"ipc\", \"mount\", \"network\", \"pid\", \"user\", "
        "\"uts\"],\n"
        "    \"capabilities\": [\"CAP_CHOWN\", \"CAP_DAC_OVERRIDE\", \"CAP_DAC_READ_SEARCH\", "
        "\"CAP_FOWNER\", \"CAP_FSETID\", \"CAP_KILL\", \"CAP_SETGID\", \"CAP_SETUID\", "
        "\"CAP_SETPCAP\", \"CAP_LINUX_IMMUTABLE\", \"CAP_NET_BIND_SERVICE\", "
        "\"CAP_NET_BROADCAST\", \"CAP_NET_ADMIN\", \"CAP_NET_RAW\", \"CAP_IPC_LOCK\", "
        "\"CAP_IPC_OWNER\", \"CAP_SYS_MODULE\", \"CAP_SYS_RAWIO\", \"CAP_SYS_CHROOT\", "
        "\"CAP_SYS_PTRACE\", \"CAP_SYS_PACCT\", \"CAP_SYS_ADMIN\", \"CAP_SYS_BOOT\", "
        "\"CAP_SYS_NICE\", \"CAP_SYS_RESOURCE\", \"CAP_SYS_TIME\", \"CAP_SYS_TTY_CONFIG\", "
        "\"CAP_MKNOD\", \"CAP_LEASE\", \"CAP_AUDIT_WRITE\", \"CAP_AUDIT_CONTROL\", "
        "\"CAP_SETFCAP\", \"CAP_MAC_OVERRIDE\", \"CAP_MAC_ADMIN\", \"CAP_SYSLOG\", "
        "\"CAP_WAKE_ALARM\", \"CAP_BLOCK_SUSPEND\", \"CAP_AUDIT_READ\", \"CAP_PERFMON\", "
        "\"CAP_BPF\", \"CAP_CHECKPOINT_RESTORE\"],\n"
        "    \"cgroup\": {\"v1\": true, \"v2\": true, \"systemd\": false, "
        "\"systemdUser\": false},\n"
        "    \"seccomp\": {\"enabled\": true, \"actions\": [\"SCMP_ACT_ALLOW\", "
        "\"SCMP_ACT_ERRNO\", \"SCMP_ACT_KILL\", \"SCMP_ACT_KILL_PROCESS\", "
        "\"SCMP_ACT_KILL_THREAD\", \"SCMP_ACT_LOG\", \"SCMP_ACT_TRACE\", \"SCMP_ACT_TRAP\"], "
        "\"operators\": [\"SCMP_CMP_EQ\", \"SCMP_CMP_GE\", \"SCMP_CMP_GT\", \"SCMP_CMP_LE\", "
        "\"SCMP_CMP_LT\", \"SCMP_CMP_MASKED_EQ\", \"SCMP_CMP_NE\"]},\n"
        "    \"apparmor\": {\"enabled\": false},\n"
        "    \"selinux\": {\"enabled\": false}\n"
        "  },\n"
        "  \"annotations\": {\n"
        "    \"io.github.wasmbox.wasm.handlers\": \"run.oci.handler=wasm|wasm-smart, "
        "module.wasm.image/variant=compat|compat-smart, \\\\0asm entrypoint\",\n"
        "    \"io.github.wasmbox.wasm.wasi\": \"wasi_snapshot_preview1\"\n"
        "  }\n"
        "}\n";
    fputs(features, stdout);
    return 0;
}

int oci_cmd_spec(const char *bundle) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/config.json", bundle ? bundle : ".");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == EEXIST)
            oci_log_error("%s exists; remove it first", path);
        else
            oci_log_error("%s: %s", path, strerror(errno));
        return 1;
    }
    /* A Wasm container: the module at /app.wasm, no kernel file systems,
     * no capabilities, the namespaces and limits of a hardened default. */
    static const char *tmpl =
        "{\n"
        "  \"ociVersion\": \"1.0.2\",\n"
        "  \"process\": {\n"
        "    \"terminal\": false,\n"
        "    \"user\": {\"uid\": 0, \"gid\": 0},\n"
        "    \"args\": [\"/app.wasm\"],\n"
        "    \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\n"
        "    \"cwd\": \"/\",\n"
        "    \"capabilities\": {\"bounding\": [], \"effective\": [], \"permitted\": []},\n"
        "    \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],\n"
        "    \"noNewPrivileges\": true\n"
        "  },\n"
        "  \"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
        "  \"hostname\": \"wasmbox\",\n"
        "  \"mounts\": [\n"
        "    {\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
        "     \"options\": [\"nosuid\", \"nodev\", \"mode=1777\", \"size=16m\"]}\n"
        "  ],\n"
        "  \"annotations\": {\"run.oci.handler\": \"wasm\"},\n"
        "  \"linux\": {\n"
        "    \"resources\": {\"memory\": {\"limit\": 134217728}, \"pids\": {\"limit\": 16}},\n"
        "    \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},\n"
        "                   {\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"cgroup\"}]\n"
        "  }\n"
        "}\n";
    size_t len = strlen(tmpl);
    bool ok = write(fd, tmpl, len) == (ssize_t)len;
    close(fd);
    if (!ok) {
        oci_log_error("%s: write failed", path);
        unlink(path);
        return 1;
    }
    return 0;
}
