import Foundation

/// What a store may write for a job, decided once for every store: a store reads
/// the job, asks these rules for the job after the step, and writes the
/// difference in one transaction. No store has rules of its own.
public enum JournalRules {
    /// A job registered by `plan`: new, or the known one with its error cleared.
    public static func plan(_ plan: JobPlan, existing: JournalJob?, now: Date) -> (job: JournalJob, outcome: PlanOutcome) {
        guard var job = existing else {
            let job = JournalJob(plan: plan, step: .planned, error: nil, attempts: 1, attachedTo: nil, attachIntent: nil,
                                 possiblyOrphaned: 0, plannedAt: now, updatedAt: now, items: [])
            return (job, .new)
        }
        if job.step == .done { return (job, .alreadyDone(at: job.doneAt ?? job.updatedAt)) }
        let previousError = job.error
        // Same content and plan, so the same job, even if the file moved: keep the newest path.
        job.plan.sourcePath = plan.sourcePath
        job.plan.manifestPath = plan.manifestPath
        if plan.payload != nil { job.plan.payload = plan.payload }
        if plan.batch != nil { job.plan.batch = plan.batch }
        if previousError != nil { job.attempts += 1 }
        job.error = nil
        job.updatedAt = now
        return (job, .resumed(step: job.step, previousError: previousError))
    }

    /// The job after `step`, and the pending assets it gives up (to record as abandoned).
    public static func apply(_ step: JournalStep, to current: JournalJob, now: Date) throws(JournalError)
        -> (job: JournalJob, abandoned: [AbandonedAsset])
    {
        var job = current
        var abandoned: [AbandonedAsset] = []
        let key = job.plan.key
        func abandon(_ id: Int, _ position: Int?, _ reason: String) {
            abandoned.append(AbandonedAsset(assetID: id, jobKey: key, position: position, reason: reason, at: now))
        }
        func index(_ position: Int) throws(JournalError) -> Int {
            guard let i = job.items.firstIndex(where: { $0.position == position }) else {
                throw JournalError(.invalidTransition, "job \(key.prefix(12)) has no processed image \(position)")
            }
            return i
        }
        func requireAllUploaded() throws(JournalError) {
            guard !job.items.isEmpty, job.items.allSatisfy({ $0.step >= .markedUploaded }) else {
                throw JournalError(.invalidTransition, "job \(key.prefix(12)) has images not marked uploaded yet")
            }
        }

        switch step {
        case let .processed(items):
            guard job.step < .attached else { throw JournalError(.invalidTransition, "job \(key.prefix(12)) is already \(job.step.rawValue)") }
            job.items = storeProcessed(items, existing: job.items, key: key, abandon: abandon)
        case let .pendingCreated(position, assetID, url, issuedAt, expiresAt, replacing):
            let i = try index(position)
            let item = job.items[i]
            guard item.step < .markedUploaded else {
                throw JournalError(.invalidTransition, "image \(position) of job \(key.prefix(12)) is already uploaded as asset \(item.classyAssetID.map(String.init) ?? "?")")
            }
            if let old = item.classyAssetID, old != assetID { abandon(old, position, replacing) }
            job.items[i].step = .pendingCreated
            job.items[i].classyAssetID = assetID
            job.items[i].uploadURL = url
            job.items[i].urlIssuedAt = issuedAt
            job.items[i].urlExpiresAt = expiresAt
            job.items[i].error = nil
        case let .bytesUploaded(position):
            let i = try index(position)
            guard job.items[i].step >= .pendingCreated else {
                throw JournalError(.invalidTransition, "image \(position) of job \(key.prefix(12)) has no pending asset to upload to")
            }
            if job.items[i].step < .bytesUploaded {
                job.items[i].step = .bytesUploaded
                job.items[i].error = nil
            }
            // The pre-signed URL (a bearer credential for that key) is kept only while it is needed.
            job.items[i].uploadURL = nil
        case let .markedUploaded(position, at):
            let i = try index(position)
            guard job.items[i].classyAssetID != nil, job.items[i].step >= .pendingCreated else {
                throw JournalError(.invalidTransition, "image \(position) of job \(key.prefix(12)) has no asset to mark uploaded")
            }
            if job.items[i].step < .markedUploaded {
                job.items[i].step = .markedUploaded
                job.items[i].uploadedAt = at
                job.items[i].uploadURL = nil
                job.items[i].error = nil
            }
        case let .attachIntent(call):
            try requireAllUploaded()
            job.attachIntent = call
        case let .attached(target):
            try requireAllUploaded()
            job.step = max(job.step, .attached)
            job.attachedTo = target
            job.attachIntent = nil
            job.error = nil
        case .pendingPossiblyOrphaned:
            job.possiblyOrphaned += 1
        case let .processRequested(positions):
            // The API makes children of the original only once it is on the platform.
            guard let original = job.items.first(where: { $0.position == 0 }), original.step >= .markedUploaded else {
                throw JournalError(.invalidTransition, "job \(key.prefix(12)) asks the API for images before its original is uploaded")
            }
            for position in positions {
                let i = try index(position)
                guard job.items[i].step < .markedUploaded else {
                    throw JournalError(.invalidTransition, "image \(position) of job \(key.prefix(12)) already exists as asset \(job.items[i].classyAssetID.map(String.init) ?? "?")")
                }
                job.items[i].step = .processRequested
                job.items[i].error = nil
            }
        case let .madeOnServer(images):
            for image in images {
                let i = try index(image.position)
                let item = job.items[i]
                if item.step >= .markedUploaded {
                    // Recorded already (the same answer twice changes nothing); another asset is a contradiction.
                    guard item.classyAssetID == image.assetID else {
                        throw JournalError(.invalidTransition, "image \(image.position) of job \(key.prefix(12)) is asset \(item.classyAssetID.map(String.init) ?? "?"), not \(image.assetID)")
                    }
                    continue
                }
                job.items[i].record = image.record
                job.items[i].classyAssetID = image.assetID
                job.items[i].step = .markedUploaded
                job.items[i].uploadedAt = image.record.createdAt
                job.items[i].uploadURL = nil
                job.items[i].error = nil
            }
        case .done:
            try requireAllUploaded()
            for i in job.items.indices { job.items[i].step = .done }
            job.step = .done
            job.error = nil
            job.doneAt = now
        case let .failed(position, error):
            job.error = error
            if let position, let i = job.items.firstIndex(where: { $0.position == position }) { job.items[i].error = error }
        }
        // Before attachment a job is as far as its least advanced image.
        if step.movesImages, job.step < .attached {
            job.step = max(.processed, job.items.map(\.step).min() ?? .planned)
        }
        job.updatedAt = now
        return (job, abandoned)
    }

