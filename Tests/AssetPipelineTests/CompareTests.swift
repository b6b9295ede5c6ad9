import AssetPipeline
import AssetProcessing
import ClassyAPI
import ClassySandbox
import Foundation
import Imaging
import XCTest

/// `asset-worker compare`: local processing against the sandbox's `/process`
/// on the TestImages photos, logo, palette PNG and animated GIF.
///
/// The threshold, 35 dB: the sandbox runs the same operations on a full
/// decode, so the only expected difference is JPEG shrink-on-load, which local
/// thumbnails of a JPEG use (a DCT-scaled decode before the Lanczos pass) and
/// the sandbox does not; everything else must be identical (infinite PSNR).
/// Shrink-on-load keeps at least 2x the final size for the real filter, so
/// its error stays under a level or two per sample (40 dB and more). A child
/// of the right size from the wrong place is far below: the same 400x400 crop
/// moved by 2 pixels scores under 30 dB on these photos
/// (`testTheThresholdSeparatesAMisplacedCrop`), so 35 dB tells a mirror from a mistake.
final class CompareTests: XCTestCase {
    static let threshold = 35.0
    static let testImages = WorkerProcess.projectRoot.appendingPathComponent("TestImages")

    static let actions: [ProcessAction] = [
        .thumbnails([ProcessSize(width: 100, height: 100), ProcessSize(width: 150, height: 150)]),
        .crop(x: 4, y: 2, width: 24, height: 20),
        .scale(width: 64, height: nil),
        .rotate(angle: -90),
        .rotate(angle: 30),
    ]

    func testEveryChildOfEveryTestImageMatchesTheServer() async throws {
        let sandbox = try await ClassySandbox.start()
        let client = ClassyClient(configuration: ClassyConfiguration(baseURL: sandbox.baseURL, clientID: sandbox.clientID,
                                                                     clientSecret: sandbox.clientSecret, memberID: 1))
        var figures: [String] = []
        do {
            for name in ["social-ladybird.jpg", "ecard-landscape-exif6.jpg", "campaign-logo.png", "palette-basn3p08.png", "sponsor-cogs.gif"] {
                let path = Self.testImages.appendingPathComponent(name).path
                let report = try await ServerComparison(client: client).compare(file: path, actions: Self.actions)
                XCTAssertEqual(report.children.map(\.type),
                               ["thumbnail_100_100", "thumbnail_150_150", "cropped",
                                ChildType.scaled(width: 64, height: Int((Double(report.height) * 64 / Double(report.width)).rounded())),
                                "rotated_270", "rotated_30"], name)
                for child in report.children {
                    XCTAssertTrue(child.status == .identical || child.status == .compared, "\(name) \(child.action): \(child.status)")
                    XCTAssertEqual(child.local?.width, child.server?.width, "\(name) \(child.action)")
                    XCTAssertEqual(child.local?.height, child.server?.height, "\(name) \(child.action)")
                    XCTAssertGreaterThanOrEqual(try XCTUnwrap(child.psnr), Self.threshold, "\(name) \(child.action)")
                    figures.append("\(name) \(child.type ?? "-"): \(child.psnrText) dB, \(child.local?.bytes ?? 0) vs \(child.server?.bytes ?? 0) B")
                }
                // The server's children are children of the uploaded original.
                let listed = try await client.assetChildren(report.parentID)
                XCTAssertEqual(listed.count, report.children.count, name)
                XCTAssertTrue(listed.allSatisfy { $0.parentID == report.parentID && $0.state == "processed" }, name)
            }
        } catch {
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
        // The figures the README and the report quote.
        print("compare figures:\n" + figures.joined(separator: "\n"))
    }

    /// What a wrong child of the right size scores: far below the threshold.
    func testTheThresholdSeparatesAMisplacedCrop() throws {
        for name in ["social-ladybird.jpg", "ecard-landscape-exif6.jpg"] {
            let bytes = try ImageFile.read(Self.testImages.appendingPathComponent(name).path)
            let processed = try LocalProcessor().process(bytes: bytes, actions: [.crop(x: 600, y: 400, width: 400, height: 400),
                                                                                .crop(x: 602, y: 400, width: 400, height: 400)])
            let shifted = try ImageComparison.psnr(processed.children[0].image, processed.children[1].image)
            print("\(name): a 400x400 crop against the same crop 2 px to the right: \(String(format: "%.2f", shifted)) dB")
            XCTAssertLessThan(shifted, Self.threshold - 5, name)
        }
    }

    /// The command itself, against its built-in sandbox: `--json` prints one
    /// object per child and nothing else; `--min-psnr` above a finite figure exits 1.
    func testTheCommandPrintsOneJSONLinePerChild() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("compare-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: state) }
        let source = Self.testImages.appendingPathComponent("social-ladybird.jpg").path
        let arguments = ["compare", source, "--sandbox", "--state-dir", state.path, "--json",
                         "--actions", "thumbnails=100x100", "crop=10,10,200,100", "scale=x80", "rotate=-90"]
        let run = try Self.run(arguments)
        XCTAssertEqual(run.status, 0, run.stderr)
        let lines = run.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 4, run.stdout)
        var types: [String] = []
        for line in lines {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
            types.append(try XCTUnwrap(object["type"] as? String))
            let status = try XCTUnwrap(object["status"] as? String)
            XCTAssertTrue(["identical", "compared"].contains(status), String(line))
            if let db = object["psnr_db"] as? Double { XCTAssertGreaterThanOrEqual(db, Self.threshold) } else {
                XCTAssertEqual(object["psnr_db"] as? String, "inf", String(line))
            }
            let server = try XCTUnwrap(object["server"] as? [String: Any])
            XCTAssertNotNil(server["id"] as? Int)
            XCTAssertNotNil(server["cdn_url"] as? String)
        }
        XCTAssertEqual(types, ["thumbnail_100_100", "cropped", "scaled_128_80", "rotated_270"])

        // The JPEG thumbnail is not bit-identical (shrink-on-load), so no figure reaches 1000 dB.
        let strict = try Self.run(arguments + ["--min-psnr", "1000"])
        XCTAssertEqual(strict.status, 1, strict.stderr)
        // A box outside the image is refused locally, before anything is uploaded.
        let outside = try Self.run(["compare", source, "--sandbox", "--state-dir", state.path, "--actions", "crop=2500,0,100,100"])
        XCTAssertEqual(outside.status, 65, outside.stderr)
        // Without --sandbox and without credentials: a usage error naming the variables, never a silent sandbox.
        var environment = ProcessInfo.processInfo.environment
        for name in ["CLASSY_CLIENT_ID", "CLASSY_CLIENT_SECRET", "CLASSY_MEMBER_ID", "CLASSY_API_URL"] { environment[name] = nil }
        let noCredentials = try Self.run(["compare", source, "--state-dir", state.path, "--actions", "rotate=90"], environment: environment)
        XCTAssertEqual(noCredentials.status, 64)
        XCTAssertTrue(noCredentials.stderr.contains("CLASSY_CLIENT_ID"), noCredentials.stderr)
    }

    static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = try WorkerProcess.binary()
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}
