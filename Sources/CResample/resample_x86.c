// x86-64 SIMD kernels, compiled for their instruction set through function
// attributes (the package has no unsafe compiler flags) and entered only
// after kc_cpu_features() (CKernelChoice) said the CPU has it.
//
// Both passes multiply zero-extended 8-bit samples by int16 weights with
// pmaddwd (two taps per int32 lane), so every accumulator holds exactly the
// sum the portable code computes.

#include "rs_internal.h"

#if defined(__x86_64__)

#include <immintrin.h>
#include <string.h>

#define RS_AVX2 __attribute__((target("avx2")))
#define RS_AVX512 __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi")))

// ---------------------------------------------------------------- AVX2

// Sums the two 128-bit halves (4 int32 channel sums), rounds, shifts and
// saturates to bytes; returns the 4 bytes.
static RS_AVX2 inline int32_t finish_pixel(__m256i acc, __m128i half, __m128i shift) {
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    t = _mm_sra_epi32(_mm_add_epi32(t, half), shift);
    t = _mm_packs_epi32(t, t);
    return _mm_cvtsi128_si32(_mm_packus_epi16(t, t));
}

// RGB pixels are stored as 4 bytes whose last byte the next pixel
// overwrites; only the row's last pixel must not spill.
static inline void store_pixel(uint8_t *d, int32_t v, int channels, int last) {
    if (channels == 4 || !last) {
        memcpy(d, &v, 4);
    } else {
        const uint16_t lo = (uint16_t)v;
        memcpy(d, &lo, 2);
        d[2] = (uint8_t)(v >> 16);
    }
}

// Shuffles that turn 4 pixels (RGBX or RGB) into int16 pairs
// (p0.c, p1.c) in the low lane and (p2.c, p3.c) in the high lane, the order
// pmaddwd wants for weights (w0, w1) | (w2, w3).
static RS_AVX2 __m256i pair_mask(int channels) {
    if (channels == 4)
        return _mm256_setr_epi8(0, -1, 4, -1, 1, -1, 5, -1, 2, -1, 6, -1, 3, -1, 7, -1,
                                8, -1, 12, -1, 9, -1, 13, -1, 10, -1, 14, -1, 11, -1, 15, -1);
    return _mm256_setr_epi8(0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1,
                            6, -1, 9, -1, 7, -1, 10, -1, 8, -1, 11, -1, -1, -1, -1, -1);
}

#define RS_ROW_BATCH 4

// Finishes four rows' accumulators at once: each holds one pixel's channel
// sums split over two lanes. Cross-lane adds put row r's totals in one lane,
// so the rounding, shift and both packs run once for all four.
static RS_AVX2 inline void finish_rows4(__m256i a0, __m256i a1, __m256i a2, __m256i a3, __m256i half, __m128i shift,
                                        uint8_t *d, ptrdiff_t ds, int channels, int last) {
    __m256i t01 = _mm256_add_epi32(_mm256_permute2x128_si256(a0, a1, 0x20), _mm256_permute2x128_si256(a0, a1, 0x31));
    __m256i t23 = _mm256_add_epi32(_mm256_permute2x128_si256(a2, a3, 0x20), _mm256_permute2x128_si256(a2, a3, 0x31));
    t01 = _mm256_sra_epi32(_mm256_add_epi32(t01, half), shift);
    t23 = _mm256_sra_epi32(_mm256_add_epi32(t23, half), shift);
    __m256i p = _mm256_packs_epi32(t01, t23);   // lane 0: rows 0, 2; lane 1: rows 1, 3
    p = _mm256_packus_epi16(p, p);
    int32_t v[8];
    _mm256_storeu_si256((__m256i *)v, p);
    store_pixel(d, v[0], channels, last);
    store_pixel(d + ds, v[4], channels, last);
    store_pixel(d + 2 * ds, v[1], channels, last);
    store_pixel(d + 3 * ds, v[5], channels, last);
}

