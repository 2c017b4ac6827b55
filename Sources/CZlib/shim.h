#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H
#include <zlib.h>

/* deflateInit and inflateInit are macros in zlib.h; Swift cannot call macros. */
static inline int CZlib_deflateInit(z_streamp stream, int level) {
    return deflateInit(stream, level);
}

static inline int CZlib_inflateInit(z_streamp stream) {
    return inflateInit(stream);
}
/* windowBits 15+32: zlib or gzip, detected from the header; -15: raw deflate. */
static inline int CZlib_inflateInit2(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}
#endif
