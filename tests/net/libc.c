/*
 * libc.c - the guest socket library (guest/include/wasmbox_socket.h) as a
 * C program uses it: socket, bind, listen, connect (blocking and
 * non-blocking with poll and SO_ERROR), accept with the peer's address,
 * getsockname, getpeername, sendto/recvfrom, setsockopt/getsockopt,
 * getaddrinfo/getnameinfo, and errno on failures. Loopback only; run by
 * tests/net/net.sh with --inherit-network. Ends with "N passed, N failed".
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int passed, failed;

static void check(int ok, const char *what) {
    if (ok) {
        passed++;
        printf("ok - %s\n", what);
    } else {
        failed++;
        printf("not ok - %s (errno %d: %s)\n", what, errno, strerror(errno));
    }
}

static unsigned port_of(const struct sockaddr_storage *ss) {
    if (ss->ss_family == AF_INET) return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void tcp(int family, const char *host) {
    char what[128];
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    int gai = getaddrinfo(host, "0", &hints, &res);
    snprintf(what, sizeof what, "getaddrinfo(%s)", host);
    check(gai == 0 && res && res->ai_family == family, what);
    if (gai != 0) return;
    int l = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    int one = 1;
    snprintf(what, sizeof what, "%s: socket, SO_REUSEADDR, bind, listen", host);
    check(l >= 0 && setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
              bind(l, res->ai_addr, res->ai_addrlen) == 0 && listen(l, 8) == 0,
          what);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    snprintf(what, sizeof what, "%s: getsockname gives the port", host);
    check(getsockname(l, (struct sockaddr *)&ss, &len) == 0 && port_of(&ss) > 0 &&
              ss.ss_family == family,
          what);
    /* Non-blocking connect: EINPROGRESS, poll for POLLOUT, SO_ERROR 0. */
    int c = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int r = connect(c, (struct sockaddr *)&ss, len);
    snprintf(what, sizeof what, "%s: non-blocking connect: 0 or EINPROGRESS", host);
    check(r == 0 || errno == EINPROGRESS, what);
    struct pollfd p = {c, POLLOUT, 0};
    int err = -1;
    socklen_t elen = sizeof err;
    snprintf(what, sizeof what, "%s: poll says writable, SO_ERROR is 0", host);
    check(poll(&p, 1, 10000) == 1 && (p.revents & POLLOUT) &&
              getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err == 0,
          what);
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int s = accept(l, (struct sockaddr *)&peer, &plen);
    struct sockaddr_storage cl;
    socklen_t cllen = sizeof cl;
    getsockname(c, (struct sockaddr *)&cl, &cllen);
    snprintf(what, sizeof what, "%s: accept gives the client's address", host);
    check(s >= 0 && peer.ss_family == family && port_of(&peer) == port_of(&cl), what);
    char hbuf[64], sbuf[16];
    snprintf(what, sizeof what, "%s: getnameinfo of the peer", host);
    check(getnameinfo((struct sockaddr *)&peer, plen, hbuf, sizeof hbuf, sbuf, sizeof sbuf,
                      NI_NUMERICHOST | NI_NUMERICSERV) == 0 &&
              strcmp(hbuf, host) == 0,
          what);
    struct sockaddr_storage pp;
    socklen_t pplen = sizeof pp;
    snprintf(what, sizeof what, "%s: getpeername of the client is the listener", host);
    check(getpeername(c, (struct sockaddr *)&pp, &pplen) == 0 && port_of(&pp) == port_of(&ss),
          what);
    char buf[32] = {0};
    snprintf(what, sizeof what, "%s: send and recv", host);
    check(send(s, "hello", 5, 0) == 5 && poll(&(struct pollfd){c, POLLIN, 0}, 1, 10000) == 1 &&
              recv(c, buf, sizeof buf, 0) == 5 && memcmp(buf, "hello", 5) == 0,
          what);
    int type = 0;
    socklen_t tlen = sizeof type;
    snprintf(what, sizeof what, "%s: getsockopt SO_TYPE is SOCK_STREAM", host);
    check(getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 && type == SOCK_STREAM, what);
    close(s);
    close(c);
    /* A refused connect, blocking: ECONNREFUSED. */
    close(l);
    c = socket(family, SOCK_STREAM, 0);
    snprintf(what, sizeof what, "%s: blocking connect to a closed port: ECONNREFUSED", host);
    check(connect(c, (struct sockaddr *)&ss, len) == -1 && errno == ECONNREFUSED, what);
    close(c);
    freeaddrinfo(res);
}

static void udp(void) {
    int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in lo;
    memset(&lo, 0, sizeof lo);
    lo.sin_family = AF_INET;
    lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    check(bind(a, (struct sockaddr *)&lo, sizeof lo) == 0 &&
              bind(b, (struct sockaddr *)&lo, sizeof lo) == 0,
          "udp: bind two sockets");
    struct sockaddr_in an, bn;
    socklen_t al = sizeof an, bl = sizeof bn;
    getsockname(a, (struct sockaddr *)&an, &al);
    getsockname(b, (struct sockaddr *)&bn, &bl);
    check(sendto(a, "dgram", 5, 0, (struct sockaddr *)&bn, bl) == 5, "udp: sendto");
    char buf[16];
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(b, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    check(n == 5 && memcmp(buf, "dgram", 5) == 0 && from.sin_port == an.sin_port &&
              from.sin_addr.s_addr == htonl(INADDR_LOOPBACK) && fl == sizeof from,
          "udp: recvfrom gives the data and the sender");
    /* Reply to the sender's address as received. */
    check(sendto(b, "back", 4, 0, (struct sockaddr *)&from, fl) == 4 &&
              recv(a, buf, sizeof buf, 0) == 4 && memcmp(buf, "back", 4) == 0,
          "udp: a reply to the address recvfrom gave arrives");
    close(a);
    close(b);
}

static void errors(void) {
    errno = 0;
    check(socket(AF_UNIX, SOCK_STREAM, 0) == -1 && errno == EAFNOSUPPORT,
          "socket(AF_UNIX): EAFNOSUPPORT");
    check(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP) == -1 && errno == EPROTONOSUPPORT,
          "socket(stream, UDP): EPROTONOSUPPORT");
    check(listen(12345, 1) == -1 && errno == EBADF, "listen on a bad descriptor: EBADF");
    check(setsockopt(1, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int)) == -1 &&
              errno == ENOTSOCK,
          "setsockopt on stdout: ENOTSOCK");
    struct addrinfo *res;
    check(getaddrinfo("127.0.0.1", "no-such-service", NULL, &res) == EAI_SERVICE,
          "getaddrinfo of an unknown service: EAI_SERVICE");
    check(strlen(gai_strerror(EAI_NONAME)) > 0, "gai_strerror names the error");
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_flags = AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    check(getaddrinfo(NULL, "8080", &hints, &res) == 0 && res->ai_family == AF_INET &&
              ((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr == 0 &&
              ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port) == 8080,
          "getaddrinfo(NULL, 8080, AI_PASSIVE): 0.0.0.0:8080 first");
    freeaddrinfo(res);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    tcp(AF_INET, "127.0.0.1");
    tcp(AF_INET6, "::1");
    udp();
    errors();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
