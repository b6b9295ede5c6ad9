#ifndef GEO_INTERNAL_H
#define GEO_INTERNAL_H

#include "CGeometry.h"
#include <string.h>

#define GEO_INLINE static inline __attribute__((always_inline))

// ---------------------------------------------------------------- orientation

/// Copies one pixel of `c` bytes; the constant sizes let the compiler emit
/// a single move when `c` is known.
GEO_INLINE void geo_copy_pixel(uint8_t *d, const uint8_t *s, int c) {
    switch (c) {
    case 1: *d = *s; break;
    case 2: memcpy(d, s, 2); break;
    case 3: memcpy(d, s, 3); break;
    default: memcpy(d, s, 4); break;
    }
}

/// dst pixel i = src pixel n - 1 - i, for i in [from, n). The scalar tail
/// every path shares.
GEO_INLINE void geo_reverse_tail(const uint8_t *src, size_t n, uint8_t *dst, size_t from, int c) {
    for (size_t i = from; i < n; i++) geo_copy_pixel(dst + i * c, src + (n - 1 - i) * c, c);
}

/// Moves one 8x8 block as a transpose: `rows[i]` points at 8 consecutive
/// source pixels, and source pixel j of row i goes to pixel i of `outs[j]`.
typedef void (*geo_tile_fn)(const uint8_t *const *rows, uint8_t *const *outs);

/// Output rows per band of the blocked transposes: one band's slice of the
/// source (8 rows x band pixels) and of the output (band rows x 8 pixels)
/// both stay in L1 while the band walks across the output.
#define GEO_BAND 64
#define GEO_TILE 8

/// Orientations 5...8, where output rows are source columns. Output (x, y)
/// reads source (sx(y), sy(x)) with sx(y) = y or w - 1 - y and
/// sy(x) = x or h - 1 - x. Full 8x8 tiles go to `tile`; partial tiles at the
/// edges move pixel by pixel.
GEO_INLINE void geo_transpose_rows(const uint8_t *src, int w, int h, int c, int exif, uint8_t *dst,
                                   int row_begin, int row_end, geo_tile_fn tile) {
    const int ow = h;
    const size_t srb = (size_t)w * c, drb = (size_t)ow * c;
    const int mirror_x = exif == 7 || exif == 8;   // sx = w - 1 - y
    const int mirror_y = exif == 6 || exif == 7;   // sy = h - 1 - x
    for (int band = row_begin; band < row_end; band += GEO_BAND) {
        const int band_end = band + GEO_BAND < row_end ? band + GEO_BAND : row_end;
        for (int x0 = 0; x0 < ow; x0 += GEO_TILE) {
            const int xn = ow - x0 < GEO_TILE ? ow - x0 : GEO_TILE;
            for (int y0 = band; y0 < band_end; y0 += GEO_TILE) {
                const int yn = band_end - y0 < GEO_TILE ? band_end - y0 : GEO_TILE;
                if (xn == GEO_TILE && yn == GEO_TILE) {
                    // The tile's source columns [c0, c0 + 8), in either direction.
                    const int c0 = mirror_x ? w - 1 - (y0 + 7) : y0;
                    const uint8_t *rows[GEO_TILE];
                    uint8_t *outs[GEO_TILE];
                    for (int i = 0; i < GEO_TILE; i++) {
                        const int sy = mirror_y ? h - 1 - (x0 + i) : x0 + i;
                        rows[i] = src + (size_t)sy * srb + (size_t)c0 * c;
                        const int y = mirror_x ? y0 + 7 - i : y0 + i;   // output row of source column c0 + i
                        outs[i] = dst + (size_t)y * drb + (size_t)x0 * c;
                    }
                    tile(rows, outs);
                } else {
                    for (int y = y0; y < y0 + yn; y++) {
                        const int sx = mirror_x ? w - 1 - y : y;
                        uint8_t *d = dst + (size_t)y * drb;
                        for (int x = x0; x < x0 + xn; x++) {
                            const int sy = mirror_y ? h - 1 - x : x;
                            geo_copy_pixel(d + (size_t)x * c, src + (size_t)sy * srb + (size_t)sx * c, c);
                        }
                    }
                }
            }
        }
    }
}

typedef void (*geo_reverse_fn)(const uint8_t *src, size_t n, uint8_t *dst, int c);

/// Orientations 2...4: output rows are source rows, reversed or not. A half
/// turn reverses the stripe's source rows as one run of pixels.
GEO_INLINE void geo_flip_rows(const uint8_t *src, int w, int h, int c, int exif, uint8_t *dst,
                              int row_begin, int row_end, geo_reverse_fn reverse) {
    const size_t rb = (size_t)w * c;
    switch (exif) {
    case 2:
        for (int y = row_begin; y < row_end; y++) reverse(src + y * rb, (size_t)w, dst + y * rb, c);
        break;
    case 3:
        reverse(src + (size_t)(h - row_end) * rb, (size_t)(row_end - row_begin) * w, dst + row_begin * rb, c);
        break;
    default:
        for (int y = row_begin; y < row_end; y++) memcpy(dst + y * rb, src + (size_t)(h - 1 - y) * rb, rb);
        break;
    }
}

// ---------------------------------------------------------------- bicubic

