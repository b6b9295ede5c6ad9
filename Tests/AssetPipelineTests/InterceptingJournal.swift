import AssetJobs

/// A journal that runs `beforeRecord` before each `record` of a step: to fail one
/// kind of step (as a kill or a full disk at that moment would: the run stops
/// there, nothing written), to slow it, or to look at the world while it is
/// being written. Everything else goes straight to `inner`.
final class InterceptingJournal: ForwardingJobStore {
    let inner: any JobStore
    let beforeRecord: @Sendable (JournalStep) async throws(JournalError) -> Void

    init(inner: any JournalStore, beforeRecord: @escaping @Sendable (JournalStep) async throws(JournalError) -> Void) {
        self.inner = inner
        self.beforeRecord = beforeRecord
    }

    func record(_ step: JournalStep, under claim: JobClaim) async throws(JournalError) {
        try await beforeRecord(step)
        try await inner.record(step, under: claim)
    }
}
