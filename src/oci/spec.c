/*
 * spec.c - reads a bundle's config.json into an oci_spec.
 *
 * Everything is checked here, before any process is forked, so that a
 * broken bundle fails `create` with one message naming the field
 * ("config.json: process.cwd: must be an absolute path") and leaves
 * nothing behind.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "oci/oci.h"

#define CFG "config.json"

static bool spec_str(json_t *obj, const char *key, const char *where, bool required,
                     char **out, oci_err *e) {
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required) return oci_fail(e, CFG ": %s.%s: missing", where, key);
        return true;
    }
    if (!json_is_string(v)) return oci_fail(e, CFG ": %s.%s: must be a string", where, key);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return oci_fail(e, CFG ": %s.%s: contains a NUL byte", where, key);
    *out = strdup(json_string_value(v));
    if (!*out) return oci_fail(e, "out of memory");
    return true;
}

static void spec_free_strv(char **v) {
    if (!v) return;
    for (char **p = v; *p; p++) free(*p);
    free(v);
}

/* A JSON array of strings -> NULL-terminated vector (empty when absent). */
static bool spec_strv(json_t *arr, const char *where, char ***out, int *count, oci_err *e) {
    *out = NULL;
    if (count) *count = 0;
    if (arr && !json_is_null(arr) && !json_is_array(arr))
        return oci_fail(e, CFG ": %s: must be an array of strings", where);
    size_t n = arr && json_is_array(arr) ? json_array_size(arr) : 0;
    char **v = calloc(n + 1, sizeof *v);
    if (!v) return oci_fail(e, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(arr, i);
        if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s)) {
            spec_free_strv(v);
            return oci_fail(e, CFG ": %s[%zu]: must be a string", where, i);
        }
        v[i] = strdup(json_string_value(s));
        if (!v[i]) {
            spec_free_strv(v);
            return oci_fail(e, "out of memory");
        }
    }
    *out = v;
    if (count) *count = (int)n;
    return true;
}

/* Rejects "..", so that a destination can never climb out of the rootfs
 * whatever symlinks the rootfs holds (those are handled when mounting). */
static bool spec_path_clean(const char *p) {
    const char *s = p;
    while (*s) {
        while (*s == '/') s++;
        const char *t = s;
        while (*t && *t != '/') t++;
        if (t - s == 2 && s[0] == '.' && s[1] == '.') return false;
        s = t;
    }
    return true;
}

typedef struct spec_mount_opt {
    const char *name;
    bool clear;
    unsigned long flag;
} spec_mount_opt;

static const spec_mount_opt spec_mount_flags[] = {
    {"ro", false, MS_RDONLY},          {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},      {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},        {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},      {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},   {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},      {"nomand", true, MS_MANDLOCK},
    {"atime", true, MS_NOATIME},       {"noatime", false, MS_NOATIME},
    {"diratime", true, MS_NODIRATIME}, {"nodiratime", false, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},  {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME}, {"nostrictatime", true, MS_STRICTATIME},
    {"bind", false, MS_BIND},          {"rbind", false, MS_BIND | MS_REC},
    {"silent", false, MS_SILENT},      {"loud", true, MS_SILENT},
};

static const spec_mount_opt spec_propagation[] = {
    {"private", false, MS_PRIVATE},   {"rprivate", false, MS_PRIVATE | MS_REC},
    {"slave", false, MS_SLAVE},       {"rslave", false, MS_SLAVE | MS_REC},
    {"shared", false, MS_SHARED},     {"rshared", false, MS_SHARED | MS_REC},
    {"unbindable", false, MS_UNBINDABLE}, {"runbindable", false, MS_UNBINDABLE | MS_REC},
};

static bool spec_append(char **data, const char *opt) {
    size_t old = *data ? strlen(*data) : 0, add = strlen(opt);
    char *n = realloc(*data, old + add + 2);
    if (!n) return false;
    if (old) n[old++] = ',';
    memcpy(n + old, opt, add + 1);
    *data = n;
    return true;
}