/// The shared fixed-point arithmetic of one output pixel (every path must
/// compute exactly this): per source row, the horizontal sum rounded to
/// 1/64 of a level and saturated to int16, then the vertical sum, rounded
/// and clamped to a byte.
GEO_INLINE void geo_bicubic_pixel_scalar(const uint8_t *const *r, int c, const int16_t *wx, const int16_t *wy,
                                         uint8_t *out) {
    int32_t acc[4] = {0, 0, 0, 0};
    for (int j = 0; j < 4; j++) {
        for (int k = 0; k < c; k++) {
            int32_t s = 0;
            for (int i = 0; i < 4; i++) s += (int32_t)r[j][i * c + k] * wx[i];
            s = (s + 128) >> 8;
            s = s < -32768 ? -32768 : (s > 32767 ? 32767 : s);
            acc[k] += s * wy[j];
        }
    }
    for (int k = 0; k < c; k++) {
        const int32_t v = (acc[k] + (1 << 19)) >> 20;
        out[k] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
    }
}

/// Bytes the slow path's 4x4 block gives each row: 16 so SIMD loads of a
/// whole row stay inside it.
#define GEO_BLOCK_ROW 16

/// Computes one output pixel from four source row pointers, each at tap -1.
typedef void (*geo_pixel_fn)(const uint8_t *const *rows, int c, const int16_t *wx, const int16_t *wy,
                             uint8_t *out, int last_in_row);

/// Walks output rows: maps every pixel into the source, and runs `pixel`
/// on the source itself (all 16 taps inside), on a block where outside taps
/// are the background (partly outside), or writes the background (all outside).
/// `tail` is how many bytes past the tap -1 pixel `pixel` may read on a row.
GEO_INLINE void geo_warp_rows(const uint8_t *src, int w, int h, int c, uint8_t *dst, int ow, int row_begin,
                              int row_end, const geo_affine *m, const int16_t *table, const uint8_t *bg,
                              geo_pixel_fn pixel, int tail) {
    const size_t srb = (size_t)w * c, total = srb * (size_t)h;
    const int shift = 32 - 10;   // 32.32 fixed point to 1/GEO_SUBPIXELS steps
    const int64_t half = (int64_t)1 << (shift - 1);
    uint8_t block[4 * GEO_BLOCK_ROW];
    for (int y = row_begin; y < row_end; y++) {
        int64_t sx = m->origin_x + (int64_t)y * m->step_x_y;
        int64_t sy = m->origin_y + (int64_t)y * m->step_y_y;
        uint8_t *d = dst + (size_t)y * ow * c;
        for (int x = 0; x < ow; x++, sx += m->step_x_x, sy += m->step_y_x, d += c) {
            const int64_t qx = (sx + half) >> shift, qy = (sy + half) >> shift;
            const int64_t ix = qx >> 10, iy = qy >> 10;
            const int16_t *wx = table + (qx & (GEO_SUBPIXELS - 1)) * 4;
            const int16_t *wy = table + (qy & (GEO_SUBPIXELS - 1)) * 4;
            if (ix >= 1 && ix + 2 < w && iy >= 1 && iy + 2 < h) {
                const uint8_t *p = src + (size_t)(iy - 1) * srb + (size_t)(ix - 1) * c;
                if ((size_t)(p - src) + 3 * srb + (size_t)tail <= total) {
                    const uint8_t *rows[4] = {p, p + srb, p + 2 * srb, p + 3 * srb};
                    pixel(rows, c, wx, wy, d, x == ow - 1);
                    continue;
                }
            }
            if (ix + 2 < 0 || ix - 1 >= w || iy + 2 < 0 || iy - 1 >= h) {
                geo_copy_pixel(d, bg, c);
                continue;
            }
            for (int j = 0; j < 4; j++) {
                const int64_t yy = iy - 1 + j;
                for (int i = 0; i < 4; i++) {
                    const int64_t xx = ix - 1 + i;
                    const uint8_t *s = (xx >= 0 && xx < w && yy >= 0 && yy < h)
                        ? src + (size_t)yy * srb + (size_t)xx * c : bg;
                    geo_copy_pixel(block + j * GEO_BLOCK_ROW + i * c, s, c);
                }
            }
            const uint8_t *rows[4] = {block, block + GEO_BLOCK_ROW, block + 2 * GEO_BLOCK_ROW, block + 3 * GEO_BLOCK_ROW};
            pixel(rows, c, wx, wy, d, x == ow - 1);
        }
    }
}

void geo_reverse_portable(const uint8_t *src, size_t n, uint8_t *dst, int c);
void geo_orient_portable(const uint8_t *src, int w, int h, int c, int exif, uint8_t *dst, int row_begin, int row_end);
void geo_warp_portable(const uint8_t *src, int w, int h, int c, uint8_t *dst, int ow, int row_begin, int row_end,
                       const geo_affine *m, const int16_t *table, const uint8_t *bg);

#if defined(__x86_64__)
void geo_reverse_avx2(const uint8_t *src, size_t n, uint8_t *dst, int c);
void geo_orient_avx2(const uint8_t *src, int w, int h, int c, int exif, uint8_t *dst, int row_begin, int row_end);
void geo_warp_avx2(const uint8_t *src, int w, int h, int c, uint8_t *dst, int ow, int row_begin, int row_end,
                   const geo_affine *m, const int16_t *table, const uint8_t *bg);
#endif

#endif
