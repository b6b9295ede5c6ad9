import AssetJobs
import JobStoreContract
import XCTest

/// The job store contract against the in-memory store.
final class InMemoryJobStoreContractTests: XCTestCase {
    struct Subject: JobStoreTestSubject {
        func makeStore() async throws -> any JobStore { InMemoryJobStore() }
        func crash(_ lease: RunLease, of store: any JobStore) async throws {
            await (store as! InMemoryJobStore).simulateCrash(of: lease)
        }
    }

    func testContract() async throws {
        for check in JobStoreContract.checks {
            do { try await check.run(Subject()) } catch { XCTFail("\(check.name): \(error)") }
        }
    }

    /// A run whose heartbeat is older than the lease is dead without crashing:
    /// the time-based half of liveness, which a clock can show.
    func testLeaseExpiresWithoutHeartbeat() async throws {
        let now = LockedDate(Date(timeIntervalSince1970: 1_800_000_000))
        let store = InMemoryJobStore(leaseDuration: 30, clock: { now.value })
        _ = try await store.plan(JobPlan(key: "j", manifestPath: nil, role: "asset", target: "-", sourcePath: "/x", sourceSHA256: "0"))
        let a = try await store.beginRun()
        let claim = try await store.claim(["j"], for: a)
        XCTAssertEqual(claim.count, 1)
        now.advance(20)
        try await store.heartbeat(a)
        now.advance(20)   // 20 s after the heartbeat: still alive
        let b = try await store.beginRun()
        let early = try await store.claim(["j"], for: b)
        XCTAssertTrue(early.isEmpty)
        now.advance(11)   // 31 s after a's heartbeat
        let late = try await store.claim(["j"], for: b)
        XCTAssertEqual(late.map(\.jobKey), ["j"])
        do {
            try await store.heartbeat(a)
            XCTFail("a heartbeat after the lease expired must fail")
        } catch let error as JournalError {
            XCTAssertEqual(error.code, .leaseLost)
        }
    }
}

final class LockedDate: @unchecked Sendable {
    private let lock = NSLock()
    private var date: Date
    init(_ date: Date) { self.date = date }
    var value: Date { lock.withLock { date } }
    func advance(_ seconds: TimeInterval) { lock.withLock { date += seconds } }
}
