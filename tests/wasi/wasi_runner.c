/*
 * wb-wasi-suite - runs the WASI preview1 test suite against the wasmbox
 * binary.
 *
 *   wb-wasi-suite [--skip FILE] [--work-dir DIR] [--timeout SECONDS]
 *                 [--guest-dir PATH] [--only GLOB] [--keep] [--verbose]
 *                 WASMBOX SUITE_DIR
 *
 * SUITE_DIR holds one folder per source language (c/, assemblyscript/,
 * rust/), each with a manifest.json and, per test, NAME.wasm plus an
 * optional NAME.json:
 *
 *   args       list of strings passed after the program name
 *   env        object of variables; the guest sees exactly these
 *   root       a folder beside the test to preopen (always fs-tests.dir)
 *   exit_code  expected exit status (default 0)
 *   stdout     expected standard output, compared exactly when present
 *   stderr     expected standard error, compared exactly when present
 *
 * Every test runs the real binary in a fresh process:
 *
 *   wasmbox run --argv0 NAME.wasm [--env K=V]... [--dir COPY::GUEST]
 *               NAME.wasm ARGS...
 *
 * with the test's folder as working directory. The root folder is copied into
 * a scratch folder first (leaving out leftover *.cleanup entries), so the
 * shared data never changes and every test starts from the same state.
 * Standard input is /dev/null; a test still running after the time limit
 * is killed (with its whole process group) and fails.
 *
 * Output: one line per test (PASS/FAIL/SKIP NAME...), then
 * "N passed, N failed" (", N skipped" when the skip list matched anything)
 * as the last line. The exit status is 0 iff no test failed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_S 5
/* How much of a mismatching output a FAIL line shows (before escaping). */
#define SHOWN_OUTPUT 300

static struct {
    const char *skip_path;
    const char *work_dir;
    const char *guest_dir;
    const char *only;
    unsigned timeout_s;
    bool keep;
    bool verbose;
    const char *wasmbox;  /* absolute path */
} opt = {.guest_dir = "/", .timeout_s = DEFAULT_TIMEOUT_S};

/* ---- small helpers ---- */

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("wb-wasi-suite: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static void *xrealloc(void *old, size_t n)
{
    void *p = realloc(old, n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        die("out of memory");
    return p;
}

static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("out of memory");
    return s;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* A growable string, used for failure reasons and captured output. */
typedef struct {
    char *data;
    size_t len, cap;
} buf_t;

static void buf_add(buf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = xrealloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("out of memory");
    buf_add(b, s, (size_t)n);
    free(s);
}

/* Appends DATA quoted, with control characters escaped, cut after MAX
 * bytes so one chatty test cannot flood the log. */
static void buf_quoted(buf_t *b, const char *data, size_t len, size_t max)
{
    buf_add(b, "\"", 1);
    size_t n = len < max ? len : max;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)data[i];
        if (c == '\n')
            buf_add(b, "\\n", 2);
        else if (c == '\t')
            buf_add(b, "\\t", 2);
        else if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            buf_add(b, esc, 2);
        } else if (c < 0x20 || c == 0x7f)
            buf_printf(b, "\\x%02x", c);
        else
            buf_add(b, (const char *)&c, 1);
    }
    buf_add(b, "\"", 1);
    if (len > n)
        buf_printf(b, "... (%zu bytes)", len);
}

static bool read_whole(const char *path, buf_t *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_add(out, chunk, n);
    bool ok = !ferror(f);
    fclose(f);
    if (!out->data)
        buf_add(out, "", 0);
    return ok;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- scratch folders ---- */

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP || flag == FTW_D)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

