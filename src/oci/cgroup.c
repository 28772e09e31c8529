/*
 * cgroup.c - cgroup v1 and v2 from linux.resources.
 *
 * v1 (one hierarchy per controller, found through /proc/self/mountinfo):
 * the container gets the same path below every hierarchy we know of,
 * limits go to the controller's files, and devices rules go to
 * devices.deny/devices.allow. v2 (unified, /sys/fs/cgroup/cgroup.controllers
 * exists): one folder; the controllers are enabled in each ancestor's
 * cgroup.subtree_control on the way down.
 *
 * Devices on v2 would need an eBPF program (BPF_CGROUP_DEVICE) attached
 * to the folder; that is not done: on v2 linux.resources.devices is
 * ignored (the device nodes a Wasm container sees come from its mounts).
 *
 * Test hook: when WASMBOX_CGROUP2_ROOT is set (non-empty), oci_cgroup_init
 * chooses v2 and every v2 path is taken below that folder instead of
 * /sys/fs/cgroup (e.g. the empty cgroup2 of a hybrid host at
 * /sys/fs/cgroup/unified). Later verbs must see the same variable.
 *
 * Values of 0 for memory limits, cpu.shares, cpu.quota and cpu.period
 * mean "unset", as in runc (Docker sends cpu.shares 0 when not given).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "oci/oci.h"

#define RES "config.json: linux.resources"

/* ------------------------------------------------------------ parsing */

/* Errors quote values from config.json: keep the message on one line. */
static bool scrub(oci_err *e) {
    for (char *p = e->msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
    return false;
}

/* Optional integer member: 1 set, 0 absent or null, -1 wrong type. */
static int get_int(json_t *obj, const char *key, const char *where, int64_t *out, oci_err *e) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v)) {
        oci_fail(e, "%s.%s: must be an integer", where, key);
        return -1;
    }
    *out = (int64_t)json_integer_value(v);
    return 1;
}

/* A limit where 0 means unset, -1 unlimited and other negatives are wrong. */
static bool get_limit(json_t *obj, const char *key, const char *where, bool *has, int64_t *out,
                      oci_err *e) {
    int64_t v;
    int rc = get_int(obj, key, where, &v, e);
    if (rc < 0) return false;
    if (rc == 0 || v == 0) return true;
    if (v < -1) return oci_fail(e, "%s.%s: %" PRId64 " is invalid (use -1 for unlimited)", where, key, v);
    *has = true;
    *out = v;
    return true;
}

/* A count where 0 means unset and negatives are wrong. */
static bool get_unsigned(json_t *obj, const char *key, const char *where, bool *has,
                         uint64_t *out, oci_err *e) {
    int64_t v;
    int rc = get_int(obj, key, where, &v, e);
    if (rc < 0) return false;
    if (rc && v < 0) return oci_fail(e, "%s.%s: %" PRId64 " is negative", where, key, v);
    if (rc && v > 0) {
        *has = true;
        *out = (uint64_t)v;
    }
    return true;
}

static bool get_object(json_t *parent, const char *key, const char *where, json_t **out, oci_err *e) {
    json_t *v = json_object_get(parent, key);
    *out = NULL;
    if (!v || json_is_null(v)) return true;
    if (!json_is_object(v)) return oci_fail(e, "%s.%s: must be an object", where, key);
    *out = v;
    return true;
}

/* cpuset lists such as "0-3,8": digits, commas, dashes. */
static bool get_cpuset(json_t *obj, const char *key, char **out, oci_err *e) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return true;
    if (!json_is_string(v)) return oci_fail(e, RES ".cpu.%s: must be a string", key);
    const char *s = json_string_value(v);
    size_t n = strlen(s);
    if (n == 0) return true;
    if (n > 1024 || strspn(s, "0123456789,-") != n)
        return oci_fail(e, RES ".cpu.%s: \"%.64s\" is not a list such as \"0-3,8\"", key, s);
    if (!(*out = strdup(s))) return oci_fail(e, RES ".cpu.%s: out of memory", key);
    return true;
}

/* Renders one OCI device rule as a v1 devices.allow/deny line. */
static bool device_rule(json_t *d, size_t i, bool *allow, char *out, size_t n, oci_err *e) {
    if (!json_is_object(d)) return oci_fail(e, RES ".devices[%zu]: must be an object", i);
    json_t *a = json_object_get(d, "allow");
    if (!json_is_boolean(a)) return oci_fail(e, RES ".devices[%zu].allow: must be a boolean", i);
    *allow = json_is_true(a);

    char type = 'a';
    json_t *t = json_object_get(d, "type");
    if (t && !json_is_null(t)) {
        const char *ts = json_string_value(t);
        if (!ts) return oci_fail(e, RES ".devices[%zu].type: must be a string", i);
        if (ts[0] && (ts[1] || !strchr("abc", ts[0])))
            return oci_fail(e, RES ".devices[%zu].type: \"%.16s\" is not one of a, b, c", i, ts);
        if (ts[0]) type = ts[0];
    }
    char num[2][16];
    static const char *const keys[2] = {"major", "minor"};
    for (int k = 0; k < 2; k++) {
        int64_t v = -1;
        char where[64];
        snprintf(where, sizeof where, RES ".devices[%zu]", i);
        if (get_int(d, keys[k], where, &v, e) < 0) return false;
        if (v < -1 || v > UINT32_MAX)
            return oci_fail(e, "%s.%s: %" PRId64 " is out of range", where, keys[k], v);
        if (v == -1) strcpy(num[k], "*");
        else snprintf(num[k], sizeof num[k], "%" PRId64, v);
    }
    const char *access = "rwm";
    json_t *ac = json_object_get(d, "access");
    if (ac && !json_is_null(ac)) {
        access = json_string_value(ac);
        if (!access) return oci_fail(e, RES ".devices[%zu].access: must be a string", i);
        size_t len = strlen(access);
        if (len > 3 || strspn(access, "rwm") != len)
            return oci_fail(e, RES ".devices[%zu].access: \"%.16s\" is not made of r, w, m", i, access);
        if (!len) access = "rwm";
    }
    snprintf(out, n, "%c %s:%s %s", type, num[0], num[1], access);
    return true;
}

