/*
 * kv.c - a small HTTP service in WebAssembly that keeps its state in
 * Redis: the Wasm half of a Compose stack whose other half is a Linux
 * container (see compose.yml). It resolves the Redis service by name
 * (getaddrinfo through the container's resolver) and speaks RESP to it.
 *
 *   GET  /get/KEY        the value of KEY (404 when there is none)
 *   PUT  /set/KEY        sets KEY to the request body (POST works too)
 *   POST /incr/KEY       adds 1 to KEY and answers the new number
 *   GET  /               what it offers, and where Redis is
 *
 * Environment: PORT (default 8080), REDIS_HOST (default "redis"),
 * REDIS_PORT (default 6379). Build:
 *
 *   clang-14 --target=wasm32-wasi --sysroot=/usr -O2 -I ../../guest/include \
 *       kv.c ../../guest/src/socket.c -o kv.wasm
 *
 * One connection at a time, one request per connection, and a new Redis
 * connection per request: simple rather than fast (examples/http-server
 * is the fast one).
 */
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_REQ 65536
#define MAX_VALUE 4096

static const char *env_or(const char *name, const char *fallback) {
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

static int send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, 0);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ------------------------------------------------------------- Redis */

/* Connects to Redis, resolving its name each time (its address may
 * change when its container is replaced). */
