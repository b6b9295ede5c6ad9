// Differential fuzzer of the PNG readers (built and run by scripts/fuzz-png.sh): each
// input is decoded by libpng alone and by the whole-buffer reader on both kernel paths.
// It aborts when the two kernel paths disagree, when the pixels differ where libpng and
// the reader both decode, or when their verdicts differ, except the one difference kept
// on purpose: a deflate stream zlib refuses and libdeflate inflates (read whole).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "ic_png.h"
static int decode(const uint8_t *data, size_t size, int reader, uint8_t **out, size_t *out_size, int *whole) {
    ic_png_info info; ic_status st;
    ic_png_decoder *d = ic_png_open(data, size, 2048, 1 << 20, 1, &info, &st);
    if (!d) return -1000 - st.code;
    size_t n = (size_t)info.width * info.height * (size_t)info.channels;
    if (n > (64u << 20)) { ic_png_close(d); return -2000; }
    uint8_t *px = malloc(n ? n : 1);
    int r = ic_png_read(d, px, (size_t)info.width * info.channels, reader, 64u << 20, whole, &st);
    ic_png_close(d);
    *out = px; *out_size = n;
    return r;
}
#include <zlib.h>
// Recomputes every chunk's CRC, so mutations reach the inflate, unfilter and expand code
// instead of stopping at a CRC mismatch (both readers then see a file with good CRCs).
static void fix_crcs(uint8_t *d, size_t n) {
    size_t p = 8;
    while (n >= 12 && p <= n - 12) {
        uint32_t len = (uint32_t)d[p] << 24 | (uint32_t)d[p + 1] << 16 | (uint32_t)d[p + 2] << 8 | d[p + 3];
        if (len > n - 12 - p) return;
        uint32_t crc = (uint32_t)crc32(0, d + p + 4, len + 4);
        d[p + 8 + len] = crc >> 24; d[p + 9 + len] = crc >> 16; d[p + 10 + len] = crc >> 8; d[p + 11 + len] = crc;
        p += 12 + (size_t)len;
    }
}
int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
    uint8_t *data = malloc(size ? size : 1);
    memcpy(data, input, size);
    if (size > 0 && (input[0] & 1)) fix_crcs(data, size); // half the inputs keep their CRCs as they are
    uint8_t *a = NULL, *b = NULL, *c = NULL; size_t na = 0, nb = 0, nc = 0; int wa, wb, wc;
    int ra = decode(data, size, IC_PNG_READER_LIBPNG, &a, &na, &wa);
    int rb = decode(data, size, IC_PNG_READER_WHOLE_BUFFER_SIMD, &b, &nb, &wb);
    int rc = decode(data, size, IC_PNG_READER_WHOLE_BUFFER_SCALAR, &c, &nc, &wc);
    // The two whole-buffer kernels always agree; libpng and the whole-buffer reader agree except
    // where libdeflate accepts a stream zlib refuses (read whole, Adler-32 checked).
    if (rb != rc || wb != wc) { fprintf(stderr, "kernels differ: simd %d scalar %d\n", rb, rc); abort(); }
    if (rb == 0 && memcmp(b, c, nb)) { fprintf(stderr, "kernel pixels differ\n"); abort(); }
    if (ra != rb && !(ra != 0 && rb == 0 && wb)) { fprintf(stderr, "verdicts differ: libpng %d whole %d (read whole %d)\n", ra, rb, wb); abort(); }
    if (ra == 0 && (na != nb || memcmp(a, b, na))) { fprintf(stderr, "pixels differ\n"); abort(); }
    free(a); free(b); free(c); free(data);
    return 0;
}
