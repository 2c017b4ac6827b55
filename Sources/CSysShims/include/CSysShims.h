#ifndef CSYSSHIMS_H
#define CSYSSHIMS_H

/* Linux calls that Glibc's Swift module does not expose (they need _GNU_SOURCE). */
int CSysShims_syncfs(int fd);

#endif
