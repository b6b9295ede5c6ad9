import ClassyAPI
import Foundation
import Imaging
import NIOPosix

/// Settings of a batch run.
public struct BatchOptions: Sendable {
    /// Jobs uploading at once (a job sends its original and its children
    /// together). Ahead of them, up to `processingThreads` jobs are being
    /// processed and as many more wait, processed, for an upload slot, so the
    /// network never waits for the processing nor the reverse. Memory is
    /// bounded by `jobsInFlight + 2 * processingThreads` jobs, never by the
    /// batch size (`BatchRunnerTests` checks it).
    public var jobsInFlight: Int
    /// Sources processed at once, each on one thread of the runner's own pool
    /// (never on Swift's cooperative threads, which the uploads need to make
    /// progress). Defaults to the active cores: for a batch, one image per core
    /// beats splitting every image across cores (no stripes to join, and
    /// decoding, which cannot be split, runs in parallel too).
    public var processingThreads: Int
    /// How images are processed (filter, encoders). Its `threads`, when nil,
    /// becomes 1 if several sources are processed at once (see `processingThreads`).
    public var processor: LocalProcessor
    /// The manifest's path, kept in the journal so `resume` can find the jobs again.
    public var manifestPath: String?

    public init(jobsInFlight: Int = 8, processingThreads: Int? = nil, processor: LocalProcessor = LocalProcessor(),
                manifestPath: String? = nil) {
        self.jobsInFlight = max(1, jobsInFlight)
        self.processingThreads = max(1, processingThreads ?? ProcessInfo.processInfo.activeProcessorCount)
        self.processor = processor
        self.manifestPath = manifestPath
    }
}

/// Runs a validated manifest: for each job, process locally, upload every image
/// through the pre-signed flow (the original and its children at once: the
/// children's `parent_id` is the original's Classy id in the records, which
/// the API's upload flow does not need up front), attach the result to its
/// target, and journal every step before the next one starts. Stopping at any moment (Ctrl-C cancels the
/// task; kill -9 stops the process) leaves the journal at the last step that
/// really happened, and the next run continues from there.
public struct BatchRunner: Sendable {
    public let manifest: Manifest
    public let journal: any JournalStore
    public let client: ClassyClient
    public let options: BatchOptions

    public init(manifest: Manifest, journal: any JournalStore, client: ClassyClient, options: BatchOptions = BatchOptions()) {
        self.manifest = manifest
        self.journal = journal
        self.client = client
        self.options = options
    }

