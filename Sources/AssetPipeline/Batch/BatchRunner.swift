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
    /// The API the run uploads to; the journal is bound to it on the first run
    /// and refuses another (nil: not checked, for tests of other things).
    public var target: APITarget?
    /// How often the run renews its claims (see `JobStore.heartbeat`); well under the store's lease.
    public var heartbeatInterval: Duration = .seconds(10)

    public init(jobsInFlight: Int = 8, processingThreads: Int? = nil, processor: LocalProcessor = LocalProcessor(),
                manifestPath: String? = nil, target: APITarget? = nil) {
        self.target = target
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
    /// The manifest's batch id (`batchID(of:)`), recorded with each job it plans.
    let batchID: String

    public init(manifest: Manifest, journal: any JournalStore, client: ClassyClient, options: BatchOptions = BatchOptions()) {
        self.manifest = manifest
        self.journal = journal
        self.client = client
        self.options = options
        self.batchID = Self.batchID(of: manifest)
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
        if let target = options.target {
            do {
                try await journal.bind(to: target)
            } catch {
                throw BatchError(error.code == .targetMismatch ? .targetMismatch : .journal, error.message)
            }
        }
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
        let stop = RunStop()
        let context = RunContext(existingECards: existingECards, processingPool: processingPool,
                                 uploadGate: AsyncGate(permits: options.jobsInFlight), summary: summary, stop: stop, onEvent: onEvent,
                                 lease: lease)
        let heartbeat = Task { [journal, options] in
            await Self.keepAlive(lease, journal: journal, every: options.heartbeatInterval, stop: stop)
        }
        defer { heartbeat.cancel() }
        await withTaskGroup(of: Void.self) { group in
            var next = 0
            func startNext() async {
                guard next < manifest.jobs.count, !Task.isCancelled, await stop.error == nil else { return }
                let job = manifest.jobs[next]
                next += 1
                group.addTask { await runJob(job, context: context) }
            }
            // Uploading, being processed, and processed but waiting for an upload slot (see `BatchOptions`).
            for _ in 0 ..< options.jobsInFlight + 2 * options.processingThreads { await startNext() }
            while await group.next() != nil {
                if await stop.error != nil { group.cancelAll() }
                await startNext()
            }
        }
        try? await processingPool.shutdownGracefully()
        if let fatal = await stop.error {
            try? await journal.endRun(lease, as: .finished)
            throw fatal
        }

        let paused = Task.isCancelled
        await summary.update { $0.paused = paused }
        try? await journal.endRun(lease, as: paused ? .paused : .finished)
        return await summary.value
    }

    /// Renews the run's claims until cancelled. A store that declared the run
    /// dead (it was paused or cut off past its lease) has given its jobs to
    /// others, so the run stops: its writes would be fenced anyway.
    static func keepAlive(_ lease: RunLease, journal: any JobStore, every interval: Duration, stop: RunStop) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            do {
                try await journal.heartbeat(lease)
                WorkerMetrics.leaseRenewals.increment()
            } catch where error.code == .leaseLost {
                await stop.trigger(BatchError(.journal, "this run lost its claims (\(error.message)); the jobs it held continue in another run"))
                return
            } catch {
                continue   // a transient storage error: the next beat tries again
            }
        }
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
            if existing.count + adding.count > ClassyLimits.maxECardsPerCampaign {
                let lines = adding.map { "line \($0.line)" }.joined(separator: ", ")
                throw BatchError(.ecardLimit, """
                    campaign \(campaign) has \(existing.count) eCard(s); adding \(adding.count) more (\(lines)) would exceed \
                    the limit of \(ClassyLimits.maxECardsPerCampaign) eCards per campaign. Nothing was uploaded.
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

    /// What every job of a run shares.
    struct RunContext: Sendable {
        var existingECards: [Int: [Int: ECard]]
        var processingPool: NIOThreadPool
        var uploadGate: AsyncGate
        var summary: SummaryBox
        var stop: RunStop
        var onEvent: @Sendable (BatchEvent) -> Void
        /// This run's registration with the store; its jobs are claimed under it.
        var lease: RunLease
    }

    /// One job, driven by its `JobLifecycle`: the runner carries the machine's
    /// commands out (process, upload, persist, attach, look up) and feeds it
    /// what happened. The rules (what a restart continues with, when an intent
    /// is recorded, when a doubt is looked up) are the machine's, not the runner's.
    // Swift 6.3.1's optimizer crashes on this function in release builds (CopyPropagation:
    // "Found outside of lifetime use?!"); it only sequences awaits, so it loses nothing unoptimized.
    @_optimize(none)
    func runJob(_ job: Job, context: RunContext, preclaimed: JobClaim? = nil) async {
        let summary = context.summary, onEvent = context.onEvent
        var holdsUploadPermit = false
        var claim: JobClaim?
        defer { if let claim { Task { [journal] in try? await journal.release(claim) } } }
        do throws(JobFailure) {
            let claimed: JobClaim
            var state: JournalJob? = nil
            if let preclaimed {
                // A queue's job: planned by `enqueue`, claimed by the worker; it may have progress already.
                claimed = preclaimed
                claim = preclaimed
                state = try await journaled { try await journal.job(key: job.key) }
            } else {
                var plan = JobPlan(job, manifestPath: options.manifestPath)
                plan.batch = batchID   // the manifest's batch id, as `enqueue` names it, for `status --batch`
                let outcome = try await journaled { [plan] in try await journal.plan(plan) }
                if case let .alreadyDone(at) = outcome {
                    await summary.update { $0.skipped += 1 }
                    onEvent(.skipped(job: job, reason: "done on \(ClassyDate.format(at))"))
                    return
                }
                // Several runs may share a journal: this one works only on jobs it holds a claim on.
                guard let taken = try await journaled({ try await journal.claim([job.key], for: context.lease) }).first else {
                    await summary.update { $0.skipped += 1 }
                    onEvent(.skipped(job: job, reason: "another live run is working on it"))
                    return
                }
                claimed = taken
                claim = taken
                if case .resumed = outcome { state = try await journaled { try await journal.job(key: job.key) } }
            }
            let serverCalls: [ServerCall]
            do throws(ImagingError) { serverCalls = try JobProcessing.serverCalls(for: job) } catch {
                throw JobFailure(item: 0, message: "planning the API's processing of \(job.source): \(error)", badData: true, imagingError: error)
            }
            var machine = JobLifecycle(target: attachTarget(of: job, existingECards: context.existingECards),
                                       attachPosition: state.flatMap { attachPosition(job, items: $0.items) },
                                       serverCalls: serverCalls.map(\.positions),
                                       resumingFrom: state.map(Self.persisted) ?? .init())
            var processed: ProcessedAsset?
            var uploaded: [Int: Asset] = [:]
            var attachment: Attachment? = state?.attachedTo.flatMap(Attachment.init)
            /// The children `/process` answered or `/children` listed, by asset id.
            var serverMade: [Int: Asset] = [:]
            var commands: [JobLifecycle.Command] = [machine.nextCommand]
            loop: while !commands.isEmpty {
                let command = commands.removeFirst()
                switch command {
                case .process:
                    let result = try await process(job, on: context.processingPool, summary: summary)
                    processed = result
                    onEvent(.processed(job: job, images: 1 + result.children.count,
                                       bytes: result.parentBytes.count + result.children.reduce(0) { $0 + $1.bytes.count }))
                    let items: [ProcessedItem]
                    do throws(ImagingError) { items = try JobProcessing.items(of: result, for: job) } catch {
                        throw JobFailure(item: 0, message: "processing \(job.source): \(error)", badData: true, imagingError: error)
                    }
                    try await journaled { try await journal.record(.processed(items), under: claimed) }
                    guard let fresh = try await journaled({ try await journal.job(key: job.key) }) else {
                        throw JobFailure(item: nil, message: "the journal lost job \(job.key.prefix(12))")
                    }
                    state = fresh
                    commands += machine.apply(.processed(positions: fresh.items.map(\.position), confirmed: Self.confirmedIDs(fresh.items),
                                                         attachPosition: attachPosition(job, items: fresh.items)))
                case let .upload(positions):
                    guard let processed, let items = state?.items else {
                        throw JobFailure(item: nil, message: "job lifecycle: upload before processing")
                    }
                    if !holdsUploadPermit {
                        guard await context.uploadGate.enter() else { throw JobFailure(item: nil, message: "paused", cancelled: true) }
                        holdsUploadPermit = true
                    }
                    let assets = try await uploadAll(items.filter { positions.contains($0.position) }, of: processed, job: job,
                                                     claim: claimed, context: context)
                    for (position, asset) in assets.sorted(by: { $0.key < $1.key }) {
                        uploaded[position] = asset
                        commands += machine.apply(.imageConfirmed(position: position, assetID: asset.id))
                    }
                case let .persistIntent(target, assetID):
                    try await journaled { try await journal.record(.attachIntent(call: Self.describe(target, assetID: assetID)), under: claimed) }
                    commands += machine.apply(.intentPersisted)
                case let .attach(target, assetID):
                    machine.attachSent()
                    do throws(JobFailure) {
                        if let lock = target.crossJobLock {
                            // Decided and made under the lock, and recorded before it is let go.
                            let done = try await attachHoldingLock(lock, target, assetID: assetID,
                                                                   position: machine.attachPosition ?? 0, claim: claimed)
                            attachment = done
                            commands += machine.apply(.attachedAndPersisted(done))
                        } else {
                            let done = try await attach(target, assetID: assetID, position: machine.attachPosition ?? 0)
                            commands += machine.apply(.attached(done))
                        }
                    } catch where error.ambiguous {
                        commands += machine.apply(.ambiguous)
                    }
                case let .reconcile(target, assetID):
                    let found = try await reconcile(target, assetID: assetID, position: machine.attachPosition ?? 0)
                    commands += machine.apply(.reconciled(found))
                case let .persistServerRequest(call):
                    try await journaled { try await journal.record(.processRequested(items: serverCalls[call].positions), under: claimed) }
                    commands += machine.apply(.serverRequestPersisted)
                case let .callServer(call, originalID):
                    machine.serverCallSent()
                    do throws(JobFailure) {
                        let answered = try await api(serverCalls[call].positions.first ?? 0) {
                            try await client.processAsset(originalID, serverCalls[call].action)
                        }
                        let ids = Self.match(answered, to: serverCalls[call], excluding: Set(machine.confirmed.values))
                        for asset in answered { serverMade[asset.id] = asset }
                        commands += machine.apply(.madeOnServer(ids))
                    } catch where error.ambiguous {
                        commands += machine.apply(.ambiguous)
                    }
                case let .lookUpServer(call, originalID):
                    let children = try await api(serverCalls[call].positions.first ?? 0) { try await client.assetChildren(originalID) }
                    let ids = Self.match(children, to: serverCalls[call], excluding: Set(machine.confirmed.values))
                    for asset in children { serverMade[asset.id] = asset }
                    commands += machine.apply(.lookedUpOnServer(ids))
                case let .persistMadeOnServer(_, ids):
                    guard let items = state?.items else { throw JobFailure(item: nil, message: "job lifecycle: server images before processing") }
                    let images = ids.sorted { $0.key < $1.key }.compactMap { position, id -> ServerMadeImage? in
                        guard let planned = items.first(where: { $0.position == position }), let asset = serverMade[id] else { return nil }
                        return ServerMadeImage(position: position, assetID: id, record: Self.record(of: asset, planned: planned.record))
                    }
                    try await journaled { try await journal.record(.madeOnServer(images), under: claimed) }
                    for (position, id) in ids { uploaded[position] = serverMade[id] }
                    await summary.update { $0.madeOnServer += images.count }
                    commands += machine.apply(.madeOnServerPersisted)
                case let .persistAttachment(done):
                    attachment = done
                    try await journaled { try await journal.record(.attached(to: done.description), under: claimed) }
                    commands += machine.apply(.attachmentPersisted)
                case .persistDone:
                    try await journaled { try await journal.record(.done, under: claimed) }
                    commands += machine.apply(.donePersisted)
                case .finish:
                    break loop
                case let .fail(reason):
                    throw JobFailure(item: machine.attachPosition, message: reason)
                }
            }
            if holdsUploadPermit { await context.uploadGate.leave() }
            holdsUploadPermit = false
            let items = state?.items ?? []
            let records = Self.records(items: items, uploaded: uploaded, madeOnServer: Set(serverCalls.flatMap(\.positions)))
            for record in records where uploaded.values.contains(where: { $0.id == record.id.classyID }) {
                onEvent(.uploaded(job: job, record: record))
            }
            await summary.update {
                $0.done += 1
                $0.records += records
            }
            WorkerMetrics.jobsDone.increment()
            onEvent(.finished(job: job, records: records, attachedTo: attachment?.description))
        } catch {
            if holdsUploadPermit { await context.uploadGate.leave() }
            if let fatal = error.fatal {
                // The whole run stops: nothing more is sent, nothing more recorded.
                await context.stop.trigger(fatal)
                return
            }
            if error.lostClaim {
                // Another run owns the job now (this one was taken for dead): it continues from the
                // last step persisted; this run must not write anything more for it.
                await summary.update { $0.skipped += 1 }
                onEvent(.skipped(job: job, reason: "taken over by another run: \(error.message)"))
                return
            }
            if error.cancelled || Task.isCancelled {
                // Paused: the journal holds the last step that completed; nothing to record.
                return
            }
            guard let claim else { return }
            for id in error.abandonedAssetIDs {
                try? await journal.recordAbandoned(assetID: id, item: error.item, reason: "left pending by a failed upload", under: claim)
                onEvent(.abandoned(job: job, assetID: id, reason: "left pending by a failed upload"))
            }
            do {
                try await journal.record(.failed(item: error.item, error: error.message), under: claim)
            } catch {
                await context.stop.trigger(BatchError(.journal, "recording a failure in the journal failed: \(error)"))
                return
            }
            WorkerMetrics.jobsFailed.increment()
            await summary.update {
                $0.failed += 1
                if error.badData { $0.failedOnData += 1 }
                $0.abandoned += error.abandonedAssetIDs.count
                $0.failures.append((job, error.message))
            }
            onEvent(.failed(job: job, error: error.failure))
        }
    }

    /// The lifecycle's view of a job the journal kept.
    static func persisted(_ job: JournalJob) -> JobLifecycle.Persisted {
        JobLifecycle.Persisted(step: job.step, confirmed: confirmedIDs(job.items), positions: job.items.map(\.position),
                               intentPending: job.attachIntent != nil, attachment: job.attachedTo.flatMap(Attachment.init),
                               requested: Set(job.items.filter { $0.step == .processRequested }.map(\.position)))
    }

    static func confirmedIDs(_ items: [JournalItem]) -> [Int: Int] {
        var ids: [Int: Int] = [:]
        for item in items where item.step >= .markedUploaded { ids[item.position] = item.classyAssetID }
        return ids
    }

    /// The job's records with their Classy ids: from this run's answers, or
    /// from the journal for images uploaded by an earlier run.
    static func records(items: [JournalItem], uploaded: [Int: Asset], madeOnServer: Set<Int> = []) -> [AssetRecord] {
        let parentID = uploaded[0]?.id ?? items.first { $0.position == 0 }?.classyAssetID
        return items.sorted { $0.position < $1.position }.map { item in
            var record = item.record
            if madeOnServer.contains(item.position), let asset = uploaded[item.position] {
                record = Self.record(of: asset, planned: item.record)
            } else if let asset = uploaded[item.position] {
                record.id = .classy(asset.id)
                record.state = AssetState(rawValue: asset.state) ?? .uploaded
                record.cdnURL = asset.cdnURL
                record.createdBy = asset.createdBy
                if let created = asset.createdAt { record.createdAt = created }
            } else if let id = item.classyAssetID {
                record.id = .classy(id)
                // Images the API made are its `processed` children; the others were uploaded.
                record.state = madeOnServer.contains(item.position) ? .processed : .uploaded
            }
            record.parentID = item.position == 0 ? nil : parentID.map { AssetID.classy($0) }
            return record
        }
    }

    /// The positions of a server call's images, given the children the API
    /// answered or listed: each position takes the lowest-id child of its type
    /// not already one of the job's images (two calls can make the same type,
    /// e.g. two crops). Positions with no such child are absent.
    static func match(_ children: [Asset], to call: ServerCall, excluding taken: Set<Int>) -> [Int: Int] {
        var free = children.filter { !taken.contains($0.id) }.sorted { $0.id < $1.id }
        var ids: [Int: Int] = [:]
        for (position, type) in zip(call.positions, call.childTypes) {
            guard let index = free.firstIndex(where: { $0.type == type }) else { continue }
            ids[position] = free.remove(at: index).id
        }
        return ids
    }

    /// The journal record of a child the API made: the planned record with what the API says of it.
    static func record(of asset: Asset, planned: AssetRecord) -> AssetRecord {
        var record = planned
        record.id = .classy(asset.id)
        record.parentID = asset.parentID.map(AssetID.classy)
        record.createdBy = asset.createdBy
        record.state = AssetState(rawValue: asset.state) ?? .processed
        record.cdnURL = asset.cdnURL
        if let type = asset.type { record.type = type }
        if let contentType = asset.contentType { record.contentType = contentType }
        if let size = asset.size { record.size = size }
        if let created = asset.createdAt { record.createdAt = created }
        return record
    }

    /// The journal position of the image the job attaches, nil when it attaches nothing.
    func attachPosition(_ job: Job, items: [JournalItem]) -> Int? {
        guard let which = job.attach else { return nil }
        let childTypes = items.sorted { $0.position < $1.position }.dropFirst().map(\.record.type)
        return which.position(childTypes: Array(childTypes))
    }

    /// Where the job's image goes, from its role and the eCards the campaign had when the run started.
    func attachTarget(of job: Job, existingECards: [Int: [Int: ECard]]) -> AttachTarget {
        switch job.role {
        case let .ecard(campaign, order, _): .ecard(campaign: campaign, order: order, existingCardID: existingECards[campaign]?[order]?.id)
        case let .social(.appealSet(id)): .appealSet(id: id)
        case let .social(.campaign(campaign)): .campaignAppealSet(campaign: campaign)
        case let .sponsor(plan): .matchingPlan(id: plan)
        case .logo, .asset: .none
        }
    }

    /// The intent, for people reading the journal.
    static func describe(_ target: AttachTarget, assetID: Int) -> String {
        switch target {
        case let .ecard(campaign, order, _): "create ecard campaign=\(campaign) order=\(order) asset_id=\(assetID)"
        case let .campaignAppealSet(campaign): "create appeal_set campaign=\(campaign) facebook_asset_id=\(assetID)"
        case let .appealSet(id): "set appeal_set \(id) facebook_asset_id=\(assetID)"
        case let .matchingPlan(id): "set matching_plan \(id) asset_id=\(assetID)"
        case .none: "nothing"
        }
    }

    /// Local processing with the job's own output format, on the processing
    /// pool; the source must still be the file the manifest was validated against.
    func process(_ job: Job, on pool: NIOThreadPool, summary: SummaryBox) async throws(JobFailure) -> ProcessedAsset {
        let processor = JobProcessing.processor(for: job, base: options.processor, concurrentSources: options.processingThreads)
        let outcome: Result<ProcessedAsset, ImagingError>
        do {
            let (result, cpuSeconds) = try await pool.runIfActive { [processor] in
                ProcessingThread.yieldToNetwork()
                let start = ProcessingThread.cpuSeconds()
                let result = Result { () throws(ImagingError) -> ProcessedAsset in
                    try JobProcessing.run(job, with: processor)
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
            throw JobFailure(item: 0, message: "processing \(job.source): \(error)", badData: true, imagingError: error)
        }
        guard JobProcessing.sourceUnchanged(processed, for: job) else {
            throw JobFailure(item: 0, message: "\(job.source) changed after the manifest was checked; run again to re-plan it", badData: true)
        }
        return processed
    }

    /// Images of a job through the upload engine at once (each persists its own
    /// checkpoints; only the requests for pending assets take turns, see below);
    /// returns the confirmed assets by position. When some fail, the others
    /// still finish (and are journaled), then the job fails with the first
    /// failure, carrying every pending asset left behind.
    func uploadAll(_ items: [JournalItem], of processed: ProcessedAsset, job: Job, claim: JobClaim,
                   context: RunContext) async throws(JobFailure) -> [Int: Asset] {
        // One pending asset requested at a time per job: a kill between the API
        // creating one and the journal writing its id loses that id (no API call
        // lists pending assets), and this keeps it to one per job in flight.
        let pendingCreation = AsyncGate(permits: 1)
        let outcomes = await withTaskGroup(of: (Int, Result<Asset, JobFailure>).self) { group in
            for item in items {
                let bytes = item.position == 0 ? processed.parentBytes : processed.children[item.position - 1].bytes
                group.addTask {
                    do throws(JobFailure) {
                        let result = try await upload(item, bytes: bytes, job: job, claim: claim, pendingCreation: pendingCreation, context: context)
                        return (item.position, .success(result))
                    } catch {
                        return (item.position, .failure(error))
                    }
                }
            }
            var all: [(Int, Result<Asset, JobFailure>)] = []
            for await outcome in group { all.append(outcome) }
            return all.sorted { $0.0 < $1.0 }
        }
        var assets: [Int: Asset] = [:]
        var failure: JobFailure?
        for (position, outcome) in outcomes {
            switch outcome {
            case .success(let asset):
                assets[position] = asset
            case .failure(let error):
                if failure == nil {
                    failure = error
                } else {
                    failure!.abandonedAssetIDs += error.abandonedAssetIDs
                    failure!.cancelled = failure!.cancelled || error.cancelled
                    failure!.fatal = failure!.fatal ?? error.fatal
                    failure!.lostClaim = failure!.lostClaim || error.lostClaim
                }
            }
        }
        if let failure { throw failure }
        return assets
    }

    /// One image through `ClassyClient.upload` (the one upload engine), resumed
    /// from the journal's progress, with every checkpoint journaled before the
    /// engine goes on.
    func upload(_ item: JournalItem, bytes: [UInt8], job: Job, claim: JobClaim, pendingCreation: AsyncGate,
                context: RunContext) async throws(JobFailure) -> Asset {
        guard let contentType = ImageContentType(rawValue: item.record.contentType) else {
            throw JobFailure(item: item.position, message: "content type \(item.record.contentType) cannot be uploaded")
        }
        let position = item.position
        let journal = journal, client = client, summary = context.summary, onEvent = context.onEvent
        let journalFailure = FirstError()
        let permit = PendingCreationPermit(gate: pendingCreation)
        do throws(UploadError) {
            let result = try await client.upload(
                bytes, contentType: contentType, memberID: job.memberID, from: Self.progress(of: item),
                createPendingAsset: { () async throws(ClassyAPIError) -> PresignedAsset in
                    guard await permit.take() else { throw ClassyAPIError(.transport, message: "cancelled", request: "POST /2.0/assets/url") }
                    do throws(ClassyAPIError) {
                        return try await client.createAssetURL(memberID: job.memberID, contentType: contentType)
                    } catch {
                        // A doubt is journaled (`.pendingPossiblyOrphaned`) before the permit goes back.
                        if error.code != .ambiguous { await permit.giveBack() }
                        throw error
                    }
                },
                checkpoint: { checkpoint in
                    do {
                        switch checkpoint {
                        case let .pendingCreated(asset, issuedAt, expiresAt, replacing):
                            try await journal.record(.pendingCreated(item: position, assetID: asset.id, uploadURL: asset.presignedPutURL,
                                                                     issuedAt: issuedAt, expiresAt: expiresAt,
                                                                     replacing: "its pre-signed URL expired"), under: claim)
                            if let replacing {
                                onEvent(.abandoned(job: job, assetID: replacing, reason: "its pre-signed URL expired"))
                                await summary.update { $0.abandoned += 1 }
                            }
                        case .pendingPossiblyOrphaned:
                            try await journal.record(.pendingPossiblyOrphaned(item: position), under: claim)
                            await summary.update { $0.possiblyOrphaned += 1 }
                        case .stored:
                            try await journal.record(.bytesUploaded(item: position), under: claim)
                            await summary.update { $0.bytesUploaded += bytes.count }
                            WorkerMetrics.bytesUploaded.increment(by: Int64(bytes.count))
                        case let .confirmed(asset):
                            try await journal.record(.markedUploaded(item: position, at: asset.createdAt ?? Date()), under: claim)
                            WorkerMetrics.imagesUploaded.increment()
                        }
                    } catch {
                        if checkpoint.answersPendingCreation { await permit.giveBack() }
                        await journalFailure.set(error)
                        throw error
                    }
                    if checkpoint.answersPendingCreation { await permit.giveBack() }
                })
            await permit.giveBack()
            return result.asset
        } catch {
            await permit.giveBack()
            if let journalError = await journalFailure.value {
                if let fenced = journalError as? JournalError, fenced.code == .fenced {
                    throw JobFailure(item: position, message: fenced.message, lostClaim: true)
                }
                throw JobFailure(item: position, message: "journal: \(journalError)",
                                 fatal: BatchError(.journal, "a journal write failed, so the run stopped with nothing more sent: \(journalError)"))
            }
            throw JobFailure(uploadError: error, item: position)
        }
    }

    /// The engine's starting point from what the journal kept about an image.
    static func progress(of item: JournalItem) -> UploadProgress {
        switch item.step {
        case .planned, .processed, .processRequested:
            return .notStarted
        case .pendingCreated:
            guard let id = item.classyAssetID, let url = item.uploadURL else { return .notStarted }
            let expiresAt = item.urlExpiresAt ?? (item.urlIssuedAt ?? .distantPast).addingTimeInterval(PresignedURLLifetime.documented)
            return .pending(PresignedAsset(id: id, presignedPutURL: url), expiresAt: expiresAt)
        case .bytesUploaded:
            return item.classyAssetID.map { .stored(assetID: $0) } ?? .notStarted
        case .markedUploaded, .attached, .done:
            return item.classyAssetID.map { .confirmed(assetID: $0) } ?? .notStarted
        }
    }

    // MARK: - Attaching, and looking up after a doubt

    /// The attach call for `target`. A lost answer to a call that creates
    /// something fails as `ambiguous` (the lifecycle then looks it up).
    func attach(_ target: AttachTarget, assetID: Int, position: Int) async throws(JobFailure) -> Attachment {
        switch target {
        case let .ecard(campaign, order, existing):
            if let cardID = existing {
                let card = try await api(position) { try await client.updateECard(cardID, ECardInput(assetID: assetID, order: order)) }
                return .ecard(id: card.id ?? cardID, updated: true)
            }
            let card = try await api(position) { try await client.createECard(campaignID: campaign, ECardInput(assetID: assetID, order: order)) }
            // The reference's eCard objects carry no id: then the eCard is known by campaign, order and image.
            return card.id.map { .ecard(id: $0, updated: false) } ?? .ecardAt(campaign: campaign, order: order, assetID: assetID)
        case let .appealSet(id):
            _ = try await api(position) { try await client.setAppealSetFacebookAsset(appealSetID: id, assetID: assetID) }
            return .appealSet(id: id, facebookAssetID: assetID)
        case let .campaignAppealSet(campaign):
            if let id = try await existingAppealSetID(campaign: campaign, position: position) {
                _ = try await api(position) { try await client.setAppealSetFacebookAsset(appealSetID: id, assetID: assetID) }
                return .appealSet(id: id, facebookAssetID: assetID)
            }
            let created = try await api(position) { try await client.createAppealSet(campaignID: campaign, facebookAssetID: assetID) }
            if let id = created.id, id > 0 { return .appealSet(id: id, facebookAssetID: assetID) }
            // Created without an id in the answer: the look-up finds it.
            throw JobFailure(item: position, message: "POST /2.0/campaigns/\(campaign)/appeal-set answered without an id", ambiguous: true)
        case let .matchingPlan(id):
            _ = try await api(position) { try await client.setMatchingPlanAsset(planID: id, assetID: assetID) }
            return .matchingPlan(id: id, assetID: assetID)
        case .none:
            throw JobFailure(item: position, message: "job lifecycle: attach with no target")
        }
    }

    /// An attach that other jobs could race (a campaign's eCards, its appeal set),
    /// made under the store's lock for it: the campaign's eCards are read again
    /// there, so the limit of `ClassyLimits.maxECardsPerCampaign` and one eCard
    /// per order hold across every worker and batch, and the attachment is
    /// recorded before the lock is let go.
    func attachHoldingLock(_ lock: String, _ target: AttachTarget, assetID: Int, position: Int,
                           claim: JobClaim) async throws(JobFailure) -> Attachment {
        do {
            return try await journal.recordHoldingLock(lock, under: claim) { [self] () async throws -> (Attachment, JournalStep) in
                let current = try await currentTarget(target, position: position)
                let done = try await attach(current, assetID: assetID, position: position)
                return (done, .attached(to: done.description))
            }
        } catch let failure as JobFailure {
            throw failure
        } catch let notRecorded as LockedStepNotRecorded where notRecorded.error.code == .fenced {
            // Attached, and the job is another run's now: it looks the attachment up from the intent.
            throw JobFailure(item: nil, message: notRecorded.error.message, lostClaim: true)
        } catch let notRecorded as LockedStepNotRecorded {
            // Attached, and not recorded: look it up (the lifecycle's doubt), then record it.
            throw JobFailure(item: position, message: notRecorded.description, ambiguous: true)
        } catch let error as JournalError where error.code == .fenced {
            throw JobFailure(item: nil, message: error.message, lostClaim: true)
        } catch let error as JournalError where error.code == .busy {
            throw JobFailure(item: position, message: error.message)
        } catch {
            throw JobFailure(item: nil, message: "journal: \(error)", cancelled: Task.isCancelled,
                             fatal: BatchError(.journal, "a journal write failed, so the run stopped with nothing more sent: \(error)"))
        }
    }

    /// The attach target as the API stands now (under its lock): an eCard goes to
    /// the card already at its order, or is created only while the campaign has room.
    func currentTarget(_ target: AttachTarget, position: Int) async throws(JobFailure) -> AttachTarget {
        guard case let .ecard(campaign, order, _) = target else { return target }
        var cards: [ECard] = []
        do {
            for try await card in client.eCards(campaignID: campaign) { cards.append(card) }
        } catch {
            throw JobFailure(item: position, message: "reading the eCards of campaign \(campaign) failed: \(error)")
        }
        if let atOrder = cards.first(where: { $0.order == order }) {
            // The reference's eCard objects carry no id: one already at this order cannot be
            // updated (PUT /2.0/eCards/{id}), and a second at the same order is not what was asked.
            guard let id = atOrder.id else {
                throw JobFailure(item: position, message: """
                    campaign \(campaign) already has an eCard at order \(order) (showing asset \(atOrder.assetID.map(String.init) ?? "?")), \
                    and the API's eCards carry no id to update it by: nothing was attached (remove that eCard, or use another order)
                    """, badData: true)
            }
            return .ecard(campaign: campaign, order: order, existingCardID: id)
        }
        guard cards.count < ClassyLimits.maxECardsPerCampaign else {
            throw JobFailure(item: position, message: """
                campaign \(campaign) already has \(cards.count) eCards, the limit of \(ClassyLimits.maxECardsPerCampaign), \
                and none at order \(order) (another batch added them): nothing was attached
                """, badData: true)
        }
        return .ecard(campaign: campaign, order: order, existingCardID: nil)
    }

    /// Looks up whether an attach call whose outcome is in doubt took effect.
    func reconcile(_ target: AttachTarget, assetID: Int, position: Int) async throws(JobFailure) -> Attachment? {
        switch target {
        case let .ecard(campaign, order, _):
            var found: ECard?
            do {
                for try await card in client.eCards(campaignID: campaign) where card.assetID == assetID && (card.order == nil || card.order == order) {
                    found = card
                }
            } catch {
                throw JobFailure(item: position, message: "looking up the eCards of campaign \(campaign) failed: \(error)")
            }
            guard let found else { return nil }
            return found.id.map { .ecard(id: $0, updated: false) } ?? .ecardAt(campaign: campaign, order: order, assetID: assetID)
        case let .campaignAppealSet(campaign):
            let set = try await api(position) { try await client.appealSet(campaignID: campaign) }
            guard let id = set.id, id > 0, set.facebookAssetID == assetID else { return nil }
            return .appealSet(id: id, facebookAssetID: assetID)
        case let .appealSet(id):
            let set = try await api(position) { try await client.appealSet(id) }
            return set.facebookAssetID == assetID ? .appealSet(id: id, facebookAssetID: assetID) : nil
        case let .matchingPlan(id):
            let plan = try await api(position) { try await client.matchingPlan(id) }
            return plan.assetID == assetID ? .matchingPlan(id: id, assetID: assetID) : nil
        case .none:
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

    /// A journal call; its failure stops the whole run (the journal is the
    /// source of truth: without it nothing more may be sent).
    func journaled<T>(_ body: () async throws -> T) async throws(JobFailure) -> T {
        do {
            return try await body()
        } catch let error as JournalError where error.code == .fenced {
            throw JobFailure(item: nil, message: error.message, lostClaim: true)
        } catch {
            throw JobFailure(item: nil, message: "journal: \(error)", cancelled: Task.isCancelled,
                             fatal: BatchError(.journal, "a journal write failed, so the run stopped with nothing more sent: \(error)"))
        }
    }

    /// An API call for image `item`; a failure carries the pending assets it left behind.
    func api<T>(_ item: Int, _ body: () async throws -> T) async throws(JobFailure) -> T {
        do {
            return try await body()
        } catch let error as ClassyAPIError {
            throw JobFailure(apiError: error, item: item)
        } catch {
            throw JobFailure(item: item, message: "\(error)", cancelled: error is CancellationError || Task.isCancelled)
        }
    }
}

/// One image's hold on its job's single permit to create a pending asset: taken
/// before `POST /2.0/assets/url` and given back once the journal holds the answer
/// (or the doubt), so that a kill at any moment leaves at most one pending asset per
/// job that the journal never saw. Giving back twice is harmless; the runner gives
/// it back, at the latest, when the image's upload ends.
actor PendingCreationPermit {
    let gate: AsyncGate
    private var held = false

    init(gate: AsyncGate) {
        self.gate = gate
    }

    func take() async -> Bool {
        guard await gate.enter() else { return false }
        held = true
        return true
    }

    func giveBack() async {
        guard held else { return }
        held = false
        await gate.leave()
    }
}

extension UploadCheckpoint {
    /// The checkpoints that journal what a `POST /2.0/assets/url` gave: a new pending asset, or a doubt.
    var answersPendingCreation: Bool {
        switch self {
        case .pendingCreated, .pendingPossiblyOrphaned: true
        default: false
        }
    }
}

/// The first journal error a checkpoint hit (set from the engine's closure).
actor FirstError {
    private(set) var value: (any Error)?
    func set(_ error: any Error) { if value == nil { value = error } }
}

/// Stops a whole run at the first failure that concerns every job (the
/// journal cannot be written, the token endpoint refuses or does not answer).
actor RunStop {
    private(set) var error: BatchError?
    private var onTrigger: [@Sendable () -> Void] = []

    func trigger(_ error: BatchError) {
        guard self.error == nil else { return }
        self.error = error
        for action in onTrigger { action() }
    }

    func whenTriggered(_ action: @escaping @Sendable () -> Void) {
        if error != nil { action() } else { onTrigger.append(action) }
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
    /// The call's outcome is unknown (a lost answer to a call that creates something).
    var ambiguous = false
    /// The whole run must stop (see `RunStop`).
    var fatal: BatchError? = nil
    /// The job's claim was taken by another run (the store fenced a write): stop working on it, record nothing.
    var lostClaim = false
    var apiError: ClassyAPIError? = nil
    var imagingError: ImagingError? = nil

    init(item: Int?, message: String, abandonedAssetIDs: [Int] = [], cancelled: Bool = false, badData: Bool = false,
         ambiguous: Bool = false, fatal: BatchError? = nil, imagingError: ImagingError? = nil, lostClaim: Bool = false) {
        self.item = item
        self.message = message
        self.abandonedAssetIDs = abandonedAssetIDs
        self.cancelled = cancelled
        self.badData = badData
        self.ambiguous = ambiguous
        self.fatal = fatal
        self.imagingError = imagingError
        self.lostClaim = lostClaim
    }

    init(apiError error: ClassyAPIError, item: Int?) {
        self.init(item: item, message: error.description, abandonedAssetIDs: error.pendingAssetIDs,
                  cancelled: Task.isCancelled || error.message == "cancelled", ambiguous: error.code == .ambiguous,
                  fatal: error.isTokenFailure
                      ? BatchError(.service, "the API's token endpoint failed, so the run stopped: \(error)") : nil)
        apiError = error
    }

    init(uploadError error: UploadError, item: Int) {
        switch error.kind {
        case let .api(apiError):
            self.init(apiError: apiError, item: item)
            abandonedAssetIDs = error.abandonedAssetIDs
        default:
            self.init(item: item, message: error.description, abandonedAssetIDs: error.abandonedAssetIDs)
        }
    }

    /// The typed failure a `BatchEvent.failed` carries.
    var failure: JobError {
        if let imagingError { return .imaging(imagingError, message: message) }
        if let apiError { return .api(apiError) }
        return .other(message)
    }
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
