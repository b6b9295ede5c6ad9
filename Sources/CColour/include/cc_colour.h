#ifndef CC_COLOUR_H
#define CC_COLOUR_H

#include <stddef.h>
#include <stdint.h>

// Colour conversion to sRGB through Little CMS 2. Each call makes its own
// lcms2 context, so calls on different threads never share state, and lcms2's
// error messages land in the caller's buffer instead of on stderr.

// The colour model a profile describes (its data colour space).
enum { CC_MODEL_UNREADABLE = -1, CC_MODEL_OTHER = 0, CC_MODEL_GRAY = 1, CC_MODEL_RGB = 3, CC_MODEL_CMYK = 4 };

// Parses `icc` and returns its CC_MODEL_*; CC_MODEL_UNREADABLE (with `message`
// set) when lcms2 refuses it or cannot build a transform from it to sRGB.
int cc_profile_model(const uint8_t *icc, size_t length, char *message, size_t message_length);

typedef struct {
    int model;        // CC_MODEL_GRAY, _RGB or _CMYK: what the input samples are
    int has_alpha;    // gray+alpha / RGBA input (the alpha is copied through)
    int cmyk_inverted;// CMYK samples stored as 255 - ink (Adobe JPEGs)
} cc_input;

// Converts `pixels` pixels from `in` (interleaved 8-bit samples of `input`) to
// sRGB in `out`, with relative colorimetric intent and black-point
// compensation. Gray stays gray (a gray with the sRGB tone curve), so out has
// 1 or 2 samples per pixel for gray, 3 or 4 for RGB and 3 for CMYK.
// `icc` NULL means the input is sRGB already (used for CMYK only as an error).
// Returns 0 on success, -1 with `message` set.
int cc_convert_to_srgb(const uint8_t *icc, size_t length, const cc_input *input, const uint8_t *in, uint8_t *out,
                       size_t pixels, char *message, size_t message_length);

#endif
