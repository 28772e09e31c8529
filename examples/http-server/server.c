/*
 * server.c - a small HTTP/1.0 server for wasm32-wasi.
 *
 * WASI preview1 cannot open sockets itself; the runtime hands the guest an
 * already-listening socket (`wasmbox run --tcplisten HOST:PORT`), which is
 * the first descriptor after the preopens: 3 when there are none. The
 * server waits for connections with poll_oneoff, accepts with sock_accept,
 * and answers every request with a short text page naming the path asked
 * for and a request counter.
 *
 *   clang-14 --target=wasm32-wasi --sysroot=/usr -O2 server.c -o server.wasm
 *   wasmbox run --tcplisten 127.0.0.1:8080 server.wasm [MAX_REQUESTS]
 *   curl http://127.0.0.1:8080/hello
 *
 * With MAX_REQUESTS it exits (status 0) after serving that many requests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#define LISTENER 3

/* Blocks until `fd` is readable (a connection is waiting, or data). */
static int wait_readable(__wasi_fd_t fd) {
    __wasi_subscription_t sub;
    memset(&sub, 0, sizeof sub);
    sub.userdata = 1;
    sub.u.tag = __WASI_EVENTTYPE_FD_READ;
    sub.u.u.fd_read.file_descriptor = fd;
    __wasi_event_t ev;
    __wasi_size_t n = 0;
    __wasi_errno_t e = __wasi_poll_oneoff(&sub, &ev, 1, &n);
    return e == 0 && n == 1 && ev.error == 0 ? 0 : -1;
}

static int send_all(__wasi_fd_t fd, const char *data, size_t len) {
    while (len > 0) {
        __wasi_ciovec_t iov = {(const uint8_t *)data, len};
        __wasi_size_t sent = 0;
        if (__wasi_sock_send(fd, &iov, 1, 0, &sent) != 0 || sent == 0) return -1;
        data += sent;
        len -= sent;
    }
    return 0;
}

/* Reads until the end of the request head ("\r\n\r\n") or a full buffer. */
static size_t read_request(__wasi_fd_t fd, char *buf, size_t size) {
    size_t used = 0;
    while (used + 1 < size) {
        __wasi_iovec_t iov = {(uint8_t *)buf + used, size - 1 - used};
        __wasi_size_t got = 0;
        __wasi_roflags_t flags = 0;
        __wasi_errno_t e = __wasi_sock_recv(fd, &iov, 1, 0, &got, &flags);
        if (e == __WASI_ERRNO_AGAIN) {
            if (wait_readable(fd) != 0) break;
            continue;
        }
        if (e != 0 || got == 0) break;
        used += got;
        buf[used] = '\0';
        if (strstr(buf, "\r\n\r\n")) break;
    }
    buf[used] = '\0';
    return used;
}

static void serve(__wasi_fd_t conn, unsigned long count) {
    char req[4096], path[256] = "/", body[512], head[256];
    read_request(conn, req, sizeof req);
    /* "GET /path HTTP/1.1": keep the path, printable characters only. */
    const char *sp = strchr(req, ' ');
    if (sp) {
        size_t i = 0;
        for (sp++; *sp && *sp != ' ' && i + 1 < sizeof path; sp++)
            if (*sp > ' ' && *sp < 127) path[i++] = *sp;
        path[i] = '\0';
    }
    int blen = snprintf(body, sizeof body, "Hello from wasmbox! You asked for %s (request %lu)\n", path, count);
    int hlen = snprintf(head, sizeof head,
                        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                        "Connection: close\r\n\r\n",
                        blen);
    send_all(conn, head, (size_t)hlen);
    send_all(conn, body, (size_t)blen);
    /* Errors here only mean the client is already gone. */
    (void)__wasi_sock_shutdown(conn, __WASI_SDFLAGS_WR);
    (void)__wasi_fd_close(conn);
}

int main(int argc, char **argv) {
    unsigned long max = argc > 1 ? strtoul(argv[1], NULL, 10) : 0;
    __wasi_fdstat_t st;
    if (__wasi_fd_fdstat_get(LISTENER, &st) != 0 || st.fs_filetype != __WASI_FILETYPE_SOCKET_STREAM) {
        fprintf(stderr, "server: no listening socket on fd %d; run with --tcplisten HOST:PORT\n", LISTENER);
        return 2;
    }
    printf("server: listening\n");
    fflush(stdout);
    for (unsigned long served = 0; max == 0 || served < max;) {
        __wasi_fd_t conn;
        __wasi_errno_t e = __wasi_sock_accept(LISTENER, 0, &conn);
        if (e == __WASI_ERRNO_AGAIN) {
            if (wait_readable(LISTENER) != 0) {
                fprintf(stderr, "server: poll_oneoff failed\n");
                return 1;
            }
            continue;
        }
        if (e != 0) {
            fprintf(stderr, "server: sock_accept failed with errno %d\n", e);
            return 1;
        }
        serve(conn, ++served);
    }
    printf("server: served %lu requests\n", max);
    return 0;
}