static void remove_tree(const char *dir)
{
    /* The copies are made owner-writable, so plain removal works. */
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Copies the tree SRC to DST (which must not exist): folders, regular files
 * and symlinks (as links, not followed). Everything is made writable by its
 * owner, since the shared data is read-only but tests create and remove
 * entries. Entries named *.cleanup are leftovers of earlier runs and are not
 * copied. Returns false with WHY set on failure. */
static bool copy_tree(const char *src, const char *dst, buf_t *why)
{
    struct stat st;
    if (lstat(src, &st) != 0) {
        buf_printf(why, "%s: %s", src, strerror(errno));
        return false;
    }
    if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlink(src, target, sizeof target - 1);
        if (n < 0) {
            buf_printf(why, "readlink %s: %s", src, strerror(errno));
            return false;
        }
        target[n] = '\0';
        if (symlink(target, dst) != 0) {
            buf_printf(why, "symlink %s: %s", dst, strerror(errno));
            return false;
        }
        return true;
    }
    if (S_ISREG(st.st_mode)) {
        int in = open(src, O_RDONLY | O_CLOEXEC);
        if (in < 0) {
            buf_printf(why, "%s: %s", src, strerror(errno));
            return false;
        }
        int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                       (st.st_mode & 0777) | S_IRUSR | S_IWUSR);
        if (out < 0) {
            buf_printf(why, "%s: %s", dst, strerror(errno));
            close(in);
            return false;
        }
        char chunk[16384];
        ssize_t n;
        bool ok = true;
        while ((n = read(in, chunk, sizeof chunk)) > 0) {
            for (ssize_t done = 0; done < n;) {
                ssize_t w = write(out, chunk + done, (size_t)(n - done));
                if (w < 0) {
                    ok = false;
                    break;
                }
                done += w;
            }
            if (!ok)
                break;
        }
        if (n < 0)
            ok = false;
        if (!ok)
            buf_printf(why, "copying %s: %s", src, strerror(errno));
        close(in);
        if (close(out) != 0 && ok) {
            buf_printf(why, "%s: %s", dst, strerror(errno));
            ok = false;
        }
        return ok;
    }
    if (!S_ISDIR(st.st_mode)) {
        buf_printf(why, "%s: not a file, folder or symlink", src);
        return false;
    }
    if (mkdir(dst, (st.st_mode & 0777) | S_IRWXU) != 0) {
        buf_printf(why, "mkdir %s: %s", dst, strerror(errno));
        return false;
    }
    DIR *d = opendir(src);
    if (!d) {
        buf_printf(why, "%s: %s", src, strerror(errno));
        return false;
    }
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            ends_with(e->d_name, ".cleanup"))
            continue;
        char *s = xasprintf("%s/%s", src, e->d_name);
        char *t = xasprintf("%s/%s", dst, e->d_name);
        ok = copy_tree(s, t, why);
        free(s);
        free(t);
    }
    closedir(d);
    return ok;
}

/* ---- the skip list ---- */

typedef struct {
    char *pattern;
    char *reason;
    unsigned used;
} skip_rule;

static skip_rule *skips;
static size_t n_skips;

/* Lines are "NAME  reason", NAME being "lang/test" (a glob is allowed);
 * blank lines and lines starting with # are ignored. */
static void load_skip_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        char *p = line + strspn(line, " \t");
        p[strcspn(p, "\r\n")] = '\0';
        if (*p == '\0' || *p == '#')
            continue;
        size_t name_len = strcspn(p, " \t");
        char *reason = p + name_len;
        reason += strspn(reason, " \t");
        if (*reason == '\0')
            die("%s:%u: '%s' has no reason", path, lineno, p);
        p[name_len] = '\0';
        skips = xrealloc(skips, (n_skips + 1) * sizeof *skips);
        skips[n_skips].pattern = xstrdup(p);
        skips[n_skips].reason = xstrdup(reason);
        skips[n_skips].used = 0;
        n_skips++;
    }
    free(line);
    fclose(f);
}

static skip_rule *find_skip(const char *name)
{
    for (size_t i = 0; i < n_skips; i++)
        if (fnmatch(skips[i].pattern, name, 0) == 0)
            return &skips[i];
    return NULL;
}

/* ---- one test ---- */

typedef struct {
    char **args;   /* NULL-terminated */
    char **env;    /* "K=V" strings, NULL-terminated */
    char *root;
    long exit_code;
    char *out, *err; /* expected, NULL when not given */
    size_t out_len, err_len;
} test_spec;