bool oci_resources_parse(json_t *j, oci_resources *r, oci_err *e) {
    memset(r, 0, sizeof *r);
    if (!j || json_is_null(j)) return true;
    if (!json_is_object(j)) return oci_fail(e, RES ": must be an object");

    json_t *mem, *cpu, *pids;
    if (!get_object(j, "memory", RES, &mem, e) || !get_object(j, "cpu", RES, &cpu, e) ||
        !get_object(j, "pids", RES, &pids, e))
        goto fail;

    if (mem) {
        const char *w = RES ".memory";
        if (!get_limit(mem, "limit", w, &r->has_memory_limit, &r->memory_limit, e) ||
            !get_limit(mem, "reservation", w, &r->has_memory_reservation, &r->memory_reservation, e) ||
            !get_limit(mem, "swap", w, &r->has_memory_swap, &r->memory_swap, e))
            goto fail;
        /* swap is memory+swap, so it cannot be below the memory limit. */
        if (r->has_memory_limit && r->has_memory_swap && r->memory_swap > 0 && r->memory_limit == -1) {
            oci_fail(e, RES ".memory.swap: cannot be limited when memory.limit is -1 (unlimited)");
            goto fail;
        }
        if (r->has_memory_limit && r->has_memory_swap && r->memory_swap > 0 &&
            r->memory_swap < r->memory_limit) {
            oci_fail(e, RES ".memory.swap: %" PRId64 " is below memory.limit %" PRId64
                     " (swap counts memory+swap)", r->memory_swap, r->memory_limit);
            goto fail;
        }
    }
    if (cpu) {
        const char *w = RES ".cpu";
        if (!get_unsigned(cpu, "shares", w, &r->has_cpu_shares, &r->cpu_shares, e) ||
            !get_limit(cpu, "quota", w, &r->has_cpu_quota, &r->cpu_quota, e) ||
            !get_unsigned(cpu, "period", w, &r->has_cpu_period, &r->cpu_period, e))
            goto fail;
        if (!get_cpuset(cpu, "cpus", &r->cpuset_cpus, e) || !get_cpuset(cpu, "mems", &r->cpuset_mems, e))
            goto fail;
    }
    if (pids) {
        int64_t v;
        int rc = get_int(pids, "limit", RES ".pids", &v, e);
        if (rc < 0) goto fail;
        if (rc) {
            r->has_pids_limit = true;
            r->pids_limit = v;
        }
    }
    json_t *dev = json_object_get(j, "devices");
    if (dev && !json_is_null(dev)) {
        if (!json_is_array(dev)) {
            oci_fail(e, RES ".devices: must be an array");
            goto fail;
        }
        /* Checked now so that a bad rule fails before anything is created. */
        size_t i;
        json_t *d;
        json_array_foreach(dev, i, d) {
            bool allow;
            char line[64];
            if (!device_rule(d, i, &allow, line, sizeof line, e)) goto fail;
        }
        r->devices = dev;
    }
    return true;
fail:
    oci_resources_free(r);
    return scrub(e);
}

void oci_resources_free(oci_resources *r) {
    free(r->cpuset_cpus);
    free(r->cpuset_mems);
    r->cpuset_cpus = r->cpuset_mems = NULL;
    r->devices = NULL;
}

/* ------------------------------------------------------------ files */

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* cgroupfs takes each value in a single write(). */
static bool cg_write(const char *dir, const char *file, const char *val, oci_err *e) {
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s/%s", dir, file) >= (int)sizeof p)
        return oci_fail(e, "cgroup %s: %s: path too long", dir, file);
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        oci_fail_errno(e, "cgroup %s: %s: open", dir, file);
        errno = err;
        return false;
    }
    size_t n = strlen(val);
    ssize_t w = write(fd, val, n);
    int err = errno;
    close(fd);
    if (w < 0) {
        /* Callers look at errno after a failure (EINVAL, ENOENT). */
        errno = err;
        oci_fail_errno(e, "cgroup %s: %s: write %s", dir, file, val);
        errno = err;
        return false;
    }
    if ((size_t)w != n) return oci_fail(e, "cgroup %s: %s: write %s: short write", dir, file, val);
    return true;
}

/* Reads a small file into buf without the trailing newline; -1 + errno. */
static ssize_t cg_read(const char *dir, const char *file, char *buf, size_t size) {
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s/%s", dir, file) >= (int)sizeof p) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, size - 1 - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int err = errno;
            close(fd);
            errno = err;
            return -1;
        }
        if (r == 0 || (len += (size_t)r) == size - 1) break;
    }
    close(fd);
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' ')) len--;
    buf[len] = 0;
    return (ssize_t)len;
}

static bool cg_exists(const char *dir, const char *file) {
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s/%s", dir, file) >= (int)sizeof p) return false;
    return access(p, F_OK) == 0;
}

static bool cg_write_i64(const char *dir, const char *file, int64_t v, oci_err *e) {
    char s[32];
    snprintf(s, sizeof s, "%" PRId64, v);
    return cg_write(dir, file, s, e);
}

/* ------------------------------------------------------------ paths */

static const char *cg2_root(void) {
    const char *r = getenv("WASMBOX_CGROUP2_ROOT");
    return r && *r ? r : "/sys/fs/cgroup";
}

