import AssetProcessing
import Foundation

/// Where a job, or one of its images, stands. Progress only moves forward;
/// a failure is kept beside the progress (see `error`), so a retry resumes
/// from the last step that succeeded instead of starting over.
public enum JobStep: String, Sendable, Codable, CaseIterable, Comparable {
    /// Known to the journal, nothing done yet (jobs only).
    case planned
    /// Processed locally: the image's record and output hash are known. For an
    /// image the API makes (`actions_on: server`), its planned record.
    case processed
    /// An image the API makes: `POST /2.0/assets/{id}/process` is about to be
    /// (or was) sent for it, with no answer recorded yet. A run that finds this
    /// looks the children up before it calls again.
    case processRequested
    /// `POST .../assets` gave a pending asset id and a pre-signed URL.
    case pendingCreated
    /// The bytes were PUT to the pre-signed URL.
    case bytesUploaded
    /// The asset was marked uploaded: it exists on the platform.
    case markedUploaded
    /// Attached to its target (eCard, appeal set, campaign logo, matching plan); jobs only.
    case attached
    /// Finished.
    case done

    public var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (a: JobStep, b: JobStep) -> Bool { a.rank < b.rank }
}

/// What the journal keeps about a job when it is planned.
public struct JobPlan: Sendable, Hashable {
    public var key: String
    /// The manifest the job came from (nil for a command-line job).
    public var manifestPath: String?
    /// `logo`, `ecard`, ...
    public var role: String
    /// The target in words, e.g. `campaign=1001 order=1`; for people and `status`.
    public var target: String
    public var sourcePath: String
    public var sourceSHA256: String
    /// The batch the job was enqueued with (a queue's `enqueue` prints it), if any.
    public var batch: String?
    /// What a worker on another machine needs to run the job (the job's spec,
    /// as the engine encodes it); nil where the runner has the manifest at hand.
    public var payload: Data?

    public init(key: String, manifestPath: String?, role: String, target: String, sourcePath: String, sourceSHA256: String,
                batch: String? = nil, payload: Data? = nil) {
        self.key = key
        self.manifestPath = manifestPath
        self.role = role
        self.target = target
        self.sourcePath = sourcePath
        self.sourceSHA256 = sourceSHA256
        self.batch = batch
        self.payload = payload
    }
}

/// What `plan` found.
public enum PlanOutcome: Sendable, Equatable {
    /// A job the journal had never seen.
    case new
    /// Seen before and not finished: continue from `step` (a failed job is retried:
    /// its error is cleared and its progress kept).
    case resumed(step: JobStep, previousError: String?)
    /// Seen before and finished: nothing to do.
    case alreadyDone(at: Date)
}

/// One image of a job after local processing: position 0 is the original, 1... the children in order.
public struct ProcessedItem: Sendable, Equatable {
    public var position: Int
    /// The asset record (JSON as `AssetRecord` encodes it).
    public var record: AssetRecord
    public init(position: Int, record: AssetRecord) {
        self.position = position
        self.record = record
    }
}

/// A transition to record for a job. Each is written in its own transaction,
/// after the action it describes succeeded (or failed), so a crash at any point
/// leaves the journal at the last step that really happened.
public enum JournalStep: Sendable {
    /// The job was processed: its images with their records and hashes.
    case processed([ProcessedItem])
    /// A pending asset was created for item `item`. If the item had another
    /// pending asset (an expired URL, changed bytes), that id is recorded as
    /// abandoned with `replacing` as the reason, in the same transaction.
    case pendingCreated(item: Int, assetID: Int, uploadURL: String, issuedAt: Date, expiresAt: Date?, replacing: String = "replaced by a new pending asset")
    case bytesUploaded(item: Int)
    case markedUploaded(item: Int, at: Date)
    /// About to make a call that creates something (an eCard, an appeal set):
    /// persisted before the call, so a run that stops without its answer looks
    /// the effect up instead of creating it again. `call` says what, for people.
    case attachIntent(call: String)
    /// The job's image was attached to its target; `to` says what, e.g. `ecard 9001`.
    /// Clears the intent.
    case attached(to: String)
    /// `POST /2.0/assets/url` for image `item` got no answer: a pending asset
    /// may exist that nobody will use. Counted, since no API call can find it.
    case pendingPossiblyOrphaned(item: Int)
    /// About to ask the API to make images `items` of the job (children of its
    /// original, `POST /2.0/assets/{id}/process`): persisted before the call, so
    /// a run that stops without the answer looks them up instead of asking again.
    case processRequested(items: [Int])
    /// The API made these images: each becomes, in one transaction, an asset on
    /// the platform with the record the API's answer gave.
    case madeOnServer([ServerMadeImage])
    case done
    /// The job (and `item`, when the failure was about one image) failed with `error`.
    case failed(item: Int?, error: String)
}

