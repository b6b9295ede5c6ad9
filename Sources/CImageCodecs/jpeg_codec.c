// libjpeg-turbo shim. libjpeg reports errors through error_exit (and, here,
// through emit_message for the one warning treated as fatal); both record the
// message and longjmp back to the setjmp of the C function that called into
// libjpeg. Nothing here ever returns into Swift by longjmp.

#include "ic_jpeg.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

// The error manager every libjpeg object of this file uses: where to jump and
// where to write why.
struct ic_jpeg_error {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    ic_status *status;
    int strict;
};

static int classify(int msg_code) {
    switch (msg_code) {
    case JWRN_JPEG_EOF:
    case JERR_INPUT_EOF:
    case JERR_INPUT_EMPTY:
        return IC_TRUNCATED;
    case JERR_SOF_UNSUPPORTED:
    case JERR_BAD_PRECISION:
    case JERR_NOT_COMPILED:
    case JERR_ARITH_NOTIMPL:
    case JERR_CONVERSION_NOTIMPL:
    case JERR_COMPONENT_COUNT:
        return IC_UNSUPPORTED;
    case JERR_IMAGE_TOO_BIG:
    case JERR_WIDTH_OVERFLOW:
    case JERR_NO_BACKING_STORE:
    case JERR_OUT_OF_MEMORY:
        return IC_TOO_LARGE;
    default:
        return IC_CORRUPT;
    }
}

static _Noreturn void fail(j_common_ptr cinfo, int code, const char *message) {
    struct ic_jpeg_error *err = (struct ic_jpeg_error *)cinfo->err;
    ic_status_set(err->status, code, message);
    longjmp(err->jump, 1);
}

static _Noreturn void on_error(j_common_ptr cinfo) {
    char message[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, message);
    int code = classify(cinfo->err->msg_code);
    if (code == IC_CORRUPT && cinfo->is_decompressor == 0) code = IC_ENCODE_FAILED;
    fail(cinfo, code, message);
}

// Warnings have level -1. A premature end of file is always fatal: libjpeg
// would pad the missing rows with grey and call the image decoded. Other
// corrupt-data warnings are tolerated unless strict (see ic_jpeg_decode_params).
static void on_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return; // trace messages
    struct ic_jpeg_error *err = (struct ic_jpeg_error *)cinfo->err;
    if (err->pub.msg_code == JWRN_JPEG_EOF || err->strict) on_error(cinfo);
    err->pub.num_warnings++;
}

static void init_error(struct ic_jpeg_error *err, ic_status *status, int strict) {
    jpeg_std_error(&err->pub);
    err->pub.error_exit = on_error;
    err->pub.emit_message = on_message;
    err->status = status;
    err->strict = strict;
}

// ---------------------------------------------------------------- decoding

struct ic_jpeg_decoder {
    struct jpeg_decompress_struct cinfo;
    struct ic_jpeg_error err;
    struct jpeg_progress_mgr progress;
    int max_scans;
    int keep_icc;
    size_t metadata_budget; // bytes of APP1/APP2 payload we may still keep
    int metadata_dropped;
    int output_cmyk;        // libjpeg outputs CMYK; we convert each row to RGB
    JOCTET *icc;            // malloc'd by jpeg_read_icc_profile
    unsigned int icc_length;
};

// A progressive file can hold any number of scans, each a full pass over the
// coefficients; refusing absurd counts keeps a small hostile file from spinning
// for minutes. Called by libjpeg between input rows while it consumes scans.
static void on_progress(j_common_ptr cinfo) {
    j_decompress_ptr dinfo = (j_decompress_ptr)cinfo;
    ic_jpeg_decoder *d = cinfo->client_data;
    if (dinfo->input_scan_number > d->max_scans) {
        char message[96];
        snprintf(message, sizeof message, "more than %d scans", d->max_scans);
        fail(cinfo, IC_TOO_LARGE, message);
    }
}

// Reads `count` bytes from the source. The memory source never suspends: at the
// end of the data it warns JWRN_JPEG_EOF, which on_message turns into an error.
static void read_bytes(j_decompress_ptr cinfo, JOCTET *out, size_t count) {
    struct jpeg_source_mgr *src = cinfo->src;
    while (count > 0) {
        if (src->bytes_in_buffer == 0 && !(*src->fill_input_buffer)(cinfo)) ERREXIT(cinfo, JERR_INPUT_EOF);
        size_t n = src->bytes_in_buffer < count ? src->bytes_in_buffer : count;
        memcpy(out, src->next_input_byte, n);
        src->next_input_byte += n;
        src->bytes_in_buffer -= n;
        out += n;
        count -= n;
    }
}

