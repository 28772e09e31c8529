/*
 * linux.c - the container's view of the file system, its terminal and
 * its descriptors. Runs in the container process, inside its new mount
 * namespace, before the module is loaded.
 *
 * Mount targets are resolved with openat2(RESOLVE_IN_ROOT) against the
 * rootfs and mounted through /proc/self/fd/N, so a symlink planted in an
 * image (say /data -> /etc) lands inside the rootfs, never on the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "oci/oci.h"

bool oci_sync_send(int fd, int type, int pid, const char *msg) {
    oci_sync_msg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.pid = pid;
    if (msg) snprintf(m.msg, sizeof m.msg, "%s", msg);
    ssize_t w;
    do w = send(fd, &m, sizeof m, MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    return w == (ssize_t)sizeof m;
}

int oci_sync_recv(int fd, oci_sync_msg *m) {
    ssize_t r;
    do r = recv(fd, m, sizeof *m, 0);
    while (r < 0 && errno == EINTR);
    if (r != (ssize_t)sizeof *m) return 0;
    m->msg[sizeof m->msg - 1] = '\0';
    return m->type;
}

bool oci_path_next(const char **cursor, const char *name, char *out, size_t size) {
    while (*cursor) {
        const char *p = *cursor;
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        *cursor = end ? end + 1 : NULL;
        if (len > 0 && len + strlen(name) + 2 <= size) {
            snprintf(out, size, "%.*s/%s", (int)len, p, name);
            return true;
        }
    }
    return false;
}

bool oci_write_pid_file(const char *path, pid_t pid, oci_err *e) {
    char tmp[PATH_MAX + 8];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return oci_fail(e, "--pid-file %s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return oci_fail_errno(e, "--pid-file %s", tmp);
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d", (int)pid);
    bool ok = write(fd, buf, (size_t)n) == n;
    close(fd);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return oci_fail_errno(e, "--pid-file %s", path);
    }
    return true;
}

bool oci_enter_cwd(const char *path, const char *shown, oci_err *e) {
    struct stat st;
    errno = 0;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) && chdir(path) == 0) return true;
    if (errno == 0) errno = ENOTDIR;
    return oci_fail_errno(e, "process.cwd %s: not a folder in the root filesystem", shown);
}

int oci_open_in_root(int rootfd, const char *path, int flags) {
    struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

/* Opens (O_PATH) `dest` inside the rootfs, creating missing components:
 * folders, and for the last one a folder or (is_file) an empty file. */
static int linux_mkpath_in_root(int rootfd, const char *dest, bool is_file, oci_err *e) {
    char prefix[PATH_MAX];
    size_t n = strlen(dest);
    if (n >= sizeof prefix) return oci_fail(e, "mount destination %s: too long", dest), -1;
    size_t i = 0;
    int fd = -1;
    while (i < n) {
        while (i < n && dest[i] == '/') i++;
        if (i >= n) break;
        size_t start = i;
        while (i < n && dest[i] != '/') i++;
        bool last = i >= n || dest[i + strspn(dest + i, "/")] == '\0';
        memcpy(prefix, dest, i);
        prefix[i] = '\0';
        int next = oci_open_in_root(rootfd, prefix, O_PATH);
        if (next < 0 && errno == ENOENT) {
            char name[NAME_MAX + 1];
            size_t len = i - start;
            if (len > NAME_MAX) {
                oci_fail(e, "mount destination %s: name too long", dest);
                break;
            }
            memcpy(name, dest + start, len);
            name[len] = '\0';
            int parent = fd >= 0 ? fd : rootfd;
            /* parent is O_PATH: mkdirat/mknodat accept it as a dirfd. */
            int r = (last && is_file) ? mknodat(parent, name, S_IFREG | 0644, 0)
                                      : mkdirat(parent, name, 0755);
            if (r != 0 && errno != EEXIST) {
                oci_fail_errno(e, "mount destination %s: create %s", dest, prefix);
                break;
            }
            next = oci_open_in_root(rootfd, prefix, O_PATH);
        }
        if (next < 0) {
            oci_fail_errno(e, "mount destination %s: %s", dest, prefix);
            break;
        }
        if (fd >= 0) close(fd);
        fd = next;
    }
    if (e->msg[0] && fd >= 0) {
        close(fd);
        return -1;
    }
    if (fd < 0 && !e->msg[0]) fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
    return fd;
}

static bool linux_is_kernel_fs(const char *type) {
    static const char *kinds[] = {"proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue",
                                  "securityfs", "debugfs", "tracefs", "bpf", "fusectl"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(type, kinds[i]) == 0) return true;
    return false;
}

