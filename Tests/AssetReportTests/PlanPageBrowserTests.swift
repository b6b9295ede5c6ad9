import AssetProcessing
import AssetReport
import Foundation
import Imaging
import XCTest

/// The preview page in a real browser: `asset-worker plan --html` on the main
/// job's manifest, loaded by headless Chromium; the assertions read the DOM
/// the browser built (every job, every image decoded, the crop boxes), and a
/// screenshot is kept as an artifact.
final class PlanPageBrowserTests: XCTestCase {
    static let projectRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// Kept after the run (CI uploads `.build/test-artifacts`).
    static let artifacts = projectRoot.appendingPathComponent(".build/test-artifacts")

    var folder: URL!

    override func setUp() async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("plan-page-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        try? FileManager.default.removeItem(at: folder)
    }

    static func worker() throws -> URL {
        for configuration in ["debug", "release"] {
            let url = projectRoot.appendingPathComponent(".build/\(configuration)/asset-worker")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("asset-worker is not built (swift build --build-tests builds it)") }
        throw XCTSkip("asset-worker is not built")
    }

    /// `name="value"` on the page's <body>.
    static func attribute(_ name: String, in dom: String) -> String? {
        guard let range = dom.range(of: "\(name)=\"") else { return nil }
        return String(dom[range.upperBound...].prefix { $0 != "\"" })
    }

