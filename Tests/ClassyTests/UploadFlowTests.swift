import ClassySandbox
import Crypto
import Foundation
import Imaging
import XCTest
@testable import ClassyAPI

final class UploadFlowTests: XCTestCase {
    func testUploadsPNGJPEGAndGIFWithVerifiedBytes() async throws {
        try await withSandbox { sandbox, client in
            let files: [([UInt8], ImageContentType)] = [(try TestImages.png(width: 32, height: 20), .png), (TestImages.jpegLike(), .jpeg), (TestImages.gif, .gif)]
            for (bytes, type) in files {
                let result = try await client.uploadAsset(bytes, contentType: type)
                XCTAssertEqual(result.asset.state, "uploaded")
                XCTAssertEqual(result.asset.size, bytes.count)
                XCTAssertEqual(result.asset.contentType, type.rawValue)
                XCTAssertEqual(result.asset.createdBy, 387943)
                XCTAssertNotNil(result.asset.createdAt)
                XCTAssertEqual(result.abandonedAssetIDs, [])
                let stored = await sandbox.objectBytes(assetID: result.asset.id)
                XCTAssertEqual(stored, bytes, "\(type)")
                let (status, cdn) = try await rawBytes(try XCTUnwrap(result.asset.cdnURL))
                XCTAssertEqual(status, 200)
                XCTAssertEqual(cdn, bytes)
            }
        }
    }

    func testExpiredURLGetsANewPendingAssetAndTheOldOneIsReported() async throws {
        var faults = SandboxFaults()
        faults.expiredPresignedURLs = 1
        try await withSandbox({ $0.faults = faults }) { sandbox, client in
            let result = try await client.uploadAsset(TestImages.gif, contentType: .gif)
            XCTAssertEqual(result.abandonedAssetIDs.count, 1)
            let abandoned = result.abandonedAssetIDs[0]
            XCTAssertNotEqual(abandoned, result.asset.id)
            let stats = await sandbox.statistics()
            XCTAssertEqual(stats.assets.first { $0.id == abandoned }?.state, "pending")
            XCTAssertEqual(stats.assets.first { $0.id == result.asset.id }?.state, "uploaded")
        }
    }

    func testEveryURLExpiringIsAnErrorListingTheAbandonedAssets() async throws {
        var faults = SandboxFaults()
        faults.expiredPresignedURLs = 10
        try await withSandbox({ $0.faults = faults }, options: { $0.maxURLRequests = 2 }) { _, client in
            let e = await XCTAssertThrowsClassy(.urlExpired) { try await client.uploadAsset(TestImages.gif, contentType: .gif) }
            XCTAssertTrue(e?.message.contains("abandoned pending assets") ?? false)
            XCTAssertEqual(e?.pendingAssetIDs.count, 2)
        }
    }

    func testStoreRejectsWrongContentTypeBadMD5TamperingAndExpiry() async throws {
        try await withSandbox { sandbox, client in
            let bytes = try TestImages.png(width: 8, height: 8)
            let md5 = Data(Insecure.MD5.hash(data: bytes)).base64EncodedString()
            let pending = try await client.createAssetURL(contentType: .png)
            let url = pending.presignedPutURL
            XCTAssertTrue(url.contains("X-Amz-Expires=900"))
            XCTAssertTrue(url.contains("X-Amz-SignedHeaders=content-type%3Bhost"))

            var r = try await raw(.PUT, url, headers: [("Content-Type", "image/jpeg")], body: bytes)
            XCTAssertEqual(r.status, 403)
            XCTAssertTrue(r.body.contains("<Code>SignatureDoesNotMatch</Code>"), r.body)

            r = try await raw(.PUT, url, headers: [("Content-Type", "image/png"), ("Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA==")], body: bytes)
            XCTAssertEqual(r.status, 400)
            XCTAssertTrue(r.body.contains("<Code>BadDigest</Code>"), r.body)

            let tampered = url.replacingOccurrences(of: "X-Amz-Expires=900", with: "X-Amz-Expires=901")
            r = try await raw(.PUT, tampered, headers: [("Content-Type", "image/png")], body: bytes)
            XCTAssertEqual(r.status, 403)
            XCTAssertTrue(r.body.contains("SignatureDoesNotMatch"), r.body)

            let stats = await sandbox.statistics()
            XCTAssertEqual(stats.storePuts, 0, "nothing refused may be stored")

            r = try await raw(.PUT, url, headers: [("Content-Type", "image/png"), ("Content-MD5", md5)], body: bytes)
            XCTAssertEqual(r.status, 200)

            await sandbox.advanceClock(by: 901)
            r = try await raw(.PUT, url, headers: [("Content-Type", "image/png")], body: bytes)
            XCTAssertEqual(r.status, 403)
            XCTAssertTrue(r.body.contains("<Code>AccessDenied</Code>") && r.body.contains("Request has expired"), r.body)
        }
    }

    func testBadDigestFromTheStoreIsNotRetried() async throws {
        // A store that refuses the checksum: the client must give up at once.
        try await withSandbox { sandbox, client in
            let pending = try await client.createAssetURL(contentType: .gif)
            let broken = PresignedAsset(id: pending.id, presignedPutURL: pending.presignedPutURL.replacingOccurrences(of: "X-Amz-Signature=", with: "X-Amz-Signature=0"))
            let e = await XCTAssertThrowsClassy(.uploadRejected, status: 403) {
                try await client.putForTesting(TestImages.gif, to: broken, contentType: .gif)
            }
            XCTAssertFalse(e?.description.contains("X-Amz-Signature") ?? true, "the signature must be redacted: \(String(describing: e))")
            XCTAssertTrue(e?.message.contains("SignatureDoesNotMatch") ?? false)
            let stats = await sandbox.statistics()
            XCTAssertEqual(stats.storePuts, 0, "a 403 is final: no PUT may have been stored or repeated")
        }
    }