static bool linux_mount_one(int rootfd, const oci_mount *m, oci_err *e) {
    bool is_file = false;
    if (m->bind) {
        struct stat st;
        if (stat(m->source, &st) != 0) return oci_fail_errno(e, "mount %s: source %s", m->destination, m->source);
        is_file = !S_ISDIR(st.st_mode);
    }
    e->msg[0] = '\0';
    int fd = linux_mkpath_in_root(rootfd, m->destination, is_file, e);
    if (fd < 0) return false;
    char target[64];
    snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
    bool ok = true;
    unsigned long flags = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
    if (m->bind) {
        if (mount(m->source, target, NULL, MS_BIND | (m->flags & MS_REC), NULL) != 0)
            ok = oci_fail_errno(e, "mount %s on %s (bind)", m->source, m->destination);
    } else {
        if (mount(m->source ? m->source : m->type, target, m->type, flags, m->data) != 0)
            ok = oci_fail_errno(e, "mount %s on %s (%s)", m->source ? m->source : m->type,
                                m->destination, m->type);
    }
    close(fd);
    if (!ok || !(m->propagation || (m->bind && flags))) return ok;
    /* The descriptor names the folder under the new mount; open it again
     * to reach the mount itself for the calls below. */
    fd = oci_open_in_root(rootfd, m->destination, O_PATH);
    if (fd < 0) return oci_fail_errno(e, "mount %s: reopen", m->destination);
    snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
    /* Bind mounts ignore flags: a second, remounting call applies them. */
    if (m->bind && flags && mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags, NULL) != 0)
        ok = oci_fail_errno(e, "mount %s: remount with its options", m->destination);
    if (ok && m->propagation && mount(NULL, target, NULL, m->propagation, NULL) != 0)
        ok = oci_fail_errno(e, "mount %s: set propagation", m->destination);
    close(fd);
    return ok;
}

bool oci_linux_mount_rootfs(const oci_spec *s, bool with_kernel_fs, oci_err *e) {
    unsigned long prop = s->rootfs_propagation ? s->rootfs_propagation : MS_SLAVE | MS_REC;
    if (mount(NULL, "/", NULL, prop, NULL) != 0)
        return oci_fail_errno(e, "make / %s", (prop & MS_SHARED) ? "shared" : "a slave");
    if (mount(s->root_path, s->root_path, NULL, MS_BIND | MS_REC, NULL) != 0)
        return oci_fail_errno(e, "bind the root filesystem %s", s->root_path);
    int rootfd = open(s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) return oci_fail_errno(e, "root filesystem %s", s->root_path);
    for (int i = 0; i < s->nmounts; i++) {
        const oci_mount *m = &s->mounts[i];
        if (!with_kernel_fs && linux_is_kernel_fs(m->type)) {
            oci_log_debug("mount %s (%s): not mounted for a Wasm container", m->destination,
                          m->type);
            continue;
        }
        if (!linux_mount_one(rootfd, m, e)) {
            close(rootfd);
            return false;
        }
    }
    close(rootfd);
    return true;
}

bool oci_linux_pivot(const oci_spec *s, bool no_pivot, oci_err *e) {
    if (chdir(s->root_path) != 0) return oci_fail_errno(e, "chdir %s", s->root_path);
    if (no_pivot) {
        if (mount(s->root_path, "/", NULL, MS_MOVE, NULL) != 0)
            return oci_fail_errno(e, "move the root filesystem to /");
        if (chroot(".") != 0) return oci_fail_errno(e, "chroot %s", s->root_path);
    } else {
        /* pivot_root(".", ".") stacks the old root on top of the new one;
         * unmounting "." then drops the whole host tree from our view. */
        if (syscall(SYS_pivot_root, ".", ".") != 0)
            return oci_fail_errno(e, "pivot_root %s", s->root_path);
        if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) != 0)
            return oci_fail_errno(e, "make the old root a slave");
        if (umount2(".", MNT_DETACH) != 0) return oci_fail_errno(e, "unmount the old root");
    }
    if (chdir("/") != 0) return oci_fail_errno(e, "chdir /");
    if (s->root_readonly && mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) != 0)
        return oci_fail_errno(e, "make the root filesystem read-only");
    return true;
}

static int linux_cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

void oci_linux_close_fds(const int *keep, int nkeep) {
    int sorted[16];
    int n = 0;
    for (int i = 0; i < nkeep && n < 16; i++)
        if (keep[i] >= 3) sorted[n++] = keep[i];
    qsort(sorted, (size_t)n, sizeof sorted[0], linux_cmp_int);
    unsigned int from = 3;
    for (int i = 0; i < n; i++) {
        if ((unsigned)sorted[i] > from) syscall(SYS_close_range, from, (unsigned)sorted[i] - 1, 0);
        from = (unsigned)sorted[i] + 1;
    }
    syscall(SYS_close_range, from, ~0U, 0);
}