    static func occurrences(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    func testThePlanPageOfTheMainManifestShowsEveryJobDecodedWithItsCropBoxes() throws {
        let chromium = try HeadlessChromium.find()
        let worker = try Self.worker()
        let page = folder.appendingPathComponent("plan.html")
        let stdout = folder.appendingPathComponent("stdout.jsonl")
        FileManager.default.createFile(atPath: stdout.path, contents: nil)
        let process = Process()
        process.executableURL = worker
        process.currentDirectoryURL = Self.projectRoot
        process.arguments = ["plan", "TestImages/campaign-1001.yml", "--sandbox", "--state-dir", folder.appendingPathComponent("state").path,
                             "--html", page.path, "--json"]
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = FileHandle.standardError
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "plan of the main manifest succeeds")

        // --json: stdout is JSON lines only; planned records say so.
        let lines = try String(contentsOf: stdout, encoding: .utf8).split(separator: "\n")
        XCTAssertFalse(lines.isEmpty)
        var planned = 0
        for line in lines {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
            if object["plan"] == nil {
                XCTAssertEqual(object["state"] as? String, "planned", String(line))
                planned += 1
            }
        }
        XCTAssertEqual(planned, 3 + 2 + 2 + 2 + 3, "logo+2, two eCards+1 each, sponsor+1, palette asset+2")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("state/journal.sqlite").path),
                       "a plan creates no journal")

        let dom = try chromium.dumpDOM(of: page)
        XCTAssertEqual(Self.attribute("data-jobs", in: dom), "5")
        XCTAssertEqual(Self.occurrences("<article class=\"job", in: dom), 5, "every job of the manifest is on the page")
        for source in ["campaign-logo.png", "ecard-landscape-exif6.jpg", "social-ladybird.jpg", "sponsor-cogs.gif", "palette-basn3p08.png"] {
            XCTAssertTrue(dom.contains(source), "\(source) is on the page")
        }
        // Written by the page's own script after load: what the browser decoded.
        let images = try XCTUnwrap(Self.attribute("data-images", in: dom).flatMap(Int.init), "the page's load script ran")
        let decoded = try XCTUnwrap(Self.attribute("data-images-decoded", in: dom).flatMap(Int.init))
        XCTAssertEqual(images, 5 + 7, "a source preview per job and every output (2 + 1 + 1 + 1 + 2)")
        XCTAssertEqual(decoded, images, "every <img> decoded with naturalWidth > 0")
        XCTAssertEqual(Self.occurrences("class=\"crop-box\" data-type=\"thumbnail_600_400\"", in: dom), 2, "both eCards show their crop box")
        XCTAssertEqual(Self.occurrences("class=\"crop-box\"", in: dom), 2 + 2 + 1, "every cover crop: two eCards, two logo thumbnails, the sponsor's")
        let campaign = try XCTUnwrap(dom.range(of: "<h2>Campaign 1001</h2>"))
        let firstECard = try XCTUnwrap(dom.range(of: "ecard campaign=1001 order=1"))
        let secondECard = try XCTUnwrap(dom.range(of: "ecard campaign=1001 order=2"))
        XCTAssertTrue(campaign.lowerBound < firstECard.lowerBound && firstECard.lowerBound < secondECard.lowerBound,
                      "grouped under the campaign, eCards in order")
        // palette-basn3p08.png is 32x32: its 64-wide scale is enlarged, and the page says so.
        XCTAssertTrue(dom.contains("scaled_64_64: upscaled"), "the upscale warning is shown")

        let screenshot = Self.artifacts.appendingPathComponent("plan-page.png")
        try chromium.screenshot(of: page, to: screenshot)
        let bytes = try ImageFile.read(screenshot.path)
        let info = try ImageDecoder.probe(bytes)
        XCTAssertEqual(info.format, .png)
        XCTAssertEqual(info.width, 1280)
        print("plan page screenshot: \(screenshot.path)")
    }

    /// Runs `asset-worker` from the project root; returns its exit status and stdout.
    func runWorker(_ arguments: [String]) throws -> (Int32, String) {
        let stdout = folder.appendingPathComponent("stdout-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: stdout.path, contents: nil)
        let process = Process()
        process.executableURL = try Self.worker()
        process.currentDirectoryURL = Self.projectRoot
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = FileHandle.standardError
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, try String(contentsOf: stdout, encoding: .utf8))
    }

    func testAfterAnUploadThePlanSkipsEveryJobAndTheStatusPageShowsTheUploadedRecords() throws {
        let chromium = try HeadlessChromium.find()
        let state = folder.appendingPathComponent("state").path
        let (uploaded, _) = try runWorker(["upload", "TestImages/campaign-1001.yml", "--sandbox", "--state-dir", state, "--json"])
        XCTAssertEqual(uploaded, 0)
        let (planned, lines) = try runWorker(["plan", "TestImages/campaign-1001.yml", "--sandbox", "--state-dir", state, "--json"])
        XCTAssertEqual(planned, 0)
        XCTAssertEqual(Self.occurrences("\"plan\":\"skip\"", in: lines), 5, "every job is done in the journal: \(lines)")
        XCTAssertFalse(lines.contains("\"state\":\"planned\""), "nothing would be uploaded again")
        XCTAssertTrue(lines.contains("\"already_done\":2"), "the two eCards are counted as existing, not new")

        let page = folder.appendingPathComponent("status.html")
        let (status, _) = try runWorker(["status", "--sandbox", "--state-dir", state, "--html", page.path])
        XCTAssertEqual(status, 0)
        let dom = try chromium.dumpDOM(of: page)
        XCTAssertEqual(Self.occurrences("<article class=\"job status-uploaded\"", in: dom), 5, "every job, uploaded")
        XCTAssertEqual(Self.occurrences("/cdn/assets/", in: dom), 12, "every record's CDN URL (as text)")
        XCTAssertEqual(Self.occurrences("class=\"crop-box\"", in: dom), 5)
        let images = Self.attribute("data-images", in: dom)
        XCTAssertEqual(images, "5", "a source preview per job; derived images are listed, not kept")
        XCTAssertEqual(Self.attribute("data-images-decoded", in: dom), images)
        try chromium.screenshot(of: page, to: Self.artifacts.appendingPathComponent("status-page.png"))
        print("status page screenshot: \(Self.artifacts.appendingPathComponent("status-page.png").path)")
    }

    /// Not a browser test: `plan`'s exit status when an upload would refuse, through the CLI's one mapping.
    func testAPlanOverACampaignsECardLimitExitsWithTheUploadsRefusal() throws {
        let state = folder.appendingPathComponent("state").path
        let images = Self.projectRoot.appendingPathComponent("TestImages").path
        func ecards(_ orders: ClosedRange<Int>) -> String {
            "jobs:\n" + orders.map { "  - role: ecard\n    source: \(images)/social-ladybird.jpg\n    campaign: 1001\n    order: \($0)\n" }.joined()
        }
        let three = folder.appendingPathComponent("three.yml"), two = folder.appendingPathComponent("two-more.yml")
        try ecards(1 ... 3).write(to: three, atomically: true, encoding: .utf8)
        try ecards(4 ... 5).write(to: two, atomically: true, encoding: .utf8)
        XCTAssertEqual(try runWorker(["upload", three.path, "--sandbox", "--state-dir", state, "--json"]).0, 0)
        let (status, lines) = try runWorker(["plan", two.path, "--sandbox", "--state-dir", state, "--json"])
        XCTAssertEqual(status, 65, "an upload would refuse: 3 existing + 2 new eCards")
        XCTAssertTrue(lines.contains("\"existing\":3") && lines.contains("\"total\":5"), lines)
        XCTAssertEqual(try runWorker(["upload", two.path, "--sandbox", "--state-dir", state]).0, 65, "and the upload does refuse")
    }

    func testTextFromAManifestIsShownAsTextNotRunAsMarkup() throws {
        let chromium = try HeadlessChromium.find()
        let hostile = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\"><script>document.body.setAttribute('data-pwned','2')</script>"
        let png = try ImageEncoder.encode(Image(pixels: PixelBuffer(width: 30, height: 20, layout: .rgb)), as: .png)
        let output = ReportOutput(type: "thumbnail_30_20\" onload=\"x", width: 30, height: 20, bytes: png.count, contentType: "image/png",
                                  sha256: "00", image: ReportImage(dataURI: ReportImages.dataURI(png, contentType: "image/png"), width: 30, height: 20))
        let job = ReportJob(key: "k'\"<>", heading: hostile, status: .planned, statusDetail: hostile, facts: [hostile],
                            sourcePath: "/tmp/" + hostile, original: output,
                            preview: output.image, cropMarks: [ReportCropMark(label: hostile, box: CropBox(x: 0, y: 0, width: 15, height: 20))],
                            outputs: [output], warnings: [hostile])
        let page = ReportPage(title: hostile, notes: [hostile], sections: [ReportSection(title: hostile, notes: [hostile], jobs: [job])])
        let file = folder.appendingPathComponent("hostile.html")
        try HTMLReport.render(page).write(to: file, atomically: true, encoding: .utf8)

        let dom = try chromium.dumpDOM(of: file)
        XCTAssertNil(Self.attribute("data-pwned", in: dom), "no manifest text ran as script")
        XCTAssertEqual(Self.attribute("data-images", in: dom), "2", "only the page's own two images exist")
        XCTAssertEqual(Self.attribute("data-images-decoded", in: dom), "2")
        XCTAssertTrue(dom.contains("&lt;script&gt;document.body"), "the text is shown, escaped")
        XCTAssertEqual(Self.occurrences("class=\"crop-box\"", in: dom), 1)
    }
}
