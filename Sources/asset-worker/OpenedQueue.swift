import AssetPipeline
import Foundation

/// A queue opened from its URL: the job store and the source store behind it.
struct OpenedQueue {
    var store: any JobStore
    var sources: any QueueSources
    var description: String
    var closeStores: @Sendable () async -> Void

    func close() async { await closeStores() }

    static func open(url: String, leaseSeconds: Int) async throws -> OpenedQueue {
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
            throw CLIFailure(status: ExitStatus.usage, message: "--queue \(url): not a queue URL; expected postgres://USER@HOST[:PORT]/DATABASE")
        }
        throw CLIFailure(status: ExitStatus.unavailable, message: "the PostgreSQL queue is not built into this binary")
    }
}
