#ifndef IC_PNG_WHOLE_BUFFER_H
#define IC_PNG_WHOLE_BUFFER_H

// The whole-buffer PNG reader: for the plain files that make up nearly every
// large PNG (8-bit gray, gray+alpha, RGB or RGBA, not interlaced, no tRNS),
// the image data is inflated in one call by libdeflate and unfiltered with
// SIMD, instead of libpng's row-by-row zlib inflate and scalar unfiltering.
//
// It only ever *declines*: any file it is not sure about (a CRC mismatch, an
// inflate error, data that is too short or too long, a chunk out of place,
// a zlib window other than 32 KB...) is left to libpng, which then decides
// exactly as it always did. So a file either decodes to the pixels libpng
// gives, or gets libpng's verdict. Internal to CImageCodecs.

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *data;      // the whole file
    size_t size;
    size_t idat_data_offset;  // where the first IDAT's data starts (libpng has read its length and type)
    uint32_t width;
    uint32_t height;
    int channels;             // 1, 2, 3 or 4 samples of 8 bits
    size_t max_chunk_bytes;   // png_set_chunk_malloc_max's limit (0: none), which libpng applies to every chunk
    int simd;                 // 1: the SSSE3 unfilter kernels (x86-64); 0: the scalar reference
} ic_png_whole_buffer_input;

enum {
    IC_PNG_WHOLE_BUFFER_DONE = 0,      // `pixels` holds the image
    IC_PNG_WHOLE_BUFFER_DECLINED = 1,  // nothing promised: decode with libpng (pixels may be partly written)
};

int ic_png_whole_buffer_read(const ic_png_whole_buffer_input *input, uint8_t *pixels, size_t stride);

#endif
