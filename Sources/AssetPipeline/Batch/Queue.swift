import ClassyAPI
import Crypto
import Foundation
import Imaging
import NIOPosix

/// A job as a queue keeps it: the validated job, as a worker elsewhere runs it.
/// Its `source` path is the enqueuing machine's and means nothing to a worker,
/// which runs the bytes from `QueueSources` instead.
public enum QueuedJob {
    public static func payload(_ job: Job) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try encoder.encode(job)
    }

    public static func job(from payload: Data) throws -> Job {
        try JSONDecoder().decode(Job.self, from: payload)
    }
}

/// What `enqueue` did.
public struct EnqueueSummary: Sendable, Equatable {
    /// The batch id: the same manifest always gives the same id.
    public var batch: String
    public var added: Int = 0
    /// Already in the queue, not done (left as they are).
    public var alreadyQueued: Int = 0
    public var alreadyDone: Int = 0
    /// Distinct sources stored.
    public var sources: Int = 0
}

extension BatchRunner {
    /// The batch id of a manifest: a hash of its job keys in order, so enqueueing
    /// the same manifest twice names the same batch (and adds nothing).
    public static func batchID(of manifest: Manifest) -> String {
        let keys = manifest.jobs.map(\.key).joined(separator: "\n")
        return String(LocalProcessor.sha256(Array(keys.utf8)).prefix(16))
    }

    /// Validated jobs into a shared store: the eCard limits checked against the
    /// API first (nothing is enqueued when a campaign would exceed them), each
    /// source stored once, each job planned with its spec. Idempotent.
    public func enqueue(sources: any SourceStore) async throws(BatchError) -> EnqueueSummary {
        if let target = options.target {
            do {
                try await journal.bind(to: target)
            } catch {
                throw BatchError(error.code == .targetMismatch ? .targetMismatch : .journal, error.message)
            }
        }
        _ = try await checkECardLimits()
        var summary = EnqueueSummary(batch: batchID)
        var stored: Set<String> = []
        for job in manifest.jobs {
            if !stored.contains(job.sourceSHA256) {
                let bytes: [UInt8]
                do {
                    bytes = try ImageFile.read(job.source)
                } catch {
                    throw BatchError(.journal, "cannot read \(job.source) to store it in the queue: \(error)")
                }
                guard LocalProcessor.sha256(bytes) == job.sourceSHA256 else {
                    throw BatchError(.journal, "\(job.source) changed after the manifest was checked; enqueue it again")
                }
                do {
                    let key = try await sources.put(Data(bytes))
                    guard key == job.sourceSHA256 else {
                        throw SourceStoreError(.corrupt, "the source store keyed \(job.source) as \(key), not \(job.sourceSHA256)")
                    }
                } catch {
                    throw BatchError(.journal, "storing the source \(job.source) in the queue failed: \(error)")
                }
                stored.insert(job.sourceSHA256)
            }
            var plan = JobPlan(job, manifestPath: options.manifestPath)
            plan.batch = summary.batch
            do {
                plan.payload = try QueuedJob.payload(job)
            } catch {
                throw BatchError(.journal, "cannot encode job \(job.key.prefix(12)): \(error)")
            }
            let outcome: PlanOutcome
            do {
                outcome = try await journal.plan(plan)
            } catch {
                throw BatchError(.journal, error.message)
            }
            switch outcome {
            case .new: summary.added += 1
            case .resumed: summary.alreadyQueued += 1
            case .alreadyDone: summary.alreadyDone += 1
            }
        }
        summary.sources = stored.count
        return summary
    }