/* "/a//./b/" -> "/a/b"; ".." anywhere is refused. */
static bool path_normalize(const char *in, char *out, size_t n, const char *what, oci_err *e) {
    size_t len = 0;
    const char *p = in;
    while (*p) {
        while (*p == '/') p++;
        if (!*p) break;
        size_t c = strcspn(p, "/");
        if (c == 2 && p[0] == '.' && p[1] == '.')
            return oci_fail(e, "%s: \"%s\": \"..\" is not allowed", what, in);
        if (!(c == 1 && p[0] == '.')) {
            if (len + 1 + c + 1 > n) return oci_fail(e, "%s: \"%.64s...\": too long", what, in);
            out[len++] = '/';
            memcpy(out + len, p, c);
            len += c;
        }
        p += c;
    }
    if (len == 0) out[len++] = '/';
    out[len] = 0;
    return true;
}

/* systemd's slice expansion: "a-b.slice" -> "/a.slice/a-b.slice". */
static bool expand_slice(const char *slice, char *out, size_t n, oci_err *e) {
    size_t len = strlen(slice);
    if (len < 6 || strcmp(slice + len - 6, ".slice") || strchr(slice, '/'))
        return oci_fail(e, "cgroupsPath: slice \"%s\" must be a name ending in .slice", slice);
    if (!strcmp(slice, "-.slice")) { /* the root slice */
        out[0] = 0;
        return true;
    }
    size_t base = len - 6;
    if (base == 0 || slice[0] == '-' || slice[base - 1] == '-' || strstr(slice, "--"))
        return oci_fail(e, "cgroupsPath: slice \"%s\" is not a valid systemd slice name", slice);
    size_t o = 0;
    for (size_t i = 0; i <= base; i++) {
        if (i < base && slice[i] != '-') continue;
        int w = snprintf(out + o, n - o, "/%.*s.slice", (int)i, slice);
        if (w < 0 || (size_t)w >= n - o) return oci_fail(e, "cgroupsPath: slice \"%.64s\": too long", slice);
        o += (size_t)w;
    }
    return true;
}

/* "slice:prefix:name" -> "/<expanded slice>/<prefix>-<name>.scope" as
 * runc's systemd driver names it (a name ending in .slice is used as is). */
static bool systemd_path(const char *spec, char *out, size_t n, oci_err *e) {
    const char *c1 = strchr(spec, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2 || strchr(c2 + 1, ':'))
        return oci_fail(e, "cgroupsPath: \"%s\" is not of the form slice:prefix:name (systemd)", spec);
    char slice[256], prefix[256], name[256];
    if ((size_t)(c1 - spec) >= sizeof slice || (size_t)(c2 - c1 - 1) >= sizeof prefix ||
        strlen(c2 + 1) >= sizeof name)
        return oci_fail(e, "cgroupsPath: \"%.64s...\": too long", spec);
    snprintf(slice, sizeof slice, "%.*s", (int)(c1 - spec), spec);
    snprintf(prefix, sizeof prefix, "%.*s", (int)(c2 - c1 - 1), c1 + 1);
    snprintf(name, sizeof name, "%s", c2 + 1);
    if (!name[0] || strchr(name, '/') || strchr(prefix, '/') || !strcmp(name, "..") || !strcmp(name, "."))
        return oci_fail(e, "cgroupsPath: \"%s\": bad unit name", spec);
    char sl[2048];
    if (!expand_slice(slice[0] ? slice : "system.slice", sl, sizeof sl, e)) return false;
    size_t nl = strlen(name);
    int w;
    if (nl > 6 && !strcmp(name + nl - 6, ".slice")) w = snprintf(out, n, "%s/%s", sl, name);
    else if (prefix[0]) w = snprintf(out, n, "%s/%s-%s.scope", sl, prefix, name);
    else w = snprintf(out, n, "%s/%s.scope", sl, name);
    if (w < 0 || (size_t)w >= n) return oci_fail(e, "cgroupsPath: \"%.64s...\": too long", spec);
    return true;
}

/* The runtime's own cgroup: the "0::" line on v2, the memory
 * controller's line on v1 (one path has to serve every hierarchy). */
static bool own_cgroup(bool v2, char *out, size_t n, oci_err *e) {
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f) return oci_fail_errno(e, "/proc/self/cgroup: open");
    char *line = NULL;
    size_t cap = 0;
    bool found = false;
    while (!found && getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c1 = *c2 = 0;
        const char *ctrls = c1 + 1;
        if (v2) {
            found = !strcmp(line, "0") && !*ctrls;
        } else {
            char list[256];
            snprintf(list, sizeof list, ",%s,", ctrls);
            found = strstr(list, ",memory,") != NULL;
        }
        if (found && (size_t)snprintf(out, n, "%s", c2 + 1) >= n) {
            free(line);
            fclose(f);
            return oci_fail(e, "/proc/self/cgroup: path too long");
        }
    }
    free(line);
    fclose(f);
    if (!found)
        return oci_fail(e, "/proc/self/cgroup: no %s line for the runtime's own cgroup",
                        v2 ? "\"0::\"" : "memory");
    return true;
}

static bool cgroup_init(oci_cgroup *cg, const char *cgroups_path, const char *id, bool systemd,
                        oci_err *e) {
    memset(cg, 0, sizeof *cg);
    cg->v2 = getenv("WASMBOX_CGROUP2_ROOT") && *getenv("WASMBOX_CGROUP2_ROOT");
    if (!cg->v2) cg->v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;

    char raw[4096];
    const char *p = cgroups_path;
    /* A relative path with two colons is the systemd form even without
     * --systemd-cgroup (a cgroupfs runtime then emulates the scope path). */
    int colons = 0;
    for (const char *q = p; q && *q; q++) colons += *q == ':';
    if (!p || !*p) {
        if ((size_t)snprintf(raw, sizeof raw, "/wasmbox/%s", id) >= sizeof raw)
            return oci_fail(e, "cgroupsPath: id too long");
    } else if (systemd || (p[0] != '/' && colons == 2)) {
        if (!systemd_path(p, raw, sizeof raw, e)) return false;
    } else if (p[0] == '/') {
        if ((size_t)snprintf(raw, sizeof raw, "%s", p) >= sizeof raw)
            return oci_fail(e, "cgroupsPath: \"%.64s...\": too long", p);
    } else {
        char own[2048], rel[2048];
        if (!path_normalize(p, rel, sizeof rel, "cgroupsPath", e)) return false;
        if (!own_cgroup(cg->v2, own, sizeof own, e)) return false;
        if ((size_t)snprintf(raw, sizeof raw, "%s%s", strcmp(own, "/") ? own : "", rel) >= sizeof raw)
            return oci_fail(e, "cgroupsPath: \"%.64s...\": too long", p);
    }
    if (!path_normalize(raw, cg->path, sizeof cg->path, "cgroupsPath", e)) return false;
    if (!strcmp(cg->path, "/")) return oci_fail(e, "cgroupsPath: \"%s\": the root cgroup cannot be used", p);
    return true;
}

