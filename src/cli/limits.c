/*
 * limits.c - the resource limits of `wasmbox run`: parsing their values
 * (sizes, durations, counts) and the --timeout watchdog.
 *
 * --fuel, --max-memory, --max-stack and --max-table-elements become the
 * engine's and the store's settings (run.c). --timeout is a watchdog
 * thread: when the time is up it asks the store to stop
 * (wb_store_interrupt, which the guest sees at its next call or loop
 * iteration as a trap) and, should the guest be blocked in a host call
 * that never returns to guest code, ends the process 200 ms later
 * with the same exit status.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

bool cli_parse_count(const char *s, uint64_t max, uint64_t *out) {
    if (!s || !isdigit((unsigned char)s[0])) return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max) return false;
    *out = v;
    return true;
}

bool cli_parse_bytes(const char *s, uint64_t *out) {
    if (!s || !isdigit((unsigned char)s[0])) return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno) return false;
    static const struct {
        const char *suffix;
        unsigned shift;
    } units[] = {{"", 0},    {"B", 0},   {"K", 10},  {"KB", 10}, {"KiB", 10}, {"k", 10},
                 {"M", 20},  {"MB", 20}, {"MiB", 20}, {"m", 20},  {"G", 30},   {"GB", 30},
                 {"GiB", 30}, {"g", 30}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].suffix) != 0) continue;
        if (units[i].shift && v > (UINT64_MAX >> units[i].shift)) return false;
        *out = (uint64_t)v << units[i].shift;
        return true;
    }
    return false;
}

bool cli_parse_duration(const char *s, uint64_t *ns) {
    if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '.')) return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || v < 0) return false;
    double scale;
    if (strcmp(end, "ns") == 0) scale = 1;
    else if (strcmp(end, "us") == 0) scale = 1e3;
    else if (strcmp(end, "ms") == 0) scale = 1e6;
    else if (strcmp(end, "s") == 0 || *end == '\0') scale = 1e9;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0) scale = 60e9;
    else if (strcmp(end, "h") == 0) scale = 3600e9;
    else return false;
    double t = v * scale;
    if (t < 1 || t > 1e18) return false;
    *ns = (uint64_t)t;
    return true;
}

/* ---------------------------------------------------------- watchdog */

struct cli_watchdog {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done; /* the run ended: the watchdog leaves */
    uint64_t ns;
    wb_store *store;
    char message[160];
};

static void deadline_after(struct timespec *ts, uint64_t ns) {
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(ns / 1000000000u);
    ts->tv_nsec += (long)(ns % 1000000000u);
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Waits until the deadline or `done`; true when the deadline passed. */
static bool wait_until(struct cli_watchdog *w, const struct timespec *deadline) {
    bool timed_out = false;
    pthread_mutex_lock(&w->lock);
    while (!w->done && !timed_out)
        timed_out = pthread_cond_timedwait(&w->cond, &w->lock, deadline) == ETIMEDOUT;
    bool done = w->done;
    pthread_mutex_unlock(&w->lock);
    return !done;
}

static void *watchdog_main(void *arg) {
    struct cli_watchdog *w = arg;
    struct timespec deadline;
    deadline_after(&deadline, w->ns);
    if (!wait_until(w, &deadline)) return NULL;
    wb_store_interrupt(w->store);
    /* A guest in guest code stops at once; one blocked in a host call
     * (a sleep, an accept) gets 200 ms more, then the process ends. */
    deadline_after(&deadline, 200000000u);
    if (!wait_until(w, &deadline)) return NULL;
    ssize_t r = write(2, w->message, strlen(w->message));
    (void)r;
    _exit(CLI_EXIT_TIMEOUT);
}

cli_watchdog *cli_watchdog_start(wb_store *store, uint64_t ns, const char *spec) {
    cli_watchdog *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->ns = ns;
    w->store = store;
    snprintf(w->message, sizeof w->message,
             "wasmbox: timeout: the module ran longer than --timeout %s (stopped in a host call)\n",
             spec);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&w->thread, NULL, watchdog_main, w) != 0) {
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

void cli_watchdog_stop(cli_watchdog *w) {
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
