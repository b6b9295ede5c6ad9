@_exported import AssetJobs
import ClassyVocabulary
import Foundation
import Logging
import PostgresNIO

/// The job store in one PostgreSQL database, shared by workers on any number of machines.
///
/// - **Claims**: `claimNext` takes the oldest free jobs with `SELECT … FOR UPDATE
///   SKIP LOCKED`, so concurrent workers never wait on each other or take the same
///   job; the claim bumps the job's `fence` and records the run in the same statement.
/// - **Leases**: there is no lock shared across machines, so a run is alive while
///   its heartbeat (the server's clock, not the worker's) is younger than
///   `leaseDuration`. `beginRun` ends the dead runs and frees their jobs.
/// - **Fences**: every write locks the job row and checks, in its own transaction,
///   that the claim's fence and run are still the job's and that the run is alive;
///   otherwise `.fenced`. The transition itself is `JournalRules`' (no rules here).
///
/// Use: `let store = try PostgresJobStore(url: "postgres://aw@db/assets")`,
/// `try await store.migrate()` once per process (safe from several at once),
/// and `await store.shutdown()` at the end.
public final class PostgresJobStore: JobStore {
    /// A run whose heartbeat is older than this is dead and its jobs are taken over.
    public let leaseDuration: TimeInterval
    public var url: PostgresURL { db.url }
    let db: QueueDatabase

    /// - Parameters:
    ///   - url: the database; it must exist (`createdb`); `migrate()` creates the tables.
    ///   - leaseDuration: how long a run lives without a heartbeat (heartbeat at most every third of it).
    ///   - operationTimeout: the longest one call may take, waiting for a connection included;
    ///     past it the call fails with `.storage`.
    public init(url: PostgresURL, leaseDuration: TimeInterval = 30, operationTimeout: Duration = .seconds(30),
                logger: Logger = Logger(label: "asset-worker.queue")) {
        self.leaseDuration = leaseDuration
        self.db = QueueDatabase(url: url, logger: logger, deadline: operationTimeout)
    }

    /// The same from the URL's text; a malformed URL is a `PostgresURLError` (an operator's mistake, exit 64).
    public convenience init(url: String, leaseDuration: TimeInterval = 30, operationTimeout: Duration = .seconds(30),
                            logger: Logger = Logger(label: "asset-worker.queue")) throws(PostgresURLError) {
        self.init(url: try PostgresURL(url), leaseDuration: leaseDuration, operationTimeout: operationTimeout, logger: logger)
    }

    /// Creates or updates the tables (versioned migrations under an advisory lock).
    /// Also the first contact with the server: a refused connection, a missing
    /// database or wrong credentials fail here with `.storage` and the reason.
    /// Returns the migration versions this call applied (none when up to date).
    @discardableResult
    public func migrate() async throws(JournalError) -> [Int] {
        try await QueueSchema.migrate(db)
    }

    /// Closes the store's connections. Calls after it fail with `.storage`.
    public func shutdown() async {
        await db.shutdown()
    }

    /// Statements sent to PostgreSQL by this store so far (BEGIN and COMMIT included): the queue's cost per job step.
    public var statementCount: Int { db.statementCount }

    /// The run stops as a stopped or killed worker does: its heartbeat is set far
    /// in the past, so any other run takes its jobs over at once (contract tests).
    public func simulateCrash(of lease: RunLease) async throws(JournalError) {
        try await db.transaction("simulating a crash") { c in
            try await self.db.rows("UPDATE run SET heartbeat_at = now() - interval '1 day' WHERE id = \(lease.runID)", on: c)
        }
    }

    /// SQL for "run `alias` is alive now": not ended, heartbeat within the lease.
    private func alive(_ alias: String) -> String {
        "(\(alias).ended_at IS NULL AND \(alias).heartbeat_at > now() - make_interval(secs => \(leaseDuration)))"
    }

    // MARK: Workers