bool oci_cgroup_init(oci_cgroup *cg, const char *cgroups_path, const char *id, bool systemd,
                     oci_err *e) {
    return cgroup_init(cg, cgroups_path, id, systemd, e) || scrub(e);
}

/* Guards functions that get a cgroup back from a state file. */
static bool cg_check(const oci_cgroup *cg, oci_err *e) {
    char norm[sizeof cg->path];
    if (!memchr(cg->path, 0, sizeof cg->path) || cg->path[0] != '/' ||
        !path_normalize(cg->path, norm, sizeof norm, "cgroup", e) || strcmp(norm, cg->path) ||
        !strcmp(norm, "/"))
        return oci_fail(e, "cgroup: bad path \"%.64s\"", cg->path);
    return true;
}

/* ------------------------------------------------------------ v1 hierarchies */

/* Controllers (and named hierarchies) the container is placed in on v1. */
static const char *const v1_controllers[] = {
    "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids",
    "hugetlb", "net_cls", "net_prio", "perf_event", "rdma", "misc", "name=systemd",
};
#define NV1 (sizeof v1_controllers / sizeof v1_controllers[0])

typedef struct {
    char dev[32];     /* major:minor: one per hierarchy */
    char *mnt;        /* mount point */
    char *root;       /* the mount's root inside the hierarchy */
    char opts[256];   /* ",rw,cpu,cpuacct," */
} v1_hier;

typedef struct {
    v1_hier h[NV1];
    int n;
} v1_set;

static void v1_free(v1_set *s) {
    for (int i = 0; i < s->n; i++) {
        free(s->h[i].mnt);
        free(s->h[i].root);
    }
    s->n = 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s) {
    char *o = malloc(strlen(s) + 1), *q = o;
    if (!o) return NULL;
    while (*s) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
            s[3] <= '7') {
            *q++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 4;
        } else *q++ = *s++;
    }
    *q = 0;
    return o;
}

static bool has_ctrl(const char *opts, const char *ctrl) {
    char k[64];
    snprintf(k, sizeof k, ",%s,", ctrl);
    return strstr(opts, k) != NULL;
}

static bool v1_load(v1_set *s, oci_err *e) {
    s->n = 0;
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f) return oci_fail_errno(e, "/proc/self/mountinfo: open");
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        /* id parent major:minor root mountpoint opts [optional...] - fstype source superopts */
        char *sep = strstr(line, " - ");
        if (!sep) continue;
        char fstype[32], source[256], super[1024];
        if (sscanf(sep + 3, "%31s %255s %1023s", fstype, source, super) != 3 || strcmp(fstype, "cgroup"))
            continue;
        char dev[32], root[PATH_MAX], mnt[PATH_MAX];
        if (sscanf(line, "%*s %*s %31s %4095s %4095s", dev, root, mnt) != 3) continue;
        char opts[256];
        if ((size_t)snprintf(opts, sizeof opts, ",%s,", super) >= sizeof opts) continue;
        bool wanted = false;
        for (size_t i = 0; i < NV1 && !wanted; i++) wanted = has_ctrl(opts, v1_controllers[i]);
        if (!wanted) continue;
        int k;
        for (k = 0; k < s->n && strcmp(s->h[k].dev, dev); k++) {}
        if (k < s->n) {
            /* The same hierarchy mounted twice: prefer the mount of its root. */
            if (!strcmp(s->h[k].root, "/") || strcmp(root, "/")) continue;
            free(s->h[k].mnt);
            free(s->h[k].root);
        } else {
            if (s->n == (int)NV1) continue;
            k = s->n++;
        }
        v1_hier *h = &s->h[k];
        snprintf(h->dev, sizeof h->dev, "%s", dev);
        snprintf(h->opts, sizeof h->opts, "%s", opts);
        h->mnt = unescape(mnt);
        h->root = unescape(root);
        if (!h->mnt || !h->root) {
            free(line);
            fclose(f);
            v1_free(s);
            return oci_fail(e, "/proc/self/mountinfo: out of memory");
        }
    }
    free(line);
    fclose(f);
    if (!s->n) return oci_fail(e, "cgroup v1: no cgroup hierarchy is mounted (see /proc/self/mountinfo)");
    return true;
}

static const v1_hier *v1_find(const v1_set *s, const char *ctrl) {
    for (int i = 0; i < s->n; i++)
        if (has_ctrl(s->h[i].opts, ctrl)) return &s->h[i];
    return NULL;
}

/* The folder of `path` in hierarchy h: mount point + path below the mount's root. */
static bool v1_dir(const v1_hier *h, const char *path, char *out, size_t n, oci_err *e) {
    size_t rl = strlen(h->root);
    const char *rest = path;
    if (strcmp(h->root, "/") && !strncmp(path, h->root, rl) && (path[rl] == '/' || !path[rl]))
        rest = path + rl;
    if ((size_t)snprintf(out, n, "%s%s", h->mnt, rest) >= n)
        return oci_fail(e, "cgroup %s%s: path too long", h->mnt, path);
    return true;
}

