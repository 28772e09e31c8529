/*
 * log.c - error reporting for the runtime verbs.
 *
 * containerd's shim passes --log FILE --log-format json and, when a verb
 * fails, shows the msg of the last "error" line of FILE to the user
 * ("OCI runtime create failed: <msg>"). So every error goes there as one
 * JSON line, and to stderr for people calling us by hand.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "oci/oci.h"

oci_globals oci_g = {.root = "/run/wasmbox"};

bool oci_fail(oci_err *e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return false;
}

bool oci_fail_errno(oci_err *e, const char *fmt, ...) {
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    size_t n = strlen(e->msg);
    snprintf(e->msg + n, sizeof e->msg - n, ": %s", strerror(saved));
    return false;
}

void oci_timestamp(char *buf, size_t size) {
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, size - n, ".%09ldZ", ts.tv_nsec);
}

/* One line into the --log file. Opened per line with O_APPEND so that
 * the create process and the container process (which share the file
 * across fork) never interleave within a line. */
static void oci_log_write(const char *level, const char *msg) {
    if (!oci_g.log) return;
    int fd = open(oci_g.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    char ts[64];
    oci_timestamp(ts, sizeof ts);
    char line[2048];
    int n;
    if (oci_g.log_json) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "level", level, "msg", msg, "time", ts);
        char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        n = snprintf(line, sizeof line, "%s\n", text ? text : "{}");
        free(text);
        json_decref(o);
    } else {
        n = snprintf(line, sizeof line, "time=\"%s\" level=%s msg=\"%s\"\n", ts, level, msg);
    }
    if (n > (int)sizeof line - 1) {
        n = (int)sizeof line - 1;
        line[n - 1] = '\n';
    }
    if (n > 0) {
        ssize_t w = write(fd, line, (size_t)n);
        (void)w;
    }
    close(fd);
}

void oci_log_error(const char *fmt, ...) {
    char msg[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "wasmbox: %s\n", msg);
    oci_log_write("error", msg);
}

void oci_log_debug(const char *fmt, ...) {
    if (!oci_g.log && !oci_g.debug) return;
    char msg[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (oci_g.debug) fprintf(stderr, "wasmbox: debug: %s\n", msg);
    if (oci_g.debug) oci_log_write("debug", msg);
}
