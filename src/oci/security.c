/*
 * security.c - process.user, process.capabilities, process.rlimits,
 * process.noNewPrivileges, process.oomScoreAdj and linux.seccomp.
 *
 * Everything is checked and built at parse time (in the runtime), so the
 * container process only makes system calls when applying: the seccomp
 * filter is compiled with libseccomp up front and kept as BPF, which is
 * loaded with seccomp(2) directly (no allocation after fork, no /proc
 * needed after pivot_root, and a bad profile fails before anything runs).
 *
 * Capabilities: when process.capabilities is absent every set is empty
 * (a Wasm module needs none; runc also gives an empty set for each set
 * the object leaves out).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <grp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "oci/oci.h"

#define CFG "config.json: "

struct oci_seccomp {
    struct sock_filter *insns;
    unsigned short len;
    unsigned int flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
};

/* The kernel's last capability, read while /proc is still the host's
 * (parse or apply_limits); -1 until then (apply then probes). */
static int cap_last = -1;

static void read_cap_last(void) {
    if (cap_last >= 0) return;
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char buf[16];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return;
    buf[n] = 0;
    int v = atoi(buf);
    if (v > 0 && v < 64) cap_last = v;
}

/* Without /proc: the bounding set answers EINVAL past the last cap. */
static int get_cap_last(void) {
    if (cap_last >= 0) return cap_last;
    int c = 0;
    while (c < 63 && prctl(PR_CAPBSET_READ, c + 1, 0, 0, 0) >= 0) c++;
    return c;
}

/* Errors quote values from config.json: keep the message on one line. */
static bool scrub(oci_err *e) {
    for (char *p = e->msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
    return false;
}

/* ------------------------------------------------------------ tables */

static const char *const cap_names[] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
    "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
    "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
#define NCAPS ((int)(sizeof cap_names / sizeof cap_names[0]))
_Static_assert(NCAPS == CAP_CHECKPOINT_RESTORE + 1, "capability table");

static const struct {
    const char *name;
    int res;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS}, {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA}, {"RLIMIT_FSIZE", RLIMIT_FSIZE}, {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE}, {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS}, {"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
};

static const char *rlimit_name(int res) {
    for (size_t i = 0; i < sizeof rlimit_names / sizeof rlimit_names[0]; i++)
        if (rlimit_names[i].res == res) return rlimit_names[i].name;
    return "RLIMIT_?";
}

static const struct {
    const char *name;
    uint32_t token;
} arch_names[] = {
    {"SCMP_ARCH_NATIVE", SCMP_ARCH_NATIVE}, {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64}, {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM}, {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS}, {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32}, {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64}, {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC}, {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE}, {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X}, {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64}, {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
#ifdef SCMP_ARCH_LOONGARCH64
    {"SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64},
#endif
#ifdef SCMP_ARCH_M68K
    {"SCMP_ARCH_M68K", SCMP_ARCH_M68K},
#endif
#ifdef SCMP_ARCH_SH
    {"SCMP_ARCH_SH", SCMP_ARCH_SH}, {"SCMP_ARCH_SHEB", SCMP_ARCH_SHEB},
#endif
};

static const struct {
    const char *name;
    enum scmp_compare op;
} op_names[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

/* ------------------------------------------------------------ json helpers */

/* Optional integer in [lo, hi]: 1 set, 0 absent or null, -1 error. */
static int get_int(json_t *obj, const char *key, const char *where, int64_t lo, int64_t hi,
                   int64_t *out, oci_err *e) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v)) {
        oci_fail(e, CFG "%s.%s: must be an integer", where, key);
        return -1;
    }
    int64_t x = (int64_t)json_integer_value(v);
    if (x < lo || x > hi) {
        oci_fail(e, CFG "%s.%s: %" PRId64 " is out of range (%" PRId64 " to %" PRId64 ")", where, key, x,
                 lo, hi);
        return -1;
    }
    *out = x;
    return 1;
}

/* Optional boolean: absent or null leaves *out alone. */
static bool get_bool(json_t *obj, const char *key, const char *where, bool *out, oci_err *e) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return true;
    if (!json_is_boolean(v)) return oci_fail(e, CFG "%s.%s: must be true or false", where, key);
    *out = json_is_true(v);
    return true;
}

