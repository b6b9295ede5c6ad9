import CKernelChoice

/// Which kernel implementation the pixel routines run: resizing and the alpha
/// passes (CResample) and orientation and rotation (CGeometry) all take it
/// from here, so they agree on what the CPU can run. Every path gives
/// byte-identical pixels; forcing one is for tests and benchmarks, and a
/// forced path the CPU lacks is an error everywhere (never a silent fallback).
public enum KernelPath: String, Sendable, CaseIterable {
    /// The fastest path the CPU supports.
    case automatic
    /// Plain C, vectorised by the compiler (SSE2 on x86-64, NEON on arm64).
    case portable
    /// x86-64 AVX2 (`vpmaddwd`, `vpshufb`).
    case avx2
    /// x86-64 AVX-512 BW/VL with VNNI (`vpdpwssd`) and VBMI (`vpermb`).
    case avx512

    /// The concrete paths this CPU can run, slowest first (`portable` is always there).
    public static let supported: [KernelPath] = {
        let features = kc_cpu_features()
        var paths: [KernelPath] = [.portable]
        if features & Int32(KC_CPU_AVX2) != 0 { paths.append(.avx2) }
        if features & Int32(KC_CPU_AVX512) != 0 { paths.append(.avx512) }
        return paths
    }()

    public var isSupported: Bool { self == .automatic || Self.supported.contains(self) }

    /// The concrete path to run, or an error when the CPU lacks the forced one.
    func resolved() throws(ImagingError) -> KernelPath {
        switch self {
        case .automatic:
            return Self.supported.last ?? .portable
        default:
            guard isSupported else {
                throw ImagingError(.unsupported, "kernel path \(rawValue) is not supported by this CPU")
            }
            return self
        }
    }

    /// The KC_PATH_* the C kernels dispatch on (`automatic` resolves first).
    var kernelPath: Int32 {
        switch self {
        case .avx2: Int32(KC_PATH_AVX2)
        case .avx512: Int32(KC_PATH_AVX512)
        case .portable: Int32(KC_PATH_PORTABLE)
        case .automatic: (Self.supported.last ?? .portable).kernelPath
        }
    }
}

/// The earlier name, from when only resizing chose kernels.
public typealias ResamplePath = KernelPath
