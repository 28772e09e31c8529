/*
 * wasmbox_socket.h - BSD sockets and getaddrinfo for C programs built for
 * wasm32-wasi (clang --target=wasm32-wasi) with wasi-libc, which lacks
 * socket, bind, listen, connect, getaddrinfo and their kin.
 *
 * The functions call WasmEdge's socket extension of
 * wasi_snapshot_preview1, which wasmbox (and WasmEdge) provide. Link with
 * libwasmbox_socket.a (built into build/guest/ by the project's CMake) or
 * compile guest/src/socket.c into the program:
 *
 *   clang-14 --target=wasm32-wasi --sysroot=/usr -I guest/include \
 *       app.c guest/src/socket.c -o app.wasm
 *
 * Addresses use wasi-libc's own constants and layouts (AF_INET is 1,
 * SOCK_STREAM 6, SOL_SOCKET 0x7fffffff): use the names, never numbers.
 * Errors set errno like POSIX; getaddrinfo returns EAI_* codes
 * (gai_strerror names them). Everything wasi-libc already has (send,
 * recv, shutdown, poll, fcntl(O_NONBLOCK), close, inet_pton) works on
 * these sockets.
 *
 * `#include <netdb.h>` works too when guest/include is on the include
 * path: it includes this header.
 */
#ifndef WASMBOX_SOCKET_H
#define WASMBOX_SOCKET_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Socket options wasi-libc does not define (Linux's numbers; SO_TYPE it
 * has). Levels: SOL_SOCKET, and IPPROTO_TCP for TCP_NODELAY. */
#ifndef SO_REUSEADDR
#define SO_REUSEADDR 2
#define SO_ERROR 4
#define SO_DONTROUTE 5
#define SO_BROADCAST 6
#define SO_SNDBUF 7
#define SO_RCVBUF 8
#define SO_KEEPALIVE 9
#define SO_OOBINLINE 10
#define SO_LINGER 13
#define SO_RCVLOWAT 18
#define SO_RCVTIMEO 20
#define SO_SNDTIMEO 21
#define SO_BINDTODEVICE 25
#define SO_ACCEPTCONN 30
#endif
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0x4000
#endif

/* What wasi-libc's <sys/socket.h> leaves out for WASI. */
int socket(int domain, int type, int protocol);
int bind(int fd, const struct sockaddr *addr, socklen_t len);
int listen(int fd, int backlog);
int connect(int fd, const struct sockaddr *addr, socklen_t len);
int getsockname(int fd, struct sockaddr *__restrict addr, socklen_t *__restrict len);
int getpeername(int fd, struct sockaddr *__restrict addr, socklen_t *__restrict len);
int setsockopt(int fd, int level, int name, const void *value, socklen_t len);
ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
               socklen_t tolen);
ssize_t recvfrom(int fd, void *__restrict buf, size_t len, int flags,
                 struct sockaddr *__restrict from, socklen_t *__restrict fromlen);
/* wasi-libc has these three, but without peer addresses or SO_ERROR:
 * this library's versions replace them. */
int accept(int fd, struct sockaddr *__restrict addr, socklen_t *__restrict len);
int accept4(int fd, struct sockaddr *__restrict addr, socklen_t *__restrict len, int flags);
int getsockopt(int fd, int level, int name, void *__restrict value, socklen_t *__restrict len);

/* <netdb.h>, which wasi-libc does not ship. */
struct addrinfo {
    int ai_flags;
    int ai_family;
    int ai_socktype;
    int ai_protocol;
    socklen_t ai_addrlen;
    struct sockaddr *ai_addr;
    char *ai_canonname;
    struct addrinfo *ai_next;
};

#define AI_PASSIVE 0x01
#define AI_CANONNAME 0x02
#define AI_NUMERICHOST 0x04
#define AI_NUMERICSERV 0x08
#define AI_V4MAPPED 0x10
#define AI_ALL 0x20
#define AI_ADDRCONFIG 0x40

#define NI_NUMERICHOST 0x01
#define NI_NUMERICSERV 0x02
#define NI_NOFQDN 0x04
#define NI_NAMEREQD 0x08
#define NI_DGRAM 0x10
#define NI_MAXHOST 1025
#define NI_MAXSERV 32

#define EAI_BADFLAGS -1
#define EAI_NONAME -2
#define EAI_AGAIN -3
#define EAI_FAIL -4
#define EAI_NODATA -5
#define EAI_FAMILY -6
#define EAI_SOCKTYPE -7
#define EAI_SERVICE -8
#define EAI_ADDRFAMILY -9
#define EAI_MEMORY -10
#define EAI_SYSTEM -11
#define EAI_OVERFLOW -12

/* The host answers with at most this many results. */
#define WASMBOX_GAI_MAX 16

int getaddrinfo(const char *__restrict node, const char *__restrict service,
                const struct addrinfo *__restrict hints, struct addrinfo **__restrict res);
void freeaddrinfo(struct addrinfo *res);
const char *gai_strerror(int code);
/* Numeric forms only (NI_NAMEREQD fails with EAI_NONAME). */
int getnameinfo(const struct sockaddr *__restrict addr, socklen_t addrlen, char *__restrict host,
                socklen_t hostlen, char *__restrict serv, socklen_t servlen, int flags);

#ifdef __cplusplus
}
#endif
#endif /* WASMBOX_SOCKET_H */
