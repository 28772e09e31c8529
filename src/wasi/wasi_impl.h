/*
 * wasi_impl.h - what the files of the WASI host share (internal).
 *
 *   wasi.c     the context, the function table, args/env/clock/random/proc
 *   fdtable.c  the guest's descriptor table and its rights
 *   path.c     path names from the guest, resolved beneath a directory
 *   fd.c       the fd_* functions on files and directories
 *   pathops.c  the path_* functions
 *   poll.c     poll_oneoff
 *   sock.c     listening sockets, and the socket life cycle: open, bind,
 *              listen, connect, accept, shutdown, options
 *   sockio.c   sock_recv/send(_to)/recv_from, local and peer addresses
 *   getaddrinfo.c  sock_getaddrinfo (WasmEdge's layout)
 *
 * Every guest-facing function has the shape of wasi_fn: it gets the
 * context, the caller's memory and the arguments, and returns the WASI
 * errno. The trampoline in wasi.c stores it as the function's result.
 */
#ifndef WASMBOX_WASI_IMPL_H
#define WASMBOX_WASI_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include "net/net.h"
#include "wasmbox.h"
#include "wasmbox_wasi.h"

/* witx `errno`, complete. */
enum {
    WASI_ESUCCESS = 0, WASI_E2BIG = 1, WASI_EACCES = 2, WASI_EADDRINUSE = 3,
    WASI_EADDRNOTAVAIL = 4, WASI_EAFNOSUPPORT = 5, WASI_EAGAIN = 6,
    WASI_EALREADY = 7, WASI_EBADF = 8, WASI_EBADMSG = 9, WASI_EBUSY = 10,
    WASI_ECANCELED = 11, WASI_ECHILD = 12, WASI_ECONNABORTED = 13,
    WASI_ECONNREFUSED = 14, WASI_ECONNRESET = 15, WASI_EDEADLK = 16,
    WASI_EDESTADDRREQ = 17, WASI_EDOM = 18, WASI_EDQUOT = 19, WASI_EEXIST = 20,
    WASI_EFAULT = 21, WASI_EFBIG = 22, WASI_EHOSTUNREACH = 23, WASI_EIDRM = 24,
    WASI_EILSEQ = 25, WASI_EINPROGRESS = 26, WASI_EINTR = 27, WASI_EINVAL = 28,
    WASI_EIO = 29, WASI_EISCONN = 30, WASI_EISDIR = 31, WASI_ELOOP = 32,
    WASI_EMFILE = 33, WASI_EMLINK = 34, WASI_EMSGSIZE = 35, WASI_EMULTIHOP = 36,
    WASI_ENAMETOOLONG = 37, WASI_ENETDOWN = 38, WASI_ENETRESET = 39,
    WASI_ENETUNREACH = 40, WASI_ENFILE = 41, WASI_ENOBUFS = 42, WASI_ENODEV = 43,
    WASI_ENOENT = 44, WASI_ENOEXEC = 45, WASI_ENOLCK = 46, WASI_ENOLINK = 47,
    WASI_ENOMEM = 48, WASI_ENOMSG = 49, WASI_ENOPROTOOPT = 50, WASI_ENOSPC = 51,
    WASI_ENOSYS = 52, WASI_ENOTCONN = 53, WASI_ENOTDIR = 54, WASI_ENOTEMPTY = 55,
    WASI_ENOTRECOVERABLE = 56, WASI_ENOTSOCK = 57, WASI_ENOTSUP = 58,
    WASI_ENOTTY = 59, WASI_ENXIO = 60, WASI_EOVERFLOW = 61, WASI_EOWNERDEAD = 62,
    WASI_EPERM = 63, WASI_EPIPE = 64, WASI_EPROTO = 65, WASI_EPROTONOSUPPORT = 66,
    WASI_EPROTOTYPE = 67, WASI_ERANGE = 68, WASI_EROFS = 69, WASI_ESPIPE = 70,
    WASI_ESRCH = 71, WASI_ESTALE = 72, WASI_ETIMEDOUT = 73, WASI_ETXTBSY = 74,
    WASI_EXDEV = 75, WASI_ENOTCAPABLE = 76,
};

