#ifndef IC_PNG_H
#define IC_PNG_H

#include "ic_common.h"

// PNG through libpng. Every libpng call made from here runs under its own
// setjmp, so libpng's longjmp never crosses a Swift frame.

typedef struct ic_png_decoder ic_png_decoder;

typedef struct {
    uint32_t width;
    uint32_t height;
    int bit_depth;        // as stored: 1, 2, 4, 8 or 16
    int color_type;       // PNG_COLOR_TYPE_* as stored
    int interlaced;       // Adam7
    int has_trns;         // a tRNS chunk (palette alpha or a gray/RGB colour key)
    int channels;         // samples per pixel after expansion to 8 bits: 1 (gray), 2 (gray+alpha), 3 (RGB), 4 (RGBA)
    int is_apng;          // an acTL chunk came before IDAT (APNG); only the default image is decoded
    const uint8_t *icc;   // ICC profile from iCCP, valid until ic_png_close; NULL when absent
    uint32_t icc_length;
} ic_png_info;

// Reads the signature and every chunk up to the first IDAT. Returns NULL with
// `status` set on failure. `max_side` goes to png_set_user_limits and
// `max_chunk_bytes` to png_set_chunk_malloc_max, so hostile headers and
// compressed text/ICC bombs are refused before anything large is allocated.
ic_png_decoder *ic_png_open(const uint8_t *data, size_t size, uint32_t max_side, size_t max_chunk_bytes,
                            int keep_icc, ic_png_info *info, ic_status *status);

// Who reads the image data. The whole-buffer reader (libdeflate in one call,
// then unfiltering) takes the plain 8-bit layouts and gives libpng's bytes; it
// declines every file it is not sure of, which libpng then reads as usual.
enum {
    IC_PNG_READER_LIBPNG = 0,               // libpng for every file: the reference
    IC_PNG_READER_WHOLE_BUFFER_SCALAR = 1,  // whole-buffer where it applies, scalar unfiltering
    IC_PNG_READER_WHOLE_BUFFER_SIMD = 2,    // whole-buffer where it applies, SSSE3 unfiltering (x86-64)
};

// Decodes the image into `pixels` (height rows of `stride` bytes, `channels`
// samples per pixel as reported by ic_png_open). Returns IC_OK or an error code.
// `max_scratch_bytes` bounds what the whole-buffer reader may allocate beside
// `pixels` (0: no bound); `read_whole` (may be NULL) says whether it decoded it.
int ic_png_read(ic_png_decoder *decoder, uint8_t *pixels, size_t stride, int reader, size_t max_scratch_bytes,
                int *read_whole, ic_status *status);

void ic_png_close(ic_png_decoder *decoder);

enum { IC_ZLIB_DEFAULT = 0, IC_ZLIB_FILTERED = 1, IC_ZLIB_RLE = 2 };

typedef struct {
    int color_type;          // PNG_COLOR_TYPE_GRAY, _GRAY_ALPHA, _RGB, _RGB_ALPHA or _PALETTE
    int bit_depth;           // 8, or 1/2/4/8 for palette and gray (pixels are then one sample per byte and get packed)
    const uint8_t *palette;  // palette_count RGB triples (palette only)
    int palette_count;
    const uint8_t *trns;     // alpha per palette entry (palette only), trns_count entries
    int trns_count;
    const uint8_t *icc;      // ICC profile to embed as iCCP, or NULL
    uint32_t icc_length;
    int compression_level;   // zlib level 0...9
    int adaptive_filter;     // 1: libpng picks a filter per row (true colour); 0: no filter (palette, sub-byte)
    int strategy;            // IC_ZLIB_* below
} ic_png_encode_params;

// Encodes `height` rows of `stride` bytes into `out` (caller frees with ic_buffer_free).
int ic_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, size_t stride,
                  const ic_png_encode_params *params, ic_buffer *out, ic_status *status);

#endif
