import Foundation
import Imaging
import XCTest

/// PSNR against values worked out by hand: 10 log10(255² / MSE).
final class ImageComparisonTests: XCTestCase {
    private func gradient(_ w: Int, _ h: Int, layout: PixelLayout = .rgb) -> PixelBuffer {
        var bytes: [UInt8] = []
        for y in 0 ..< h {
            for x in 0 ..< w {
                let rgb = [UInt8((x * 9) & 0xFF), UInt8((y * 5) & 0xFF), UInt8((x + y) & 0xFF)]
                bytes += layout == .rgba ? rgb + [255] : rgb
            }
        }
        return PixelBuffer(width: w, height: h, layout: layout, bytes: bytes)
    }

    func testIdenticalImagesAreInfinitelyClose() throws {
        let a = gradient(17, 9)
        XCTAssertEqual(try ImageComparison.psnr(a, a), .infinity)
        XCTAssertEqual(try ImageComparison.psnr(Image(pixels: a), Image(pixels: a)), .infinity)
        // The same pixels in another layout are still identical.
        XCTAssertEqual(try ImageComparison.psnr(a, a.converted(to: .rgba)), .infinity)
    }

    func testUniformNoiseGivesItsKnownValue() throws {
        let a = PixelBuffer(width: 8, height: 8, layout: .rgb, bytes: [UInt8](repeating: 100, count: 8 * 8 * 3))
        // Every sample off by 5, alternately up and down: MSE 25.
        let b = PixelBuffer(width: 8, height: 8, layout: .rgb, bytes: a.bytes.indices.map { $0 % 2 == 0 ? 105 : 95 })
        XCTAssertEqual(try ImageComparison.meanSquaredError(a, b), 25)
        XCTAssertEqual(try ImageComparison.psnr(a, b), 10 * log10(65025.0 / 25), accuracy: 1e-9) // 34.15 dB
        XCTAssertEqual(try ImageComparison.psnr(a, b), 34.151, accuracy: 0.001)
        // One level everywhere: 48.13 dB, the figure the type's documentation quotes.
        let c = PixelBuffer(width: 8, height: 8, layout: .rgb, bytes: a.bytes.map { $0 + 1 })
        XCTAssertEqual(try ImageComparison.psnr(a, c), 48.1308, accuracy: 0.0001)
    }

    func testOneWrongSampleIsDilutedByTheImageSize() throws {
        let a = gradient(10, 10)
        var bytes = a.bytes
        bytes[0] = bytes[0] &+ 128
        let b = PixelBuffer(width: 10, height: 10, layout: .rgb, bytes: bytes)
        // MSE = 128² / 300 samples.
        XCTAssertEqual(try ImageComparison.psnr(a, b), 10 * log10(65025.0 * 300 / (128 * 128)), accuracy: 1e-9)
    }

    func testHiddenColourUnderTransparencyDoesNotCount() throws {
        let a = PixelBuffer(width: 2, height: 1, layout: .rgba, bytes: [10, 20, 30, 0, 50, 60, 70, 255])
        let b = PixelBuffer(width: 2, height: 1, layout: .rgba, bytes: [200, 0, 99, 0, 50, 60, 70, 255])
        XCTAssertEqual(try ImageComparison.psnr(a, b), .infinity)
        // Alpha itself counts: one of 8 samples off by 255.
        let c = PixelBuffer(width: 2, height: 1, layout: .rgba, bytes: [10, 20, 30, 0, 50, 60, 70, 0])
        // Pixel 2 goes from opaque (50,60,70) to transparent: premultiplied differences 50, 60, 70 and alpha 255.
        let mse = Double(50 * 50 + 60 * 60 + 70 * 70 + 255 * 255) / 8
        XCTAssertEqual(try ImageComparison.psnr(a, c), 10 * log10(65025 / mse), accuracy: 1e-9)
    }

    func testImagesOfDifferentShapesAreRefused() {
        XCTAssertThrowsError(try ImageComparison.psnr(gradient(4, 4), gradient(4, 5))) { error in
            XCTAssertEqual((error as? ImagingError)?.code, .invalidArgument)
        }
        let one = Image(pixels: gradient(4, 4))
        let two = Image(frames: [ImageFrame(pixels: gradient(4, 4)), ImageFrame(pixels: gradient(4, 4))])
        XCTAssertThrowsError(try ImageComparison.psnr(one, two)) { error in
            XCTAssertEqual((error as? ImagingError)?.code, .invalidArgument)
        }
    }
}
