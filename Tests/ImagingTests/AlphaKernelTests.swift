import CResample
import XCTest
@testable import Imaging

/// The unpremultiply kernels: every path (the RGBA SIMD ones included) gives
/// exactly the bytes of a reference written here from the documented
/// arithmetic, for every (colour, alpha) pair and every tail length.
final class AlphaKernelTests: XCTestCase {
    /// min(255, (c * round(255 * 2^16 / a) + 2^15) >> 16), 0 at alpha 0, opaque unchanged.
    static func unpremultiplied(_ c: UInt8, alpha a: UInt8) -> UInt8 {
        if a == 255 { return c }
        if a == 0 { return 0 }
        let factor = (255 * 65536 + UInt64(a) / 2) / UInt64(a)
        return UInt8(min(255, (UInt64(c) * factor + 32768) >> 16))
    }

    /// Every (colour, alpha) pair once, with the three colour channels different.
    static func allPairs(channels: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for a in 0 ... 255 {
            for c in 0 ... 255 {
                let colour = [UInt8(c), UInt8(255 - c), UInt8((c * 7) & 255)]
                bytes += colour.prefix(channels - 1) + [UInt8(a)]
            }
        }
        return bytes
    }

    static func reference(_ bytes: [UInt8], channels: Int) -> [UInt8] {
        var out = bytes
        for p in stride(from: 0, to: out.count, by: channels) {
            let a = out[p + channels - 1]
            for c in 0 ..< channels - 1 { out[p + c] = unpremultiplied(out[p + c], alpha: a) }
        }
        return out
    }

    static func run(_ bytes: [UInt8], channels: Int, path: ResamplePath) -> [UInt8] {
        var out = bytes
        out.withUnsafeMutableBufferPointer {
            rs_unpremultiply_u8($0.baseAddress, $0.count / channels, Int32(channels), path.kernelPath)
        }
        return out
    }

    func testEveryPathMatchesTheReferenceForEveryColourAndAlpha() {
        for channels in [2, 4] {
            let input = Self.allPairs(channels: channels)
            let expected = Self.reference(input, channels: channels)
            for path in ResamplePath.supported {
                let out = Self.run(input, channels: channels, path: path)
                let wrong = out.indices.filter { out[$0] != expected[$0] }
                XCTAssertTrue(wrong.isEmpty, "\(channels) channels, \(path): \(wrong.count) samples differ, first at \(wrong.first ?? -1)")
            }
        }
    }

    func testTailsAndOpaqueRunsMatchOnEveryPath() {
        // Lengths around the 8- and 16-pixel vector steps, a misaligned start,
        // and runs where whole vectors are opaque (the skipped case) next to ones that are not.
        var generator = SystemRandomNumberGenerator()
        for count in [0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100] {
            var pixels: [UInt8] = [9, 9, 9, 9] // the misaligning pixel, not processed
            for p in 0 ..< count {
                let opaque = (p / 16) % 2 == 0
                pixels += [UInt8.random(in: 0 ... 255, using: &generator), UInt8.random(in: 0 ... 255, using: &generator),
                           UInt8.random(in: 0 ... 255, using: &generator), opaque ? 255 : UInt8.random(in: 0 ... 255, using: &generator)]
            }
            let expected = [9, 9, 9, 9] + Self.reference(Array(pixels.dropFirst(4)), channels: 4)
            for path in ResamplePath.supported {
                var out = pixels
                out.withUnsafeMutableBufferPointer {
                    rs_unpremultiply_u8($0.baseAddress! + 4, count, 4, path.kernelPath)
                }
                XCTAssertEqual(out, expected, "\(count) pixels, \(path)")
            }
        }
    }
}