static RS_AVX2 void h_avx2_rgb(const rs_fixed_coeffs *k, const uint8_t *src, ptrdiff_t ss,
                               uint8_t *dst, ptrdiff_t ds, int rows, int channels) {
    const __m256i mask = pair_mask(channels);
    const __m128i half = _mm_set1_epi32(1 << (k->bits - 1));
    const __m256i half8 = _mm256_set1_epi32(1 << (k->bits - 1));
    const __m128i shift = _mm_cvtsi32_si128(k->bits);
    const int C = channels;
    const ptrdiff_t groups = k->stride / 4;
#define RS_TAP4(acc, s)                                                                               \
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_shuffle_epi8(                                  \
                                     _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(s + o))), \
                                     mask), wv))
    int r = 0;
    // Four rows share each weight vector and the window bookkeeping.
    for (; r + RS_ROW_BATCH <= rows; r += RS_ROW_BATCH) {
        const uint8_t *s0 = src + r * ss, *s1 = s0 + ss, *s2 = s1 + ss, *s3 = s2 + ss;
        uint8_t *d0 = dst + r * ds;
        for (int x = 0; x < k->out_size; x++) {
            const ptrdiff_t off = (ptrdiff_t)k->start[x] * C;
            const __m256i *wp = (const __m256i *)(k->packed + x * groups * 8);
            const int n = k->count[x] / 4;
            __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
            for (int g = 0; g < n; g++) {
                const __m256i wv = _mm256_loadu_si256(wp + g);
                const ptrdiff_t o = off + g * 4 * C;
                RS_TAP4(a0, s0);
                RS_TAP4(a1, s1);
                RS_TAP4(a2, s2);
                RS_TAP4(a3, s3);
            }
            finish_rows4(a0, a1, a2, a3, half8, shift, d0 + x * C, ds, C, x == k->out_size - 1);
        }
    }
    for (; r < rows; r++) {
        const uint8_t *s0 = src + r * ss;
        uint8_t *d0 = dst + r * ds;
        for (int x = 0; x < k->out_size; x++) {
            const ptrdiff_t off = (ptrdiff_t)k->start[x] * C;
            const __m256i *wp = (const __m256i *)(k->packed + x * groups * 8);
            const int n = k->count[x] / 4;
            __m256i a0 = _mm256_setzero_si256();
            for (int g = 0; g < n; g++) {
                const __m256i wv = _mm256_loadu_si256(wp + g);
                const ptrdiff_t o = off + g * 4 * C;
                RS_TAP4(a0, s0);
            }
            store_pixel(d0 + x * C, finish_pixel(a0, half, shift), C, x == k->out_size - 1);
        }
    }
#undef RS_TAP4
}

// Gray + alpha: 8 taps per step, (p0,p1 | p2,p3) pairs in the low lane and
// (p4,p5 | p6,p7) in the high lane.
static RS_AVX2 void h_avx2_ga(const rs_fixed_coeffs *k, const uint8_t *src, ptrdiff_t ss,
                              uint8_t *dst, ptrdiff_t ds, int rows) {
    const __m256i mask = _mm256_setr_epi8(0, -1, 2, -1, 1, -1, 3, -1, 4, -1, 6, -1, 5, -1, 7, -1,
                                          8, -1, 10, -1, 9, -1, 11, -1, 12, -1, 14, -1, 13, -1, 15, -1);
    const __m128i half = _mm_set1_epi32(1 << (k->bits - 1));
    const __m128i shift = _mm_cvtsi32_si128(k->bits);
    const ptrdiff_t groups = k->stride / 8;
    for (int r = 0; r < rows; r++) {
        const uint8_t *s = src + r * ss;
        uint8_t *d = dst + r * ds;
        for (int x = 0; x < k->out_size; x++) {
            const uint8_t *p = s + (ptrdiff_t)k->start[x] * 2;
            const __m256i *wp = (const __m256i *)(k->packed + x * groups * 8);
            const int n = k->count[x] / 8;
            __m256i acc = _mm256_setzero_si256();
            for (int g = 0; g < n; g++) {
                const __m256i v = _mm256_shuffle_epi8(
                    _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(p + g * 16))), mask);
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(v, _mm256_loadu_si256(wp + g)));
            }
            __m128i t = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
            t = _mm_add_epi32(t, _mm_srli_si128(t, 8));
            t = _mm_sra_epi32(_mm_add_epi32(t, half), shift);
            t = _mm_packs_epi32(t, t);
            t = _mm_packus_epi16(t, t);
            const uint16_t v = (uint16_t)_mm_cvtsi128_si32(t);
            memcpy(d + x * 2, &v, 2);
        }
    }
}

