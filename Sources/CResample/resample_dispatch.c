// Chooses the kernel for each call: the path Swift resolved (KC_PATH_*) picks
// the AVX-512, AVX2 or portable routine. The SIMD files only ever call into
// the portable file (for tails), never back here.

#include "rs_internal.h"

int rs_horizontal_tap_multiple(int path, int channels) {
    switch (path) {
    case RS_PATH_AVX2: return channels >= 3 ? 4 : 8;
    case RS_PATH_AVX512: return 8;
    default: return 1;
    }
}

void rs_horizontal_u8(const rs_fixed_coeffs *k, const uint8_t *src, ptrdiff_t ss, size_t src_tail,
                      uint8_t *dst, ptrdiff_t ds, int rows, int channels, int path) {
    if (rows <= 0) return;
#if defined(__x86_64__)
    if (path == RS_PATH_AVX2 || path == RS_PATH_AVX512) {
        // RGB loads take 16 bytes for 12 used: the last row of a buffer without
        // slack goes through the portable code, which gives the same bytes.
        int simd_rows = (channels == 3 && src_tail < 16) ? rows - 1 : rows;
        if (path == RS_PATH_AVX512)
            rs_horizontal_avx512(k, src, ss, dst, ds, simd_rows, channels);
        else
            rs_horizontal_avx2(k, src, ss, dst, ds, simd_rows, channels);
        if (simd_rows < rows)
            rs_horizontal_portable(k, src + simd_rows * ss, ss, dst + simd_rows * ds, ds, 1, channels);
        return;
    }
#else
    (void)src_tail;
    (void)path;
#endif
    rs_horizontal_portable(k, src, ss, dst, ds, rows, channels);
}

void rs_vertical_u8(const rs_fixed_coeffs *k, int out_begin, int out_end,
                    const uint8_t *src, int src_first_row, ptrdiff_t ss,
                    uint8_t *dst, ptrdiff_t ds, size_t row_bytes, int path) {
#if defined(__x86_64__)
    if (path == RS_PATH_AVX512) {
        rs_vertical_avx512(k, out_begin, out_end, src, src_first_row, ss, dst, ds, row_bytes);
        return;
    }
    if (path == RS_PATH_AVX2) {
        rs_vertical_avx2(k, out_begin, out_end, src, src_first_row, ss, dst, ds, row_bytes);
        return;
    }
#else
    (void)path;
#endif
    for (int y = out_begin; y < out_end; y++)
        rs_vertical_portable_row(k, y, src, src_first_row, ss, dst + (ptrdiff_t)(y - out_begin) * ds, row_bytes);
}

// Pairs of taps the SIMD kernels multiply together, as one int32 (low tap in
// the low half), the operand layout of pmaddwd / vpdpwssd.
static int32_t tap_pair(const int16_t *w, int i) {
    return (int32_t)((uint32_t)(uint16_t)w[i] | (uint32_t)(uint16_t)w[i + 1] << 16);
}

// Group = taps one SIMD step consumes; slots = int32 weight slots per group.
static void packed_shape(int path, int channels, int *group, int *slots) {
    *group = 0;
    *slots = 0;
    if (path == RS_PATH_AVX2 && channels >= 3) { *group = 4; *slots = 8; }
    else if (path == RS_PATH_AVX2 && channels == 2) { *group = 8; *slots = 8; }
    else if (path == RS_PATH_AVX512 && channels >= 3) { *group = 8; *slots = 16; }
    else if (path == RS_PATH_AVX512 && channels == 2) { *group = 8; *slots = 8; }
}

size_t rs_packed_weights_count(const rs_fixed_coeffs *k, int path, int channels) {
    int group, slots;
    packed_shape(path, channels, &group, &slots);
    if (group == 0) return 0;
    return (size_t)k->out_size * (size_t)(k->stride / group) * (size_t)slots;
}

void rs_pack_horizontal_weights(const rs_fixed_coeffs *k, int path, int channels, int32_t *packed) {
    int group, slots;
    packed_shape(path, channels, &group, &slots);
    if (group == 0) return;
    const int groups = k->stride / group;
    for (int x = 0; x < k->out_size; x++) {
        const int16_t *w = k->weights + (ptrdiff_t)x * k->stride;
        for (int g = 0; g < groups; g++) {
            int32_t *d = packed + ((ptrdiff_t)x * groups + g) * slots;
            const int16_t *t = w + g * group;
            if (group == 4) {
                // 128-bit lanes: (w0,w1) x4 | (w2,w3) x4.
                for (int i = 0; i < 4; i++) { d[i] = tap_pair(t, 0); d[4 + i] = tap_pair(t, 2); }
            } else if (slots == 8) {
                // Two channels: (w0,w1) (w0,w1) (w2,w3) (w2,w3) | (w4,w5) ... (w6,w7).
                for (int i = 0; i < 4; i++) { d[2 * i] = tap_pair(t, 2 * i); d[2 * i + 1] = tap_pair(t, 2 * i); }
            } else {
                // AVX-512: lane j holds pixels 2j, 2j+1: (w2j, w2j+1) x4.
                for (int j = 0; j < 4; j++)
                    for (int i = 0; i < 4; i++) d[4 * j + i] = tap_pair(t, 2 * j);
            }
        }
    }
}

void rs_premultiply_u8(const uint8_t *src, uint8_t *dst, size_t pixels, int channels, int path) {
#if defined(__x86_64__)
    if (channels == 4 && path == RS_PATH_AVX512) {
        rs_premultiply_rgba_avx512(src, dst, pixels);
        return;
    }
    if (channels == 4 && path == RS_PATH_AVX2) {
        rs_premultiply_rgba_avx2(src, dst, pixels);
        return;
    }
#else
    (void)path;
#endif
    rs_premultiply_portable(src, dst, pixels, channels);
}

void rs_unpremultiply_u8(uint8_t *px, size_t count, int channels, int path) {
    uint32_t factor[256];
    rs_unpremultiply_factors(factor);
#if defined(__x86_64__)
    if (channels == 4 && path == RS_PATH_AVX512) {
        rs_unpremultiply_rgba_avx512(px, count, factor);
        return;
    }
    if (channels == 4 && path == RS_PATH_AVX2) {
        rs_unpremultiply_rgba_avx2(px, count, factor);
        return;
    }
#else
    (void)path;
#endif
    rs_unpremultiply_portable(px, count, channels, factor);
}
