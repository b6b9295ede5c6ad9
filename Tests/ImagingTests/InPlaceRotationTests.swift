import XCTest
@testable import Imaging

/// The consuming rotations (`PixelBuffer.rotate`, `Image.rotate`,
/// `Image.applyingConsuming`, `PixelBuffer.applyOrientation`): the bytes of the
/// out-of-place calls on every kernel path and thread count, the scalar
/// reference for the half turn, and no second buffer when the pixels are
/// uniquely held.
final class InPlaceRotationTests: XCTestCase {
    private static let sizes = [(1, 1), (2, 1), (1, 2), (17, 5), (70, 33), (301, 203)]
    private static let angles: [Double] = [0, 90, 180, 270, -180, 540, 17]

    private static func address(_ buffer: PixelBuffer) -> UInt {
        buffer.bytes.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
    }

    func testRotateInPlaceGivesTheBytesOfRotatedOnEveryAnglePathAndThreadCount() throws {
        for layout in PixelLayout.allCases {
            for (w, h) in Self.sizes {
                let image = RotateTests.randomImage(width: w, height: h, layout: layout, seed: UInt64(w * 13 + h))
                let halfTurn = RotateTests.referenceOrientation(image, exif: 3)
                for degrees in Self.angles {
                    for path in KernelPath.supported {
                        for threads in degrees == 17 ? [1] : [1, 2, 5] {
                            let options = RotateOptions(threads: threads, path: path)
                            var turned = image
                            try turned.rotate(degrees: degrees, options: options)
                            let label = "\(layout) \(w)x\(h) \(degrees) \(path) threads \(threads)"
                            XCTAssertEqual(turned, try image.rotated(degrees: degrees, options: options), label)
                            if Int(degrees) % 360 == 180 || Int(degrees) % 360 == -180 {
                                XCTAssertEqual(turned, halfTurn, label)
                            }
                        }
                    }
                }
            }
        }
    }

    func testRotateInPlaceRefusesWhatRotatedRefuses() throws {
        var image = RotateTests.randomImage(width: 5, height: 4, layout: .rgb, seed: 1)
        let before = image
        for degrees in [Double.nan, .infinity] {
            XCTAssertThrowsError(try image.rotate(degrees: degrees)) { error in
                XCTAssertEqual((error as? ImagingError)?.code, .invalidArgument)
            }
        }
        XCTAssertEqual(image, before)
        var empty = PixelBuffer(width: 0, height: 3, layout: .rgb)
        XCTAssertThrowsError(try empty.rotate(degrees: 180)) { error in
            XCTAssertEqual((error as? ImagingError)?.code, .invalidArgument)
        }
        if let missing = KernelPath.allCases.first(where: { !$0.isSupported }) {
            XCTAssertThrowsError(try image.rotate(degrees: 180, options: RotateOptions(path: missing)))
            XCTAssertEqual(image, before)
        }
    }

    func testAHalfTurnOfUniquelyHeldPixelsWritesIntoTheirOwnStorage() throws {
        var buffer = RotateTests.randomImage(width: 64, height: 48, layout: .rgb, seed: 2)
        let expected = RotateTests.referenceOrientation(buffer, exif: 3)
        let start = Self.address(buffer)
        try buffer.rotate(degrees: 180, options: RotateOptions(threads: 1))
        XCTAssertEqual(Self.address(buffer), start, "PixelBuffer.rotate copied a uniquely held buffer")
        XCTAssertEqual(buffer, expected)

        var image = Image(pixels: RotateTests.randomImage(width: 40, height: 30, layout: .rgba, seed: 3))
        let imageExpected = RotateTests.referenceOrientation(image.pixels, exif: 3)
        let imageStart = Self.address(image.pixels)
        try image.rotate(degrees: -180)
        XCTAssertEqual(Self.address(image.pixels), imageStart, "Image.rotate copied a uniquely held image")
        XCTAssertEqual(image.pixels, imageExpected)

        let source = Image(pixels: RotateTests.randomImage(width: 33, height: 21, layout: .gray, seed: 4))
        let sourceExpected = RotateTests.referenceOrientation(source.pixels, exif: 3)
        let sourceStart = Self.address(source.pixels)
        let derived = try (consume source).applyingConsuming(.rotate(degrees: 180))
        XCTAssertEqual(derived.count, 1)
        XCTAssertEqual(Self.address(derived[0].image.pixels), sourceStart, "applyingConsuming copied a consumed image")
        XCTAssertEqual(derived[0].image.pixels, sourceExpected)
    }