static bool spec_parse_mount(json_t *m, size_t idx, oci_mount *out, oci_err *e) {
    char where[64];
    snprintf(where, sizeof where, "mounts[%zu]", idx);
    if (!json_is_object(m)) return oci_fail(e, CFG ": %s: must be an object", where);
    if (!spec_str(m, "destination", where, true, &out->destination, e)) return false;
    if (!spec_str(m, "type", where, false, &out->type, e)) return false;
    if (!spec_str(m, "source", where, false, &out->source, e)) return false;
    if (out->destination[0] != '/')
        return oci_fail(e, CFG ": %s.destination: '%s' must be an absolute path", where,
                        out->destination);
    if (!spec_path_clean(out->destination))
        return oci_fail(e, CFG ": %s.destination: '%s' must not contain '..'", where,
                        out->destination);
    json_t *opts = json_object_get(m, "options");
    if (opts && !json_is_null(opts) && !json_is_array(opts))
        return oci_fail(e, CFG ": %s.options: must be an array of strings", where);
    size_t n = opts && json_is_array(opts) ? json_array_size(opts) : 0;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(opts, i);
        if (!json_is_string(o))
            return oci_fail(e, CFG ": %s.options[%zu]: must be a string", where, i);
        const char *s = json_string_value(o);
        bool known = false;
        for (size_t k = 0; k < sizeof spec_mount_flags / sizeof spec_mount_flags[0]; k++)
            if (strcmp(s, spec_mount_flags[k].name) == 0) {
                if (spec_mount_flags[k].clear)
                    out->flags &= ~spec_mount_flags[k].flag;
                else
                    out->flags |= spec_mount_flags[k].flag;
                known = true;
            }
        for (size_t k = 0; k < sizeof spec_propagation / sizeof spec_propagation[0]; k++)
            if (strcmp(s, spec_propagation[k].name) == 0) {
                out->propagation = spec_propagation[k].flag;
                known = true;
            }
        if (!known && !spec_append(&out->data, s)) return oci_fail(e, "out of memory");
    }
    out->bind = (out->flags & MS_BIND) != 0 || (out->type && strcmp(out->type, "bind") == 0);
    if (out->bind && !(out->flags & MS_BIND)) out->flags |= MS_BIND;
    out->readonly = (out->flags & MS_RDONLY) != 0;
    if (!out->type) {
        out->type = strdup(out->bind ? "bind" : "none");
        if (!out->type) return oci_fail(e, "out of memory");
    }
    if (out->bind && (!out->source || out->source[0] == '\0'))
        return oci_fail(e, CFG ": %s: a bind mount needs a source", where);
    return true;
}

static const struct {
    const char *name;
    int type;
} spec_ns_types[] = {
    {"mount", CLONE_NEWNS}, {"pid", CLONE_NEWPID},   {"network", CLONE_NEWNET},
    {"ipc", CLONE_NEWIPC},  {"uts", CLONE_NEWUTS},   {"user", CLONE_NEWUSER},
    {"cgroup", CLONE_NEWCGROUP},
#ifdef CLONE_NEWTIME
    {"time", CLONE_NEWTIME},
#endif
};