/// An image of a job that the API made (`/process`), as its answer described it.
public struct ServerMadeImage: Sendable, Equatable {
    public var position: Int
    public var assetID: Int
    /// The record as the API gave it (`parent_id`, `type`, state `processed`, size, CDN URL).
    public var record: AssetRecord

    public init(position: Int, assetID: Int, record: AssetRecord) {
        self.position = position
        self.assetID = assetID
        self.record = record
    }
}

/// A job as the journal holds it.
public struct JournalJob: Sendable, Equatable {
    public var plan: JobPlan
    public var step: JobStep
    /// Set when the last attempt failed; cleared when the job is planned again.
    public var error: String?
    public var attempts: Int
    public var attachedTo: String?
    /// A persisted intent to attach with no attachment after it (see `JournalStep.attachIntent`).
    public var attachIntent: String?
    /// Pending assets possibly created without an answer, for this job.
    public var possiblyOrphaned: Int = 0
    public var plannedAt: Date
    public var updatedAt: Date
    /// When the job was recorded done.
    public var doneAt: Date?
    public var items: [JournalItem]

    public var failed: Bool { error != nil }

    public init(plan: JobPlan, step: JobStep, error: String?, attempts: Int, attachedTo: String?, attachIntent: String?,
                possiblyOrphaned: Int, plannedAt: Date, updatedAt: Date, doneAt: Date? = nil, items: [JournalItem]) {
        self.plan = plan
        self.step = step
        self.error = error
        self.attempts = attempts
        self.attachedTo = attachedTo
        self.attachIntent = attachIntent
        self.possiblyOrphaned = possiblyOrphaned
        self.plannedAt = plannedAt
        self.updatedAt = updatedAt
        self.doneAt = doneAt
        self.items = items
    }
}

/// One image of a job (the original or a child).
public struct JournalItem: Sendable, Equatable {
    public var jobKey: String
    public var position: Int
    public var record: AssetRecord
    public var step: JobStep
    public var classyAssetID: Int?
    public var uploadURL: String?
    /// When the pre-signed URL was issued, and when it stops working (if the API said).
    public var urlIssuedAt: Date?
    public var urlExpiresAt: Date?
    public var uploadedAt: Date?
    public var error: String?

    public init(jobKey: String, position: Int, record: AssetRecord, step: JobStep, classyAssetID: Int? = nil,
                uploadURL: String? = nil, urlIssuedAt: Date? = nil, urlExpiresAt: Date? = nil, uploadedAt: Date? = nil,
                error: String? = nil) {
        self.jobKey = jobKey
        self.position = position
        self.record = record
        self.step = step
        self.classyAssetID = classyAssetID
        self.uploadURL = uploadURL
        self.urlIssuedAt = urlIssuedAt
        self.urlExpiresAt = urlExpiresAt
        self.uploadedAt = uploadedAt
        self.error = error
    }

    /// Whether the API's `/process` made this image (`actions_on: server`): its
    /// record is then the API's answer, with the Classy id in it, where an image
    /// the worker uploaded keeps its local record and gets its id beside it.
    public var madeByTheAPI: Bool { position > 0 && record.id.classyID != nil }

    /// Whether the pending asset can be reused: created, not yet marked uploaded, URL not expired at `now` (with `margin` to spare).
    public func pendingIsReusable(now: Date = Date(), margin: TimeInterval = 60) -> Bool {
        guard classyAssetID != nil, uploadURL != nil, step >= .pendingCreated, step < .markedUploaded else { return false }
        guard let expiry = urlExpiresAt else { return true }
        return expiry.timeIntervalSince(now) > margin
    }
}