    /// The run as an `AsyncSequence` of events; it ends with the run (and throws
    /// a `BatchError` when the run cannot start).
    public func events() -> AsyncThrowingStream<BatchEvent, Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do throws(BatchError) {
                    _ = try await run { continuation.yield($0) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Runs every job; `onEvent` sees progress. Cancelling the calling task pauses
    /// the run at a resumable point (`BatchSummary.paused`).
    public func run(onEvent: @escaping @Sendable (BatchEvent) -> Void = { _ in }) async throws(BatchError) -> BatchSummary {
        let existingECards = try await checkECardLimits()
        let lease: RunLease
        do {
            lease = try await journal.beginRun()
        } catch {
            throw BatchError(error.code == .busy ? .busy : .journal, error.message)
        }
        let summary = SummaryBox()
        await summary.update { $0.jobs = manifest.jobs.count }
        onEvent(.started(jobs: manifest.jobs.count))

        let processingPool = NIOThreadPool(numberOfThreads: options.processingThreads)
        processingPool.start()
        let uploadGate = AsyncGate(permits: options.jobsInFlight)
        await withTaskGroup(of: Void.self) { group in
            var next = 0
            func startNext() {
                guard next < manifest.jobs.count, !Task.isCancelled else { return }
                let job = manifest.jobs[next]
                next += 1
                group.addTask {
                    await runJob(job, existingECards: existingECards, processingPool: processingPool, uploadGate: uploadGate,
                                 summary: summary, onEvent: onEvent)
                }
            }
            // Uploading, being processed, and processed but waiting for an upload slot (see `BatchOptions`).
            for _ in 0 ..< options.jobsInFlight + 2 * options.processingThreads { startNext() }
            while await group.next() != nil { startNext() }
        }
        try? await processingPool.shutdownGracefully()

        let paused = Task.isCancelled
        await summary.update { $0.paused = paused }
        try? await journal.endRun(lease, as: paused ? .paused : .finished)
        return await summary.value
    }

    // MARK: - Before anything is uploaded

    /// A campaign holds at most four eCards (API reference). Counted against
    /// `GET /campaigns/{id}/ecards`: jobs the journal already finished are among
    /// the existing ones; a job whose `order` matches an existing eCard updates it.
    /// Returns the existing eCards by campaign and order, for the updates.
    func checkECardLimits() async throws(BatchError) -> [Int: [Int: ECard]] {
        let listed = try await existingECards(of: Array(manifest.ecardJobsByCampaign.keys))
        var existingByCampaign: [Int: [Int: ECard]] = [:]
        for (campaign, jobs) in manifest.ecardJobsByCampaign.sorted(by: { $0.key < $1.key }) {
            let existing = listed[campaign] ?? []
            var byOrder: [Int: ECard] = [:]
            for card in existing { if let order = card.order { byOrder[order] = card } }
            existingByCampaign[campaign] = byOrder
            var adding: [Job] = []
            for job in jobs {
                if let done = try? await journal.job(key: job.key), done.step == .done { continue }
                if case let .ecard(_, order, _) = job.role, byOrder[order] != nil { continue }
                adding.append(job)
            }
            if existing.count + adding.count > 4 {
                let lines = adding.map { "line \($0.line)" }.joined(separator: ", ")
                throw BatchError(.ecardLimit, """
                    campaign \(campaign) has \(existing.count) eCard(s); adding \(adding.count) more (\(lines)) would exceed \
                    the limit of 4 eCards per campaign. Nothing was uploaded.
                    """)
            }
        }
        return existingByCampaign
    }

    /// `GET /campaigns/{id}/ecards` for every campaign, up to 32 at a time: nothing
    /// is processed or uploaded before the counts are known, so these round trips
    /// are pure start-up latency (one after the other, 50 campaigns took a second
    /// at 20 ms each). The client's rate limiter still applies.
    static let eCardListingWidth = 32

    func existingECards(of campaigns: [Int]) async throws(BatchError) -> [Int: [ECard]] {
        let client = client
        let result = await withTaskGroup(of: (Int, Result<[ECard], BatchError>).self) { group in
            var pending = campaigns.sorted()[...]
            func listNext() {
                guard let campaign = pending.popFirst() else { return }
                group.addTask {
                    do {
                        var cards: [ECard] = []
                        for try await card in client.eCards(campaignID: campaign) { cards.append(card) }
                        return (campaign, .success(cards))
                    } catch {
                        return (campaign, .failure(BatchError(.service, "cannot list the eCards of campaign \(campaign): \(error)")))
                    }
                }
            }
            for _ in 0 ..< Self.eCardListingWidth { listNext() }
            var listed: [Int: Result<[ECard], BatchError>] = [:]
            while let (campaign, cards) = await group.next() {
                listed[campaign] = cards
                listNext()
            }
            return listed
        }
        var cards: [Int: [ECard]] = [:]
        for (campaign, outcome) in result.sorted(by: { $0.key < $1.key }) {
            cards[campaign] = try outcome.get()
        }
        return cards
    }

    // MARK: - One job

    func runJob(_ job: Job, existingECards: [Int: [Int: ECard]], processingPool: NIOThreadPool, uploadGate: AsyncGate,
                summary: SummaryBox, onEvent: @escaping @Sendable (BatchEvent) -> Void) async {
        do throws(JobFailure) {
            let outcome = try await journaled { try await journal.plan(JobPlan(job, manifestPath: options.manifestPath)) }
            if case let .alreadyDone(at) = outcome {
                await summary.update { $0.skipped += 1 }
                onEvent(.skipped(job: job, reason: "done on \(ClassyDate.format(at))"))
                return
            }
            let processed = try await process(job, on: processingPool, summary: summary)
            onEvent(.processed(job: job, images: 1 + processed.children.count,
                               bytes: processed.parentBytes.count + processed.children.reduce(0) { $0 + $1.bytes.count }))
            try await journaled { try await journal.record(.processed(ProcessedItem.items(of: processed)), job: job.key) }
            let journalJob: JournalJob? = try await journaled { try await journal.job(key: job.key) }
            guard let state = journalJob else {
                throw JobFailure(item: nil, message: "the journal lost job \(job.key.prefix(12))")
            }

            let uploaded = try await uploadGate.withPermit { () async throws(JobFailure) -> ([AssetRecord], Attachment?) in
                try await uploadAndAttach(job, items: state.items, processed: processed,
                                          existingECards: existingECards, summary: summary, onEvent: onEvent)
            }
            guard let (records, attachedTo) = uploaded else { throw JobFailure(item: nil, message: "paused", cancelled: true) }
            if let attachedTo {
                try await journaled { try await journal.record(.attached(to: attachedTo.description), job: job.key) }
            }
            try await journaled { try await journal.record(.done, job: job.key) }
            await summary.update {
                $0.done += 1
                $0.records += records
            }
            onEvent(.finished(job: job, records: records, attachedTo: attachedTo?.description))
        } catch {
            if error.cancelled || Task.isCancelled {
                // Paused: the journal holds the last step that completed; nothing to record.
                return
            }
            for id in error.abandonedAssetIDs {
                try? await journal.recordAbandoned(assetID: id, job: job.key, item: error.item, reason: "left pending by a failed upload")
                onEvent(.abandoned(job: job, assetID: id, reason: "left pending by a failed upload"))
            }
            try? await journal.record(.failed(item: error.item, error: error.message), job: job.key)
            await summary.update {
                $0.failed += 1
                if error.badData { $0.failedOnData += 1 }
                $0.abandoned += error.abandonedAssetIDs.count
                $0.failures.append((job, error.message))
            }
            onEvent(.failed(job: job, error: error.message))
        }
    }

    /// The network part of a job, done while holding an upload permit: every
    /// image through the pre-signed flow, then the attachment to its target.
    func uploadAndAttach(_ job: Job, items: [JournalItem], processed: ProcessedAsset, existingECards: [Int: [Int: ECard]],
                         summary: SummaryBox, onEvent: @escaping @Sendable (BatchEvent) -> Void) async throws(JobFailure) -> ([AssetRecord], Attachment?) {
        try checkNotCancelled()
        let uploaded = try await uploadAll(items, of: processed, job: job, summary: summary, onEvent: onEvent)
        let parentID = uploaded.first?.asset.id
        var records: [AssetRecord] = []
        for (item, asset) in uploaded {
            var record = item.record
            record.id = .classy(asset.id)
            record.parentID = item.position == 0 ? nil : parentID.map { AssetID.classy($0) }
            record.state = AssetState(rawValue: asset.state) ?? .uploaded
            record.cdnURL = asset.cdnURL
            record.createdBy = asset.createdBy
            if let created = asset.createdAt { record.createdAt = created }
            records.append(record)
            onEvent(.uploaded(job: job, record: record))
        }

        try checkNotCancelled()
        let attachedTo = try await attach(job, records: records, childTypes: processed.children.map(\.record.type),
                                          existingECards: existingECards)
        return (records, attachedTo)
    }

    /// Local processing with the job's own output format, on the processing
    /// pool; the source must still be the file the manifest was validated against.
    func process(_ job: Job, on pool: NIOThreadPool, summary: SummaryBox) async throws(JobFailure) -> ProcessedAsset {
        var processor = options.processor
        processor.outputFormat = job.outputFormat
        if processor.processing.threads == nil, options.processingThreads > 1 { processor.processing.threads = 1 }
        let outcome: Result<ProcessedAsset, ImagingError>
        do {
            let (result, cpuSeconds) = try await pool.runIfActive { [processor] in
                ProcessingThread.yieldToNetwork()
                let start = ProcessingThread.cpuSeconds()
                let result = Result { () throws(ImagingError) -> ProcessedAsset in
                    try processor.processSynchronously(file: job.source, actions: job.actions)
                }
                return (result, ProcessingThread.cpuSeconds() - start)
            }
            outcome = result
            await summary.update { $0.processingCPUSeconds += cpuSeconds }
        } catch {
            // Cancelled while waiting for a thread (Ctrl-C), or the pool is gone.
            throw JobFailure(item: nil, message: "paused before processing", cancelled: true)
        }
        let processed: ProcessedAsset
        do {
            processed = try outcome.get()
        } catch {
            throw JobFailure(item: 0, message: "processing \(job.source): \(error)", badData: true)
        }
        guard processed.parent.sha256 == job.sourceSHA256 else {
            throw JobFailure(item: 0, message: "\(job.source) changed after the manifest was checked; run again to re-plan it", badData: true)
        }
        return processed
    }

    /// Every image of a job through the pre-signed flow at once (each journals its
    /// own steps; only the requests for pending assets take turns, see `upload`);
    /// returns them in position order, the original first. When some
    /// fail, the others still finish (and are journaled), then the job fails
    /// with the first failure, carrying every pending asset left behind.
    func uploadAll(_ items: [JournalItem], of processed: ProcessedAsset, job: Job, summary: SummaryBox,
                   onEvent: @escaping @Sendable (BatchEvent) -> Void) async throws(JobFailure) -> [(item: JournalItem, asset: Asset)] {
        let pendingCreation = AsyncGate(permits: 1)
        let outcomes = await withTaskGroup(of: (JournalItem, Result<Asset, JobFailure>).self) { group in
            for item in items {
                let bytes = item.position == 0 ? processed.parentBytes : processed.children[item.position - 1].bytes
                group.addTask {
                    do throws(JobFailure) {
                        let (asset, sent) = try await upload(item, bytes: bytes, job: job, pendingCreation: pendingCreation,
                                                             summary: summary, onEvent: onEvent)
                        await summary.update { $0.bytesUploaded += sent }
                        return (item, .success(asset))
                    } catch {
                        return (item, .failure(error))
                    }
                }
            }
            var all: [(JournalItem, Result<Asset, JobFailure>)] = []
            for await outcome in group { all.append(outcome) }
            return all.sorted { $0.0.position < $1.0.position }
        }
        var uploaded: [(item: JournalItem, asset: Asset)] = []
        var failure: JobFailure?
        for (item, outcome) in outcomes {
            switch outcome {
            case .success(let asset):
                uploaded.append((item, asset))
            case .failure(let error):
                if failure == nil {
                    failure = error
                } else {
                    failure!.abandonedAssetIDs += error.abandonedAssetIDs
                    failure!.cancelled = failure!.cancelled || error.cancelled
                }
            }
        }
        if let failure { throw failure }
        return uploaded
    }

    /// One image through the pre-signed flow, journaling each step: a pending
    /// asset whose URL is still valid is reused; an expired one is replaced (and
    /// recorded as abandoned); bytes already in the store are only confirmed.
    func upload(_ item: JournalItem, bytes: [UInt8], job: Job, pendingCreation: AsyncGate, summary: SummaryBox,
                onEvent: @Sendable (BatchEvent) -> Void) async throws(JobFailure) -> (Asset, Int) {
        guard let contentType = ImageContentType(rawValue: item.record.contentType) else {
            throw JobFailure(item: item.position, message: "content type \(item.record.contentType) cannot be uploaded")
        }
        let position = item.position
        var sent = 0
        // The asset the bytes are (or go) in: the journal's, or the new pending one below.
        var assetID = item.classyAssetID
        if item.step < .bytesUploaded {
            var pending: PresignedAsset? =
                item.pendingIsReusable() ? item.classyAssetID.flatMap { id in item.uploadURL.map { PresignedAsset(id: id, presignedPutURL: $0) } } : nil
            var stored = false
            for _ in 0 ..< 3 where !stored {
                try checkNotCancelled()
                if pending == nil {
                    // One pending asset requested at a time per job: a kill between the API
                    // creating one and the journal writing its id loses that id (no API call
                    // lists pending assets), and this keeps it to one per job in flight.
                    let created = try await pendingCreation.withPermit { () async throws(JobFailure) -> PresignedAsset in
                        let issuedAt = Date()
                        let created = try await api(position) { try await client.createAssetURL(memberID: job.memberID, contentType: contentType) }
                        try await journaled {
                            try await journal.record(.pendingCreated(item: position, assetID: created.id, uploadURL: created.presignedPutURL,
                                                                     issuedAt: issuedAt, expiresAt: issuedAt.addingTimeInterval(900),
                                                                     replacing: "its pre-signed URL expired"), job: job.key)
                        }
                        return created
                    }
                    guard let created else { throw JobFailure(item: position, message: "paused", cancelled: true) }
                    pending = created
                }
                let outcome = try await api(position) { try await client.putObject(bytes, to: pending!, contentType: contentType) }
                switch outcome {
                case .stored:
                    stored = true
                    sent = bytes.count
                    assetID = pending!.id
                case .expired:
                    onEvent(.abandoned(job: job, assetID: pending!.id, reason: "its pre-signed URL expired"))
                    await summary.update { $0.abandoned += 1 }
                    pending = nil // the next pendingCreated records the old id as abandoned
                }
            }
            guard stored else {
                throw JobFailure(item: position, message: "every pre-signed URL expired before the upload finished", abandonedAssetIDs: [])
            }
            try await journaled { try await journal.record(.bytesUploaded(item: position), job: job.key) }
        }
        guard let id = assetID else {
            throw JobFailure(item: position, message: "the journal has no asset id for image \(position)")
        }
        if item.step >= .markedUploaded {
            return (try await api(position) { try await client.asset(id) }, 0)
        }
        let asset = try await api(position) { try await client.confirmUploaded(id, size: bytes.count, contentType: contentType) }
        try await journaled { try await journal.record(.markedUploaded(item: position, at: Date()), job: job.key) }
        return (asset, sent)
    }

    /// Attaches the job's image to its target; nil when the role has nothing to attach to.
    func attach(_ job: Job, records: [AssetRecord], childTypes: [String?],
                existingECards: [Int: [Int: ECard]]) async throws(JobFailure) -> Attachment? {
        guard let which = job.attach, let position = which.position(childTypes: childTypes),
              position < records.count, let assetID = records[position].id.classyID
        else { return nil }
        switch job.role {
        case let .ecard(campaign, order, _):
            if let existing = existingECards[campaign]?[order], let cardID = existing.id {
                let card = try await api(position) { try await client.updateECard(cardID, ECardInput(assetID: assetID, order: order)) }
                return .ecard(id: card.id ?? cardID, updated: true)
            }
            let card = try await api(position) { try await client.createECard(campaignID: campaign, ECardInput(assetID: assetID, order: order)) }
            guard let cardID = card.id else {
                throw JobFailure(item: position, message: "POST /2.0/campaigns/\(campaign)/ecards answered an eCard without an id")
            }
            return .ecard(id: cardID, updated: false)
        case let .social(target):
            let appealSetID: Int
            switch target {
            case let .appealSet(id):
                appealSetID = id
            case let .campaign(campaign):
                // The API answers 200 with no id when the campaign has no appeal set yet:
                // create it with the image (a concurrent job may have just done so: then update it).
                if let id = try await existingAppealSetID(campaign: campaign, position: position) {
                    appealSetID = id
                } else {
                    var refusal = "the API answered without an id"
                    do throws(JobFailure) {
                        let created = try await api(position) { try await client.createAppealSet(campaignID: campaign, facebookAssetID: assetID) }
                        if let id = created.id, id > 0 { return .appealSet(id: id, facebookAssetID: assetID) }
                    } catch where !error.cancelled {
                        refusal = error.message // kept for the message below; the set may exist by now
                    }
                    guard let id = try await existingAppealSetID(campaign: campaign, position: position) else {
                        throw JobFailure(item: position, message: "campaign \(campaign) has no appeal set and creating one failed: \(refusal)")
                    }
                    appealSetID = id
                }
            }
            _ = try await api(position) { try await client.setAppealSetFacebookAsset(appealSetID: appealSetID, assetID: assetID) }
            return .appealSet(id: appealSetID, facebookAssetID: assetID)
        case let .sponsor(plan):
            _ = try await api(position) { try await client.setMatchingPlanAsset(planID: plan, assetID: assetID) }
            return .matchingPlan(id: plan, assetID: assetID)
        case .logo, .asset:
            // The API reference documents no write of a campaign's logo_id (it
            // comes from the campaign theme); the uploaded ids are in the records.
            return nil
        }
    }

    /// The campaign's appeal set, nil when it has none yet.
    func existingAppealSetID(campaign: Int, position: Int) async throws(JobFailure) -> Int? {
        let set = try await api(position) { try await client.appealSet(campaignID: campaign) }
        guard let id = set.id, id > 0 else { return nil }
        return id
    }

    // MARK: - Error plumbing

    func checkNotCancelled() throws(JobFailure) {
        if Task.isCancelled { throw JobFailure(item: nil, message: "paused", cancelled: true) }
    }

    /// A journal call; its failure fails the job (the journal is the source of truth).
    func journaled<T>(_ body: () async throws -> T) async throws(JobFailure) -> T {
        do {
            return try await body()
        } catch {
            throw JobFailure(item: nil, message: "journal: \(error)", cancelled: Task.isCancelled)
        }
    }

    /// An API call for image `item`; a failure carries the pending assets it left behind.
    func api<T>(_ item: Int, _ body: () async throws -> T) async throws(JobFailure) -> T {
        do {
            return try await body()
        } catch let error as ClassyAPIError {
            throw JobFailure(item: item, message: error.description, abandonedAssetIDs: error.pendingAssetIDs,
                             cancelled: Task.isCancelled)
        } catch {
            throw JobFailure(item: item, message: "\(error)", cancelled: error is CancellationError || Task.isCancelled)
        }
    }
}

/// A job that could not finish, and which of its images it was at.
struct JobFailure: Error {
    var item: Int?
    var message: String
    var abandonedAssetIDs: [Int] = []
    var cancelled = false
    /// The job's own data was refused (not the service).
    var badData = false
}

/// The run's totals, updated from concurrent jobs.
actor SummaryBox {
    private(set) var value = BatchSummary()

    func update(_ change: (inout BatchSummary) -> Void) {
        change(&value)
    }
}

/// The processing pool's threads run at a lower priority than the rest of the
/// process: when every core is busy decoding, a request's answer (the server's
/// latency is what the jobs in flight hide) still gets a core at once instead
/// of waiting for a time slice behind the decoders. The pool's threads do
/// nothing else, so lowering them for good is harmless.
enum ProcessingThread {
    /// Linux keeps a nice value per thread; `who == 0` is the calling thread.
    static func yieldToNetwork() {
        #if os(Linux)
        if getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) < niceness {
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
        }
        #endif
    }

    static let niceness: Int32 = 5

    /// CPU time of the calling thread, so the summary can say how much of the
    /// run's CPU went into processing (the rest: HTTP, hashing, the journal).
    static func cpuSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
