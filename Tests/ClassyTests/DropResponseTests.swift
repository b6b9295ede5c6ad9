import ClassySandbox
import Foundation
import NIOHTTP1
import XCTest
@testable import ClassyAPI

/// `drop-response`: the sandbox does the work, then closes the connection
/// without answering, so a client cannot tell "not done" from "done, answer lost".
final class DropResponseTests: XCTestCase {
    func testTheSpecIsParsedLikeTheOtherFaults() throws {
        let f = try SandboxFaults(parsing: ["drop-response=0.05", "ecards-without-id=1"])
        XCTAssertEqual(f.dropResponseRate, 0.05)
        XCTAssertTrue(f.eCardsWithoutID)
        XCTAssertThrowsError(try SandboxFaults(parsing: ["drop-response=1.5"]))
        XCTAssertThrowsError(try SandboxFaults(parsing: ["ecards-without-id=maybe"]))
    }

    func testALostECardAnswerStillCreatedTheECard() async throws {
        try await withSandbox { sandbox, client in
            let token = try await client.accessToken().value
            var faults = SandboxFaults()
            faults.dropResponseRate = 1
            await sandbox.setFaults(faults)
            let body = Array(#"{"image_url":"https://example.org/lost-answer.png","order":3}"#.utf8)
            do {
                let r = try await raw(.POST, sandbox.baseURL + "/2.0/campaigns/1001/ecards",
                                      headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")], body: body)
                XCTFail("expected the connection to close without an answer, got \(r.status) \(r.body)")
            } catch {
                // A transport error, not an HTTP status: exactly what the client sees.
            }
            let dropped = await sandbox.droppedResponses()
            XCTAssertEqual(dropped, 1)
            await sandbox.setFaults(SandboxFaults())
            var cards: [ECard] = []
            for try await card in client.eCards(campaignID: 1001) { cards.append(card) }
            XCTAssertEqual(cards.map(\.imageURL), ["https://example.org/lost-answer.png"], "the POST was carried out")
            XCTAssertEqual(cards.first?.order, 3)
        }
    }

    func testALostStoreAnswerStillStoredTheObject() async throws {
        try await withSandbox { sandbox, client in
            let pending = try await client.createAssetURL(contentType: .png)
            var faults = SandboxFaults()
            faults.dropResponseRate = 1
            await sandbox.setFaults(faults)
            let png = try TestImages.png(width: 12, height: 9)
            do {
                let r = try await raw(.PUT, pending.presignedPutURL,
                                      headers: [("Content-Type", "image/png"), ("Content-Length", String(png.count))], body: png)
                XCTFail("expected the connection to close without an answer, got \(r.status) \(r.body)")
            } catch {}
            let stored = await sandbox.objectBytes(assetID: pending.id)
            XCTAssertEqual(stored, png, "the PUT was carried out")
            let stats = await sandbox.statistics()
            XCTAssertEqual(stats.droppedResponses, 1)
            XCTAssertEqual(stats.storePuts, 1)
            // The asset can be confirmed once answers come back.
            await sandbox.setFaults(SandboxFaults())
            let asset = try await client.markAssetUploaded(pending.id)
            XCTAssertEqual(asset.size, png.count)
        }
    }

    /// Seeded like the other faults: the same seed loses the same answers.
    func testASeedReplaysTheSameDrops() async throws {
        func pattern(seed: UInt64) async throws -> [Bool] {
            var outcome: [Bool] = []
            try await withSandbox({ $0.seed = seed }) { sandbox, client in
                let token = try await client.accessToken().value
                var faults = SandboxFaults()
                faults.dropResponseRate = 0.5
                await sandbox.setFaults(faults)
                for _ in 0 ..< 12 {
                    let answered = (try? await raw(.GET, sandbox.baseURL + "/2.0/campaigns/1001",
                                                   headers: [("Authorization", "Bearer \(token)")])) != nil
                    outcome.append(answered)
                }
                let dropped = await sandbox.droppedResponses()
                XCTAssertEqual(dropped, outcome.filter { !$0 }.count)
            }
            return outcome
        }
        let first = try await pattern(seed: 42)
        let again = try await pattern(seed: 42)
        XCTAssertEqual(first, again)
        XCTAssertTrue(first.contains(true) && first.contains(false), "a share of 0.5 over 12 requests drops some, not all: \(first)")
    }
}
