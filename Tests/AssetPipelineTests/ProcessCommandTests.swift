import Foundation
import Imaging
import XCTest

/// `asset-worker process` run as a real process: stdout carries only records,
/// and option combinations that cannot work exit 64 before anything is done.
final class ProcessCommandTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("process-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func worker() throws -> URL {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for configuration in ["debug", "release"] {
            let url = root.appendingPathComponent(".build/\(configuration)/asset-worker")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("asset-worker is not built (swift build --build-tests builds it)") }
        throw XCTSkip("asset-worker is not built")
    }

    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = try worker()
        process.arguments = ["process"] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    func writeAnimatedGIF() throws -> String {
        let frames = [UInt8(200), 20].map { ImageFrame(pixels: PixelBuffer(width: 8, height: 8, layout: .rgb, bytes: [UInt8](repeating: $0, count: 192)), delayCentiseconds: 5) }
        let path = folder.appendingPathComponent("anim.gif").path
        try ImageFile.write(ImageEncoder.encode(Image(frames: frames), as: .gif), to: path)
        return path
    }

    func testJSONOutputIsOnlyRecordsAndWarningsGoToStderr() throws {
        let gif = try writeAnimatedGIF()
        let missing = folder.appendingPathComponent("missing.png").path
        let result = try run([gif, missing, "--scale", "4x4", "--format", "png", "--json"])
        XCTAssertEqual(result.status, 65, "the missing file is refused")
        let lines = result.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 3, "parent, child, failure:\n\(result.stdout)")
        for line in lines {
            XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any], String(line))
        }
        let child = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as! [String: Any]
        XCTAssertEqual(child["warnings"] as? [String], ["animated source of 2 frames: the png output keeps only the first frame"])
        XCTAssertTrue(result.stderr.contains("scaled_4_4: warning: animated source of 2 frames"), result.stderr)
    }

    func testACoverAndAContainThumbnailOfOneSizeExit64() throws {
        let gif = try writeAnimatedGIF()
        let out = folder.appendingPathComponent("out").path
        let result = try run([gif, "--thumbnails", "4x4,6x6", "--thumbnails-contain", "6x6", "--out", out])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("thumbnail_6_6"), result.stderr)
        XCTAssertEqual(result.stdout, "")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing was written")
        XCTAssertEqual(try run([gif, "--thumbnails", "4x4", "--thumbnails-contain", "6x6", "--out", out]).status, 0)
    }

    func testTheCropStrategyOptions() throws {
        let gif = try writeAnimatedGIF()
        let result = try run([gif, "--thumbnails", "4x2", "--gravity", "south", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let child = try JSONSerialization.jsonObject(with: Data(result.stdout.split(separator: "\n")[1].utf8)) as! [String: Any]
        XCTAssertEqual(child["crop_box"] as? [String: Int], ["x": 0, "y": 4, "width": 8, "height": 4])
        for bad in [["--crop-strategy", "middle"], ["--focus", "3"], ["--gravity", "up"], ["--gravity", "north", "--focus", "1,1"]] {
            XCTAssertEqual(try run([gif, "--thumbnails", "4x2"] + bad).status, 64, "\(bad)")
        }
    }
}
