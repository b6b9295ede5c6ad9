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
/// The threshold, 36 dB, from measurements on the TestImages JPEGs
/// (`testWhereTheThresholdSits`), made as `compare` makes them: children
/// encoded as JPEG, decoded again. The sandbox runs the same operations on a
/// full decode, so every child must be pixel-identical (inf) except a JPEG's
/// thumbnails when they are its only action: local processing then decodes
/// with DCT shrink-on-load and the sandbox does not, which costs 39.5-44.5 dB.
/// 36 dB keeps a 3.5 dB margin under the lowest of those. A gross mistake (a
/// box of the right size from the wrong place: the west edge) scores 10.7-10.9 dB; subtle
/// ones depend on the picture: on the textured eCard photo another filter
/// (bilinear for Lanczos-3) gives 33.6 dB and the box 2 source pixels off
/// 32.3 dB, both caught, while on the smooth ladybird photo they give 39.0 and
/// 38.3 dB, which no fixed PSNR threshold can tell from shrink-on-load.
final class CompareTests: XCTestCase {
    static let threshold = 36.0
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

                // Thumbnails alone: a JPEG is then decoded with shrink-on-load locally, not by the sandbox.
                let thumbnails = try await ServerComparison(client: client).compare(file: path, actions: [Self.actions[0]])
                for child in thumbnails.children {
                    XCTAssertTrue(child.status == .identical || child.status == .compared, "\(name) \(child.action): \(child.status)")
                    XCTAssertGreaterThanOrEqual(try XCTUnwrap(child.psnr), Self.threshold, "\(name) alone \(child.action)")
                    figures.append("\(name) \(child.type ?? "-") (thumbnails alone): \(child.psnrText) dB, \(child.local?.bytes ?? 0) vs \(child.server?.bytes ?? 0) B")
                }
                if name.hasSuffix(".jpg") {
                    XCTAssertTrue(thumbnails.children.allSatisfy { $0.status == .compared }, "\(name): shrink-on-load shows")
                }
            }
        } catch {
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
        // The figures the README and the report quote.
        print("compare figures:\n" + figures.joined(separator: "\n"))
    }

    /// Where the threshold sits: the sandbox's full decode of a 150x150
    /// thumbnail of each JPEG against local shrink-on-load (a mirror: must
    /// pass), against the box at the west edge (gross: far below), another
    /// filter and the box 2 source pixels off (subtle: caught on the textured photo).
    func testWhereTheThresholdSits() throws {
        let size = PixelSize(width: 150, height: 150)
        for name in ["social-ladybird.jpg", "ecard-landscape-exif6.jpg"] {
            let bytes = try ImageFile.read(Self.testImages.appendingPathComponent(name).path)
            // Compared as `compare` compares them: encoded as the children are (JPEG), decoded again.
            func asChild(_ image: Image) throws -> Image { try ImageDecoder.decode(try ImageEncoder.encode(image, as: .jpeg)) }
            let full = try ImageDecoder.decode(bytes, options: DecodeOptions(colorHandling: .convertToSRGB))
            let server = try asChild(try full.thumbnail(size))
            let shrunk = try ImageDecoder.decode(try LocalProcessor().process(bytes: bytes, actions: [.thumbnails([size])]).children[0].bytes)
            let west = try asChild(try full.thumbnail(size, crop: .gravity(.west)))
            let bilinear = try asChild(try full.thumbnail(size, options: ProcessingOptions(filter: .bilinear)))
            let moved = try asChild(try full.thumbnail(size, crop: .focus(x: full.width / 2 + 2, y: full.height / 2 + 2)))
            let mirror = try ImageComparison.psnr(server, shrunk), gross = try ImageComparison.psnr(server, west)
            let filter = try ImageComparison.psnr(server, bilinear), box = try ImageComparison.psnr(server, moved)
            print(String(format: "%@ thumbnail_150_150 against the full decode: shrink-on-load %.2f dB, west edge %.2f dB, bilinear %.2f dB, box 2 px off %.2f dB",
                         name, mirror, gross, filter, box))
            XCTAssertGreaterThanOrEqual(mirror, Self.threshold + 3, name)
            XCTAssertLessThan(gross, 25, name)
            if name.hasPrefix("ecard") {
                XCTAssertLessThan(filter, Self.threshold, name)
                XCTAssertLessThan(box, Self.threshold, name)
            }
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

        // A JPEG thumbnail alone is not pixel-identical (shrink-on-load): no figure reaches 1000 dB.
        let strict = try Self.run(["compare", source, "--sandbox", "--state-dir", state.path, "--actions", "thumbnails=100x100", "--min-psnr", "1000"])
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
