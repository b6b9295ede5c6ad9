import Foundation
import XCTest
@testable import ClassyAPI

/// One image's upload flow as a pure value: every starting point a journal can
/// hold, every event, the URL lifetime, lost answers.
final class UploadStateMachineTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    func pending(_ id: Int, url: String = "http://s3/b/k?X-Amz-Expires=900") -> PresignedAsset {
        PresignedAsset(id: id, presignedPutURL: url)
    }
    let record: Asset = try! JSONDecoder().decode(Asset.self, from: Data(#"{"id": 5, "state": "uploaded", "size": 3}"#.utf8))

    func testTheHappyPathCheckpointsEachStepBeforeTheNextCommand() {
        var machine = UploadStateMachine(now: now)
        XCTAssertEqual(machine.nextCommand, .createPendingAsset)
        let checkpoint = machine.apply(.created(pending(5), issuedAt: now))
        XCTAssertEqual(checkpoint, .pendingCreated(pending(5), issuedAt: now, expiresAt: now.addingTimeInterval(900), replacing: nil))
        XCTAssertEqual(machine.nextCommand, .put(pending(5)))
        XCTAssertEqual(machine.apply(.stored), .stored(assetID: 5))
        XCTAssertEqual(machine.nextCommand, .confirm(assetID: 5))
        XCTAssertEqual(machine.apply(.confirmed(record)), .confirmed(record))
        XCTAssertEqual(machine.nextCommand, .finish(record))
    }

    func testAnExpiredURLIsReplacedAndTheOldPendingAssetNamedAsReplaced() {
        var machine = UploadStateMachine(maxURLRequests: 2, now: now)
        _ = machine.apply(.created(pending(5), issuedAt: now))
        XCTAssertNil(machine.apply(.expired))
        XCTAssertEqual(machine.nextCommand, .createPendingAsset)
        let checkpoint = machine.apply(.created(pending(6), issuedAt: now))
        guard case let .pendingCreated(_, _, _, replacing) = checkpoint else { return XCTFail("\(String(describing: checkpoint))") }
        XCTAssertEqual(replacing, 5)
        XCTAssertNil(machine.apply(.expired))
        XCTAssertEqual(machine.nextCommand, .fail(.urlsKeptExpiring(abandoned: [5, 6])), "the URL budget is spent")
    }

    func testALostCreateAnswerIsCountedAsPossiblyOrphanedAndAskedAgain() {
        var machine = UploadStateMachine(maxURLRequests: 1, maxCreationsInDoubt: 2, now: now)
        XCTAssertEqual(machine.apply(.creationInDoubt), .pendingPossiblyOrphaned)
        XCTAssertEqual(machine.nextCommand, .createPendingAsset, "a lost answer does not spend the expired-URL budget")
        XCTAssertEqual(machine.possiblyOrphaned, 1)
        _ = machine.apply(.creationInDoubt)
        XCTAssertEqual(machine.nextCommand, .createPendingAsset)
        _ = machine.apply(.creationInDoubt)
        XCTAssertEqual(machine.nextCommand, .fail(.creationKeptFailing(possiblyOrphaned: 3)), "bounded on its own")
    }

    func testResumingFromEveryProgressAJournalKeeps() {
        let valid = UploadStateMachine(resumingFrom: .pending(pending(5), expiresAt: now.addingTimeInterval(600)), now: now)
        XCTAssertEqual(valid.nextCommand, .put(pending(5)), "a URL still valid is reused")
        let stale = UploadStateMachine(resumingFrom: .pending(pending(5), expiresAt: now.addingTimeInterval(30)), now: now)
        XCTAssertEqual(stale.nextCommand, .createPendingAsset, "a URL about to expire is not used")
        XCTAssertEqual(stale.abandoned, [5])
        XCTAssertEqual(UploadStateMachine(resumingFrom: .stored(assetID: 5), now: now).nextCommand, .confirm(assetID: 5),
                       "bytes already stored are only confirmed")
        var confirmed = UploadStateMachine(resumingFrom: .confirmed(assetID: 5), now: now)
        XCTAssertEqual(confirmed.nextCommand, .fetch(assetID: 5))
        XCTAssertNil(confirmed.apply(.confirmed(record)), "nothing new to persist")
        XCTAssertEqual(confirmed.nextCommand, .finish(record))
    }

    func testAnEventThatCannotHappenFailsInsteadOfGuessing() {
        var machine = UploadStateMachine(now: now)
        XCTAssertNil(machine.apply(.stored))
        guard case .fail(.unexpected) = machine.nextCommand else { return XCTFail("\(machine.nextCommand)") }
    }

    func testTheURLLifetimeComesFromXAmzExpiresAndDate() {
        let url = "http://127.0.0.1:9/s3/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20270115T080000Z&X-Amz-Expires=300&X-Amz-Signature=ab"
        let issued = PresignedURLLifetime.parseAmzDate("20270115T080010Z")!
        XCTAssertEqual(PresignedURLLifetime.expiry(of: url, issuedAt: issued), PresignedURLLifetime.parseAmzDate("20270115T080500Z"))
        XCTAssertEqual(PresignedURLLifetime.expiry(of: "http://x/k", issuedAt: now), now.addingTimeInterval(900),
                       "without X-Amz-Expires: the documented 15 minutes")
    }
}