/* Folder of one controller, or an error naming it when it is not mounted. */
static bool v1_ctrl_dir(const v1_set *s, const char *ctrl, const char *path, char *out, size_t n,
                        oci_err *e) {
    const v1_hier *h = v1_find(s, ctrl);
    if (!h) return oci_fail(e, "cgroup v1: the %s controller is not mounted", ctrl);
    return v1_dir(h, path, out, n, e);
}

/* cpuset: a new cgroup starts with empty cpus/mems, which makes adding
 * a task fail with ENOSPC; copy the parent's values down. */
static bool cpuset_inherit(const char *parent, const char *dir, oci_err *e) {
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    for (int i = 0; i < 2; i++) {
        char cur[4096], up[4096];
        if (cg_read(dir, files[i], cur, sizeof cur) < 0)
            return oci_fail_errno(e, "cgroup %s: %s: read", dir, files[i]);
        if (cur[0]) continue;
        if (cg_read(parent, files[i], up, sizeof up) < 0)
            return oci_fail_errno(e, "cgroup %s: %s: read", parent, files[i]);
        if (up[0] && !cg_write(dir, files[i], up, e)) return false;
    }
    return true;
}

/* mkdir -p of path below a hierarchy mounted at base. */
static bool mkdir_levels(const char *base, const char *path, bool cpuset, oci_err *e) {
    char dir[PATH_MAX], parent[PATH_MAX];
    size_t bl = strlen(base);
    if (bl + strlen(path) >= sizeof dir) return oci_fail(e, "cgroup %s%s: path too long", base, path);
    memcpy(dir, base, bl + 1);
    const char *p = path;
    while (*p) {
        while (*p == '/') p++;
        if (!*p) break;
        size_t c = strcspn(p, "/");
        memcpy(parent, dir, bl + 1);
        dir[bl++] = '/';
        memcpy(dir + bl, p, c);
        bl += c;
        dir[bl] = 0;
        p += c;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) return oci_fail_errno(e, "cgroup %s: mkdir", dir);
        if (cpuset && !cpuset_inherit(parent, dir, e)) return false;
    }
    return true;
}

/* ------------------------------------------------------------ limits */

static bool v1_memory(const char *dir, const oci_resources *r, oci_err *e) {
    if (r->has_memory_reservation &&
        !cg_write_i64(dir, "memory.soft_limit_in_bytes", r->memory_reservation, e))
        return false;
    /* Without swap accounting memsw does not exist: the swap value is moot.
     * An unlimited memory limit with swap not given lifts memsw too (as
     * runc), or the kernel refuses a limit above memsw. */
    int64_t memsw = r->has_memory_swap ? r->memory_swap : -1;
    bool swap = (r->has_memory_swap || (r->has_memory_limit && r->memory_limit == -1)) &&
                cg_exists(dir, "memory.memsw.limit_in_bytes");
    /* memsw must stay >= limit after each write: raise memsw first when
     * the new memsw is above the current limit, else lower the limit first. */
    bool swap_first = false;
    if (swap && r->has_memory_limit) {
        char cur[64];
        if (cg_read(dir, "memory.limit_in_bytes", cur, sizeof cur) < 0)
            return oci_fail_errno(e, "cgroup %s: memory.limit_in_bytes: read", dir);
        unsigned long long c = strtoull(cur, NULL, 10);
        swap_first = memsw == -1 || c < (unsigned long long)memsw;
    }
    if (swap && swap_first && !cg_write_i64(dir, "memory.memsw.limit_in_bytes", memsw, e)) return false;
    if (r->has_memory_limit && !cg_write_i64(dir, "memory.limit_in_bytes", r->memory_limit, e)) return false;
    if (swap && !swap_first && !cg_write_i64(dir, "memory.memsw.limit_in_bytes", memsw, e)) return false;
    return true;
}

static bool v1_cpu(const char *dir, const oci_resources *r, oci_err *e) {
    if (r->has_cpu_shares && !cg_write_i64(dir, "cpu.shares", (int64_t)r->cpu_shares, e)) return false;
    if (r->has_cpu_period) {
        oci_err tmp;
        if (!cg_write_i64(dir, "cpu.cfs_period_us", (int64_t)r->cpu_period, &tmp)) {
            /* The old quota may not fit the new period: quota first, then retry. */
            if (errno != EINVAL || !r->has_cpu_quota) {
                *e = tmp;
                return false;
            }
            if (!cg_write_i64(dir, "cpu.cfs_quota_us", r->cpu_quota, e)) return false;
            return cg_write_i64(dir, "cpu.cfs_period_us", (int64_t)r->cpu_period, e);
        }
    }
    if (r->has_cpu_quota && !cg_write_i64(dir, "cpu.cfs_quota_us", r->cpu_quota, e)) return false;
    return true;
}

static bool v1_devices(const char *dir, json_t *devices, oci_err *e) {
    size_t i;
    json_t *d;
    json_array_foreach(devices, i, d) {
        bool allow;
        char line[64];
        if (!device_rule(d, i, &allow, line, sizeof line, e)) return false;
        if (!cg_write(dir, allow ? "devices.allow" : "devices.deny", line, e)) return false;
    }
    return true;
}