    func testAHalfTurnLeavesAnotherHolderOfThePixelsAlone() throws {
        let original = RotateTests.randomImage(width: 31, height: 17, layout: .rgb, seed: 5)
        var turned = original
        try turned.rotate(degrees: 180)
        XCTAssertEqual(turned, RotateTests.referenceOrientation(original, exif: 3))
        XCTAssertNotEqual(turned, original)
        XCTAssertEqual(original, RotateTests.randomImage(width: 31, height: 17, layout: .rgb, seed: 5))

        let image = Image(pixels: original)
        let derived = try image.applyingConsuming(.rotate(degrees: 180))
        XCTAssertEqual(derived[0].image.pixels, turned)
        XCTAssertEqual(image.pixels, original, "the caller's image must keep its pixels")
    }

    func testApplyingConsumingGivesWhatApplyingGivesForEveryAction() throws {
        let image = Image(pixels: RotateTests.randomImage(width: 90, height: 60, layout: .rgb, seed: 6), sourceFormat: .png)
        let actions: [ImageAction] = [
            .rotate(degrees: 180), .rotate(degrees: 90), .rotate(degrees: 17), .rotate(degrees: 0),
            .scale(width: 45, height: nil), .crop(x: 3, y: 4, width: 20, height: 10),
            .thumbnails([PixelSize(width: 16, height: 16), PixelSize(width: 30, height: 10)]),
        ]
        for action in actions {
            for alpha in [false, true] {
                let options = ProcessingOptions(threads: 2)
                let expected = try image.applying(action, outputHasAlpha: alpha, options: options)
                let copy = image
                let got = try copy.applyingConsuming(action, outputHasAlpha: alpha, options: options)
                XCTAssertEqual(got.map(\.image), expected.map(\.image), "\(action) alpha \(alpha)")
                XCTAssertEqual(got.map(\.coverCrop), expected.map(\.coverCrop), "\(action) alpha \(alpha)")
            }
        }
    }

    func testApplyOrientationGivesTheBytesOfApplyingOrientation() throws {
        for layout in PixelLayout.allCases {
            for (w, h) in Self.sizes {
                let image = RotateTests.randomImage(width: w, height: h, layout: layout, seed: UInt64(w + 7 * h))
                for exif in 0 ... 9 {
                    let expected = RotateTests.referenceOrientation(image, exif: (1 ... 8).contains(exif) ? exif : 1)
                    var plain = image
                    plain.applyOrientation(exif)
                    XCTAssertEqual(plain, image.applyingOrientation(exif), "\(layout) \(w)x\(h) exif \(exif)")
                    for path in KernelPath.supported {
                        for threads in [1, 3] {
                            var turned = image
                            try turned.applyOrientation(exif, threads: threads, path: path)
                            XCTAssertEqual(turned, expected, "\(layout) \(w)x\(h) exif \(exif) \(path) threads \(threads)")
                        }
                    }
                }
            }
        }
        var held = RotateTests.randomImage(width: 50, height: 20, layout: .rgb, seed: 7)
        let start = Self.address(held)
        held.applyOrientation(3)
        XCTAssertEqual(Self.address(held), start, "orientation 3 copied a uniquely held buffer")
    }

    func testEveryFrameOfAnAnimationTurnsAndKeepsItsTiming() throws {
        let frames = (0 ..< 3).map { n in
            ImageFrame(pixels: RotateTests.randomImage(width: 12, height: 9, layout: .rgba, seed: UInt64(20 + n)), delayCentiseconds: 5 + n)
        }
        let animation = Image(frames: frames, loopCount: 0, sourceFormat: .gif)
        for degrees in [180.0, 90, 33] {
            var turned = animation
            try turned.rotate(degrees: degrees)
            XCTAssertEqual(turned, try animation.rotated(degrees: degrees), "\(degrees)")
            XCTAssertEqual(turned.frames.map(\.delayCentiseconds), [5, 6, 7])
        }
    }

    func testAJPEGStoredUpsideDownDecodesToTheHalfTurnOfItsStoredPixels() throws {
        let bytes = try Corpus.bytes("jpeg/exif-orientation/Landscape_3.jpg")
        let stored = try ImageDecoder.decode(bytes, options: DecodeOptions(applyOrientation: false))
        let upright = try ImageDecoder.decode(bytes)
        XCTAssertEqual(upright.pixels, RotateTests.referenceOrientation(stored.pixels, exif: 3))
        XCTAssertNotEqual(upright.pixels, stored.pixels)
    }
}
