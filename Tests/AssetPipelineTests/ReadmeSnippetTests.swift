import AssetPipeline
import AssetJournalSQLite
import ClassyAPI
import ClassySandbox
import Foundation
import Imaging
import XCTest

/// The README's library snippets, verbatim, compiled and run in a folder laid
/// out as they expect (`logo.png`, `TestImages/`, `out/`), so the README cannot
/// drift from the API.
final class ReadmeSnippetTests: XCTestCase {
    static let projectRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs `body` with the current directory set to a folder with the files the snippets name.
    func inSnippetFolder(_ body: () async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("readme-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("out"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("TestImages"),
                                                   withDestinationURL: Self.projectRoot.appendingPathComponent("TestImages"))
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("logo.png"),
                                                   withDestinationURL: Self.projectRoot.appendingPathComponent("TestImages/campaign-logo.png"))
        let previous = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(folder.path)
        defer {
            FileManager.default.changeCurrentDirectoryPath(previous)
            try? FileManager.default.removeItem(at: folder)
        }
        try await body()
    }

    func testTheImagingSnippet() async throws {
        try await inSnippetFolder {
            let bytes = try ImageFile.read("logo.png")                 // bounded by DecodeLimits.maxInputBytes
            let info = try ImageDecoder.probe(bytes)                     // header only: format, size, orientation, frames
            let image = try ImageDecoder.decode(bytes)                   // upright 8-bit pixels, every frame composited
            let png = try ImageEncoder.encode(image, as: .png)           // deterministic bytes
            XCTAssertEqual(info.width, image.pixels.width)
            XCTAssertFalse(png.isEmpty)
        }
    }

    func testTheProcessingSnippet() async throws {
        try await inSnippetFolder {
            let processor = LocalProcessor(processing: ProcessingOptions(filter: .lanczos3, threads: 2))
            let result = try await processor.process(
                file: "TestImages/campaign-logo.png",
                actions: [.thumbnails([PixelSize(width: 100, height: 100)]), .crop(x: 0, y: 0, width: 200, height: 100),
                          .scale(width: 300, height: nil), .rotate(degrees: 90)],
                outputDirectory: "out")
            print(result.parent.id, result.children.map { $0.record.type ?? "" })   // each child: record, bytes, image
            XCTAssertEqual(result.children.count, 4)
        }
    }

    func testTheUploadSnippet() async throws {
        try await inSnippetFolder {
            let sandbox = try await ClassySandbox.start()                       // or your real credentials
            try await sandbox.addMatchingPlan(id: 555, campaign: 1001)          // the sponsor job's plan (campaign 1001 exists)
            let client = ClassyClient(configuration: ClassyConfiguration(
                baseURL: sandbox.baseURL, clientID: sandbox.clientID, clientSecret: sandbox.clientSecret, memberID: 1))
            let upload = try await client.uploadAsset(try ImageFile.read("logo.png"), contentType: .png)
            print(upload.asset.id, upload.asset.cdnURL ?? "", upload.abandonedAssetIDs)

            let manifest = try Manifest.load(path: "TestImages/campaign-1001.yml")
            let runner = BatchRunner(manifest: manifest, journal: try SQLiteJournal(path: "journal.sqlite"), client: client)
            var finished = 0
            for try await event in runner.events() { print(event); if case .finished = event { finished += 1 } }
            await sandbox.stop()
            XCTAssertEqual(upload.asset.state, "uploaded")
            XCTAssertEqual(finished, manifest.jobs.count)
        }
    }
}
