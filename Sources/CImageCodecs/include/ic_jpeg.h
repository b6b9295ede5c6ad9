#ifndef IC_JPEG_H
#define IC_JPEG_H

#include "ic_common.h"

// JPEG through libjpeg-turbo. Every libjpeg call made from here runs under a
// setjmp in the same C function, so libjpeg's longjmp never crosses a Swift frame.

typedef struct ic_jpeg_decoder ic_jpeg_decoder;

typedef struct {
    uint32_t width;          // as stored in the frame header
    uint32_t height;
    uint32_t output_width;   // after DCT scaling (scale_denom)
    uint32_t output_height;
    int components;          // in the file: 1, 3 or 4
    int channels;            // in the output: 1 (gray), 3 (RGB, also CMYK/YCCK unless raw_cmyk) or 4 (raw CMYK)
    int cmyk_inverted;       // raw CMYK samples are 255 - ink (an Adobe marker)
    int progressive;
    const uint8_t *exif;     // first APP1 "Exif\0\0" payload (TIFF after the 6-byte header);
    uint32_t exif_length;    // valid until ic_jpeg_read or ic_jpeg_close, NULL when absent
    const uint8_t *icc;      // reassembled ICC profile, valid until ic_jpeg_close; NULL when absent or not asked for
    uint32_t icc_length;
    int metadata_dropped;    // APP1/APP2 payloads were skipped because they went over the metadata budget
} ic_jpeg_info;

typedef struct {
    size_t max_metadata_bytes; // total APP1 (EXIF) + APP2 (ICC) bytes kept in memory
    int keep_icc;
    int scale_denom;           // 1, 2, 4 or 8: libjpeg's DCT-domain downscaling
    int max_scans;             // more scans than this is refused (hostile progressive files)
    int strict;                // 1: every libjpeg warning is an error; 0: only premature end of file is
    int raw_cmyk;              // 1: CMYK/YCCK come out as 4 CMYK samples (for a colour-managed conversion)
} ic_jpeg_decode_params;

// Reads the markers up to the first scan. Returns NULL with `status` set on
// failure. Nothing larger than the marker payloads is allocated, so the caller
// can check the declared size against its limits before ic_jpeg_read.
ic_jpeg_decoder *ic_jpeg_open(const uint8_t *data, size_t size, const ic_jpeg_decode_params *params,
                              ic_jpeg_info *info, ic_status *status);

// Decodes into `pixels`: output_height rows of `stride` bytes, `channels`
// samples per pixel. Returns IC_OK or an error code.
int ic_jpeg_read(ic_jpeg_decoder *decoder, uint8_t *pixels, size_t stride, ic_status *status);

void ic_jpeg_close(ic_jpeg_decoder *decoder);

enum { IC_JPEG_420 = 0, IC_JPEG_422 = 1, IC_JPEG_444 = 2 };

typedef struct {
    int channels;            // 1 (grayscale JPEG) or 3 (RGB in, YCbCr JPEG out)
    int quality;             // 1...100
    int progressive;
    int subsampling;         // IC_JPEG_* (ignored for grayscale)
    int optimize_coding;     // optimal Huffman tables (one extra pass)
    const uint8_t *icc;      // ICC profile to embed as APP2 markers, or NULL
    uint32_t icc_length;
} ic_jpeg_encode_params;

// Encodes `height` rows of `stride` bytes into `out` (caller frees with ic_buffer_free).
int ic_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, size_t stride,
                   const ic_jpeg_encode_params *params, ic_buffer *out, ic_status *status);

#endif
