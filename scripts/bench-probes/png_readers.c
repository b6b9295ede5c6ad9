// The three PNG readers side by side in one process (built and run by
// scripts/bench-probes/png-readers.sh): libpng alone, the whole-buffer reader with
// the scalar unfiltering, and with the SSSE3 kernels. Best of N CPU milliseconds
// each, and the ratio libpng / reader; the pixels are checked to be identical.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ic_png.h"

static double cpu_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: png_readers FILE.png [rounds]\n"); return 2; }
    int rounds = argc > 2 ? atoi(argv[2]) : 7;
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 2; }
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc(n);
    if (fread(data, 1, n, f) != n) return 2;
    fclose(f);
    static const char *names[] = {"libpng", "whole-buffer, scalar", "whole-buffer, SSSE3"};
    uint8_t *reference = NULL;
    double best[3];
    for (int reader = 0; reader < 3; reader++) {
        best[reader] = 1e30;
        for (int r = 0; r < rounds; r++) {
            double t0 = cpu_ms();
            ic_png_info info;
            ic_status status;
            ic_png_decoder *d = ic_png_open(data, n, 65535, 8u << 20, 0, &info, &status);
            if (!d) { fprintf(stderr, "%s: %s\n", argv[1], status.message); return 1; }
            size_t bytes = (size_t)info.width * info.height * (size_t)info.channels;
            uint8_t *pixels = malloc(bytes);
            int whole = 0;
            int result = ic_png_read(d, pixels, (size_t)info.width * (size_t)info.channels, reader, 0, &whole, &status);
            ic_png_close(d);
            double t = cpu_ms() - t0;
            if (result != 0) { fprintf(stderr, "%s: %s\n", argv[1], status.message); return 1; }
            if (reader > 0 && !whole) { fprintf(stderr, "%s: the whole-buffer reader declined it\n", argv[1]); return 1; }
            if (t < best[reader]) best[reader] = t;
            if (!reference) { reference = pixels; continue; }
            if (memcmp(reference, pixels, bytes) != 0) { fprintf(stderr, "%s: pixels differ\n", argv[1]); return 1; }
            free(pixels);
        }
    }
    for (int reader = 0; reader < 3; reader++)
        printf("%s  %-22s %8.1f ms  libpng / this %.2f\n", argv[1], names[reader], best[reader], best[0] / best[reader]);
    return 0;
}