static bool v1_apply(const v1_set *s, const char *path, const oci_resources *r, oci_err *e) {
    char dir[PATH_MAX];
    if (r->has_memory_limit || r->has_memory_reservation || r->has_memory_swap) {
        if (!v1_ctrl_dir(s, "memory", path, dir, sizeof dir, e) || !v1_memory(dir, r, e)) return false;
    }
    if (r->has_cpu_shares || r->has_cpu_period || r->has_cpu_quota) {
        if (!v1_ctrl_dir(s, "cpu", path, dir, sizeof dir, e) || !v1_cpu(dir, r, e)) return false;
    }
    if (r->cpuset_cpus || r->cpuset_mems) {
        if (!v1_ctrl_dir(s, "cpuset", path, dir, sizeof dir, e)) return false;
        if (r->cpuset_cpus && !cg_write(dir, "cpuset.cpus", r->cpuset_cpus, e)) return false;
        if (r->cpuset_mems && !cg_write(dir, "cpuset.mems", r->cpuset_mems, e)) return false;
    }
    if (r->has_pids_limit) {
        if (!v1_ctrl_dir(s, "pids", path, dir, sizeof dir, e)) return false;
        if (r->pids_limit <= 0 ? !cg_write(dir, "pids.max", "max", e)
                               : !cg_write_i64(dir, "pids.max", r->pids_limit, e))
            return false;
    }
    if (r->devices) {
        if (!v1_ctrl_dir(s, "devices", path, dir, sizeof dir, e) || !v1_devices(dir, r->devices, e))
            return false;
    }
    return true;
}

/* v2 limit file: on ENOENT, say which controller is missing. */
static bool v2_write(const char *dir, const char *file, const char *val, oci_err *e) {
    if (cg_write(dir, file, val, e)) return true;
    if (errno == ENOENT) {
        size_t l = strlen(e->msg);
        snprintf(e->msg + l, sizeof e->msg - l, " (is the %.*s controller enabled in the parent's "
                 "cgroup.subtree_control?)", (int)strcspn(file, "."), file);
    }
    return false;
}

static void fmt_max(char *s, size_t n, int64_t v) {
    if (v < 0) snprintf(s, n, "max");
    else snprintf(s, n, "%" PRId64, v);
}

static bool v2_apply(const char *dir, const oci_resources *r, oci_err *e) {
    char s[64];
    if (r->has_memory_reservation) {
        fmt_max(s, sizeof s, r->memory_reservation);
        if (!v2_write(dir, "memory.low", s, e)) return false;
    }
    /* memory.swap.max is swap only (runc's conversion of memory+swap). */
    if (r->has_memory_swap && cg_exists(dir, "memory.swap.max")) {
        int64_t sw;
        if (r->memory_swap == -1) sw = -1;
        else if (!r->has_memory_limit || r->memory_limit == -1)
            return oci_fail(e, RES ".memory.swap: cannot be set without a memory limit (cgroup v2)");
        else sw = r->memory_swap - r->memory_limit;
        fmt_max(s, sizeof s, sw);
        if (!v2_write(dir, "memory.swap.max", s, e)) return false;
    } else if (r->has_memory_limit && r->memory_limit == -1 && cg_exists(dir, "memory.swap.max")) {
        /* Unlimited memory with swap not given: both unlimited, as on v1. */
        if (!v2_write(dir, "memory.swap.max", "max", e)) return false;
    }
    if (r->has_memory_limit) {
        fmt_max(s, sizeof s, r->memory_limit);
        if (!v2_write(dir, "memory.max", s, e)) return false;
    }
    if (r->has_cpu_shares) {
        /* v1 shares [2, 262144] map onto v2 weight [1, 10000]. */
        uint64_t sh = r->cpu_shares < 2 ? 2 : r->cpu_shares > 262144 ? 262144 : r->cpu_shares;
        snprintf(s, sizeof s, "%" PRIu64, 1 + ((sh - 2) * 9999) / 262142);
        if (!v2_write(dir, "cpu.weight", s, e)) return false;
    }
    if (r->has_cpu_quota || r->has_cpu_period) {
        char q[32];
        if (r->has_cpu_quota) {
            fmt_max(q, sizeof q, r->cpu_quota);
        } else {
            /* Period alone: keep the current quota. */
            char cur[64];
            if (cg_read(dir, "cpu.max", cur, sizeof cur) < 0)
                return oci_fail_errno(e, "cgroup %s: cpu.max: read", dir);
            snprintf(q, sizeof q, "%.*s", (int)strcspn(cur, " "), cur);
        }
        if (r->has_cpu_period) snprintf(s, sizeof s, "%s %" PRIu64, q, r->cpu_period);
        else snprintf(s, sizeof s, "%s", q);
        if (!v2_write(dir, "cpu.max", s, e)) return false;
    }
    if (r->cpuset_cpus && !v2_write(dir, "cpuset.cpus", r->cpuset_cpus, e)) return false;
    if (r->cpuset_mems && !v2_write(dir, "cpuset.mems", r->cpuset_mems, e)) return false;
    if (r->has_pids_limit) {
        fmt_max(s, sizeof s, r->pids_limit <= 0 ? -1 : r->pids_limit);
        if (!v2_write(dir, "pids.max", s, e)) return false;
    }
    /* linux.resources.devices: needs eBPF on v2, not done (see the top). */
    return true;
}

/* Enables the controllers we use that `dir` offers in its subtree_control.
 * Failures are only logged: EBUSY (the folder has processes: the "no
 * internal processes" rule) or a controller some other manager owns must
 * not stop a container that sets no limit; when a limit does need the
 * controller, writing its file fails later with a clear message. */
static void v2_enable(const char *dir) {
    static const char *const want[] = {"cpuset", "cpu", "io", "memory", "pids"};
    char avail[1024], on[1024];
    if (cg_read(dir, "cgroup.controllers", avail, sizeof avail) < 0) return;
    if (cg_read(dir, "cgroup.subtree_control", on, sizeof on) < 0) on[0] = 0;
    char a[1040], o[1040];
    snprintf(a, sizeof a, " %s ", avail);
    snprintf(o, sizeof o, " %s ", on);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char k[32];
        snprintf(k, sizeof k, " %s ", want[i]);
        if (!strstr(a, k) || strstr(o, k)) continue;
        char v[32];
        oci_err tmp;
        snprintf(v, sizeof v, "+%s", want[i]);
        if (!cg_write(dir, "cgroup.subtree_control", v, &tmp)) oci_log_debug("%s (ignored)", tmp.msg);
    }
}

