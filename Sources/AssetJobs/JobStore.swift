// Job records carry asset records; callers of the store see them.
@_exported import AssetProcessing
import Foundation

/// Where jobs and every step of them are kept, so work can stop at any moment
/// (Ctrl-C, kill -9, a crash, a lost machine) and continue where it stood.
///
/// The port between the batch engine and its storage: SQLite (`SQLiteJournal`,
/// one machine), PostgreSQL (a queue shared by several machines), and
/// `InMemoryJobStore` for tests. Every method can be implemented from another
/// module with the public value types here; `JobStoreContract` is the test
/// suite every implementation must pass.
///
/// ## Workers, claims and fences
/// - A worker registers with `beginRun` and keeps its `RunLease` alive with
///   `heartbeat`. A store decides a run is dead when its heartbeat is older than
///   the store's lease duration (or sooner, when it can tell: a local process
///   whose lock is gone).
/// - A worker works on a job only under a `JobClaim`. A job has at most one live
///   claim; claiming it again after its holder died gives a new, larger `fence`.
/// - Every write names its claim, and the store refuses (`.fenced`) a write
///   whose fence is no longer the job's: a worker that was paused or cut off
///   past its lease can never write over the job's new owner.
public protocol JobStore: Sendable {
    // MARK: Workers

    /// Registers a worker. Runs found dead are ended, their claims released, and
    /// listed in `RunLease.tookOver`.
    func beginRun() async throws(JournalError) -> RunLease
    /// Proves the run is alive and renews its claims; `.leaseLost` once the store has declared it dead.
    func heartbeat(_ lease: RunLease) async throws(JournalError)
    /// Ends the run and releases its claims; `.paused` makes `status` report a paused journal.
    func endRun(_ lease: RunLease, as end: RunEnd) async throws(JournalError)

    // MARK: Target

    /// Binds the store to the API it records uploads to: the first call records
    /// `target`, later ones must name the same, or fail with `.targetMismatch`
    /// naming both (ids in one API mean nothing in another).
    func bind(to target: APITarget) async throws(JournalError)
    func boundTarget() async throws(JournalError) -> APITarget?

    // MARK: Jobs

    /// Registers a job. Idempotent: a known key keeps its progress; a failed one
    /// has its error cleared so it is tried again.
    func plan(_ plan: JobPlan) async throws(JournalError) -> PlanOutcome
    /// Claims those of `keys` that are not done and not held by another live run,
    /// in the order given.
    func claim(_ keys: [String], for lease: RunLease) async throws(JournalError) -> [JobClaim]
    /// Claims up to `limit` jobs that are not done, not failed and not held by a
    /// live run, oldest first (a queue worker's way to take work).
    func claimNext(limit: Int, for lease: RunLease) async throws(JournalError) -> [JobClaim]
    /// Gives a claim up (the job is done, failed, or left for another worker).
    func release(_ claim: JobClaim) async throws(JournalError)
    /// Records one transition of the claimed job, in one transaction, if the claim is still the job's.
    func record(_ step: JournalStep, under claim: JobClaim) async throws(JournalError)
    /// Records a pending asset given up on, outside of a replacement.
    func recordAbandoned(assetID: Int, item: Int?, reason: String, under claim: JobClaim) async throws(JournalError)

    // MARK: Rules across jobs

    /// Runs `body` holding the store-wide lock `name`, one holder at a time among
    /// every worker of the store on any machine, then records the step `body`
    /// returns under `claim` before the lock is let go (in the same transaction
    /// where the store has one). A body that throws records nothing and its error
    /// comes out as it is. The store's own failures: a `JournalError` when `body`
    /// did not run (nothing happened), `LockedStepNotRecorded` when it ran and its
    /// step could not be recorded (its effect is real: look it up). A holder that
    /// dies lets go of the lock with its process or connection.
    ///
    /// What it is for: a rule that spans jobs, such as at most 4 eCards per
    /// campaign and one per order, is checked against the API and acted on by
    /// one worker at a time (`body` reads the campaign's eCards, then attaches).
    func recordHoldingLock<T: Sendable>(_ name: String, under claim: JobClaim,
                                        _ body: @escaping @Sendable () async throws -> (T, JournalStep)) async throws -> T

    // MARK: Reading

    func job(key: String) async throws(JournalError) -> JournalJob?
    /// Jobs not done yet (failed ones included), oldest first, with their items.
    func incompleteJobs() async throws(JournalError) -> [JournalJob]
    /// Jobs, images and failures of one batch (`JobPlan.batch`), or of every job
    /// when `batch` is nil. The live workers are the whole store's either way.
    func status(batch: String?) async throws(JournalError) -> JournalStatus
    /// Every image of every job (of one batch, when given), for `verify`.
    func allAssets(batch: String?) async throws(JournalError) -> [JournalItem]
    func abandonedAssets() async throws(JournalError) -> [AbandonedAsset]
}

/// `recordHoldingLock`'s body ran, and recording its step failed: what the
/// body did (an API call) happened, and the journal does not say so.
public struct LockedStepNotRecorded: Error, Sendable, CustomStringConvertible {
    public var error: JournalError
    public init(error: JournalError) { self.error = error }
    public var description: String { "the step after the locked call was not recorded: \(error)" }
}

extension JobStore {
    /// Records the step a locked body returned, for stores whose lock is not a
    /// transaction: a failure here is `LockedStepNotRecorded` (the body's effect is real).
    public func recordLockedStep(_ step: JournalStep, under claim: JobClaim) async throws(LockedStepNotRecorded) {
        do {
            try await record(step, under: claim)
        } catch {
            throw LockedStepNotRecorded(error: error)
        }
    }

    /// The whole store's status.
    public func status() async throws(JournalError) -> JournalStatus { try await status(batch: nil) }
    /// Every image of every job.
    public func allAssets() async throws(JournalError) -> [JournalItem] { try await allAssets(batch: nil) }
}

/// The name the batch engine used before the port had several implementations.
public typealias JournalStore = JobStore

/// A worker's registration with a store. Opaque to the engine: only the store
/// that made it reads its fields.
public struct RunLease: Sendable, Hashable {
    public var runID: Int64
    public var pid: Int32
    public var host: String
    public var startedAt: Date
    /// Runs found dead when this one began; their claims were released.
    public var tookOver: [RunInfo]

    public init(runID: Int64, pid: Int32, host: String, startedAt: Date, tookOver: [RunInfo] = []) {
        self.runID = runID
        self.pid = pid
        self.host = host
        self.startedAt = startedAt
        self.tookOver = tookOver
    }
}

/// A run's hold on one job. Every write to the job names it.
public struct JobClaim: Sendable, Hashable {
    public var jobKey: String
    public var runID: Int64
    /// Grows with every claim of the job; a write whose fence is not the job's
    /// current one is refused with `.fenced`.
    public var fence: Int64

    public init(jobKey: String, runID: Int64, fence: Int64) {
        self.jobKey = jobKey
        self.runID = runID
        self.fence = fence
    }
}