// Keeps an APP1 EXIF or APP2 ICC payload on cinfo->marker_list, the list that
// jpeg_save_markers would fill and jpeg_read_icc_profile reads, but only while
// the metadata budget lasts: jpeg_save_markers caps each marker, not the total,
// so a file of many APP2 markers could otherwise make libjpeg buffer all of it.
// Every other APP1/APP2 payload (XMP, FlashPix, a second EXIF) is skipped.
static boolean keep_metadata_marker(j_decompress_ptr cinfo) {
    ic_jpeg_decoder *d = cinfo->client_data;
    JOCTET length_bytes[2];
    read_bytes(cinfo, length_bytes, 2);
    long length = ((long)length_bytes[0] << 8 | length_bytes[1]) - 2;
    if (length < 0) ERREXIT(cinfo, JERR_BAD_LENGTH);

    static const char exif_id[6] = {'E', 'x', 'i', 'f', 0, 0};
    static const char icc_id[12] = {'I', 'C', 'C', '_', 'P', 'R', 'O', 'F', 'I', 'L', 'E', 0};
    int is_app1 = cinfo->unread_marker == JPEG_APP0 + 1;
    const char *id = is_app1 ? exif_id : icc_id;
    size_t id_length = is_app1 ? sizeof exif_id : sizeof icc_id;

    JOCTET head[12];
    size_t head_length = (size_t)length < id_length ? (size_t)length : id_length;
    read_bytes(cinfo, head, head_length);
    long rest = length - (long)head_length;

    int wanted = head_length == id_length && memcmp(head, id, id_length) == 0;
    jpeg_saved_marker_ptr last = NULL;
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next) {
        if (is_app1 && m->marker == cinfo->unread_marker) wanted = 0; // the first EXIF wins, as in every reader
        last = m;
    }
    if (wanted && (size_t)length > d->metadata_budget) {
        d->metadata_dropped = 1;
        wanted = 0;
    }
    if (!wanted) {
        if (rest > 0) (*cinfo->src->skip_input_data)(cinfo, rest);
        return TRUE;
    }
    d->metadata_budget -= (size_t)length;
    jpeg_saved_marker_ptr marker =
        (*cinfo->mem->alloc_large)((j_common_ptr)cinfo, JPOOL_IMAGE, sizeof(struct jpeg_marker_struct) + (size_t)length);
    marker->next = NULL;
    marker->marker = (UINT8)cinfo->unread_marker;
    marker->original_length = (unsigned int)length;
    marker->data_length = (unsigned int)length;
    marker->data = (JOCTET *)(marker + 1);
    memcpy(marker->data, head, head_length);
    read_bytes(cinfo, marker->data + head_length, (size_t)rest);
    if (last) last->next = marker;
    else cinfo->marker_list = marker;
    return TRUE;
}

static void find_exif(j_decompress_ptr cinfo, ic_jpeg_info *info) {
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length > 6) {
            info->exif = m->data + 6;
            info->exif_length = m->data_length - 6;
            return;
        }
    }
}

static void destroy(ic_jpeg_decoder *d) {
    jpeg_destroy_decompress(&d->cinfo);
    free(d->icc);
    free(d);
}

