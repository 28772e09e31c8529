/*
 * state.c - one folder per container under --root: <root>/<id>/.
 *
 *   wasmbox.json  what later verbs need (pid and its start time, bundle,
 *                 cgroup, creation time, annotations); written atomically
 *                 (temp file + rename). Its presence marks the container
 *                 as ours: a folder without it belongs to the Linux runtime
 *                 (runc keeps state.json in the same layout).
 *   exec.fifo     exists from create until start (see container.c).
 *   lock          flock()ed by every verb for the container's id, so two
 *                 runtime processes never act on one container at once.
 *
 * create makes the folder with mkdir(2), which fails for the second of
 * two racing creates: ids are unique without any other coordination.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "oci/oci.h"

#define STATE_FILE "wasmbox.json"

bool oci_id_valid(const char *id, oci_err *e) {
    size_t n = strlen(id);
    if (n == 0 || n > 255) return oci_fail(e, "invalid container id '%s' (1 to 255 characters)", id);
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (i > 0 && (c == '_' || c == '.' || c == '+' || c == '-'));
        if (!ok)
            return oci_fail(e, "invalid container id '%s' (letters, digits and _.+- only, "
                               "starting with a letter or digit)", id);
    }
    return true;
}

static bool state_mkroot(const char *root, oci_err *e) {
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", root) >= (int)sizeof buf)
        return oci_fail(e, "--root %s: path too long", root);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0711) != 0 && errno != EEXIST) return oci_fail_errno(e, "--root %s: mkdir %s", root, buf);
        *p = '/';
    }
    if (mkdir(buf, 0711) != 0 && errno != EEXIST) return oci_fail_errno(e, "--root %s", root);
    return true;
}

static void state_init(oci_state *st) {
    memset(st, 0, sizeof *st);
    st->dirfd = -1;
    st->lockfd = -1;
}

static bool state_lock(oci_state *st, bool exclusive, oci_err *e) {
    st->lockfd = openat(st->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (st->lockfd < 0) return oci_fail_errno(e, "%s/lock", st->dir);
    while (flock(st->lockfd, exclusive ? LOCK_EX : LOCK_SH) != 0)
        if (errno != EINTR) return oci_fail_errno(e, "%s/lock: flock", st->dir);
    return true;
}

bool oci_state_create(const char *root, const char *id, oci_state *st, oci_err *e) {
    state_init(st);
    if (!oci_id_valid(id, e) || !state_mkroot(root, e)) return false;
    snprintf(st->id, sizeof st->id, "%s", id);
    if (snprintf(st->dir, sizeof st->dir, "%s/%s", root, id) >= (int)sizeof st->dir)
        return oci_fail(e, "--root %s: path too long", root);
    if (mkdir(st->dir, 0711) != 0) {
        if (errno == EEXIST) return oci_fail(e, "container with id %s already exists", id);
        return oci_fail_errno(e, "state folder %s", st->dir);
    }
    st->dirfd = open(st->dir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (st->dirfd < 0 || !state_lock(st, true, e)) {
        if (st->dirfd < 0) oci_fail_errno(e, "state folder %s", st->dir);
        oci_state_remove(st);
        return false;
    }
    return true;
}

bool oci_state_is_ours(const char *root, const char *id) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s/" STATE_FILE, root, id);
    return access(p, F_OK) == 0;
}

static bool state_load(oci_state *st, oci_err *e) {
    int fd = openat(st->dirfd, STATE_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) return oci_fail(e, "container %s does not exist", st->id);
        return oci_fail_errno(e, "%s/" STATE_FILE, st->dir);
    }
    json_error_t jerr;
    json_t *j = json_loadfd(fd, 0, &jerr);
    close(fd);
    if (!j) return oci_fail(e, "%s/" STATE_FILE ": corrupt: %s", st->dir, jerr.text);
    json_int_t pid = 0;
    int cg_v2 = 0, own_pidns = 0;
    json_int_t start = 0;
    const char *bundle = "", *created = "", *cgpath = NULL, *owner = "";
    json_t *ann = NULL;
    if (json_unpack_ex(j, &jerr, 0, "{s:I, s:I, s:s, s:s, s?s, s?b, s?b, s?o, s?s}", "pid", &pid,
                       "start_time", &start, "bundle", &bundle, "created", &created,
                       "cgroup", &cgpath, "cgroup_v2", &cg_v2, "own_pidns", &own_pidns,
                       "annotations", &ann, "owner", &owner) != 0) {
        json_decref(j);
        return oci_fail(e, "%s/" STATE_FILE ": corrupt: %s", st->dir, jerr.text);
    }
    st->pid = (pid_t)pid;
    st->start_time = (unsigned long long)start;
    snprintf(st->bundle, sizeof st->bundle, "%s", bundle);
    snprintf(st->created, sizeof st->created, "%s", created);
    snprintf(st->owner, sizeof st->owner, "%s", owner);
    if (cgpath) {
        st->has_cgroup = true;
        st->cgroup.v2 = cg_v2 != 0;
        snprintf(st->cgroup.path, sizeof st->cgroup.path, "%s", cgpath);
    }
    st->own_pidns = own_pidns != 0;
    if (ann && json_is_object(ann)) st->annotations = json_deep_copy(ann);
    json_decref(j);
    return true;
}

bool oci_state_open(const char *root, const char *id, bool exclusive, oci_state *st, oci_err *e) {
    state_init(st);
    if (!oci_id_valid(id, e)) return false;
    snprintf(st->id, sizeof st->id, "%s", id);
    if (snprintf(st->dir, sizeof st->dir, "%s/%s", root, id) >= (int)sizeof st->dir)
        return oci_fail(e, "--root %s: path too long", root);
    st->dirfd = open(st->dir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (st->dirfd < 0) {
        if (errno == ENOENT) return oci_fail(e, "container %s does not exist", id);
        return oci_fail_errno(e, "state folder %s", st->dir);
    }
    if (!state_lock(st, exclusive, e) || !state_load(st, e)) {
        oci_state_close(st);
        return false;
    }
    return true;
}

bool oci_state_save(oci_state *st, oci_err *e) {
    json_t *j = json_pack("{s:I, s:I, s:s, s:s, s:s, s:b, s:b, s:s}", "pid", (json_int_t)st->pid,
                          "start_time", (json_int_t)st->start_time, "bundle", st->bundle,
                          "created", st->created, "cgroup", st->has_cgroup ? st->cgroup.path : "",
                          "cgroup_v2", st->cgroup.v2, "own_pidns", st->own_pidns, "owner",
                          st->owner);
    if (!j) return oci_fail(e, "out of memory");
    if (!st->has_cgroup) json_object_del(j, "cgroup");
    if (st->annotations) json_object_set(j, "annotations", st->annotations);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text) return oci_fail(e, "out of memory");
    bool ok = false;
    int fd = openat(st->dirfd, STATE_FILE ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        oci_fail_errno(e, "%s/" STATE_FILE ".tmp", st->dir);
    } else {
        size_t len = strlen(text);
        ok = write(fd, text, len) == (ssize_t)len;
        if (!ok) oci_fail_errno(e, "%s/" STATE_FILE ": write", st->dir);
        close(fd);
        if (ok && renameat(st->dirfd, STATE_FILE ".tmp", st->dirfd, STATE_FILE) != 0)
            ok = oci_fail_errno(e, "%s/" STATE_FILE ": rename", st->dir);
    }
    free(text);
    return ok;
}

void oci_state_close(oci_state *st) {
    if (st->lockfd >= 0) close(st->lockfd);
    if (st->dirfd >= 0) close(st->dirfd);
    st->lockfd = st->dirfd = -1;
    json_decref(st->annotations);
    st->annotations = NULL;
}

void oci_state_remove(oci_state *st) {
    /* The folder holds only files we made; unlink them, then the folder.
     * The lock stays held until the folder is gone, so a waiting verb
     * finds "does not exist" rather than a half-removed container. */
    DIR *d = opendir(st->dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
    }
    rmdir(st->dir);
    oci_state_close(st);
}