static RS_AVX2 void h_avx2_gray(const rs_fixed_coeffs *k, const uint8_t *src, ptrdiff_t ss,
                                uint8_t *dst, ptrdiff_t ds, int rows) {
    const __m128i half = _mm_set1_epi32(1 << (k->bits - 1));
    const __m128i shift = _mm_cvtsi32_si128(k->bits);
    for (int r = 0; r < rows; r++) {
        const uint8_t *s = src + r * ss;
        uint8_t *d = dst + r * ds;
        for (int x = 0; x < k->out_size; x++) {
            const uint8_t *p = s + k->start[x];
            const int16_t *w = k->weights + (ptrdiff_t)x * k->stride;
            const int n = k->count[x];
            __m128i acc = _mm_setzero_si128();
            for (int i = 0; i < n; i += 8) {
                const __m128i v = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(p + i)));
                acc = _mm_add_epi32(acc, _mm_madd_epi16(v, _mm_loadu_si128((const __m128i *)(w + i))));
            }
            acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0x4E));
            acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0xB1));
            acc = _mm_sra_epi32(_mm_add_epi32(acc, half), shift);
            acc = _mm_packus_epi16(_mm_packs_epi32(acc, acc), acc);
            d[x] = (uint8_t)_mm_cvtsi128_si32(acc);
        }
    }
}

void rs_horizontal_avx2(const rs_fixed_coeffs *k, const uint8_t *src, ptrdiff_t ss,
                        uint8_t *dst, ptrdiff_t ds, int rows, int channels) {
    if (rows <= 0) return;
    switch (channels) {
    case 1: h_avx2_gray(k, src, ss, dst, ds, rows); break;
    case 2: h_avx2_ga(k, src, ss, dst, ds, rows); break;
    default: h_avx2_rgb(k, src, ss, dst, ds, rows, channels); break;
    }
}

static inline int32_t weight_pair(const int16_t *w, int i, int n) {
    const uint32_t lo = (uint16_t)w[i];
    const uint32_t hi = i + 1 < n ? (uint16_t)w[i + 1] : 0;
    return (int32_t)(lo | hi << 16);
}

// Weight pairs of one output row, prepared once for every 32/64-byte chunk.
#define RS_MAX_PAIRS 1024

