/*
 * datap - a small data-processing program for WASI (wasm32-wasi).
 *
 *   datap [--exit N] [TAG...]
 *
 * Reads /data/input.json, a JSON array whose items are integers or objects
 * such as {"name": "apples", "value": 12}, and writes a summary to
 * /data/output.json: how many numbers and objects there were, their sums
 * (multiplied by the environment variable DATAP_SCALE, default 1), the
 * smallest and largest number, the objects' names, and the TAGs given on
 * the command line. It prints one line on stdout and exits with N (default
 * 0) on success; 1 when a file cannot be read or written, 2 on bad
 * arguments, 3 when the input is not the expected JSON.
 *
 * The JSON reader is deliberately minimal: integers (no fractions or
 * exponents), strings with the simple escapes, true/false/null, one level
 * of objects inside the top-level array.
 *
 * Build: clang-14 --target=wasm32-wasi --sysroot=/usr -O2 datap.c -o datap.wasm
 * Run:   wasmbox run --dir ./data::/data --env DATAP_SCALE=2 datap.wasm a b
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The paths can be changed at build time, e.g. to try the program natively. */
#ifndef INPUT
#define INPUT "/data/input.json"
#endif
#ifndef OUTPUT
#define OUTPUT "/data/output.json"
#endif
#define MAX_INPUT (1 << 20)
#define MAX_NAMES 64
#define MAX_STRING 256

typedef struct {
    const char *p, *end;
    const char *error;
} reader;

typedef struct {
    int64_t n_numbers, sum, min, max;
    int64_t n_objects, object_sum;
    char names[MAX_NAMES][MAX_STRING];
    int n_names;
} summary;

