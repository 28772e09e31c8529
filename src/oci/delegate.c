/*
 * delegate.c - containers that are not Wasm go to a Linux runtime (runc,
 * else crun) with our command line unchanged, so one runtime setting in
 * Docker or containerd serves mixed stacks. Both keep their state in the
 * same --root layout as we do (<root>/<id>/), so later verbs find the
 * owner by looking for our state file (oci_state_is_ours).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/oci.h"

static char delegate_path[PATH_MAX];

/* Never delegate to ourselves (wasmbox installed under the name runc). */
static bool delegate_is_self(const char *path) {
    struct stat a, b;
    return stat(path, &a) == 0 && stat("/proc/self/exe", &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

const char *oci_delegate_runtime(void) {
    const char *env = getenv("WASMBOX_LINUX_RUNTIME");
    if (env && env[0]) {
        if (access(env, X_OK) != 0 || delegate_is_self(env)) return NULL;
        snprintf(delegate_path, sizeof delegate_path, "%s", env);
        return delegate_path;
    }
    const char *names[] = {"runc", "crun"};
    const char *path = getenv("PATH");
    if (!path || !path[0]) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        const char *cursor = path;
        while (oci_path_next(&cursor, names[k], delegate_path, sizeof delegate_path))
            if (access(delegate_path, X_OK) == 0 && !delegate_is_self(delegate_path))
                return delegate_path;
    }
    return NULL;
}

int oci_delegate_exec(void) {
    const char *rt = oci_delegate_runtime();
    if (!rt) {
        const char *env = getenv("WASMBOX_LINUX_RUNTIME");
        if (env && env[0])
            oci_log_error("container is not WebAssembly and the Linux runtime "
                          "WASMBOX_LINUX_RUNTIME=%s cannot be run", env);
        else
            oci_log_error("container is not WebAssembly (its entrypoint has no \\0asm header "
                          "and no Wasm annotation is set) and no Linux runtime (runc or crun) "
                          "is installed to run it");
        return 1;
    }
    oci_log_debug("not a Wasm container: handing over to %s", rt);
    char **argv = calloc((size_t)oci_g.argc + 3, sizeof *argv);
    if (!argv) {
        oci_log_error("out of memory");
        return 1;
    }
    int n = 0;
    argv[n++] = (char *)rt;
    /* Without --root (Podman's way) runc would keep its state in its own
     * default folder, where our later verbs would not find it: both use
     * ours. */
    if (!oci_g.root_given) {
        argv[n++] = "--root";
        argv[n++] = (char *)oci_g.root;
    }
    for (int i = 1; i < oci_g.argc; i++) argv[n++] = oci_g.argv[i];
    execv(rt, argv);
    oci_log_error("cannot run the Linux runtime %s: %s", rt, strerror(errno));
    free(argv);
    return 1;
}