// Each output row is a weighted sum of whole input rows, so the vector runs
// along x (32 bytes of any layout) with the two weights of a row pair broadcast.
static RS_AVX2 size_t v_avx2_row(const int32_t *pairs, int n, const uint8_t *base, ptrdiff_t ss, int bits,
                                 uint8_t *dst, size_t from, size_t row_bytes) {
    const __m256i half = _mm256_set1_epi32(1 << (bits - 1));
    const __m128i shift = _mm_cvtsi32_si128(bits);
    const __m256i zero = _mm256_setzero_si256();
    size_t x = from;
    for (; x + 32 <= row_bytes; x += 32) {
        __m256i a0 = half, a1 = half, a2 = half, a3 = half;
        const uint8_t *p = base + x;
        for (int i = 0; i < n; i += 2, p += 2 * ss) {
            const __m256i wv = _mm256_set1_epi32(pairs[i / 2]);
            const __m256i r0 = _mm256_loadu_si256((const __m256i *)p);
            // An odd last tap pairs with a zero row (its weight is zero too).
            const __m256i r1 = i + 1 < n ? _mm256_loadu_si256((const __m256i *)(p + ss)) : zero;
            const __m256i lo = _mm256_unpacklo_epi8(r0, r1), hi = _mm256_unpackhi_epi8(r0, r1);
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_unpacklo_epi8(lo, zero), wv));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_unpackhi_epi8(lo, zero), wv));
            a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(_mm256_unpacklo_epi8(hi, zero), wv));
            a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(_mm256_unpackhi_epi8(hi, zero), wv));
        }
        a0 = _mm256_sra_epi32(a0, shift);
        a1 = _mm256_sra_epi32(a1, shift);
        a2 = _mm256_sra_epi32(a2, shift);
        a3 = _mm256_sra_epi32(a3, shift);
        // The per-lane packs undo the per-lane unpacks: bytes come out in order.
        const __m256i out = _mm256_packus_epi16(_mm256_packs_epi32(a0, a1), _mm256_packs_epi32(a2, a3));
        _mm256_storeu_si256((__m256i *)(dst + x), out);
    }
    return x;
}

static RS_AVX512 size_t v_avx512_row(const int32_t *pairs, int n, const uint8_t *base, ptrdiff_t ss, int bits,
                                     uint8_t *dst, size_t row_bytes) {
    const __m512i half = _mm512_set1_epi32(1 << (bits - 1));
    const __m128i shift = _mm_cvtsi32_si128(bits);
    const __m512i zero = _mm512_setzero_si512();
    size_t x = 0;
    for (; x + 64 <= row_bytes; x += 64) {
        __m512i a0 = half, a1 = half, a2 = half, a3 = half;
        const uint8_t *p = base + x;
        for (int i = 0; i < n; i += 2, p += 2 * ss) {
            const __m512i wv = _mm512_set1_epi32(pairs[i / 2]);
            const __m512i r0 = _mm512_loadu_si512((const void *)p);
            const __m512i r1 = i + 1 < n ? _mm512_loadu_si512((const void *)(p + ss)) : zero;
            const __m512i lo = _mm512_unpacklo_epi8(r0, r1), hi = _mm512_unpackhi_epi8(r0, r1);
            a0 = _mm512_dpwssd_epi32(a0, _mm512_unpacklo_epi8(lo, zero), wv);
            a1 = _mm512_dpwssd_epi32(a1, _mm512_unpackhi_epi8(lo, zero), wv);
            a2 = _mm512_dpwssd_epi32(a2, _mm512_unpacklo_epi8(hi, zero), wv);
            a3 = _mm512_dpwssd_epi32(a3, _mm512_unpackhi_epi8(hi, zero), wv);
        }
        a0 = _mm512_sra_epi32(a0, shift);
        a1 = _mm512_sra_epi32(a1, shift);
        a2 = _mm512_sra_epi32(a2, shift);
        a3 = _mm512_sra_epi32(a3, shift);
        const __m512i out = _mm512_packus_epi16(_mm512_packs_epi32(a0, a1), _mm512_packs_epi32(a2, a3));
        _mm512_storeu_si512((void *)(dst + x), out);
    }
    return x;
}

