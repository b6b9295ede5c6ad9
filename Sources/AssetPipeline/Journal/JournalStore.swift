import Foundation

/// The journal behind the batch runner: every step of every job, recorded
/// before the next one starts, so a run can stop at any moment (Ctrl-C, kill -9,
/// a crash) and the next one continues where it stood.
///
/// A protocol so the storage can change: SQLite (`SQLiteJournal`) for one
/// machine now; a shared PostgreSQL queue for several workers later. Everything
/// is `async` because a networked store will need it.
public protocol JournalStore: Sendable {
    /// Takes the journal for one run; throws `.busy` naming the holder when another
    /// live run has it. A run whose process is gone is taken over (see `RunLease.tookOver`).
    func beginRun() async throws(JournalError) -> RunLease
    /// Proves the run is still alive (for stores shared between machines, where a pid means nothing).
    func heartbeat(_ lease: RunLease) async throws(JournalError)
    /// Ends the run, releasing the journal; `.paused` makes `status` report a paused run.
    func endRun(_ lease: RunLease, as end: RunEnd) async throws(JournalError)

    /// Binds the journal to the API it records uploads to: the first call
    /// records `target`, later ones must name the same, or fail with
    /// `.targetMismatch` naming both (ids in one API mean nothing in another).
    func bind(to target: APITarget) async throws(JournalError)

    /// Registers a job. Idempotent: a known key keeps its progress.
    func plan(_ plan: JobPlan) async throws(JournalError) -> PlanOutcome
    /// Records one transition of job `key`, in one transaction.
    func record(_ step: JournalStep, job key: String) async throws(JournalError)
    /// Records a pending asset given up on, outside of a replacement.
    func recordAbandoned(assetID: Int, job key: String, item: Int?, reason: String) async throws(JournalError)

    func job(key: String) async throws(JournalError) -> JournalJob?
    /// Jobs not done yet (failed ones included), oldest first, with their items.
    func incompleteJobs() async throws(JournalError) -> [JournalJob]
    func status() async throws(JournalError) -> JournalStatus
    /// Every image of every job, for `verify`.
    func allAssets() async throws(JournalError) -> [JournalItem]
    func abandonedAssets() async throws(JournalError) -> [AbandonedAsset]
}