/* Optional array member (null counts as absent). */
static bool get_array(json_t *obj, const char *key, const char *where, json_t **out, oci_err *e) {
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) return true;
    if (!json_is_array(v)) return oci_fail(e, CFG "%s.%s: must be an array", where, key);
    *out = v;
    return true;
}

/* ------------------------------------------------------------ process */

static bool parse_user(json_t *u, oci_security *s, oci_err *e) {
    if (!json_is_object(u)) return oci_fail(e, CFG "process.user: must be an object");
    int64_t v;
    int rc;
    /* (uid_t)-1 means "unchanged" to setresuid: not a real id. */
    if ((rc = get_int(u, "uid", "process.user", 0, UINT32_MAX - 1, &v, e)) < 0) return false;
    if (rc) s->uid = (uid_t)v;
    if ((rc = get_int(u, "gid", "process.user", 0, UINT32_MAX - 1, &v, e)) < 0) return false;
    if (rc) s->gid = (gid_t)v;
    if ((rc = get_int(u, "umask", "process.user", 0, 0777, &v, e)) < 0) return false;
    if (rc) {
        s->has_umask = true;
        s->umask = (mode_t)v;
    }
    json_t *g;
    if (!get_array(u, "additionalGids", "process.user", &g, e)) return false;
    size_t n = g ? json_array_size(g) : 0;
    if (n > NGROUPS_MAX)
        return oci_fail(e, CFG "process.user.additionalGids: more than %d groups", NGROUPS_MAX);
    if (n) {
        if (!(s->gids = calloc(n, sizeof *s->gids))) return oci_fail(e, CFG "process.user: out of memory");
        for (size_t i = 0; i < n; i++) {
            json_t *x = json_array_get(g, i);
            if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > UINT32_MAX - 1)
                return oci_fail(e, CFG "process.user.additionalGids[%zu]: must be a group id (0 to %u)", i,
                                UINT32_MAX - 1);
            s->gids[i] = (gid_t)json_integer_value(x);
            s->ngids = (int)i + 1;
        }
    }
    /* "username" is for Windows: ignored. */
    return true;
}

static bool parse_cap_set(json_t *caps, const char *set, uint64_t *mask, oci_err *e) {
    json_t *a;
    *mask = 0;
    if (!get_array(caps, set, "process.capabilities", &a, e)) return false;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        const char *name = json_string_value(v);
        if (!name) return oci_fail(e, CFG "process.capabilities.%s[%zu]: must be a string", set, i);
        int c;
        for (c = 0; c < NCAPS && strcasecmp(name, cap_names[c]); c++) {}
        if (c == NCAPS)
            return oci_fail(e, CFG "process.capabilities.%s: unknown capability \"%.64s\"", set, name);
        *mask |= UINT64_C(1) << c;
    }
    return true;
}

static bool parse_caps(json_t *c, oci_security *s, oci_err *e) {
    if (!json_is_object(c)) return oci_fail(e, CFG "process.capabilities: must be an object");
    s->has_caps = true;
    return parse_cap_set(c, "bounding", &s->cap_bounding, e) &&
           parse_cap_set(c, "effective", &s->cap_effective, e) &&
           parse_cap_set(c, "permitted", &s->cap_permitted, e) &&
           parse_cap_set(c, "inheritable", &s->cap_inheritable, e) &&
           parse_cap_set(c, "ambient", &s->cap_ambient, e);
}

/* rlimit values are uint64 in the spec; RLIM_INFINITY (2^64-1) may come
 * as -1 or, from a decoder that turned it into a real, as a real. */