    public func beginRun() async throws(JournalError) -> RunLease {
        let pid = Int(ProcessInfo.processInfo.processIdentifier), host = ProcessInfo.processInfo.hostName
        let (id, started, tookOver) = try await db.transaction("starting a run") { c -> (Int64, Date, [RunInfo]) in
            let dead = try await self.db.rows(PostgresQuery(unsafeSQL: """
                UPDATE run r SET ended_at = now(), end_reason = 'stale: no heartbeat since ' || r.heartbeat_at
                WHERE r.ended_at IS NULL AND NOT \(self.alive("r"))
                RETURNING r.id, r.pid, r.host, r.started_at, r.heartbeat_at
                """), on: c).map(Self.runInfo)
            if !dead.isEmpty {
                try await self.db.rows("UPDATE job SET claimed_by = NULL WHERE claimed_by = ANY(\(dead.map(\.runID)))", on: c)
            }
            let row = try await self.db.rows("""
                INSERT INTO run (pid, host, started_at, heartbeat_at) VALUES (\(pid), \(host), now(), now()) RETURNING id, started_at
                """, on: c)
            guard let row = row.first else { throw JournalError(.storage, "the new run got no id") }
            let (id, started) = try row.decode((Int64, Date).self)
            return (id, started, dead.sorted { $0.runID < $1.runID })
        }
        return RunLease(runID: id, pid: Int32(truncatingIfNeeded: pid), host: host, startedAt: started, tookOver: tookOver)
    }

    public func heartbeat(_ lease: RunLease) async throws(JournalError) {
        let renewed = try await db.transaction("renewing the lease of run \(lease.runID)") { c in
            try await self.db.rows(PostgresQuery(unsafeSQL: """
                UPDATE run r SET heartbeat_at = now() WHERE r.id = \(lease.runID) AND \(self.alive("r")) RETURNING r.id
                """), on: c).count
        }
        if renewed == 0 {
            throw JournalError(.leaseLost, "run \(lease.runID) was declared dead (no heartbeat within \(leaseDuration) s, or ended); its claims may belong to another worker now")
        }
    }

    public func endRun(_ lease: RunLease, as end: RunEnd) async throws(JournalError) {
        try await db.transaction("ending run \(lease.runID)") { c in
            try await self.db.rows("""
                UPDATE run SET ended_at = now(), end_reason = \(end.rawValue) WHERE id = \(lease.runID) AND ended_at IS NULL
                """, on: c)
            try await self.db.rows("UPDATE job SET claimed_by = NULL WHERE claimed_by = \(lease.runID)", on: c)
        }
    }

    /// Fails with `.leaseLost` unless run `runID` is alive (inside a claiming transaction).
    private func requireLive(_ runID: Int64, _ c: PostgresConnection) async throws {
        let rows = try await db.rows(PostgresQuery(unsafeSQL: "SELECT 1 FROM run r WHERE r.id = \(runID) AND \(alive("r"))"), on: c)
        if rows.isEmpty { throw JournalError(.leaseLost, "run \(runID) was ended or declared dead") }
    }

    // MARK: Sources

    /// Where the queue's sources are kept: "postgres" (the `source` table) or an
    /// `s3://` location. The first call that names one records it, later ones must
    /// name the same (`.targetMismatch`): a worker never looks for sources where
    /// `enqueue` did not put them. Nil names none and returns what was recorded
    /// (nil while nothing was enqueued).
    public func bindSources(_ location: String?) async throws(JournalError) -> String? {
        try await db.transaction("binding the queue's source store") { c -> String? in
            try await self.db.rows("SELECT pg_advisory_xact_lock(\(QueueSchema.bindLock))", on: c)
            let recorded = try await self.db.rows("SELECT location FROM source_location WHERE id = 1", on: c).first
                .map { try $0.decode(String.self) }
            switch (recorded, location) {
            case let (recorded?, asked?) where recorded != asked:
                throw JournalError(.targetMismatch, "the queue's sources are kept in \(recorded), not \(asked): use --sources \(recorded) (or another queue)")
            case let (recorded?, _):
                return recorded
            case (nil, nil):
                return nil
            case let (nil, asked?):
                try await self.db.rows("INSERT INTO source_location (id, location) VALUES (1, \(asked))", on: c)
                return asked
            }
        }
    }

