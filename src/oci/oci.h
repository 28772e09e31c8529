/*
 * oci.h - the OCI runtime layer: what `wasmbox create/start/kill/...`
 * (runc's command line) share. Linux only; GNU C.
 *
 * Files:
 *   spec.c      config.json -> oci_spec (everything checked up front)
 *   detect.c    is this a Wasm container? (annotations, magic bytes)
 *   state.c     the state folder <root>/<id>/ and its lock
 *   container.c create/start/kill/delete/exec: the process model
 *   linux.c     namespaces, mounts, pivot_root, console, descriptors
 *   cgroup.c    cgroup v1 and v2 from linux.resources
 *   security.c  rlimits, user, capabilities, no_new_privs, seccomp
 *   hooks.c     OCI hooks, run with the state on stdin
 *   delegate.c  non-Wasm containers handed to runc (or crun) unchanged
 *   log.c       --log / --log-format json|text
 *
 * Errors: every function that can fail takes an oci_err and returns false
 * (or -1) after writing one line into it that names what failed and where,
 * e.g. "config.json: process.args: must be a non-empty array".
 */
#ifndef WASMBOX_OCI_H
#define WASMBOX_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <jansson.h>

typedef struct oci_err {
    char msg[1024];
} oci_err;

/* Writes the message and returns false. */
bool oci_fail(oci_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, with ": strerror(errno)" appended (errno read on entry). */
bool oci_fail_errno(oci_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------ log.c */

/* Global runtime options (before the verb), as runc takes them. */
typedef struct oci_globals {
    const char *root;       /* --root, default /run/wasmbox */
    bool root_given;        /* --root was on the command line */
    const char *log;        /* --log FILE, NULL: stderr only */
    bool log_json;          /* --log-format json */
    bool systemd_cgroup;    /* --systemd-cgroup */
    bool debug;             /* --debug */
    int argc;               /* the whole original command line, for delegation */
    char **argv;
} oci_globals;

extern oci_globals oci_g;

/* Logs at "error" level to stderr and to the --log file (JSON lines
 * {"level":"error","msg":...,"time":...} with --log-format json, which is
 * where containerd's shim reads the message Docker shows). */
void oci_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The current time in RFC 3339 with nanoseconds, UTC. */
void oci_timestamp(char *buf, size_t size);
/* Debug/info lines: only to the --log file (and stderr with --debug). */
void oci_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ------------------------------------------------------------ cgroup.c */

typedef struct oci_resources {
    bool has_memory_limit;
    int64_t memory_limit;       /* bytes; -1 unlimited */
    bool has_memory_reservation;
    int64_t memory_reservation;
    bool has_memory_swap;
    int64_t memory_swap;        /* memory+swap, bytes; -1 unlimited */
    bool has_cpu_shares;
    uint64_t cpu_shares;
    bool has_cpu_quota;
    int64_t cpu_quota;          /* microseconds per period; -1 unlimited */
    bool has_cpu_period;
    uint64_t cpu_period;
    char *cpuset_cpus;          /* NULL: unset */
    char *cpuset_mems;
    bool has_pids_limit;
    int64_t pids_limit;         /* <= 0: unlimited */
    json_t *devices;            /* borrowed linux.resources.devices or NULL */
} oci_resources;

/* Parses linux.resources (NULL or null: nothing set). */
bool oci_resources_parse(json_t *j, oci_resources *r, oci_err *e);
void oci_resources_free(oci_resources *r);

typedef struct oci_cgroup {
    bool v2;             /* unified hierarchy at /sys/fs/cgroup */
    char path[4096];     /* cgroup path below each hierarchy's root, "/a/b" */
} oci_cgroup;

/* Resolves linux.cgroupsPath (NULL/"" -> "/wasmbox/<id>"; with systemd,
 * "slice:prefix:name" -> "/slice/prefix-name.scope"; a relative path is
 * taken below the runtime's own cgroup) and detects v1/v2. */
bool oci_cgroup_init(oci_cgroup *cg, const char *cgroups_path, const char *id,
                     bool systemd, oci_err *e);
/* Creates the cgroup (every v1 controller, or the v2 folder with the
 * controllers enabled on the way down) and writes the limits. */
bool oci_cgroup_create(const oci_cgroup *cg, const oci_resources *r, oci_err *e);
bool oci_cgroup_add(const oci_cgroup *cg, pid_t pid, oci_err *e);
bool oci_cgroup_update(const oci_cgroup *cg, const oci_resources *r, oci_err *e);
/* Pids in the cgroup (malloc'd array; count returned, -1 on error). */
int oci_cgroup_pids(const oci_cgroup *cg, pid_t **out, oci_err *e);
bool oci_cgroup_freeze(const oci_cgroup *cg, bool frozen, oci_err *e);
bool oci_cgroup_is_frozen(const oci_cgroup *cg);
/* Signals every process in the cgroup. */
bool oci_cgroup_kill(const oci_cgroup *cg, int sig, oci_err *e);
/* Removes the cgroup folders (waits briefly for exiting processes);
 * a missing cgroup is not an error. */
bool oci_cgroup_destroy(const oci_cgroup *cg, oci_err *e);

/* ------------------------------------------------------------ security.c */

typedef struct oci_rlimit {
    int resource;
    struct rlimit lim;
} oci_rlimit;

typedef struct oci_seccomp oci_seccomp; /* opaque: a built libseccomp filter */

typedef struct oci_security {
    /* process.user */
    uid_t uid;
    gid_t gid;
    gid_t *gids;
    int ngids;
    bool has_umask;
    mode_t umask;
    /* process.capabilities: bit masks (bit n = capability n); a set
     * that config.json omits is empty, as in runc. */
    bool has_caps;
    uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
    bool no_new_privileges;
    oci_rlimit *rlimits;
    int nrlimits;
    oci_seccomp *seccomp;       /* NULL: none */
    int oom_score_adj;
    bool has_oom_score_adj;
} oci_security;

/* Parses process.user, process.capabilities, process.noNewPrivileges,
 * process.rlimits, process.oomScoreAdj and linux.seccomp (either may be
 * NULL). Unknown capability, rlimit or syscall-action names are errors
 * naming the entry; unknown syscall names are skipped (as runc does). */
bool oci_security_parse(json_t *process, json_t *linux_cfg, oci_security *s, oci_err *e);
void oci_security_free(oci_security *s);
/* Applies rlimits and oomScoreAdj (call while still fully privileged). */
bool oci_security_apply_limits(const oci_security *s, oci_err *e);
/* Last step before the workload: user and groups, capabilities (bounding
 * dropped first, then effective/permitted/inheritable, then ambient),
 * no_new_privs, seccomp; in the order that keeps each step possible. */
bool oci_security_apply(const oci_security *s, oci_err *e);

/* ------------------------------------------------------------ spec.c */

typedef struct oci_mount {
    char *destination;   /* absolute, inside the container */
    char *type;          /* "bind", "tmpfs", "proc", ... ("bind" when options say so) */
    char *source;
    unsigned long flags;       /* MS_* from options */
    unsigned long propagation; /* MS_PRIVATE/MS_SLAVE/MS_SHARED/MS_UNBINDABLE (|MS_REC) or 0 */
    char *data;                /* options that are not flags, comma-joined */
    bool bind;                 /* bind or rbind */
    bool readonly;             /* "ro" */
} oci_mount;

typedef struct oci_hook {
    char *path;
    char **args;         /* NULL-terminated; args[0] may differ from path */
    char **env;          /* NULL-terminated */
    int timeout;         /* seconds, 0: none */
} oci_hook;

enum {
    OCI_HOOK_PRESTART,
    OCI_HOOK_CREATE_RUNTIME,
    OCI_HOOK_CREATE_CONTAINER,
    OCI_HOOK_START_CONTAINER,
    OCI_HOOK_POSTSTART,
    OCI_HOOK_POSTSTOP,
    OCI_HOOK_KINDS
};

typedef struct oci_namespace {
    int type;            /* CLONE_NEWNS, CLONE_NEWPID, ... */
    char *path;          /* join this one; NULL: create a new one */
} oci_namespace;

typedef struct oci_spec {
    json_t *json;        /* the whole document (owns the borrowed json_t's) */
    char *bundle;        /* absolute bundle path */
    char *oci_version;
    /* root */
    char *root_path;     /* absolute */
    bool root_readonly;
    /* process */
    bool terminal;
    char **args;         /* NULL-terminated, nargs >= 1 */
    int nargs;
    char **env;          /* NULL-terminated */
    int nenv;
    char *cwd;           /* absolute */
    json_t *process;     /* borrowed */
    char *hostname;
    char *domainname;
    oci_mount *mounts;
    int nmounts;
    oci_hook *hooks[OCI_HOOK_KINDS];
    int nhooks[OCI_HOOK_KINDS];
    json_t *annotations; /* borrowed object or NULL */
    /* linux */
    json_t *linux_cfg;   /* borrowed "linux" object or NULL */
    oci_namespace *namespaces;
    int nnamespaces;
    json_t *uid_mappings; /* borrowed arrays or NULL */
    json_t *gid_mappings;
    char *cgroups_path;
    json_t *resources;   /* borrowed or NULL */
    json_t *sysctl;      /* borrowed object or NULL */
    unsigned long rootfs_propagation;
} oci_spec;

/* Loads <bundle>/config.json. Errors name the file and the JSON path. */
bool oci_spec_load(const char *bundle, oci_spec *s, oci_err *e);
/* Parses an OCI process object (exec --process); fills args/env/cwd/
 * terminal/process of s. */
bool oci_spec_parse_process(json_t *process, oci_spec *s, const char *where, oci_err *e);
void oci_spec_free(oci_spec *s);
bool oci_spec_has_namespace(const oci_spec *s, int type);
/* Value of one annotation or NULL. */
const char *oci_spec_annotation(const oci_spec *s, const char *key);
/* The value of KEY in process.env, or NULL. */
const char *oci_spec_env(const oci_spec *s, const char *key);

/* ------------------------------------------------------------ detect.c */

/* Looks argv[0] up inside rootfs (absolute, or relative to cwd when it
 * has a slash, else through PATH from env) without leaving rootfs
 * (RESOLVE_IN_ROOT). On success *fd is an open O_RDONLY descriptor and
 * guest_path (size PATH_MAX) the path inside the container. */
bool oci_find_entrypoint(int rootfd, const oci_spec *s, int *fd, char *guest_path, oci_err *e);

/* The file starts with the Wasm magic "\0asm". */
bool oci_is_wasm_fd(int fd);

typedef enum { OCI_KIND_LINUX, OCI_KIND_WASM } oci_kind;
/* Decides whether the container is a Wasm one: annotations
 * run.oci.handler=wasm|wasm-smart, module.wasm.image/variant=compat|
 * compat-smart (-smart only when argv[0] ends in ".wasm"), or an
 * entrypoint that starts with "\0asm". A Wasm container whose entrypoint
 * cannot be found (annotated, or argv[0] ending in ".wasm") is an error
 * (false); a Linux one is not. Drops `docker run --init`'s docker-init
 * from process.args when what it would start is Wasm. */
bool oci_detect(oci_spec *s, oci_kind *kind, oci_err *e);

/* ------------------------------------------------------------ state.c */

typedef struct oci_state {
    char id[256];
    char dir[4096];       /* <root>/<id> */
    int dirfd;            /* O_PATH|O_DIRECTORY on dir, -1 when closed */
    int lockfd;           /* flock()ed */
    pid_t pid;            /* container process (init), 0 if none */
    unsigned long long start_time; /* /proc/<pid>/stat field 22, against pid reuse */
    char bundle[4096];
    char created[64];     /* RFC 3339 */
    oci_cgroup cgroup;
    bool has_cgroup;
    bool own_pidns;       /* the container has its own pid namespace */
    json_t *annotations;  /* owned copy or NULL */
    char owner[64];
} oci_state;

/* Container ids: [A-Za-z0-9][A-Za-z0-9_.+-]{0,254}, as runc accepts. */
bool oci_id_valid(const char *id, oci_err *e);
/* Creates <root>/<id> atomically (mkdir); fails when it exists. The
 * folder is locked (exclusive) until oci_state_close. */
bool oci_state_create(const char *root, const char *id, oci_state *st, oci_err *e);
/* Opens and locks an existing container's state (exclusive or shared). */
bool oci_state_open(const char *root, const char *id, bool exclusive, oci_state *st, oci_err *e);
/* True when <root>/<id> belongs to wasmbox (has wasmbox.json). */
bool oci_state_is_ours(const char *root, const char *id);
bool oci_state_save(oci_state *st, oci_err *e);
void oci_state_close(oci_state *st);
/* Removes the folder and everything in it (then closes). */
void oci_state_remove(oci_state *st);

typedef enum {
    OCI_STATUS_CREATING,
    OCI_STATUS_CREATED,
    OCI_STATUS_RUNNING,
    OCI_STATUS_PAUSED,
    OCI_STATUS_STOPPED
} oci_status;

oci_status oci_state_status(const oci_state *st);
const char *oci_status_name(oci_status s);
/* The OCI state object (ociVersion, id, status, pid, bundle,
 * annotations); caller decrefs. */
json_t *oci_state_json(const oci_state *st, oci_status status);
/* Reads /proc/<pid>/stat start time; 0 when the process is gone. */
unsigned long long oci_proc_start_time(pid_t pid);
/* The pid is alive and is still the process we started. */
bool oci_state_pid_alive(const oci_state *st);

/* ------------------------------------------------------------ hooks.c */

/* Runs the hooks of one kind in order with the state JSON on stdin; the
 * first failure stops and is returned (names the hook and its status). */
bool oci_hooks_run(const oci_spec *s, int kind, json_t *state, oci_err *e);

/* ------------------------------------------------------------ linux.c */

/* Mount setup inside the new mount namespace of the container process:
 * rootfs propagation, rootfs bind, each mount (bind, tmpfs, and kernel
 * filesystems only when with_kernel_fs). */
bool oci_linux_mount_rootfs(const oci_spec *s, bool with_kernel_fs, oci_err *e);
/* pivot_root (or chroot when no_pivot) into the rootfs; read-only root. */
bool oci_linux_pivot(const oci_spec *s, bool no_pivot, oci_err *e);
/* Closes every descriptor >= 3 except those in keep[]. */
void oci_linux_close_fds(const int *keep, int nkeep);
/* Opens a pty on the host (before the process joins the container's
 * device cgroup), sends the master through the console socket
 * (SCM_RIGHTS) and returns the slave, or -1. */
int oci_linux_console_open(const char *socket_path, oci_err *e);
/* In the container process: a new session with the slave as its
 * controlling terminal and stdio. */
bool oci_linux_console_attach(int slave, oci_err *e);
/* Applies linux.sysctl (before pivot_root, through the host's /proc). */
bool oci_linux_sysctl(const oci_spec *s, oci_err *e);
/* One message between the runtime and a process it set up (create's
 * container process, exec's): a type (the caller's enum, never 0), a pid
 * and a text, over a SOCK_SEQPACKET socketpair. */
typedef struct oci_sync_msg {
    int type;
    int pid;
    char msg[1024];
} oci_sync_msg;
bool oci_sync_send(int fd, int type, int pid, const char *msg);
/* The message's type, or 0 on EOF or error. */
int oci_sync_recv(int fd, oci_sync_msg *m);
/* openat2 of path beneath rootfd with rootfd as "/" (RESOLVE_IN_ROOT, no
 * magic links): symlinks in an image never lead out of it. O_CLOEXEC is
 * added to flags. */
int oci_open_in_root(int rootfd, const char *path, int flags);
/* Walks a PATH-style list: writes the next "DIR/name" into out and
 * advances *cursor; skips empty entries and ones that do not fit. False
 * when the list is exhausted. */
bool oci_path_next(const char **cursor, const char *name, char *out, size_t size);
/* Writes pid to path atomically (a temporary file, then rename), as the
 * shim reads it: the process it names must exist when the file does. */
bool oci_write_pid_file(const char *path, pid_t pid, oci_err *e);
/* chdir into the process's working folder, which must be a folder
 * (shown: the container path, for the message). */
bool oci_enter_cwd(const char *path, const char *shown, oci_err *e);
/* Signal number from "TERM", "SIGTERM", "15", "SIGRTMIN+3". -1 if unknown. */
int oci_signal_parse(const char *name);

/* ------------------------------------------------------------ delegate.c */

/* The Linux runtime for containers that are not Wasm: $WASMBOX_LINUX_RUNTIME,
 * else the first of runc, crun found on PATH. NULL when none. */
const char *oci_delegate_runtime(void);
/* Replaces this process with the Linux runtime, given the original
 * command line unchanged. Returns only on failure (then logs). */
int oci_delegate_exec(void);

#endif /* WASMBOX_OCI_H */
