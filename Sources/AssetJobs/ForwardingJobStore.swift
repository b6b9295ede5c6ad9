/// A `JobStore` that wraps another and passes every call it does not implement
/// itself on to `inner`: the base of decorators that watch, slow or interrupt
/// some calls (the kill-point journal of the kill tests, the tests' failing and
/// intercepting journals), so each one writes only the calls it changes.
/// A decorator that changes every call (`RetryingJobStore`) needs none of this.
public protocol ForwardingJobStore: JobStore {
    var inner: any JobStore { get }
}

extension ForwardingJobStore {
    public func beginRun() async throws(JournalError) -> RunLease { try await inner.beginRun() }
    public func heartbeat(_ lease: RunLease) async throws(JournalError) { try await inner.heartbeat(lease) }
    public func endRun(_ lease: RunLease, as end: RunEnd) async throws(JournalError) { try await inner.endRun(lease, as: end) }
    public func bind(to target: APITarget) async throws(JournalError) { try await inner.bind(to: target) }
    public func boundTarget() async throws(JournalError) -> APITarget? { try await inner.boundTarget() }
    public func plan(_ plan: JobPlan) async throws(JournalError) -> PlanOutcome { try await inner.plan(plan) }
    public func claim(_ keys: [String], for lease: RunLease) async throws(JournalError) -> [JobClaim] {
        try await inner.claim(keys, for: lease)
    }
    public func claimNext(limit: Int, for lease: RunLease) async throws(JournalError) -> [JobClaim] {
        try await inner.claimNext(limit: limit, for: lease)
    }
    public func release(_ claim: JobClaim) async throws(JournalError) { try await inner.release(claim) }
    public func record(_ step: JournalStep, under claim: JobClaim) async throws(JournalError) {
        try await inner.record(step, under: claim)
    }
    public func recordAbandoned(assetID: Int, item: Int?, reason: String, under claim: JobClaim) async throws(JournalError) {
        try await inner.recordAbandoned(assetID: assetID, item: item, reason: reason, under: claim)
    }
    public func recordHoldingLock<T: Sendable>(_ name: String, under claim: JobClaim,
                                               _ body: @escaping @Sendable () async throws -> (T, JournalStep)) async throws -> T {
        try await inner.recordHoldingLock(name, under: claim, body)
    }
    public func job(key: String) async throws(JournalError) -> JournalJob? { try await inner.job(key: key) }
    public func incompleteJobs() async throws(JournalError) -> [JournalJob] { try await inner.incompleteJobs() }
    public func status(batch: String?) async throws(JournalError) -> JournalStatus { try await inner.status(batch: batch) }
    public func allAssets(batch: String?) async throws(JournalError) -> [JournalItem] { try await inner.allAssets(batch: batch) }
    public func abandonedAssets() async throws(JournalError) -> [AbandonedAsset] { try await inner.abandonedAssets() }
}