static bool spec_parse_namespaces(json_t *arr, oci_spec *s, oci_err *e) {
    if (!arr || json_is_null(arr)) return true;
    if (!json_is_array(arr)) return oci_fail(e, CFG ": linux.namespaces: must be an array");
    size_t n = json_array_size(arr);
    s->namespaces = calloc(n + 1, sizeof *s->namespaces);
    if (!s->namespaces) return oci_fail(e, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *ns = json_array_get(arr, i);
        char where[64];
        snprintf(where, sizeof where, "linux.namespaces[%zu]", i);
        if (!json_is_object(ns)) return oci_fail(e, CFG ": %s: must be an object", where);
        json_t *t = json_object_get(ns, "type");
        if (!json_is_string(t)) return oci_fail(e, CFG ": %s.type: missing", where);
        int type = 0;
        for (size_t k = 0; k < sizeof spec_ns_types / sizeof spec_ns_types[0]; k++)
            if (strcmp(json_string_value(t), spec_ns_types[k].name) == 0)
                type = spec_ns_types[k].type;
        if (!type)
            return oci_fail(e, CFG ": %s.type: unknown namespace '%s'", where,
                            json_string_value(t));
        for (int k = 0; k < s->nnamespaces; k++)
            if (s->namespaces[k].type == type)
                return oci_fail(e, CFG ": %s: namespace '%s' given twice", where,
                                json_string_value(t));
        oci_namespace *o = &s->namespaces[s->nnamespaces++];
        o->type = type;
        if (!spec_str(ns, "path", where, false, &o->path, e)) return false;
        if (o->path && o->path[0] == '\0') {
            free(o->path);
            o->path = NULL;
        }
        if (o->path && o->path[0] != '/')
            return oci_fail(e, CFG ": %s.path: '%s' must be absolute", where, o->path);
    }
    return true;
}

static bool spec_parse_hooks(json_t *hooks, oci_spec *s, oci_err *e) {
    static const char *names[OCI_HOOK_KINDS] = {"prestart",        "createRuntime",
                                                "createContainer", "startContainer",
                                                "poststart",       "poststop"};
    if (!hooks || json_is_null(hooks)) return true;
    if (!json_is_object(hooks)) return oci_fail(e, CFG ": hooks: must be an object");
    for (int k = 0; k < OCI_HOOK_KINDS; k++) {
        json_t *arr = json_object_get(hooks, names[k]);
        if (!arr || json_is_null(arr)) continue;
        if (!json_is_array(arr)) return oci_fail(e, CFG ": hooks.%s: must be an array", names[k]);
        size_t n = json_array_size(arr);
        s->hooks[k] = calloc(n + 1, sizeof *s->hooks[k]);
        if (!s->hooks[k]) return oci_fail(e, "out of memory");
        for (size_t i = 0; i < n; i++) {
            json_t *h = json_array_get(arr, i);
            char where[64];
            snprintf(where, sizeof where, "hooks.%s[%zu]", names[k], i);
            if (!json_is_object(h)) return oci_fail(e, CFG ": %s: must be an object", where);
            oci_hook *o = &s->hooks[k][s->nhooks[k]++];
            if (!spec_str(h, "path", where, true, &o->path, e)) return false;
            if (o->path[0] != '/')
                return oci_fail(e, CFG ": %s.path: '%s' must be absolute", where, o->path);
            char w2[96];
            snprintf(w2, sizeof w2, "%s.args", where);
            if (!spec_strv(json_object_get(h, "args"), w2, &o->args, NULL, e)) return false;
            snprintf(w2, sizeof w2, "%s.env", where);
            if (!spec_strv(json_object_get(h, "env"), w2, &o->env, NULL, e)) return false;
            json_t *to = json_object_get(h, "timeout");
            if (to && !json_is_null(to)) {
                if (!json_is_integer(to) || json_integer_value(to) <= 0 ||
                    json_integer_value(to) > 86400)
                    return oci_fail(e, CFG ": %s.timeout: must be a positive integer", where);
                o->timeout = (int)json_integer_value(to);
            }
        }
    }
    return true;
}

