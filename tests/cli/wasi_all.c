/*
 * wasi_all.c - the guest for tests/cli/wasi.sh. It imports every function
 * of wasi_snapshot_preview1 (through wasi-libc's __wasi_* wrappers, whose
 * imports carry the exact preview1 signatures), so merely linking it
 * checks all 46 signatures of our WASI host. Then it calls some functions
 * with bad pointers and checks the errno each returns.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

/* proc_raise is in preview1 but no longer declared by wasi-libc. */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise")))
extern uint16_t wasi_all_proc_raise(int32_t sig);

/* Taking every address forces every import into the module. */
static void *volatile all_functions[] = {
    (void *)__wasi_args_get, (void *)__wasi_args_sizes_get,
    (void *)__wasi_environ_get, (void *)__wasi_environ_sizes_get,
    (void *)__wasi_clock_res_get, (void *)__wasi_clock_time_get,
    (void *)__wasi_fd_advise, (void *)__wasi_fd_allocate,
    (void *)__wasi_fd_close, (void *)__wasi_fd_datasync,
    (void *)__wasi_fd_fdstat_get, (void *)__wasi_fd_fdstat_set_flags,
    (void *)__wasi_fd_fdstat_set_rights, (void *)__wasi_fd_filestat_get,
    (void *)__wasi_fd_filestat_set_size, (void *)__wasi_fd_filestat_set_times,
    (void *)__wasi_fd_pread, (void *)__wasi_fd_prestat_get,
    (void *)__wasi_fd_prestat_dir_name, (void *)__wasi_fd_pwrite,
    (void *)__wasi_fd_read, (void *)__wasi_fd_readdir,
    (void *)__wasi_fd_renumber, (void *)__wasi_fd_seek,
    (void *)__wasi_fd_sync, (void *)__wasi_fd_tell,
    (void *)__wasi_fd_write, (void *)__wasi_path_create_directory,
    (void *)__wasi_path_filestat_get, (void *)__wasi_path_filestat_set_times,
    (void *)__wasi_path_link, (void *)__wasi_path_open,
    (void *)__wasi_path_readlink, (void *)__wasi_path_remove_directory,
    (void *)__wasi_path_rename, (void *)__wasi_path_symlink,
    (void *)__wasi_path_unlink_file, (void *)__wasi_poll_oneoff,
    (void *)__wasi_proc_exit, (void *)wasi_all_proc_raise,
    (void *)__wasi_sched_yield, (void *)__wasi_random_get,
    (void *)__wasi_sock_accept, (void *)__wasi_sock_recv,
    (void *)__wasi_sock_send, (void *)__wasi_sock_shutdown,
};

static int failures;

static void check(const char *what, int got, int want) {
    printf("%s: %s (errno %d)\n", what, got == want ? "ok" : "WRONG", got);
    if (got != want) failures++;
}

int main(void) {
    /* Reading the volatile table keeps it, and the imports, in the module. */
    size_t linked = 0;
    for (size_t i = 0; i < sizeof all_functions / sizeof all_functions[0]; i++)
        if (all_functions[i]) linked++;
    printf("%zu functions linked\n", linked);

    /* A pointer far beyond any memory this module has. */
    uint8_t *bad = (uint8_t *)(uintptr_t)0xFFFFFFF0u;
    __wasi_size_t n = 0;
    __wasi_ciovec_t iov = {(const uint8_t *)"x\n", 2};

    check("fd_write to stdout", __wasi_fd_write(1, &iov, 1, &n), __WASI_ERRNO_SUCCESS);
    check("fd_write count", (int)n, 2);
    check("fd_write bad iovec array", __wasi_fd_write(1, (const __wasi_ciovec_t *)bad, 1, &n),
          __WASI_ERRNO_FAULT);
    __wasi_ciovec_t bad_iov = {bad, 100};
    check("fd_write bad buffer", __wasi_fd_write(1, &bad_iov, 1, &n), __WASI_ERRNO_FAULT);
    check("fd_write bad nwritten", __wasi_fd_write(1, &iov, 1, (__wasi_size_t *)bad),
          __WASI_ERRNO_FAULT);
    check("fd_write to stdin", __wasi_fd_write(0, &iov, 1, &n), __WASI_ERRNO_BADF);
    check("fd_write to fd 9", __wasi_fd_write(9, &iov, 1, &n), __WASI_ERRNO_BADF);
    check("args_sizes_get bad pointer",
          __wasi_args_sizes_get((__wasi_size_t *)bad, &n), __WASI_ERRNO_FAULT);
    check("random_get past the end", __wasi_random_get(bad, 64), __WASI_ERRNO_FAULT);
    uint8_t buf[16];
    check("random_get", __wasi_random_get(buf, sizeof buf), __WASI_ERRNO_SUCCESS);
    __wasi_timestamp_t t;
    check("clock_time_get monotonic", __wasi_clock_time_get(1, 1, &t), __WASI_ERRNO_SUCCESS);
    check("clock_time_get bad clock", __wasi_clock_time_get(99, 1, &t), __WASI_ERRNO_INVAL);
    check("clock_res_get bad pointer", __wasi_clock_res_get(0, (__wasi_timestamp_t *)bad),
          __WASI_ERRNO_FAULT);
    __wasi_fdstat_t st;
    check("fd_fdstat_get stdout", __wasi_fd_fdstat_get(1, &st), __WASI_ERRNO_SUCCESS);
    check("stdout filetype", st.fs_filetype, __WASI_FILETYPE_CHARACTER_DEVICE);
    check("fd_fdstat_get fd 5", __wasi_fd_fdstat_get(5, &st), __WASI_ERRNO_BADF);
    __wasi_filesize_t pos;
    check("fd_seek stdout", __wasi_fd_seek(1, 0, __WASI_WHENCE_CUR, &pos), __WASI_ERRNO_SPIPE);
    __wasi_prestat_t pre;
    check("fd_prestat_get 3", __wasi_fd_prestat_get(3, &pre), __WASI_ERRNO_BADF);
    __wasi_fd_t fd;
    check("path_open", __wasi_path_open(3, 0, "x", 0, 0, 0, 0, &fd), __WASI_ERRNO_BADF);
    check("sock_shutdown", __wasi_sock_shutdown(3, 0), __WASI_ERRNO_BADF);
    check("proc_raise", wasi_all_proc_raise(6), __WASI_ERRNO_NOSYS);
    check("sched_yield", __wasi_sched_yield(), __WASI_ERRNO_SUCCESS);
    printf("%d failures\n", failures);
    return failures ? 1 : 0;
}
