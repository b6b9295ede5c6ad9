import Foundation

/// What a batch run reports as it goes; the CLI turns these into a progress
/// bar or log lines, a library user can observe them as an `AsyncSequence`.
public enum BatchEvent: Sendable {
    /// The plan: how many jobs, and how many the journal already has done.
    case started(jobs: Int)
    /// Nothing to do for this job: the journal has it done (re-running a manifest uploads nothing new).
    case skipped(job: Job, reason: String)
    /// A job's images are decoded, transformed and encoded, and wait in memory
    /// for their upload: `images` of them, `bytes` in all (the original included).
    case processed(job: Job, images: Int, bytes: Int)
    /// One image of a job is on the platform; `record` carries the Classy ids.
    case uploaded(job: Job, record: AssetRecord)
    case finished(job: Job, records: [AssetRecord], attachedTo: String?)
    case failed(job: Job, error: String)
    /// A pending asset was given up (its URL expired); it is recorded in the journal.
    case abandoned(job: Job, assetID: Int, reason: String)
}

/// The outcome of a run.
public struct BatchSummary: Sendable {
    public var jobs: Int = 0
    public var done: Int = 0
    public var skipped: Int = 0
    public var failed: Int = 0
    /// Of `failed`, the jobs refused for their data (a source that does not decode, a changed file),
    /// as opposed to the API or the store failing.
    public var failedOnData: Int = 0
    /// Bytes PUT to the store in this run.
    public var bytesUploaded: Int = 0
    /// CPU time spent decoding, transforming, encoding and hashing, summed over
    /// the processing threads (compare with the process's CPU time).
    public var processingCPUSeconds: Double = 0
    public var abandoned: Int = 0
    /// The run stopped on request (Ctrl-C) with work left.
    public var paused: Bool = false
    /// Every record uploaded in this run, parents before their children.
    public var records: [AssetRecord] = []
    public var failures: [(job: Job, error: String)] = []

    public init() {}
}

/// Why a batch could not run at all (as opposed to one job failing).
public struct BatchError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A campaign would hold more than four eCards.
        case ecardLimit = "ecard_limit"
        /// Another run holds the journal.
        case busy
        /// The journal cannot be read or written.
        case journal
        /// The API could not be asked what the checks before uploading need.
        case service
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