    // MARK: Target

    public func bind(to target: APITarget) async throws(JournalError) {
        let url = db.url
        try await db.transaction("binding the queue to its API target") { c in
            try await self.db.rows("SELECT pg_advisory_xact_lock(\(QueueSchema.bindLock))", on: c)
            let recorded = try await self.targetFields(c)
            if recorded.isEmpty {
                for (field, value) in target.fields {
                    try await self.db.rows("INSERT INTO target (field, value) VALUES (\(field), \(value))", on: c)
                }
                return
            }
            guard let bound = APITarget(fields: recorded), bound != target else { return }
            throw JournalError(.targetMismatch, """
                the queue \(url) records uploads to \(bound), but this run is configured for \(target). \
                Its asset ids mean nothing there: use another queue database for that target, or fix the configuration
                """)
        }
    }

    public func boundTarget() async throws(JournalError) -> APITarget? {
        try await db.read("reading the queue's API target") { c in APITarget(fields: try await self.targetFields(c)) }
    }

    private func targetFields(_ c: PostgresConnection) async throws -> [String: String] {
        var fields: [String: String] = [:]
        for row in try await db.rows("SELECT field, value FROM target", on: c) {
            let (field, value) = try row.decode((String, String).self)
            fields[field] = value
        }
        return fields
    }

    // MARK: Jobs

    public func plan(_ plan: JobPlan) async throws(JournalError) -> PlanOutcome {
        try await db.transaction("planning job \(plan.key.prefix(12))") { c in
            // Two tries: a job planned by another worker between our read and our insert is then read as known.
            for _ in 0..<2 {
                let existing = try await self.loadJob(plan.key, lock: true, c)
                let (job, outcome) = JournalRules.plan(plan, existing: existing, now: Date())
                switch outcome {
                case .alreadyDone:
                    return outcome
                case .resumed:
                    try await self.db.rows("""
                        UPDATE job SET source_path = \(job.plan.sourcePath), manifest_path = \(job.plan.manifestPath),
                            batch = \(job.plan.batch), payload = \(job.plan.payload.map { ByteBuffer(bytes: $0) }),
                            error = NULL, attempts = \(job.attempts), updated_at = \(job.updatedAt)
                        WHERE key = \(plan.key)
                        """, on: c)
                    return outcome
                case .new:
                    let inserted = try await self.db.rows("""
                        INSERT INTO job (key, manifest_path, role, target, source_path, source_sha256, batch, payload, step, planned_at, updated_at)
                        VALUES (\(plan.key), \(plan.manifestPath), \(plan.role), \(plan.target), \(plan.sourcePath), \(plan.sourceSHA256),
                                \(plan.batch), \(plan.payload.map { ByteBuffer(bytes: $0) }), \(JobStep.planned.rawValue), \(job.plannedAt), \(job.updatedAt))
                        ON CONFLICT (key) DO NOTHING RETURNING key
                        """, on: c)
                    if !inserted.isEmpty { return outcome }
                }
            }
            throw JournalError(.storage, "job \(plan.key.prefix(12)) could not be planned (it changed under us twice)")
        }
    }

