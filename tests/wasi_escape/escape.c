/*
 * escape.c - a guest that tries to get out of its preopens.
 *
 * Built at test time for wasm32-wasi and run by escape.sh with three
 * preopens: "rw" (read-write), "ro" (read-only) and "other" (read-write),
 * over host trees escape.sh prepares (see there). Every attempt calls the
 * raw WASI functions and checks the exact errno.
 *
 *   escape.wasm checks        all attack classes; exit 1 on any failure
 *   escape.wasm race N        opens rw/swap/canary.txt N times while the
 *                             host swaps "swap" for symlinks pointing out;
 *                             exit 3 if the outside canary is ever read
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

/* path_open with an explicit length, so a path can hold a NUL. */
int32_t raw_path_open(int32_t fd, int32_t dirflags, int32_t path, int32_t path_len,
                      int32_t oflags, int64_t base, int64_t inh, int32_t fdflags,
                      int32_t retptr)
    __attribute__((__import_module__("wasi_snapshot_preview1"), __import_name__("path_open")));

static int failures, checks;
static __wasi_fd_t RW = (__wasi_fd_t)-1, RO = (__wasi_fd_t)-1, OTHER = (__wasi_fd_t)-1;

#define ALL_RIGHTS ((__wasi_rights_t)0x3FFFFFFF)
#define READ_RIGHTS (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL | \
                     __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_READDIR)

static void check2(const char *what, int got, int want, int alt) {
    checks++;
    if (got == want || (alt >= 0 && got == alt)) {
        printf("ok   %-60s errno %d\n", what, got);
    } else {
        printf("FAIL %-60s errno %d, want %d\n", what, got, want);
        failures++;
    }
}
static void check(const char *what, int got, int want) { check2(what, got, want, -1); }

static void find_preopens(void) {
    for (__wasi_fd_t fd = 3; fd < 64; fd++) {
        __wasi_prestat_t ps;
        if (__wasi_fd_prestat_get(fd, &ps) != 0) break;
        char name[64] = {0};
        if (ps.u.dir.pr_name_len >= sizeof name) continue;
        if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)name, ps.u.dir.pr_name_len) != 0) continue;
        if (!strcmp(name, "rw")) RW = fd;
        if (!strcmp(name, "ro")) RO = fd;
        if (!strcmp(name, "other")) OTHER = fd;
    }
}

static int open_(__wasi_fd_t dir, __wasi_lookupflags_t lf, const char *path,
                 __wasi_oflags_t of, __wasi_rights_t base, __wasi_fdflags_t ff, __wasi_fd_t *out) {
    __wasi_fd_t tmp;
    return __wasi_path_open(dir, lf, path, of, base, base, ff, out ? out : &tmp);
}

/* Opens, reads up to 63 bytes into buf; returns the errno. */
static int read_file(__wasi_fd_t dir, __wasi_lookupflags_t lf, const char *path, char *buf) {
    __wasi_fd_t fd;
    int e = open_(dir, lf, path, 0, READ_RIGHTS, 0, &fd);
    buf[0] = '\0';
    if (e) return e;
    __wasi_iovec_t iov = {(uint8_t *)buf, 63};
    __wasi_size_t n = 0;
    e = __wasi_fd_read(fd, &iov, 1, &n);
    buf[e ? 0 : n] = '\0';
    __wasi_fd_close(fd);
    return e;
}

