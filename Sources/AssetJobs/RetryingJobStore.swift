import Foundation

/// A `JobStore` that rides out a store that is briefly unreachable (a
/// PostgreSQL restart, a failover, a network blip): a call that fails with
/// `.storage` is tried again with backoff until `budget` has passed, so work
/// pauses and resumes instead of failing. Every other error passes at once.
///
/// Retrying is safe because every write is idempotent under `JournalRules`
/// (a step recorded twice leaves the job as once), except the count of
/// possibly orphaned pending assets, which may then count one too many: an
/// upper bound, as it already is.
public struct RetryingJobStore: JobStore {
    public let inner: any JobStore
    public let budget: Duration
    /// Called before each retry (for logs and metrics).
    public let onRetry: @Sendable (JournalError, Int) -> Void

    public init(_ inner: any JobStore, budget: Duration = .seconds(120),
                onRetry: @escaping @Sendable (JournalError, Int) -> Void = { _, _ in }) {
        self.inner = inner
        self.budget = budget
        self.onRetry = onRetry
    }

    func retrying<T: Sendable>(_ call: () async throws(JournalError) -> T) async throws(JournalError) -> T {
        try await OutageBackoff(budget: budget).run(call, isOutage: { $0.code == .storage }, onRetry: onRetry,
                                                    cancelled: { JournalError(.storage, "cancelled while the store was unreachable") })
    }

    public func beginRun() async throws(JournalError) -> RunLease { try await retrying { () throws(JournalError) in try await inner.beginRun() } }
    public func heartbeat(_ lease: RunLease) async throws(JournalError) {
        // Not retried here: the caller beats again soon, and a late beat must be able to learn it lost the lease.
        try await inner.heartbeat(lease)
    }
    public func endRun(_ lease: RunLease, as end: RunEnd) async throws(JournalError) {
        try await retrying { () throws(JournalError) in try await inner.endRun(lease, as: end) }
    }
    public func bind(to target: APITarget) async throws(JournalError) {
        try await retrying { () throws(JournalError) in try await inner.bind(to: target) }
    }
    public func boundTarget() async throws(JournalError) -> APITarget? {
        try await retrying { () throws(JournalError) in try await inner.boundTarget() }
    }
    public func plan(_ plan: JobPlan) async throws(JournalError) -> PlanOutcome {
        try await retrying { () throws(JournalError) in try await inner.plan(plan) }
    }
    public func claim(_ keys: [String], for lease: RunLease) async throws(JournalError) -> [JobClaim] {
        try await retrying { () throws(JournalError) in try await inner.claim(keys, for: lease) }
    }
    public func claimNext(limit: Int, for lease: RunLease) async throws(JournalError) -> [JobClaim] {
        try await retrying { () throws(JournalError) in try await inner.claimNext(limit: limit, for: lease) }
    }
    public func release(_ claim: JobClaim) async throws(JournalError) {
        try await retrying { () throws(JournalError) in try await inner.release(claim) }
    }
    public func record(_ step: JournalStep, under claim: JobClaim) async throws(JournalError) {
        try await retrying { () throws(JournalError) in try await inner.record(step, under: claim) }
    }
    public func recordAbandoned(assetID: Int, item: Int?, reason: String, under claim: JobClaim) async throws(JournalError) {
        try await retrying { () throws(JournalError) in try await inner.recordAbandoned(assetID: assetID, item: item, reason: reason, under: claim) }
    }
    /// Retried only while `body` has not run (a `.storage` error: the lock could not
    /// be taken); once it ran, its effect is real and the caller looks it up.
    public func recordHoldingLock<T: Sendable>(_ name: String, under claim: JobClaim,
                                               _ body: @escaping @Sendable () async throws -> (T, JournalStep)) async throws -> T {
        // The body's own errors pass at once (they are not `JournalError`s of the store).
        do {
            return try await OutageBackoff(budget: budget).run({ () async throws(LockAttemptFailure) -> T in
                do { return try await inner.recordHoldingLock(name, under: claim, body) } catch { throw LockAttemptFailure(error: error) }
            }, isOutage: { ($0.error as? JournalError)?.code == .storage }, onRetry: { failure, attempt in
                if let error = failure.error as? JournalError { onRetry(error, attempt) }
            }, cancelled: { LockAttemptFailure(error: JournalError(.storage, "cancelled while the store was unreachable")) })
        } catch {
            throw error.error
        }
    }

    public func job(key: String) async throws(JournalError) -> JournalJob? {
        try await retrying { () throws(JournalError) in try await inner.job(key: key) }
    }
    public func incompleteJobs() async throws(JournalError) -> [JournalJob] {
        try await retrying { () throws(JournalError) in try await inner.incompleteJobs() }
    }
    public func status(batch: String?) async throws(JournalError) -> JournalStatus {
        try await retrying { () throws(JournalError) in try await inner.status(batch: batch) }
    }
    public func allAssets(batch: String?) async throws(JournalError) -> [JournalItem] {
        try await retrying { () throws(JournalError) in try await inner.allAssets(batch: batch) }
    }
    public func abandonedAssets() async throws(JournalError) -> [AbandonedAsset] {
        try await retrying { () throws(JournalError) in try await inner.abandonedAssets() }
    }
}

/// Any error of a `recordHoldingLock` attempt, typed for `OutageBackoff`.
struct LockAttemptFailure: Error {
    var error: any Error
}