    public func claim(_ keys: [String], for lease: RunLease) async throws(JournalError) -> [JobClaim] {
        guard !keys.isEmpty else { return [] }
        let claims = try await db.transaction("claiming \(keys.count) jobs") { c -> [JobClaim] in
            try await self.requireLive(lease.runID, c)
            // Named jobs are locked in key order (two claimers never deadlock) and
            // waited for rather than skipped: a row is locked only for a moment by a write.
            return try await self.db.rows(PostgresQuery(unsafeSQL: """
                WITH picked AS (
                    SELECT j.key FROM job j LEFT JOIN run r ON r.id = j.claimed_by
                    WHERE j.key = ANY($1) AND j.step <> 'done' AND (j.claimed_by IS NULL OR r.id IS NULL OR NOT \(self.alive("r")))
                    ORDER BY j.key
                    FOR UPDATE OF j
                )
                UPDATE job SET fence = job.fence + 1, claimed_by = $2 FROM picked WHERE job.key = picked.key
                RETURNING job.key, job.fence
                """, binds: try Self.binds(keys, lease.runID)), on: c).map { row in
                let (key, fence) = try row.decode((String, Int64).self)
                return JobClaim(jobKey: key, runID: lease.runID, fence: fence)
            }
        }
        let byKey = Dictionary(claims.map { ($0.jobKey, $0) }, uniquingKeysWith: { a, _ in a })
        var seen = Set<String>()
        return keys.compactMap { key in seen.insert(key).inserted ? byKey[key] : nil }
    }

