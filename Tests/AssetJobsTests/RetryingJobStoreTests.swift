import AssetJobs
import Foundation
import XCTest

/// The store decorator that rides out a restarting database: `.storage`
/// failures are tried again within the budget, anything else passes at once.
final class RetryingJobStoreTests: XCTestCase {
    /// The in-memory store behind a switch that fails the next N calls with `.storage` (or another code).
    actor Flaky {
        var failuresLeft = 0
        var code: JournalError.Code = .storage
        var calls = 0
        func fail(_ n: Int, with code: JournalError.Code = .storage) { failuresLeft = n; self.code = code }
        func check() throws(JournalError) {
            calls += 1
            if failuresLeft > 0 {
                failuresLeft -= 1
                throw JournalError(code, "injected")
            }
        }
    }

    struct FlakyStore: JobStore {
        let inner = InMemoryJobStore()
        let flaky: Flaky
        func beginRun() async throws(JournalError) -> RunLease { try await flaky.check(); return try await inner.beginRun() }
        func heartbeat(_ lease: RunLease) async throws(JournalError) { try await flaky.check(); try await inner.heartbeat(lease) }
        func endRun(_ lease: RunLease, as end: RunEnd) async throws(JournalError) { try await inner.endRun(lease, as: end) }
        func bind(to target: APITarget) async throws(JournalError) { try await inner.bind(to: target) }
        func boundTarget() async throws(JournalError) -> APITarget? { try await inner.boundTarget() }
        func plan(_ plan: JobPlan) async throws(JournalError) -> PlanOutcome { try await flaky.check(); return try await inner.plan(plan) }
        func claim(_ keys: [String], for lease: RunLease) async throws(JournalError) -> [JobClaim] { try await inner.claim(keys, for: lease) }
        func claimNext(limit: Int, for lease: RunLease) async throws(JournalError) -> [JobClaim] { try await inner.claimNext(limit: limit, for: lease) }
        func release(_ claim: JobClaim) async throws(JournalError) { try await inner.release(claim) }
        func record(_ step: JournalStep, under claim: JobClaim) async throws(JournalError) { try await flaky.check(); try await inner.record(step, under: claim) }
        func recordAbandoned(assetID: Int, item: Int?, reason: String, under claim: JobClaim) async throws(JournalError) {
            try await inner.recordAbandoned(assetID: assetID, item: item, reason: reason, under: claim)
        }
        func recordHoldingLock<T: Sendable>(_ name: String, under claim: JobClaim,
                                        _ body: @escaping @Sendable () async throws -> (T, JournalStep)) async throws -> T {
            try await inner.recordHoldingLock(name, under: claim, body)
        }
        func job(key: String) async throws(JournalError) -> JournalJob? { try await inner.job(key: key) }
        func incompleteJobs() async throws(JournalError) -> [JournalJob] { try await inner.incompleteJobs() }
        func status(batch: String?) async throws(JournalError) -> JournalStatus { try await inner.status(batch: batch) }
        func allAssets(batch: String?) async throws(JournalError) -> [JournalItem] { try await inner.allAssets(batch: batch) }
        func abandonedAssets() async throws(JournalError) -> [AbandonedAsset] { try await inner.abandonedAssets() }
    }

    static let plan = JobPlan(key: "j", manifestPath: nil, role: "asset", target: "-", sourcePath: "/x", sourceSHA256: "0")

    func testStorageFailuresAreRiddenOutAndOtherErrorsPassAtOnce() async throws {
        let flaky = Flaky()
        let store = RetryingJobStore(FlakyStore(flaky: flaky), budget: .seconds(10))
        await flaky.fail(3)
        let outcome = try await store.plan(Self.plan)
        XCTAssertEqual(outcome, .new)
        let callsAfterPlan = await flaky.calls
        XCTAssertEqual(callsAfterPlan, 4, "three failures, then the call that worked")

        let run = try await store.beginRun()
        let claim = try await store.claim(["j"], for: run)[0]
        await flaky.fail(1, with: .invalidTransition)
        do {
            try await store.record(.bytesUploaded(item: 0), under: claim)
            XCTFail("a refused step must not be retried into success")
        } catch {
            XCTAssertEqual((error as? JournalError)?.code, .invalidTransition)
        }
        let callsAfterRefusal = await flaky.calls
        XCTAssertEqual(callsAfterRefusal, 6, "a refusal is not retried")
    }

    func testAnOutageLongerThanTheBudgetFails() async throws {
        let flaky = Flaky()
        let store = RetryingJobStore(FlakyStore(flaky: flaky), budget: .milliseconds(300))
        await flaky.fail(1000)
        do {
            _ = try await store.plan(Self.plan)
            XCTFail("an outage past the budget must fail")
        } catch {
            XCTAssertEqual((error as? JournalError)?.code, .storage)
        }
        let calls = await flaky.calls
        XCTAssertGreaterThan(calls, 1)
        XCTAssertLessThan(calls, 10, "backoff, not a busy loop")
    }
}
