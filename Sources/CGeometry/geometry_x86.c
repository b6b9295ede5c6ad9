// x86-64 SIMD kernels, compiled for their instruction set through function
// attributes (the package has no unsafe compiler flags) and entered only
// when kc_cpu_features() (CKernelChoice) says the CPU has them. Every kernel moves or
// computes exactly the bytes the portable code does.

#include "geo_internal.h"

#if defined(__x86_64__)

#include <immintrin.h>

#define GEO_AVX2 __attribute__((target("avx2")))

// ---------------------------------------------------------------- AVX2 reversal

// dst pixel i = src pixel n - 1 - i. Whole registers of pixels are loaded
// from the end of the run, reversed in the register and stored at the front.
GEO_AVX2 void geo_reverse_avx2(const uint8_t *src, size_t n, uint8_t *dst, int c) {
    size_t i = 0;
    if (c == 3) {
        // 5 pixels per 16-byte register. The load starts one byte early so
        // it stays inside the run, and the 16th stored byte is garbage that
        // the next store (or the tail) overwrites.
        const __m128i rev = _mm_setr_epi8(13, 14, 15, 10, 11, 12, 7, 8, 9, 4, 5, 6, 1, 2, 3, -1);
        for (; i + 11 <= n; i += 10) {
            const __m128i a = _mm_loadu_si128((const __m128i *)(src + (n - 5 - i) * 3 - 1));
            const __m128i b = _mm_loadu_si128((const __m128i *)(src + (n - 10 - i) * 3 - 1));
            _mm_storeu_si128((__m128i *)(dst + i * 3), _mm_shuffle_epi8(a, rev));
            _mm_storeu_si128((__m128i *)(dst + (i + 5) * 3), _mm_shuffle_epi8(b, rev));
        }
        geo_reverse_tail(src, n, dst, i, 3);
        return;
    }
    // 32 bytes: reverse the pixels inside each 128-bit lane, then swap the lanes.
    __m256i rev;
    if (c == 1)
        rev = _mm256_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
                               15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    else if (c == 2)
        rev = _mm256_setr_epi8(14, 15, 12, 13, 10, 11, 8, 9, 6, 7, 4, 5, 2, 3, 0, 1,
                               14, 15, 12, 13, 10, 11, 8, 9, 6, 7, 4, 5, 2, 3, 0, 1);
    else
        rev = _mm256_setr_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3,
                               12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    const size_t per = 32 / (size_t)c;
    for (; i + 2 * per <= n; i += 2 * per) {
        const __m256i a = _mm256_loadu_si256((const __m256i *)(src + (n - per - i) * c));
        const __m256i b = _mm256_loadu_si256((const __m256i *)(src + (n - 2 * per - i) * c));
        _mm256_storeu_si256((__m256i *)(dst + i * c), _mm256_permute4x64_epi64(_mm256_shuffle_epi8(a, rev), 0x4E));
        _mm256_storeu_si256((__m256i *)(dst + (i + per) * c),
                            _mm256_permute4x64_epi64(_mm256_shuffle_epi8(b, rev), 0x4E));
    }
    geo_reverse_tail(src, n, dst, i, c);
}

// ---------------------------------------------------------------- AVX2 8x8 tiles

