import Foundation

/// The reconstruction kernel used to resample an image.
///
/// Kernels and supports match Pillow's definitions (libvips uses the same
/// ones), so outputs can be compared with those tools. When shrinking, the
/// kernel is stretched by the ratio, so every input pixel contributes
/// (anti-aliasing).
public enum ResampleFilter: String, Sendable, CaseIterable {
    /// Picks the input pixel under each output pixel's centre: no blending.
    case nearest
    /// Averages the input pixels an output pixel covers.
    case box
    /// Triangle filter (linear interpolation when enlarging).
    case bilinear
    /// Catmull-Rom cubic (a = -0.5), Pillow's BICUBIC and libvips' `cubic`.
    case bicubic
    /// Mitchell-Netravali (B = C = 1/3): smoother than Catmull-Rom, less ringing.
    case mitchell
    /// Windowed sinc with three lobes: the sharpest, and the default.
    case lanczos3

    /// Half-width of the kernel in input pixels at scale 1.
    var support: Double {
        switch self {
        case .nearest: 0
        case .box: 0.5
        case .bilinear: 1
        case .bicubic, .mitchell: 2
        case .lanczos3: 3
        }
    }

    /// The kernel's value at distance `x` (in kernel units).
    func weight(_ x: Double) -> Double {
        switch self {
        case .nearest:
            return 0
        case .box:
            // Half-open so a pixel on the boundary belongs to exactly one side.
            return x > -0.5 && x <= 0.5 ? 1 : 0
        case .bilinear:
            let t = abs(x)
            return t < 1 ? 1 - t : 0
        case .bicubic:
            let a = -0.5
            let t = abs(x)
            if t < 1 { return ((a + 2) * t - (a + 3)) * t * t + 1 }
            if t < 2 { return (((t - 5) * t + 8) * t - 4) * a }
            return 0
        case .mitchell:
            let b = 1.0 / 3.0, c = 1.0 / 3.0
            let t = abs(x)
            if t < 1 {
                return ((12 - 9 * b - 6 * c) * t * t * t + (-18 + 12 * b + 6 * c) * t * t + (6 - 2 * b)) / 6
            }
            if t < 2 {
                return ((-b - 6 * c) * t * t * t + (6 * b + 30 * c) * t * t + (-12 * b - 48 * c) * t + (8 * b + 24 * c)) / 6
            }
            return 0
        case .lanczos3:
            guard x > -3 && x < 3 else { return 0 }
            return Self.sinc(x) * Self.sinc(x / 3)
        }
    }

    private static func sinc(_ x: Double) -> Double {
        if x == 0 { return 1 }
        let px = Double.pi * x
        return sin(px) / px
    }
}
