import Foundation
import Imaging
import XCTest

@testable import AssetProcessing

final class LocalProcessorTests: XCTestCase {
    static let testImages = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TestImages")

    func path(_ name: String) -> String { Self.testImages.appendingPathComponent(name).path }

    func testEveryActionMakesChildrenPointingAtTheParentWithTheAPIsTypes() async throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("lp-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try await LocalProcessor().process(
            file: path("campaign-logo.png"),
            actions: [.thumbnails([PixelSize(width: 100, height: 100), PixelSize(width: 150, height: 50)]),
                      .crop(x: 10, y: 20, width: 200, height: 100), .scale(width: 300, height: nil), .rotate(degrees: 180)],
            outputDirectory: out)
        XCTAssertEqual(result.parent.state, .local)
        XCTAssertEqual(result.parent.contentType, "image/png")
        XCTAssertEqual(result.parent.width, 1000)
        XCTAssertEqual(result.parent.height, 400)
        XCTAssertEqual(result.children.map { $0.record.type }, ["thumbnail_100_100", "thumbnail_150_50", "cropped", "scaled_300_120", "rotated_180"])
        let expectedSizes = [(100, 100), (150, 50), (200, 100), (300, 120), (1000, 400)]
        for (child, (w, h)) in zip(result.children, expectedSizes) {
            XCTAssertEqual(child.record.parentID, result.parent.id)
            XCTAssertEqual(child.record.state, .processed)
            XCTAssertEqual(child.record.contentType, "image/png", "output follows the source's content type")
            XCTAssertEqual(child.record.size, child.bytes.count)
            XCTAssertEqual(child.record.sha256, LocalProcessor.sha256(child.bytes))
            // The file on disk is what the record says, and decodes to the recorded size.
            let written = try XCTUnwrap(child.record.path)
            let onDisk = [UInt8](try Data(contentsOf: URL(fileURLWithPath: written)))
            XCTAssertEqual(onDisk, child.bytes)
            let decoded = try ImageDecoder.decode(onDisk)
            XCTAssertEqual(decoded.width, w, child.record.type ?? "")
            XCTAssertEqual(decoded.height, h, child.record.type ?? "")
            XCTAssertEqual(child.record.width, w)
            XCTAssertEqual(child.record.height, h)
        }
    }

    func testCropOutsideTheImageIsRefusedNotClamped() throws {
        let bytes = try ImageFile.read(path("campaign-logo.png"))
        XCTAssertThrowsError(try LocalProcessor().process(bytes: bytes, actions: [.crop(x: 900, y: 0, width: 200, height: 10)])) { error in
            XCTAssertEqual((error as? ImagingError)?.code, .invalidArgument)
        }
    }

    func testCoverThumbnailTakesTheCentre() throws {
        // 300x100: left third red, middle green, right third blue. A 100x100
        // cover thumbnail must be the green middle only.
        var pixels = PixelBuffer(width: 300, height: 100, layout: .rgb)
        for y in 0 ..< 100 {
            for x in 0 ..< 300 {
                let i = (y * 300 + x) * 3
                pixels.bytes[i + x / 100] = 255
            }
        }
        let thumb = try Image(pixels: pixels).thumbnail(PixelSize(width: 100, height: 100))
        XCTAssertEqual(thumb.width, 100)
        XCTAssertEqual(thumb.height, 100)
        for (x, y) in [(0, 0), (50, 50), (99, 99), (2, 60)] {
            XCTAssertEqual(thumb.pixels.pixel(x: x, y: y), [0, 255, 0], "(\(x),\(y))")
        }
        let contained = try Image(pixels: pixels).thumbnail(PixelSize(width: 100, height: 100), fit: .contain)
        XCTAssertEqual([contained.width, contained.height], [100, 33])
    }

    func testShrinkOnLoadKeepsTwiceTheTargetForRealResampling() {
        let photo = PixelSize(width: 6000, height: 4000)
        XCTAssertEqual(ShrinkOnLoad.factor(upright: photo, targets: [PixelSize(width: 150, height: 150)]), .eighth)
        XCTAssertEqual(ShrinkOnLoad.factor(upright: photo, targets: [PixelSize(width: 600, height: 400)]), .quarter)
        XCTAssertEqual(ShrinkOnLoad.factor(upright: photo, targets: [PixelSize(width: 150, height: 150), PixelSize(width: 1200, height: 800)]), .half)
        XCTAssertEqual(ShrinkOnLoad.factor(upright: photo, targets: [PixelSize(width: 4000, height: 3000)]), JPEGShrink.none)
    }

    func testShrinkOnLoadThumbnailLooksLikeTheFullDecodeThumbnail() throws {
        let bytes = try ImageFile.read(path("social-ladybird.jpg"))
        let size = PixelSize(width: 160, height: 100)
        let processor = LocalProcessor()
        let info = try ImageDecoder.probe(bytes)
        XCTAssertEqual(processor.decodeOptions(for: info, actions: [.thumbnails([size])]).jpegShrink, .eighth)
        let fast = try processor.process(bytes: bytes, actions: [.thumbnails([size])]).children[0].image
        let full = try ImageDecoder.decode(bytes).thumbnail(size)
        XCTAssertGreaterThan(psnr(fast.pixels, full.pixels), 35)
    }

    func testAnimatedGIFKeepsEveryFrameAndItsTiming() throws {
        let bytes = try ImageFile.read(path("sponsor-cogs.gif"))
        let source = try ImageDecoder.decode(bytes)
        XCTAssertGreaterThan(source.frames.count, 1)
        let result = try LocalProcessor().process(bytes: bytes, actions: [.thumbnails([PixelSize(width: 40, height: 40)]), .rotate(degrees: 90)])
        for child in result.children {
            XCTAssertEqual(child.record.contentType, "image/gif")
            let decoded = try ImageDecoder.decode(child.bytes)
            XCTAssertEqual(decoded.frames.count, source.frames.count, child.record.type ?? "")
            XCTAssertEqual(decoded.frames.map(\.delayCentiseconds), source.frames.map(\.delayCentiseconds))
        }
        XCTAssertEqual(result.children[1].image.width, source.height, "a quarter turn swaps the sides")
    }

    func testOutputFormatCanBeChosen() throws {
        let bytes = try ImageFile.read(path("campaign-logo.png"))
        let result = try LocalProcessor(outputFormat: .jpeg).process(bytes: bytes, actions: [.scale(width: 200, height: nil)])
        XCTAssertEqual(result.children[0].record.contentType, "image/jpeg")
        XCTAssertEqual(ImageFormat.detect(result.children[0].bytes), .jpeg)
    }

    private func psnr(_ a: PixelBuffer, _ b: PixelBuffer) -> Double {
        precondition(a.bytes.count == b.bytes.count)
        var sum = 0.0
        for i in 0 ..< a.bytes.count {
            let d = Double(a.bytes[i]) - Double(b.bytes[i])
            sum += d * d
        }
        let mse = sum / Double(a.bytes.count)
        return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }
}
