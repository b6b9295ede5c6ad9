// The per-pixel cost of the colour step, as the worker runs it: the CColour
// shim over lcms2 on raw RGB samples (built and run by scripts/bench-colour.sh).
//   colour-cost RAW.rgb PIXELS PROFILE.icc RUNS  -> prints the best seconds
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "cc_colour.h"

static unsigned char *slurp(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    rewind(f);
    unsigned char *p = malloc(*size);
    if (fread(p, 1, *size, f) != *size) { fclose(f); return NULL; }
    fclose(f);
    return p;
}

int main(int argc, char **argv) {
    if (argc != 5) return 2;
    size_t raw_size, icc_size, pixels = strtoul(argv[2], NULL, 10);
    unsigned char *raw = slurp(argv[1], &raw_size), *icc = slurp(argv[3], &icc_size);
    if (!raw || !icc || raw_size != pixels * 3) return 1;
    unsigned char *out = malloc(raw_size);
    cc_input input = {CC_MODEL_RGB, 0, 0};
    char message[256];
    double best = 1e9;
    for (int run = 0; run < atoi(argv[4]); run++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        if (cc_convert_to_srgb(icc, icc_size, &input, raw, out, pixels, message, sizeof message) != 0) return 1;
        clock_gettime(CLOCK_MONOTONIC, &b);
        double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
        if (s < best) best = s;
    }
    printf("%.4f\n", best);
    return 0;
}