ic_jpeg_decoder *ic_jpeg_open(const uint8_t *data, size_t size, const ic_jpeg_decode_params *params,
                              ic_jpeg_info *info, ic_status *status) {
    ic_status_set(status, IC_OK, "");
    memset(info, 0, sizeof *info);
    if (size == 0) { ic_status_set(status, IC_TRUNCATED, "empty input"); return NULL; }
    ic_jpeg_decoder *d = calloc(1, sizeof *d);
    if (!d) { ic_status_set(status, IC_NO_MEMORY, "out of memory"); return NULL; }
    d->max_scans = params->max_scans;
    d->keep_icc = params->keep_icc;
    d->metadata_budget = params->max_metadata_bytes;
    init_error(&d->err, status, params->strict);
    d->cinfo.err = &d->err.pub;

    // `d` itself is never reassigned after setjmp, so it needs no volatile.
    if (setjmp(d->err.jump)) {
        destroy(d);
        return NULL;
    }
    jpeg_create_decompress(&d->cinfo);
    d->cinfo.client_data = d;
    d->progress.progress_monitor = on_progress;
    d->cinfo.progress = &d->progress;
    jpeg_mem_src(&d->cinfo, data, (unsigned long)size);
    // All other APPn markers (XMP, Photoshop, ...) are skipped by libjpeg
    // without buffering; APP0 (JFIF) and APP14 (Adobe) keep libjpeg's parsers.
    jpeg_set_marker_processor(&d->cinfo, JPEG_APP0 + 1, keep_metadata_marker);
    if (params->keep_icc) jpeg_set_marker_processor(&d->cinfo, JPEG_APP0 + 2, keep_metadata_marker);
    jpeg_read_header(&d->cinfo, TRUE);

    j_decompress_ptr cinfo = &d->cinfo;
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE:
        cinfo->out_color_space = JCS_GRAYSCALE;
        break;
    case JCS_YCbCr:
    case JCS_RGB:
        cinfo->out_color_space = JCS_RGB;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        cinfo->out_color_space = JCS_CMYK;
        d->output_cmyk = !params->raw_cmyk;
        break;
    default: {
        char message[96];
        snprintf(message, sizeof message, "unsupported colour space with %d components", cinfo->num_components);
        ic_status_set(status, IC_UNSUPPORTED, message);
        destroy(d);
        return NULL;
    }
    }
    cinfo->scale_num = 1;
    cinfo->scale_denom = (unsigned int)(params->scale_denom > 0 ? params->scale_denom : 1);
    jpeg_calc_output_dimensions(cinfo);

    if (params->keep_icc && jpeg_read_icc_profile(cinfo, &d->icc, &d->icc_length)) {
        info->icc = d->icc;
        info->icc_length = d->icc_length;
    }
    info->width = cinfo->image_width;
    info->height = cinfo->image_height;
    info->output_width = cinfo->output_width;
    info->output_height = cinfo->output_height;
    info->components = cinfo->num_components;
    info->channels = d->output_cmyk ? 3 : cinfo->out_color_components;
    info->cmyk_inverted = cinfo->out_color_space == JCS_CMYK && cinfo->saw_Adobe_marker;
    info->progressive = cinfo->progressive_mode;
    info->metadata_dropped = d->metadata_dropped;
    find_exif(cinfo, info);
    return d;
}

// CMYK as libjpeg outputs it: Adobe writers store inverted values (0 = full
// ink), which libjpeg passes through, so with the Adobe marker a sample is the
// amount of paper left; without it, the usual 255 - ink.
static void cmyk_row_to_rgb(const JSAMPLE *in, uint8_t *out, JDIMENSION width, int inverted) {
    for (JDIMENSION x = 0; x < width; x++, in += 4, out += 3) {
        unsigned c = in[0], m = in[1], y = in[2], k = in[3];
        if (!inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
        // x / 255 rounded, exact for x <= 255 * 255.
        unsigned r = c * k + 128, g = m * k + 128, b = y * k + 128;
        out[0] = (uint8_t)((r + (r >> 8)) >> 8);
        out[1] = (uint8_t)((g + (g >> 8)) >> 8);
        out[2] = (uint8_t)((b + (b >> 8)) >> 8);
    }
}

int ic_jpeg_read(ic_jpeg_decoder *d, uint8_t *pixels, size_t stride, ic_status *status) {
    ic_status_set(status, IC_OK, "");
    d->err.status = status;
    j_decompress_ptr cinfo = &d->cinfo;
    JSAMPARRAY volatile rows = NULL;
    if (setjmp(d->err.jump)) {
        free(rows);
        return status->code ? status->code : IC_CORRUPT;
    }
    jpeg_start_decompress(cinfo);
    JDIMENSION width = cinfo->output_width, height = cinfo->output_height;

    if (d->output_cmyk) {
        // A few rows of 4-channel samples at a time, converted straight into the output.
        JDIMENSION group = cinfo->rec_outbuf_height > 0 ? (JDIMENSION)cinfo->rec_outbuf_height : 1;
        JSAMPARRAY cmyk = (*cinfo->mem->alloc_sarray)((j_common_ptr)cinfo, JPOOL_IMAGE, width * 4, group);
        int inverted = cinfo->saw_Adobe_marker;
        while (cinfo->output_scanline < height) {
            JDIMENSION first = cinfo->output_scanline;
            JDIMENSION got = jpeg_read_scanlines(cinfo, cmyk, group);
            for (JDIMENSION i = 0; i < got; i++)
                cmyk_row_to_rgb(cmyk[i], pixels + (size_t)(first + i) * stride, width, inverted);
        }
    } else {
        // Row pointers into the caller's buffer: libjpeg writes the pixels in place.
        rows = malloc(sizeof(JSAMPROW) * height);
        if (!rows) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 0);
        for (JDIMENSION y = 0; y < height; y++) rows[y] = pixels + (size_t)y * stride;
        while (cinfo->output_scanline < height)
            jpeg_read_scanlines(cinfo, rows + cinfo->output_scanline, height - cinfo->output_scanline);
    }
    // Reads on to EOI, so data cut off after the last row is still reported.
    jpeg_finish_decompress(cinfo);
    free(rows);
    return IC_OK;
}