static bool v2_dir(const oci_cgroup *cg, char *out, size_t n, oci_err *e) {
    if ((size_t)snprintf(out, n, "%s%s", cg2_root(), cg->path) >= n)
        return oci_fail(e, "cgroup %s%s: path too long", cg2_root(), cg->path);
    return true;
}

static bool v2_create(const oci_cgroup *cg, oci_err *e) {
    char dir[PATH_MAX];
    const char *root = cg2_root();
    size_t bl = strlen(root);
    if (bl + strlen(cg->path) >= sizeof dir) return oci_fail(e, "cgroup %s%s: path too long", root, cg->path);
    memcpy(dir, root, bl + 1);
    const char *p = cg->path;
    while (*p) {
        while (*p == '/') p++;
        if (!*p) break;
        v2_enable(dir);
        size_t c = strcspn(p, "/");
        dir[bl++] = '/';
        memcpy(dir + bl, p, c);
        bl += c;
        dir[bl] = 0;
        p += c;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) return oci_fail_errno(e, "cgroup %s: mkdir", dir);
    }
    return true;
}

/* ------------------------------------------------------------ public */

bool oci_cgroup_create(const oci_cgroup *cg, const oci_resources *r, oci_err *e) {
    if (!cg_check(cg, e)) return false;
    if (cg->v2) {
        char dir[PATH_MAX];
        return v2_create(cg, e) && v2_dir(cg, dir, sizeof dir, e) && v2_apply(dir, r, e);
    }
    v1_set s;
    if (!v1_load(&s, e)) return false;
    bool ok = true;
    for (int i = 0; ok && i < s.n; i++) {
        /* The hierarchy's part of the path starts at the mount's root. */
        const char *rest = cg->path;
        size_t rl = strlen(s.h[i].root);
        if (strcmp(s.h[i].root, "/") && !strncmp(rest, s.h[i].root, rl) && (rest[rl] == '/' || !rest[rl]))
            rest += rl;
        ok = mkdir_levels(s.h[i].mnt, rest, has_ctrl(s.h[i].opts, "cpuset"), e);
    }
    ok = ok && v1_apply(&s, cg->path, r, e);
    v1_free(&s);
    return ok;
}

bool oci_cgroup_update(const oci_cgroup *cg, const oci_resources *r, oci_err *e) {
    if (!cg_check(cg, e)) return false;
    if (cg->v2) {
        char dir[PATH_MAX];
        return v2_dir(cg, dir, sizeof dir, e) && v2_apply(dir, r, e);
    }
    v1_set s;
    if (!v1_load(&s, e)) return false;
    bool ok = v1_apply(&s, cg->path, r, e);
    v1_free(&s);
    return ok;
}

bool oci_cgroup_add(const oci_cgroup *cg, pid_t pid, oci_err *e) {
    if (!cg_check(cg, e)) return false;
    char num[32], dir[PATH_MAX];
    snprintf(num, sizeof num, "%d", (int)pid);
    if (cg->v2) return v2_dir(cg, dir, sizeof dir, e) && cg_write(dir, "cgroup.procs", num, e);
    v1_set s;
    if (!v1_load(&s, e)) return false;
    bool ok = true;
    for (int i = 0; ok && i < s.n; i++)
        ok = v1_dir(&s.h[i], cg->path, dir, sizeof dir, e) && cg_write(dir, "cgroup.procs", num, e);
    v1_free(&s);
    return ok;
}

/* The folder whose cgroup.procs lists the members (v1: pids, memory or
 * freezer, which all hold the same processes). */
static bool procs_dir(const oci_cgroup *cg, char *dir, size_t n, oci_err *e) {
    if (cg->v2) return v2_dir(cg, dir, n, e);
    v1_set s;
    if (!v1_load(&s, e)) return false;
    const v1_hier *h = v1_find(&s, "pids");
    if (!h) h = v1_find(&s, "memory");
    if (!h) h = v1_find(&s, "freezer");
    bool ok = h ? v1_dir(h, cg->path, dir, n, e)
                : oci_fail(e, "cgroup v1: none of the pids, memory, freezer controllers is mounted");
    v1_free(&s);
    return ok;
}

/* A cgroup that does not exist has no members (0, not an error). */
int oci_cgroup_pids(const oci_cgroup *cg, pid_t **out, oci_err *e) {
    *out = NULL;
    char dir[PATH_MAX], p[PATH_MAX + 16];
    if (!cg_check(cg, e) || !procs_dir(cg, dir, sizeof dir, e)) return -1;
    snprintf(p, sizeof p, "%s/cgroup.procs", dir);
    FILE *f = fopen(p, "re");
    if (!f) {
        if (errno == ENOENT) return 0;
        oci_fail_errno(e, "cgroup %s: cgroup.procs: open", dir);
        return -1;
    }
    pid_t *v = NULL;
    int n = 0, cap = 0;
    long pid;
    while (fscanf(f, "%ld", &pid) == 1) {
        if (pid <= 0 || pid > INT32_MAX) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            pid_t *nv = realloc(v, (size_t)cap * sizeof *v);
            if (!nv) {
                free(v);
                fclose(f);
                oci_fail(e, "cgroup %s: cgroup.procs: out of memory", dir);
                return -1;
            }
            v = nv;
        }
        v[n++] = (pid_t)pid;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(v);
        oci_fail(e, "cgroup %s: cgroup.procs: read error", dir);
        return -1;
    }
    *out = v;
    return n;
}

static bool freezer_dir(const oci_cgroup *cg, char *dir, size_t n, oci_err *e) {
    if (cg->v2) return v2_dir(cg, dir, n, e);
    v1_set s;
    if (!v1_load(&s, e)) return false;
    bool ok = v1_ctrl_dir(&s, "freezer", cg->path, dir, n, e);
    v1_free(&s);
    return ok;
}