static bool rlimit_value(json_t *o, const char *key, size_t i, rlim_t *out, oci_err *e) {
    json_t *v = json_object_get(o, key);
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x < -1)
            return oci_fail(e, CFG "process.rlimits[%zu].%s: %" JSON_INTEGER_FORMAT " is negative", i, key, x);
        *out = x == -1 ? RLIM_INFINITY : (rlim_t)x;
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d >= 18446744073709551615.0) {
            *out = RLIM_INFINITY;
            return true;
        }
        if (d >= 0 && d == (double)(uint64_t)d) {
            *out = (rlim_t)d;
            return true;
        }
    }
    return oci_fail(e, CFG "process.rlimits[%zu].%s: must be a non-negative integer", i, key);
}

static bool parse_rlimits(json_t *a, oci_security *s, oci_err *e) {
    size_t n = json_array_size(a);
    if (!n) return true;
    if (!(s->rlimits = calloc(n, sizeof *s->rlimits))) return oci_fail(e, CFG "process.rlimits: out of memory");
    size_t i;
    json_t *o;
    json_array_foreach(a, i, o) {
        if (!json_is_object(o)) return oci_fail(e, CFG "process.rlimits[%zu]: must be an object", i);
        const char *type = json_string_value(json_object_get(o, "type"));
        if (!type) return oci_fail(e, CFG "process.rlimits[%zu].type: must be a string", i);
        const size_t nnames = sizeof rlimit_names / sizeof rlimit_names[0];
        size_t k;
        for (k = 0; k < nnames && strcmp(type, rlimit_names[k].name); k++) {}
        if (k == nnames)
            return oci_fail(e, CFG "process.rlimits[%zu].type: unknown rlimit \"%.64s\"", i, type);
        oci_rlimit *r = &s->rlimits[i];
        r->resource = rlimit_names[k].res;
        for (int j = 0; j < s->nrlimits; j++)
            if (s->rlimits[j].resource == r->resource)
                return oci_fail(e, CFG "process.rlimits[%zu]: %s is given twice", i, type);
        if (!rlimit_value(o, "hard", i, &r->lim.rlim_max, e) ||
            !rlimit_value(o, "soft", i, &r->lim.rlim_cur, e))
            return false;
        if (r->lim.rlim_cur > r->lim.rlim_max)
            return oci_fail(e, CFG "process.rlimits[%zu]: %s soft limit %llu is above the hard limit %llu", i,
                            type, (unsigned long long)r->lim.rlim_cur, (unsigned long long)r->lim.rlim_max);
        s->nrlimits++;
    }
    return true;
}

static bool parse_process(json_t *p, oci_security *s, oci_err *e) {
    if (!json_is_object(p)) return oci_fail(e, CFG "process: must be an object");
    json_t *u = json_object_get(p, "user");
    if (u && !json_is_null(u) && !parse_user(u, s, e)) return false;
    json_t *c = json_object_get(p, "capabilities");
    if (c && !json_is_null(c) && !parse_caps(c, s, e)) return false;
    if (!get_bool(p, "noNewPrivileges", "process", &s->no_new_privileges, e)) return false;
    json_t *rl;
    if (!get_array(p, "rlimits", "process", &rl, e) || (rl && !parse_rlimits(rl, s, e))) return false;
    int64_t v;
    int rc = get_int(p, "oomScoreAdj", "process", -1000, 1000, &v, e);
    if (rc < 0) return false;
    if (rc) {
        s->has_oom_score_adj = true;
        s->oom_score_adj = (int)v;
    }
    return true;
}

/* ------------------------------------------------------------ seccomp */

