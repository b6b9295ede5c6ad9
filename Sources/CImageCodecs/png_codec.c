// libpng shim. libpng reports errors by calling our error function, which
// records the message and longjmps back to the setjmp in the same C function
// that called into libpng. Nothing here ever returns into Swift by longjmp.

#include "ic_png.h"
#include "png_whole_buffer.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct ic_png_decoder {
    png_structp png;
    png_infop info;
    const uint8_t *data;
    size_t size;
    size_t position;
    int hit_end_of_data;   // the reader ran out of input: the file is truncated
    int saw_actl;          // APNG animation control chunk
    int over_user_limit;   // libpng warned that IHDR exceeds png_set_user_limits
    ic_status *status;     // where the error callback writes
    uint32_t height;
    int channels;
    uint32_t width;
    size_t max_chunk_bytes;
    int whole_buffer_eligible;  // not interlaced, and no gray or RGB colour key: see png_whole_buffer.h
    int color_type;
    int bit_depth;
    uint8_t palette[3 * 256];   // RGB triples, copied from PLTE
    int palette_count;
    uint8_t palette_alpha[256]; // the palette's tRNS
    int palette_alpha_count;
    int palette_unreadable;     // PLTE or tRNS could not be read back: libpng reads the image
};

// Maps libpng's message to our code. Truncation is known precisely from the
// reader; a zlib stream that stops early is truncation of the image data too.
static int classify(struct ic_png_decoder *d, const char *message) {
    if (d && d->hit_end_of_data) return IC_TRUNCATED;
    // libpng reports a size over png_set_user_limits as a *warning* ("Image width
    // exceeds user limit in IHDR") followed by the generic error "Invalid IHDR data".
    if (d && d->over_user_limit) return IC_TOO_LARGE;
    if (message && (strstr(message, "Not enough image data") || strstr(message, "unexpected end"))) return IC_TRUNCATED;
    if (message && (strstr(message, "exceeds user limit") || strstr(message, "Image width is too large")
                    || strstr(message, "Image height is too large"))) return IC_TOO_LARGE;
    if (message && strstr(message, "Insufficient memory")) return IC_NO_MEMORY;
    return IC_CORRUPT;
}

static void on_error(png_structp png, png_const_charp message) {
    struct ic_png_decoder *d = png_get_error_ptr(png);
    if (d && d->status) {
        int code = classify(d, message);
        const char *text = d->over_user_limit ? "IHDR width or height exceeds the side limit (maxDimension)" : message;
        ic_status_set(d->status, code, text);
    }
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp message) {
    // Benign problems (bad ancillary CRCs, oversized text chunks, odd gamma)
    // do not stop decoding: the pixels are still right.
    (void)png;
    (void)message;
}

static void on_read_warning(png_structp png, png_const_charp message) {
    // The one warning that matters: a size over png_set_user_limits, which libpng
    // follows with the generic error "Invalid IHDR data" (see classify).
    struct ic_png_decoder *d = png_get_error_ptr(png);
    if (d && message && strstr(message, "exceeds user limit")) d->over_user_limit = 1;
}

static void read_from_memory(png_structp png, png_bytep out, size_t count) {
    struct ic_png_decoder *d = png_get_io_ptr(png);
    if (d->size - d->position < count) {
        d->hit_end_of_data = 1;
        png_error(png, "unexpected end of data");
    }
    memcpy(out, d->data + d->position, count);
    d->position += count;
}

static int on_unknown_chunk(png_structp png, png_unknown_chunkp chunk) {
    struct ic_png_decoder *d = png_get_user_chunk_ptr(png);
    if (d && memcmp(chunk->name, "acTL", 4) == 0) d->saw_actl = 1;
    return 1; // handled (ignored); APNG frame chunks are skipped, the default image is IDAT
}

