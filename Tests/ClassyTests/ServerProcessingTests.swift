import AssetProcessing
import ClassySandbox
import Foundation
import Imaging
import XCTest
@testable import ClassyAPI

/// The sandbox's `POST /2.0/assets/{id}/process` against the reference and
/// against local processing: any angle, one name per rotation on both sides,
/// crop boxes checked against the upright image (400, never 500), a scale
/// with one side as local does it, and children that really are children.
final class ServerProcessingTests: XCTestCase {
    static let testImages = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TestImages")

    private func upload(_ client: ClassyClient, width: Int = 40, height: Int = 30) async throws -> (Asset, [UInt8]) {
        let bytes = try TestImages.png(width: width, height: height)
        return (try await client.uploadAsset(bytes, contentType: .png).asset, bytes)
    }

    private func localTypes(_ bytes: [UInt8], _ action: ImageAction) throws -> [String] {
        try LocalProcessor().process(bytes: bytes, actions: [action]).children.compactMap(\.record.type)
    }

    func testAnyAngleIsRotatedAndNamedByTheRuleLocalRecordsUse() async throws {
        try await withSandbox { sandbox, client in
            let (parent, bytes) = try await upload(client)
            for (angle, expected) in [(45.0, "rotated_45"), (-90, "rotated_270"), (-17.5, "rotated_342.5"), (450, "rotated_90")] {
                let children = try await client.processAsset(parent.id, .rotate(angle: angle))
                XCTAssertEqual(children.map(\.type), [expected], "angle \(angle)")
                XCTAssertEqual(try localTypes(bytes, .rotate(degrees: angle)), [expected], "local, angle \(angle)")
                XCTAssertEqual(ProcessAction.rotate(angle: angle).childTypes, [expected])
                let stored = await sandbox.objectBytes(assetID: children[0].id)
                let image = try ImageDecoder.decode(try XCTUnwrap(stored)).pixels
                let size = PixelBuffer.rotatedSize(width: 40, height: 30, degrees: angle)
                XCTAssertEqual([image.width, image.height], [size.width, size.height], "angle \(angle)")
            }
        }
    }

    func testCropBoxesAreCheckedAgainstTheUprightImage() async throws {
        try await withSandbox { sandbox, client in
            // Stored 1200x1800 with EXIF orientation 6: upright it is 1800x1200.
            let bytes = Array(try Data(contentsOf: Self.testImages.appendingPathComponent("ecard-landscape-exif6.jpg")))
            let parent = try await client.uploadAsset(bytes, contentType: .jpeg).asset

            // Inside the upright image, outside the stored one.
            let crop = try await client.processAsset(parent.id, .crop(x: 1300, y: 0, width: 400, height: 400))
            XCTAssertEqual(crop.map(\.type), ["cropped"])
            let stored = await sandbox.objectBytes(assetID: crop[0].id)
            let child = try ImageDecoder.decode(try XCTUnwrap(stored)).pixels
            XCTAssertEqual([child.width, child.height], [400, 400])
            let local = try LocalProcessor().process(bytes: bytes, actions: [.crop(x: 1300, y: 0, width: 400, height: 400)]).children[0].image
            XCTAssertGreaterThan(try ImageComparison.psnr(local.pixels, child), 30, "the same part of the picture")

            // Inside the stored image, outside the upright one: refused as the caller's mistake, not a server failure.
            let outside = await XCTAssertThrowsClassy(.badRequest, status: 400) {
                try await client.processAsset(parent.id, .crop(x: 0, y: 1300, width: 400, height: 400))
            }
            XCTAssertTrue(outside?.message.contains("1800x1200") ?? false, outside?.message ?? "")
            // And local processing refuses the same box.
            XCTAssertThrowsError(try LocalProcessor().process(bytes: bytes, actions: [.crop(x: 0, y: 1300, width: 400, height: 400)]))
        }
    }