/* Action from its name; errno_ret < 0: not given (EPERM, as runc). */
static bool scmp_action(const char *name, int64_t errno_ret, const char *where, uint32_t *act, oci_err *e) {
    uint32_t ret = errno_ret < 0 ? EPERM : (uint32_t)errno_ret;
    if (!name) return oci_fail(e, CFG "%s: must be a string", where);
    if (!strcmp(name, "SCMP_ACT_KILL") || !strcmp(name, "SCMP_ACT_KILL_THREAD")) *act = SCMP_ACT_KILL_THREAD;
    else if (!strcmp(name, "SCMP_ACT_KILL_PROCESS")) *act = SCMP_ACT_KILL_PROCESS;
    else if (!strcmp(name, "SCMP_ACT_TRAP")) *act = SCMP_ACT_TRAP;
    else if (!strcmp(name, "SCMP_ACT_ERRNO")) *act = SCMP_ACT_ERRNO(ret);
    else if (!strcmp(name, "SCMP_ACT_TRACE")) *act = SCMP_ACT_TRACE(ret);
    else if (!strcmp(name, "SCMP_ACT_ALLOW")) *act = SCMP_ACT_ALLOW;
    else if (!strcmp(name, "SCMP_ACT_LOG")) *act = SCMP_ACT_LOG;
    else if (!strcmp(name, "SCMP_ACT_NOTIFY"))
        return oci_fail(e, CFG "%s: SCMP_ACT_NOTIFY is not supported by wasmbox", where);
    else return oci_fail(e, CFG "%s: unknown action \"%.64s\"", where, name);
    return true;
}

/* One args[] entry as a libseccomp condition. */
static bool scmp_arg(json_t *a, size_t i, size_t k, struct scmp_arg_cmp *c, oci_err *e) {
    char where[96];
    snprintf(where, sizeof where, "linux.seccomp.syscalls[%zu].args[%zu]", i, k);
    if (!json_is_object(a)) return oci_fail(e, CFG "%s: must be an object", where);
    int64_t idx, val = 0, val2 = 0;
    int rc = get_int(a, "index", where, 0, 5, &idx, e);
    if (rc < 0) return false;
    if (!rc) return oci_fail(e, CFG "%s.index: missing", where);
    if (get_int(a, "value", where, 0, INT64_MAX, &val, e) < 0) return false;
    if (get_int(a, "valueTwo", where, 0, INT64_MAX, &val2, e) < 0) return false;
    const char *op = json_string_value(json_object_get(a, "op"));
    if (!op) return oci_fail(e, CFG "%s.op: must be a string", where);
    size_t o;
    for (o = 0; o < sizeof op_names / sizeof op_names[0] && strcmp(op, op_names[o].name); o++) {}
    if (o == sizeof op_names / sizeof op_names[0])
        return oci_fail(e, CFG "%s.op: unknown operator \"%.64s\"", where, op);
    c->arg = (unsigned int)idx;
    c->op = op_names[o].op;
    /* MASKED_EQ: (arg & value) == valueTwo; the others compare with value. */
    c->datum_a = (scmp_datum_t)val;
    c->datum_b = op_names[o].op == SCMP_CMP_MASKED_EQ ? (scmp_datum_t)val2 : 0;
    return true;
}

static bool scmp_syscall(scmp_filter_ctx ctx, json_t *sc, size_t i, uint32_t def, oci_err *e) {
    char where[96];
    snprintf(where, sizeof where, "linux.seccomp.syscalls[%zu]", i);
    if (!json_is_object(sc)) return oci_fail(e, CFG "%s: must be an object", where);
    json_t *names, *args;
    if (!get_array(sc, "names", where, &names, e) || !get_array(sc, "args", where, &args, e)) return false;
    if (!names || !json_array_size(names))
        return oci_fail(e, CFG "%s.names: must be a non-empty array", where);
    int64_t eret = -1;
    if (get_int(sc, "errnoRet", where, 0, 4095, &eret, e) < 0) return false;
    char wa[112];
    snprintf(wa, sizeof wa, "%s.action", where);
    uint32_t act;
    if (!scmp_action(json_string_value(json_object_get(sc, "action")), eret, wa, &act, e)) return false;

    size_t nargs = args ? json_array_size(args) : 0;
    struct scmp_arg_cmp conds[64];
    if (nargs > sizeof conds / sizeof conds[0]) return oci_fail(e, CFG "%s.args: too many entries", where);
    int per_index[6] = {0};
    bool split = false;
    for (size_t k = 0; k < nargs; k++) {
        if (!scmp_arg(json_array_get(args, k), i, k, &conds[k], e)) return false;
        split |= ++per_index[conds[k].arg] > 1;
    }
    size_t j;
    json_t *nm;
    json_array_foreach(names, j, nm) {
        const char *name = json_string_value(nm);
        if (!name || !*name) return oci_fail(e, CFG "%s.names[%zu]: must be a syscall name", where, j);
        /* libseccomp refuses a rule that repeats the default action. */
        if (act == def) continue;
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR) continue; /* unknown here: skipped, as runc does */
        int rc = 0;
        /* Distinct indexes: one rule ANDing every condition. The same
         * index twice: one rule per condition (runc's rule). */
        if (!split) rc = seccomp_rule_add_array(ctx, act, nr, (unsigned int)nargs, nargs ? conds : NULL);
        else
            for (size_t k = 0; k < nargs && rc == 0; k++)
                rc = seccomp_rule_add_array(ctx, act, nr, 1, &conds[k]);
        if (rc < 0)
            return oci_fail(e, CFG "%s: %s: seccomp_rule_add: %s", where, name, strerror(-rc));
    }
    return true;
}

