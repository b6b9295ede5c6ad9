#ifndef CKERNELCHOICE_H
#define CKERNELCHOICE_H

// Which kernel implementation the pixel routines run: the one place that asks
// the CPU what it has. CResample (resize, alpha) and CGeometry (orientation,
// rotation) both take a KC_PATH_* and dispatch on it; Swift picks the path once
// (KernelPath) and passes it down, so every kernel family agrees on what the
// machine can run.

enum {
    KC_PATH_PORTABLE = 0,
    KC_PATH_AVX2 = 1,
    KC_PATH_AVX512 = 2,
};

enum {
    KC_CPU_AVX2 = 1,
    /// AVX-512 F + BW + VL + VNNI (vpdpwssd) + VBMI (vpermb): the set the AVX-512 kernels use.
    KC_CPU_AVX512 = 2,
};

/// Bit set of KC_CPU_* for the running CPU (always 0 outside x86-64).
int kc_cpu_features(void);

/// The fastest KC_PATH_* the running CPU supports.
int kc_fastest_path(void);

#endif
