/*
 * file.c - reading a module file for the verbs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

/* The engine takes sizes as size_t but nothing larger than this is a
 * plausible module; refusing early avoids a pointless huge allocation. */
#define CLI_MAX_FILE_SIZE ((size_t)1 << 31)

bool cli_read_file(const char *path, uint8_t **data, size_t *len) {
    *data = NULL;
    *len = 0;
    int fd;
    do {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        cli_error("%s: %s", path, strerror(errno));
        return false;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        cli_error("%s: %s", path, strerror(errno));
        close(fd);
        return false;
    }
    if (S_ISDIR(st.st_mode)) {
        cli_error("%s: %s", path, strerror(EISDIR));
        close(fd);
        return false;
    }
    /* Regular files give a size hint; pipes and devices are read until end
     * of file, doubling the buffer. */
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
    if (cap > CLI_MAX_FILE_SIZE) {
        cli_error("%s: file too large", path);
        close(fd);
        return false;
    }
    uint8_t *buf = malloc(cap);
    size_t used = 0;
    if (!buf) {
        cli_error("%s: out of memory", path);
        close(fd);
        return false;
    }
    for (;;) {
        if (used == cap) {
            if (cap >= CLI_MAX_FILE_SIZE) {
                cli_error("%s: file too large", path);
                goto fail;
            }
            uint8_t *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                cli_error("%s: out of memory", path);
                goto fail;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + used, cap - used);
        if (n < 0) {
            if (errno == EINTR) continue;
            cli_error("%s: %s", path, strerror(errno));
            goto fail;
        }
        if (n == 0) break;
        used += (size_t)n;
    }
    close(fd);
    *data = buf;
    *len = used;
    return true;
fail:
    free(buf);
    close(fd);
    return false;
}