    public func claimNext(limit: Int, for lease: RunLease) async throws(JournalError) -> [JobClaim] {
        guard limit > 0 else { return [] }
        return try await db.transaction("claiming up to \(limit) jobs") { c -> [JobClaim] in
            try await self.requireLive(lease.runID, c)
            // SKIP LOCKED: rows another worker is claiming right now are passed over, never waited for.
            let rows = try await self.db.rows(PostgresQuery(unsafeSQL: """
                WITH picked AS (
                    SELECT j.key FROM job j
                    WHERE j.step <> 'done' AND j.error IS NULL
                      AND (j.claimed_by IS NULL OR NOT EXISTS (SELECT 1 FROM run r WHERE r.id = j.claimed_by AND \(self.alive("r"))))
                    ORDER BY j.seq
                    LIMIT $1
                    FOR UPDATE OF j SKIP LOCKED
                )
                UPDATE job SET fence = job.fence + 1, claimed_by = $2 FROM picked WHERE job.key = picked.key
                RETURNING job.key, job.fence, job.seq
                """, binds: try Self.binds(limit, lease.runID)), on: c)
            return try rows.map { row -> (Int64, JobClaim) in
                let (key, fence, seq) = try row.decode((String, Int64, Int64).self)
                return (seq, JobClaim(jobKey: key, runID: lease.runID, fence: fence))
            }.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    public func release(_ claim: JobClaim) async throws(JournalError) {
        try await db.transaction("releasing job \(claim.jobKey.prefix(12))") { c in
            try await self.db.rows("""
                UPDATE job SET claimed_by = NULL WHERE key = \(claim.jobKey) AND fence = \(claim.fence) AND claimed_by = \(claim.runID)
                """, on: c)
        }
    }

    /// Locks the job row and refuses the write unless `claim` is still the job's and its run alive.
    private func checkFence(_ claim: JobClaim, _ c: PostgresConnection) async throws -> JournalJob {
        let rows = try await db.rows(PostgresQuery(unsafeSQL: """
            SELECT j.*, (r.id IS NOT NULL AND \(alive("r"))) AS holder_alive
            FROM job j LEFT JOIN run r ON r.id = j.claimed_by WHERE j.key = $1 FOR UPDATE OF j
            """, binds: try Self.binds(claim.jobKey)), on: c)
        guard let row = rows.first else { throw JournalError(.unknownJob, "no job \(claim.jobKey.prefix(12)) in the queue") }
        let cells = row.makeRandomAccess()
        let fence = try cells["fence"].decode(Int64.self), holder = try cells["claimed_by"].decode(Int64?.self)
        let holderAlive = try cells["holder_alive"].decode(Bool.self)
        guard fence == claim.fence, holder == claim.runID, holderAlive else {
            throw JournalError(.fenced, "job \(claim.jobKey.prefix(12)): claim \(claim.fence) of run \(claim.runID) is no longer the job's; the write was refused")
        }
        return try Self.journalJob(cells, items: try await loadItems(claim.jobKey, c))
    }

    public func record(_ step: JournalStep, under claim: JobClaim) async throws(JournalError) {
        try await db.transaction("recording a step of job \(claim.jobKey.prefix(12))") { c in
            let before = try await self.checkFence(claim, c)
            let (after, abandoned) = try JournalRules.apply(step, to: before, now: Date())
            try await self.store(after, replacing: before, c)
            for asset in abandoned { try await self.insertAbandoned(asset, c) }
        }
    }

    public func recordAbandoned(assetID: Int, item: Int?, reason: String, under claim: JobClaim) async throws(JournalError) {
        try await db.transaction("recording an abandoned asset of job \(claim.jobKey.prefix(12))") { c in
            _ = try await self.checkFence(claim, c)
            try await self.insertAbandoned(AbandonedAsset(assetID: assetID, jobKey: claim.jobKey, position: item, reason: reason, at: Date()), c)
        }
    }

    /// On a connection of its own (a holder may wait and call the API for a while,
    /// and must not take a pooled connection the heartbeat needs): BEGIN, the
    /// transaction-scoped advisory lock of `name`, `body`, the fenced record, COMMIT.
    /// Every step but `body` has a deadline. A failure before `body` ran is a
    /// `.storage` error (nothing happened; safe to try again); one after it is
    /// `LockedStepNotRecorded` (the body's effect is real, its record is not). A
    /// holder that is stopped or cut off mid-body has its session ended by the
    /// server once it has been idle in the transaction too long, which frees the lock.
    public func recordHoldingLock<T: Sendable>(_ name: String, under claim: JobClaim,
                                               _ body: @escaping @Sendable () async throws -> (T, JournalStep)) async throws -> T {
        let idleLimit = Int(max(2 * leaseDuration, 60) * 1000)
        let lockWaitLimit = idleLimit + 30_000
        let c = try await db.openOwnConnection("taking the lock \(name)")
        defer { QueueDatabase.closeWithoutWaiting(c) }
        do {
            try await db.bounded("taking the lock \(name)", within: .milliseconds(lockWaitLimit + 5_000)) {
                try await self.db.rows("BEGIN", on: c)
                try await self.db.rows(PostgresQuery(unsafeSQL: "SET LOCAL idle_in_transaction_session_timeout = \(idleLimit)"), on: c)
                try await self.db.rows(PostgresQuery(unsafeSQL: "SET LOCAL lock_timeout = \(lockWaitLimit)"), on: c)
                try await self.db.rows("SELECT pg_advisory_xact_lock(\(QueueSchema.namedLockClass), hashtext(\(name)))", on: c)
            }
        } catch {
            if QueueDatabase.sqlState(error) == "55P03" || error.message.contains("55P03") {
                throw JournalError(.busy, "the lock \(name) was held by another worker for too long")
            }
            throw error
        }
        let (value, step) = try await body()
        do {
            try await db.bounded("recording a step of job \(claim.jobKey.prefix(12)) under the lock \(name)") {
                let before = try await self.checkFence(claim, c)
                let (after, abandoned) = try JournalRules.apply(step, to: before, now: Date())
                try await self.store(after, replacing: before, c)
                for asset in abandoned { try await self.insertAbandoned(asset, c) }
                try await self.db.rows("COMMIT", on: c)
            }
        } catch {
            throw LockedStepNotRecorded(error: error)
        }
        return value
    }

    /// Writes what `JournalRules` changed: the job row, and the images that differ.
    private func store(_ job: JournalJob, replacing old: JournalJob, _ c: PostgresConnection) async throws {
        let key = job.plan.key
        try await db.rows("""
            UPDATE job SET step = \(job.step.rawValue), error = \(job.error), attempts = \(job.attempts), attached_to = \(job.attachedTo),
                attach_intent = \(job.attachIntent), possibly_orphaned = \(job.possiblyOrphaned), updated_at = \(job.updatedAt),
                done_at = \(job.doneAt)
            WHERE key = \(key)
            """, on: c)
        let oldItems = Dictionary(old.items.map { ($0.position, $0) }, uniquingKeysWith: { a, _ in a })
        let positions = job.items.map(\.position)
        let gone = old.items.map(\.position).filter { !positions.contains($0) }
        if !gone.isEmpty {
            try await db.rows("DELETE FROM item WHERE job_key = \(key) AND position = ANY(\(gone))", on: c)
        }
        for item in job.items where oldItems[item.position] != item {
            let json = String(decoding: try JSONEncoder().encode(item.record), as: UTF8.self)
            try await db.rows("""
                INSERT INTO item (job_key, position, record, sha256, size, content_type, type, step, error, classy_asset_id,
                    upload_url, url_issued_at, url_expires_at, uploaded_at, updated_at)
                VALUES (\(key), \(item.position), \(json), \(item.record.sha256), \(item.record.size), \(item.record.contentType),
                    \(item.record.type), \(item.step.rawValue), \(item.error), \(item.classyAssetID), \(item.uploadURL),
                    \(item.urlIssuedAt), \(item.urlExpiresAt), \(item.uploadedAt), \(job.updatedAt))
                ON CONFLICT (job_key, position) DO UPDATE SET record = EXCLUDED.record, sha256 = EXCLUDED.sha256, size = EXCLUDED.size,
                    content_type = EXCLUDED.content_type, type = EXCLUDED.type, step = EXCLUDED.step, error = EXCLUDED.error,
                    classy_asset_id = EXCLUDED.classy_asset_id, upload_url = EXCLUDED.upload_url, url_issued_at = EXCLUDED.url_issued_at,
                    url_expires_at = EXCLUDED.url_expires_at, uploaded_at = EXCLUDED.uploaded_at, updated_at = EXCLUDED.updated_at
                """, on: c)
        }
    }

    private func insertAbandoned(_ asset: AbandonedAsset, _ c: PostgresConnection) async throws {
        try await db.rows("""
            INSERT INTO abandoned_asset (asset_id, job_key, position, reason, at)
            VALUES (\(asset.assetID), \(asset.jobKey), \(asset.position), \(asset.reason), \(asset.at))
            """, on: c)
    }

    // MARK: Reading

    public func job(key: String) async throws(JournalError) -> JournalJob? {
        try await db.read("reading job \(key.prefix(12))") { c in try await self.loadJob(key, lock: false, c) }
    }

    public func incompleteJobs() async throws(JournalError) -> [JournalJob] {
        try await db.read("reading the incomplete jobs") { c in
            let jobs = try await self.db.rows("SELECT * FROM job WHERE step <> 'done' ORDER BY seq", on: c)
            var items: [String: [JournalItem]] = [:]
            for row in try await self.db.rows("""
                SELECT item.* FROM item JOIN job ON job.key = item.job_key WHERE job.step <> 'done' ORDER BY item.job_key, item.position
                """, on: c) {
                let item = try Self.journalItem(row.makeRandomAccess())
                items[item.jobKey, default: []].append(item)
            }
            return try jobs.map { row in
                let cells = row.makeRandomAccess()
                return try Self.journalJob(cells, items: items[try cells["key"].decode(String.self)] ?? [])
            }
        }
    }

    public func allAssets(batch: String?) async throws(JournalError) -> [JournalItem] {
        try await db.read("reading the assets") { c in
            try await self.db.rows("""
                SELECT item.* FROM item JOIN job ON job.key = item.job_key WHERE (\(batch)::text IS NULL OR job.batch = \(batch))
                ORDER BY job.seq, item.position
                """, on: c)
                .map { try Self.journalItem($0.makeRandomAccess()) }
        }
    }

    public func abandonedAssets() async throws(JournalError) -> [AbandonedAsset] {
        try await db.read("reading the abandoned assets") { c in
            try await self.db.rows("SELECT asset_id, job_key, position, reason, at FROM abandoned_asset ORDER BY id", on: c).map { row in
                let (id, key, position, reason, at) = try row.decode((Int, String, Int?, String, Date).self)
                return AbandonedAsset(assetID: id, jobKey: key, position: position, reason: reason, at: at)
            }
        }
    }

    public func status(batch: String?) async throws(JournalError) -> JournalStatus {
        // One snapshot, so the counts agree with each other while workers write.
        try await db.transaction("reading the queue's status") { c in
            try await self.db.rows("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", on: c)
            // Every count below is of the batch's jobs (all jobs when `batch` is nil): $1.
            let inBatch = "($1::text IS NULL OR job.batch = $1)"
            var scope = PostgresBindings()
            try scope.append(batch)
            func counts(_ sql: String) async throws -> [String: Int] {
                var result: [String: Int] = [:]
                for row in try await self.db.rows(PostgresQuery(unsafeSQL: sql, binds: scope), on: c) {
                    let (state, n) = try row.decode((String, Int).self)
                    result[state] = n
                }
                return result
            }
            let jobCounts = try await counts("""
                SELECT CASE WHEN error IS NULL THEN step ELSE 'failed' END AS state, COUNT(*) FROM job WHERE \(inBatch) GROUP BY 1
                """)
            let itemCounts = try await counts("""
                SELECT CASE WHEN item.error IS NULL THEN item.step ELSE 'failed' END AS state, COUNT(*)
                FROM item JOIN job ON job.key = item.job_key WHERE \(inBatch) GROUP BY 1
                """)
            let failures = try await self.db.rows(PostgresQuery(unsafeSQL: """
                SELECT key, role, target, source_path, error, updated_at FROM job WHERE error IS NOT NULL AND \(inBatch) ORDER BY updated_at, seq
                """, binds: scope), on: c).map { row in
                let (key, role, target, path, error, at) = try row.decode((String, String, String, String, String, Date).self)
                return JournalStatus.Failure(jobKey: key, role: role, target: target, sourcePath: path, error: error, at: at)
            }
            let active = try await self.db.rows(PostgresQuery(unsafeSQL: """
                SELECT r.id, r.pid, r.host, r.started_at, r.heartbeat_at, (SELECT COUNT(*) FROM job WHERE claimed_by = r.id)
                FROM run r WHERE \(self.alive("r")) ORDER BY r.id
                """), on: c).map { row in
                var info = try Self.runInfo(row)
                info.claimedJobs = try row.makeRandomAccess()[5].decode(Int.self)
                return info
            }
            let summary = try await self.db.rows(PostgresQuery(unsafeSQL: """
                SELECT (SELECT end_reason FROM run WHERE ended_at IS NOT NULL ORDER BY ended_at DESC, id DESC LIMIT 1),
                       (SELECT COUNT(*) FROM job WHERE step <> 'done' AND \(inBatch)),
                       (SELECT MAX(item.uploaded_at) FROM item JOIN job ON job.key = item.job_key WHERE \(inBatch)),
                       (SELECT COUNT(*) FROM abandoned_asset a JOIN job ON job.key = a.job_key WHERE \(inBatch)),
                       (SELECT COALESCE(SUM(possibly_orphaned), 0)::bigint FROM job WHERE \(inBatch))
                """, binds: scope), on: c)
            guard let first = summary.first else { throw JournalError(.storage, "the status query returned nothing") }
            let (lastEnd, incomplete, lastUpload, abandoned, orphaned) = try first.decode((String?, Int, Date?, Int, Int).self)
            return JournalStatus(jobCounts: jobCounts, itemCounts: itemCounts, failures: failures, lastSuccessfulUpload: lastUpload,
                                 activeRuns: active, paused: active.isEmpty && lastEnd == RunEnd.paused.rawValue && incomplete > 0,
                                 abandonedCount: abandoned, possiblyOrphanedCount: orphaned)
        }
    }

    // MARK: Rows

    private func loadJob(_ key: String, lock: Bool, _ c: PostgresConnection) async throws -> JournalJob? {
        let rows = try await db.rows(PostgresQuery(unsafeSQL: "SELECT * FROM job WHERE key = $1\(lock ? " FOR UPDATE" : "")",
                                                   binds: try Self.binds(key)), on: c)
        guard let row = rows.first else { return nil }
        return try Self.journalJob(row.makeRandomAccess(), items: try await loadItems(key, c))
    }

    private func loadItems(_ key: String, _ c: PostgresConnection) async throws -> [JournalItem] {
        try await db.rows("SELECT * FROM item WHERE job_key = \(key) ORDER BY position", on: c).map { try Self.journalItem($0.makeRandomAccess()) }
    }

    static func binds(_ values: any PostgresDynamicTypeEncodable...) throws -> PostgresBindings {
        var binds = PostgresBindings()
        for value in values { binds.append(value) }
        return binds
    }

    static func step(_ text: String) throws -> JobStep {
        guard let step = JobStep(rawValue: text) else { throw JournalError(.storage, "unknown step '\(text)' in the queue") }
        return step
    }

    static func runInfo(_ row: PostgresRow) throws -> RunInfo {
        let cells = row.makeRandomAccess()
        return RunInfo(runID: try cells[0].decode(Int64.self), pid: Int32(truncatingIfNeeded: try cells[1].decode(Int.self)),
                       host: try cells[2].decode(String.self), startedAt: try cells[3].decode(Date.self),
                       heartbeatAt: try cells[4].decode(Date.self))
    }

    static func journalJob(_ cells: PostgresRandomAccessRow, items: [JournalItem]) throws -> JournalJob {
        JournalJob(
            plan: JobPlan(key: try cells["key"].decode(String.self), manifestPath: try cells["manifest_path"].decode(String?.self),
                          role: try cells["role"].decode(String.self), target: try cells["target"].decode(String.self),
                          sourcePath: try cells["source_path"].decode(String.self), sourceSHA256: try cells["source_sha256"].decode(String.self),
                          batch: try cells["batch"].decode(String?.self), payload: try cells["payload"].decode(Data?.self)),
            step: try step(try cells["step"].decode(String.self)), error: try cells["error"].decode(String?.self),
            attempts: try cells["attempts"].decode(Int.self), attachedTo: try cells["attached_to"].decode(String?.self),
            attachIntent: try cells["attach_intent"].decode(String?.self), possiblyOrphaned: try cells["possibly_orphaned"].decode(Int.self),
            plannedAt: try cells["planned_at"].decode(Date.self), updatedAt: try cells["updated_at"].decode(Date.self),
            doneAt: try cells["done_at"].decode(Date?.self), items: items)
    }

    static func journalItem(_ cells: PostgresRandomAccessRow) throws -> JournalItem {
        let json = try cells["record"].decode(String.self)
        let record: AssetRecord
        do {
            record = try JSONDecoder().decode(AssetRecord.self, from: Data(json.utf8))
        } catch {
            throw JournalError(.storage, "unreadable asset record in the queue: \(error)")
        }
        return JournalItem(jobKey: try cells["job_key"].decode(String.self), position: try cells["position"].decode(Int.self), record: record,
                           step: try step(try cells["step"].decode(String.self)), classyAssetID: try cells["classy_asset_id"].decode(Int?.self),
                           uploadURL: try cells["upload_url"].decode(String?.self), urlIssuedAt: try cells["url_issued_at"].decode(Date?.self),
                           urlExpiresAt: try cells["url_expires_at"].decode(Date?.self), uploadedAt: try cells["uploaded_at"].decode(Date?.self),
                           error: try cells["error"].decode(String?.self))
    }
}
