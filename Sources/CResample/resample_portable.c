// Portable kernels: plain C (SSE2 / NEON through the compiler's own
// vectoriser). The reference every SIMD path matches byte for byte, and the
// tails those paths share; resample_dispatch.c chooses between them.

#include "rs_internal.h"
#include <string.h>

// One function per channel count so the compiler keeps the accumulators in
// registers and unrolls the channel loop.
#define RS_H_PORTABLE(C)                                                                    \
    static void h_portable_##C(const rs_fixed_coeffs *k, const uint8_t *src, ptrdiff_t ss,  \
                               uint8_t *dst, ptrdiff_t ds, int rows) {                      \
        const int32_t half = 1 << (k->bits - 1);                                            \
        for (int r = 0; r < rows; r++) {                                                    \
            const uint8_t *row = src + r * ss;                                              \
            uint8_t *out = dst + r * ds;                                                    \
            for (int x = 0; x < k->out_size; x++) {                                         \
                const uint8_t *s = row + (ptrdiff_t)k->start[x] * C;                        \
                const int16_t *w = k->weights + (ptrdiff_t)x * k->stride;                   \
                const int n = k->count[x];                                                  \
                int32_t acc[C];                                                             \
                for (int c = 0; c < C; c++) acc[c] = half;                                  \
                for (int i = 0; i < n; i++)                                                 \
                    for (int c = 0; c < C; c++) acc[c] += (int32_t)w[i] * s[i * C + c];     \
                for (int c = 0; c < C; c++) out[x * C + c] = rs_clamp_shift(acc[c], k->bits); \
            }                                                                               \
        }                                                                                   \
    }
RS_H_PORTABLE(1)
RS_H_PORTABLE(2)
RS_H_PORTABLE(3)
RS_H_PORTABLE(4)

void rs_horizontal_portable(const rs_fixed_coeffs *k, const uint8_t *src, ptrdiff_t ss,
                            uint8_t *dst, ptrdiff_t ds, int rows, int channels) {
    switch (channels) {
    case 1: h_portable_1(k, src, ss, dst, ds, rows); break;
    case 2: h_portable_2(k, src, ss, dst, ds, rows); break;
    case 3: h_portable_3(k, src, ss, dst, ds, rows); break;
    default: h_portable_4(k, src, ss, dst, ds, rows); break;
    }
}

void rs_vertical_portable_range(const rs_fixed_coeffs *k, int y, const uint8_t *src, int src_first_row,
                                ptrdiff_t ss, uint8_t *dst, size_t from, size_t to) {
    const int32_t half = 1 << (k->bits - 1);
    const int16_t *w = k->weights + (ptrdiff_t)y * k->stride;
    const int n = k->count[y];
    const uint8_t *base = src + (ptrdiff_t)(k->start[y] - src_first_row) * ss;
    for (size_t x = from; x < to; x++) {
        int32_t acc = half;
        for (int i = 0; i < n; i++) acc += (int32_t)w[i] * base[i * ss + (ptrdiff_t)x];
        dst[x] = rs_clamp_shift(acc, k->bits);
    }
}

// Row-at-a-time accumulation so the inner loop runs along x (contiguous,
// vectorisable) instead of striding down the column for every byte.
void rs_vertical_portable_row(const rs_fixed_coeffs *k, int y, const uint8_t *src, int src_first_row,
                           ptrdiff_t ss, uint8_t *dst, size_t row_bytes) {
    enum { CHUNK = 512 };
    const int32_t half = 1 << (k->bits - 1);
    const int16_t *w = k->weights + (ptrdiff_t)y * k->stride;
    const int n = k->count[y];
    const uint8_t *base = src + (ptrdiff_t)(k->start[y] - src_first_row) * ss;
    int32_t acc[CHUNK];
    for (size_t x0 = 0; x0 < row_bytes; x0 += CHUNK) {
        size_t len = row_bytes - x0 < CHUNK ? row_bytes - x0 : CHUNK;
        for (size_t x = 0; x < len; x++) acc[x] = half;
        for (int i = 0; i < n; i++) {
            const uint8_t *s = base + i * ss + x0;
            const int32_t wi = w[i];
            for (size_t x = 0; x < len; x++) acc[x] += wi * s[x];
        }
        for (size_t x = 0; x < len; x++) dst[x0 + x] = rs_clamp_shift(acc[x], k->bits);
    }
}

