import Foundation

/// Where a job, or one of its images, stands. Progress only moves forward;
/// a failure is kept beside the progress (see `error`), so a retry resumes
/// from the last step that succeeded instead of starting over.
public enum JobStep: String, Sendable, Codable, CaseIterable, Comparable {
    /// Known to the journal, nothing done yet (jobs only).
    case planned
    /// Processed locally: the image's record and output hash are known.
    case processed
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

    var rank: Int { Self.allCases.firstIndex(of: self)! }
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

    public init(key: String, manifestPath: String?, role: String, target: String, sourcePath: String, sourceSHA256: String) {
        self.key = key
        self.manifestPath = manifestPath
        self.role = role
        self.target = target
        self.sourcePath = sourcePath
        self.sourceSHA256 = sourceSHA256
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
    case done
    /// The job (and `item`, when the failure was about one image) failed with `error`.
    case failed(item: Int?, error: String)
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
    public var items: [JournalItem]

    public var failed: Bool { error != nil }
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
}

/// A runner's hold on the journal: only one at a time per journal.
public struct RunLease: Sendable, Hashable {
    public var runID: Int64
    public var pid: Int32
    public var host: String
    public var startedAt: Date
    /// A run that was found stale and taken over when this lease was granted.
    public var tookOver: RunInfo?
    /// The open lock-file descriptor holding the `flock`; closed when the run ends.
    let lockDescriptor: Int32
}

/// A run as recorded.
public struct RunInfo: Sendable, Hashable {
    public var runID: Int64
    public var pid: Int32
    public var host: String
    public var startedAt: Date
    public var heartbeatAt: Date
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
    /// The run holding the journal now, if any.
    public var activeRun: RunInfo?
    /// The last run was paused and work is left.
    public var paused: Bool
    public var abandonedCount: Int
    /// Pending assets the API may have created without an answer (lost responses):
    /// they cannot be listed, so this is an upper bound of the unknown ones.
    public var possiblyOrphanedCount: Int = 0

    public struct Failure: Sendable, Equatable {
        public var jobKey: String
        public var role: String
        public var target: String
        public var sourcePath: String
        public var error: String
        public var at: Date
    }

    public var totalJobs: Int { jobCounts.values.reduce(0, +) }
}

/// Errors from a journal, with a code a runner can act on.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Another live run holds the journal.
        case busy
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