/* Compiles the filter to BPF through a memfd (libseccomp 2.5 exports to
 * a descriptor only). */
static bool scmp_export(scmp_filter_ctx ctx, oci_seccomp *out, oci_err *e) {
    int fd = memfd_create("wasmbox-seccomp", MFD_CLOEXEC);
    if (fd < 0) return oci_fail_errno(e, CFG "linux.seccomp: memfd_create");
    bool ok = false;
    int rc = seccomp_export_bpf(ctx, fd);
    struct stat st;
    if (rc < 0) oci_fail(e, CFG "linux.seccomp: building the filter: %s", strerror(-rc));
    else if (fstat(fd, &st) < 0) oci_fail_errno(e, CFG "linux.seccomp: fstat");
    else if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter))
        oci_fail(e, CFG "linux.seccomp: libseccomp produced %lld bytes of BPF", (long long)st.st_size);
    else if (st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
        oci_fail(e, CFG "linux.seccomp: the filter has %lld instructions, more than the kernel's %d",
                 (long long)(st.st_size / sizeof(struct sock_filter)), BPF_MAXINSNS);
    else if (!(out->insns = malloc((size_t)st.st_size))) oci_fail(e, CFG "linux.seccomp: out of memory");
    else if (pread(fd, out->insns, (size_t)st.st_size, 0) != st.st_size)
        oci_fail_errno(e, CFG "linux.seccomp: reading the filter back");
    else {
        out->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
        ok = true;
    }
    close(fd);
    return ok;
}

