// The whole-buffer PNG reader (see png_whole_buffer.h for what it accepts and
// why it can only decline). Three steps: walk the chunks from the first IDAT to
// IEND checking everything libpng would refuse, inflate the joined IDAT data in
// one libdeflate call, then undo the row filters into the caller's pixels.

#include "png_whole_buffer.h"

#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { DECLINE = IC_PNG_WHOLE_BUFFER_DECLINED };

static uint32_t read_u32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static int is_chunk_letter(uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// A chunk whose type's first letter is upper case is critical: libpng refuses
// an unknown one, and a CRC mismatch in one.
static int is_critical(const uint8_t *type) { return (type[0] & 0x20) == 0; }

typedef struct {
    const uint8_t *type;
    const uint8_t *body;
    uint32_t length;
} chunk;

// Reads the chunk that starts at `*position`, or returns 0 when it does not fit
// in the file or has a length or type libpng rejects.
static int next_chunk(const uint8_t *data, size_t size, size_t *position, chunk *out) {
    size_t at = *position;
    if (at > size || size - at < 12) return 0;
    uint32_t length = read_u32(data + at);
    if (length > 0x7fffffffu) return 0;
    if (size - at - 12 < length) return 0;
    const uint8_t *type = data + at + 4;
    for (int i = 0; i < 4; i++) {
        if (!is_chunk_letter(type[i])) return 0;
    }
    out->type = type;
    out->body = type + 4;
    out->length = length;
    *position = at + 12 + (size_t)length;
    return 1;
}

static int crc_matches(const chunk *c) {
    uint32_t crc = libdeflate_crc32(0, c->type, 4 + (size_t)c->length);
    return crc == read_u32(c->body + c->length);
}

// The largest IDAT chunk libpng 1.6 accepts for this image without a user
// limit (its png_check_chunk_length): the raw size plus deflate's overhead.
static size_t idat_chunk_limit(uint32_t width, uint32_t height, int stored_channels, int bit_depth) {
    size_t row_factor = (size_t)width * (size_t)stored_channels * (bit_depth > 8 ? 2 : 1) + 1;
    size_t limit;
    if (height > 0xffffffffu / row_factor) return 0x7fffffffu;
    limit = (size_t)height * row_factor;
    if (row_factor > 32566) row_factor = 32566;
    limit += 6 + 5 * (limit / row_factor + 1);
    return limit < 0x7fffffffu ? limit : 0x7fffffffu;
}

// --------------------------------------------------------------- unfiltering
// The scalar reference, byte by byte as the PNG specification writes it.

// p = a + b - c, so |p - a| = |b - c|, |p - b| = |a - c| and |p - c| = |(a - c) + (b - c)|.
// Written as two conditional moves (the specification's ties: a, then b, then c),
// so the compiler keeps the loop free of branches on the data.
static inline uint8_t paeth_predictor(int a, int b, int c) {
    int pa = abs(b - c), pb = abs(a - c), pc = abs(a + b - 2 * c);
    int predictor = a, smallest = pa;
    if (pb < smallest) {
        smallest = pb;
        predictor = b;
    }
    if (pc < smallest) predictor = c;
    return (uint8_t)predictor;
}

static void unfilter_row_scalar(int filter, const uint8_t *raw, const uint8_t *up, uint8_t *out, size_t n, int bpp) {
    size_t i;
    switch (filter) {
    case 0:
        memcpy(out, raw, n);
        break;
    case 1:
        for (i = 0; i < n; i++) out[i] = (uint8_t)(raw[i] + (i >= (size_t)bpp ? out[i - bpp] : 0));
        break;
    case 2:
        for (i = 0; i < n; i++) out[i] = (uint8_t)(raw[i] + up[i]);
        break;
    case 3:
        for (i = 0; i < n; i++) {
            int left = i >= (size_t)bpp ? out[i - bpp] : 0;
            out[i] = (uint8_t)(raw[i] + ((left + up[i]) >> 1));
        }
        break;
    default:
        // The first pixel has no left neighbour: Paeth is then Up.
        for (i = 0; i < (size_t)bpp && i < n; i++) out[i] = (uint8_t)(raw[i] + up[i]);
        for (; i < n; i++) out[i] = (uint8_t)(raw[i] + paeth_predictor(out[i - bpp], up[i], up[i - bpp]));
        break;
    }
}

#if defined(__x86_64__)
// SSSE3 kernels for 3 and 4 bytes a pixel, the layouts of nearly every large
// PNG. Sub, Average and Paeth depend on the pixel to the left, so they go a
// pixel at a time with the channels side by side in 16-bit lanes; Up has no
// such chain and goes 16 bytes at a time. Same integer arithmetic as the
// reference, so the same bytes.

#define IC_SSSE3 __attribute__((target("ssse3")))
#define IC_SSSE3_INLINE __attribute__((target("ssse3"), always_inline)) inline

// Loads and stores move 4 bytes even for 3-byte pixels: a 3-byte copy goes
// through the stack and stalls on store forwarding. Reading one byte past a
// pixel is safe because every row read here is followed by at least one more
// byte (the buffers are padded); the extra lane is never stored except as the
// next pixel's first byte, which that pixel then overwrites. The last pixel of
// a row is stored with exactly its own bytes.
static IC_SSSE3_INLINE __m128i load_pixel(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return _mm_unpacklo_epi8(_mm_cvtsi32_si128((int)v), _mm_setzero_si128());
}

static IC_SSSE3_INLINE void store_pixel(uint8_t *p, __m128i lanes16, int bpp, int last) {
    uint32_t v = (uint32_t)_mm_cvtsi128_si32(_mm_packus_epi16(lanes16, lanes16));
    if (bpp == 4 || !last) memcpy(p, &v, 4);
    else memcpy(p, &v, 3);
}

// Paeth's predictor for each 16-bit lane. p = a + b - c, so |p - a| = |b - c|,
// |p - b| = |a - c| and |p - c| = |(a - c) + (b - c)|; ties prefer a, then b, then c.
static IC_SSSE3_INLINE __m128i paeth_lanes(__m128i a, __m128i b, __m128i c) {
    __m128i b_minus_c = _mm_sub_epi16(b, c);
    __m128i a_minus_c = _mm_sub_epi16(a, c);
    __m128i pa = _mm_abs_epi16(b_minus_c);
    __m128i pb = _mm_abs_epi16(a_minus_c);
    __m128i pc = _mm_abs_epi16(_mm_add_epi16(a_minus_c, b_minus_c));
    __m128i smallest = _mm_min_epi16(pc, _mm_min_epi16(pa, pb));
    __m128i take_b = _mm_cmpeq_epi16(smallest, pb);
    __m128i take_a = _mm_cmpeq_epi16(smallest, pa);
    __m128i predictor = _mm_or_si128(_mm_and_si128(take_b, b), _mm_andnot_si128(take_b, c));
    return _mm_or_si128(_mm_and_si128(take_a, a), _mm_andnot_si128(take_a, predictor));
}

static IC_SSSE3 void unfilter_up_sse(const uint8_t *raw, const uint8_t *up, uint8_t *out, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i r = _mm_loadu_si128((const __m128i *)(raw + i));
        __m128i u = _mm_loadu_si128((const __m128i *)(up + i));
        _mm_storeu_si128((__m128i *)(out + i), _mm_add_epi8(r, u));
    }
    for (; i < n; i++) out[i] = (uint8_t)(raw[i] + up[i]);
}