static void spec_free(test_spec *t)
{
    for (char **p = t->args; p && *p; p++)
        free(*p);
    for (char **p = t->env; p && *p; p++)
        free(*p);
    free(t->args);
    free(t->env);
    free(t->root);
    free(t->out);
    free(t->err);
}

static char **str_list_push(char **list, size_t *n, char *s)
{
    list = xrealloc(list, (*n + 2) * sizeof *list);
    list[(*n)++] = s;
    list[*n] = NULL;
    return list;
}

/* Copies the optional string KEY of root (which may hold NUL bytes) into
 * *out and *len; false, with the reason in why, when it is not a string. */
static bool expected_output(json_t *root, const char *key, const char *json_path,
                            char **out, size_t *len, buf_t *why)
{
    json_t *v = json_object_get(root, key);
    if (!v)
        return true;
    if (!json_is_string(v)) {
        buf_printf(why, "%s: '%s' is not a string", json_path, key);
        return false;
    }
    *len = json_string_length(v);
    *out = xrealloc(NULL, *len + 1);
    memcpy(*out, json_string_value(v), *len + 1);
    return true;
}

/* Reads NAME.json when it exists; a missing file means all defaults. */
static bool load_spec(const char *json_path, test_spec *t, buf_t *why)
{
    memset(t, 0, sizeof *t);
    size_t n_args = 0, n_env = 0;
    t->args = str_list_push(NULL, &n_args, NULL);
    n_args = 0;
    t->env = str_list_push(NULL, &n_env, NULL);
    n_env = 0;
    if (access(json_path, F_OK) != 0)
        return true;

    json_error_t jerr;
    json_t *root = json_load_file(json_path, 0, &jerr);
    if (!root) {
        buf_printf(why, "%s:%d: %s", json_path, jerr.line, jerr.text);
        return false;
    }
    bool ok = false;
    if (!json_is_object(root)) {
        buf_printf(why, "%s: not a JSON object", json_path);
        goto out;
    }
    json_t *v;
    if ((v = json_object_get(root, "args")) != NULL) {
        if (!json_is_array(v)) {
            buf_printf(why, "%s: 'args' is not a list", json_path);
            goto out;
        }
        size_t i;
        json_t *a;
        json_array_foreach(v, i, a) {
            if (!json_is_string(a)) {
                buf_printf(why, "%s: args[%zu] is not a string", json_path, i);
                goto out;
            }
            t->args = str_list_push(t->args, &n_args,
                                    xstrdup(json_string_value(a)));
        }
    }
    if ((v = json_object_get(root, "env")) != NULL) {
        if (!json_is_object(v)) {
            buf_printf(why, "%s: 'env' is not an object", json_path);
            goto out;
        }
        const char *key;
        json_t *val;
        json_object_foreach(v, key, val) {
            if (!json_is_string(val)) {
                buf_printf(why, "%s: env.%s is not a string", json_path, key);
                goto out;
            }
            t->env = str_list_push(t->env, &n_env,
                                   xasprintf("%s=%s", key,
                                             json_string_value(val)));
        }
    }
    if ((v = json_object_get(root, "root")) != NULL) {
        if (!json_is_string(v) || strchr(json_string_value(v), '/') ||
            json_string_value(v)[0] == '.') {
            buf_printf(why, "%s: 'root' is not a plain folder name", json_path);
            goto out;
        }
        t->root = xstrdup(json_string_value(v));
    }
    if ((v = json_object_get(root, "exit_code")) != NULL) {
        if (!json_is_integer(v)) {
            buf_printf(why, "%s: 'exit_code' is not an integer", json_path);
            goto out;
        }
        t->exit_code = (long)json_integer_value(v);
    }
    if (!expected_output(root, "stdout", json_path, &t->out, &t->out_len, why) ||
        !expected_output(root, "stderr", json_path, &t->err, &t->err_len, why))
        goto out;
    ok = true;
out:
    json_decref(root);
    return ok;
}