bool oci_spec_parse_process(json_t *p, oci_spec *s, const char *where, oci_err *e) {
    if (!json_is_object(p)) return oci_fail(e, "%s: process: missing or not an object", where);
    s->process = p;
    json_t *t = json_object_get(p, "terminal");
    if (t && !json_is_null(t) && !json_is_boolean(t))
        return oci_fail(e, "%s: process.terminal: must be true or false", where);
    s->terminal = t && json_is_true(t);
    json_t *args = json_object_get(p, "args");
    if (!json_is_array(args) || json_array_size(args) == 0)
        return oci_fail(e, "%s: process.args: must be a non-empty array", where);
    if (!spec_strv(args, "process.args", &s->args, &s->nargs, e)) return false;
    if (s->args[0][0] == '\0') return oci_fail(e, "%s: process.args[0]: is empty", where);
    if (!spec_strv(json_object_get(p, "env"), "process.env", &s->env, &s->nenv, e)) return false;
    for (int i = 0; i < s->nenv; i++)
        if (!strchr(s->env[i], '=') || s->env[i][0] == '=')
            return oci_fail(e, "%s: process.env[%d]: '%s' is not KEY=VALUE", where, i, s->env[i]);
    if (!spec_str(p, "cwd", "process", false, &s->cwd, e)) return false;
    if (!s->cwd) {
        s->cwd = strdup("/");
        if (!s->cwd) return oci_fail(e, "out of memory");
    }
    if (s->cwd[0] != '/')
        return oci_fail(e, "%s: process.cwd: '%s' must be an absolute path", where, s->cwd);
    if (!spec_path_clean(s->cwd))
        return oci_fail(e, "%s: process.cwd: '%s' leaves the root filesystem ('..')", where,
                        s->cwd);
    return true;
}

bool oci_spec_load(const char *bundle, oci_spec *s, oci_err *e) {
    memset(s, 0, sizeof *s);
    char abs[PATH_MAX];
    if (!realpath(bundle, abs)) return oci_fail_errno(e, "bundle %s", bundle);
    s->bundle = strdup(abs);
    if (!s->bundle) return oci_fail(e, "out of memory");
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/config.json", abs);
    json_error_t jerr;
    s->json = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!s->json) {
        if (access(path, F_OK) != 0)
            return oci_fail_errno(e, "bundle %s: cannot open config.json", abs);
        return oci_fail(e, "%s: invalid JSON at line %d, column %d: %s", path, jerr.line,
                        jerr.column, jerr.text);
    }
    if (!json_is_object(s->json)) return oci_fail(e, "%s: must be a JSON object", path);
    if (!spec_str(s->json, "ociVersion", "(top)", false, &s->oci_version, e)) return false;

    json_t *root = json_object_get(s->json, "root");
    if (!json_is_object(root)) return oci_fail(e, CFG ": root: missing or not an object");
    char *rp = NULL;
    if (!spec_str(root, "path", "root", true, &rp, e)) return false;
    char joined[PATH_MAX * 2];
    if (rp[0] == '/')
        snprintf(joined, sizeof joined, "%s", rp);
    else
        snprintf(joined, sizeof joined, "%s/%s", abs, rp);
    free(rp);
    char rootabs[PATH_MAX];
    if (!realpath(joined, rootabs)) return oci_fail_errno(e, CFG ": root.path: %s", joined);
    s->root_path = strdup(rootabs);
    if (!s->root_path) return oci_fail(e, "out of memory");
    json_t *ro = json_object_get(root, "readonly");
    if (ro && !json_is_null(ro) && !json_is_boolean(ro))
        return oci_fail(e, CFG ": root.readonly: must be true or false");
    s->root_readonly = ro && json_is_true(ro);

    if (!oci_spec_parse_process(json_object_get(s->json, "process"), s, CFG, e)) return false;
    if (!spec_str(s->json, "hostname", "(top)", false, &s->hostname, e)) return false;
    if (!spec_str(s->json, "domainname", "(top)", false, &s->domainname, e)) return false;

    json_t *mounts = json_object_get(s->json, "mounts");
    if (mounts && !json_is_null(mounts)) {
        if (!json_is_array(mounts)) return oci_fail(e, CFG ": mounts: must be an array");
        size_t n = json_array_size(mounts);
        s->mounts = calloc(n + 1, sizeof *s->mounts);
        if (!s->mounts) return oci_fail(e, "out of memory");
        for (size_t i = 0; i < n; i++) {
            s->nmounts++;
            if (!spec_parse_mount(json_array_get(mounts, i), i, &s->mounts[i], e)) return false;
        }
    }
    if (!spec_parse_hooks(json_object_get(s->json, "hooks"), s, e)) return false;
    s->annotations = json_object_get(s->json, "annotations");
    if (s->annotations && json_is_null(s->annotations)) s->annotations = NULL;
    if (s->annotations && !json_is_object(s->annotations))
        return oci_fail(e, CFG ": annotations: must be an object");

    json_t *lx = json_object_get(s->json, "linux");
    if (lx && !json_is_null(lx)) {
        if (!json_is_object(lx)) return oci_fail(e, CFG ": linux: must be an object");
        s->linux_cfg = lx;
        if (!spec_parse_namespaces(json_object_get(lx, "namespaces"), s, e)) return false;
        s->uid_mappings = json_object_get(lx, "uidMappings");
        s->gid_mappings = json_object_get(lx, "gidMappings");
        if (!spec_str(lx, "cgroupsPath", "linux", false, &s->cgroups_path, e)) return false;
        s->resources = json_object_get(lx, "resources");
        s->sysctl = json_object_get(lx, "sysctl");
        if (s->sysctl && json_is_null(s->sysctl)) s->sysctl = NULL;
        if (s->sysctl && !json_is_object(s->sysctl))
            return oci_fail(e, CFG ": linux.sysctl: must be an object");
        json_t *prop = json_object_get(lx, "rootfsPropagation");
        if (prop && !json_is_null(prop)) {
            if (!json_is_string(prop))
                return oci_fail(e, CFG ": linux.rootfsPropagation: must be a string");
            bool ok = false;
            for (size_t k = 0; k < sizeof spec_propagation / sizeof spec_propagation[0]; k++)
                if (strcmp(json_string_value(prop), spec_propagation[k].name) == 0) {
                    s->rootfs_propagation = spec_propagation[k].flag;
                    ok = true;
                }
            if (!ok)
                return oci_fail(e, CFG ": linux.rootfsPropagation: unknown value '%s'",
                                json_string_value(prop));
        }
    }
    if (oci_spec_has_namespace(s, CLONE_NEWUSER)) {
        bool has_path = false;
        for (int i = 0; i < s->nnamespaces; i++)
            if (s->namespaces[i].type == CLONE_NEWUSER && s->namespaces[i].path) has_path = true;
        if (!has_path && (!json_is_array(s->uid_mappings) || !json_is_array(s->gid_mappings)))
            return oci_fail(e, CFG ": linux.namespaces: a new user namespace needs "
                               "linux.uidMappings and linux.gidMappings");
    }
    return true;
}

