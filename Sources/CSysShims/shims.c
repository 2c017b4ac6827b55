#define _GNU_SOURCE
#include <errno.h>
#include <unistd.h>
#include "CSysShims.h"

int CSysShims_syncfs(int fd) {
#if defined(__linux__)
    return syncfs(fd);
#else
    return fsync(fd);
#endif
}

long CSysShims_read_full(int fd, void *buf, unsigned long count) {
    unsigned long filled = 0;
    while (filled < count) {
        ssize_t n = read(fd, (char *)buf + filled, count - filled);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) break;
        filled += (unsigned long)n;
    }
    return (long)filled;
}