static void vertical_simd(const rs_fixed_coeffs *k, int out_begin, int out_end,
                          const uint8_t *src, int first, ptrdiff_t ss,
                          uint8_t *dst, ptrdiff_t ds, size_t row_bytes, int wide) {
    int32_t pairs[RS_MAX_PAIRS];
    for (int y = out_begin; y < out_end; y++) {
        uint8_t *d = dst + (ptrdiff_t)(y - out_begin) * ds;
        const int n = k->count[y];
        size_t done = 0;
        if (n <= 2 * RS_MAX_PAIRS) {
            const int16_t *w = k->weights + (ptrdiff_t)y * k->stride;
            for (int i = 0; i < n; i += 2) pairs[i / 2] = weight_pair(w, i, n);
            const uint8_t *base = src + (ptrdiff_t)(k->start[y] - first) * ss;
            if (wide) done = v_avx512_row(pairs, n, base, ss, k->bits, d, row_bytes);
            done = v_avx2_row(pairs, n, base, ss, k->bits, d, done, row_bytes);
        }
        rs_vertical_portable_range(k, y, src, first, ss, d, done, row_bytes);
    }
}

void rs_vertical_avx2(const rs_fixed_coeffs *k, int out_begin, int out_end,
                      const uint8_t *src, int first, ptrdiff_t ss,
                      uint8_t *dst, ptrdiff_t ds, size_t row_bytes) {
    vertical_simd(k, out_begin, out_end, src, first, ss, dst, ds, row_bytes, 0);
}

void rs_vertical_avx512(const rs_fixed_coeffs *k, int out_begin, int out_end,
                        const uint8_t *src, int first, ptrdiff_t ss,
                        uint8_t *dst, ptrdiff_t ds, size_t row_bytes) {
    vertical_simd(k, out_begin, out_end, src, first, ss, dst, ds, row_bytes, 1);
}

// round(c * a / 255) for 8 RGBA pixels at a time, alpha kept.
void RS_AVX2 rs_premultiply_rgba_avx2(const uint8_t *src, uint8_t *dst, size_t pixels) {
    const __m256i alpha = _mm256_setr_epi8(6, 7, 6, 7, 6, 7, 6, 7, 14, 15, 14, 15, 14, 15, 14, 15,
                                           6, 7, 6, 7, 6, 7, 6, 7, 14, 15, 14, 15, 14, 15, 14, 15);
    const __m256i bias = _mm256_set1_epi16(128);
    const __m256i zero = _mm256_setzero_si256();
    size_t p = 0;
    for (; p + 8 <= pixels; p += 8) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(src + p * 4));
        __m256i lo = _mm256_unpacklo_epi8(v, zero), hi = _mm256_unpackhi_epi8(v, zero);
        __m256i tl = _mm256_add_epi16(_mm256_mullo_epi16(lo, _mm256_shuffle_epi8(lo, alpha)), bias);
        __m256i th = _mm256_add_epi16(_mm256_mullo_epi16(hi, _mm256_shuffle_epi8(hi, alpha)), bias);
        tl = _mm256_srli_epi16(_mm256_add_epi16(tl, _mm256_srli_epi16(tl, 8)), 8);
        th = _mm256_srli_epi16(_mm256_add_epi16(th, _mm256_srli_epi16(th, 8)), 8);
        // Put the original alpha back (elements 3 and 7 of each lane).
        tl = _mm256_blend_epi16(tl, lo, 0x88);
        th = _mm256_blend_epi16(th, hi, 0x88);
        _mm256_storeu_si256((__m256i *)(dst + p * 4), _mm256_packus_epi16(tl, th));
    }
    for (; p < pixels; p++) {
        const uint32_t a = src[p * 4 + 3];
        for (int c = 0; c < 3; c++) {
            uint32_t t = src[p * 4 + c] * a + 128;
            dst[p * 4 + c] = (uint8_t)((t + (t >> 8)) >> 8);
        }
        dst[p * 4 + 3] = (uint8_t)a;
    }
}