static bool parse_seccomp(json_t *j, oci_security *s, oci_err *e) {
    if (!json_is_object(j)) return oci_fail(e, CFG "linux.seccomp: must be an object");
    json_t *lp = json_object_get(j, "listenerPath");
    if (lp && !json_is_null(lp) && (!json_is_string(lp) || json_string_length(lp)))
        return oci_fail(e, CFG "linux.seccomp.listenerPath: seccomp notification is not supported by wasmbox");
    int64_t deret = -1;
    if (get_int(j, "defaultErrnoRet", "linux.seccomp", 0, 4095, &deret, e) < 0) return false;
    uint32_t def;
    if (!scmp_action(json_string_value(json_object_get(j, "defaultAction")), deret,
                     "linux.seccomp.defaultAction", &def, e))
        return false;
    json_t *arches, *flags, *calls;
    if (!get_array(j, "architectures", "linux.seccomp", &arches, e) ||
        !get_array(j, "flags", "linux.seccomp", &flags, e) ||
        !get_array(j, "syscalls", "linux.seccomp", &calls, e))
        return false;

    if (!(s->seccomp = calloc(1, sizeof *s->seccomp))) return oci_fail(e, CFG "linux.seccomp: out of memory");
    scmp_filter_ctx ctx = seccomp_init(def);
    if (!ctx) return oci_fail(e, CFG "linux.seccomp: seccomp_init failed");
    bool ok = false;
    /* We set no_new_privs ourselves, only when asked. */
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (rc < 0) {
        oci_fail(e, CFG "linux.seccomp: SCMP_FLTATR_CTL_NNP: %s", strerror(-rc));
        goto out;
    }
    size_t i;
    json_t *v;
    json_array_foreach(arches, i, v) {
        const char *a = json_string_value(v);
        if (!a) {
            oci_fail(e, CFG "linux.seccomp.architectures[%zu]: must be a string", i);
            goto out;
        }
        size_t k;
        for (k = 0; k < sizeof arch_names / sizeof arch_names[0] && strcmp(a, arch_names[k].name); k++) {}
        if (k == sizeof arch_names / sizeof arch_names[0]) {
            oci_fail(e, CFG "linux.seccomp.architectures[%zu]: unknown architecture \"%.64s\"", i, a);
            goto out;
        }
        /* The native architecture is already in. */
        if (arch_names[k].token == SCMP_ARCH_NATIVE) continue;
        rc = seccomp_arch_add(ctx, arch_names[k].token);
        if (rc < 0 && rc != -EEXIST) {
            oci_fail(e, CFG "linux.seccomp.architectures[%zu]: %s: %s", i, a, strerror(-rc));
            goto out;
        }
    }
    json_array_foreach(flags, i, v) {
        const char *f = json_string_value(v);
        if (f && !strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC")) s->seccomp->flags |= SECCOMP_FILTER_FLAG_TSYNC;
        else if (f && !strcmp(f, "SECCOMP_FILTER_FLAG_LOG")) s->seccomp->flags |= SECCOMP_FILTER_FLAG_LOG;
        else if (f && !strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
            s->seccomp->flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
        else {
            oci_fail(e, CFG "linux.seccomp.flags[%zu]: unknown or unsupported flag \"%.64s\"", i,
                     f ? f : "(not a string)");
            goto out;
        }
    }
    json_array_foreach(calls, i, v) {
        if (!scmp_syscall(ctx, v, i, def, e)) goto out;
    }
    ok = scmp_export(ctx, s->seccomp, e);
out:
    seccomp_release(ctx);
    return ok;
}

bool oci_security_parse(json_t *process, json_t *lnx, oci_security *s, oci_err *e) {
    memset(s, 0, sizeof *s);
    read_cap_last();
    if (process && !json_is_null(process) && !parse_process(process, s, e)) goto fail;
    if (lnx && !json_is_null(lnx)) {
        if (!json_is_object(lnx)) {
            oci_fail(e, CFG "linux: must be an object");
            goto fail;
        }
        json_t *sc = json_object_get(lnx, "seccomp");
        if (sc && !json_is_null(sc) && !parse_seccomp(sc, s, e)) goto fail;
    }
    return true;
fail:
    oci_security_free(s);
    return scrub(e);
}

void oci_security_free(oci_security *s) {
    free(s->gids);
    free(s->rlimits);
    if (s->seccomp) free(s->seccomp->insns);
    free(s->seccomp);
    s->gids = NULL;
    s->rlimits = NULL;
    s->seccomp = NULL;
    s->ngids = s->nrlimits = 0;
}

/* ------------------------------------------------------------ apply */

bool oci_security_apply_limits(const oci_security *s, oci_err *e) {
    read_cap_last();
    for (int i = 0; i < s->nrlimits; i++) {
        const oci_rlimit *r = &s->rlimits[i];
        if (setrlimit(r->resource, &r->lim) < 0)
            return oci_fail_errno(e, "process.rlimits: %s: setrlimit soft %llu hard %llu",
                                  rlimit_name(r->resource), (unsigned long long)r->lim.rlim_cur,
                                  (unsigned long long)r->lim.rlim_max);
    }
    if (s->has_oom_score_adj) {
        int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd < 0) return oci_fail_errno(e, "process.oomScoreAdj: /proc/self/oom_score_adj: open");
        char buf[16];
        int n = snprintf(buf, sizeof buf, "%d", s->oom_score_adj);
        if (write(fd, buf, (size_t)n) != n) {
            int err = errno;
            close(fd);
            errno = err;
            return oci_fail_errno(e, "process.oomScoreAdj: /proc/self/oom_score_adj: write %d",
                                  s->oom_score_adj);
        }
        close(fd);
    }
    return true;
}

static const char *cap_name(int c) {
    return c >= 0 && c < NCAPS ? cap_names[c] : "CAP_?";
}

static bool load_seccomp(const oci_seccomp *f, oci_err *e) {
    struct sock_fprog prog = {.len = f->len, .filter = f->insns};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->flags, &prog) == 0) return true;
    /* Kernels before 3.17 only have the prctl. */
    if (errno == ENOSYS && !f->flags && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0)
        return true;
    if (errno == EACCES)
        return oci_fail_errno(e, "seccomp: loading the filter (needs noNewPrivileges or CAP_SYS_ADMIN)");
    return oci_fail_errno(e, "seccomp: loading the filter");
}

