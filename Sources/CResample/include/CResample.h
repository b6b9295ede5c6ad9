#ifndef CRESAMPLE_H
#define CRESAMPLE_H

// Separable resampling kernels for 8-bit interleaved pixels (1-4 channels).
//
// Swift computes the filter coefficients; these functions only run the two
// passes. Every path (portable, AVX2, AVX-512) does the same integer
// arithmetic in int32, so they produce byte-identical output and callers may
// pick any path the CPU supports.

#include <stddef.h>
#include <stdint.h>

#include "CKernelChoice.h"

// The path argument of every function below is a KC_PATH_* from CKernelChoice
// (kc_fastest_path() or a slower one, for tests and benchmarks).
enum {
    RS_PATH_PORTABLE = KC_PATH_PORTABLE,
    RS_PATH_AVX2 = KC_PATH_AVX2,
    RS_PATH_AVX512 = KC_PATH_AVX512,
};

/// Fixed-point coefficients of one axis. Output i reads `count[i]` inputs
/// from `start[i]`, with weights `weights[i * stride ..]` that sum to
/// exactly 1 << bits.
typedef struct {
    int32_t out_size;
    int32_t stride;
    int32_t bits;
    const int32_t *start;
    const int32_t *count;
    const int16_t *weights;
    /// Weights rearranged by rs_pack_horizontal_weights for a SIMD path's
    /// horizontal pass (NULL for the portable path and the vertical pass).
    const int32_t *packed;
} rs_fixed_coeffs;

/// Number of int32 slots rs_pack_horizontal_weights writes (0 when the path
/// reads the plain weights).
size_t rs_packed_weights_count(const rs_fixed_coeffs *k, int path, int channels);
/// Lays the weights out the way the SIMD horizontal kernels load them, so
/// the inner loop spends no shuffles on weights.
void rs_pack_horizontal_weights(const rs_fixed_coeffs *k, int path, int channels, int32_t *packed);

/// Number of taps the given path wants `count` padded to for the horizontal
/// pass (the coefficient builder pads with zero weights and shifts `start`
/// left at the right edge so no load leaves the row).
int rs_horizontal_tap_multiple(int path, int channels);

/// Horizontal pass over `rows` rows. `src_tail` is how many bytes may be read
/// past the end of the last source row (the RGB SIMD loads read 4 bytes
/// beyond the last pixel they use).
void rs_horizontal_u8(const rs_fixed_coeffs *k,
                      const uint8_t *src, ptrdiff_t src_stride, size_t src_tail,
                      uint8_t *dst, ptrdiff_t dst_stride,
                      int rows, int channels, int path);

/// Vertical pass for output rows [out_begin, out_end). `src` points at input
/// row `src_first_row`; `dst` at output row `out_begin`.
void rs_vertical_u8(const rs_fixed_coeffs *k, int out_begin, int out_end,
                    const uint8_t *src, int src_first_row, ptrdiff_t src_stride,
                    uint8_t *dst, ptrdiff_t dst_stride, size_t row_bytes, int path);

/// Premultiplies colour by alpha (last channel), rounding exactly: round(c * a / 255).
void rs_premultiply_u8(const uint8_t *src, uint8_t *dst, size_t pixels, int channels, int path);
/// Undoes premultiplication in place: colour becomes min(255, round(c * 255 / a))
/// through a 16-bit fixed-point reciprocal, 0 where alpha is 0. Every path
/// (RGBA has AVX2 / AVX-512 kernels) gives the same bytes.
void rs_unpremultiply_u8(uint8_t *pixels, size_t count, int channels, int path);

/// Float coefficients for the linear-light mode (normalised, sum 1).
typedef struct {
    int32_t out_size;
    int32_t stride;
    const int32_t *start;
    const int32_t *count;
    const float *weights;
} rs_float_coeffs;

void rs_horizontal_f32(const rs_float_coeffs *k,
                       const float *src, ptrdiff_t src_stride,
                       float *dst, ptrdiff_t dst_stride, int rows, int channels);
/// One output row of the vertical pass (strides in floats).
void rs_vertical_f32(const rs_float_coeffs *k, int out_row,
                     const float *src, int src_first_row, ptrdiff_t src_stride,
                     float *dst, size_t row_floats);
/// sRGB bytes to linear floats through `lut` (256 entries); alpha becomes
/// a / 255 and colour is premultiplied by it.
void rs_to_linear_f32(const uint8_t *src, float *dst, size_t pixels, int channels, const float *lut);
/// Linear premultiplied floats back to sRGB bytes through `lut`, indexed by
/// round(clamp(v, 0, 1) * 65535).
void rs_from_linear_f32(const float *src, uint8_t *dst, size_t pixels, int channels, const uint8_t *lut);

#endif
