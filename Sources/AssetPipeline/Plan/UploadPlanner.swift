import ClassyAPI
import Foundation
import Imaging

/// A dry run of `upload`: every job validated and processed exactly as the
/// batch runner would (`JobProcessing`, the same options, so the same bytes),
/// the journal read to say what would be skipped or continued, and, with an
/// API to ask, the campaigns' eCards counted as the runner counts them. It
/// uploads nothing and writes nothing to the journal (it only ever holds a
/// `ReadOnlyJournal`).
public struct UploadPlanner: Sendable {
    public let manifest: Manifest
    public let journal: ReadOnlyJournal
    /// The API the eCards are counted against; nil: not counted (no credentials).
    public let client: ClassyClient?
    /// The same options an upload would run with (its processor and threads).
    public let options: BatchOptions

    public init(manifest: Manifest, journal: ReadOnlyJournal, client: ClassyClient?, options: BatchOptions = BatchOptions()) {
        self.manifest = manifest
        self.journal = journal
        self.client = client
        self.options = options
    }

    /// Plans every job in manifest order; `onJob` sees each as soon as it is
    /// processed (so a caller can render it and let its bytes go: memory stays
    /// one job's worth). Throws only when the journal cannot be read or the API
    /// cannot be asked; a job that would fail, and a campaign over its eCard
    /// limit, are part of the plan.
    public func plan(onJob: (PlannedJob) async -> Void = { _ in }) async throws(BatchError) -> UploadPlan {
        var result = UploadPlan()
        let existing: [Int: [ECard]]
        if let client {
            // The runner's own listing and limit check, so the plan and the upload agree.
            let runner = BatchRunner(manifest: manifest, journal: journal, client: client, options: options)
            existing = try await runner.existingECards(of: Array(manifest.ecardJobsByCampaign.keys))
            do {
                _ = try await runner.checkECardLimits()
            } catch let error where error.code == .ecardLimit {
                result.refusal = error
            }
            result.countedAgainstAPI = true
        } else {
            existing = [:]
        }
        var done: [String: JournalJob] = [:]
        for job in manifest.jobs {
            do {
                if let known = try await journal.job(key: job.key) { done[job.key] = known }
            } catch {
                throw BatchError(.journal, error.message)
            }
        }
        result.ecardCounts = Self.ecardCounts(manifest: manifest, existing: existing, journaled: done,
                                              counted: client != nil)
        if result.refusal == nil, client == nil,
           let over = result.ecardCounts.first(where: { $0.total > ClassyLimits.maxECardsPerCampaign }) {
            // Even without the API, the manifest alone can be over the limit.
            result.refusal = BatchError(.ecardLimit, "campaign \(over.campaign): \(over.adding) new eCard(s) exceed the limit of \(ClassyLimits.maxECardsPerCampaign) eCards per campaign")
        }

        for job in manifest.jobs {
            let disposition = Self.disposition(of: job, journaled: done[job.key], existing: existing)
            let processor = JobProcessing.processor(for: job, base: options.processor, concurrentSources: options.processingThreads)
            var planned = PlannedJob(job: job, disposition: disposition)
            if case let .replace(nil, order) = disposition, case let .ecard(campaign, _, _) = job.role {
                // As the runner decides under the campaign's lock: an eCard without an id cannot be updated.
                planned.failure = """
                    campaign \(campaign) already has an eCard at order \(order), and the API's eCards carry no id to update it by: \
                    an upload would attach nothing (remove that eCard, or use another order)
                    """
            }
            do throws(ImagingError) {
                var processed = try JobProcessing.run(job, with: processor)
                if JobProcessing.sourceUnchanged(processed, for: job) {
                    processed.parent.state = .planned
                    for index in processed.children.indices {
                        processed.children[index].record.state = .planned
                    }
                    planned.processed = processed
                } else {
                    planned.failure = "\(job.source) changed after the manifest was checked; run again to re-plan it"
                }
            } catch {
                planned.failure = planned.failure ?? "processing \(job.source): \(error)"
            }
            if planned.failure != nil { result.failed += 1 }
            switch disposition {
            case .upload: result.uploading += 1
            case .replace: result.replacing += 1
            case .skip: result.skipping += 1
            case .resume: result.resuming += 1
            }
            await onJob(planned)
        }
        return result
    }

