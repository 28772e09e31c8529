/*
 * detect.c - is this container a Wasm one, and where is its module?
 *
 * argv[0] is resolved inside the rootfs the way a shell inside the
 * container would (absolute; relative to cwd when it has a slash; else
 * through the container's PATH), but with openat2(RESOLVE_IN_ROOT) so that
 * no symlink in the image can point the lookup at a host file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/oci.h"

/* Opens candidate `path`; true when it is a regular file. */
static bool detect_try(int rootfd, const char *path, int *fd, int *why) {
    int f = oci_open_in_root(rootfd, path, O_RDONLY | O_NOCTTY);
    if (f < 0) {
        *why = errno;
        return false;
    }
    struct stat st;
    if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
        *why = S_ISDIR(st.st_mode) ? EISDIR : EACCES;
        close(f);
        return false;
    }
    *fd = f;
    return true;
}

bool oci_find_entrypoint(int rootfd, const oci_spec *s, int *fd, char *guest_path, oci_err *e) {
    const char *a0 = s->args[0];
    int why = ENOENT;
    *fd = -1;
    if (strchr(a0, '/')) {
        if (a0[0] == '/')
            snprintf(guest_path, PATH_MAX, "%s", a0);
        else
            snprintf(guest_path, PATH_MAX, "%s%s%s", s->cwd,
                     s->cwd[strlen(s->cwd) - 1] == '/' ? "" : "/", a0);
        if (detect_try(rootfd, guest_path, fd, &why)) return true;
        errno = why;
        return oci_fail_errno(e, "entrypoint '%s' (process.args[0]) in the root filesystem %s",
                              a0, s->root_path);
    }
    const char *path = oci_spec_env(s, "PATH");
    if (!path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    const char *cursor = path;
    while (oci_path_next(&cursor, a0, guest_path, PATH_MAX)) {
        int w;
        if (detect_try(rootfd, guest_path, fd, &w)) return true;
    }
    return oci_fail(e, "entrypoint '%s' (process.args[0]) not found in the root filesystem %s "
                       "through PATH=%s", a0, s->root_path, path);
}

bool oci_is_wasm_fd(int fd) {
    unsigned char magic[4];
    ssize_t n = pread(fd, magic, sizeof magic, 0);
    return n == 4 && memcmp(magic, "\0asm", 4) == 0;
}

/* `docker run --init` puts its init first: ["/sbin/docker-init", "--",
 * "/app.wasm", ...]. A Wasm module needs no init (the runtime forwards
 * signals and nothing is left to reap), and docker-init cannot execute a
 * module anyway, so the init is dropped when what follows "--" is Wasm. */
static void detect_strip_init(oci_spec *s, int rootfd) {
    const char *base = strrchr(s->args[0], '/');
    base = base ? base + 1 : s->args[0];
    if (strcmp(base, "docker-init") != 0 && strcmp(base, "tini") != 0) return;
    int k = 1;
    while (k < s->nargs && strcmp(s->args[k], "--") != 0) k++;
    if (k + 1 >= s->nargs) return;
    oci_spec view = *s;
    view.args = s->args + k + 1;
    view.nargs = s->nargs - k - 1;
    int fd;
    char guest[PATH_MAX];
    oci_err ignored;
    if (!oci_find_entrypoint(rootfd, &view, &fd, guest, &ignored)) return;
    bool wasm = oci_is_wasm_fd(fd);
    close(fd);
    if (!wasm) return;
    for (int i = 0; i <= k; i++) free(s->args[i]);
    memmove(s->args, s->args + k + 1, (size_t)(s->nargs - k) * sizeof *s->args);
    s->nargs -= k + 1;
    oci_log_debug("dropped %s: the runtime is the init of a Wasm container", base);
}

bool oci_detect(oci_spec *s, oci_kind *kind, oci_err *e) {
    int rootfd = open(s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) return oci_fail_errno(e, "root filesystem %s", s->root_path);
    detect_strip_init(s, rootfd);
    const char *handler = oci_spec_annotation(s, "run.oci.handler");
    const char *variant = oci_spec_annotation(s, "module.wasm.image/variant");
    size_t a0len = strlen(s->args[0]);
    bool ends_wasm = a0len >= 5 && strcmp(s->args[0] + a0len - 5, ".wasm") == 0;
    bool annotated = (handler && strcmp(handler, "wasm") == 0) ||
                     (variant && strcmp(variant, "compat") == 0) ||
                     (ends_wasm && ((handler && strcmp(handler, "wasm-smart") == 0) ||
                                    (variant && strcmp(variant, "compat-smart") == 0)));
    int fd;
    char guest[PATH_MAX];
    oci_err lookup;
    bool found = oci_find_entrypoint(rootfd, s, &fd, guest, &lookup);
    close(rootfd);
    if (!found) {
        /* A missing "x.wasm" is a Wasm container with a broken image:
         * say so, rather than let runc report a missing binary. */
        if (annotated || ends_wasm) {
            *e = lookup;
            return false;
        }
        /* Not ours to judge: the Linux runtime reports a missing binary. */
        *kind = OCI_KIND_LINUX;
        return true;
    }
    bool magic = oci_is_wasm_fd(fd);
    close(fd);
    if (annotated && !magic)
        return oci_fail(e, "entrypoint %s is marked as Wasm (annotations) but is not a "
                           "WebAssembly module (no \\0asm header)", guest);
    *kind = magic ? OCI_KIND_WASM : OCI_KIND_LINUX;
    return true;
}