unsigned long long oci_proc_start_time(pid_t pid) {
    if (pid <= 0) return 0;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: skip to the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p) return 0;
    p += 2;
    char state = *p;
    if (state == 'Z' || state == 'X') return 0; /* exited, not yet reaped */
    /* Fields after the name start at 3 (state); starttime is field 22. */
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p, ' ');
        if (p) p++;
    }
    return p ? strtoull(p, NULL, 10) : 0;
}

bool oci_state_pid_alive(const oci_state *st) {
    if (st->pid <= 0) return false;
    unsigned long long t = oci_proc_start_time(st->pid);
    return t != 0 && t == st->start_time;
}

oci_status oci_state_status(const oci_state *st) {
    if (!oci_state_pid_alive(st)) return st->pid > 0 ? OCI_STATUS_STOPPED : OCI_STATUS_CREATING;
    if (st->has_cgroup && oci_cgroup_is_frozen(&st->cgroup)) return OCI_STATUS_PAUSED;
    if (st->dirfd >= 0 && faccessat(st->dirfd, "exec.fifo", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
        return OCI_STATUS_CREATED;
    return OCI_STATUS_RUNNING;
}

const char *oci_status_name(oci_status s) {
    switch (s) {
    case OCI_STATUS_CREATING: return "creating";
    case OCI_STATUS_CREATED: return "created";
    case OCI_STATUS_RUNNING: return "running";
    case OCI_STATUS_PAUSED: return "paused";
    case OCI_STATUS_STOPPED: return "stopped";
    }
    return "unknown";
}

json_t *oci_state_json(const oci_state *st, oci_status status) {
    json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s}", "ociVersion", "1.0.2", "id",
                          st->id, "status", oci_status_name(status), "pid",
                          status == OCI_STATUS_STOPPED ? 0 : (int)st->pid, "bundle", st->bundle,
                          "created", st->created, "owner", st->owner);
    if (j && st->annotations) json_object_set(j, "annotations", st->annotations);
    return j;
}
