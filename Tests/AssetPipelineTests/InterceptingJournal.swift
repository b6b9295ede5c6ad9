import AssetJobs

/// A journal that runs `beforeRecord` before each `record` of a step: to fail one
/// kind of step (as a kill or a full disk at that moment would: the run stops
/// there, nothing written), to slow it, or to look at the world while it is
/// being written. Everything else goes straight to `inner`.
final class InterceptingJournal: JobStore {
    let inner: any JournalStore
    let beforeRecord: @Sendable (JournalStep) async throws(JournalError) -> Void

    init(inner: any JournalStore, beforeRecord: @escaping @Sendable (JournalStep) async throws(JournalError) -> Void) {
        self.inner = inner
        self.beforeRecord = beforeRecord
    }

    func record(_ step: JournalStep, under claim: JobClaim) async throws(JournalError) {
        try await beforeRecord(step)
        try await inner.record(step, under: claim)
    }

    func beginRun() async throws(JournalError) -> RunLease { try await inner.beginRun() }
    func heartbeat(_ lease: RunLease) async throws(JournalError) { try await inner.heartbeat(lease) }
    func endRun(_ lease: RunLease, as end: RunEnd) async throws(JournalError) { try await inner.endRun(lease, as: end) }
    func bind(to target: APITarget) async throws(JournalError) { try await inner.bind(to: target) }
    func plan(_ plan: JobPlan) async throws(JournalError) -> PlanOutcome { try await inner.plan(plan) }
    func recordAbandoned(assetID: Int, item: Int?, reason: String, under claim: JobClaim) async throws(JournalError) {
        try await inner.recordAbandoned(assetID: assetID, item: item, reason: reason, under: claim)
    }
    func recordHoldingLock<T: Sendable>(_ name: String, under claim: JobClaim,
                                        _ body: @escaping @Sendable () async throws -> (T, JournalStep)) async throws -> T {
        try await inner.recordHoldingLock(name, under: claim, body)
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