// Undoes premultiplication of 8 RGBA pixels per step with the scalar path's
// exact arithmetic: each pixel is one int32 lane, its factor gathered by
// alpha, and (c * f + 32768) >> 16 fits uint32 for every c and f, so the
// low half of vpmulld is the whole product. All-opaque groups are skipped.
void RS_AVX2 rs_unpremultiply_rgba_avx2(uint8_t *px, size_t pixels, const uint32_t *factor) {
    const __m256i byte = _mm256_set1_epi32(0xFF);
    const __m256i alpha = _mm256_set1_epi32((int32_t)0xFF000000u);
    const __m256i round = _mm256_set1_epi32(32768);
    size_t p = 0;
    for (; p + 8 <= pixels; p += 8) {
        __m256i *at = (__m256i *)(px + p * 4);
        const __m256i v = _mm256_loadu_si256(at);
        const __m256i a = _mm256_and_si256(v, alpha);
        if (_mm256_movemask_epi8(_mm256_cmpeq_epi32(a, alpha)) == -1) continue;
        const __m256i f = _mm256_i32gather_epi32((const int *)factor, _mm256_srli_epi32(v, 24), 4);
#define RS_UNPREMUL_CHANNEL(shift)                                                                      \
        _mm256_slli_epi32(_mm256_min_epu32(_mm256_srli_epi32(_mm256_add_epi32(_mm256_mullo_epi32(          \
            _mm256_and_si256(_mm256_srli_epi32(v, shift), byte), f), round), 16), byte), shift)
        const __m256i out = _mm256_or_si256(_mm256_or_si256(RS_UNPREMUL_CHANNEL(0), RS_UNPREMUL_CHANNEL(8)),
                                            _mm256_or_si256(RS_UNPREMUL_CHANNEL(16), a));
#undef RS_UNPREMUL_CHANNEL
        _mm256_storeu_si256(at, out);
    }
    rs_unpremultiply_portable(px + p * 4, pixels - p, 4, factor);
}

// ---------------------------------------------------------------- AVX-512

// The AVX2 premultiply at twice the width; (t * 257) >> 16 equals
// (t + (t >> 8)) >> 8 for every t below 65536.
void RS_AVX512 rs_premultiply_rgba_avx512(const uint8_t *src, uint8_t *dst, size_t pixels) {
    const __m512i alpha = _mm512_broadcast_i32x4(_mm_setr_epi8(6, 7, 6, 7, 6, 7, 6, 7, 14, 15, 14, 15, 14, 15, 14, 15));
    const __m512i bias = _mm512_set1_epi16(128);
    const __m512i m257 = _mm512_set1_epi16(257);
    const __m512i zero = _mm512_setzero_si512();
    const __mmask32 alpha_lanes = 0x88888888u;
    size_t p = 0;
    for (; p + 16 <= pixels; p += 16) {
        const __m512i v = _mm512_loadu_si512((const void *)(src + p * 4));
        const __m512i lo = _mm512_unpacklo_epi8(v, zero), hi = _mm512_unpackhi_epi8(v, zero);
        __m512i tl = _mm512_add_epi16(_mm512_mullo_epi16(lo, _mm512_shuffle_epi8(lo, alpha)), bias);
        __m512i th = _mm512_add_epi16(_mm512_mullo_epi16(hi, _mm512_shuffle_epi8(hi, alpha)), bias);
        tl = _mm512_mask_blend_epi16(alpha_lanes, _mm512_mulhi_epu16(tl, m257), lo);
        th = _mm512_mask_blend_epi16(alpha_lanes, _mm512_mulhi_epu16(th, m257), hi);
        _mm512_storeu_si512((void *)(dst + p * 4), _mm512_packus_epi16(tl, th));
    }
    rs_premultiply_rgba_avx2(src + p * 4, dst + p * 4, pixels - p);
}

