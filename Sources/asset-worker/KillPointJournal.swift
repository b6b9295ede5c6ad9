#if canImport(Glibc)
import Glibc
#endif
import AssetJobs
import Foundation
import Synchronization

/// A test hook for the kill tests: with `ASSET_WORKER_KILL_AFTER_WRITES=N` in the
/// environment, the process kills itself (SIGKILL, as `kill -9` would) right
/// after the journal's Nth write, so a test can stop a run between every pair
/// of journal writes. With `ASSET_WORKER_KILL_BEFORE_WRITE=N` it dies just
/// before the Nth write instead: after the action the write records (an API
/// call that made something), before the record. Without either variable the
/// journal is used as it is.
final class KillPointJournal: ForwardingJobStore {
    let inner: any JobStore
    let killAt: Int
    /// Whether the process dies before the write `killAt` rather than after it.
    let beforeTheWrite: Bool
    private let writes = Atomic<Int>(0)

    init(inner: any JournalStore, killAt: Int, beforeTheWrite: Bool) {
        self.inner = inner
        self.killAt = killAt
        self.beforeTheWrite = beforeTheWrite
    }

    static func wrapping(_ journal: any JournalStore, environment: [String: String] = ProcessInfo.processInfo.environment) -> any JournalStore {
        if let n = environment["ASSET_WORKER_KILL_BEFORE_WRITE"].flatMap(Int.init), n > 0 {
            return KillPointJournal(inner: journal, killAt: n, beforeTheWrite: true)
        }
        guard let n = environment["ASSET_WORKER_KILL_AFTER_WRITES"].flatMap(Int.init), n > 0 else { return journal }
        return KillPointJournal(inner: journal, killAt: n, beforeTheWrite: false)
    }

    /// Counts a write about to happen; dies here when it is the one to die before.
    private func writing() {
        guard beforeTheWrite else { return }
        if writes.add(1, ordering: .sequentiallyConsistent).newValue == killAt { kill(getpid(), SIGKILL) }
    }

    private func wrote() {
        guard !beforeTheWrite else { return }
        if writes.add(1, ordering: .sequentiallyConsistent).newValue == killAt { kill(getpid(), SIGKILL) }
    }

    func plan(_ plan: JobPlan) async throws(JournalError) -> PlanOutcome {
        writing()
        let outcome = try await inner.plan(plan)
        wrote()
        return outcome
    }
    func record(_ step: JournalStep, under claim: JobClaim) async throws(JournalError) {
        writing()
        try await inner.record(step, under: claim)
        wrote()
    }
    func recordAbandoned(assetID: Int, item: Int?, reason: String, under claim: JobClaim) async throws(JournalError) {
        writing()
        try await inner.recordAbandoned(assetID: assetID, item: item, reason: reason, under: claim)
        wrote()
    }
    func recordHoldingLock<T: Sendable>(_ name: String, under claim: JobClaim,
                                        _ body: @escaping @Sendable () async throws -> (T, JournalStep)) async throws -> T {
        // "Before the write" is after the body's action, before the step that records it.
        let value = try await inner.recordHoldingLock(name, under: claim) { [self] () async throws -> (T, JournalStep) in
            let result = try await body()
            writing()
            return result
        }
        wrote()
        return value
    }
}