/* witx `filetype`. */
enum {
    WASI_FILETYPE_UNKNOWN = 0, WASI_FILETYPE_BLOCK_DEVICE = 1,
    WASI_FILETYPE_CHARACTER_DEVICE = 2, WASI_FILETYPE_DIRECTORY = 3,
    WASI_FILETYPE_REGULAR_FILE = 4, WASI_FILETYPE_SOCKET_DGRAM = 5,
    WASI_FILETYPE_SOCKET_STREAM = 6, WASI_FILETYPE_SYMBOLIC_LINK = 7,
};

/* witx `fdflags`, `oflags`, `lookupflags`, `fstflags`. */
#define WASI_FDFLAG_APPEND 1u
#define WASI_FDFLAG_DSYNC 2u
#define WASI_FDFLAG_NONBLOCK 4u
#define WASI_FDFLAG_RSYNC 8u
#define WASI_FDFLAG_SYNC 16u
#define WASI_OFLAG_CREAT 1u
#define WASI_OFLAG_DIRECTORY 2u
#define WASI_OFLAG_EXCL 4u
#define WASI_OFLAG_TRUNC 8u
#define WASI_LOOKUP_SYMLINK_FOLLOW 1u
#define WASI_FST_ATIM 1u
#define WASI_FST_ATIM_NOW 2u
#define WASI_FST_MTIM 4u
#define WASI_FST_MTIM_NOW 8u

/* witx `rights`, one bit each. */
#define WASI_R(n) (UINT64_C(1) << (n))
#define WASI_RIGHT_FD_DATASYNC WASI_R(0)
#define WASI_RIGHT_FD_READ WASI_R(1)
#define WASI_RIGHT_FD_SEEK WASI_R(2)
#define WASI_RIGHT_FD_FDSTAT_SET_FLAGS WASI_R(3)
#define WASI_RIGHT_FD_SYNC WASI_R(4)
#define WASI_RIGHT_FD_TELL WASI_R(5)
#define WASI_RIGHT_FD_WRITE WASI_R(6)
#define WASI_RIGHT_FD_ADVISE WASI_R(7)
#define WASI_RIGHT_FD_ALLOCATE WASI_R(8)
#define WASI_RIGHT_PATH_CREATE_DIRECTORY WASI_R(9)
#define WASI_RIGHT_PATH_CREATE_FILE WASI_R(10)
#define WASI_RIGHT_PATH_LINK_SOURCE WASI_R(11)
#define WASI_RIGHT_PATH_LINK_TARGET WASI_R(12)
#define WASI_RIGHT_PATH_OPEN WASI_R(13)
#define WASI_RIGHT_FD_READDIR WASI_R(14)
#define WASI_RIGHT_PATH_READLINK WASI_R(15)
#define WASI_RIGHT_PATH_RENAME_SOURCE WASI_R(16)
#define WASI_RIGHT_PATH_RENAME_TARGET WASI_R(17)
#define WASI_RIGHT_PATH_FILESTAT_GET WASI_R(18)
#define WASI_RIGHT_PATH_FILESTAT_SET_SIZE WASI_R(19)
#define WASI_RIGHT_PATH_FILESTAT_SET_TIMES WASI_R(20)
#define WASI_RIGHT_FD_FILESTAT_GET WASI_R(21)
#define WASI_RIGHT_FD_FILESTAT_SET_SIZE WASI_R(22)
#define WASI_RIGHT_FD_FILESTAT_SET_TIMES WASI_R(23)
#define WASI_RIGHT_PATH_SYMLINK WASI_R(24)
#define WASI_RIGHT_PATH_REMOVE_DIRECTORY WASI_R(25)
#define WASI_RIGHT_PATH_UNLINK_FILE WASI_R(26)
#define WASI_RIGHT_POLL_FD_READWRITE WASI_R(27)
#define WASI_RIGHT_SOCK_SHUTDOWN WASI_R(28)
#define WASI_RIGHT_SOCK_ACCEPT WASI_R(29)
#define WASI_RIGHTS_ALL (WASI_R(30) - 1)

/* What a regular file, a directory, a socket or a terminal can ever have. */
#define WASI_RIGHTS_FILE                                                       \
    (WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_READ | WASI_RIGHT_FD_SEEK |        \
     WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_TELL | \
     WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ADVISE | WASI_RIGHT_FD_ALLOCATE |     \
     WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_SET_SIZE |            \
     WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_POLL_FD_READWRITE)