void rs_premultiply_portable(const uint8_t *src, uint8_t *dst, size_t pixels, int channels) {
    const int cc = channels - 1;
    for (size_t p = 0; p < pixels; p++) {
        const uint8_t *s = src + p * channels;
        uint8_t *d = dst + p * channels;
        const uint32_t a = s[cc];
        for (int c = 0; c < cc; c++) {
            // (t + (t >> 8)) >> 8 with t = c*a + 128 is round(c * a / 255) for all 8-bit inputs.
            uint32_t t = s[c] * a + 128;
            d[c] = (uint8_t)((t + (t >> 8)) >> 8);
        }
        d[cc] = (uint8_t)a;
    }
}

// round(255 * 2^16 / a): a multiply instead of a division per sample; the
// error is below 0.004 of a level for every input. factor[255] is exactly
// 1 << 16, so opaque pixels come back unchanged on every path.
void rs_unpremultiply_factors(uint32_t factor[256]) {
    factor[0] = 0;
    for (uint32_t a = 1; a < 256; a++) factor[a] = (255u * 65536u + a / 2) / a;
}

void rs_unpremultiply_portable(uint8_t *px, size_t count, int channels, const uint32_t *factor) {
    const int cc = channels - 1;
    for (size_t p = 0; p < count; p++) {
        uint8_t *d = px + p * channels;
        const uint32_t a = d[cc];
        if (a == 255) continue;
        const uint32_t f = factor[a];
        for (int c = 0; c < cc; c++) {
            uint32_t v = (d[c] * f + 32768) >> 16;
            d[c] = (uint8_t)(v > 255 ? 255 : v);
        }
    }
}

// ---- linear light (float) ----

void rs_horizontal_f32(const rs_float_coeffs *k, const float *src, ptrdiff_t ss,
                       float *dst, ptrdiff_t ds, int rows, int channels) {
    for (int r = 0; r < rows; r++) {
        const float *row = src + r * ss;
        float *out = dst + r * ds;
        for (int x = 0; x < k->out_size; x++) {
            const float *s = row + (ptrdiff_t)k->start[x] * channels;
            const float *w = k->weights + (ptrdiff_t)x * k->stride;
            const int n = k->count[x];
            float acc[4] = {0, 0, 0, 0};
            for (int i = 0; i < n; i++)
                for (int c = 0; c < channels; c++) acc[c] += w[i] * s[i * channels + c];
            for (int c = 0; c < channels; c++) out[x * channels + c] = acc[c];
        }
    }
}

void rs_vertical_f32(const rs_float_coeffs *k, int y, const float *src, int src_first_row,
                     ptrdiff_t ss, float *dst, size_t row_floats) {
    const float *w = k->weights + (ptrdiff_t)y * k->stride;
    const int n = k->count[y];
    const float *base = src + (ptrdiff_t)(k->start[y] - src_first_row) * ss;
    for (size_t x = 0; x < row_floats; x++) dst[x] = 0;
    for (int i = 0; i < n; i++) {
        const float *s = base + i * ss;
        const float wi = w[i];
        for (size_t x = 0; x < row_floats; x++) dst[x] += wi * s[x];
    }
}

void rs_to_linear_f32(const uint8_t *src, float *dst, size_t pixels, int channels, const float *lut) {
    const int alpha = channels == 2 || channels == 4;
    const int cc = alpha ? channels - 1 : channels;
    for (size_t p = 0; p < pixels; p++) {
        const uint8_t *s = src + p * channels;
        float *d = dst + p * channels;
        const float a = alpha ? s[cc] * (1.0f / 255.0f) : 1.0f;
        for (int c = 0; c < cc; c++) d[c] = lut[s[c]] * a;
        if (alpha) d[cc] = a;
    }
}

static uint8_t from_linear(float v, const uint8_t *lut) {
    if (!(v > 0.0f)) return lut[0];
    if (v >= 1.0f) return lut[65535];
    return lut[(int32_t)(v * 65535.0f + 0.5f)];
}

void rs_from_linear_f32(const float *src, uint8_t *dst, size_t pixels, int channels, const uint8_t *lut) {
    const int alpha = channels == 2 || channels == 4;
    const int cc = alpha ? channels - 1 : channels;
    for (size_t p = 0; p < pixels; p++) {
        const float *s = src + p * channels;
        uint8_t *d = dst + p * channels;
        if (!alpha) {
            for (int c = 0; c < cc; c++) d[c] = from_linear(s[c], lut);
            continue;
        }
        float a = s[cc];
        a = a < 0.0f ? 0.0f : (a > 1.0f ? 1.0f : a);
        const int32_t a8 = (int32_t)(a * 255.0f + 0.5f);
        d[cc] = (uint8_t)a8;
        if (a8 == 0) {
            for (int c = 0; c < cc; c++) d[c] = 0;
            continue;
        }
        const float inv = 1.0f / a;
        for (int c = 0; c < cc; c++) d[c] = from_linear(s[c] * inv, lut);
    }
}
