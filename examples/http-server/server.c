/*
 * server.c - a small HTTP/1.1 server in C that builds for wasm32-wasi
 * (with wasmbox's guest socket library) and natively from the same
 * source.
 *
 *   clang-14 --target=wasm32-wasi --sysroot=/usr -O2 -I ../../guest/include \
 *       server.c ../../guest/src/socket.c -o server.wasm
 *   wasmbox run --inherit-network server.wasm            # 0.0.0.0:8080
 *   wasmbox run --inherit-network server.wasm --listen 127.0.0.1:9000
 *   curl http://127.0.0.1:8080/hello
 *
 * It binds and listens itself (socket, bind, listen: WasmEdge's socket
 * ABI under wasmbox or WasmEdge). Given a listening socket instead
 * (`wasmbox run --tcplisten HOST:PORT`, or a container's
 * WASMBOX_TCPLISTEN), it serves that one and opens nothing.
 *
 * One thread, non-blocking sockets and poll(): many connections at once,
 * each kept alive between requests (HTTP/1.1, or HTTP/1.0 with
 * keep-alive). Every request is answered with a short text page naming
 * the path and a request counter. Options (after the module):
 *
 *   --listen HOST:PORT   the address (default 0.0.0.0:8080, or $PORT)
 *   --max N              exit 0 after N requests
 *
 * The address and the port it got are printed ("server: listening on
 * ..."), so a port of 0 works for tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 256
#define BUF_SIZE 8192
#define MAX_PRESET_SCAN 64

typedef struct conn {
    int fd;
    size_t used;             /* bytes of request data in buf */
    char buf[BUF_SIZE];
    char out[BUF_SIZE];      /* response bytes not yet sent */
    size_t out_len, out_sent;
    bool close_after;        /* close once `out` is sent */
} conn;

static conn *conns[MAX_CONNS];
static unsigned long served, max_requests;

static int set_nonblock(int fd) {
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* A listening socket on "HOST:PORT" ("[v6]:PORT" too); -1 on failure. */
static int open_listener(const char *spec) {
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof host) {
        fprintf(stderr, "server: --listen wants HOST:PORT, got '%s'\n", spec);
        return -1;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    char *h = host;
    if (h[0] == '[') {
        h++;
        char *close = strchr(h, ']');
        if (close) *close = '\0';
    }
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(*h ? h : NULL, colon + 1, &hints, &res);
    if (gai != 0) {
        fprintf(stderr, "server: %s: %s\n", spec, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            fprintf(stderr, "server: socket: %s\n", strerror(errno));
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0) break;
        fprintf(stderr, "server: bind/listen %s: %s\n", spec, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* The first descriptor after the standard streams that is a listening
 * socket: wasmbox's --tcplisten (or a container's WASMBOX_TCPLISTEN)
 * comes after the preopened folders, so its number varies. -1: none. */
static int preset_listener(void) {
    for (int fd = 3; fd < 3 + MAX_PRESET_SCAN; fd++) {
        int on = 0;
        socklen_t len = sizeof on;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on) return fd;
    }
    return -1;
}

static void print_address(int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[64] = "?", port[16] = "?";
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV);
    printf("server: listening on %s port %s\n", host, port);
    fflush(stdout);
}

static void drop(int i) {
    close(conns[i]->fd);
    free(conns[i]);
    conns[i] = NULL;
}

/* Case-blind search for a header line "Name: value" containing `want`. */
static bool header_has(const char *head, const char *name, const char *want) {
    size_t n = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
            const char *end = strstr(p + 2, "\r\n");
            size_t vlen = end ? (size_t)(end - p - 2) : strlen(p + 2);
            for (size_t k = n + 1; k + strlen(want) <= vlen; k++)
                if (strncasecmp(p + 2 + k, want, strlen(want)) == 0) return true;
        }
    }
    return false;
}

static long header_long(const char *head, const char *name) {
    size_t n = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n"))
        if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') return atol(p + 3 + n);
    return 0;
}

