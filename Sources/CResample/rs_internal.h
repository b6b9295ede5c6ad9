#ifndef RS_INTERNAL_H
#define RS_INTERNAL_H

#include "CResample.h"

#if defined(__x86_64__)
void rs_horizontal_avx2(const rs_fixed_coeffs *k, const uint8_t *src, ptrdiff_t src_stride,
                        uint8_t *dst, ptrdiff_t dst_stride, int rows, int channels);
void rs_vertical_avx2(const rs_fixed_coeffs *k, int out_begin, int out_end,
                      const uint8_t *src, int src_first_row, ptrdiff_t src_stride,
                      uint8_t *dst, ptrdiff_t dst_stride, size_t row_bytes);
void rs_horizontal_avx512(const rs_fixed_coeffs *k, const uint8_t *src, ptrdiff_t src_stride,
                          uint8_t *dst, ptrdiff_t dst_stride, int rows, int channels);
void rs_vertical_avx512(const rs_fixed_coeffs *k, int out_begin, int out_end,
                        const uint8_t *src, int src_first_row, ptrdiff_t src_stride,
                        uint8_t *dst, ptrdiff_t dst_stride, size_t row_bytes);
void rs_premultiply_rgba_avx2(const uint8_t *src, uint8_t *dst, size_t pixels);
void rs_premultiply_rgba_avx512(const uint8_t *src, uint8_t *dst, size_t pixels);
void rs_unpremultiply_rgba_avx2(uint8_t *px, size_t pixels, const uint32_t *factor);
void rs_unpremultiply_rgba_avx512(uint8_t *px, size_t pixels, const uint32_t *factor);
#endif

/// factor[a] = round(255 * 2^16 / a) (factor[0] = 0): the multiplier every
/// unpremultiply path uses, so all of them round identically.
void rs_unpremultiply_factors(uint32_t factor[256]);
/// The scalar unpremultiply (any channel count), also the SIMD paths' tail.
void rs_unpremultiply_portable(uint8_t *px, size_t count, int channels, const uint32_t *factor);

/// The scalar tail shared by every path, so tails round exactly like the vectors.
static inline uint8_t rs_clamp_shift(int32_t acc, int bits) {
    int32_t v = acc >> bits;
    return (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
}

/// One output row of the portable vertical pass.
void rs_vertical_portable_row(const rs_fixed_coeffs *k, int y, const uint8_t *src, int src_first_row,
                              ptrdiff_t src_stride, uint8_t *dst, size_t row_bytes);
void rs_premultiply_portable(const uint8_t *src, uint8_t *dst, size_t pixels, int channels);
void rs_vertical_portable_range(const rs_fixed_coeffs *k, int y, const uint8_t *src, int src_first_row,
                                ptrdiff_t src_stride, uint8_t *dst, size_t from, size_t to);
void rs_horizontal_portable(const rs_fixed_coeffs *k, const uint8_t *src, ptrdiff_t src_stride,
                            uint8_t *dst, ptrdiff_t dst_stride, int rows, int channels);

#endif