ic_png_decoder *ic_png_open(const uint8_t *data, size_t size, uint32_t max_side, size_t max_chunk_bytes,
                            int keep_icc, ic_png_info *info_out, ic_status *status) {
    ic_status_set(status, IC_OK, "");
    struct ic_png_decoder *d = calloc(1, sizeof *d);
    if (!d) { ic_status_set(status, IC_NO_MEMORY, "out of memory"); return NULL; }
    d->data = data;
    d->size = size;
    d->status = status;

    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        ic_status_set(status, IC_CORRUPT, "not a PNG signature");
        free(d);
        return NULL;
    }

    d->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, d, on_error, on_read_warning);
    if (!d->png) { ic_status_set(status, IC_NO_MEMORY, "png_create_read_struct failed"); free(d); return NULL; }
    d->info = png_create_info_struct(d->png);
    if (!d->info) {
        png_destroy_read_struct(&d->png, NULL, NULL);
        ic_status_set(status, IC_NO_MEMORY, "png_create_info_struct failed");
        free(d);
        return NULL;
    }

    // `d` is not modified between setjmp and a longjmp except through the
    // pointer, so it needs no volatile.
    if (setjmp(png_jmpbuf(d->png))) {
        png_destroy_read_struct(&d->png, &d->info, NULL);
        free(d);
        return NULL;
    }

    png_set_read_fn(d->png, d, read_from_memory);
    png_set_user_limits(d->png, max_side, max_side);
    png_set_chunk_malloc_max(d->png, max_chunk_bytes);
    // Only the colour profile is kept; every other ancillary chunk is skipped
    // (text, EXIF, time...), which also bounds what libpng buffers.
    png_set_keep_unknown_chunks(d->png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    static const png_byte actl[5] = {'a', 'c', 'T', 'L', '\0'};
    png_set_keep_unknown_chunks(d->png, PNG_HANDLE_CHUNK_ALWAYS, actl, 1);
    png_set_read_user_chunk_fn(d->png, d, on_unknown_chunk);
    static const png_byte skipped[] = {
        't', 'E', 'X', 't', '\0', 'z', 'T', 'X', 't', '\0', 'i', 'T', 'X', 't', '\0',
        'e', 'X', 'I', 'f', '\0', 't', 'I', 'M', 'E', '\0', 's', 'P', 'L', 'T', '\0',
        'h', 'I', 'S', 'T', '\0', 'p', 'C', 'A', 'L', '\0', 's', 'C', 'A', 'L', '\0',
    };
    png_set_keep_unknown_chunks(d->png, PNG_HANDLE_CHUNK_NEVER, skipped, (int)(sizeof skipped / 5));
    if (!keep_icc) {
        static const png_byte iccp[5] = {'i', 'C', 'C', 'P', '\0'};
        png_set_keep_unknown_chunks(d->png, PNG_HANDLE_CHUNK_NEVER, iccp, 1);
    }
    // The adler32 check costs time and the chunk CRCs already protect the data.
#ifdef PNG_IGNORE_ADLER32
    png_set_option(d->png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
#endif

    png_set_sig_bytes(d->png, 0);
    png_read_info(d->png, d->info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(d->png, d->info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    int has_trns = png_get_valid(d->png, d->info, PNG_INFO_tRNS) != 0;

    // The palette and its alpha, for the whole-buffer reader: read before
    // png_read_update_info, which clears the tRNS entries it expands.
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_colorp palette = NULL;
        int count = 0;
        if (png_get_PLTE(d->png, d->info, &palette, &count) && palette && count > 0 && count <= 256) {
            for (int i = 0; i < count; i++) {
                d->palette[3 * i] = palette[i].red;
                d->palette[3 * i + 1] = palette[i].green;
                d->palette[3 * i + 2] = palette[i].blue;
            }
            d->palette_count = count;
        } else {
            d->palette_unreadable = 1;
        }
        png_bytep alpha = NULL;
        int alpha_count = 0;
        if (has_trns && png_get_tRNS(d->png, d->info, &alpha, &alpha_count, NULL) && alpha && alpha_count > 0) {
            if (alpha_count > 256) alpha_count = 256;
            memcpy(d->palette_alpha, alpha, (size_t)alpha_count);
            d->palette_alpha_count = alpha_count;
        } else if (has_trns) {
            d->palette_unreadable = 1;
        }
    }
    // Expand everything to 8-bit gray, gray+alpha, RGB or RGBA.
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(d->png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(d->png);
    if (has_trns) png_set_tRNS_to_alpha(d->png);
    // 16-bit samples keep their high byte, as Pillow and libvips do.
    if (bit_depth == 16) png_set_strip_16(d->png);
    png_set_interlace_handling(d->png);
    png_read_update_info(d->png, d->info);

    memset(info_out, 0, sizeof *info_out);
    info_out->width = width;
    info_out->height = height;
    info_out->bit_depth = bit_depth;
    info_out->color_type = color_type;
    info_out->interlaced = interlace != PNG_INTERLACE_NONE;
    info_out->has_trns = has_trns;
    info_out->channels = png_get_channels(d->png, d->info);
    info_out->is_apng = d->saw_actl;
    if (keep_icc && png_get_valid(d->png, d->info, PNG_INFO_iCCP)) {
        png_charp name = NULL;
        int compression = 0;
        png_bytep profile = NULL;
        png_uint_32 length = 0;
        if (png_get_iCCP(d->png, d->info, &name, &compression, &profile, &length) && profile && length > 0) {
            info_out->icc = profile;
            info_out->icc_length = length;
        }
    }
    d->width = width;
    d->height = height;
    d->channels = info_out->channels;
    d->max_chunk_bytes = max_chunk_bytes;
    d->color_type = color_type;
    d->bit_depth = bit_depth;
    d->whole_buffer_eligible = interlace == PNG_INTERLACE_NONE && (!has_trns || color_type == PNG_COLOR_TYPE_PALETTE)
                               && !d->palette_unreadable;
    if (png_get_rowbytes(d->png, d->info) != (size_t)width * (size_t)d->channels) {
        ic_status_set(status, IC_UNSUPPORTED, "unexpected row layout after expansion");
        png_destroy_read_struct(&d->png, &d->info, NULL);
        free(d);
        return NULL;
    }
    return d;
}

int ic_png_read(ic_png_decoder *d, uint8_t *pixels, size_t stride, int reader, size_t max_scratch_bytes, int *read_whole,
                ic_status *status) {
    ic_status_set(status, IC_OK, "");
    if (read_whole) *read_whole = 0;
    d->status = status;
    // png_read_info stopped right after the first IDAT's length and type, so
    // d->position is where its data starts. A declined file is read by libpng
    // from that same position, as if the whole-buffer reader had not looked.
    if (reader != IC_PNG_READER_LIBPNG && d->whole_buffer_eligible) {
        ic_png_whole_buffer_input input = {
            .data = d->data, .size = d->size, .idat_data_offset = d->position,
            .width = d->width, .height = d->height, .color_type = d->color_type, .bit_depth = d->bit_depth,
            .channels = d->channels, .palette = d->palette, .palette_count = d->palette_count,
            .palette_alpha = d->palette_alpha, .palette_alpha_count = d->palette_alpha_count,
            .max_chunk_bytes = d->max_chunk_bytes, .max_scratch_bytes = max_scratch_bytes,
            .simd = reader == IC_PNG_READER_WHOLE_BUFFER_SIMD,
        };
        if (ic_png_whole_buffer_read(&input, pixels, stride) == IC_PNG_WHOLE_BUFFER_DONE) {
            if (read_whole) *read_whole = 1;
            return IC_OK;
        }
    }
    png_bytep *volatile rows = malloc(sizeof(png_bytep) * (d->height ? d->height : 1));
    if (!rows) { ic_status_set(status, IC_NO_MEMORY, "out of memory for row pointers"); return IC_NO_MEMORY; }
    if (setjmp(png_jmpbuf(d->png))) {
        free(rows);
        return status->code ? status->code : IC_CORRUPT;
    }
    for (uint32_t y = 0; y < d->height; y++) rows[y] = pixels + (size_t)y * stride;
    png_read_image(d->png, rows);
    // Reads the chunks after the image data up to IEND, checking their CRCs.
    // A file cut off after complete image data is still refused as truncated.
    png_read_end(d->png, NULL);
    free(rows);
    return IC_OK;
}

void ic_png_close(ic_png_decoder *d) {
    if (!d) return;
    png_destroy_read_struct(&d->png, &d->info, NULL);
    free(d);
}

// ---------------------------------------------------------------- encoding

struct ic_png_writer {
    ic_buffer *out;
    ic_status *status;
};

static void write_to_buffer(png_structp png, png_bytep bytes, size_t count) {
    struct ic_png_writer *w = png_get_io_ptr(png);
    if (!ic_buffer_append(w->out, bytes, count)) png_error(png, "out of memory for the encoded PNG");
}

static void flush_nothing(png_structp png) { (void)png; }

static void on_write_error(png_structp png, png_const_charp message) {
    struct ic_png_writer *w = png_get_error_ptr(png);
    if (w && w->status) ic_status_set(w->status, IC_ENCODE_FAILED, message);
    png_longjmp(png, 1);
}

int ic_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, size_t stride,
                  const ic_png_encode_params *p, ic_buffer *out, ic_status *status) {
    ic_status_set(status, IC_OK, "");
    struct ic_png_writer writer = {out, status};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &writer, on_write_error, on_warning);
    if (!png) { ic_status_set(status, IC_NO_MEMORY, "png_create_write_struct failed"); return IC_NO_MEMORY; }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        ic_status_set(status, IC_NO_MEMORY, "png_create_info_struct failed");
        return IC_NO_MEMORY;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return status->code ? status->code : IC_ENCODE_FAILED;
    }
    png_set_write_fn(png, &writer, write_to_buffer, flush_nothing);
    // An invalid ICC profile is dropped with a warning instead of failing the image.
    png_set_benign_errors(png, 1);
    png_set_compression_level(png, p->compression_level);
    png_set_compression_strategy(png, p->strategy == IC_ZLIB_FILTERED ? Z_FILTERED
                                      : p->strategy == IC_ZLIB_RLE    ? Z_RLE
                                                                      : Z_DEFAULT_STRATEGY);
    png_set_compression_mem_level(png, 9);
    png_set_compression_buffer_size(png, 256 * 1024);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, p->adaptive_filter ? PNG_ALL_FILTERS : PNG_FILTER_NONE);

    png_set_IHDR(png, info, width, height, p->bit_depth, p->color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (p->color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color palette[256];
        int count = p->palette_count > 256 ? 256 : p->palette_count;
        for (int i = 0; i < count; i++) {
            palette[i].red = p->palette[3 * i];
            palette[i].green = p->palette[3 * i + 1];
            palette[i].blue = p->palette[3 * i + 2];
        }
        png_set_PLTE(png, info, palette, count);
        if (p->trns && p->trns_count > 0) png_set_tRNS(png, info, p->trns, p->trns_count, NULL);
    }
    if (p->icc && p->icc_length > 0) png_set_iCCP(png, info, "icc", PNG_COMPRESSION_TYPE_BASE, p->icc, p->icc_length);
    png_write_info(png, info);
    // Sub-byte palette and gray pixels arrive one per byte; libpng packs them.
    if (p->bit_depth < 8) png_set_packing(png);
    for (uint32_t y = 0; y < height; y++) png_write_row(png, pixels + (size_t)y * stride);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (out->failed) { ic_status_set(status, IC_NO_MEMORY, "out of memory for the encoded PNG"); return IC_NO_MEMORY; }
    return IC_OK;
}