void oci_spec_free(oci_spec *s) {
    free(s->bundle);
    free(s->oci_version);
    free(s->root_path);
    spec_free_strv(s->args);
    spec_free_strv(s->env);
    free(s->cwd);
    free(s->hostname);
    free(s->domainname);
    for (int i = 0; i < s->nmounts; i++) {
        free(s->mounts[i].destination);
        free(s->mounts[i].type);
        free(s->mounts[i].source);
        free(s->mounts[i].data);
    }
    free(s->mounts);
    for (int k = 0; k < OCI_HOOK_KINDS; k++) {
        for (int i = 0; i < s->nhooks[k]; i++) {
            free(s->hooks[k][i].path);
            spec_free_strv(s->hooks[k][i].args);
            spec_free_strv(s->hooks[k][i].env);
        }
        free(s->hooks[k]);
    }
    for (int i = 0; i < s->nnamespaces; i++) free(s->namespaces[i].path);
    free(s->namespaces);
    free(s->cgroups_path);
    json_decref(s->json);
    memset(s, 0, sizeof *s);
}

bool oci_spec_has_namespace(const oci_spec *s, int type) {
    for (int i = 0; i < s->nnamespaces; i++)
        if (s->namespaces[i].type == type) return true;
    return false;
}

const char *oci_spec_annotation(const oci_spec *s, const char *key) {
    if (!s->annotations) return NULL;
    json_t *v = json_object_get(s->annotations, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *oci_spec_env(const oci_spec *s, const char *key) {
    size_t n = strlen(key);
    for (int i = 0; i < s->nenv; i++)
        if (strncmp(s->env[i], key, n) == 0 && s->env[i][n] == '=') return s->env[i] + n + 1;
    return NULL;
}
