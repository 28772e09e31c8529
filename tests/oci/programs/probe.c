/*
 * probe.c - the one guest program of the OCI tests, compiled to wasm32-wasi:
 *   clang-14 --target=wasm32-wasi --sysroot=/usr -O2 probe.c -o probe.wasm
 *
 * argv[1] picks what it does:
 *   hello [VAR]      "hello from wasm", its arguments, $VAR; exits with $EXIT or 0
 *   exit N           exits with N
 *   write PATH TEXT  writes TEXT (and a newline) to PATH, creating it
 *   read PATH        prints PATH's contents
 *   grow             grows memory 1 MiB at a time until it fails or reaches
 *                    1024 MiB, prints "grew to N MiB", exits 0
 *   loop             prints "looping", then spins without calling WASI
 *   sleep SECS       sleeps, prints "slept"
 *   cwd              prints the working directory
 *   ls DIR           prints DIR's entries, sorted, one per line
 *   env              prints the whole environment, one per line
 *   trap             executes `unreachable`
 * A failed call prints "VERB PATH: ENAME (strerror)" on stdout and exits 1,
 * e.g. "write /data/x: EROFS (Read-only file system)".
 * It also builds natively (gcc -static), to try the test scripts against
 * runc itself; `grow` then reports 0 MiB.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *errno_name(int e)
{
    switch (e) {
    case EACCES: return "EACCES";
    case EBADF: return "EBADF";
    case EEXIST: return "EEXIST";
    case EINVAL: return "EINVAL";
    case EIO: return "EIO";
    case EISDIR: return "EISDIR";
    case ENOENT: return "ENOENT";
    case ENOSPC: return "ENOSPC";
#ifdef ENOTCAPABLE
    case ENOTCAPABLE: return "ENOTCAPABLE";
#endif
    case ENOTDIR: return "ENOTDIR";
    case EPERM: return "EPERM";
    case EROFS: return "EROFS";
    default: return "E?";
    }
}

static int failed(const char *verb, const char *path)
{
    int e = errno;
    printf("%s %s: %s (%s)\n", verb, path, errno_name(e), strerror(e));
    return 1;
}

static int need_args(int argc, int n, const char *usage)
{
    if (argc >= n)
        return 1;
    fprintf(stderr, "usage: probe %s\n", usage);
    exit(2);
}

static int cmd_hello(int argc, char **argv)
{
    printf("hello from wasm\n");
    for (int i = 0; i < argc; i++)
        printf("arg[%d]=%s\n", i, argv[i]);
    if (argc > 2) {
        const char *v = getenv(argv[2]);
        printf("%s=%s\n", argv[2], v ? v : "(unset)");
    }
    const char *code = getenv("EXIT");
    return code ? atoi(code) : 0;
}

static int cmd_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return failed("write", path);
    if (fprintf(f, "%s\n", text) < 0 || fclose(f) != 0)
        return failed("write", path);
    printf("wrote %s\n", path);
    return 0;
}

static int cmd_read(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return failed("read", path);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, stdout);
    if (ferror(f))
        return failed("read", path);
    fclose(f);
    return 0;
}

#ifndef __wasm__
/* Native builds (to try the tests against runc) have no linear memory. */
#define __builtin_wasm_memory_size(m) ((size_t)0)
#define __builtin_wasm_memory_grow(m, n) ((void)(n), (size_t)-1)
#endif

static int cmd_grow(void)
{
    const size_t page = 65536, step = 16; /* 16 pages = 1 MiB */
    while (__builtin_wasm_memory_size(0) * page < 1024u * 1024 * 1024) {
        if (__builtin_wasm_memory_grow(0, step) == (size_t)-1)
            break;
    }
    printf("grew to %zu MiB\n", __builtin_wasm_memory_size(0) * page / (1024 * 1024));
    return 0;
}

static _Noreturn void cmd_loop(void)
{
    printf("looping\n");
    fflush(stdout);
    volatile unsigned long n = 0;
    for (;;)
        n++;
}

static int cmd_ls(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0)
        return failed("ls", dir);
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0)
            printf("%s\n", names[i]->d_name);
        free(names[i]);
    }
    free(names);
    return 0;
}

int main(int argc, char **argv)
{
    const char *verb = argc > 1 ? argv[1] : "hello";
    if (strcmp(verb, "hello") == 0)
        return cmd_hello(argc, argv);
    if (strcmp(verb, "exit") == 0 && need_args(argc, 3, "exit N"))
        return atoi(argv[2]);
    if (strcmp(verb, "write") == 0 && need_args(argc, 4, "write PATH TEXT"))
        return cmd_write(argv[2], argv[3]);
    if (strcmp(verb, "read") == 0 && need_args(argc, 3, "read PATH"))
        return cmd_read(argv[2]);
    if (strcmp(verb, "grow") == 0)
        return cmd_grow();
    if (strcmp(verb, "loop") == 0)
        cmd_loop();
    if (strcmp(verb, "sleep") == 0 && need_args(argc, 3, "sleep SECS")) {
        sleep((unsigned)atoi(argv[2]));
        printf("slept\n");
        return 0;
    }
    if (strcmp(verb, "cwd") == 0) {
        char buf[4096];
        if (!getcwd(buf, sizeof buf))
            return failed("cwd", ".");
        printf("%s\n", buf);
        return 0;
    }
    if (strcmp(verb, "ls") == 0 && need_args(argc, 3, "ls DIR"))
        return cmd_ls(argv[2]);
    if (strcmp(verb, "env") == 0) {
        for (char **e = environ; *e; e++)
            printf("%s\n", *e);
        return 0;
    }
    if (strcmp(verb, "trap") == 0)
        __builtin_trap();
    fprintf(stderr, "probe: unknown verb '%s'\n", verb);
    return 2;
}
