/*
 * hello.c - the guest for tests/cli/hello.sh, built at test time with
 * clang --target=wasm32-wasi. It shows what a WASI command sees: its
 * arguments, its environment (only what `wasmbox run --env` gave), stdin,
 * clocks and random bytes, and it chooses its exit code.
 *
 * Arguments of the form exit=N make it exit(N); "stdin" makes it copy
 * standard input to standard output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
    printf("Hello, world!\n");
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);

    /* The guest sees no host environment, only --env values. */
    printf("HOME is %s\n", getenv("HOME") ? "set" : "unset");
    printf("PATH is %s\n", getenv("PATH") ? "set" : "unset");
    const char *greeting = getenv("GREETING");
    printf("GREETING=%s\n", greeting ? greeting : "(unset)");
    int nenv = 0;
    for (char **e = environ; e && *e; e++) nenv++;
    printf("environ has %d entries\n", nenv);

    struct timespec a, b;
    int clocks_ok = clock_gettime(CLOCK_MONOTONIC, &a) == 0 &&
                    clock_gettime(CLOCK_MONOTONIC, &b) == 0 &&
                    (b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec)) &&
                    clock_gettime(CLOCK_REALTIME, &a) == 0 && a.tv_sec > 1600000000;
    printf("clocks %s\n", clocks_ok ? "ok" : "BROKEN");

    unsigned char r1[32], r2[32];
    int random_ok = getentropy(r1, sizeof r1) == 0 && getentropy(r2, sizeof r2) == 0 &&
                    memcmp(r1, r2, sizeof r1) != 0;
    printf("random %s\n", random_ok ? "ok" : "BROKEN");

    fprintf(stderr, "this goes to stderr\n");

    int code = 0;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "exit=", 5) == 0) code = atoi(argv[i] + 5);
        if (strcmp(argv[i], "stdin") == 0) {
            char buf[256];
            size_t n, total = 0;
            while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
                fwrite(buf, 1, n, stdout);
                total += n;
            }
            printf("read %zu bytes from stdin\n", total);
        }
    }
    if (code != 0) {
        fflush(stdout);
        exit(code);
    }
    return 0;
}
