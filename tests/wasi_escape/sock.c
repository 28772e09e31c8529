/*
 * sock.c - a guest for the --tcplisten test: checks the socket errnos,
 * then serves one connection (reads a line, answers it in upper case).
 * escape.sh's sibling sock.sh drives it. Exit 0 when every check passed.
 */
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

static int failures;

static void check(const char *what, int got, int want) {
    printf("%s %-50s errno %d\n", got == want ? "ok  " : "FAIL", what, got);
    if (got != want) failures++;
}

int main(void) {
    const __wasi_fd_t L = 3; /* the first descriptor after the (no) preopens */
    __wasi_fdstat_t st;
    check("fdstat of the listener", __wasi_fd_fdstat_get(L, &st), 0);
    check("listener is socket_stream", st.fs_filetype, __WASI_FILETYPE_SOCKET_STREAM);
    check("listener has sock_accept", (st.fs_rights_base & __WASI_RIGHTS_SOCK_ACCEPT) != 0, 1);
    __wasi_fd_t c;
    check("sock_accept on stdout", __wasi_sock_accept(1, 0, &c), __WASI_ERRNO_NOTSOCK);
    check("sock_accept on fd 99", __wasi_sock_accept(99, 0, &c), __WASI_ERRNO_BADF);
    check("sock_shutdown bad how", __wasi_sock_shutdown(L, 7), __WASI_ERRNO_INVAL);
    check("fd_fdstat_set_flags nonblock", __wasi_fd_fdstat_set_flags(L, __WASI_FDFLAGS_NONBLOCK), 0);
    check("accept with nobody waiting", __wasi_sock_accept(L, 0, &c), __WASI_ERRNO_AGAIN);
    check("fd_fdstat_set_flags blocking", __wasi_fd_fdstat_set_flags(L, 0), 0);
    printf("ready\n");
    fflush(stdout);

    __wasi_subscription_t subs[2];
    memset(subs, 0, sizeof subs);
    subs[0].userdata = 1;
    subs[0].u.tag = __WASI_EVENTTYPE_FD_READ;
    subs[0].u.u.fd_read.file_descriptor = L;
    subs[1].userdata = 2;
    subs[1].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[1].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[1].u.u.clock.timeout = 20ull * 1000000000ull;
    __wasi_event_t ev[2];
    __wasi_size_t n = 0;
    check("poll_oneoff for a connection", __wasi_poll_oneoff(subs, ev, 2, &n), 0);
    check("the listener became readable", n >= 1 && ev[0].userdata == 1, 1);
    check("sock_accept (nonblock)", __wasi_sock_accept(L, __WASI_FDFLAGS_NONBLOCK, &c), 0);
    check("accepted fdstat", __wasi_fd_fdstat_get(c, &st), 0);
    check("accepted fd is nonblocking", (st.fs_flags & __WASI_FDFLAGS_NONBLOCK) != 0, 1);
    check("back to blocking", __wasi_fd_fdstat_set_flags(c, 0), 0);

    char buf[128];
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf - 1};
    __wasi_size_t got = 0, got2 = 0;
    __wasi_roflags_t rof;
    check("sock_recv peek", __wasi_sock_recv(c, &iov, 1, __WASI_RIFLAGS_RECV_PEEK, &got, &rof), 0);
    check("sock_recv", __wasi_sock_recv(c, &iov, 1, 0, &got2, &rof), 0);
    check("peek saw the same bytes", got > 0 && got <= got2, 1);
    for (__wasi_size_t i = 0; i < got2; i++)
        if (buf[i] >= 'a' && buf[i] <= 'z') buf[i] = (char)(buf[i] - 32);
    __wasi_ciovec_t out = {(const uint8_t *)buf, got2};
    __wasi_size_t put = 0;
    check("sock_send", __wasi_sock_send(c, &out, 1, 0, &put), 0);
    check("sock_send count", (int)put, (int)got2);
    __wasi_ciovec_t tail = {(const uint8_t *)"BYE\n", 4};
    check("fd_write on the socket", __wasi_fd_write(c, &tail, 1, &put), 0);
    check("sock_shutdown wr", __wasi_sock_shutdown(c, __WASI_SDFLAGS_WR), 0);
    check("fd_close", __wasi_fd_close(c), 0);
    printf("%d failures\n", failures);
    return failures ? 1 : 0;
}
