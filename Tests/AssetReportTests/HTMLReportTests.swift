import AssetProcessing
import Foundation
import Imaging
import XCTest
@testable import AssetReport

/// The page's text and geometry, without a browser (the browser tests load it).
final class HTMLReportTests: XCTestCase {
    func testEveryCharacterHTMLGivesMeaningToIsEscaped() {
        XCTAssertEqual(HTMLReport.escape("<a href=\"x\" title='y'>&</a>"),
                       "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;")
    }

    func testACropBoxIsPlacedInPercentagesOfTheUprightSource() {
        let original = ReportOutput(type: nil, width: 1200, height: 1800, bytes: 1, contentType: "image/jpeg", sha256: "")
        XCTAssertEqual(HTMLReport.placement(CropBox(x: 0, y: 900, width: 1200, height: 800), in: original),
                       "left:0.000%;top:50.000%;width:100.000%;height:44.444%")
    }

    func testThePageNeedsNothingFromOutside() throws {
        let png = try ImageEncoder.encode(Image(pixels: PixelBuffer(width: 8, height: 8, layout: .rgb)), as: .png)
        let processed = try LocalProcessor().process(bytes: png, actions: [.thumbnails([PixelSize(width: 4, height: 2)], fit: .cover, crop: .centre)])
        let content = ReportImages.content(of: processed)
        let job = ReportJob(key: "k", heading: "logo", status: .planned, sourcePath: "/x.png", original: content.original,
                            preview: content.preview, cropMarks: content.cropMarks, outputs: content.outputs, warnings: content.warnings)
        let html = HTMLReport.render(ReportPage(title: "t", sections: [ReportSection(title: "s", jobs: [job])]))
        XCTAssertFalse(html.contains("http://") || html.contains("https://"), "no URL to fetch")
        XCTAssertFalse(html.contains("src=\"/") || html.contains("src=\"file:"), "no file beside it")
        XCTAssertEqual(html.components(separatedBy: "<img src=\"data:image/").count - 1, 2, "preview and output inline")
        XCTAssertEqual(content.cropMarks.map(\.box), [CropBox(x: 0, y: 2, width: 8, height: 4)])
        XCTAssertTrue(content.warnings.isEmpty, "\(content.warnings)")
    }

    func testAnUpscaledOutputIsAWarningAndARotationIsNot() throws {
        let png = try ImageEncoder.encode(Image(pixels: PixelBuffer(width: 10, height: 10, layout: .rgb)), as: .png)
        let processed = try LocalProcessor().process(bytes: png, actions: [.scale(width: 20, height: nil), .rotate(degrees: 30)])
        let warnings = ReportImages.content(of: processed).warnings
        XCTAssertEqual(warnings.count, 1, "\(warnings)")
        XCTAssertTrue(warnings.first?.hasPrefix("scaled_20_20: upscaled") == true, "\(warnings)")
    }

    func testASourceWithADisplayP3ProfileIsFlaggedAsNotSRGB() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let p3 = try ImageFile.read(root.appendingPathComponent("TestImages/colour/display-p3.jpg").path)
        XCTAssertTrue(ReportImages.colourSpaceNote(p3)?.contains("not sRGB") == true)
        let untagged = try ImageEncoder.encode(Image(pixels: PixelBuffer(width: 8, height: 8, layout: .rgb)), as: .png)
        XCTAssertNil(ReportImages.colourSpaceNote(untagged))
    }

    func testAnAnimatedGIFWrittenAsPNGSaysItKeptOneFrame() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let gif = try ImageFile.read(root.appendingPathComponent("TestImages/sponsor-cogs.gif").path)
        let processed = try LocalProcessor(outputFormat: .png).process(bytes: gif, actions: [.thumbnails([PixelSize(width: 40, height: 40)])])
        let warnings = ReportImages.content(of: processed).warnings
        XCTAssertTrue(warnings.contains { $0.contains("keeps only the first frame") }, "\(warnings)")
    }
}