#define WASI_RIGHTS_DIR                                                        \
    (WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC |                     \
     WASI_RIGHT_FD_ADVISE | WASI_RIGHT_PATH_CREATE_DIRECTORY |                 \
     WASI_RIGHT_PATH_CREATE_FILE | WASI_RIGHT_PATH_LINK_SOURCE |               \
     WASI_RIGHT_PATH_LINK_TARGET | WASI_RIGHT_PATH_OPEN |                      \
     WASI_RIGHT_FD_READDIR | WASI_RIGHT_PATH_READLINK |                        \
     WASI_RIGHT_PATH_RENAME_SOURCE | WASI_RIGHT_PATH_RENAME_TARGET |           \
     WASI_RIGHT_PATH_FILESTAT_GET | WASI_RIGHT_PATH_FILESTAT_SET_SIZE |        \
     WASI_RIGHT_PATH_FILESTAT_SET_TIMES | WASI_RIGHT_FD_FILESTAT_GET |         \
     WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_PATH_SYMLINK |              \
     WASI_RIGHT_PATH_REMOVE_DIRECTORY | WASI_RIGHT_PATH_UNLINK_FILE |          \
     WASI_RIGHT_POLL_FD_READWRITE)
#define WASI_RIGHTS_SOCKET                                                     \
    (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_WRITE | \
     WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_POLL_FD_READWRITE |               \
     WASI_RIGHT_SOCK_SHUTDOWN)
#define WASI_RIGHTS_TTY                                                        \
    (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_WRITE | \
     WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_POLL_FD_READWRITE)
/* Rights that change what a file holds: refused under a read-only
 * preopen. */
#define WASI_RIGHTS_WRITE                                                      \
    (WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ALLOCATE |    \
     WASI_RIGHT_FD_FILESTAT_SET_SIZE | WASI_RIGHT_FD_FILESTAT_SET_TIMES |      \
     WASI_RIGHT_PATH_CREATE_DIRECTORY | WASI_RIGHT_PATH_CREATE_FILE |          \
     WASI_RIGHT_PATH_LINK_SOURCE | WASI_RIGHT_PATH_LINK_TARGET |               \
     WASI_RIGHT_PATH_RENAME_SOURCE | WASI_RIGHT_PATH_RENAME_TARGET |           \
     WASI_RIGHT_PATH_FILESTAT_SET_SIZE | WASI_RIGHT_PATH_FILESTAT_SET_TIMES |  \
     WASI_RIGHT_PATH_SYMLINK | WASI_RIGHT_PATH_REMOVE_DIRECTORY |              \
     WASI_RIGHT_PATH_UNLINK_FILE)

/* WasmEdge's socket extension: `__wasi_address_family_t`,
 * `__wasi_sock_type_t`, `__wasi_protocol_t`, and the size of the address
 * buffer that starts with a u16 family. */
#define WASI_AF_UNSPEC 0u
#define WASI_AF_INET4 1u
#define WASI_AF_INET6 2u
#define WASI_AF_UNIX 3u
#define WASI_SOCK_ANY 0u
#define WASI_SOCK_DGRAM 1u
#define WASI_SOCK_STREAM 2u
#define WASI_PROTO_IP 0u
#define WASI_PROTO_TCP 1u
#define WASI_PROTO_UDP 2u
#define WASI_ADDR_STORAGE 128u

/* Guest-controlled sizes are capped before anything is allocated. */
#define WASI_PATH_MAX 4096u          /* longest path accepted from the guest */
#define WASI_MAX_FDS 4096u           /* largest descriptor table */
#define WASI_POLL_MAX 4096u          /* most subscriptions in one poll_oneoff */
#define WASI_IOV_BATCH 32            /* iovecs per host readv/writev (stack) */
#define WASI_IOVEC_SIZE 8

/* One guest descriptor. */
typedef struct wasi_fd {
    bool used;
    bool borrowed;   /* host fd belongs to the embedder: never closed */
    bool read_only;  /* from a read-only preopen: refuses every write */
    uint8_t type;    /* WASI_FILETYPE_* */
    int host;
    uint64_t base;
    uint64_t inheriting;
    char *preopen;   /* guest name of a preopened directory, else NULL */
    int sock_family; /* sockets: AF_INET or AF_INET6, read once when added */
    /* fd_readdir's listing, read when cookie 0 is asked for. */
    struct wasi_dirent *dirents;
    uint32_t ndirents;
} wasi_fd;

typedef struct wasi_dirent {
    uint64_t ino;
    uint8_t type;
    uint32_t namelen;
    char *name;
} wasi_dirent;