// The AVX2 unpremultiply at 16 pixels per step.
void RS_AVX512 rs_unpremultiply_rgba_avx512(uint8_t *px, size_t pixels, const uint32_t *factor) {
    const __m512i byte = _mm512_set1_epi32(0xFF);
    const __m512i alpha = _mm512_set1_epi32((int32_t)0xFF000000u);
    const __m512i round = _mm512_set1_epi32(32768);
    size_t p = 0;
    for (; p + 16 <= pixels; p += 16) {
        void *at = px + p * 4;
        const __m512i v = _mm512_loadu_si512(at);
        const __m512i a = _mm512_and_si512(v, alpha);
        if (_mm512_cmpeq_epi32_mask(a, alpha) == 0xFFFF) continue;
        const __m512i f = _mm512_i32gather_epi32(_mm512_srli_epi32(v, 24), (const void *)factor, 4);
#define RS_UNPREMUL_CHANNEL(shift)                                                                      \
        _mm512_slli_epi32(_mm512_min_epu32(_mm512_srli_epi32(_mm512_add_epi32(_mm512_mullo_epi32(          \
            _mm512_and_si512(_mm512_srli_epi32(v, shift), byte), f), round), 16), byte), shift)
        const __m512i out = _mm512_or_si512(_mm512_or_si512(RS_UNPREMUL_CHANNEL(0), RS_UNPREMUL_CHANNEL(8)),
                                            _mm512_or_si512(RS_UNPREMUL_CHANNEL(16), a));
#undef RS_UNPREMUL_CHANNEL
        _mm512_storeu_si512(at, out);
    }
    rs_unpremultiply_rgba_avx2(px + p * 4, pixels - p, factor);
}

// Eight taps per step: one vpermb spreads 8 pixels (RGB or RGBX) into int16
// pairs, lane j holding pixels 2j and 2j+1, and vpdpwssd accumulates them.
// Eight rows at a time keep eight independent accumulator chains in flight.
#define RS_WIDE_BATCH 8

// Eight rows' accumulators (4 lanes of channel sums each) reduced together:
// two rounds of lane shuffles and adds leave row r's totals in one lane.
static RS_AVX512 inline void finish_rows8(const __m512i a[8], __m512i half, __m128i shift,
                                          uint8_t *d, ptrdiff_t ds, int channels, int last) {
    __m512i t[4];
    for (int i = 0; i < 4; i++)
        t[i] = _mm512_add_epi32(_mm512_shuffle_i64x2(a[2 * i], a[2 * i + 1], 0x44),
                                _mm512_shuffle_i64x2(a[2 * i], a[2 * i + 1], 0xEE));
    __m512i lo = _mm512_add_epi32(_mm512_shuffle_i64x2(t[0], t[1], 0x88), _mm512_shuffle_i64x2(t[0], t[1], 0xDD));
    __m512i hi = _mm512_add_epi32(_mm512_shuffle_i64x2(t[2], t[3], 0x88), _mm512_shuffle_i64x2(t[2], t[3], 0xDD));
    lo = _mm512_sra_epi32(_mm512_add_epi32(lo, half), shift);   // lane r: row r
    hi = _mm512_sra_epi32(_mm512_add_epi32(hi, half), shift);   // lane r: row r + 4
    __m512i p = _mm512_packs_epi32(lo, hi);
    p = _mm512_packus_epi16(p, p);
    int32_t v[16];
    _mm512_storeu_si512((void *)v, p);
    for (int r = 0; r < 4; r++) {
        store_pixel(d + r * ds, v[4 * r], channels, last);
        store_pixel(d + (r + 4) * ds, v[4 * r + 1], channels, last);
    }
}

