#ifndef IC_PNG_WHOLE_BUFFER_H
#define IC_PNG_WHOLE_BUFFER_H

// The whole-buffer PNG reader: for every file that is not interlaced and has
// no gray or RGB colour key (tRNS), the image data is inflated in one call by
// libdeflate and unfiltered with SIMD, instead of libpng's row-by-row zlib
// inflate and scalar unfiltering; then, like libpng's transformations,
// palettes are expanded to RGB (RGBA with a palette tRNS), 1/2/4-bit gray is
// scaled to 8 bits and 16-bit samples keep their high byte.
//
// It only ever *declines*: any file it is not sure about (a CRC mismatch, an
// inflate error, data that is too short or too long, a chunk out of place,
// a zlib window other than 32 KB, a palette index past the palette...) is
// left to libpng, which then decides exactly as it always did. So a file
// either decodes to the pixels libpng gives, or gets libpng's verdict, with
// one exception: libdeflate is more lenient than zlib about a few malformed
// deflate streams (on purpose and safely: ebiggers/libdeflate#288), so such a
// stream decodes when its Adler-32 matches where libpng would refuse it.
// Internal to CImageCodecs.

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *data;      // the whole file
    size_t size;
    size_t idat_data_offset;  // where the first IDAT's data starts (libpng has read its length and type)
    uint32_t width;
    uint32_t height;
    int color_type;           // as stored: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
    int bit_depth;            // as stored: 1, 2, 4, 8 or 16
    int channels;             // samples per pixel written to `pixels` (8 bits each): 1, 2, 3 or 4
    const uint8_t *palette;   // palette_count RGB triples (palette images)
    int palette_count;
    const uint8_t *palette_alpha;  // the palette's tRNS: alpha of the first palette_alpha_count entries
    int palette_alpha_count;
    size_t max_chunk_bytes;   // png_set_chunk_malloc_max's limit (0: none), which libpng applies to every chunk
    size_t max_scratch_bytes; // most memory the reader may take beside `pixels`; over it, it declines
    int simd;                 // 1: the SSSE3 unfilter kernels (x86-64); 0: the scalar reference
} ic_png_whole_buffer_input;

enum {
    IC_PNG_WHOLE_BUFFER_DONE = 0,      // `pixels` holds the image
    IC_PNG_WHOLE_BUFFER_DECLINED = 1,  // nothing promised: decode with libpng (pixels may be partly written)
};

int ic_png_whole_buffer_read(const ic_png_whole_buffer_input *input, uint8_t *pixels, size_t stride);

#endif