static IC_SSSE3_INLINE void unfilter_row_sse_bpp(int filter, const uint8_t *raw, const uint8_t *up, uint8_t *out, size_t n, int bpp) {
    const __m128i low_byte = _mm_set1_epi16(0xff);
    __m128i a = _mm_setzero_si128(); // the unfiltered pixel to the left
    __m128i c = _mm_setzero_si128(); // the pixel above that one
    size_t i;
    switch (filter) {
    case 0:
        memcpy(out, raw, n);
        return;
    case 2:
        unfilter_up_sse(raw, up, out, n);
        return;
    case 1:
        for (i = 0; i < n; i += (size_t)bpp) {
            a = _mm_and_si128(_mm_add_epi16(load_pixel(raw + i), a), low_byte);
            store_pixel(out + i, a, bpp, i + (size_t)bpp >= n);
        }
        return;
    case 3:
        for (i = 0; i < n; i += (size_t)bpp) {
            __m128i b = load_pixel(up + i);
            __m128i average = _mm_srli_epi16(_mm_add_epi16(a, b), 1);
            a = _mm_and_si128(_mm_add_epi16(load_pixel(raw + i), average), low_byte);
            store_pixel(out + i, a, bpp, i + (size_t)bpp >= n);
        }
        return;
    default:
        for (i = 0; i < n; i += (size_t)bpp) {
            __m128i b = load_pixel(up + i);
            __m128i predictor = paeth_lanes(a, b, c);
            c = b;
            a = _mm_and_si128(_mm_add_epi16(load_pixel(raw + i), predictor), low_byte);
            store_pixel(out + i, a, bpp, i + (size_t)bpp >= n);
        }
        return;
    }
}