static RS_AVX512 void h_avx512_rgb(const rs_fixed_coeffs *k, const uint8_t *src, ptrdiff_t ss,
                                   uint8_t *dst, ptrdiff_t ds, int rows, int channels) {
    const int C = channels;
    uint8_t index[64];
    uint64_t keep = 0;
    for (int j = 0; j < 4; j++)
        for (int c = 0; c < 4; c++)
            for (int h = 0; h < 2; h++) {
                const int b = j * 16 + c * 4 + h * 2;
                index[b] = (uint8_t)((2 * j + h) * C + (c < C ? c : 0));
                index[b + 1] = 0;
                if (c < C) keep |= 1ull << b;
            }
    const __m512i idx = _mm512_loadu_si512((const void *)index);
    const __mmask64 mask = keep;
    const __m128i half = _mm_set1_epi32(1 << (k->bits - 1));
    const __m512i half16 = _mm512_set1_epi32(1 << (k->bits - 1));
    const __m128i shift = _mm_cvtsi32_si128(k->bits);
    const ptrdiff_t groups = k->stride / 8;
    const ptrdiff_t step = 8 * C;

#define RS_TAP8(acc, s)                                                                                     \
    acc = _mm512_dpwssd_epi32(acc,                                                                           \
                              _mm512_maskz_permutexvar_epi8(mask, idx,                                       \
                                  _mm512_zextsi256_si512(_mm256_loadu_si256((const __m256i *)((s) + o)))), wv)
#define RS_FINISH(acc) \
    finish_pixel(_mm256_add_epi32(_mm512_castsi512_si256(acc), _mm512_extracti64x4_epi64(acc, 1)), half, shift)

    int r = 0;
    for (; r + RS_WIDE_BATCH <= rows; r += RS_WIDE_BATCH) {
        const uint8_t *s0 = src + r * ss;
        uint8_t *d0 = dst + r * ds;
        for (int x = 0; x < k->out_size; x++) {
            const __m512i *wp = (const __m512i *)(k->packed + x * groups * 16);
            const int n = k->count[x] / 8;
            const uint8_t *p = s0 + (ptrdiff_t)k->start[x] * C;
            __m512i a[8];
            for (int i = 0; i < 8; i++) a[i] = _mm512_setzero_si512();
            for (int g = 0; g < n; g++) {
                const __m512i wv = _mm512_loadu_si512((const void *)(wp + g));
                const ptrdiff_t o = g * step;
                RS_TAP8(a[0], p);
                RS_TAP8(a[1], p + ss);
                RS_TAP8(a[2], p + 2 * ss);
                RS_TAP8(a[3], p + 3 * ss);
                RS_TAP8(a[4], p + 4 * ss);
                RS_TAP8(a[5], p + 5 * ss);
                RS_TAP8(a[6], p + 6 * ss);
                RS_TAP8(a[7], p + 7 * ss);
            }
            finish_rows8(a, half16, shift, d0 + x * C, ds, C, x == k->out_size - 1);
        }
    }
    for (; r < rows; r++) {
        const uint8_t *s0 = src + r * ss;
        uint8_t *d0 = dst + r * ds;
        for (int x = 0; x < k->out_size; x++) {
            const __m512i *wp = (const __m512i *)(k->packed + x * groups * 16);
            const int n = k->count[x] / 8;
            const uint8_t *p = s0 + (ptrdiff_t)k->start[x] * C;
            __m512i a0 = _mm512_setzero_si512();
            for (int g = 0; g < n; g++) {
                const __m512i wv = _mm512_loadu_si512((const void *)(wp + g));
                const ptrdiff_t o = g * step;
                RS_TAP8(a0, p);
            }
            store_pixel(d0 + x * C, RS_FINISH(a0), C, x == k->out_size - 1);
        }
    }
#undef RS_TAP8
#undef RS_FINISH
}

void rs_horizontal_avx512(const rs_fixed_coeffs *k, const uint8_t *src, ptrdiff_t ss,
                          uint8_t *dst, ptrdiff_t ds, int rows, int channels) {
    if (rows <= 0) return;
    // One- and two-channel images are rare in the worker; they share the AVX2
    // kernels, whose tap multiple (8) the AVX-512 padding also satisfies.
    switch (channels) {
    case 1: h_avx2_gray(k, src, ss, dst, ds, rows); break;
    case 2: h_avx2_ga(k, src, ss, dst, ds, rows); break;
    default: h_avx512_rgb(k, src, ss, dst, ds, rows, channels); break;
    }
}

#endif
