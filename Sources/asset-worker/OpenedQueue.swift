import AssetPipeline
import AssetQueuePostgres
import Foundation
import Logging

/// A queue opened from its URL: the job store and the source store behind it
/// (PostgreSQL holds both: the sources in a table of bytes keyed by SHA-256).
struct OpenedQueue {
    var store: any JobStore
    var sources: any SourceStore
    var description: String
    var closeStores: @Sendable () async -> Void

    func close() async { await closeStores() }

    /// Opens and migrates (safe from several workers at once) the queue at `url`.
    /// A malformed URL is exit 64; a server that cannot be reached or a missing database, 69.
    static func open(url: String, leaseSeconds: Int) async throws -> OpenedQueue {
        var logger = Logger(label: "asset-worker.queue")
        logger.logLevel = .warning
        let parsed: PostgresURL
        do {
            parsed = try PostgresURL(url)
        } catch {
            throw CLIFailure(status: ExitStatus.usage, message: "--queue: \(error)")
        }
        guard leaseSeconds >= 2 else { throw CLIFailure(status: ExitStatus.usage, message: "--lease must be at least 2 seconds") }
        let store = PostgresJobStore(url: parsed, leaseDuration: TimeInterval(leaseSeconds), logger: logger)
        do {
            try await store.migrate()
        } catch {
            await store.shutdown()
            throw CLIFailure(status: ExitStatus.unavailable, message: "the queue \(parsed) cannot be used: \(error.message)")
        }
        let sources = PostgresSourceStore(sharing: store)
        // A restarting or briefly unreachable PostgreSQL pauses the work (each call tried again for up to 2 minutes).
        let riding = RetryingJobStore(store) { error, attempt in
            if attempt == 1 { FileHandle.standardError.write(Data("asset-worker: the queue is unreachable (\(error.message)); retrying\n".utf8)) }
        }
        return OpenedQueue(store: riding, sources: sources, description: "queue \(parsed)", closeStores: { await store.shutdown() })
    }
}
