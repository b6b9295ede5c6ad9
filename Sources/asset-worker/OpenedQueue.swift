import AssetPipeline
import AssetQueuePostgres
import AssetSourcesS3
import ClassyAPI
import Foundation
import Logging

/// A queue opened from its URL: the job store, the source store the queue
/// records (PostgreSQL's own `source` table, or an S3 bucket), and the API's
/// rate window the workers share.
struct OpenedQueue {
    var store: any JobStore
    var sources: any SourceStore
    var rateBudget: any SharedRateBudget
    var description: String
    var closeStores: @Sendable () async -> Void

    func close() async { await closeStores() }

    /// Opens and migrates (safe from several workers at once) the queue at `url`.
    /// A malformed URL is exit 64; a server that cannot be reached or a missing database, 69.
    /// `sources` ("postgres" or s3://BUCKET[/PREFIX]) is recorded by the first enqueue; a
    /// worker without it uses what the queue recorded, and one that names another is refused.
    static func open(url: String, leaseSeconds: Int, sources: String? = nil) async throws -> OpenedQueue {
        var logger = Logger(label: "asset-worker.queue")
        logger.logLevel = .warning
        let parsed: PostgresURL
        do {
            parsed = try PostgresURL(url)
        } catch {
            throw CLIFailure(status: ExitStatus.usage, message: "--queue: \(error)")
        }
        guard leaseSeconds >= 2 else { throw CLIFailure(status: ExitStatus.usage, message: "--lease must be at least 2 seconds") }
        if let sources, sources != "postgres" {
            do {
                _ = try S3Location(url: sources)
            } catch {
                throw CLIFailure(status: ExitStatus.usage, message: "--sources: \(error)")
            }
        }
        let store = PostgresJobStore(url: parsed, leaseDuration: TimeInterval(leaseSeconds), logger: logger)
        do {
            try await store.migrate()
        } catch {
            await store.shutdown()
            throw CLIFailure(status: ExitStatus.unavailable, message: "the queue \(parsed) cannot be used: \(error.message)")
        }
        let location: String?
        do {
            location = try await store.bindSources(sources)
        } catch {
            await store.shutdown()
            throw CLIFailure(status: error.code == .targetMismatch ? ExitStatus.usage : ExitStatus.unavailable, message: error.message)
        }
        let resolved = SourceStoreByLocation(store: store, known: location)
        // A restarting or briefly unreachable PostgreSQL pauses the work (each call tried again for up to 2 minutes).
        let riding = RetryingJobStore(store) { error, attempt in
            if attempt == 1 { FileHandle.standardError.write(Data("asset-worker: the queue is unreachable (\(error.message)); retrying\n".utf8)) }
        }
        // An unreachable source store (an S3 outage) pauses a job's start the same way instead of failing it.
        let sources = RetryingSourceStore(resolved) { error, attempt in
            if attempt == 1 { FileHandle.standardError.write(Data("asset-worker: the queue's source store is unreachable (\(error.message)); retrying\n".utf8)) }
        }
        return OpenedQueue(store: riding, sources: sources, rateBudget: QueueRateBudget(window: PostgresRateWindow(sharing: store)),
                           description: "queue \(parsed)",
                           closeStores: { await resolved.shutdown(); await store.shutdown() })
    }
}

/// The source store the queue names, opened when first needed: a worker may
/// start before anything is enqueued, and learns then where the sources are.
actor SourceStoreByLocation: SourceStore {
    let store: PostgresJobStore
    private var known: String?
    private var opened: (any SourceStore)?
    private var s3: S3SourceStore?

    init(store: PostgresJobStore, known: String?) {
        self.store = store
        self.known = known
    }

    func current() async throws(SourceStoreError) -> any SourceStore {
        if let opened { return opened }
        if known == nil {
            do {
                known = try await store.bindSources(nil)
            } catch {
                throw SourceStoreError(.storage, "cannot read where the queue keeps its sources: \(error.message)")
            }
        }
        let chosen: any SourceStore
        switch known {
        case nil, "postgres":
            chosen = PostgresSourceStore(sharing: store)
        case let location?:
            do {
                let bucket = try S3SourceStore.fromEnvironment(location: try S3Location(url: location))
                s3 = bucket
                chosen = bucket
            } catch {
                throw SourceStoreError(.refused, "the queue's sources are in \(location), which cannot be opened here: \(error)")
            }
        }
        // Before anything is enqueued, nothing is pinned: ask again next time.
        if known != nil { opened = chosen }
        return chosen
    }

    func put(_ bytes: Data) async throws(SourceStoreError) -> String { try await current().put(bytes) }
    func get(_ sha256: String) async throws(SourceStoreError) -> Data { try await current().get(sha256) }
    func shutdown() async { await s3?.shutdown() }
}

/// The queue's rate window as ClassyAPI's shared budget.
struct QueueRateBudget: SharedRateBudget {
    let window: PostgresRateWindow

    func take() async throws -> Duration? { try await window.take() }
    func observe(_ state: RateLimitState) async throws {
        try await window.observe(limit: state.limit, remaining: state.remaining, reset: state.reset)
    }
}
