import ClassyAPI
import Imaging
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
    /// A job failed; the error keeps its type (the API's, the imaging layer's).
    case failed(job: Job, error: JobError)
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
    /// Pending assets the API may have created without an answer (lost responses to
    /// `POST /2.0/assets/url`): they cannot be found, only counted.
    public var possiblyOrphaned: Int = 0
    /// The run stopped on request (Ctrl-C) with work left.
    public var paused: Bool = false
    /// Every record uploaded in this run, parents before their children (the
    /// children the API made for `actions_on: server` among them).
    public var records: [AssetRecord] = []
    /// Children the API made with `POST /process` in this run (`actions_on: server`).
    public var madeOnServer: Int = 0
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
        /// The API could not be asked what the checks before uploading need,
        /// or failed for every job (its token endpoint).
        case service
        /// The journal belongs to another API target.
        case targetMismatch = "target_mismatch"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// Why one job failed, with the failing layer's own error.
public enum JobError: Error, Sendable, CustomStringConvertible {
    /// The API or the store refused or failed (after the retry budget).
    case api(ClassyAPIError)
    /// The source could not be processed (the imaging layer's typed error).
    case imaging(ImagingError, message: String)
    /// Anything else (a changed source, a lifecycle rule), in words.
    case other(String)

    public var description: String {
        switch self {
        case let .api(error): error.description
        case let .imaging(_, message): message
        case let .other(message): message
        }
    }
}