// Two Paeth rows at once, the lower one a pixel behind: its pixel i - 1 needs
// the upper row's pixels i - 1 and i - 2, which were just computed and are
// still in registers. Each row's chain waits on its own left neighbour, so
// the two chains overlap and the pair costs little more than one row.
static IC_SSSE3_INLINE void unfilter_paeth_pair_bpp(const uint8_t *raw0, const uint8_t *raw1, const uint8_t *up,
                                                    uint8_t *out0, uint8_t *out1, size_t n, int bpp) {
    const __m128i low_byte = _mm_set1_epi16(0xff);
    __m128i a0 = _mm_setzero_si128(), c0 = a0; // upper row: left, upper-left
    __m128i a1 = a0, c1 = a0;                  // lower row: left, upper-left
    for (size_t i = 0; i < n; i += (size_t)bpp) {
        __m128i b0 = load_pixel(up + i);
        __m128i upper = _mm_and_si128(_mm_add_epi16(load_pixel(raw0 + i), paeth_lanes(a0, b0, c0)), low_byte);
        store_pixel(out0 + i, upper, bpp, i + (size_t)bpp >= n);
        c0 = b0;
        if (i > 0) { // the lower row's pixel i - 1: above it is the upper row's previous pixel, a0
            const size_t j = i - (size_t)bpp;
            __m128i lower = _mm_and_si128(_mm_add_epi16(load_pixel(raw1 + j), paeth_lanes(a1, a0, c1)), low_byte);
            store_pixel(out1 + j, lower, bpp, 0);
            c1 = a0;
            a1 = lower;
        }
        a0 = upper;
    }
    const size_t last = n - (size_t)bpp;
    __m128i lower = _mm_and_si128(_mm_add_epi16(load_pixel(raw1 + last), paeth_lanes(a1, a0, c1)), low_byte);
    store_pixel(out1 + last, lower, bpp, 1);
}

static IC_SSSE3 void unfilter_paeth_pair_sse(const uint8_t *raw0, const uint8_t *raw1, const uint8_t *up,
                                             uint8_t *out0, uint8_t *out1, size_t n, int bpp) {
    if (bpp == 4) unfilter_paeth_pair_bpp(raw0, raw1, up, out0, out1, n, 4);
    else unfilter_paeth_pair_bpp(raw0, raw1, up, out0, out1, n, 3);
}

// The pixel loops with the pixel size a constant, so each load and store is one move.
static IC_SSSE3 void unfilter_row_sse(int filter, const uint8_t *raw, const uint8_t *up, uint8_t *out, size_t n, int bpp) {
    if (bpp == 4) unfilter_row_sse_bpp(filter, raw, up, out, n, 4);
    else unfilter_row_sse_bpp(filter, raw, up, out, n, 3);
}
#endif

static void unfilter_row(int filter, const uint8_t *raw, const uint8_t *up, uint8_t *out, size_t n, int bpp, int simd) {
#if defined(__x86_64__)
    if (simd && (bpp == 3 || bpp == 4)) {
        unfilter_row_sse(filter, raw, up, out, n, bpp);
        return;
    }
#else
    (void)simd;
#endif
    unfilter_row_scalar(filter, raw, up, out, n, bpp);
}

// -------------------------------------------------------- libpng's expansions
// What png_set_palette_to_rgb, png_set_tRNS_to_alpha (palettes only here),
// png_set_expand_gray_1_2_4_to_8 and png_set_strip_16 do to an unfiltered row.

static int stored_channels_of(int color_type) {
    switch (color_type) {
    case 0: return 1;
    case 2: return 3;
    case 3: return 1;
    case 4: return 2;
    case 6: return 4;
    default: return 0;
    }
}

// The x-th sample of a row packed `bits` (1, 2 or 4) to a byte, first sample in the high bits.
static unsigned packed_sample(const uint8_t *row, uint32_t x, int bits) {
    size_t bit = (size_t)x * (size_t)bits;
    unsigned shift = 8u - (unsigned)bits - (unsigned)(bit & 7);
    return (row[bit >> 3] >> shift) & ((1u << bits) - 1u);
}