static int oci_linux_connect_console(const char *socket_path, oci_err *e) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(socket_path) >= sizeof addr.sun_path)
        return oci_fail(e, "--console-socket %s: path too long", socket_path), -1;
    strcpy(addr.sun_path, socket_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return oci_fail_errno(e, "--console-socket: socket"), -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        oci_fail_errno(e, "--console-socket %s: connect", socket_path);
        close(fd);
        return -1;
    }
    return fd;
}

int oci_linux_console_open(const char *socket_path, oci_err *e) {
    int sockfd = oci_linux_connect_console(socket_path, e);
    if (sockfd < 0) return -1;
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) {
        close(sockfd);
        return oci_fail_errno(e, "console: open /dev/ptmx"), -1;
    }
    char name[64];
    int slave = -1;
    if (grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, name, sizeof name) != 0) {
        oci_fail_errno(e, "console: set up the pty");
        goto out;
    }
    slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) {
        oci_fail_errno(e, "console: open %s", name);
        goto out;
    }
    /* The master goes to whoever listens on the socket (the shim), with
     * the pty's name as the message, as runc sends it. */
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = {.iov_base = name, .iov_len = strlen(name)};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &master, sizeof(int));
    if (sendmsg(sockfd, &msg, MSG_NOSIGNAL) < 0) {
        oci_fail_errno(e, "console: send the pty master to %s", socket_path);
        close(slave);
        slave = -1;
    }
out:
    close(master);
    close(sockfd);
    return slave;
}

bool oci_linux_console_attach(int slave, oci_err *e) {
    setsid();
    if (ioctl(slave, TIOCSCTTY, 0) != 0) return oci_fail_errno(e, "console: TIOCSCTTY");
    for (int i = 0; i < 3; i++)
        if (dup2(slave, i) < 0) return oci_fail_errno(e, "console: dup2");
    if (slave > 2) close(slave);
    return true;
}

bool oci_linux_sysctl(const oci_spec *s, oci_err *e) {
    if (!s->sysctl) return true;
    const char *key;
    json_t *val;
    json_object_foreach(s->sysctl, key, val) {
        if (!json_is_string(val))
            return oci_fail(e, "config.json: linux.sysctl.%s: must be a string", key);
        if (strstr(key, "..") || strchr(key, '/'))
            return oci_fail(e, "config.json: linux.sysctl: invalid key '%s'", key);
        char path[PATH_MAX];
        snprintf(path, sizeof path, "/proc/sys/%s", key);
        for (char *p = path + 10; *p; p++)
            if (*p == '.') *p = '/';
        int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) return oci_fail_errno(e, "sysctl %s", key);
        const char *v = json_string_value(val);
        ssize_t w = write(fd, v, strlen(v));
        int saved = errno;
        close(fd);
        errno = saved;
        if (w < 0) return oci_fail_errno(e, "sysctl %s = %s", key, v);
    }
    return true;
}

static const struct {
    const char *name;
    int sig;
} linux_signals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},
    {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},     {"IOT", SIGIOT},     {"BUS", SIGBUS},
    {"FPE", SIGFPE},   {"KILL", SIGKILL},     {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},   {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},   {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},   {"URG", SIGURG},
    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH}, {"IO", SIGIO},       {"POLL", SIGPOLL},   {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

int oci_signal_parse(const char *name) {
    char *end;
    if (name[0] >= '0' && name[0] <= '9') {
        long v = strtol(name, &end, 10);
        return (*end == '\0' && v > 0 && v < NSIG) ? (int)v : -1;
    }
    const char *n = name;
    if (strncasecmp(n, "SIG", 3) == 0) n += 3;
    for (size_t i = 0; i < sizeof linux_signals / sizeof linux_signals[0]; i++)
        if (strcasecmp(n, linux_signals[i].name) == 0) return linux_signals[i].sig;
    if (strncasecmp(n, "RTMIN", 5) == 0 || strncasecmp(n, "RTMAX", 5) == 0) {
        bool min = strncasecmp(n, "RTMIN", 5) == 0;
        long off = 0;
        if (n[5] != '\0') {
            off = strtol(n + 5, &end, 10);
            if (*end != '\0') return -1;
        }
        int v = min ? SIGRTMIN + (int)off : SIGRTMAX + (int)off;
        return (v >= SIGRTMIN && v <= SIGRTMAX) ? v : -1;
    }
    return -1;
}
