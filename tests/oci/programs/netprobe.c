/*
 * netprobe.c - the network guest of the OCI tests (wasm32-wasi, with the
 * guest socket library). argv[1] picks what it does; each prints one line
 * saying where it is about to block, then blocks there:
 *   accept PORT        binds 0.0.0.0:PORT, listens, "accepting", accept()
 *   recv HOST PORT     connects, "receiving", recv() (the peer says nothing)
 *   connect HOST PORT  "connecting", a blocking connect()
 *   resolve NAME       "resolving", getaddrinfo(); then one address a line
 *   hold PORT          listens on 0.0.0.0:PORT with a backlog of 0 and
 *                      never accepts ("holding"): once one connection
 *                      waits in its queue, further connects hang
 * A failure prints "VERB: strerror" (or gai_strerror) and exits 1.
 */
#include <errno.h>
#include <time.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(const char *verb) {
    printf("%s: %s\n", verb, strerror(errno));
    return 1;
}

static void say(const char *what) {
    printf("%s\n", what);
    fflush(stdout);
}

/* A connected or unconnected TCP socket for HOST:PORT (numeric host). */
static int tcp_to(const char *host, const char *port, struct sockaddr_storage *ss,
                  socklen_t *len) {
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        printf("getaddrinfo: %s\n", gai_strerror(gai));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    freeaddrinfo(res);
    return fd;
}

int main(int argc, char **argv) {
    const char *verb = argc > 1 ? argv[1] : "";
    struct sockaddr_storage ss;
    socklen_t len;
    if (strcmp(verb, "accept") == 0 && argc == 3) {
        int fd = tcp_to("0.0.0.0", argv[2], &ss, &len);
        if (fd < 0) return fail("socket");
        if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 4) != 0) return fail("bind");
        say("accepting");
        if (accept(fd, NULL, NULL) < 0) return fail("accept");
        say("accepted");
        return 0;
    }
    if (strcmp(verb, "hold") == 0 && argc == 3) {
        int fd = tcp_to("0.0.0.0", argv[2], &ss, &len);
        if (fd < 0) return fail("socket");
        if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 0) != 0) return fail("bind");
        say("holding");
        for (;;) nanosleep(&(struct timespec){3600, 0}, NULL);
    }
    if ((strcmp(verb, "recv") == 0 || strcmp(verb, "connect") == 0) && argc == 4) {
        int fd = tcp_to(argv[2], argv[3], &ss, &len);
        if (fd < 0) return fail("socket");
        if (strcmp(verb, "connect") == 0) say("connecting");
        if (connect(fd, (struct sockaddr *)&ss, len) != 0) return fail("connect");
        if (strcmp(verb, "connect") == 0) {
            say("connected");
            return 0;
        }
        say("receiving");
        char buf[64];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0) return fail("recv");
        printf("received %zd bytes\n", n);
        return 0;
    }
    if (strcmp(verb, "resolve") == 0 && argc == 3) {
        struct addrinfo hints, *res;
        memset(&hints, 0, sizeof hints);
        hints.ai_socktype = SOCK_STREAM;
        say("resolving");
        int gai = getaddrinfo(argv[2], NULL, &hints, &res);
        if (gai != 0) {
            printf("resolve %s: %s\n", argv[2], gai_strerror(gai));
            return 1;
        }
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
            char host[64];
            getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, NULL, 0, NI_NUMERICHOST);
            printf("%s\n", host);
        }
        freeaddrinfo(res);
        return 0;
    }
    fprintf(stderr, "usage: netprobe accept PORT | recv HOST PORT | connect HOST PORT | resolve NAME | "
                    "hold PORT\n");
    return 2;
}