    /// A job's images after processing. Processing is deterministic, so a resumed
    /// run that processes again normally finds the same hashes and keeps every
    /// image's progress. An image whose bytes changed (a new library version)
    /// starts over, abandoning its pending asset, unless it is already on the
    /// platform, which is kept.
    static func storeProcessed(_ items: [ProcessedItem], existing: [JournalItem], key: String,
                               abandon: (Int, Int?, String) -> Void) -> [JournalItem] {
        let byPosition = Dictionary(existing.map { ($0.position, $0) }, uniquingKeysWith: { a, _ in a })
        var result: [JournalItem] = []
        for new in items {
            if let old = byPosition[new.position] {
                // An image the API was asked to make is kept too: the call may have made it,
                // and only a look-up can tell.
                if old.record.sha256 == new.record.sha256 || old.step >= .markedUploaded || old.step == .processRequested {
                    result.append(old)
                    continue
                }
                if let id = old.classyAssetID { abandon(id, new.position, "the processed image changed") }
            }
            result.append(JournalItem(jobKey: key, position: new.position, record: new.record, step: .processed))
        }
        let positions = Set(items.map(\.position))
        for old in existing where !positions.contains(old.position) {
            if old.step >= .markedUploaded || old.step == .processRequested {
                result.append(old)
            } else if let id = old.classyAssetID {
                abandon(id, old.position, "the image is no longer produced")
            }
        }
        return result.sorted { $0.position < $1.position }
    }
}

extension JournalStep {
    /// Whether the step moves an image (and so, before attachment, the job with it).
    var movesImages: Bool {
        switch self {
        case .processed, .pendingCreated, .bytesUploaded, .markedUploaded, .processRequested, .madeOnServer: true
        case .attachIntent, .attached, .pendingPossiblyOrphaned, .done, .failed: false
        }
    }
}
