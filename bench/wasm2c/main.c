/* main.c - host for a wasm32-wasi command translated to C by wabt's wasm2c
 * (1.0.32 naming: Z_<module>_..., imports Z_wasi_snapshot_preview1Z_...).
 *
 * wabt ships the wasm2c runtime (wasm-rt-impl.c) but no WASI, so this file
 * carries a minimal WASI preview1 for the benchmark workloads: arguments,
 * an empty environment, writes to stdout/stderr, the clocks and proc_exit.
 * Everything else answers ENOSYS (52) or EBADF (8), as a host that grants
 * nothing would.
 *
 * Built by bench/build.sh once per workload:
 *   gcc -O2 -DWB_MODULE=NAME -DWB_HEADER='"NAME.h"' main.c NAME.c wasm-rt-impl.c
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wasm-rt-impl.h"
#include "wasm-rt.h"

#include WB_HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define CAT3(a, b, c) CAT(CAT(a, b), c)
#define MOD_INSTANCE CAT3(Z_, WB_MODULE, _instance_t)
#define MOD_INIT CAT3(Z_, WB_MODULE, _init_module)
#define MOD_INSTANTIATE CAT3(Z_, WB_MODULE, _instantiate)
#define MOD_FREE CAT3(Z_, WB_MODULE, _free)
#define MOD_MEMORY CAT3(Z_, WB_MODULE, Z_memory)
#define MOD_START CAT3(Z_, WB_MODULE, Z__start)

#define WASI(name) Z_wasi_snapshot_preview1Z_##name

enum {
    WASI_ESUCCESS = 0,
    WASI_EBADF = 8,
    WASI_EFAULT = 21,
    WASI_EINVAL = 28,
    WASI_EIO = 29,
    WASI_ENOSYS = 52,
    WASI_ESPIPE = 70,
};

struct Z_wasi_snapshot_preview1_instance_t {
    wasm_rt_memory_t *memory;
    int argc;
    char **argv;
};

/* The guest address range [addr, addr + len) as a host pointer, or NULL. */
static uint8_t *guest(struct Z_wasi_snapshot_preview1_instance_t *w, uint32_t addr, uint32_t len)
{
    if ((uint64_t)addr + len > w->memory->size)
        return NULL;
    return w->memory->data + addr;
}

static int put_u32(struct Z_wasi_snapshot_preview1_instance_t *w, uint32_t addr, uint32_t v)
{
    uint8_t *p = guest(w, addr, 4);
    if (!p)
        return 0;
    memcpy(p, &v, 4); /* x86-64 and wasm are both little-endian */
    return 1;
}

static int put_u64(struct Z_wasi_snapshot_preview1_instance_t *w, uint32_t addr, uint64_t v)
{
    uint8_t *p = guest(w, addr, 8);
    if (!p)
        return 0;
    memcpy(p, &v, 8);
    return 1;
}

u32 WASI(args_sizes_get)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 argc_out, u32 size_out)
{
    uint32_t size = 0;
    for (int i = 0; i < w->argc; i++)
        size += (uint32_t)strlen(w->argv[i]) + 1;
    if (!put_u32(w, argc_out, (uint32_t)w->argc) || !put_u32(w, size_out, size))
        return WASI_EFAULT;
    return WASI_ESUCCESS;
}

u32 WASI(args_get)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 argv_out, u32 buf)
{
    for (int i = 0; i < w->argc; i++) {
        uint32_t len = (uint32_t)strlen(w->argv[i]) + 1;
        uint8_t *p = guest(w, buf, len);
        if (!p || !put_u32(w, argv_out + 4u * (uint32_t)i, buf))
            return WASI_EFAULT;
        memcpy(p, w->argv[i], len);
        buf += len;
    }
    return WASI_ESUCCESS;
}

u32 WASI(environ_sizes_get)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 count_out, u32 size_out)
{
    if (!put_u32(w, count_out, 0) || !put_u32(w, size_out, 0))
        return WASI_EFAULT;
    return WASI_ESUCCESS;
}

u32 WASI(environ_get)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 env_out, u32 buf)
{
    (void)w;
    (void)env_out;
    (void)buf;
    return WASI_ESUCCESS;
}

u32 WASI(fd_write)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 iovs, u32 niovs, u32 nwritten_out)
{
    if (fd != 1 && fd != 2)
        return WASI_EBADF;
    uint32_t total = 0;
    for (uint32_t i = 0; i < niovs; i++) {
        uint8_t *iov = guest(w, iovs + 8 * i, 8);
        if (!iov)
            return WASI_EFAULT;
        uint32_t base, len;
        memcpy(&base, iov, 4);
        memcpy(&len, iov + 4, 4);
        uint8_t *p = guest(w, base, len);
        if (!p)
            return WASI_EFAULT;
        while (len > 0) {
            ssize_t n = write((int)fd, p, len);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return WASI_EIO;
            }
            p += n;
            len -= (uint32_t)n;
            total += (uint32_t)n;
        }
    }
    if (!put_u32(w, nwritten_out, total))
        return WASI_EFAULT;
    return WASI_ESUCCESS;
}

u32 WASI(fd_close)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd)
{
    (void)w;
    return fd <= 2 ? WASI_ESUCCESS : WASI_EBADF;
}

u32 WASI(fd_seek)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u64 offset, u32 whence, u32 out)
{
    (void)w;
    (void)offset;
    (void)whence;
    (void)out;
    return fd <= 2 ? WASI_ESPIPE : WASI_EBADF;
}

u32 WASI(fd_fdstat_get)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 out)
{
    if (fd > 2)
        return WASI_EBADF;
    uint8_t *p = guest(w, out, 24);
    if (!p)
        return WASI_EFAULT;
    memset(p, 0, 24);
    p[0] = 2; /* filetype: character device */
    /* rights: fd_read (bit 1) for stdin, fd_write (bit 6) for the others */
    uint64_t rights = fd == 0 ? 1u << 1 : 1u << 6;
    memcpy(p + 8, &rights, 8);
    return WASI_ESUCCESS;
}

u32 WASI(clock_time_get)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 id, u64 precision, u32 out)
{
    (void)precision;
    struct timespec ts;
    clockid_t c = id == 0 ? CLOCK_REALTIME : id == 1 ? CLOCK_MONOTONIC
                : id == 2 ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_THREAD_CPUTIME_ID;
    if (id > 3)
        return WASI_EINVAL;
    if (clock_gettime(c, &ts) != 0)
        return WASI_EINVAL;
    if (!put_u64(w, out, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec))
        return WASI_EFAULT;
    return WASI_ESUCCESS;
}

void WASI(proc_exit)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 code)
{
    (void)w;
    exit((int)code);
}

int main(int argc, char **argv)
{
    static MOD_INSTANCE inst;
    static struct Z_wasi_snapshot_preview1_instance_t wasi;
    if (argc < 1)
        return 2;
    wasm_rt_init();
    MOD_INIT();
    MOD_INSTANTIATE(&inst, &wasi);
    wasi.memory = MOD_MEMORY(&inst);
    wasi.argc = argc;
    wasi.argv = argv;
    wasm_rt_trap_t trap = (wasm_rt_trap_t)wasm_rt_impl_try();
    if (trap != WASM_RT_TRAP_NONE) {
        fprintf(stderr, "%s: wasm trap: %s\n", argv[0], wasm_rt_strerror(trap));
        return 134;
    }
    MOD_START(&inst);
    MOD_FREE(&inst);
    wasm_rt_free();
    return 0;
}
