#ifndef CGEOMETRY_H
#define CGEOMETRY_H

// Geometric pixel moves for 8-bit interleaved pixels (1-4 channels): the
// eight EXIF orientations (exact moves) and rotation by any angle with
// Catmull-Rom bicubic interpolation.
//
// Every function computes a range of output rows, so callers can split the
// output into stripes over threads; any split gives the same bytes. Every
// path does the same integer arithmetic or the same moves, so they give
// byte-identical output and callers may pick any path the CPU supports.
// GEO_PATH_AVX512 currently runs the AVX2 kernels: an AVX-512 reversal
// (vpermb, masked tails) measured slower on these memory-bound moves.

#include <stddef.h>
#include <stdint.h>

#include "CKernelChoice.h"

// The path argument is a KC_PATH_* from CKernelChoice.
enum {
    GEO_PATH_PORTABLE = KC_PATH_PORTABLE,
    GEO_PATH_AVX2 = KC_PATH_AVX2,
    GEO_PATH_AVX512 = KC_PATH_AVX512,
};

/// Writes output rows [row_begin, row_end) of `src` (width x height, tightly
/// packed) turned upright for EXIF orientation `exif` (2...8; anything else
/// copies). Orientations 5...8 swap width and height; `dst` is the whole
/// output buffer.
void geo_orient_u8(const uint8_t *src, int width, int height, int channels, int exif,
                   uint8_t *dst, int row_begin, int row_end, int path);

/// A half turn (EXIF orientation 3) in place: `px` holds `pixels` pixels of
/// `channels` bytes (a whole tightly packed image is one run), and pixel i
/// swaps with pixel pixels - 1 - i for every i in [begin, end), end <= pixels / 2
/// (an odd run's middle pixel stays where it is). No second image-sized
/// buffer, so no fresh pages to fault in and zero; disjoint [begin, end)
/// ranges may run on different threads. Gives the bytes geo_orient_u8(exif 3) does.
void geo_half_turn_in_place_u8(uint8_t *px, size_t pixels, int channels, size_t begin, size_t end, int path);

/// Sub-pixel positions per pixel in the bicubic weight table.
#define GEO_SUBPIXELS 1024
/// Fractional bits of the table's weights (each row of 4 sums to exactly 1 << 14).
#define GEO_WEIGHT_BITS 14

/// Fills `table` (GEO_SUBPIXELS x 4 int16) with Catmull-Rom (a = -0.5)
/// weights for taps -1, 0, +1, +2 at offsets k / GEO_SUBPIXELS.
void geo_bicubic_table(int16_t *table);

/// An inverse mapping from output pixels to source positions, in 32.32 fixed
/// point: output pixel (x, y) samples the source at
/// `origin + x * step_x + y * step_y` (pixel units, integer positions at
/// pixel centres).
typedef struct {
    int64_t origin_x, origin_y;
    int64_t step_x_x, step_x_y;   // change of the source x per output x / per output y
    int64_t step_y_x, step_y_y;   // change of the source y per output x / per output y
} geo_affine;

/// Output rows [row_begin, row_end) of a bicubic warp. Taps outside the
/// source read `background` (`channels` bytes; pass the premultiplied
/// transparent pixel 0... for layouts with alpha, whose source must already
/// be premultiplied). `table` comes from geo_bicubic_table.
void geo_warp_bicubic_u8(const uint8_t *src, int width, int height, int channels,
                         uint8_t *dst, int out_width, int row_begin, int row_end,
                         const geo_affine *map, const int16_t *table,
                         const uint8_t *background, int path);

#endif