void ic_jpeg_close(ic_jpeg_decoder *d) {
    if (d) destroy(d);
}

// ---------------------------------------------------------------- encoding

// A destination that writes straight into a growing ic_buffer.
struct ic_jpeg_destination {
    struct jpeg_destination_mgr pub;
    ic_buffer *out;
};

static int grow(j_compress_ptr cinfo, size_t minimum) {
    struct ic_jpeg_destination *dest = (struct ic_jpeg_destination *)cinfo->dest;
    ic_buffer *b = dest->out;
    size_t capacity = b->capacity ? b->capacity : 64 * 1024;
    while (capacity < minimum) capacity *= 2;
    if (capacity == b->capacity) capacity *= 2;
    uint8_t *grown = realloc(b->data, capacity);
    if (!grown) {
        b->failed = 1;
        return 0;
    }
    b->data = grown;
    b->capacity = capacity;
    dest->pub.next_output_byte = b->data + b->size;
    dest->pub.free_in_buffer = b->capacity - b->size;
    return 1;
}

static void destination_init(j_compress_ptr cinfo) {
    struct ic_jpeg_destination *dest = (struct ic_jpeg_destination *)cinfo->dest;
    dest->out->size = 0;
    // A first guess around what a q85 4:2:0 photo needs, so most images never regrow.
    size_t guess = (size_t)cinfo->image_width * cinfo->image_height / 4 + 16 * 1024;
    if (!grow(cinfo, guess)) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 0);
}

// libjpeg calls this with the whole buffer full.
static boolean destination_empty(j_compress_ptr cinfo) {
    struct ic_jpeg_destination *dest = (struct ic_jpeg_destination *)cinfo->dest;
    dest->out->size = dest->out->capacity;
    if (!grow(cinfo, dest->out->size + 1)) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 0);
    return TRUE;
}

static void destination_term(j_compress_ptr cinfo) {
    struct ic_jpeg_destination *dest = (struct ic_jpeg_destination *)cinfo->dest;
    dest->out->size = dest->out->capacity - dest->pub.free_in_buffer;
}

int ic_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, size_t stride,
                   const ic_jpeg_encode_params *p, ic_buffer *out, ic_status *status) {
    ic_status_set(status, IC_OK, "");
    struct jpeg_compress_struct cinfo;
    struct ic_jpeg_error err;
    struct ic_jpeg_destination dest = {{0}, out};
    init_error(&err, status, 0);
    cinfo.err = &err.pub;
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        return status->code ? status->code : IC_ENCODE_FAILED;
    }
    jpeg_create_compress(&cinfo);
    dest.pub.init_destination = destination_init;
    dest.pub.empty_output_buffer = destination_empty;
    dest.pub.term_destination = destination_term;
    cinfo.dest = &dest.pub;

    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = p->channels;
    cinfo.in_color_space = p->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    // force_baseline keeps quantisation values within 8 bits at low qualities.
    jpeg_set_quality(&cinfo, p->quality, TRUE);
    if (p->channels == 3) {
        int h = p->subsampling == IC_JPEG_444 ? 1 : 2;
        int v = p->subsampling == IC_JPEG_420 ? 2 : 1;
        cinfo.comp_info[0].h_samp_factor = h;
        cinfo.comp_info[0].v_samp_factor = v;
        for (int c = 1; c < 3; c++) cinfo.comp_info[c].h_samp_factor = cinfo.comp_info[c].v_samp_factor = 1;
    }
    cinfo.optimize_coding = p->optimize_coding ? TRUE : FALSE;
    if (p->progressive) jpeg_simple_progression(&cinfo);

    jpeg_start_compress(&cinfo, TRUE);
    if (p->icc && p->icc_length > 0) jpeg_write_icc_profile(&cinfo, p->icc, p->icc_length);
    JSAMPROW group[16];
    while (cinfo.next_scanline < height) {
        JDIMENSION count = height - cinfo.next_scanline;
        if (count > 16) count = 16;
        for (JDIMENSION i = 0; i < count; i++)
            group[i] = (JSAMPROW)(pixels + (size_t)(cinfo.next_scanline + i) * stride);
        jpeg_write_scanlines(&cinfo, group, count);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return IC_OK;
}