/* Forks and execs ARGV in folder CWD with stdin from /dev/null and stdout,
 * stderr into the given files; waits at most opt.timeout_s. Returns the
 * wait status, or -1 (with WHY set) when it could not run or was killed for
 * taking too long. */
static int run_process(char *const argv[], const char *cwd,
                       const char *out_path, const char *err_path,
                       buf_t *why)
{
    pid_t pid = fork();
    if (pid < 0) {
        buf_printf(why, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        int in = open("/dev/null", O_RDONLY);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 ||
            dup2(out, 1) < 0 || dup2(err, 2) < 0 || chdir(cwd) != 0)
            _exit(126);
        close(in);
        close(out);
        close(err);
        execv(argv[0], argv);
        dprintf(2, "wb-wasi-suite: exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);  /* as the child does: no race either way */

    int64_t deadline = now_ms() + (int64_t)opt.timeout_s * 1000;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR) {
            buf_printf(why, "waitpid: %s", strerror(errno));
            return -1;
        }
        if (now_ms() >= deadline)
            break;
        struct timespec pause = {0, 2 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    buf_printf(why, "timed out after %u s", opt.timeout_s);
    return -1;
}

typedef enum { RESULT_PASS, RESULT_FAIL, RESULT_SKIP } result_t;

/* Runs LANG/FILE (FILE being NAME.wasm) from folder DIR. */
static result_t run_test(const char *dir, const char *lang, const char *file,
                         const char *scratch_base)
{
    size_t stem_len = strlen(file) - strlen(".wasm");
    char *name = xasprintf("%s/%.*s", lang, (int)stem_len, file);
    char *json_path = xasprintf("%s/%.*s.json", dir, (int)stem_len, file);
    buf_t why = {0};
    test_spec spec;
    result_t result = RESULT_FAIL;
    char *scratch = NULL, *host_root = NULL, *out_path = NULL, *err_path = NULL;
    char **argv = NULL;
    size_t argc = 0;
    buf_t got_out = {0}, got_err = {0};

    if (opt.only && fnmatch(opt.only, name, 0) != 0) {
        free(name);
        free(json_path);
        return RESULT_SKIP;
    }
    skip_rule *rule = find_skip(name);
    if (rule) {
        rule->used++;
        printf("SKIP %s: %s\n", name, rule->reason);
        free(name);
        free(json_path);
        return RESULT_SKIP;
    }

    bool spec_ok = load_spec(json_path, &spec, &why);
    if (!spec_ok)
        goto report;

    scratch = xasprintf("%s/%.*s-XXXXXX", scratch_base, (int)stem_len, file);
    if (!mkdtemp(scratch)) {
        buf_printf(&why, "mkdtemp %s: %s", scratch, strerror(errno));
        free(scratch);
        scratch = NULL;
        goto report;
    }
    if (spec.root) {
        char *src = xasprintf("%s/%s", dir, spec.root);
        host_root = xasprintf("%s/%s", scratch, spec.root);
        bool copied = copy_tree(src, host_root, &why);
        free(src);
        if (!copied)
            goto report;
    }
    out_path = xasprintf("%s/stdout", scratch);
    err_path = xasprintf("%s/stderr", scratch);

    argv = str_list_push(argv, &argc, xstrdup(opt.wasmbox));
    argv = str_list_push(argv, &argc, xstrdup("run"));
    argv = str_list_push(argv, &argc, xstrdup("--argv0"));
    argv = str_list_push(argv, &argc, xstrdup(file));
    for (char **e = spec.env; *e; e++) {
        argv = str_list_push(argv, &argc, xstrdup("--env"));
        argv = str_list_push(argv, &argc, xstrdup(*e));
    }
    if (host_root) {
        argv = str_list_push(argv, &argc, xstrdup("--dir"));
        argv = str_list_push(argv, &argc,
                             xasprintf("%s::%s", host_root, opt.guest_dir));
    }
    /* Options end at the module; everything after it goes to the guest. */
    argv = str_list_push(argv, &argc, xstrdup(file));
    for (char **a = spec.args; *a; a++)
        argv = str_list_push(argv, &argc, xstrdup(*a));

    if (opt.verbose) {
        printf("RUN  %s: (cd %s &&", name, dir);
        for (size_t i = 0; i < argc; i++)
            printf(" '%s'", argv[i]);
        printf(")\n");
        fflush(stdout);
    }

    int status = run_process(argv, dir, out_path, err_path, &why);
    read_whole(out_path, &got_out);
    read_whole(err_path, &got_err);
    if (status < 0)
        goto report;

    if (WIFSIGNALED(status)) {
        buf_printf(&why, "wasmbox killed by signal %d (%s), expected exit %ld",
                   WTERMSIG(status), strsignal(WTERMSIG(status)),
                   spec.exit_code);
    } else if (WEXITSTATUS(status) != spec.exit_code) {
        buf_printf(&why, "exit %d, expected %ld", WEXITSTATUS(status),
                   spec.exit_code);
    }
    if (spec.out && (got_out.len != spec.out_len ||
                     memcmp(got_out.data, spec.out, spec.out_len) != 0)) {
        buf_printf(&why, "%sstdout ", why.len ? "; " : "");
        buf_quoted(&why, got_out.data, got_out.len, SHOWN_OUTPUT);
        buf_printf(&why, ", expected ");
        buf_quoted(&why, spec.out, spec.out_len, SHOWN_OUTPUT);
    }
    if (spec.err && (got_err.len != spec.err_len ||
                     memcmp(got_err.data, spec.err, spec.err_len) != 0)) {
        buf_printf(&why, "%sstderr ", why.len ? "; " : "");
        buf_quoted(&why, got_err.data, got_err.len, SHOWN_OUTPUT);
        buf_printf(&why, ", expected ");
        buf_quoted(&why, spec.err, spec.err_len, SHOWN_OUTPUT);
    }
    if (why.len == 0)
        result = RESULT_PASS;

report:
    if (result == RESULT_PASS) {
        printf("PASS %s\n", name);
    } else {
        /* Show what the program said: stderr first, since that is where
         * runtimes and guests explain themselves. */
        if (got_err.len && !spec.err) {
            buf_printf(&why, "; stderr: ");
            buf_quoted(&why, got_err.data, got_err.len, SHOWN_OUTPUT);
        } else if (got_out.len && !spec.out) {
            buf_printf(&why, "; stdout: ");
            buf_quoted(&why, got_out.data, got_out.len, SHOWN_OUTPUT);
        }
        printf("FAIL %s: %s\n", name, why.data ? why.data : "?");
        if (opt.keep && scratch)
            printf("     kept %s\n", scratch);
    }
    fflush(stdout);
    if (scratch && !(opt.keep && result != RESULT_PASS))
        remove_tree(scratch);

    for (size_t i = 0; i < argc; i++)
        free(argv[i]);
    free(argv);
    free(got_out.data);
    free(got_err.data);
    free(scratch);
    free(host_root);
    free(out_path);
    free(err_path);
    free(why.data);
    spec_free(&spec);
    free(name);
    free(json_path);
    return result;
}

/* ---- the suite ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in DIR that satisfy KEEP. */
static char **list_dir(const char *dir, bool (*keep)(const char *dir,
                                                     const char *name),
                       size_t *count)
{
    DIR *d = opendir(dir);
    if (!d)
        die("%s: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !keep(dir, e->d_name))
            continue;
        names = str_list_push(names, &n, xstrdup(e->d_name));
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    *count = n;
    return names;
}

static bool is_suite_folder(const char *dir, const char *name)
{
    char *manifest = xasprintf("%s/%s/manifest.json", dir, name);
    bool yes = access(manifest, R_OK) == 0;
    free(manifest);
    return yes;
}

static bool is_module(const char *dir, const char *name)
{
    (void)dir;
    return ends_with(name, ".wasm") && strlen(name) > strlen(".wasm");
}

static void usage(void)
{
    fprintf(stderr,
            "usage: wb-wasi-suite [--skip FILE] [--work-dir DIR] "
            "[--timeout SECONDS]\n"
            "                     [--guest-dir PATH] [--only GLOB] [--keep] "
            "[--verbose]\n"
            "                     WASMBOX SUITE_DIR\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--skip") == 0 && has_value)
            opt.skip_path = argv[++i];
        else if (strcmp(a, "--work-dir") == 0 && has_value)
            opt.work_dir = argv[++i];
        else if (strcmp(a, "--guest-dir") == 0 && has_value)
            opt.guest_dir = argv[++i];
        else if (strcmp(a, "--only") == 0 && has_value)
            opt.only = argv[++i];
        else if (strcmp(a, "--timeout") == 0 && has_value) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end || v == 0 || v > 3600)
                die("--timeout needs 1..3600 seconds");
            opt.timeout_s = (unsigned)v;
        } else if (strcmp(a, "--keep") == 0)
            opt.keep = true;
        else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0)
            opt.verbose = true;
        else if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else
            usage();
    }
    if (argc - i != 2)
        usage();
    char *wasmbox = realpath(argv[i], NULL);
    if (!wasmbox || access(wasmbox, X_OK) != 0)
        die("%s: not an executable", argv[i]);
    opt.wasmbox = wasmbox;
    char *suite = realpath(argv[i + 1], NULL);
    if (!suite)
        die("%s: %s", argv[i + 1], strerror(errno));
    if (opt.skip_path)
        load_skip_file(opt.skip_path);

    /* The scratch folders live under one fresh folder, removed at the end. */
    const char *base = opt.work_dir;
    if (!base)
        base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    if (mkdir(base, 0755) != 0 && errno != EEXIST)
        die("%s: %s", base, strerror(errno));
    /* Absolute, since each test runs with its own folder as working
     * directory. */
    char *abs_base = realpath(base, NULL);
    if (!abs_base)
        die("%s: %s", base, strerror(errno));
    char *scratch_base = xasprintf("%s/wasi-suite-XXXXXX", abs_base);
    free(abs_base);
    if (!mkdtemp(scratch_base))
        die("mkdtemp %s: %s", scratch_base, strerror(errno));

    printf("wasmbox: %s; guest directory '%s'\n", wasmbox, opt.guest_dir);
    fflush(stdout);

    unsigned passed = 0, failed = 0, skipped = 0;
    size_t n_langs;
    char **langs = list_dir(suite, is_suite_folder, &n_langs);
    for (size_t l = 0; l < n_langs; l++) {
        char *dir = xasprintf("%s/%s", suite, langs[l]);
        size_t n_tests;
        char **tests = list_dir(dir, is_module, &n_tests);
        for (size_t t = 0; t < n_tests; t++) {
            switch (run_test(dir, langs[l], tests[t], scratch_base)) {
            case RESULT_PASS: passed++; break;
            case RESULT_FAIL: failed++; break;
            case RESULT_SKIP: skipped++; break;
            }
            free(tests[t]);
        }
        free(tests);
        free(dir);
        free(langs[l]);
    }
    free(langs);

    if (!opt.keep || failed == 0)
        remove_tree(scratch_base);
    for (size_t s = 0; s < n_skips; s++)
        if (!skips[s].used && !opt.only)
            fprintf(stderr, "wb-wasi-suite: note: skip entry '%s' matched no "
                    "test\n", skips[s].pattern);
    if (passed + failed + skipped == 0)
        die("no tests found in %s", suite);
    unsigned listed = 0;
    for (size_t s = 0; s < n_skips; s++)
        listed += skips[s].used;
    if (listed)
        printf("%u passed, %u failed, %u skipped\n", passed, failed, listed);
    else
        printf("%u passed, %u failed\n", passed, failed);

    for (size_t s = 0; s < n_skips; s++) {
        free(skips[s].pattern);
        free(skips[s].reason);
    }
    free(skips);
    free(scratch_base);
    free(suite);
    free(wasmbox);
    return failed ? 1 : 0;
}