// Returns 0 for a palette index past the palette (libpng would draw it black
// and warn; that is left to it).
static int expand_row(const ic_png_whole_buffer_input *in, const uint8_t *row, uint8_t *out) {
    const uint32_t width = in->width;
    if (in->color_type == 3) {
        for (uint32_t x = 0; x < width; x++) {
            unsigned index = in->bit_depth == 8 ? row[x] : packed_sample(row, x, in->bit_depth);
            if ((int)index >= in->palette_count) return 0;
            const uint8_t *rgb = in->palette + 3 * (size_t)index;
            out[0] = rgb[0];
            out[1] = rgb[1];
            out[2] = rgb[2];
            if (in->channels == 4) {
                out[3] = (int)index < in->palette_alpha_count ? in->palette_alpha[index] : 255;
                out += 4;
            } else {
                out += 3;
            }
        }
        return 1;
    }
    if (in->bit_depth == 16) {
        const size_t samples = (size_t)width * (size_t)in->channels;
        for (size_t i = 0; i < samples; i++) out[i] = row[2 * i];
        return 1;
    }
    // 1, 2 or 4-bit gray, scaled so the largest value is 255.
    const unsigned scale = in->bit_depth == 1 ? 255u : in->bit_depth == 2 ? 85u : 17u;
    for (uint32_t x = 0; x < width; x++) out[x] = (uint8_t)(packed_sample(row, x, in->bit_depth) * scale);
    return 1;
}

// ------------------------------------------------------------------- reading

