import Foundation
import Imaging
import XCTest

@testable import AssetProcessing

/// What `LocalProcessor` records about cover crops and dropped frames.
final class SmartCropProcessingTests: XCTestCase {
    /// A 1600x1200 JPEG, grey but for a saturated red patch against its left edge.
    static func jpegWithPatchAtLeft() throws -> [UInt8] {
        var pixels = PixelBuffer(width: 1600, height: 1200, layout: .rgb)
        for y in 0 ..< 1200 {
            for x in 0 ..< 1600 {
                let i = (y * 1600 + x) * 3
                let patch = x >= 20 && x < 220 && y >= 500 && y < 700
                (pixels.bytes[i], pixels.bytes[i + 1], pixels.bytes[i + 2]) = patch ? (220, 30, 40) : (128, 128, 128)
            }
        }
        return try ImageEncoder.encode(Image(pixels: pixels), as: .jpeg)
    }

    /// Shrink-on-load decodes this at 1/4; the record's box is still in the
    /// source's upright pixels, and the warning says how far the box moved.
    func testTheRecordHoldsTheBoxInUprightSourcePixelsAndAWarning() throws {
        let bytes = try Self.jpegWithPatchAtLeft()
        let processor = LocalProcessor()
        let actions: [ImageAction] = [.thumbnails([PixelSize(width: 100, height: 100)], fit: .cover, crop: .attention)]
        let info = try ImageDecoder.probe(bytes)
        XCTAssertNotEqual(processor.decodeOptions(for: info, actions: actions).jpegShrink, JPEGShrink.none, "the test covers a shrunk decode")
        let processed = try processor.process(bytes: bytes, actions: actions).children[0]
        let child = processed.record
        let box = try XCTUnwrap(child.cropBox)
        XCTAssertEqual(processed.coverCrop?.box, box)
        XCTAssertEqual(processed.coverCrop?.centred, CropBox(x: 200, y: 0, width: 1200, height: 1200))
        XCTAssertEqual(processed.coverCrop?.source, PixelSize(width: 1600, height: 1200))
        XCTAssertEqual(box.width, 1200)
        XCTAssertEqual(box.height, 1200)
        XCTAssertLessThanOrEqual(box.x, 20, "the patch (x 20...220) is kept")
        XCTAssertEqual(child.warnings, ["attention crop moved the 1200x1200 box \(200 - box.x) px left from the centre"])

        // Centred: a box, no warning; the record's JSON has crop_box and no warnings key.
        let centred = try processor.process(bytes: bytes, actions: [.thumbnails([PixelSize(width: 100, height: 100)])]).children[0].record
        XCTAssertEqual(centred.cropBox, CropBox(x: 200, y: 0, width: 1200, height: 1200))
        XCTAssertNil(centred.warnings)
        let json = String(decoding: try JSONEncoder().encode(centred), as: UTF8.self)
        XCTAssertTrue(json.contains("\"crop_box\":{"), json)
        XCTAssertFalse(json.contains("warnings"), json)
        // The journal stores records as JSON: both fields survive the round trip.
        let decoded = try JSONDecoder().decode(AssetRecord.self, from: JSONEncoder().encode(child))
        XCTAssertEqual(decoded.cropBox, child.cropBox)
        XCTAssertEqual(decoded.warnings, child.warnings)
    }

    /// A focus in upright source pixels lands in the same place of a shrunk decode.
    func testAFocusIsInUprightSourcePixelsWhateverTheDecodeScale() throws {
        let bytes = try Self.jpegWithPatchAtLeft()
        let actions: [ImageAction] = [.thumbnails([PixelSize(width: 100, height: 100)], fit: .cover, crop: .focus(x: 1500, y: 600))]
        let child = try LocalProcessor().process(bytes: bytes, actions: actions).children[0].record
        XCTAssertEqual(child.cropBox, CropBox(x: 400, y: 0, width: 1200, height: 1200))
        XCTAssertNil(child.warnings, "a person chose the place")
    }

    func testAnAnimationConvertedToPNGSaysItKeptOnlyTheFirstFrame() throws {
        let red = PixelBuffer(width: 8, height: 8, layout: .rgb, bytes: [UInt8](repeating: 200, count: 192))
        let dark = PixelBuffer(width: 8, height: 8, layout: .rgb, bytes: [UInt8](repeating: 20, count: 192))
        let gif = try ImageEncoder.encode(Image(frames: [ImageFrame(pixels: red, delayCentiseconds: 5), ImageFrame(pixels: dark, delayCentiseconds: 5)]), as: .gif)
        let actions: [ImageAction] = [.scale(width: 4, height: 4)]
        let png = try LocalProcessor(outputFormat: .png).process(bytes: gif, actions: actions).children[0].record
        XCTAssertEqual(png.warnings, ["animated source of 2 frames: the png output keeps only the first frame"])
        let kept = try LocalProcessor().process(bytes: gif, actions: actions).children[0].record
        XCTAssertNil(kept.warnings, "a GIF output keeps the animation")
    }

    /// A cover and a contain thumbnail of one size share the API's name; written
    /// to a folder, the second would overwrite the first.
    func testTwoResultsWithOneFileNameAreRefusedInsteadOfOverwritten() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("collide-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = folder.appendingPathComponent("src.png").path
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try ImageFile.write(ImageEncoder.encode(Image(pixels: PixelBuffer(width: 30, height: 20, layout: .rgb)), as: .png), to: source)
        let size = PixelSize(width: 10, height: 10)
        XCTAssertThrowsError(try LocalProcessor().processSynchronously(
            file: source, actions: [.thumbnails([size], fit: .cover), .thumbnails([size], fit: .contain)], outputDirectory: folder.path)) { error in
            XCTAssertEqual((error as? ImagingError)?.code, .invalidArgument)
            XCTAssertTrue("\(error)".contains("src.thumbnail_10_10.png"), "\(error)")
        }
    }
}
