import Foundation

/// A journal that can only be read: `plan` looks up what an upload would skip
/// or continue, and must never change what the next upload finds. Every write
/// is refused (so a planner that tried would fail loudly, not journal quietly).
/// Without a journal (`base` nil: nothing uploaded from here yet) it reads as empty.
public struct ReadOnlyJournal: JournalStore {
    public let base: (any JournalStore)?

    public init(_ base: (any JournalStore)?) {
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
    public func record(_ step: JournalStep, job key: String) async throws(JournalError) { throw Self.refused("record") }
    public func recordAbandoned(assetID: Int, job key: String, item: Int?, reason: String) async throws(JournalError) {
        throw Self.refused("recordAbandoned")
    }

    public func job(key: String) async throws(JournalError) -> JournalJob? {
        try await base?.job(key: key)
    }

    public func incompleteJobs() async throws(JournalError) -> [JournalJob] {
        try await base?.incompleteJobs() ?? []
    }

    public func status() async throws(JournalError) -> JournalStatus {
        if let base { return try await base.status() }
        return JournalStatus(jobCounts: [:], itemCounts: [:], failures: [], lastSuccessfulUpload: nil, activeRun: nil,
                             paused: false, abandonedCount: 0)
    }

    public func allAssets() async throws(JournalError) -> [JournalItem] {
        try await base?.allAssets() ?? []
    }

    public func abandonedAssets() async throws(JournalError) -> [AbandonedAsset] {
        try await base?.abandonedAssets() ?? []
    }
}