    func testStorm503sAreHonouredWithoutExceedingTheAdvertisedLimit() async throws {
        var faults = SandboxFaults()
        faults.stormRequests = 4
        faults.stormRetryAfterSeconds = 1
        try await withSandbox({ $0.faults = faults; $0.rateLimit = SandboxRateLimit(limit: 5, windowSeconds: 1) }) { sandbox, client in
            let images: [([UInt8], ImageContentType)] = [(TestImages.gif, .gif), (TestImages.jpegLike(500), .jpeg), (try TestImages.png(width: 4, height: 4), .png), (TestImages.gif, .gif)]
            try await withThrowingTaskGroup(of: UploadResult.self) { group in
                for (bytes, type) in images { group.addTask { try await client.uploadAsset(bytes, contentType: type) } }
                for try await r in group { XCTAssertEqual(r.asset.state, "uploaded") }
            }
            let stats = await sandbox.statistics()
            XCTAssertEqual(stats.requestsOverLimit, 0, "the client sent requests beyond the advertised limit")
            XCTAssertEqual(stats.assets.filter { $0.state == "uploaded" }.count, 4)
            let f = await sandbox.faults()
            XCTAssertEqual(f.stormRequests, 0, "the storm must have been met")
            let limit = await client.rateLimit
            XCTAssertEqual(limit?.limit, 5)
        }
    }

    func testS3ServerErrorsAndResetsStillCompleteEveryUploadExactlyOnce() async throws {
        var faults = SandboxFaults()
        faults.s3ServerErrorRate = 0.3
        faults.s3ResetRate = 0.3
        try await withSandbox({ $0.faults = faults; $0.seed = 42 }) { sandbox, client in
            var images: [([UInt8], ImageContentType)] = []
            for i in 0..<3 {
                images.append((try TestImages.png(width: 16 + i, height: 9), .png))
                images.append((TestImages.jpegLike(20_000), .jpeg))
                images.append((TestImages.gif, .gif))
            }
            var attempts = 0
            var ids: Set<Int> = []
            for (bytes, type) in images {
                let r = try await client.uploadAsset(bytes, contentType: type)
                attempts += r.storeAttempts
                ids.insert(r.asset.id)
                let stored = await sandbox.objectBytes(assetID: r.asset.id)
                XCTAssertEqual(stored, bytes)
            }
            XCTAssertEqual(ids.count, images.count)
            XCTAssertGreaterThan(attempts, images.count, "faults were injected, so some PUTs must have been repeated")
            let stats = await sandbox.statistics()
            let uploaded = stats.assets.filter { $0.state == "uploaded" }
            XCTAssertEqual(uploaded.count, images.count, "no duplicate uploaded asset")
            XCTAssertTrue(uploaded.allSatisfy { $0.uploadedTransitions == 1 })
            XCTAssertEqual(stats.assets.filter { $0.state == "pending" }.count, 0)
        }
    }

    func testStatePersistsInTheDataDirectory() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let app = SandboxClientApp.generated()
        let bytes = try TestImages.png(width: 5, height: 5)
        var id = 0
        try await withSandbox({ $0.dataDirectory = dir; $0.apps = [app] }) { _, client in
            id = try await client.uploadAsset(bytes, contentType: .png).asset.id
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("state.json").path))
        // A second start with freshly generated apps still gets the stored ones.
        try await withSandbox({ $0.dataDirectory = dir }) { sandbox, client in
            XCTAssertEqual(sandbox.clientID, app.clientID)
            let attributes = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("apps.json").path)
            XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
            let asset = try await client.asset(id)
            XCTAssertEqual(asset.state, "uploaded")
            let stored = await sandbox.objectBytes(assetID: id)
            XCTAssertEqual(stored, bytes)
        }
    }

    /// Changes go to an append-only log, replayed on the next start (the
    /// worker's kill -9 leaves a line torn at most, which is skipped), then
    /// folded into state.json; ids are never handed out twice.
    func testTheChangeLogSurvivesATornLastLineAndIsFoldedIntoTheStateOnRestart() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let bytes = try TestImages.png(width: 6, height: 4)
        var first = 0
        try await withSandbox({ $0.dataDirectory = dir }) { _, client in
            first = try await client.uploadAsset(bytes, contentType: .png).asset.id
        }
        let log = dir.appendingPathComponent("changes.jsonl")
        let logged = try String(contentsOf: log, encoding: .utf8)
        XCTAssertTrue(logged.contains("\"id\":\(first)"), "the upload is in the change log")
        let handle = try FileHandle(forWritingTo: log)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"asset\":{\"id\":99".utf8)) // a write cut short
        try handle.close()

        try await withSandbox({ $0.dataDirectory = dir }) { sandbox, client in
            let asset = try await client.asset(first)
            XCTAssertEqual(asset.state, "uploaded")
            XCTAssertEqual(asset.size, bytes.count)
            let second = try await client.uploadAsset(bytes, contentType: .png).asset.id
            XCTAssertGreaterThan(second, first, "ids continue after the replayed ones")
            let stored = await sandbox.objectBytes(assetID: first)
            XCTAssertEqual(stored, bytes)
        }
        let state = try String(contentsOf: dir.appendingPathComponent("state.json"), encoding: .utf8)
        XCTAssertTrue(state.contains("\"id\" : \(first)"), "the replayed log was folded into state.json")
    }
}