/* Current state: 1 frozen, 0 thawed, 2 in between (v1 FREEZING), -1 error. */
static int frozen_state(bool v2, const char *dir) {
    char buf[512];
    if (!v2) {
        if (cg_read(dir, "freezer.state", buf, sizeof buf) < 0) return -1;
        return !strcmp(buf, "FROZEN") ? 1 : !strcmp(buf, "THAWED") ? 0 : 2;
    }
    if (cg_read(dir, "cgroup.events", buf, sizeof buf) < 0) return -1;
    const char *f = strstr(buf, "frozen ");
    if (!f || (f != buf && f[-1] != '\n')) return -1;
    return f[7] == '1';
}

bool oci_cgroup_freeze(const oci_cgroup *cg, bool frozen, oci_err *e) {
    char dir[PATH_MAX];
    if (!cg_check(cg, e) || !freezer_dir(cg, dir, sizeof dir, e)) return false;
    const char *file = cg->v2 ? "cgroup.freeze" : "freezer.state";
    const char *val = cg->v2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED");
    if (!cg_write(dir, file, val, e)) return false;
    /* Freezing completes asynchronously; wait up to ~2 s for it. */
    long deadline = now_ms() + 2000;
    for (int i = 1;; i++) {
        int st = frozen_state(cg->v2, dir);
        if (st < 0)
            return oci_fail_errno(e, "cgroup %s: %s: read", dir, cg->v2 ? "cgroup.events" : "freezer.state");
        if (st == (frozen ? 1 : 0)) return true;
        if (now_ms() > deadline) break;
        sleep_ms(10);
        /* v1: a task forked while freezing can escape; writing again
         * picks it up (runc does the same). */
        if (!cg->v2 && frozen && i % 10 == 0 && !cg_write(dir, file, val, e)) return false;
    }
    if (frozen) {
        oci_err tmp;
        cg_write(dir, file, cg->v2 ? "0" : "THAWED", &tmp);
    }
    return oci_fail(e, "cgroup %s: %s: still not %s after 2 s", dir, file, frozen ? "frozen" : "thawed");
}

bool oci_cgroup_is_frozen(const oci_cgroup *cg) {
    char dir[PATH_MAX];
    oci_err tmp;
    if (!cg_check(cg, &tmp) || !freezer_dir(cg, dir, sizeof dir, &tmp)) return false;
    return frozen_state(cg->v2, dir) == 1;
}

bool oci_cgroup_kill(const oci_cgroup *cg, int sig, oci_err *e) {
    char dir[PATH_MAX];
    if (!cg_check(cg, e)) return false;
    /* v2 cgroup.kill (5.14+) kills every member atomically, forks included. */
    if (cg->v2 && sig == SIGKILL && v2_dir(cg, dir, sizeof dir, e) && cg_exists(dir, "cgroup.kill")) {
        oci_err tmp;
        if (cg_write(dir, "cgroup.kill", "1", &tmp)) return true;
        if (errno == ENOENT) return true;
    }
    /* v1 SIGKILL: freeze first so nothing forks between listing and
     * killing; frozen tasks die when thawed. */
    bool froze = false;
    if (!cg->v2 && sig == SIGKILL) {
        oci_err tmp;
        froze = !oci_cgroup_is_frozen(cg) && oci_cgroup_freeze(cg, true, &tmp);
    }
    pid_t *pids;
    int n = oci_cgroup_pids(cg, &pids, e);
    bool ok = n >= 0;
    for (int i = 0; i < n; i++) {
        if (kill(pids[i], sig) < 0 && errno != ESRCH && ok)
            ok = oci_fail_errno(e, "cgroup %s: kill %d with signal %d", cg->path, (int)pids[i], sig);
    }
    free(pids);
    if (froze) {
        oci_err tmp;
        oci_cgroup_freeze(cg, false, &tmp);
    }
    return ok;
}

/* rmdir of dir after its sub-cgroups (the container may have made some);
 * cgroupfs folders hold only pseudo files, which go with the folder. */
static int rm_tree(const char *dir, int depth) {
    if (depth > 64) {
        errno = ELOOP;
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : -1;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char sub[PATH_MAX];
        if ((size_t)snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name) >= sizeof sub) {
            errno = ENAMETOOLONG;
            rc = -1;
            break;
        }
        if ((rc = rm_tree(sub, depth + 1)) < 0) break;
    }
    int err = errno;
    closedir(d);
    if (rc < 0) {
        errno = err;
        return -1;
    }
    if (rmdir(dir) < 0 && errno != ENOENT) return -1;
    return 0;
}

/* Removes one leaf, retrying for ~1 s while exiting processes leave it. */
static bool rm_cgroup(const char *dir, oci_err *e) {
    long deadline = now_ms() + 1000;
    for (;;) {
        if (rm_tree(dir, 0) == 0) return true;
        if ((errno != EBUSY && errno != ENOTEMPTY) || now_ms() > deadline)
            return oci_fail_errno(e, "cgroup %s: rmdir", dir);
        sleep_ms(10);
    }
}

/* Only the container's own leaf goes: parents such as /docker are shared. */
bool oci_cgroup_destroy(const oci_cgroup *cg, oci_err *e) {
    char dir[PATH_MAX];
    if (!cg_check(cg, e)) return false;
    if (cg->v2) return v2_dir(cg, dir, sizeof dir, e) && rm_cgroup(dir, e);
    v1_set s;
    if (!v1_load(&s, e)) return false;
    bool ok = true;
    /* Every hierarchy is tried; the first error is reported. */
    for (int i = 0; i < s.n; i++) {
        oci_err tmp;
        if ((!v1_dir(&s.h[i], cg->path, dir, sizeof dir, &tmp) || !rm_cgroup(dir, &tmp)) && ok) {
            *e = tmp;
            ok = false;
        }
    }
    v1_free(&s);
    return ok;
}