int ic_png_whole_buffer_read(const ic_png_whole_buffer_input *in, uint8_t *pixels, size_t stride) {
    const int stored_channels = stored_channels_of(in->color_type);
    const int depth = in->bit_depth;
    if (stored_channels == 0 || in->width == 0 || in->height == 0) return DECLINE;
    if (!(depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16)) return DECLINE;
    if (depth < 8 && stored_channels != 1) return DECLINE;
    if (in->color_type == 3 && (depth == 16 || in->palette == NULL || in->palette_count < 1 || in->palette_count > 256))
        return DECLINE;
    // The layout libpng's own expansions give, which the caller allocated for.
    const int expected_channels = in->color_type == 3 ? (in->palette_alpha_count > 0 ? 4 : 3) : stored_channels;
    if (in->channels != expected_channels) return DECLINE;
    if (in->idat_data_offset < 8 || in->idat_data_offset > in->size) return DECLINE;
    const size_t row_bytes = (size_t)in->width * (size_t)in->channels;  // one output row
    if (stride < row_bytes) return DECLINE;
    // The stored row, what the filters work on, and their unit: the bytes of a pixel (at least one).
    const size_t bits_per_pixel = (size_t)stored_channels * (size_t)depth;
    const size_t raw_row_bytes = ((size_t)in->width * bits_per_pixel + 7) / 8;
    const int filter_unit = bits_per_pixel >= 8 ? (int)(bits_per_pixel / 8) : 1;
    // 8-bit gray, gray+alpha, RGB and RGBA are unfiltered straight into the output.
    const int direct = depth == 8 && in->color_type != 3;

    // 1. The IDAT run: consecutive IDAT chunks, each with its CRC, then only
    //    ancillary chunks (which libpng skips, whatever their CRC) up to IEND.
    size_t position = in->idat_data_offset - 8;
    const size_t idat_limit = idat_chunk_limit(in->width, in->height, stored_channels, depth);
    size_t idat_total = 0, idat_count = 0;
    const uint8_t *single_idat = NULL;
    size_t first_idat = position;
    chunk c = {NULL, NULL, 0};
    // Each IDAT read clears `c.type`, so after the loop it is set only when a
    // chunk after the run was read.
    while (next_chunk(in->data, in->size, &position, &c) && memcmp(c.type, "IDAT", 4) == 0) {
        if (c.length > idat_limit || !crc_matches(&c)) return DECLINE;
        idat_total += c.length;
        idat_count++;
        single_idat = c.body;
        c.type = NULL;
    }
    if (idat_count == 0 || c.type == NULL) return DECLINE; // no IDAT, or the file ends inside the run
    for (;;) {
        if (memcmp(c.type, "IEND", 4) == 0) {
            if (c.length != 0 || !crc_matches(&c)) return DECLINE;
            break;
        }
        // A critical chunk here (a late IDAT, PLTE or an unknown one) is for libpng to judge,
        // and libpng refuses any chunk over the caller's limit.
        if (is_critical(c.type)) return DECLINE;
        if (in->max_chunk_bytes != 0 && c.length > in->max_chunk_bytes) return DECLINE;
        if (!next_chunk(in->data, in->size, &position, &c)) return DECLINE;
    }

    // 2. The zlib stream, whole. Only a 32 KB window (CMF 0x78): zlib refuses a
    //    distance beyond a smaller declared window, and libdeflate does not look.
    //    The buffers are bounded before anything is allocated: image data much
    //    larger than the rows it inflates to (no encoder writes that; a stored
    //    stream adds 5 bytes in 65535), or buffers over the caller's limit, are
    //    left to libpng, which reads row by row.
    const size_t filtered_bytes = (raw_row_bytes + 1) * (size_t)in->height;
    if (filtered_bytes / (raw_row_bytes + 1) != in->height) return DECLINE;
    if (idat_total > filtered_bytes + filtered_bytes / 1024 + 1024) return DECLINE;
    const size_t scratch_bytes = filtered_bytes + 4 + (idat_count > 1 ? idat_total : 0) + 2 * (raw_row_bytes + 4);
    if (in->max_scratch_bytes != 0 && scratch_bytes > in->max_scratch_bytes) return DECLINE;
    uint8_t *joined = NULL;
    const uint8_t *stream = single_idat;
    if (idat_count > 1) {
        joined = malloc(idat_total ? idat_total : 1);
        if (!joined) return DECLINE;
        size_t at = first_idat, filled = 0;
        for (size_t k = 0; k < idat_count; k++) {
            next_chunk(in->data, in->size, &at, &c);
            memcpy(joined + filled, c.body, c.length);
            filled += c.length;
        }
        stream = joined;
    }
    int result = DECLINE;
    uint8_t *filtered = NULL;
    struct libdeflate_decompressor *inflater = NULL;
    if (idat_total < 2 || stream[0] != 0x78) goto done;
    filtered = malloc(filtered_bytes + 4); // + 4: see load_pixel
    inflater = libdeflate_alloc_decompressor();
    if (!filtered || !inflater) goto done;
    size_t consumed = 0, produced = 0;
    enum libdeflate_result inflated = libdeflate_zlib_decompress_ex(inflater, stream, idat_total, filtered,
                                                                    filtered_bytes, &consumed, &produced);
    // Exactly the image's bytes from exactly the IDAT data: anything else
    // (extra data, a short stream, a bad Adler-32) goes to libpng's judgement.
    if (inflated != LIBDEFLATE_SUCCESS || consumed != idat_total || produced != filtered_bytes) goto done;

    // 3. The rows, each unfiltered against the row above it as unfiltered;
    //    then, unless the unfiltered row is the output row, expanded into it.
    //    Two stored rows (+ 4: see load_pixel): the one above and this one.
    uint8_t *rows = calloc(2, raw_row_bytes + 4);
    if (!rows) goto done;
    uint8_t *above = rows, *current = rows + raw_row_bytes + 4;
    for (uint32_t y = 0; y < in->height; y++) {
        const uint8_t *row = filtered + (size_t)y * (raw_row_bytes + 1);
        uint8_t *out = pixels + (size_t)y * stride;
        if (row[0] > 4) {
            free(rows);
            goto done;
        }
        if (direct) {
            const uint8_t *up = y > 0 ? pixels + (size_t)(y - 1) * stride : above; // `above` is zeros here
#if defined(__x86_64__)
            const uint8_t *next = row + raw_row_bytes + 1;
            if (in->simd && (filter_unit == 3 || filter_unit == 4) && row[0] == 4 && y + 1 < in->height && next[0] == 4) {
                unfilter_paeth_pair_sse(row + 1, next + 1, up, out, out + stride, raw_row_bytes, filter_unit);
                y++;
                continue;
            }
#endif
            unfilter_row(row[0], row + 1, up, out, raw_row_bytes, filter_unit, in->simd);
            continue;
        }
        unfilter_row(row[0], row + 1, above, current, raw_row_bytes, filter_unit, in->simd);
        if (!expand_row(in, current, out)) {
            free(rows);
            goto done;
        }
        uint8_t *swap = above;
        above = current;
        current = swap;
    }
    free(rows);
    result = IC_PNG_WHOLE_BUFFER_DONE;

done:
    if (inflater) libdeflate_free_decompressor(inflater);
    free(filtered);
    free(joined);
    return result;
}