/* Answers every whole request in c->buf; false to close the connection. */
static bool handle_requests(conn *c) {
    for (;;) {
        c->buf[c->used] = '\0';
        char *end = strstr(c->buf, "\r\n\r\n");
        if (!end) return c->used < BUF_SIZE - 1; /* a head too large: close */
        size_t head_len = (size_t)(end - c->buf) + 4;
        long body = header_long(c->buf, "Content-Length");
        if (body < 0 || (size_t)body > BUF_SIZE - 1 - head_len) return false;
        if (c->used < head_len + (size_t)body) return true; /* body not all here */
        char path[256] = "/";
        const char *sp = strchr(c->buf, ' ');
        if (sp) {
            size_t i = 0;
            for (sp++; *sp && *sp != ' ' && *sp != '\r' && i + 1 < sizeof path; sp++)
                if (*sp > ' ' && *sp < 127) path[i++] = *sp;
            path[i] = '\0';
        }
        bool http10 = strstr(c->buf, "HTTP/1.0\r\n") != NULL;
        bool keep = http10 ? header_has(c->buf, "Connection", "keep-alive")
                           : !header_has(c->buf, "Connection", "close");
        served++;
        char body_text[512];
        int blen = snprintf(body_text, sizeof body_text,
                            "Hello from wasmbox! You asked for %s (request %lu)\n", path, served);
        int n = snprintf(c->out + c->out_len, sizeof c->out - c->out_len,
                         "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                         "Connection: %s\r\n\r\n%s",
                         blen, keep ? "keep-alive" : "close", body_text);
        if (n < 0 || (size_t)n >= sizeof c->out - c->out_len) return false;
        c->out_len += (size_t)n;
        memmove(c->buf, c->buf + head_len + body, c->used - head_len - (size_t)body);
        c->used -= head_len + (size_t)body;
        if (!keep || (max_requests && served >= max_requests)) {
            c->close_after = true;
            return true;
        }
    }
}

/* Sends what is pending; false when the connection is finished. */
static bool flush_out(conn *c) {
    while (c->out_sent < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, 0);
        if (w < 0) return errno == EAGAIN;
        c->out_sent += (size_t)w;
    }
    c->out_len = c->out_sent = 0;
    return !c->close_after;
}

int main(int argc, char **argv) {
    const char *listen_at = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
            listen_at = argv[++i];
        } else if (strcmp(argv[i], "--max") == 0 && i + 1 < argc) {
            max_requests = strtoul(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: server [--listen HOST:PORT] [--max N]\n");
            return 2;
        }
    }
    char fallback[64];
    if (!listen_at) {
        const char *port = getenv("PORT");
        snprintf(fallback, sizeof fallback, "0.0.0.0:%s", port && *port ? port : "8080");
        listen_at = fallback;
    }
    /* A socket the runtime made listening for us (--tcplisten) wins. */
    int lfd = preset_listener();
    if (lfd < 0) lfd = open_listener(listen_at);
    if (lfd < 0) return 1;
    if (set_nonblock(lfd) != 0) {
        fprintf(stderr, "server: cannot make the listener non-blocking: %s\n", strerror(errno));
        return 1;
    }
    print_address(lfd);

    struct pollfd pfds[MAX_CONNS + 1];
    int idx[MAX_CONNS + 1];
    while (!max_requests || served < max_requests) {
        int n = 0;
        pfds[n].fd = lfd;
        pfds[n].events = POLLIN;
        idx[n++] = -1;
        for (int i = 0; i < MAX_CONNS; i++) {
            if (!conns[i]) continue;
            pfds[n].fd = conns[i]->fd;
            pfds[n].events = conns[i]->out_len ? POLLOUT : POLLIN;
            idx[n++] = i;
        }
        if (poll(pfds, (nfds_t)n, -1) < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "server: poll: %s\n", strerror(errno));
            return 1;
        }
        for (int k = 1; k < n; k++) {
            if (!pfds[k].revents) continue;
            conn *c = conns[idx[k]];
            bool keep = true;
            if (c->out_len) {
                keep = flush_out(c);
            } else {
                ssize_t got = recv(c->fd, c->buf + c->used, BUF_SIZE - 1 - c->used, 0);
                if (got > 0) {
                    c->used += (size_t)got;
                    keep = handle_requests(c) && (c->out_len == 0 || flush_out(c));
                } else if (got == 0 || errno != EAGAIN) {
                    keep = false;
                }
            }
            if (!keep) drop(idx[k]);
        }
        if (pfds[0].revents & POLLIN) {
            for (;;) {
                int fd = accept(lfd, NULL, NULL);
                if (fd < 0) break; /* EAGAIN: all taken */
                int slot = 0;
                while (slot < MAX_CONNS && conns[slot]) slot++;
                conn *c = slot < MAX_CONNS ? calloc(1, sizeof *c) : NULL;
                if (!c || set_nonblock(fd) != 0) {
                    free(c);
                    close(fd);
                    continue;
                }
                c->fd = fd;
                conns[slot] = c;
            }
        }
    }
    /* Finish what was answered before leaving. */
    for (int i = 0; i < MAX_CONNS; i++) {
        if (!conns[i]) continue;
        int fl = fcntl(conns[i]->fd, F_GETFL);
        if (fl >= 0) fcntl(conns[i]->fd, F_SETFL, fl & ~O_NONBLOCK);
        flush_out(conns[i]);
        shutdown(conns[i]->fd, SHUT_WR);
        drop(i);
    }
    printf("server: served %lu requests\n", served);
    return 0;
}
