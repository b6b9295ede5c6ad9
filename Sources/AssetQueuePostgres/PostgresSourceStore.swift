import AssetJobs
import Foundation
import Logging
import PostgresNIO

/// Sources in the queue's own database: a table of bytes keyed by their SHA-256
/// (the default source store of a PostgreSQL queue, so a worker on any machine
/// reads what `enqueue` stored without the enqueuing machine's files).
public final class PostgresSourceStore: SourceStore {
    let db: QueueDatabase
    private let ownsConnections: Bool

    /// A store with connections of its own; call `migrate()` first (the job store's migrations, shared) and `shutdown()` last.
    public init(url: PostgresURL, operationTimeout: Duration = .seconds(60), logger: Logger = Logger(label: "asset-worker.sources")) {
        db = QueueDatabase(url: url, logger: logger, deadline: operationTimeout)
        ownsConnections = true
    }

    /// A store on the connections of `jobStore` (same database); its `shutdown()` closes them.
    public init(sharing jobStore: PostgresJobStore) {
        db = jobStore.db
        ownsConnections = false
    }

    /// Creates or updates the queue's tables (the same versioned migrations as `PostgresJobStore.migrate()`).
    @discardableResult
    public func migrate() async throws(JournalError) -> [Int] {
        try await QueueSchema.migrate(db)
    }

    /// Closes the connections it owns (none when sharing a job store's).
    public func shutdown() async {
        if ownsConnections { await db.shutdown() }
    }

    public func put(_ bytes: Data) async throws(SourceStoreError) -> String {
        let key = SourceKey.of(bytes)
        do {
            try await db.transaction("storing source \(key.prefix(12))") { c in
                try await self.db.rows("""
                    INSERT INTO source (sha256, bytes, size) VALUES (\(key), \(ByteBuffer(bytes: bytes)), \(bytes.count))
                    ON CONFLICT (sha256) DO NOTHING
                    """, on: c)
            }
        } catch {
            throw SourceStoreError(.storage, error.message)
        }
        return key
    }

    public func get(_ sha256: String) async throws(SourceStoreError) -> Data {
        try SourceKey.validate(sha256)
        let stored: Data?
        do {
            stored = try await db.read("reading source \(sha256.prefix(12))") { c in
                try await self.db.rows("SELECT bytes FROM source WHERE sha256 = \(sha256)", on: c).first?.decode(Data.self)
            }
        } catch {
            throw SourceStoreError(.storage, error.message)
        }
        guard let stored else { throw SourceStoreError(.missing, "no source \(sha256) in the queue \(db.url)") }
        return try SourceKey.verified(stored, key: sha256)
    }
}