static int redis_connect(char *why, size_t why_size) {
    const char *host = env_or("REDIS_HOST", "redis"), *port = env_or("REDIS_PORT", "6379");
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        snprintf(why, why_size, "resolve %s: %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            snprintf(why, why_size, "connect %s:%s: %s", host, port, strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* Sends one command (argc bulk strings) and reads one reply into out:
 * returns its type ('+', '-', ':', '$'; 'n' for a nil bulk string) or 0
 * on a connection error. */
static char redis_call(int argc, const char **argv, const size_t *lens, char *out, size_t size,
                       char *why, size_t why_size) {
    int fd = redis_connect(why, why_size);
    if (fd < 0) return 0;
    char head[64];
    int n = snprintf(head, sizeof head, "*%d\r\n", argc);
    bool ok = send_all(fd, head, (size_t)n) == 0;
    for (int i = 0; ok && i < argc; i++) {
        n = snprintf(head, sizeof head, "$%zu\r\n", lens[i]);
        ok = send_all(fd, head, (size_t)n) == 0 && send_all(fd, argv[i], lens[i]) == 0 &&
             send_all(fd, "\r\n", 2) == 0;
    }
    /* The whole reply: Redis answers and we close, so read to the end of
     * what one reply needs. */
    static char buf[MAX_VALUE + 64];
    size_t have = 0;
    char type = 0;
    while (ok && have < sizeof buf - 1) {
        ssize_t got = recv(fd, buf + have, sizeof buf - 1 - have, 0);
        if (got <= 0) break;
        have += (size_t)got;
        buf[have] = '\0';
        char *eol = strstr(buf, "\r\n");
        if (!eol) continue;
        if (buf[0] != '$') {
            type = buf[0];
            snprintf(out, size, "%.*s", (int)(eol - buf - 1), buf + 1);
            break;
        }
        long blen = atol(buf + 1);
        if (blen < 0) {
            type = 'n';
            break;
        }
        size_t start = (size_t)(eol - buf) + 2;
        if (have >= start + (size_t)blen) {
            type = '$';
            snprintf(out, size, "%.*s", (int)blen, buf + start);
            break;
        }
    }
    if (ok && !type) snprintf(why, why_size, "redis closed the connection or answered garbage");
    close(fd);
    return type;
}

/* -------------------------------------------------------------- HTTP */

static void respond(int fd, int status, const char *reason, const char *body) {
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, reason, strlen(body));
    send_all(fd, head, (size_t)n);
    send_all(fd, body, strlen(body));
}

static void serve(int fd) {
    static char req[MAX_REQ + 1];
    size_t have = 0;
    char *body = NULL;
    long clen = 0;
    while (have < MAX_REQ) {
        ssize_t got = recv(fd, req + have, MAX_REQ - have, 0);
        if (got <= 0) return;
        have += (size_t)got;
        req[have] = '\0';
        char *end = strstr(req, "\r\n\r\n");
        if (!end) continue;
        body = end + 4;
        for (char *p = strstr(req, "\r\n"); p && p < end; p = strstr(p + 2, "\r\n"))
            if (strncasecmp(p + 2, "Content-Length:", 15) == 0) clen = atol(p + 17);
        if (clen < 0 || clen > MAX_VALUE) {
            respond(fd, 413, "Payload Too Large", "value too large\n");
            return;
        }
        if ((size_t)(req + have - body) >= (size_t)clen) break;
    }
    if (!body) return;
    body[clen] = '\0';
    char method[8] = "", path[512] = "";
    if (sscanf(req, "%7s %511s", method, path) != 2) {
        respond(fd, 400, "Bad Request", "bad request\n");
        return;
    }
    char out[MAX_VALUE + 2], why[256] = "", answer[MAX_VALUE + 300];
    const char *key = NULL, *cmd = NULL;
    if (strncmp(path, "/get/", 5) == 0 && strcmp(method, "GET") == 0) {
        key = path + 5, cmd = "GET";
    } else if (strncmp(path, "/set/", 5) == 0 &&
               (strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0)) {
        key = path + 5, cmd = "SET";
    } else if (strncmp(path, "/incr/", 6) == 0 && strcmp(method, "POST") == 0) {
        key = path + 6, cmd = "INCR";
    } else if (strcmp(path, "/") == 0) {
        snprintf(answer, sizeof answer,
                 "kv service in WebAssembly: GET /get/KEY, PUT /set/KEY, POST /incr/KEY; "
                 "state in redis at %s:%s\n",
                 env_or("REDIS_HOST", "redis"), env_or("REDIS_PORT", "6379"));
        respond(fd, 200, "OK", answer);
        return;
    } else {
        respond(fd, 404, "Not Found", "no such endpoint\n");
        return;
    }
    if (!*key) {
        respond(fd, 400, "Bad Request", "no key\n");
        return;
    }
    const char *argv[3] = {cmd, key, body};
    size_t lens[3] = {strlen(cmd), strlen(key), (size_t)clen};
    char type = redis_call(strcmp(cmd, "SET") == 0 ? 3 : 2, argv, lens, out, sizeof out, why,
                           sizeof why);
    if (type == 0) {
        snprintf(answer, sizeof answer, "redis unreachable: %s\n", why);
        respond(fd, 502, "Bad Gateway", answer);
    } else if (type == '-') {
        snprintf(answer, sizeof answer, "redis error: %s\n", out);
        respond(fd, 500, "Internal Server Error", answer);
    } else if (type == 'n') {
        respond(fd, 404, "Not Found", "no such key\n");
    } else {
        snprintf(answer, sizeof answer, "%s\n", out);
        respond(fd, 200, "OK", answer);
    }
}

int main(void) {
    const char *port = env_or("PORT", "8080");
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(NULL, port, &hints, &res);
    if (gai != 0) {
        fprintf(stderr, "kv: port %s: %s\n", port, gai_strerror(gai));
        return 1;
    }
    int lfd = socket(res->ai_family, res->ai_socktype, 0);
    int one = 1;
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(lfd, res->ai_addr, res->ai_addrlen) != 0 || listen(lfd, 64) != 0) {
        fprintf(stderr, "kv: listen on port %s: %s\n", port, strerror(errno));
        return 1;
    }
    freeaddrinfo(res);
    printf("kv: listening on port %s, redis at %s:%s\n", port, env_or("REDIS_HOST", "redis"),
           env_or("REDIS_PORT", "6379"));
    fflush(stdout);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            fprintf(stderr, "kv: accept: %s\n", strerror(errno));
            return 1;
        }
        serve(fd);
        shutdown(fd, SHUT_WR);
        close(fd);
    }
}
