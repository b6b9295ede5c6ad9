// Portable kernels. Plain C: the reference every SIMD path must match byte
// for byte; geometry_dispatch.c chooses between them.

#include "geo_internal.h"
#include <math.h>

void geo_reverse_portable(const uint8_t *src, size_t n, uint8_t *dst, int c) {
    // One loop per size so each pixel moves as one fixed-size copy.
    switch (c) {
    case 1: geo_reverse_tail(src, n, dst, 0, 1); break;
    case 2: geo_reverse_tail(src, n, dst, 0, 2); break;
    case 3: geo_reverse_tail(src, n, dst, 0, 3); break;
    default: geo_reverse_tail(src, n, dst, 0, 4); break;
    }
}

#define GEO_PORTABLE_TILE(name, size)                                              \
    static void name(const uint8_t *const *rows, uint8_t *const *outs) {           \
        for (int j = 0; j < GEO_TILE; j++)                                         \
            for (int i = 0; i < GEO_TILE; i++)                                     \
                memcpy(outs[j] + i * (size), rows[i] + j * (size), (size));        \
    }
GEO_PORTABLE_TILE(tile_portable_1, 1)
GEO_PORTABLE_TILE(tile_portable_2, 2)
GEO_PORTABLE_TILE(tile_portable_3, 3)
GEO_PORTABLE_TILE(tile_portable_4, 4)

void geo_orient_portable(const uint8_t *src, int w, int h, int c, int exif, uint8_t *dst, int row_begin,
                         int row_end) {
    if (exif <= 4) {
        geo_flip_rows(src, w, h, c, exif, dst, row_begin, row_end, geo_reverse_portable);
        return;
    }
    switch (c) {
    case 1: geo_transpose_rows(src, w, h, 1, exif, dst, row_begin, row_end, tile_portable_1); break;
    case 2: geo_transpose_rows(src, w, h, 2, exif, dst, row_begin, row_end, tile_portable_2); break;
    case 3: geo_transpose_rows(src, w, h, 3, exif, dst, row_begin, row_end, tile_portable_3); break;
    default: geo_transpose_rows(src, w, h, 4, exif, dst, row_begin, row_end, tile_portable_4); break;
    }
}

// ---------------------------------------------------------------- bicubic

void geo_bicubic_table(int16_t *table) {
    const double a = -0.5;
    for (int k = 0; k < GEO_SUBPIXELS; k++) {
        const double t = (double)k / GEO_SUBPIXELS;
        // Catmull-Rom at distances 1 + t, t, 1 - t, 2 - t from the taps.
        const double d[4] = {1 + t, t, 1 - t, 2 - t};
        int32_t q[4], sum = 0, largest = 0;
        for (int i = 0; i < 4; i++) {
            const double x = d[i];
            const double v = x <= 1 ? ((a + 2) * x - (a + 3)) * x * x + 1
                                    : ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
            q[i] = (int32_t)lround(v * (1 << GEO_WEIGHT_BITS));
            sum += q[i];
            if (q[i] > q[largest]) largest = i;
        }
        // Exact unity gain, so flat areas (and the background) come out unchanged.
        q[largest] += (1 << GEO_WEIGHT_BITS) - sum;
        for (int i = 0; i < 4; i++) table[k * 4 + i] = (int16_t)q[i];
    }
}

static void pixel_portable(const uint8_t *const *rows, int c, const int16_t *wx, const int16_t *wy, uint8_t *out,
                           int last_in_row) {
    (void)last_in_row;
    geo_bicubic_pixel_scalar(rows, c, wx, wy, out);
}

void geo_warp_portable(const uint8_t *src, int w, int h, int c, uint8_t *dst, int ow, int row_begin, int row_end,
                       const geo_affine *m, const int16_t *table, const uint8_t *bg) {
    geo_warp_rows(src, w, h, c, dst, ow, row_begin, row_end, m, table, bg, pixel_portable, 4 * c);
}
