#ifndef CSYSSHIMS_H
#define CSYSSHIMS_H

/* Linux calls that Glibc's Swift module does not expose (they need _GNU_SOURCE). */
int CSysShims_syncfs(int fd);

/* Reads up to `count` bytes into `buf`, retrying on EINTR and short reads, stopping early only at
   end of file. Returns the bytes read, or -1 with errno set (bytes already read are lost). */
long CSysShims_read_full(int fd, void *buf, unsigned long count);

#endif
