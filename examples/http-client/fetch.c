/*
 * fetch.c - a minimal HTTP/1.0 client for wasm32-wasi: resolves the host
 * with getaddrinfo, connects, sends GET and copies the response body to
 * stdout (the status line and headers go to stderr).
 *
 *   clang-14 --target=wasm32-wasi --sysroot=/usr -O2 -I ../../guest/include \
 *       fetch.c ../../guest/src/socket.c -o fetch.wasm
 *   wasmbox run --inherit-network --allow-ip-name-lookup fetch.wasm localhost 8080 /
 *   wasmbox run --net-allow connect:127.0.0.1:8080 fetch.wasm 127.0.0.1 8080 /x
 *
 * Exit status: 0 for a 2xx answer, 1 for another answer, 2 when the
 * server cannot be reached (the reason on stderr).
 */
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: fetch HOST PORT PATH\n");
        return 2;
    }
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int gai = getaddrinfo(argv[1], argv[2], &hints, &res);
    if (gai != 0) {
        fprintf(stderr, "fetch: %s: %s\n", argv[1], gai_strerror(gai));
        return 2;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            fprintf(stderr, "fetch: socket: %s\n", strerror(errno));
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            fprintf(stderr, "fetch: connect to %s port %s: %s\n", argv[1], argv[2], strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) return 2;
    char req[1024];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: wasmbox-fetch\r\n\r\n",
                     argv[3], argv[1]);
    if (n < 0 || (size_t)n >= sizeof req || send(fd, req, (size_t)n, 0) != n) {
        fprintf(stderr, "fetch: send: %s\n", strerror(errno));
        return 2;
    }
    /* Headers until the blank line, then the body as it comes. */
    char buf[4096];
    size_t have = 0;
    int status = 0;
    bool body = false;
    for (;;) {
        ssize_t got = recv(fd, buf + have, sizeof buf - have, 0);
        if (got < 0) {
            fprintf(stderr, "fetch: recv: %s\n", strerror(errno));
            return 2;
        }
        if (got == 0) break;
        have += (size_t)got;
        if (!body) {
            char *end = NULL;
            for (size_t i = 0; i + 3 < have; i++)
                if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
                    end = buf + i + 4;
                    break;
                }
            if (!end) {
                if (have == sizeof buf) break;
                continue;
            }
            fwrite(buf, 1, (size_t)(end - buf), stderr);
            sscanf(buf, "HTTP/%*s %d", &status);
            body = true;
            fwrite(end, 1, have - (size_t)(end - buf), stdout);
        } else {
            fwrite(buf, 1, have, stdout);
        }
        have = 0;
    }
    close(fd);
    return status >= 200 && status < 300 ? 0 : 1;
}
