// Chooses the kernel for each call from the path Swift resolved (KC_PATH_*).
// The SIMD file only calls into the shared inline code, never back here.

#include "geo_internal.h"

void geo_orient_u8(const uint8_t *src, int w, int h, int c, int exif, uint8_t *dst, int row_begin, int row_end,
                   int path) {
    if (row_begin >= row_end || w <= 0 || h <= 0) return;
    if (exif < 2 || exif > 8) {
        const size_t rb = (size_t)w * c;
        memcpy(dst + row_begin * rb, src + row_begin * rb, (size_t)(row_end - row_begin) * rb);
        return;
    }
#if defined(__x86_64__)
    // AVX-512 (vpermb reversal, masked tails) measured slower than AVX2 on
    // these memory-bound moves, so that path runs the AVX2 kernels.
    if (path == GEO_PATH_AVX2 || path == GEO_PATH_AVX512) {
        geo_orient_avx2(src, w, h, c, exif, dst, row_begin, row_end);
        return;
    }
#endif
    (void)path;
    geo_orient_portable(src, w, h, c, exif, dst, row_begin, row_end);
}

/// Pixels per block of the in-place half turn: both ends' blocks (2 x 4 KB
/// for RGBA) stay in L1 while they are swapped.
#define GEO_SWAP_BLOCK 1024

void geo_half_turn_in_place_u8(uint8_t *px, size_t n, int c, size_t begin, size_t end, int path) {
    if (end > n / 2) end = n / 2;
    geo_reverse_fn reverse = geo_reverse_portable;
#if defined(__x86_64__)
    // The same reversal kernel the out-of-place half turn uses on this path.
    if (path == GEO_PATH_AVX2 || path == GEO_PATH_AVX512) reverse = geo_reverse_avx2;
#endif
    (void)path;
    uint8_t front[GEO_SWAP_BLOCK * 4], back[GEO_SWAP_BLOCK * 4];
    for (size_t i = begin; i < end; i += GEO_SWAP_BLOCK) {
        const size_t len = end - i < GEO_SWAP_BLOCK ? end - i : GEO_SWAP_BLOCK;
        // Pixels [i, i + len) and their mirrors [n - i - len, n - i): disjoint, since i + len <= n / 2.
        uint8_t *f = px + i * c, *b = px + (n - i - len) * c;
        memcpy(front, f, len * c);
        memcpy(back, b, len * c);
        reverse(back, len, f, c);
        reverse(front, len, b, c);
    }
}

void geo_warp_bicubic_u8(const uint8_t *src, int w, int h, int c, uint8_t *dst, int ow, int row_begin, int row_end,
                         const geo_affine *m, const int16_t *table, const uint8_t *bg, int path) {
    if (row_begin >= row_end || ow <= 0) return;
#if defined(__x86_64__)
    if (path == GEO_PATH_AVX2 || path == GEO_PATH_AVX512) {
        geo_warp_avx2(src, w, h, c, dst, ow, row_begin, row_end, m, table, bg);
        return;
    }
#endif
    (void)path;
    geo_warp_portable(src, w, h, c, dst, ow, row_begin, row_end, m, table, bg);
}