/* runc's order: bounding set; seccomp now if it cannot wait for
 * no_new_privs (it then needs CAP_SYS_ADMIN, which setuid and capset
 * take away); keep caps across setuid; groups, gid, uid; umask; capset;
 * ambient; no_new_privs; seccomp last, so that as few of our own
 * syscalls as possible run under the profile. */
bool oci_security_apply(const oci_security *s, oci_err *e) {
    int last = get_cap_last();
    uint64_t valid = last >= 63 ? ~UINT64_C(0) : (UINT64_C(1) << (last + 1)) - 1;

    for (int c = 0; c <= last; c++) {
        if (s->cap_bounding >> c & 1) continue;
        int in = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
        if (in <= 0) continue; /* already out, or unknown to this kernel */
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
            return oci_fail_errno(e, "capabilities: dropping %s from the bounding set", cap_name(c));
    }
    if (s->seccomp && !s->no_new_privileges && !load_seccomp(s->seccomp, e)) return false;

    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return oci_fail_errno(e, "capabilities: PR_SET_KEEPCAPS");
    /* setgroups is denied in a user namespace whose setgroups is "deny":
     * fine when there is nothing to set. */
    if (setgroups((size_t)s->ngids, s->gids) < 0 && !(errno == EPERM && s->ngids == 0))
        return oci_fail_errno(e, "process.user: setgroups (%d groups)", s->ngids);
    if (setresgid(s->gid, s->gid, s->gid) < 0)
        return oci_fail_errno(e, "process.user: setresgid %u", (unsigned)s->gid);
    if (setresuid(s->uid, s->uid, s->uid) < 0)
        return oci_fail_errno(e, "process.user: setresuid %u", (unsigned)s->uid);
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return oci_fail_errno(e, "capabilities: PR_SET_KEEPCAPS 0");
    umask(s->has_umask ? s->umask : 0022); /* runc's default */

    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    uint64_t eff = s->cap_effective & valid, prm = s->cap_permitted & valid, inh = s->cap_inheritable & valid;
    for (int w = 0; w < 2; w++) {
        data[w].effective = (uint32_t)(eff >> (32 * w));
        data[w].permitted = (uint32_t)(prm >> (32 * w));
        data[w].inheritable = (uint32_t)(inh >> (32 * w));
    }
    if (syscall(SYS_capset, &hdr, data) < 0)
        return oci_fail_errno(e, "capabilities: capset (effective %#" PRIx64 ", permitted %#" PRIx64
                              ", inheritable %#" PRIx64 ")", eff, prm, inh);

    uint64_t amb = s->cap_ambient & valid;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && amb)
        return oci_fail_errno(e, "capabilities: clearing the ambient set");
    for (int c = 0; c <= last; c++) {
        if (!(amb >> c & 1)) continue;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) {
            /* A cap can only be ambient when also permitted and
             * inheritable; runc skips the others too. */
            if (errno == EPERM && !(prm & inh & (UINT64_C(1) << c))) continue;
            return oci_fail_errno(e, "capabilities: raising ambient %s", cap_name(c));
        }
    }

    if (s->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return oci_fail_errno(e, "process.noNewPrivileges: PR_SET_NO_NEW_PRIVS");
    if (s->seccomp && s->no_new_privileges && !load_seccomp(s->seccomp, e)) return false;
    return true;
}
