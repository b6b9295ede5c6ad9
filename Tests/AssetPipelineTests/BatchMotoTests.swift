import ClassyAPI
import ClassySandbox
import Crypto
import Foundation
import SigV4
import XCTest
@testable import AssetPipeline
import AssetJournalSQLite
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The batch uploader with a real S3 implementation behind the pre-signed URLs:
/// the sandbox issues URLs for moto_server (started by scripts/test.sh), and
/// every uploaded image is read back from moto and compared with its record.
final class BatchMotoTests: XCTestCase {
    let credentials = SigV4Credentials(accessKeyID: "AKIDBATCHMOTO", secretAccessKey: "moto-batch-secret")

    func motoEndpoint() throws -> String {
        if let endpoint = ProcessInfo.processInfo.environment["MOTO_ENDPOINT"], !endpoint.isEmpty { return endpoint }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail("MOTO_ENDPOINT is not set: in CI scripts/test.sh starts moto_server")
        }
        throw XCTSkip("MOTO_ENDPOINT not set (scripts/test.sh starts moto_server)")
    }

    func testMixedManifestLandsInMotoByteForByte() async throws {
        let endpoint = try motoEndpoint()
        let bucket = "batch-\(UUID().uuidString.lowercased().prefix(8))"
        var create = URLRequest(url: URL(string: "\(endpoint)/\(bucket)")!)
        create.httpMethod = "PUT" // moto in its default mode creates the bucket on a plain PUT
        let (_, created) = try await URLSession.shared.data(for: create)
        XCTAssertEqual((created as? HTTPURLResponse)?.statusCode, 200)

        var configuration = SandboxConfiguration()
        configuration.objectStore = .external(endpoint: endpoint, bucket: bucket, region: "us-east-1", credentials: credentials)
        let sandbox = try await ClassySandbox.start(configuration)
        try await sandbox.addCampaign(SandboxCampaign(id: 1001, name: "Moto"))
        defer { Task { await sandbox.stop() } }
        let client = ClassyClient(configuration: ClassyConfiguration(
            baseURL: sandbox.baseURL, clientID: sandbox.clientID, clientSecret: sandbox.clientSecret, memberID: 3))

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("batch-moto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let images = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("TestImages").path
        let manifestPath = folder.appendingPathComponent("m.yml").path
        try """
        jobs:
          - role: logo
            source: \(images)/campaign-logo.png
            campaign: 1001
            thumbnails: [100x100]
          - role: ecard
            source: \(images)/ecard-landscape-exif6.jpg
            campaign: 1001
            order: 1
          - role: asset
            source: \(images)/sponsor-cogs.gif
            actions:
              - scale: {width: 40}
        """.write(toFile: manifestPath, atomically: true, encoding: .utf8)

        let summary = try await BatchRunner(manifest: try Manifest.load(path: manifestPath),
                                            journal: try SQLiteJournal(path: folder.appendingPathComponent("j.sqlite").path),
                                            client: client).run()
        XCTAssertEqual(summary.done, 3, summary.failures.map(\.error).joined(separator: "; "))
        XCTAssertEqual(summary.records.count, 6)
        for record in summary.records {
            let url = try XCTUnwrap(record.cdnURL)
            XCTAssertTrue(url.hasPrefix("\(endpoint)/\(bucket)/"), url)
            let (data, response) = try await URLSession.shared.data(from: URL(string: signedGet(url, endpoint: endpoint))!)
            XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 200)
            let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
            XCTAssertEqual(digest, record.sha256, "the bytes in moto are the bytes the record describes (\(record.type ?? "original"))")
        }
    }

    /// moto keeps objects private: read them back with a pre-signed GET.
    func signedGet(_ url: String, endpoint: String) -> String {
        let path = String(url.dropFirst(endpoint.count))
        let host = String(endpoint.split(separator: "://", maxSplits: 1)[1])
        let presigned = SigV4.presign(PresignInput(method: "GET", host: host, path: SigV4.percentDecode(path) ?? path,
                                                   date: UTCTime(epochSeconds: Int64(Date().timeIntervalSince1970)), expires: 60),
                                      credentials: credentials)
        return endpoint + presigned.pathAndQuery
    }
}
