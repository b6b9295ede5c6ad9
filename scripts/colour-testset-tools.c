// Helpers for scripts/make-colour-testset.sh (built there with cc, never part of the package):
//   tools profiles DIR        writes DIR/display-p3.icc and DIR/gray-gamma22.icc (lcms2-generated)
//   tools ycck IN.jpg OUT.jpg re-encodes a CMYK JPEG as YCCK, keeping its samples and ICC profile
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <lcms2.h>

static int profiles(const char *dir) {
    char path[4096];
    // Display P3: DCI-P3 primaries, D65 white, the sRGB tone curve.
    cmsCIExyY white = {0.3127, 0.3290, 1.0};
    cmsCIExyYTRIPLE p3 = {{0.680, 0.320, 1.0}, {0.265, 0.690, 1.0}, {0.150, 0.060, 1.0}};
    cmsFloat64Number srgb[5] = {2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045};
    cmsToneCurve *curve = cmsBuildParametricToneCurve(NULL, 4, srgb);
    cmsToneCurve *curves[3] = {curve, curve, curve};
    cmsHPROFILE rgb = cmsCreateRGBProfile(&white, &p3, curves);
    cmsSetProfileVersion(rgb, 4.3);
    snprintf(path, sizeof path, "%s/display-p3.icc", dir);
    if (!cmsSaveProfileToFile(rgb, path)) return 1;
    cmsToneCurve *gamma = cmsBuildGamma(NULL, 2.2);
    cmsHPROFILE gray = cmsCreateGrayProfile(cmsD50_xyY(), gamma);
    snprintf(path, sizeof path, "%s/gray-gamma22.icc", dir);
    if (!cmsSaveProfileToFile(gray, path)) return 1;
    return 0;
}

static int ycck(const char *in_path, const char *out_path) {
    FILE *in = fopen(in_path, "rb"), *out = fopen(out_path, "wb");
    if (!in || !out) return 1;
    struct jpeg_decompress_struct d;
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e1, e2;
    d.err = jpeg_std_error(&e1);
    jpeg_create_decompress(&d);
    jpeg_stdio_src(&d, in);
    jpeg_save_markers(&d, JPEG_APP0 + 2, 0xFFFF);
    jpeg_read_header(&d, TRUE);
    JOCTET *icc = NULL;
    unsigned int icc_length = 0;
    jpeg_read_icc_profile(&d, &icc, &icc_length);
    d.out_color_space = JCS_CMYK;
    jpeg_start_decompress(&d);
    c.err = jpeg_std_error(&e2);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, out);
    c.image_width = d.output_width;
    c.image_height = d.output_height;
    c.input_components = 4;
    c.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_set_colorspace(&c, JCS_YCCK); // writes the Adobe marker (transform 2)
    jpeg_set_quality(&c, 92, TRUE);
    jpeg_start_compress(&c, TRUE);
    if (icc) jpeg_write_icc_profile(&c, icc, icc_length);
    JSAMPROW row = malloc((size_t)d.output_width * 4);
    while (d.output_scanline < d.output_height) {
        jpeg_read_scanlines(&d, &row, 1);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_finish_decompress(&d);
    free(row);
    free(icc);
    fclose(in);
    fclose(out);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "profiles") == 0) return profiles(argv[2]);
    if (argc == 4 && strcmp(argv[1], "ycck") == 0) return ycck(argv[2], argv[3]);
    fprintf(stderr, "usage: tools profiles DIR | tools ycck IN.jpg OUT.jpg\n");
    return 2;
}