static void skip_space(reader *r)
{
    while (r->p < r->end &&
           (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static bool fail(reader *r, const char *what)
{
    if (!r->error)
        r->error = what;
    return false;
}

static bool expect(reader *r, char c, const char *what)
{
    skip_space(r);
    if (r->p >= r->end || *r->p != c)
        return fail(r, what);
    r->p++;
    return true;
}

static bool peek(reader *r, char c)
{
    skip_space(r);
    return r->p < r->end && *r->p == c;
}

static bool read_int(reader *r, int64_t *out)
{
    skip_space(r);
    bool neg = false;
    if (r->p < r->end && *r->p == '-') {
        neg = true;
        r->p++;
    }
    if (r->p >= r->end || *r->p < '0' || *r->p > '9')
        return fail(r, "expected a number");
    int64_t v = 0;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
        int d = *r->p++ - '0';
        if (v > (INT64_MAX - d) / 10)
            return fail(r, "number too large");
        v = v * 10 + d;
    }
    if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E'))
        return fail(r, "only integers are supported");
    *out = neg ? -v : v;
    return true;
}

/* Reads a string into BUF (NUL-terminated, at most MAX_STRING-1 bytes). */
static bool read_string(reader *r, char *buf)
{
    if (!expect(r, '"', "expected a string"))
        return false;
    size_t n = 0;
    while (r->p < r->end && *r->p != '"') {
        char c = *r->p++;
        if ((unsigned char)c < 0x20)
            return fail(r, "control character in string");
        if (c == '\\') {
            if (r->p >= r->end)
                break;
            switch (*r->p++) {
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '/': c = '/'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            default: return fail(r, "unsupported escape in string");
            }
        }
        if (n + 1 >= MAX_STRING)
            return fail(r, "string too long");
        buf[n++] = c;
    }
    if (r->p >= r->end)
        return fail(r, "unterminated string");
    r->p++;
    buf[n] = '\0';
    return true;
}

static bool read_word(reader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return fail(r, "unexpected character");
    r->p += n;
    return true;
}

/* Reads {"name": "...", "value": N, ...}; other keys may hold strings,
 * integers, true, false or null and are ignored. */
static bool read_object(reader *r, summary *s)
{
    if (!expect(r, '{', "expected '{'"))
        return false;
    char key[MAX_STRING], name[MAX_STRING] = "";
    bool has_name = false;
    int64_t value = 0;
    if (!peek(r, '}')) {
        do {
            if (!read_string(r, key) || !expect(r, ':', "expected ':'"))
                return false;
            skip_space(r);
            if (strcmp(key, "name") == 0) {
                if (!read_string(r, name))
                    return false;
                has_name = true;
            } else if (strcmp(key, "value") == 0) {
                if (!read_int(r, &value))
                    return false;
            } else if (r->p < r->end && *r->p == '"') {
                char ignored[MAX_STRING];
                if (!read_string(r, ignored))
                    return false;
            } else if (r->p < r->end && (*r->p == '-' ||
                                          (*r->p >= '0' && *r->p <= '9'))) {
                int64_t ignored;
                if (!read_int(r, &ignored))
                    return false;
            } else if (r->p < r->end && *r->p == 't') {
                if (!read_word(r, "true"))
                    return false;
            } else if (r->p < r->end && *r->p == 'f') {
                if (!read_word(r, "false"))
                    return false;
            } else if (r->p < r->end && *r->p == 'n') {
                if (!read_word(r, "null"))
                    return false;
            } else {
                return fail(r, "unsupported value in object");
            }
        } while (peek(r, ',') && expect(r, ',', "expected ','"));
    }
    if (!expect(r, '}', "expected ',' or '}'"))
        return false;
    if (__builtin_add_overflow(s->object_sum, value, &s->object_sum))
        return fail(r, "sum too large");
    s->n_objects++;
    if (has_name) {
        if (s->n_names == MAX_NAMES)
            return fail(r, "too many names");
        strcpy(s->names[s->n_names++], name);
    }
    return true;
}

static bool read_input(reader *r, summary *s)
{
    if (!expect(r, '[', "expected '['"))
        return false;
    if (!peek(r, ']')) {
        do {
            if (peek(r, '{')) {
                if (!read_object(r, s))
                    return false;
            } else {
                int64_t v;
                if (!read_int(r, &v))
                    return false;
                if (__builtin_add_overflow(s->sum, v, &s->sum))
                    return fail(r, "sum too large");
                if (s->n_numbers == 0 || v < s->min)
                    s->min = v;
                if (s->n_numbers == 0 || v > s->max)
                    s->max = v;
                s->n_numbers++;
            }
        } while (peek(r, ',') && expect(r, ',', "expected ','"));
    }
    if (!expect(r, ']', "expected ',' or ']'"))
        return false;
    skip_space(r);
    if (r->p != r->end)
        return fail(r, "trailing characters after the array");
    return true;
}

static void write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static bool parse_exit(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 255)
        return false;
    *out = (int)v;
    return true;
}

int main(int argc, char **argv)
{
    int exit_code = 0;
    int first_tag = 1;
    if (argc >= 2 && strcmp(argv[1], "--exit") == 0) {
        if (argc < 3 || !parse_exit(argv[2], &exit_code)) {
            fprintf(stderr, "usage: %s [--exit 0..255] [TAG...]\n", argv[0]);
            return 2;
        }
        first_tag = 3;
    }
    int64_t scale = 1;
    const char *scale_env = getenv("DATAP_SCALE");
    if (scale_env) {
        char *end;
        errno = 0;
        long long v = strtoll(scale_env, &end, 10);
        if (errno || end == scale_env || *end) {
            fprintf(stderr, "datap: DATAP_SCALE is not an integer: %s\n",
                    scale_env);
            return 2;
        }
        scale = v;
    }

    FILE *in = fopen(INPUT, "rb");
    if (!in) {
        fprintf(stderr, "datap: %s: %s\n", INPUT, strerror(errno));
        return 1;
    }
    static char text[MAX_INPUT];
    size_t len = fread(text, 1, sizeof text, in);
    bool read_error = ferror(in) || (len == sizeof text && !feof(in));
    fclose(in);
    if (read_error) {
        fprintf(stderr, "datap: %s: read error or larger than %d bytes\n",
                INPUT, MAX_INPUT);
        return 1;
    }

    static summary s;
    reader r = {text, text + len, NULL};
    if (!read_input(&r, &s)) {
        fprintf(stderr, "datap: %s: byte %ld: %s\n", INPUT,
                (long)(r.p - text), r.error);
        return 3;
    }
    int64_t sum, object_sum;
    if (__builtin_mul_overflow(s.sum, scale, &sum) ||
        __builtin_mul_overflow(s.object_sum, scale, &object_sum)) {
        fprintf(stderr, "datap: scaled sums too large\n");
        return 3;
    }

    FILE *out = fopen(OUTPUT, "w");
    if (!out) {
        fprintf(stderr, "datap: %s: %s\n", OUTPUT, strerror(errno));
        return 1;
    }
    fputs("{\n  \"tags\": [", out);
    for (int i = first_tag; i < argc; i++) {
        if (i > first_tag)
            fputs(", ", out);
        write_string(out, argv[i]);
    }
    fprintf(out, "],\n  \"scale\": %lld,\n", (long long)scale);
    fprintf(out, "  \"numbers\": {\"count\": %lld, \"sum\": %lld",
            (long long)s.n_numbers, (long long)sum);
    if (s.n_numbers)
        fprintf(out, ", \"min\": %lld, \"max\": %lld", (long long)s.min,
                (long long)s.max);
    fprintf(out, "},\n  \"objects\": {\"count\": %lld, \"sum\": %lld, "
                 "\"names\": [",
            (long long)s.n_objects, (long long)object_sum);
    for (int i = 0; i < s.n_names; i++) {
        if (i)
            fputs(", ", out);
        write_string(out, s.names[i]);
    }
    fputs("]}\n}\n", out);
    if (fclose(out) != 0) {
        fprintf(stderr, "datap: %s: %s\n", OUTPUT, strerror(errno));
        return 1;
    }
    printf("datap: %lld numbers, %lld objects, %d tags; wrote %s\n",
           (long long)s.n_numbers, (long long)s.n_objects, argc - first_tag,
           OUTPUT);
    return exit_code;
}