    func testScaleWithOneSideKeepsTheAspectRatioAsLocalDoes() async throws {
        try await withSandbox { sandbox, client in
            let (parent, bytes) = try await upload(client)
            let byWidth = try await client.processAsset(parent.id, .scale(width: 20, height: nil))
            XCTAssertEqual(byWidth.map(\.type), ["scaled_20_15"])
            XCTAssertEqual(try localTypes(bytes, .scale(width: 20, height: nil)), ["scaled_20_15"])
            let byHeight = try await client.processAsset(parent.id, .scale(width: nil, height: 60))
            XCTAssertEqual(byHeight.map(\.type), ["scaled_80_60"])
            XCTAssertEqual(try ProcessAction.scale(width: nil, height: 60).childTypes(upright: PixelSize(width: 40, height: 30)), ["scaled_80_60"])
            let stored = await sandbox.objectBytes(assetID: byHeight[0].id)
            let image = try ImageDecoder.decode(try XCTUnwrap(stored)).pixels
            XCTAssertEqual([image.width, image.height], [80, 60])
            // Neither side: refused by both, before any pixel work.
            let token = try await client.accessToken().value
            let r = try await raw(.POST, sandbox.baseURL + "/2.0/assets/\(parent.id)/process",
                                  headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                                  body: Array(#"{"action":"scale","arguments":{}}"#.utf8))
            XCTAssertEqual(r.status, 400)
            XCTAssertThrowsError(try LocalProcessor().process(bytes: bytes, actions: [.scale(width: nil, height: nil)]))
        }
    }

    func testChildrenHaveTheirParentTypeAndStateAndCanBeFoundAgain() async throws {
        try await withSandbox { _, client in
            let (parent, _) = try await upload(client)
            let thumbs = try await client.processAsset(parent.id, .thumbnails([ProcessSize(width: 10, height: 10), ProcessSize(width: 20, height: 15)]))
            let rotated = try await client.processAsset(parent.id, .rotate(angle: -90))
            for child in thumbs + rotated {
                XCTAssertEqual(child.parentID, parent.id)
                XCTAssertEqual(child.state, "processed")
                XCTAssertNotNil(child.cdnURL)
            }
            XCTAssertEqual(thumbs.compactMap(\.type), ProcessAction.thumbnails([ProcessSize(width: 10, height: 10), ProcessSize(width: 20, height: 15)]).childTypes ?? [])

            let listed = try await client.assetChildren(parent.id)
            XCTAssertEqual(Set(listed.map(\.id)), Set((thumbs + rotated).map(\.id)))
            let found = try await client.findChild(of: parent.id, type: "rotated_270")
            XCTAssertEqual(found?.id, rotated[0].id)
            let missing = try await client.findChild(of: parent.id, type: "rotated_90")
            XCTAssertNil(missing)
            let both = try await client.findChildren(of: parent.id, types: ["thumbnail_10_10", "thumbnail_20_15", "cropped"])
            XCTAssertEqual(both.mapValues(\.id), ["thumbnail_10_10": thumbs[0].id, "thumbnail_20_15": thumbs[1].id])

            // A repeated call makes a second child of the same type; the first made is the one found.
            let again = try await client.processAsset(parent.id, .rotate(angle: 270))
            XCTAssertEqual(again.map(\.type), ["rotated_270"])
            let first = try await client.findChild(of: parent.id, type: "rotated_270")
            XCTAssertEqual(first?.id, rotated[0].id)
            _ = await XCTAssertThrowsClassy(.notFound, status: 404) { try await client.findChild(of: 987_654_321, type: "cropped") }
        }
    }

    /// The reconciliation the job lifecycle relies on: a `/process` whose
    /// answer is lost is `.ambiguous` (not repeated by the client), and its
    /// child is then found by type, so the caller adopts it instead of making a second.
    func testALostProcessAnswerIsAmbiguousAndItsChildIsFoundByType() async throws {
        try await withSandbox { sandbox, client in
            let (parent, _) = try await upload(client)
            var faults = SandboxFaults()
            faults.dropResponseRate = 1
            await sandbox.setFaults(faults)
            let action = ProcessAction.rotate(angle: -90)
            _ = await XCTAssertThrowsClassy(.ambiguous) { try await client.processAsset(parent.id, action) }
            await sandbox.setFaults(SandboxFaults())
            let type = try XCTUnwrap(action.childTypes?.first)
            let adopted = try await client.findChild(of: parent.id, type: type)
            XCTAssertEqual(adopted?.parentID, parent.id)
            XCTAssertEqual(adopted?.state, "processed")
            let children = try await client.assetChildren(parent.id)
            XCTAssertEqual(children.count, 1, "the client did not repeat the POST")
        }
    }

    /// A 500 to `/process` may come after the children were made: it is
    /// `.ambiguous`, not retried (a retry would make them twice).
    func testAServerErrorToProcessIsAmbiguousAndNotRetried() async throws {
        try await withSandbox { sandbox, client in
            let (parent, _) = try await upload(client)
            var faults = SandboxFaults()
            faults.processErrorsAfterWork = 1
            await sandbox.setFaults(faults)
            _ = await XCTAssertThrowsClassy(.ambiguous) { try await client.processAsset(parent.id, .rotate(angle: 90)) }
            let children = try await client.assetChildren(parent.id)
            XCTAssertEqual(children.map(\.type), ["rotated_90"], "made once, by the one request sent")
        }
    }

    func testMalformedRequestsAreRefusedWithTheirReason() async throws {
        try await withSandbox { sandbox, client in
            let (parent, _) = try await upload(client)
            let token = try await client.accessToken().value
            let cases: [(String, String)] = [
                (#"{"action":"blur","arguments":{}}"#, "Unknown action"),
                (#"{"action":"thumbnails","arguments":[]}"#, "thumbnails"),
                (#"{"action":"thumbnails","arguments":{"width":10,"height":10}}"#, "thumbnails"),
                (#"{"action":"crop","arguments":{"x":-1,"y":0,"width":5,"height":5}}"#, "negative"),
                (#"{"action":"crop","arguments":{"x":0,"y":0,"width":5}}"#, "crop takes"),
                (#"{"action":"rotate","arguments":{"angle":"ninety"}}"#, "angle"),
                (#"{"action":"rotate"}"#, "arguments"),
                (#"{"action":"scale","arguments":{"width":0}}"#, "positive"),
                (#"{"action":"scale","arguments":{"width":20000}}"#, "limit"),
                (#"[1,2]"#, "process request"),
                (#"{"action":"thumbnails","arguments":[{"width":10000,"height":10000},{"width":10000,"height":10000},{"width":10000,"height":10000}]}"#, "too large together"),
            ]
            for (body, reason) in cases {
                let r = try await raw(.POST, sandbox.baseURL + "/2.0/assets/\(parent.id)/process",
                                      headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                                      body: Array(body.utf8))
                XCTAssertEqual(r.status, 400, body)
                XCTAssertTrue(r.body.contains(reason), "\(body): \(r.body)")
            }
            // An angle with no JSON form is refused by the client before sending.
            for angle in [Double.nan, .infinity, -.infinity] {
                let refused = await XCTAssertThrowsClassy(.invalidRequest) { try await client.processAsset(parent.id, .rotate(angle: angle)) }
                XCTAssertTrue(refused?.message.contains("finite") ?? false)
            }
            let children = try await client.assetChildren(parent.id)
            XCTAssertEqual(children.count, 0, "nothing was made")
        }
    }
}