    /// What an upload would do with `job`, given the journal and the campaign's eCards.
    static func disposition(of job: Job, journaled: JournalJob?, existing: [Int: [ECard]]) -> PlannedJob.Disposition {
        if let journaled {
            if journaled.step == .done { return .skip(doneAt: journaled.doneAt ?? journaled.updatedAt, attachedTo: journaled.attachedTo) }
            return .resume(from: journaled.step, previousError: journaled.error)
        }
        if case let .ecard(campaign, order, _) = job.role,
           let card = existing[campaign]?.first(where: { $0.order == order }) {
            return .replace(ecardID: card.id, order: order)
        }
        return .upload
    }

    /// Per campaign, as the runner counts: the eCards the API lists, the jobs
    /// that would add one (not done in the journal, no eCard with their order).
    static func ecardCounts(manifest: Manifest, existing: [Int: [ECard]], journaled: [String: JournalJob],
                            counted: Bool) -> [ECardCount] {
        manifest.ecardJobsByCampaign.sorted { $0.key < $1.key }.map { campaign, jobs in
            let cards = existing[campaign] ?? []
            var count = ECardCount(campaign: campaign, existing: cards.count, countedAgainstAPI: counted)
            for job in jobs {
                guard case let .ecard(_, order, _) = job.role else { continue }
                if journaled[job.key]?.step == .done { count.alreadyDone += 1; continue }
                if cards.contains(where: { $0.order == order }) { count.replacing += 1; continue }
                count.adding += 1
            }
            return count
        }
    }
}

/// The outcome of a plan, beside the jobs `UploadPlanner.plan` reports one by one.
public struct UploadPlan: Sendable {
    public var uploading = 0
    public var replacing = 0
    public var skipping = 0
    public var resuming = 0
    /// Jobs whose processing fails (an upload would fail them too).
    public var failed = 0
    public var ecardCounts: [ECardCount] = []
    /// Why an upload would refuse to start (a campaign over its eCard limit), nil when it would start.
    public var refusal: BatchError?
    public var countedAgainstAPI = false
}

/// One campaign's eCards: existing + adding must stay within `ClassyLimits.maxECardsPerCampaign`.
public struct ECardCount: Sendable, Equatable {
    public var campaign: Int
    /// Listed by `GET /campaigns/{id}/ecards` (0 when not counted against the API).
    public var existing: Int
    /// Jobs that would create an eCard.
    public var adding = 0
    /// Jobs that would update the eCard with their `order`.
    public var replacing = 0
    /// Jobs the journal has done (their eCards are among `existing`).
    public var alreadyDone = 0
    public var countedAgainstAPI: Bool
    public var limit = ClassyLimits.maxECardsPerCampaign

    public init(campaign: Int, existing: Int, countedAgainstAPI: Bool) {
        self.campaign = campaign
        self.existing = existing
        self.countedAgainstAPI = countedAgainstAPI
    }

    public var total: Int { existing + adding }
}

/// One job of a plan: what an upload would do with it, and the images it would send.
public struct PlannedJob: Sendable {
    public enum Disposition: Sendable, Equatable {
        /// New: uploaded, and attached to its target.
        case upload
        /// An eCard whose campaign already has one with this `order`: that eCard is updated to the new image.
        case replace(ecardID: Int?, order: Int)
        /// The journal has it done: an upload does nothing.
        case skip(doneAt: Date, attachedTo: String?)
        /// The journal has it started: an upload continues from `from`.
        case resume(from: JobStep, previousError: String?)
    }

    public var job: Job
    public var disposition: Disposition
    /// The images an upload would send, records in state `planned` (nil when processing fails).
    public var processed: ProcessedAsset?
    /// Why an upload would fail this job.
    public var failure: String?

    /// The records, parent first, as `upload --json` prints them (state `planned`).
    /// For `actions_on: server`, the children are the ones the API is to make
    /// (type and expected size; their bytes are the API's).
    public var records: [AssetRecord] {
        guard let processed else { return [] }
        guard let items = try? JobProcessing.items(of: processed, for: job) else {
            return [processed.parent] + processed.children.map(\.record)
        }
        return items.map(\.record)
    }
}
