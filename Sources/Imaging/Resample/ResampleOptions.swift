import CResample
import Foundation

/// Which kernel implementation runs the two passes. Every path gives
/// byte-identical pixels; forcing one is for tests and benchmarks.
public enum ResamplePath: String, Sendable, CaseIterable {
    /// The fastest path the CPU supports.
    case automatic
    /// Plain C, vectorised by the compiler (SSE2 on x86-64, NEON on arm64).
    case portable
    /// x86-64 AVX2 (`vpmaddwd`).
    case avx2
    /// x86-64 AVX-512 BW/VL with VNNI (`vpdpwssd`).
    case avx512

    /// The concrete paths this CPU can run, slowest first (`portable` is always there).
    public static let supported: [ResamplePath] = {
        let features = rs_cpu_features()
        var paths: [ResamplePath] = [.portable]
        if features & Int32(RS_CPU_AVX2) != 0 { paths.append(.avx2) }
        if features & Int32(RS_CPU_AVX512) != 0 { paths.append(.avx512) }
        return paths
    }()

    public var isSupported: Bool { self == .automatic || Self.supported.contains(self) }

    /// The concrete path to run, or an error when the CPU lacks the forced one.
    func resolved() throws(ImagingError) -> ResamplePath {
        switch self {
        case .automatic:
            return Self.supported.last ?? .portable
        default:
            guard isSupported else {
                throw ImagingError(.unsupported, "resample path \(rawValue) is not supported by this CPU")
            }
            return self
        }
    }

    var kernelPath: Int32 {
        switch self {
        case .avx2: Int32(RS_PATH_AVX2)
        case .avx512: Int32(RS_PATH_AVX512)
        default: Int32(RS_PATH_PORTABLE)
        }
    }
}

/// How `PixelBuffer.resized(width:height:options:)` resamples.
public struct ResampleOptions: Sendable, Equatable {
    public var filter: ResampleFilter
    /// Worker threads, each producing a horizontal stripe of the output;
    /// nil uses every active processor. Any count gives the same pixels.
    public var threads: Int?
    /// Resample linear-light values (sRGB decoded to linear floats and back)
    /// instead of the stored sRGB values. Keeps the brightness of fine
    /// detail and high-contrast edges; slower (portable float code only).
    public var linearLight: Bool
    public var path: ResamplePath

    public init(filter: ResampleFilter = .lanczos3, threads: Int? = nil, linearLight: Bool = false, path: ResamplePath = .automatic) {
        self.filter = filter
        self.threads = threads
        self.linearLight = linearLight
        self.path = path
    }

    var threadCount: Int {
        max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
    }
}
