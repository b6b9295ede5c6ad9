import Foundation

/// A job store that can only be read: `plan` looks up what an upload would skip
/// or continue, and must never change what the next upload finds. Every write
/// (runs, claims, steps) is refused, so a planner that tried would fail loudly,
/// not journal quietly. Without a store (`base` nil: nothing uploaded from here
/// yet) it reads as empty.
public struct ReadOnlyJournal: JobStore {
    public let base: (any JobStore)?

    public init(_ base: (any JobStore)?) {
        self.base = base
    }

    static func refused(_ what: String) -> JournalError {
        JournalError(.storage, "the journal is opened read-only (a plan writes nothing): \(what) refused")
    }

    public func beginRun() async throws(JournalError) -> RunLease { throw Self.refused("beginRun") }
    public func heartbeat(_ lease: RunLease) async throws(JournalError) { throw Self.refused("heartbeat") }
    public func endRun(_ lease: RunLease, as end: RunEnd) async throws(JournalError) { throw Self.refused("endRun") }
    public func bind(to target: APITarget) async throws(JournalError) { throw Self.refused("bind") }
    public func plan(_ plan: JobPlan) async throws(JournalError) -> PlanOutcome { throw Self.refused("plan") }
    public func claim(_ keys: [String], for lease: RunLease) async throws(JournalError) -> [JobClaim] { throw Self.refused("claim") }
    public func claimNext(limit: Int, for lease: RunLease) async throws(JournalError) -> [JobClaim] { throw Self.refused("claimNext") }
    public func release(_ claim: JobClaim) async throws(JournalError) { throw Self.refused("release") }
    public func record(_ step: JournalStep, under claim: JobClaim) async throws(JournalError) { throw Self.refused("record") }
    public func recordAbandoned(assetID: Int, item: Int?, reason: String, under claim: JobClaim) async throws(JournalError) {
        throw Self.refused("recordAbandoned")
    }

    public func recordHoldingLock<T: Sendable>(_ name: String, under claim: JobClaim,
                                        _ body: @escaping @Sendable () async throws -> (T, JournalStep)) async throws -> T {
        throw Self.refused("recordHoldingLock")
    }

    public func boundTarget() async throws(JournalError) -> APITarget? {
        try await base?.boundTarget()
    }

    public func job(key: String) async throws(JournalError) -> JournalJob? {
        try await base?.job(key: key)
    }

    public func incompleteJobs() async throws(JournalError) -> [JournalJob] {
        try await base?.incompleteJobs() ?? []
    }

    public func status(batch: String?) async throws(JournalError) -> JournalStatus {
        if let base { return try await base.status(batch: batch) }
        return JournalStatus(jobCounts: [:], itemCounts: [:], failures: [], lastSuccessfulUpload: nil, activeRuns: [],
                             paused: false, abandonedCount: 0, possiblyOrphanedCount: 0)
    }

    public func allAssets(batch: String?) async throws(JournalError) -> [JournalItem] {
        try await base?.allAssets(batch: batch) ?? []
    }

    public func abandonedAssets() async throws(JournalError) -> [AbandonedAsset] {
        try await base?.abandonedAssets() ?? []
    }
}
