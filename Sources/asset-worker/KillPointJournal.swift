#if canImport(Glibc)
import Glibc
#endif
import AssetJobs
import Foundation
import Synchronization

/// A test hook for the kill tests: with `ASSET_WORKER_KILL_AFTER_WRITES=N` in the
/// environment, the process kills itself (SIGKILL, as `kill -9` would) right
/// after the journal's Nth write, so a test can stop a run between every pair
/// of journal writes. Without the variable the journal is used as it is.
final class KillPointJournal: JobStore {
    let inner: any JournalStore
    let killAfter: Int
    private let writes = Atomic<Int>(0)

    init(inner: any JournalStore, killAfter: Int) {
        self.inner = inner
        self.killAfter = killAfter
    }

    static func wrapping(_ journal: any JournalStore, environment: [String: String] = ProcessInfo.processInfo.environment) -> any JournalStore {
        guard let n = environment["ASSET_WORKER_KILL_AFTER_WRITES"].flatMap(Int.init), n > 0 else { return journal }
        return KillPointJournal(inner: journal, killAfter: n)
    }

    private func wrote() {
        if writes.add(1, ordering: .sequentiallyConsistent).newValue == killAfter { kill(getpid(), SIGKILL) }
    }

    func beginRun() async throws(JournalError) -> RunLease { try await inner.beginRun() }
    func heartbeat(_ lease: RunLease) async throws(JournalError) { try await inner.heartbeat(lease) }
    func endRun(_ lease: RunLease, as end: RunEnd) async throws(JournalError) { try await inner.endRun(lease, as: end) }
    func bind(to target: APITarget) async throws(JournalError) { try await inner.bind(to: target) }
    func plan(_ plan: JobPlan) async throws(JournalError) -> PlanOutcome {
        let outcome = try await inner.plan(plan)
        wrote()
        return outcome
    }
    func record(_ step: JournalStep, under claim: JobClaim) async throws(JournalError) {
        try await inner.record(step, under: claim)
        wrote()
    }
    func recordAbandoned(assetID: Int, item: Int?, reason: String, under claim: JobClaim) async throws(JournalError) {
        try await inner.recordAbandoned(assetID: assetID, item: item, reason: reason, under: claim)
        wrote()
    }
    func recordHoldingLock<T: Sendable>(_ name: String, under claim: JobClaim,
                                        _ body: @escaping @Sendable () async throws -> (T, JournalStep)) async throws -> T {
        let value = try await inner.recordHoldingLock(name, under: claim, body)
        wrote()
        return value
    }
    func boundTarget() async throws(JournalError) -> APITarget? { try await inner.boundTarget() }
    func claim(_ keys: [String], for lease: RunLease) async throws(JournalError) -> [JobClaim] { try await inner.claim(keys, for: lease) }
    func claimNext(limit: Int, for lease: RunLease) async throws(JournalError) -> [JobClaim] { try await inner.claimNext(limit: limit, for: lease) }
    func release(_ claim: JobClaim) async throws(JournalError) { try await inner.release(claim) }
    func job(key: String) async throws(JournalError) -> JournalJob? { try await inner.job(key: key) }
    func incompleteJobs() async throws(JournalError) -> [JournalJob] { try await inner.incompleteJobs() }
    func status(batch: String?) async throws(JournalError) -> JournalStatus { try await inner.status(batch: batch) }
    func allAssets(batch: String?) async throws(JournalError) -> [JournalItem] { try await inner.allAssets(batch: batch) }
    func abandonedAssets() async throws(JournalError) -> [AbandonedAsset] { try await inner.abandonedAssets() }
}
