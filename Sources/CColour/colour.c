#include "cc_colour.h"

#include <stdio.h>
#include <string.h>

#include <lcms2.h>

typedef struct {
    char *message;
    size_t length;
} cc_log;

// lcms2 reports problems through the context's log handler; keep the first one.
static void on_log(cmsContext context, cmsUInt32Number code, const char *text) {
    (void)code;
    cc_log *log = cmsGetContextUserData(context);
    if (log && log->length > 0 && log->message[0] == 0) snprintf(log->message, log->length, "%s", text);
}

static void set_message(char *message, size_t length, const char *text) {
    if (length > 0 && message[0] == 0) snprintf(message, length, "%s", text);
}

static int model_of(cmsHPROFILE profile) {
    switch (cmsGetColorSpace(profile)) {
    case cmsSigGrayData: return CC_MODEL_GRAY;
    case cmsSigRgbData: return CC_MODEL_RGB;
    case cmsSigCmykData: return CC_MODEL_CMYK;
    default: return CC_MODEL_OTHER;
    }
}

// The output profile: sRGB, or for gray input a gray with sRGB's tone curve
// (so gray stays one channel and matches sRGB's neutrals).
static cmsHPROFILE srgb_for(cmsContext context, int model) {
    if (model != CC_MODEL_GRAY) return cmsCreate_sRGBProfileTHR(context);
    // sRGB's curve: IEC 61966-2-1 as an ICC parametric type 4 curve.
    cmsFloat64Number p[5] = {2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045};
    cmsToneCurve *curve = cmsBuildParametricToneCurve(context, 4, p);
    if (!curve) return NULL;
    cmsHPROFILE gray = cmsCreateGrayProfileTHR(context, cmsD50_xyY(), curve);
    cmsFreeToneCurve(curve);
    return gray;
}

static cmsUInt32Number input_format(const cc_input *in) {
    switch (in->model) {
    case CC_MODEL_GRAY: return in->has_alpha ? TYPE_GRAYA_8 : TYPE_GRAY_8;
    case CC_MODEL_RGB: return in->has_alpha ? TYPE_RGBA_8 : TYPE_RGB_8;
    default: return in->cmyk_inverted ? TYPE_CMYK_8_REV : TYPE_CMYK_8;
    }
}

static cmsUInt32Number output_format(const cc_input *in) {
    if (in->model == CC_MODEL_GRAY) return in->has_alpha ? TYPE_GRAYA_8 : TYPE_GRAY_8;
    return in->has_alpha && in->model == CC_MODEL_RGB ? TYPE_RGBA_8 : TYPE_RGB_8;
}

static cmsHTRANSFORM make_transform(cmsContext context, cmsHPROFILE source, const cc_input *in) {
    cmsHPROFILE target = srgb_for(context, in->model);
    if (!target) return NULL;
    cmsUInt32Number flags = cmsFLAGS_BLACKPOINTCOMPENSATION | cmsFLAGS_NOCACHE;
    if (in->has_alpha) flags |= cmsFLAGS_COPY_ALPHA;
    cmsHTRANSFORM transform = cmsCreateTransformTHR(context, source, input_format(in), target, output_format(in),
                                                    INTENT_RELATIVE_COLORIMETRIC, flags);
    cmsCloseProfile(target);
    return transform;
}

int cc_profile_model(const uint8_t *icc, size_t length, char *message, size_t message_length) {
    if (message_length > 0) message[0] = 0;
    cc_log log = {message, message_length};
    cmsContext context = cmsCreateContext(NULL, &log);
    if (!context) { set_message(message, message_length, "out of memory"); return CC_MODEL_UNREADABLE; }
    cmsSetLogErrorHandlerTHR(context, on_log);
    int model = CC_MODEL_UNREADABLE;
    cmsHPROFILE profile = cmsOpenProfileFromMemTHR(context, icc, (cmsUInt32Number)length);
    if (profile) {
        model = model_of(profile);
        if (model != CC_MODEL_OTHER) {
            // Readable headers are not enough: a profile whose tags are missing
            // or damaged only fails when a transform is built from it.
            cc_input probe = {model, 0, 0};
            cmsHTRANSFORM transform = make_transform(context, profile, &probe);
            if (transform) cmsDeleteTransform(transform);
            else model = CC_MODEL_UNREADABLE;
        }
        cmsCloseProfile(profile);
    }
    if (model == CC_MODEL_UNREADABLE) set_message(message, message_length, "lcms2 cannot read the profile");
    cmsDeleteContext(context);
    return model;
}

int cc_convert_to_srgb(const uint8_t *icc, size_t length, const cc_input *input, const uint8_t *in, uint8_t *out,
                       size_t pixels, char *message, size_t message_length) {
    if (message_length > 0) message[0] = 0;
    cc_log log = {message, message_length};
    cmsContext context = cmsCreateContext(NULL, &log);
    if (!context) { set_message(message, message_length, "out of memory"); return -1; }
    cmsSetLogErrorHandlerTHR(context, on_log);
    int result = -1;
    cmsHPROFILE source = icc ? cmsOpenProfileFromMemTHR(context, icc, (cmsUInt32Number)length)
                             : (input->model == CC_MODEL_CMYK ? NULL : srgb_for(context, input->model));
    if (source) {
        cmsHTRANSFORM transform = make_transform(context, source, input);
        if (transform) {
            // cmsDoTransform counts pixels in a cmsUInt32Number: go in slices.
            const size_t slice = 1u << 24;
            size_t in_size = (size_t)T_BYTES(input_format(input)) * (T_CHANNELS(input_format(input)) + T_EXTRA(input_format(input)));
            size_t out_size = (size_t)T_CHANNELS(output_format(input)) + T_EXTRA(output_format(input));
            for (size_t done = 0; done < pixels; done += slice) {
                size_t n = pixels - done < slice ? pixels - done : slice;
                cmsDoTransform(transform, in + done * in_size, out + done * out_size, (cmsUInt32Number)n);
            }
            cmsDeleteTransform(transform);
            result = 0;
        }
        cmsCloseProfile(source);
    }
    if (result != 0) set_message(message, message_length, "lcms2 cannot convert with this profile");
    cmsDeleteContext(context);
    return result;
}
