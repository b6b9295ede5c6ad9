import AssetPipeline
import Foundation
import Imaging
import XCTest

/// The pipeline's colour defaults, on the issue's own example: the corpus YCCK
/// photo, which embeds the 557 KB "U.S. Web Coated (SWOP) v2" profile.
final class ColourPipelineTests: XCTestCase {
    private static let projectRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func ycck() throws -> [UInt8] {
        let url = Self.projectRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus/jpeg/jpeg-decoder/ycck.jpg")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("the shared corpus is missing") }
            throw XCTSkip("no \(url.path)")
        }
        return [UInt8](data)
    }

    func testCMYKThumbnailIsSRGBWithoutTheCMYKProfile() throws {
        let result = try LocalProcessor().process(bytes: try ycck(), actions: [.scale(width: 300, height: nil)])
        let child = try XCTUnwrap(result.children.first)
        XCTAssertLessThan(child.bytes.count, 100_000, "a 300x200 thumbnail, not 585 KB of CMYK profile")
        XCTAssertNil(try ImageDecoder.decode(child.bytes).colorProfile)
        XCTAssertEqual(result.parent.colorWarnings, [])
    }

    func testACMYKOriginalIsUploadedUnchangedAndTheRecordSaysSo() throws {
        let source = try ycck()
        let result = try LocalProcessor().process(bytes: source, actions: [.scale(width: 300, height: nil)])
        XCTAssertEqual(result.parentBytes, source, "the original keeps its bytes")
        XCTAssertEqual(result.parent.uploadedUnchanged, true)
        XCTAssertTrue(result.parent.warnings?.first?.contains("CMYK") == true, "\(result.parent.warnings ?? [])")
        let rgb = try LocalProcessor().process(bytes: result.children[0].bytes, actions: [])
        XCTAssertNil(rgb.parent.warnings, "an RGB original gets no CMYK warning")
    }

    func testKeepingTheProfileStillNeverPutsCMYKOnRGB() throws {
        let result = try LocalProcessor(keepColorProfile: true).process(bytes: try ycck(), actions: [.scale(width: 300, height: nil)])
        XCTAssertNil(try ImageDecoder.decode(try XCTUnwrap(result.children.first).bytes).colorProfile)
    }

    func testKeepingAWideGamutProfileCarriesItToTheChild() throws {
        let bytes = [UInt8](try Data(contentsOf: Self.projectRoot.appendingPathComponent("TestImages/colour/display-p3.jpg")))
        let profile = try XCTUnwrap(try ImageDecoder.decode(bytes).colorProfile)
        let kept = try LocalProcessor(keepColorProfile: true).process(bytes: bytes, actions: [.scale(width: 100, height: nil)])
        XCTAssertEqual(try ImageDecoder.decode(try XCTUnwrap(kept.children.first).bytes).colorProfile, profile)
        let converted = try LocalProcessor().process(bytes: bytes, actions: [.scale(width: 100, height: nil)])
        XCTAssertNil(try ImageDecoder.decode(try XCTUnwrap(converted.children.first).bytes).colorProfile)
    }

    func testABrokenProfileIsAWarningInTheParentRecord() throws {
        let bytes = [UInt8](try Data(contentsOf: Self.projectRoot.appendingPathComponent("TestImages/colour/corrupt-profile.jpg")))
        let result = try LocalProcessor().process(bytes: bytes, actions: [.scale(width: 64, height: nil)])
        XCTAssertEqual(result.parent.colorWarnings.count, 1)
        let warning = try XCTUnwrap(result.parent.colorWarnings.first)
        XCTAssertTrue(warning.hasPrefix("unreadableProfile"), warning)
        XCTAssertNil(try ImageDecoder.decode(try XCTUnwrap(result.children.first).bytes).colorProfile)
    }
}
