import ClassySandbox
import Foundation
import SigV4
import XCTest
@testable import ClassyAPI

/// The happy path against a real S3 implementation: the sandbox issues
/// pre-signed URLs for moto, the bytes land there and are read back.
/// `scripts/test-classy.sh` starts moto and sets MOTO_ENDPOINT.
final class MotoTests: XCTestCase {
    func motoEndpoint() throws -> String {
        if let e = ProcessInfo.processInfo.environment["MOTO_ENDPOINT"], !e.isEmpty { return e }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail("MOTO_ENDPOINT is not set: in CI the moto test must run (use scripts/test-classy.sh)")
        }
        throw XCTSkip("MOTO_ENDPOINT not set; run scripts/test-classy.sh to include the moto test")
    }

    func testPNGJPEGAndGIFLandInMoto() async throws {
        let endpoint = try motoEndpoint()
        let bucket = "classy-assets-\(UUID().uuidString.lowercased().prefix(8))"
        // moto in its default mode accepts any request, so a plain PUT creates the bucket.
        let created = try await raw(.PUT, "\(endpoint)/\(bucket)")
        XCTAssertEqual(created.status, 200, created.body)
        let creds = SigV4Credentials(accessKeyID: "AKIDMOTOTEST", secretAccessKey: "moto-secret")
        try await withSandbox({ $0.objectStore = .external(endpoint: endpoint, bucket: bucket, region: "us-east-1", credentials: creds) }) { sandbox, client in
            let files: [([UInt8], ImageContentType)] = [(try TestImages.png(width: 24, height: 16), .png), (TestImages.jpegLike(5000), .jpeg), (TestImages.gif, .gif)]
            for (bytes, type) in files {
                let result = try await client.uploadAsset(bytes, contentType: type)
                XCTAssertEqual(result.asset.state, "uploaded")
                XCTAssertEqual(result.abandonedAssetIDs, [])
                XCTAssertEqual(result.asset.size, bytes.count)
                XCTAssertEqual(result.asset.contentType, type.rawValue)
                let url = try XCTUnwrap(result.asset.cdnURL)
                XCTAssertTrue(url.hasPrefix("\(endpoint)/\(bucket)/"), url)
                let (status, stored) = try await rawBytes(signedGet(url, endpoint: endpoint, credentials: creds))
                XCTAssertEqual(status, 200)
                XCTAssertTrue(stored == bytes, "bytes in moto differ for \(type): \(stored.count) vs \(bytes.count)")
            }
            // Processing reads the object back from moto and writes the child there.
            let png = try await client.uploadAsset(try TestImages.png(width: 30, height: 20), contentType: .png).asset
            let crop = try await client.processAsset(png.id, .crop(x: 0, y: 0, width: 10, height: 10))
            let (status, child) = try await rawBytes(signedGet(try XCTUnwrap(crop.first?.cdnURL), endpoint: endpoint, credentials: creds))
            XCTAssertEqual(status, 200)
            XCTAssertEqual(crop.first?.size, child.count)
        }
    }

    /// moto keeps objects private, so they are read back with a pre-signed GET.
    func signedGet(_ url: String, endpoint: String, credentials: SigV4Credentials) -> String {
        let path = String(url.dropFirst(endpoint.count))
        let host = String(endpoint.split(separator: "://", maxSplits: 1)[1])
        let p = SigV4.presign(PresignInput(method: "GET", host: host, path: SigV4.percentDecode(path) ?? path,
                                           date: UTCTime(epochSeconds: Int64(Date().timeIntervalSince1970)), expires: 60),
                              credentials: credentials)
        return endpoint + p.pathAndQuery
    }
}