typedef struct wasi_strings {
    uint32_t count;
    uint32_t bytes;
    char **items;
} wasi_strings;

struct wb_wasi {
    wasi_strings args;
    wasi_strings env;
    wasi_fd *fds;
    uint32_t nfds;   /* allocated entries */
    struct wasi_binding *bindings;
    net_policy net;  /* what sockets of its own the guest may use */
};

/* The calling instance's memory, captured once per host call. */
typedef struct wasi_mem {
    uint8_t *base;
    uint64_t size;
} wasi_mem;

typedef int32_t (*wasi_fn)(wb_wasi *w, const wasi_mem *m, const wb_val *args);

/* ---------------------------------------------- guest memory helpers */

static inline bool wasi_in_bounds(const wasi_mem *m, uint64_t ptr, uint64_t len) {
    return ptr <= m->size && len <= m->size - ptr;
}
static inline uint16_t wasi_load_u16(const wasi_mem *m, uint64_t p) {
    return (uint16_t)(m->base[p] | m->base[p + 1] << 8);
}
static inline uint32_t wasi_load_u32(const wasi_mem *m, uint64_t p) {
    const uint8_t *b = m->base + p;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}
static inline uint64_t wasi_load_u64(const wasi_mem *m, uint64_t p) {
    return (uint64_t)wasi_load_u32(m, p) | (uint64_t)wasi_load_u32(m, p + 4) << 32;
}
static inline void wasi_store_u16(const wasi_mem *m, uint64_t p, uint16_t v) {
    m->base[p] = (uint8_t)v;
    m->base[p + 1] = (uint8_t)(v >> 8);
}
static inline void wasi_store_u32(const wasi_mem *m, uint64_t p, uint32_t v) {
    for (int i = 0; i < 4; i++) m->base[p + (uint64_t)i] = (uint8_t)(v >> (8 * i));
}
static inline void wasi_store_u64(const wasi_mem *m, uint64_t p, uint64_t v) {
    for (int i = 0; i < 8; i++) m->base[p + (uint64_t)i] = (uint8_t)(v >> (8 * i));
}
/* Guest i32 arguments are unsigned addresses, sizes and descriptors. */
static inline uint64_t wasi_arg_u32(const wb_val *v) { return (uint64_t)(uint32_t)v->of.i32; }
static inline uint64_t wasi_arg_u64(const wb_val *v) { return (uint64_t)v->of.i64; }

/* wasi.c */
int32_t wasi_errno_from_host(int e);
uint8_t wasi_filetype_from_mode(mode_t mode);
uint64_t wasi_timespec_ns(const struct timespec *ts);
/* Checks that the iovec array and every buffer it names lie in memory. */
bool wasi_iovs_ok(const wasi_mem *m, uint64_t iovs, uint64_t n);
/* Fills host iovecs from guest iovecs [*next, n) (at most WASI_IOV_BATCH,
 * skipping empty ones, total at most *budget); returns the count. */
int wasi_iovs_batch(const wasi_mem *m, uint64_t iovs, uint64_t n, uint64_t *next,
                    struct iovec *out, uint64_t *budget);

/* fdtable.c */
void wasi_fdtable_free(wb_wasi *w);
/* Adds an entry at the lowest free number (>= 0); returns the number or a
 * negative WASI errno (as -errno). host is owned unless borrowed. */
int64_t wasi_fd_add(wb_wasi *w, int host, uint8_t type, uint64_t base,
                    uint64_t inheriting, bool read_only, bool borrowed);
/* Looks up guest fd and checks it has `rights`: NULL with *err set to
 * EBADF or ENOTCAPABLE otherwise. */