    /// A queue worker: claims jobs of the shared store as slots free up, runs
    /// each from its stored spec and source, and returns when the queue has no
    /// job left it can claim (or, with `follow`, when the calling task is
    /// cancelled: SIGTERM drains, finishing the jobs in hand). Sources are
    /// written to `cacheDirectory` by hash before processing, and checked.
    public func work(sources: any SourceStore, cacheDirectory: String, follow: Bool = false,
                     pollInterval: Duration = .seconds(1),
                     onEvent: @escaping @Sendable (BatchEvent) -> Void = { _ in }) async throws(BatchError) -> BatchSummary {
        if let target = options.target {
            do {
                try await journal.bind(to: target)
            } catch {
                throw BatchError(error.code == .targetMismatch ? .targetMismatch : .journal, error.message)
            }
        }
        do {
            try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        } catch {
            throw BatchError(.journal, "cannot create the source cache \(cacheDirectory): \(error)")
        }
        let lease: RunLease
        do {
            lease = try await journal.beginRun()
        } catch {
            throw BatchError(.journal, error.message)
        }
        let summary = SummaryBox()
        let processingPool = NIOThreadPool(numberOfThreads: options.processingThreads)
        processingPool.start()
        let stop = RunStop()
        let context = RunContext(existingECards: [:], processingPool: processingPool,
                                 uploadGate: AsyncGate(permits: options.jobsInFlight), summary: summary, stop: stop,
                                 onEvent: onEvent, lease: lease)
        let heartbeat = Task { [journal, options] in
            await Self.keepAlive(lease, journal: journal, every: options.heartbeatInterval, stop: stop)
        }
        defer { heartbeat.cancel() }
        let slots = options.jobsInFlight + 2 * options.processingThreads
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            while !Task.isCancelled, await stop.error == nil {
                if running < slots {
                    // An unreachable store pauses the worker: it asks again after a pause
                    // (a lease lost meanwhile stops it through `keepAlive`).
                    let claims = (try? await journal.claimNext(limit: slots - running, for: lease)) ?? []
                    for claim in claims {
                        WorkerMetrics.jobsClaimed.increment()
                        if claim.fence > 1 { WorkerMetrics.jobsReclaimed.increment() }
                        running += 1
                        await summary.update { $0.jobs += 1 }
                        group.addTask { await runQueued(claim, sources: sources, cacheDirectory: cacheDirectory, context: context) }
                    }
                    if !claims.isEmpty { continue }
                }
                if running > 0 {
                    _ = await group.next()
                    running -= 1
                    continue
                }
                // Nothing in hand and nothing free. Without --follow the worker stays while other
                // workers hold unfinished jobs (one may die, and its jobs come free), and leaves
                // when every job is done or failed.
                let left = try? await journal.incompleteJobs()
                if let left { WorkerMetrics.queueDepth.record(left.filter { $0.error == nil }.count) }
                if !follow, let left, !left.contains(where: { $0.error == nil }) { break }
                try? await Task.sleep(for: pollInterval)
            }
            // Drain: the jobs in hand finish (or pause at a journaled point when cancelled).
            while await group.next() != nil {}
        }
        try? await processingPool.shutdownGracefully()
        let paused = Task.isCancelled
        try? await journal.endRun(lease, as: paused ? .paused : .finished)
        if let fatal = await stop.error { throw fatal }
        await summary.update { $0.paused = paused }
        return await summary.value
    }

    /// One claimed job of a queue: its spec and source restored, then the same
    /// `runJob` as a manifest's job.
    func runQueued(_ claim: JobClaim, sources: any SourceStore, cacheDirectory: String, context: RunContext) async {
        let failure: String
        do {
            guard let stored = try await journal.job(key: claim.jobKey), let payload = stored.plan.payload else {
                throw QueueFailure("job \(claim.jobKey.prefix(12)) has no spec in the queue (enqueued by another tool?)")
            }
            var job = try QueuedJob.job(from: payload)
            job.source = try await cachedSource(job, sources: sources, cacheDirectory: cacheDirectory)
            // No look at the campaign's eCards here: whether an eCard is created or updated is
            // decided under the campaign's lock, from a fresh read, when the job attaches.
            await runJob(job, context: context, preclaimed: claim)
            return
        } catch {
            failure = "\(error)"
        }
        // The job cannot even start: record why, under the claim, and leave it failed for `status`.
        try? await journal.record(.failed(item: nil, error: failure), under: claim)
        try? await journal.release(claim)
        await context.summary.update { $0.failed += 1 }
    }

    /// The job's source in the local cache, fetched once per hash and checked.
    func cachedSource(_ job: Job, sources: any SourceStore, cacheDirectory: String) async throws -> String {
        let path = (cacheDirectory as NSString).appendingPathComponent(job.sourceSHA256)
        if let bytes = try? ImageFile.read(path), LocalProcessor.sha256(bytes) == job.sourceSHA256 { return path }
        let bytes = Array(try await sources.get(job.sourceSHA256))
        guard LocalProcessor.sha256(bytes) == job.sourceSHA256 else {
            throw QueueFailure("the queue's source \(job.sourceSHA256.prefix(12)) does not match its hash")
        }
        let temporary = path + ".\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
            throw QueueFailure("cannot write the source cache \(temporary)")
        }
        _ = rename(temporary, path)
        return path
    }
}

struct QueueFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
