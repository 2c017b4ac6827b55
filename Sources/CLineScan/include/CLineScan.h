#ifndef CLINESCAN_H
#define CLINESCAN_H

/* The first line start at or after `from` whose first byte is marked in `wanted` (256 entries,
   non-zero = wanted), or `count` when there is none. A line start is index 0 or an index just
   after a '\n'; `from` must be one. Used by the body fingerprint to find the lines that may be
   volatile without a call per line (SSE2 where the compiler targets it, bytes otherwise). */
long CLineScan_next_line_start(const unsigned char *bytes, long count, long from, const unsigned char *wanted);

#endif