wasi_fd *wasi_fd_get(wb_wasi *w, uint64_t fd, uint64_t rights, int32_t *err);
void wasi_fd_release(wasi_fd *f);
void wasi_dirents_free(wasi_fd *f);
int32_t wasi_fd_close(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_fd_renumber(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_fd_fdstat_get(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_fd_fdstat_set_flags(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_fd_fdstat_set_rights(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_fd_prestat_get(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_fd_prestat_dir_name(wb_wasi *w, const wasi_mem *m, const wb_val *a);
/* The initial rights for a host descriptor of the given type. */
void wasi_rights_for_type(uint8_t type, uint64_t *base, uint64_t *inheriting);
/* The WASI file type of an open host descriptor. */
uint8_t wasi_fd_host_type(int host);

/* path.c */
/* Copies a guest path into a new NUL-terminated string (free() it). */
int32_t wasi_path_get(const wasi_mem *m, uint64_t ptr, uint64_t len, char **out);
/* Opens path beneath dirfd (host errno-free: returns a WASI errno). flags
 * are open(2) flags; O_NOFOLLOW keeps a final symlink from being
 * followed. */
int32_t wasi_path_openat(int dirfd, const char *path, int flags, mode_t mode, int *out);
/* Resolves everything but the last component of path beneath dirfd:
 * *parent is an O_PATH directory descriptor (close it), *leaf points into
 * `path` (which is modified) and may end in '/'. */
int32_t wasi_path_parent(int dirfd, char *path, int *parent, const char **leaf);
/* Set to disable openat2 (tests of the fallback): WASMBOX_WASI_NO_OPENAT2. */
bool wasi_path_use_openat2(void);

/* fd.c */
int32_t wasi_fd_advise(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_fd_allocate(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_fd_datasync(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_fd_sync(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_fd_filestat_get(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_fd_filestat_set_size(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_fd_filestat_set_times(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_fd_pread(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_fd_pwrite(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_fd_read(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_fd_write(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_fd_readdir(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_fd_seek(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_fd_tell(wb_wasi *w, const wasi_mem *m, const wb_val *a);
void wasi_store_filestat(const wasi_mem *m, uint64_t ptr, const struct stat *st);
int32_t wasi_times_from_flags(uint64_t atim, uint64_t mtim, uint32_t fst,
                              struct timespec ts[2]);

/* pathops.c */
int32_t wasi_path_create_directory(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_path_filestat_get(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_path_filestat_set_times(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_path_link(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_path_open(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_path_readlink(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_path_remove_directory(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_path_rename(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_path_symlink(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_path_unlink_file(wb_wasi *w, const wasi_mem *m, const wb_val *a);

/* poll.c */
int32_t wasi_poll_oneoff(wb_wasi *w, const wasi_mem *m, const wb_val *a);

/* sock.c */
/* Opens a listening TCP socket for "HOST:PORT"; returns the host fd or -1
 * with a message in err. */
int wasi_sock_listen(const char *spec, char *why, size_t why_size);
/* Looks up a socket descriptor: EBADF, ENOTSOCK, then ENOTCAPABLE. */
wasi_fd *wasi_sock_get(wb_wasi *w, uint64_t fd, uint64_t rights, int32_t *err);
/* The host address family of a socket (AF_UNSPEC when unknown): read
 * once when a socket enters the table, not on every bind, connect or
 * send_to. */
int wasi_sock_family(int host);
/* The buffer of the guest's 8-byte {buf, buf_len} at addr_ptr, both
 * checked against memory (EFAULT otherwise). */
int32_t wasi_addr_buf(const wasi_mem *m, uint64_t addr_ptr, uint64_t *buf, uint64_t *len);
/* Reads a guest address ({buf, buf_len} at addr_ptr) and port into a
 * host sockaddr suited to a socket of sock_family. */
int32_t wasi_addr_read(const wasi_mem *m, uint64_t addr_ptr, uint32_t port, int sock_family,
                       struct sockaddr_storage *ss, socklen_t *len);
/* The policy's answer for op on sa: 0, or EACCES (reported). */
int32_t wasi_net_check(wb_wasi *w, unsigned op, const struct sockaddr *sa);
int32_t wasi_sock_open(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_sock_bind(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_sock_connect(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_sock_listen_fn(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_sock_accept(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_sock_accept_v1(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_sock_shutdown(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_sock_getsockopt(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_sock_setsockopt(wb_wasi *w, const wasi_mem *m, const wb_val *a);

/* sockio.c */
int32_t wasi_sock_recv(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_sock_recv_from_v1(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_sock_recv_from_v2(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_sock_send(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_sock_send_to(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_sock_getlocaladdr_v1(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_sock_getlocaladdr_v2(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_sock_getpeeraddr_v1(wb_wasi *w, const wasi_mem *m, const wb_val *a);
int32_t wasi_sock_getpeeraddr_v2(wb_wasi *w, const wasi_mem *m, const wb_val *a);

/* getaddrinfo.c */
int32_t wasi_sock_getaddrinfo(wb_wasi *w, const wasi_mem *m, const wb_val *a);

#endif /* WASMBOX_WASI_IMPL_H */
