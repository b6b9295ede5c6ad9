// CPU feature detection for the kernel families. Cached after the first call;
// the answer cannot change while the process runs.

#include "CKernelChoice.h"

static int detect(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    int features = 0;
    if (__builtin_cpu_supports("avx2")) {
        features |= KC_CPU_AVX2;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
            __builtin_cpu_supports("avx512vbmi"))
            features |= KC_CPU_AVX512;
    }
    return features;
#else
    return 0;
#endif
}

int kc_cpu_features(void) {
    // A benign race: every thread computes and stores the same value.
    static int cached = -1;
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v < 0) {
        v = detect();
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v;
}

int kc_fastest_path(void) {
    const int f = kc_cpu_features();
    if (f & KC_CPU_AVX512) return KC_PATH_AVX512;
    if (f & KC_CPU_AVX2) return KC_PATH_AVX2;
    return KC_PATH_PORTABLE;
}