static int checks_main(void) {
    const __wasi_lookupflags_t F = __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW;
    char buf[64];
    const int NC = __WASI_ERRNO_NOTCAPABLE;
    if (RW == (__wasi_fd_t)-1 || RO == (__wasi_fd_t)-1 || OTHER == (__wasi_fd_t)-1) {
        printf("FAIL preopens rw, ro, other not found\n");
        return 1;
    }
    check("sanity: read rw/file.txt", read_file(RW, F, "file.txt", buf), 0);
    check("sanity: content of rw/file.txt", strcmp(buf, "inside\n"), 0);

    /* .. above the root */
    check("open ..", open_(RW, F, "..", 0, READ_RIGHTS, 0, NULL), NC);
    check("open ../outside/secret.txt", read_file(RW, F, "../outside/secret.txt", buf), NC);
    check("open dir/../../outside/secret.txt", read_file(RW, F, "dir/../../outside/secret.txt", buf), NC);
    check("open dir/../file.txt (stays inside)", read_file(RW, F, "dir/../file.txt", buf), 0);
    check("open ./dir/./../.. ", open_(RW, F, "./dir/./../..", 0, READ_RIGHTS, 0, NULL), NC);
    check("stat ../outside", __wasi_path_filestat_get(RW, F, "../outside", &(__wasi_filestat_t){0}), NC);
    check("mkdir ../evil", __wasi_path_create_directory(RW, "../evil"), NC);
    check("unlink ../outside/secret.txt", __wasi_path_unlink_file(RW, "../outside/secret.txt"), NC);
    check("rename file.txt -> ../outside/moved", __wasi_path_rename(RW, "file.txt", RW, "../outside/moved"), NC);
    check("link file.txt -> ../outside/linked", __wasi_path_link(RW, 0, "file.txt", RW, "../outside/linked"), NC);
    check("symlink at ../outside/evil_link", __wasi_path_symlink("file.txt", RW, "../outside/evil_link"), NC);

    /* absolute paths */
    check("open /etc/passwd", read_file(RW, F, "/etc/passwd", buf), NC);
    check("open /", open_(RW, F, "/", 0, READ_RIGHTS, 0, NULL), NC);
    check("stat /etc", __wasi_path_filestat_get(RW, 0, "/etc", &(__wasi_filestat_t){0}), NC);
    check("mkdir /tmp/evil", __wasi_path_create_directory(RW, "/tmp/evil"), NC);

    /* pre-existing symlinks pointing out */
    check("open abs_link (-> /etc/passwd), follow", read_file(RW, F, "abs_link", buf), NC);
    check("open abs_link, nofollow", read_file(RW, 0, "abs_link", buf), __WASI_ERRNO_LOOP);
    check("stat abs_link, follow", __wasi_path_filestat_get(RW, F, "abs_link", &(__wasi_filestat_t){0}), NC);
    check("stat abs_link, nofollow (the link itself)", __wasi_path_filestat_get(RW, 0, "abs_link", &(__wasi_filestat_t){0}), 0);
    check("open rel_out (-> ../outside/secret.txt)", read_file(RW, F, "rel_out", buf), NC);
    check("open rel_out_dir/secret.txt (dir -> ../outside)", read_file(RW, F, "rel_out_dir/secret.txt", buf), NC);
    check("open abs_dir/secret.txt (dir -> /abs/outside)", read_file(RW, F, "abs_dir/secret.txt", buf), NC);
    check("open dir/deep_out (-> ../../outside/secret.txt)", read_file(RW, F, "dir/deep_out", buf), NC);
    check("mkdir rel_out_dir/evil", __wasi_path_create_directory(RW, "rel_out_dir/evil"), NC);
    check("create abs_dir/evil.txt", open_(RW, F, "abs_dir/evil.txt", __WASI_OFLAGS_CREAT, ALL_RIGHTS, 0, NULL), NC);
    check("set times through abs_link", __wasi_path_filestat_set_times(RW, F, "abs_link", 0, 0, __WASI_FSTFLAGS_MTIM_NOW), NC);
    check("open in_link (-> dir/../file.txt, stays inside)", read_file(RW, F, "in_link", buf), 0);

    /* symlinks the guest creates */
    check("symlink g_out -> ../outside/secret.txt (created)", __wasi_path_symlink("../outside/secret.txt", RW, "g_out"), 0);
    check("open g_out, follow", read_file(RW, F, "g_out", buf), NC);
    check("create through g_out2 -> ../outside/new.txt", __wasi_path_symlink("../outside/new.txt", RW, "g_out2"), 0);
    check("open g_out2 with O_CREAT, follow", open_(RW, F, "g_out2", __WASI_OFLAGS_CREAT, ALL_RIGHTS, 0, NULL), NC);
    check("symlink g_abs -> /etc/passwd", __wasi_path_symlink("/etc/passwd", RW, "g_abs"), NC);
    check("symlink dir/g_up -> ../../outside", __wasi_path_symlink("../../outside", RW, "dir/g_up"), 0);
    check("open dir/g_up/secret.txt", read_file(RW, F, "dir/g_up/secret.txt", buf), NC);

    /* loops */
    check("open loop1 (loop1 <-> loop2), follow", open_(RW, F, "loop1", 0, READ_RIGHTS, 0, NULL), __WASI_ERRNO_LOOP);
    check("open loop1/x", open_(RW, F, "loop1/x", 0, READ_RIGHTS, 0, NULL), __WASI_ERRNO_LOOP);
    check("stat self_loop, follow", __wasi_path_filestat_get(RW, F, "self_loop", &(__wasi_filestat_t){0}), __WASI_ERRNO_LOOP);

    /* trailing slashes */
    check("open file.txt/", open_(RW, F, "file.txt/", 0, READ_RIGHTS, 0, NULL), __WASI_ERRNO_NOTDIR);
    check("open file_link/ (-> file.txt)", open_(RW, F, "file_link/", 0, READ_RIGHTS, 0, NULL), __WASI_ERRNO_NOTDIR);
    check("open file_link/ nofollow", open_(RW, 0, "file_link/", 0, READ_RIGHTS, 0, NULL), __WASI_ERRNO_NOTDIR);
    check("stat file.txt/", __wasi_path_filestat_get(RW, 0, "file.txt/", &(__wasi_filestat_t){0}), __WASI_ERRNO_NOTDIR);
    check("stat file_link/", __wasi_path_filestat_get(RW, 0, "file_link/", &(__wasi_filestat_t){0}), __WASI_ERRNO_NOTDIR);
    check("unlink file.txt/", __wasi_path_unlink_file(RW, "file.txt/"), __WASI_ERRNO_NOTDIR);
    check("open dir/ (a directory)", open_(RW, F, "dir/", __WASI_OFLAGS_DIRECTORY, READ_RIGHTS, 0, NULL), 0);
    check("open abs_dir/ (dir link out)", open_(RW, F, "abs_dir/", 0, READ_RIGHTS, 0, NULL), NC);

    /* NUL in paths */
    static const char nul_path[] = "file.txt\0../../etc/passwd";
    __wasi_fd_t tmpfd;
    check("open \"file.txt\\0../../etc/passwd\"",
          raw_path_open(RW, F, (int32_t)(uintptr_t)nul_path, sizeof nul_path - 1, 0,
                        READ_RIGHTS, 0, 0, (int32_t)(uintptr_t)&tmpfd),
          __WASI_ERRNO_INVAL);

    /* read-only preopen */
    const int ROFS = __WASI_ERRNO_ROFS;
    check("ro: read data.txt", read_file(RO, F, "data.txt", buf), 0);
    check("ro: open data.txt with O_TRUNC", open_(RO, F, "data.txt", __WASI_OFLAGS_TRUNC, ALL_RIGHTS, 0, NULL), ROFS);
    check("ro: open data.txt for writing", open_(RO, F, "data.txt", 0, __WASI_RIGHTS_FD_WRITE, 0, NULL), ROFS);
    check("ro: open data.txt with append", open_(RO, F, "data.txt", 0, __WASI_RIGHTS_FD_READ, __WASI_FDFLAGS_APPEND, NULL), ROFS);
    check("ro: create new.txt", open_(RO, F, "new.txt", __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_READ, 0, NULL), ROFS);
    check("ro: create sub/new.txt", open_(RO, F, "sub/new.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, __WASI_RIGHTS_FD_READ, 0, NULL), ROFS);
    check("ro: rename data.txt", __wasi_path_rename(RO, "data.txt", RO, "moved.txt"), ROFS);
    check("ro: unlink data.txt", __wasi_path_unlink_file(RO, "data.txt"), ROFS);
    check("ro: link data.txt", __wasi_path_link(RO, 0, "data.txt", RO, "l.txt"), ROFS);
    check("ro: symlink", __wasi_path_symlink("data.txt", RO, "s.txt"), ROFS);
    check("ro: mkdir", __wasi_path_create_directory(RO, "newdir"), ROFS);
    check("ro: rmdir sub", __wasi_path_remove_directory(RO, "sub"), ROFS);
    check("ro: set times", __wasi_path_filestat_set_times(RO, F, "data.txt", 0, 0, __WASI_FSTFLAGS_MTIM_NOW), ROFS);
    __wasi_fd_t rofd;
    check("ro: open data.txt read-only", open_(RO, F, "data.txt", 0, READ_RIGHTS | __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS, 0, &rofd), 0);
    __wasi_ciovec_t civ = {(const uint8_t *)"X", 1};
    __wasi_size_t nw;
    check2("ro: fd_write on it", __wasi_fd_write(rofd, &civ, 1, &nw), __WASI_ERRNO_NOTCAPABLE, ROFS);
    check2("ro: fd_filestat_set_size on it", __wasi_fd_filestat_set_size(rofd, 0), __WASI_ERRNO_NOTCAPABLE, ROFS);
    check2("ro: fd_fdstat_set_flags append", __wasi_fd_fdstat_set_flags(rofd, __WASI_FDFLAGS_APPEND), ROFS, __WASI_ERRNO_NOTCAPABLE);
    check("ro: widen rights of it", __wasi_fd_fdstat_set_rights(rofd, ALL_RIGHTS, 0), __WASI_ERRNO_NOTCAPABLE);
    __wasi_fd_close(rofd);
    check("ro: widen rights of the preopen", __wasi_fd_fdstat_set_rights(RO, ALL_RIGHTS, ALL_RIGHTS), __WASI_ERRNO_NOTCAPABLE);
    __wasi_fd_t rwfile;
    check("rw: create victim.txt", open_(RW, F, "victim.txt", __WASI_OFLAGS_CREAT, ALL_RIGHTS, 0, &rwfile), 0);
    check("rw -> ro: rename into ro", __wasi_path_rename(RW, "victim.txt", RO, "victim.txt"), ROFS);
    check("rw -> ro: link into ro", __wasi_path_link(RW, 0, "victim.txt", RO, "victim.txt"), ROFS);
    check("ro -> rw: rename out of ro", __wasi_path_rename(RO, "data.txt", RW, "stolen.txt"), ROFS);

    /* rights after fd_renumber */
    __wasi_fd_t weak;
    check("renumber: open file.txt read-only", open_(RW, F, "file.txt", 0, __WASI_RIGHTS_FD_READ, 0, &weak), 0);
    __wasi_fdstat_t st;
    check("renumber: fd_renumber(weak, strong)", __wasi_fd_renumber(weak, rwfile), 0);
    check("renumber: fdstat of the target", __wasi_fd_fdstat_get(rwfile, &st), 0);
    check("renumber: rights not widened", st.fs_rights_base == __WASI_RIGHTS_FD_READ ? 0 : 1, 0);
    check("renumber: fd_write refused", __wasi_fd_write(rwfile, &civ, 1, &nw), __WASI_ERRNO_NOTCAPABLE);
    check("renumber: old number closed", __wasi_fd_close(weak), __WASI_ERRNO_BADF);
    check("renumber: onto a closed fd", __wasi_fd_renumber(rwfile, 1000), __WASI_ERRNO_BADF);
    __wasi_fd_close(rwfile);

    /* rename and link across two preopens: allowed, but stay inside */
    check("cross: rename rw/victim.txt -> other/moved.txt", __wasi_path_rename(RW, "victim.txt", OTHER, "moved.txt"), 0);
    check("cross: link other/moved.txt -> rw/linked.txt", __wasi_path_link(OTHER, 0, "moved.txt", RW, "linked.txt"), 0);
    check("cross: rename to other/../outside/x", __wasi_path_rename(OTHER, "moved.txt", OTHER, "../outside/x"), NC);
    check("cross: rename to other/../rw/x", __wasi_path_rename(OTHER, "moved.txt", OTHER, "../rw/x"), NC);

    /* readlink never resolves: it only shows the contents */
    uint8_t lbuf[64];
    __wasi_size_t ln = 0;
    check("readlink abs_link", __wasi_path_readlink(RW, "abs_link", lbuf, sizeof lbuf, &ln), 0);
    check("readlink ../outside/link", __wasi_path_readlink(RW, "../outside/link", lbuf, sizeof lbuf, &ln), NC);

    printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}

static int race_main(long n) {
    long inside = 0, refused = 0, other = 0;
    char buf[64];
    for (long i = 0; i < n; i++) {
        int e = read_file(RW, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "swap/canary.txt", buf);
        if (e == 0 && strcmp(buf, "OUTSIDE-CANARY\n") == 0) {
            printf("ESCAPED: read the outside canary at iteration %ld\n", i);
            return 3;
        }
        if (e == 0 && strcmp(buf, "INSIDE\n") == 0) inside++;
        else if (e == __WASI_ERRNO_NOTCAPABLE || e == __WASI_ERRNO_NOENT) refused++;
        else other++;
        /* Writing through the swapped path must not reach outside either. */
        if (i % 16 == 0) {
            __wasi_fd_t fd;
            if (open_(RW, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "swap/written.txt",
                      __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_WRITE, 0, &fd) == 0) {
                __wasi_ciovec_t iov = {(const uint8_t *)"X", 1};
                __wasi_size_t nw;
                __wasi_fd_write(fd, &iov, 1, &nw);
                __wasi_fd_close(fd);
            }
        }
    }
    printf("race: %ld opens: %ld read the inside file, %ld refused, %ld other errors\n", n,
           inside, refused, other);
    return 0;
}

int main(int argc, char **argv) {
    find_preopens();
    if (argc >= 3 && !strcmp(argv[1], "race")) return race_main(atol(argv[2]));
    return checks_main();
}