/// A pending asset given up on; kept so they can be cleaned up or explained.
public struct AbandonedAsset: Sendable, Hashable {
    public var assetID: Int
    public var jobKey: String
    public var position: Int?
    public var reason: String
    public var at: Date

    public init(assetID: Int, jobKey: String, position: Int?, reason: String, at: Date) {
        self.assetID = assetID
        self.jobKey = jobKey
        self.position = position
        self.reason = reason
        self.at = at
    }
}

/// A run as recorded.
public struct RunInfo: Sendable, Hashable {
    public var runID: Int64
    public var pid: Int32
    public var host: String
    public var startedAt: Date
    public var heartbeatAt: Date
    /// Jobs the run holds claims on (0 when not known, e.g. for a run taken over).
    public var claimedJobs: Int

    public init(runID: Int64, pid: Int32, host: String, startedAt: Date, heartbeatAt: Date, claimedJobs: Int = 0) {
        self.runID = runID
        self.pid = pid
        self.host = host
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.claimedJobs = claimedJobs
    }
}

/// How a run ended.
public enum RunEnd: String, Sendable {
    case finished
    /// Stopped on request (Ctrl-C) with work left: `status` reports the journal as paused.
    case paused
}

/// What `asset-worker status` shows.
public struct JournalStatus: Sendable, Equatable {
    /// Jobs per state; a failed job counts under `failed`, not under its step.
    public var jobCounts: [String: Int]
    /// Images per step (failed ones under `failed`).
    public var itemCounts: [String: Int]
    public var failures: [Failure]
    public var lastSuccessfulUpload: Date?
    /// The live runs (workers) on this store, oldest first.
    public var activeRuns: [RunInfo]
    /// The last run was paused and work is left.
    public var paused: Bool
    public var abandonedCount: Int
    /// Pending assets the API may have created without an answer (lost responses):
    /// they cannot be listed, so this is an upper bound of the unknown ones.
    public var possiblyOrphanedCount: Int

    public init(jobCounts: [String: Int], itemCounts: [String: Int], failures: [Failure], lastSuccessfulUpload: Date?,
                activeRuns: [RunInfo], paused: Bool, abandonedCount: Int, possiblyOrphanedCount: Int) {
        self.jobCounts = jobCounts
        self.itemCounts = itemCounts
        self.failures = failures
        self.lastSuccessfulUpload = lastSuccessfulUpload
        self.activeRuns = activeRuns
        self.paused = paused
        self.abandonedCount = abandonedCount
        self.possiblyOrphanedCount = possiblyOrphanedCount
    }

    /// The oldest live run, if any.
    public var activeRun: RunInfo? { activeRuns.first }

    public struct Failure: Sendable, Equatable {
        public var jobKey: String
        public var role: String
        public var target: String
        public var sourcePath: String
        public var error: String
        public var at: Date

        public init(jobKey: String, role: String, target: String, sourcePath: String, error: String, at: Date) {
            self.jobKey = jobKey
            self.role = role
            self.target = target
            self.sourcePath = sourcePath
            self.error = error
            self.at = at
        }
    }

    public var totalJobs: Int { jobCounts.values.reduce(0, +) }
}

/// Errors from a journal, with a code a runner can act on.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Another live run holds the journal.
        case busy
        /// A write named a claim that is no longer the job's (its run was declared
        /// dead and the job claimed again): the write was refused.
        case fenced
        /// The run was declared dead (no heartbeat within the lease); its claims are gone.
        case leaseLost
        /// The database could not be opened, migrated, read or written.
        case storage
        /// The step does not follow from where the job or item is (e.g. an upload before a pending asset).
        case invalidTransition
        /// No job with that key.
        case unknownJob
        /// The file is not a sound journal (integrity check failed).
        case corrupt
        /// The journal belongs to another API target (see `APITarget`).
        case targetMismatch
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "journal: \(message)" }
}
