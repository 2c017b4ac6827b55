#include "CLineScan.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

long CLineScan_next_line_start(const unsigned char *bytes, long count, long from, const unsigned char *wanted) {
    if (from >= count) return count;
    if (wanted[bytes[from]]) return from;
    long i = from;
#if defined(__SSE2__)
    const __m128i nl = _mm_set1_epi8('\n');
    while (i + 16 <= count) {
        unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(bytes + i)), nl));
        while (mask) {
            long start = i + __builtin_ctz(mask) + 1;
            if (start >= count) return count;
            if (wanted[bytes[start]]) return start;
            mask &= mask - 1;
        }
        i += 16;
    }
#endif
    for (; i < count; i++) {
        if (bytes[i] != '\n') continue;
        long start = i + 1;
        if (start >= count) return count;
        if (wanted[bytes[start]]) return start;
    }
    return count;
}