// 8x8 transpose of 32-bit elements held one row per register.
static GEO_AVX2 inline void transpose8x32(__m256i r[8]) {
    const __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
    const __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
    const __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
    const __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
    const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
    const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
    const __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
    const __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
    r[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
    r[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
    r[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
    r[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
    r[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
    r[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
    r[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
    r[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

static GEO_AVX2 void tile_avx2_4(const uint8_t *const *rows, uint8_t *const *outs) {
    __m256i r[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_si256((const __m256i *)rows[i]);
    transpose8x32(r);
    for (int j = 0; j < 8; j++) _mm256_storeu_si256((__m256i *)outs[j], r[j]);
}

// RGB pixels are widened to 4 bytes inside the registers, transposed as
// 32-bit elements and narrowed back; loads and stores touch exactly the 24
// bytes of each 8-pixel row.
static GEO_AVX2 void tile_avx2_3(const uint8_t *const *rows, uint8_t *const *outs) {
    const __m256i widen = _mm256_setr_epi8(0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1,
                                           4, 5, 6, -1, 7, 8, 9, -1, 10, 11, 12, -1, 13, 14, 15, -1);
    const __m256i narrow = _mm256_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1,
                                            0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
    const __m256i pack = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
    __m256i r[8];
    for (int i = 0; i < 8; i++) {
        // Lane 0: bytes 0..15 (pixels 0-3 at 0..11); lane 1: bytes 8..23 (pixels 4-7 at 4..15).
        const __m256i v = _mm256_loadu2_m128i((const __m128i *)(rows[i] + 8), (const __m128i *)rows[i]);
        r[i] = _mm256_shuffle_epi8(v, widen);
    }
    transpose8x32(r);
    for (int j = 0; j < 8; j++) {
        const __m256i v = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(r[j], narrow), pack);
        _mm_storeu_si128((__m128i *)outs[j], _mm256_castsi256_si128(v));
        _mm_storel_epi64((__m128i *)(outs[j] + 16), _mm256_extracti128_si256(v, 1));
    }
}

static GEO_AVX2 void tile_avx2_2(const uint8_t *const *rows, uint8_t *const *outs) {
    __m128i r[8];
    for (int i = 0; i < 8; i++) r[i] = _mm_loadu_si128((const __m128i *)rows[i]);
    const __m128i a0 = _mm_unpacklo_epi16(r[0], r[1]), a1 = _mm_unpackhi_epi16(r[0], r[1]);
    const __m128i a2 = _mm_unpacklo_epi16(r[2], r[3]), a3 = _mm_unpackhi_epi16(r[2], r[3]);
    const __m128i a4 = _mm_unpacklo_epi16(r[4], r[5]), a5 = _mm_unpackhi_epi16(r[4], r[5]);
    const __m128i a6 = _mm_unpacklo_epi16(r[6], r[7]), a7 = _mm_unpackhi_epi16(r[6], r[7]);
    const __m128i b0 = _mm_unpacklo_epi32(a0, a2), b1 = _mm_unpackhi_epi32(a0, a2);
    const __m128i b2 = _mm_unpacklo_epi32(a1, a3), b3 = _mm_unpackhi_epi32(a1, a3);
    const __m128i b4 = _mm_unpacklo_epi32(a4, a6), b5 = _mm_unpackhi_epi32(a4, a6);
    const __m128i b6 = _mm_unpacklo_epi32(a5, a7), b7 = _mm_unpackhi_epi32(a5, a7);
    _mm_storeu_si128((__m128i *)outs[0], _mm_unpacklo_epi64(b0, b4));
    _mm_storeu_si128((__m128i *)outs[1], _mm_unpackhi_epi64(b0, b4));
    _mm_storeu_si128((__m128i *)outs[2], _mm_unpacklo_epi64(b1, b5));
    _mm_storeu_si128((__m128i *)outs[3], _mm_unpackhi_epi64(b1, b5));
    _mm_storeu_si128((__m128i *)outs[4], _mm_unpacklo_epi64(b2, b6));
    _mm_storeu_si128((__m128i *)outs[5], _mm_unpackhi_epi64(b2, b6));
    _mm_storeu_si128((__m128i *)outs[6], _mm_unpacklo_epi64(b3, b7));
    _mm_storeu_si128((__m128i *)outs[7], _mm_unpackhi_epi64(b3, b7));
}

static GEO_AVX2 void tile_avx2_1(const uint8_t *const *rows, uint8_t *const *outs) {
    __m128i r[8];
    for (int i = 0; i < 8; i++) r[i] = _mm_loadl_epi64((const __m128i *)rows[i]);
    const __m128i a0 = _mm_unpacklo_epi8(r[0], r[1]), a1 = _mm_unpacklo_epi8(r[2], r[3]);
    const __m128i a2 = _mm_unpacklo_epi8(r[4], r[5]), a3 = _mm_unpacklo_epi8(r[6], r[7]);
    const __m128i b0 = _mm_unpacklo_epi16(a0, a1), b1 = _mm_unpackhi_epi16(a0, a1);
    const __m128i b2 = _mm_unpacklo_epi16(a2, a3), b3 = _mm_unpackhi_epi16(a2, a3);
    const __m128i c0 = _mm_unpacklo_epi32(b0, b2), c1 = _mm_unpackhi_epi32(b0, b2);
    const __m128i c2 = _mm_unpacklo_epi32(b1, b3), c3 = _mm_unpackhi_epi32(b1, b3);
    _mm_storel_epi64((__m128i *)outs[0], c0);
    _mm_storeh_pd((double *)outs[1], _mm_castsi128_pd(c0));
    _mm_storel_epi64((__m128i *)outs[2], c1);
    _mm_storeh_pd((double *)outs[3], _mm_castsi128_pd(c1));
    _mm_storel_epi64((__m128i *)outs[4], c2);
    _mm_storeh_pd((double *)outs[5], _mm_castsi128_pd(c2));
    _mm_storel_epi64((__m128i *)outs[6], c3);
    _mm_storeh_pd((double *)outs[7], _mm_castsi128_pd(c3));
}

static GEO_AVX2 void transpose_avx2(const uint8_t *src, int w, int h, int c, int exif, uint8_t *dst,
                                    int row_begin, int row_end) {
    switch (c) {
    case 1: geo_transpose_rows(src, w, h, 1, exif, dst, row_begin, row_end, tile_avx2_1); break;
    case 2: geo_transpose_rows(src, w, h, 2, exif, dst, row_begin, row_end, tile_avx2_2); break;
    case 3: geo_transpose_rows(src, w, h, 3, exif, dst, row_begin, row_end, tile_avx2_3); break;
    default: geo_transpose_rows(src, w, h, 4, exif, dst, row_begin, row_end, tile_avx2_4); break;
    }
}

GEO_AVX2 void geo_orient_avx2(const uint8_t *src, int w, int h, int c, int exif, uint8_t *dst, int row_begin,
                              int row_end) {
    if (exif <= 4)
        geo_flip_rows(src, w, h, c, exif, dst, row_begin, row_end, geo_reverse_avx2);
    else
        transpose_avx2(src, w, h, c, exif, dst, row_begin, row_end);
}

// ---------------------------------------------------------------- AVX2 bicubic

// Weight vector for pmaddwd from 4 int16 weights: (w0, w1) in every 32-bit
// slot of the low lane and (w2, w3) in the high lane.
static GEO_AVX2 inline __m256i weight_pairs(const int16_t *w) {
    const __m256i v = _mm256_castsi128_si256(_mm_loadl_epi64((const __m128i *)w));
    return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1));
}

// One output pixel of 3 or 4 channels from four rows of four source pixels
// (each row read as 16 bytes). Same arithmetic as geo_bicubic_pixel_scalar.
static GEO_AVX2 void pixel_avx2(const uint8_t *const *rows, int c, const int16_t *wx, const int16_t *wy,
                                uint8_t *out, int last_in_row) {
    // Zero-extends 4 pixels into int16 pairs per channel: (p0, p1) in the low
    // lane, (p2, p3) in the high lane, matching weight_pairs.
    const __m256i pairs = c == 4
        ? _mm256_setr_epi8(0, -1, 4, -1, 1, -1, 5, -1, 2, -1, 6, -1, 3, -1, 7, -1,
                           8, -1, 12, -1, 9, -1, 13, -1, 10, -1, 14, -1, 11, -1, 15, -1)
        : _mm256_setr_epi8(0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1,
                           6, -1, 9, -1, 7, -1, 10, -1, 8, -1, 11, -1, -1, -1, -1, -1);
    // Interleaves two rows' int16 channel sums into pairs (row a, row b) per channel.
    const __m256i interleave = _mm256_setr_epi8(0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15,
                                                0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15);
    const __m256i wxv = weight_pairs(wx), wyv = weight_pairs(wy);
    __m256i p[4];
    for (int j = 0; j < 4; j++) {
        const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)rows[j]));
        p[j] = _mm256_madd_epi16(_mm256_shuffle_epi8(v, pairs), wxv);
    }
    // Row sums: rows 0 and 2 in one register, rows 1 and 3 in the other.
    __m256i h02 = _mm256_add_epi32(_mm256_permute2x128_si256(p[0], p[2], 0x20), _mm256_permute2x128_si256(p[0], p[2], 0x31));
    __m256i h13 = _mm256_add_epi32(_mm256_permute2x128_si256(p[1], p[3], 0x20), _mm256_permute2x128_si256(p[1], p[3], 0x31));
    const __m256i r8 = _mm256_set1_epi32(128);
    h02 = _mm256_srai_epi32(_mm256_add_epi32(h02, r8), 8);
    h13 = _mm256_srai_epi32(_mm256_add_epi32(h13, r8), 8);
    // Low lane: rows 0, 1; high lane: rows 2, 3 (int16, saturated).
    const __m256i k = _mm256_shuffle_epi8(_mm256_packs_epi32(h02, h13), interleave);
    const __m256i v = _mm256_madd_epi16(k, wyv);
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_srai_epi32(_mm_add_epi32(s, _mm_set1_epi32(1 << 19)), 20);
    s = _mm_packs_epi32(s, s);
    const int32_t bytes = _mm_cvtsi128_si32(_mm_packus_epi16(s, s));
    if (c == 4 || !last_in_row) {
        memcpy(out, &bytes, 4);   // for RGB the 4th byte is the next pixel's, written next
    } else {
        memcpy(out, &bytes, 3);
    }
}

// One gray output pixel: the 16 taps fit one register as int16, so the
// horizontal sums of all four rows take one pmaddwd and one hadd.
static GEO_AVX2 void pixel_avx2_gray(const uint8_t *const *rows, int c, const int16_t *wx, const int16_t *wy,
                                     uint8_t *out, int last_in_row) {
    (void)c;
    (void)last_in_row;
    int32_t t[4];
    for (int j = 0; j < 4; j++) memcpy(&t[j], rows[j], 4);
    // Lane 0: rows 0, 1; lane 1: rows 2, 3.
    const __m256i taps = _mm256_cvtepu8_epi16(_mm_setr_epi32(t[0], t[1], t[2], t[3]));
    const __m256i wxv = _mm256_set1_epi64x((int64_t)_mm_cvtsi128_si64(_mm_loadl_epi64((const __m128i *)wx)));
    const __m256i halves = _mm256_madd_epi16(taps, wxv);   // per row: taps 0-1, taps 2-3
    __m256i h = _mm256_hadd_epi32(halves, halves);          // lane 0: rows 0, 1; lane 1: rows 2, 3
    h = _mm256_srai_epi32(_mm256_add_epi32(h, _mm256_set1_epi32(128)), 8);
    const __m256i v = _mm256_madd_epi16(_mm256_packs_epi32(h, h), weight_pairs(wy));
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_srai_epi32(_mm_add_epi32(s, _mm_set1_epi32(1 << 19)), 20);
    s = _mm_packus_epi16(_mm_packs_epi32(s, s), s);
    *out = (uint8_t)_mm_cvtsi128_si32(s);
}

static void pixel_scalar(const uint8_t *const *rows, int c, const int16_t *wx, const int16_t *wy, uint8_t *out,
                         int last_in_row) {
    (void)last_in_row;
    geo_bicubic_pixel_scalar(rows, c, wx, wy, out);
}

GEO_AVX2 void geo_warp_avx2(const uint8_t *src, int w, int h, int c, uint8_t *dst, int ow, int row_begin,
                            int row_end, const geo_affine *m, const int16_t *table, const uint8_t *bg) {
    switch (c) {
    case 4: geo_warp_rows(src, w, h, 4, dst, ow, row_begin, row_end, m, table, bg, pixel_avx2, 16); break;
    case 3: geo_warp_rows(src, w, h, 3, dst, ow, row_begin, row_end, m, table, bg, pixel_avx2, 16); break;
    // Gray+alpha: 32 taps do not fit one register's pairing; scalar, same arithmetic.
    case 2: geo_warp_rows(src, w, h, 2, dst, ow, row_begin, row_end, m, table, bg, pixel_scalar, 8); break;
    default: geo_warp_rows(src, w, h, 1, dst, ow, row_begin, row_end, m, table, bg, pixel_avx2_gray, 4); break;
    }
}

#endif
