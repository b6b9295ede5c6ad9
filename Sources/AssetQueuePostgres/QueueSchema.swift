import AssetJobs
import Foundation
import PostgresNIO

/// The queue's tables, as numbered migrations. `migrate` applies the missing
/// ones in one transaction under a transaction-scoped advisory lock, so any
/// number of workers may start (and migrate) at once: one applies, the others
/// wait for it and then find nothing left to do.
enum QueueSchema {
    /// Key of the advisory lock that serialises migrations (any fixed 64-bit number; "AWqueue1").
    static let migrationLock: Int64 = 0x4157_7175_6575_6531
    /// Key of the advisory lock that serialises binding the queue to its API target.
    static let bindLock: Int64 = 0x4157_7175_6575_6532
    /// First key of the advisory locks `recordHoldingLock` takes (the second is a hash of the lock's name; "AWq1").
    static let namedLockClass: Int32 = 0x4157_7131

    struct Migration {
        var version: Int
        var name: String
        var sql: [String]
    }

    static let migrations: [Migration] = [
        Migration(version: 1, name: "runs, jobs, items, abandoned assets, target", sql: [
            """
            CREATE TABLE run (
                id bigserial PRIMARY KEY,
                pid bigint NOT NULL,
                host text NOT NULL,
                started_at timestamptz NOT NULL,
                heartbeat_at timestamptz NOT NULL,
                ended_at timestamptz,
                end_reason text
            )
            """,
            """
            CREATE TABLE job (
                key text PRIMARY KEY,
                seq bigserial NOT NULL UNIQUE,
                manifest_path text,
                role text NOT NULL,
                target text NOT NULL,
                source_path text NOT NULL,
                source_sha256 text NOT NULL,
                batch text,
                payload bytea,
                step text NOT NULL,
                error text,
                attempts bigint NOT NULL DEFAULT 1,
                attached_to text,
                attach_intent text,
                possibly_orphaned bigint NOT NULL DEFAULT 0,
                planned_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                done_at timestamptz,
                fence bigint NOT NULL DEFAULT 0,
                claimed_by bigint REFERENCES run(id)
            )
            """,
            // What claimNext scans: jobs left to do, in planning order.
            "CREATE INDEX job_claimable ON job (seq) WHERE step <> 'done' AND error IS NULL",
            "CREATE INDEX job_claimed_by ON job (claimed_by) WHERE claimed_by IS NOT NULL",
            "CREATE INDEX job_batch ON job (batch)",
            """
            CREATE TABLE item (
                job_key text NOT NULL REFERENCES job(key) ON DELETE CASCADE,
                position bigint NOT NULL,
                record text NOT NULL,
                sha256 text NOT NULL,
                size bigint NOT NULL,
                content_type text NOT NULL,
                type text,
                step text NOT NULL,
                error text,
                classy_asset_id bigint,
                upload_url text,
                url_issued_at timestamptz,
                url_expires_at timestamptz,
                uploaded_at timestamptz,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (job_key, position)
            )
            """,
            """
            CREATE TABLE abandoned_asset (
                id bigserial PRIMARY KEY,
                asset_id bigint NOT NULL,
                job_key text NOT NULL,
                position bigint,
                reason text NOT NULL,
                at timestamptz NOT NULL
            )
            """,
            "CREATE TABLE target (field text PRIMARY KEY, value text NOT NULL)",
        ]),
        Migration(version: 2, name: "content-addressed sources", sql: [
            "CREATE TABLE source (sha256 text PRIMARY KEY, bytes bytea NOT NULL, size bigint NOT NULL, stored_at timestamptz NOT NULL DEFAULT now())",
        ]),
        Migration(version: 3, name: "the API's rate window shared by the workers; where the sources are", sql: [
            "CREATE TABLE source_location (id int PRIMARY KEY CHECK (id = 1), location text NOT NULL)",
            """
            CREATE TABLE rate_window (
                id int PRIMARY KEY CHECK (id = 1),
                request_limit int NOT NULL,
                remaining int NOT NULL,
                reset_at timestamptz NOT NULL,
                -- past reset_at, counted from the limit until an answer of the new window arrives
                provisional boolean NOT NULL DEFAULT false
            )
            """,
        ]),
    ]

    /// Applies the missing migrations; returns the versions this call applied.
    static func migrate(_ db: QueueDatabase) async throws(JournalError) -> [Int] {
        try await db.directTransaction("migrating the queue schema") { connection in
            try await db.rows("SELECT pg_advisory_xact_lock(\(migrationLock))", on: connection)
            try await db.rows("""
                CREATE TABLE IF NOT EXISTS schema_migration (
                    version bigint PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """, on: connection)
            var applied = Set<Int>()
            for row in try await db.rows("SELECT version FROM schema_migration", on: connection) {
                applied.insert(try row.decode(Int.self))
            }
            if let newest = applied.max(), newest > (migrations.last?.version ?? 0) {
                throw JournalError(.storage, "the queue on \(db.url) has schema version \(newest), newer than this build knows (\(migrations.last?.version ?? 0)): update asset-worker")
            }
            var done: [Int] = []
            for migration in migrations where !applied.contains(migration.version) {
                for statement in migration.sql {
                    try await db.rows(PostgresQuery(unsafeSQL: statement), on: connection)
                }
                try await db.rows("INSERT INTO schema_migration (version, name) VALUES (\(migration.version), \(migration.name))", on: connection)
                done.append(migration.version)
            }
            return done
        }
    }
}
