/* netdb.h - wasi-libc ships none; wasmbox_socket.h declares getaddrinfo
 * and its kin. */
#ifndef WASMBOX_GUEST_NETDB_H
#define WASMBOX_GUEST_NETDB_H
#include "wasmbox_socket.h"
#endif
