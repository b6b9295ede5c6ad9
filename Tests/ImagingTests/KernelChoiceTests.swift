import CKernelChoice
import XCTest
@testable import Imaging

/// The in-place half turn, the shared kernel choice and the coefficient cache.
final class KernelChoiceTests: XCTestCase {
    // MARK: In-place half turn

    func testHalfTurnInPlaceGivesTheOutOfPlaceBytesOnEveryPathAndThreadCount() throws {
        // Odd and even sizes, one row, one column, and runs longer than one swap block (1024 pixels).
        let sizes = [(1, 1), (2, 1), (1, 2), (3, 3), (9, 1), (1, 9), (17, 5), (70, 33), (100, 37), (1500, 3), (601, 19)]
        for layout in PixelLayout.allCases {
            for (w, h) in sizes {
                let image = RotateTests.randomImage(width: w, height: h, layout: layout, seed: UInt64(w * 7 + h))
                let expected = RotateTests.referenceOrientation(image, exif: 3)
                for path in KernelPath.supported {
                    for threads in [1, 2, 5] {
                        var turned = image
                        try turned.turnHalfInPlace(threads: threads, path: path)
                        XCTAssertEqual(turned, expected, "\(layout) \(w)x\(h) \(path) threads \(threads)")
                    }
                }
            }
        }
    }

    func testHalfTurnInPlaceLeavesASharedCopyAlone() throws {
        let image = RotateTests.randomImage(width: 33, height: 21, layout: .rgb, seed: 4)
        let keep = image
        var turned = image
        try turned.turnHalfInPlace()
        XCTAssertEqual(keep, image)
        XCTAssertNotEqual(turned, image)
        try turned.turnHalfInPlace()
        XCTAssertEqual(turned, image)
    }

    func testHalfTurnInPlaceWritesIntoItsOwnStorageWhenUnshared() throws {
        var image = RotateTests.randomImage(width: 64, height: 48, layout: .rgba, seed: 5)
        let before = image.bytes.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        try image.turnHalfInPlace(threads: 1)
        let after = image.bytes.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        XCTAssertEqual(before, after, "a uniquely held buffer must not be copied")
    }

    // MARK: Kernel choice

    func testEveryKernelFamilyResolvesToTheSameFastestPath() {
        let fastest = KernelPath.supported.last!
        XCTAssertEqual(fastest.kernelPath, kc_fastest_path())
        XCTAssertEqual(KernelPath.automatic.kernelPath, kc_fastest_path())
        XCTAssertEqual(try KernelPath.automatic.resolved(), fastest)
    }

    func testAForcedPathTheCPULacksIsAnErrorForOrientationAsForResizing() throws {
        let image = RotateTests.randomImage(width: 9, height: 7, layout: .rgb, seed: 6)
        guard let missing = KernelPath.allCases.first(where: { !$0.isSupported }) else {
            // This CPU runs every path: nothing can be missing, and every forced one must work.
            for path in KernelPath.allCases { XCTAssertNoThrow(try image.applyingOrientation(6, threads: 1, path: path)) }
            return
        }
        XCTAssertThrowsError(try image.applyingOrientation(6, threads: 1, path: missing))
        XCTAssertThrowsError(try image.resized(width: 4, height: 4, options: ResampleOptions(path: missing)))
        var copy = image
        XCTAssertThrowsError(try copy.turnHalfInPlace(path: missing))
    }

    // MARK: Coefficient cache

    func testCachedCoefficientsGiveTheBytesOfAFreshComputation() throws {
        let image = RotateTests.randomImage(width: 257, height: 131, layout: .rgba, seed: 8)
        for filter in [ResampleFilter.bilinear, .bicubic, .lanczos3] {
            for path in KernelPath.supported {
                let options = ResampleOptions(filter: filter, threads: 1, path: path)
                let first = try image.resized(width: 61, height: 29, options: options)
                let second = try image.resized(width: 61, height: 29, options: options)
                XCTAssertEqual(first, second, "\(filter) \(path)")
                // The vertical axis (131 -> 29) is now cached; a fresh cache computes it from scratch.
                let fresh = CoefficientCache(capacity: 4)
                let key = CoefficientCache.Key(inSize: 131, outSize: 29, filter: filter, tapMultiple: 1, packedFor: nil, channels: 0)
                let made = fresh.coefficients(key) {
                    FixedPointCoefficients(ResampleWindows(filter: filter, inSize: 131, outSize: 29), tapMultiple: 1)
                }
                let cached = CoefficientCache.shared.coefficients(key) { XCTFail("already cached"); return nil }
                XCTAssertEqual(made?.weights, cached?.weights, "\(filter)")
                XCTAssertEqual(made?.start, cached?.start, "\(filter)")
            }
        }
    }

    func testTheCacheKeepsOnlyItsCapacityAndRemembersMisses() {
        let cache = CoefficientCache(capacity: 2)
        var computed = 0
        func key(_ n: Int) -> CoefficientCache.Key {
            CoefficientCache.Key(inSize: 100, outSize: n, filter: .bicubic, tapMultiple: 1, packedFor: nil, channels: 0)
        }
        func get(_ n: Int) -> FixedPointCoefficients? {
            cache.coefficients(key(n)) {
                computed += 1
                return n == 0 ? nil : FixedPointCoefficients(ResampleWindows(filter: .bicubic, inSize: 100, outSize: n), tapMultiple: 1)
            }
        }
        _ = get(10); _ = get(10)
        XCTAssertEqual(computed, 1)
        XCTAssertNil(get(0)); XCTAssertNil(get(0))
        XCTAssertEqual(computed, 2, "a nil result is cached too")
        _ = get(20)   // evicts 10, the least recently used
        XCTAssertEqual(cache.count, 2)
        _ = get(10)
        XCTAssertEqual(computed, 4)
    }
}
