@_exported import AssetJobs
import ClassyVocabulary
import Foundation
import GRDB
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The journal in one SQLite file (GRDB), for runs on one machine.
///
/// - WAL mode (GRDB's `DatabasePool`): readers (`status` from another terminal)
///   never block the runner, and a writer killed mid-transaction leaves only
///   uncommitted WAL frames, which SQLite ignores on the next open.
/// - `synchronous = FULL`: a committed step survives power loss too, not just a killed process.
/// - Every `record` is one transaction, so a job is always at one step, never between two.
/// - The `async` methods run SQLite on the journal's own serial queue, off Swift's
///   cooperative threads, and are not cancellable (GRDB's async writes give up
///   when the task is cancelled; a Ctrl-C that cancels the runner must still get
///   its last steps, and the pause, recorded).
/// - Several runs may share the journal (two `upload`s of one manifest split its
///   jobs): each works only under per-job claims with fences (see `JobStore`).
///   A run on this machine is alive while it holds the `flock` on its own lock
///   file `<journal>.run-<id>.lock`, which the kernel drops when the process dies,
///   even by `kill -9`, so its jobs are taken over at once; a run on another host
///   (a journal on a shared disk) is alive while its heartbeat is younger than `staleAfter`.
public final class SQLiteJournal: JobStore {
    public let path: String
    /// A run on another host whose heartbeat is older than this is taken to be dead.
    public let staleAfter: TimeInterval
    private let pool: DatabasePool
    /// The lock-file descriptors of this process's live runs, by run id.
    private let runLocks = Mutex<[Int64: Int32]>([:])
    /// Where the blocking SQLite calls of the `async` methods run (see `write`).
    private let queue = DispatchQueue(label: "asset-worker.journal")

    public init(path: String, staleAfter: TimeInterval = 120) throws(JournalError) {
        self.path = path
        self.staleAfter = staleAfter
        // Created private to its owner before SQLite opens it: the journal holds
        // asset ids and, while an upload is under way, its pre-signed URL. SQLite
        // gives the -wal and -shm files the database file's mode.
        try Self.createPrivately(path)
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // Only a journal that needs it is migrated: migrating takes the write lock,
            // and `status` opened beside a starting `upload` should not compete for it.
            let migrator = Self.migrator
            if try !pool.read({ db in try migrator.hasCompletedMigrations(db) }) {
                try migrator.migrate(pool)
            }
        } catch {
            throw JournalError(.corrupt, "cannot open the journal \(path): \(error). \(Self.corruptAdvice(path))")
        }
        let check = try integrityCheck()
        guard check == "ok" else {
            throw JournalError(.corrupt, "the journal \(path) is damaged (integrity check: \(check.prefix(200))). \(Self.corruptAdvice(path))")
        }
    }

    static func corruptAdvice(_ path: String) -> String {
        "Nothing was uploaded. Move it aside (keep it to find the assets it recorded) and run again to start a new journal, or restore it from a backup"
    }

    static func createPrivately(_ path: String) throws(JournalError) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw JournalError(.storage, "cannot create the journal \(path): \(String(cString: strerror(errno)))")
        }
        close(fd)
    }

    // MARK: Schema

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE job (
                    key TEXT PRIMARY KEY NOT NULL,
                    manifestPath TEXT,
                    role TEXT NOT NULL,
                    target TEXT NOT NULL,
                    sourcePath TEXT NOT NULL,
                    sourceSHA256 TEXT NOT NULL,
                    step TEXT NOT NULL,
                    error TEXT,
                    attempts INTEGER NOT NULL DEFAULT 1,
                    attachedTo TEXT,
                    plannedAt DATETIME NOT NULL,
                    updatedAt DATETIME NOT NULL,
                    doneAt DATETIME
                );
                CREATE TABLE item (
                    jobKey TEXT NOT NULL REFERENCES job(key) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    record TEXT NOT NULL,
                    sha256 TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    contentType TEXT NOT NULL,
                    type TEXT,
                    step TEXT NOT NULL,
                    error TEXT,
                    classyAssetID INTEGER,
                    uploadURL TEXT,
                    urlIssuedAt DATETIME,
                    urlExpiresAt DATETIME,
                    uploadedAt DATETIME,
                    updatedAt DATETIME NOT NULL,
                    PRIMARY KEY (jobKey, position)
                );
                CREATE INDEX item_uploadedAt ON item(uploadedAt);
                CREATE TABLE abandonedAsset (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    assetID INTEGER NOT NULL,
                    jobKey TEXT NOT NULL,
                    position INTEGER,
                    reason TEXT NOT NULL,
                    at DATETIME NOT NULL
                );
                CREATE TABLE run (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    pid INTEGER NOT NULL,
                    host TEXT NOT NULL,
                    startedAt DATETIME NOT NULL,
                    heartbeatAt DATETIME NOT NULL,
                    endedAt DATETIME,
                    endReason TEXT
                );
                """)
        }
        migrator.registerMigration("v2: target binding, attach intents, possibly orphaned pending assets") { db in
            try db.execute(sql: """
                ALTER TABLE job ADD COLUMN attachIntent TEXT;
                ALTER TABLE job ADD COLUMN possiblyOrphaned INTEGER NOT NULL DEFAULT 0;
                CREATE TABLE target (field TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                """)
        }
        migrator.registerMigration("v3: per-job claims with fences") { db in
            try db.execute(sql: """
                ALTER TABLE job ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE job ADD COLUMN claimedBy INTEGER;
                ALTER TABLE job ADD COLUMN batch TEXT;
                ALTER TABLE job ADD COLUMN payload BLOB;
                """)
        }
        return migrator
    }

    // MARK: Target

    public func bind(to target: APITarget) async throws(JournalError) {
        let path = path
        try await write { db in
            var recorded: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT field, value FROM target") { recorded[row["field"]] = row["value"] }
            if recorded.isEmpty {
                for (field, value) in target.fields {
                    try db.execute(sql: "INSERT INTO target (field, value) VALUES (?, ?)", arguments: [field, value])
                }
                return
            }
            guard let bound = APITarget(fields: recorded), bound != target else { return }
            throw JournalError(.targetMismatch, """
                the journal \(path) records uploads to \(bound), but this run is configured for \(target). \
                Its asset ids mean nothing there: use another --state-dir for that target, or fix the configuration
                """)
        }
    }

    /// The target the journal is bound to, if any.
    public func boundTarget() async throws(JournalError) -> APITarget? {
        try await read { db in
            var recorded: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT field, value FROM target") { recorded[row["field"]] = row["value"] }
            return APITarget(fields: recorded)
        }
    }

    /// Names of the tables, for tests and `verify`.
    public func tableNames() throws(JournalError) -> [String] {
        try readNow { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%' ORDER BY name") }
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    public func integrityCheck() throws(JournalError) -> String {
        try readNow { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "no answer" }
    }

    // MARK: Runs

    /// The lock file that says run `id` of this host is alive.
    func lockPath(ofRun id: Int64) -> String { "\(path).run-\(id).lock" }

    /// Whether a recorded, unended run is alive: on this host, while someone holds
    /// its lock file (pids get reused, locks do not outlive their process);
    /// elsewhere, while its heartbeat is fresh.
    func isAlive(_ run: RunInfo, now: Date) -> Bool {
        if run.host == RunLock.hostName { return RunLock.isHeld(lockPath(ofRun: run.runID)) }
        return now.timeIntervalSince(run.heartbeatAt) < staleAfter
    }

    /// Ends every unended run that is dead and releases its claims; returns them.
    func endDeadRuns(_ db: Database, now: Date) throws -> [RunInfo] {
        var dead: [RunInfo] = []
        for row in try Row.fetchAll(db, sql: "SELECT * FROM run WHERE endedAt IS NULL ORDER BY id") {
            let info = Self.runInfo(row)
            guard !isAlive(info, now: now) else { continue }
            let why = info.host == RunLock.hostName ? "stale: pid \(info.pid) no longer holds its lock" : "stale: no heartbeat since \(info.heartbeatAt)"
            try db.execute(sql: "UPDATE run SET endedAt = ?, endReason = ? WHERE id = ?", arguments: [now, why, info.runID])
            try db.execute(sql: "UPDATE job SET claimedBy = NULL WHERE claimedBy = ?", arguments: [info.runID])
            if info.host == RunLock.hostName { unlink(lockPath(ofRun: info.runID)) }
            dead.append(info)
        }
        return dead
    }

    public func beginRun() async throws(JournalError) -> RunLease {
        let pid = RunLock.pid, host = RunLock.hostName, now = Date()
        let (runID, tookOver) = try await write { db -> (Int64, [RunInfo]) in
            let tookOver = try self.endDeadRuns(db, now: now)
            try db.execute(sql: "INSERT INTO run (pid, host, startedAt, heartbeatAt) VALUES (?, ?, ?, ?)", arguments: [pid, host, now, now])
            let id = db.lastInsertedRowID
            // Locked before the row commits, so no other run ever sees this one without its lock.
            guard let fd = try RunLock.acquire(self.lockPath(ofRun: id)) else {
                throw JournalError(.storage, "the lock file \(self.lockPath(ofRun: id)) of a new run is already locked")
            }
            self.runLocks.withLock { $0[id] = fd }
            return (id, tookOver)
        }
        return RunLease(runID: runID, pid: pid, host: host, startedAt: now, tookOver: tookOver)
    }

    public func heartbeat(_ lease: RunLease) async throws(JournalError) {
        let changed = try await write { db in
            try db.execute(sql: "UPDATE run SET heartbeatAt = ? WHERE id = ? AND endedAt IS NULL", arguments: [Date(), lease.runID])
            return db.changesCount
        }
        if changed == 0 { throw JournalError(.leaseLost, "run \(lease.runID) no longer holds its claims (it was ended or declared dead)") }
    }

    public func endRun(_ lease: RunLease, as end: RunEnd) async throws(JournalError) {
        defer {
            if let fd = runLocks.withLock({ $0.removeValue(forKey: lease.runID) }) {
                unlink(lockPath(ofRun: lease.runID))
                RunLock.release(fd)
            }
        }
        try await write { db in
            try db.execute(sql: "UPDATE run SET endedAt = ?, endReason = ? WHERE id = ? AND endedAt IS NULL",
                           arguments: [Date(), end.rawValue, lease.runID])
            try db.execute(sql: "UPDATE job SET claimedBy = NULL WHERE claimedBy = ?", arguments: [lease.runID])
        }
    }

    /// The run stops as a killed process does (its lock is dropped, nothing is
    /// recorded), for the contract tests of takeover.
    public func simulateCrash(of lease: RunLease) {
        if let fd = runLocks.withLock({ $0.removeValue(forKey: lease.runID) }) { RunLock.release(fd) }
    }

    static func runInfo(_ row: Row) -> RunInfo {
        RunInfo(runID: row["id"], pid: row["pid"], host: row["host"], startedAt: row["startedAt"], heartbeatAt: row["heartbeatAt"])
    }

    // MARK: Claims

    /// Whether job `key` may be claimed now: not done, and its holder (if any) dead.
    func claimable(_ db: Database, key: String, now: Date, requireNoError: Bool) throws -> Bool {
        guard let row = try Row.fetchOne(db, sql: "SELECT step, error, claimedBy FROM job WHERE key = ?", arguments: [key]) else { return false }
        guard try Self.step(row["step"]) != .done else { return false }
        if requireNoError, (row["error"] as String?) != nil { return false }
        guard let holder: Int64 = row["claimedBy"] else { return true }
        guard let run = try Row.fetchOne(db, sql: "SELECT * FROM run WHERE id = ? AND endedAt IS NULL", arguments: [holder]).map(Self.runInfo)
        else { return true }
        return !isAlive(run, now: now)
    }

    func takeClaim(_ db: Database, key: String, lease: RunLease) throws -> JobClaim {
        try db.execute(sql: "UPDATE job SET fence = fence + 1, claimedBy = ? WHERE key = ?", arguments: [lease.runID, key])
        let fence = try Int64.fetchOne(db, sql: "SELECT fence FROM job WHERE key = ?", arguments: [key]) ?? 0
        return JobClaim(jobKey: key, runID: lease.runID, fence: fence)
    }

    func requireLive(_ db: Database, _ lease: RunLease) throws {
        guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM run WHERE id = ? AND endedAt IS NULL", arguments: [lease.runID]) == 1 else {
            throw JournalError(.leaseLost, "run \(lease.runID) was ended or declared dead")
        }
    }

    public func claim(_ keys: [String], for lease: RunLease) async throws(JournalError) -> [JobClaim] {
        try await write { db in
            try self.requireLive(db, lease)
            let now = Date()
            var claims: [JobClaim] = []
            for key in keys where try self.claimable(db, key: key, now: now, requireNoError: false) {
                claims.append(try self.takeClaim(db, key: key, lease: lease))
            }
            return claims
        }
    }

    public func claimNext(limit: Int, for lease: RunLease) async throws(JournalError) -> [JobClaim] {
        try await write { db in
            try self.requireLive(db, lease)
            let now = Date()
            var claims: [JobClaim] = []
            let keys = try String.fetchAll(db, sql: "SELECT key FROM job WHERE step != ? AND error IS NULL ORDER BY plannedAt, rowid",
                                           arguments: [JobStep.done.rawValue])
            for key in keys where claims.count < limit {
                if try self.claimable(db, key: key, now: now, requireNoError: true) {
                    claims.append(try self.takeClaim(db, key: key, lease: lease))
                }
            }
            return claims
        }
    }

    public func release(_ claim: JobClaim) async throws(JournalError) {
        try await write { db in
            try db.execute(sql: "UPDATE job SET claimedBy = NULL WHERE key = ? AND fence = ? AND claimedBy = ?",
                           arguments: [claim.jobKey, claim.fence, claim.runID])
        }
    }

    /// Refuses a write under a claim that is no longer the job's.
    static func checkFence(_ db: Database, _ claim: JobClaim) throws {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT job.fence, job.claimedBy, run.endedAt FROM job LEFT JOIN run ON run.id = job.claimedBy WHERE job.key = ?
            """, arguments: [claim.jobKey])
        else { throw JournalError(.unknownJob, "no job \(claim.jobKey.prefix(12)) in the journal") }
        let fence: Int64 = row["fence"], holder: Int64? = row["claimedBy"], ended: Date? = row["endedAt"]
        guard fence == claim.fence, holder == claim.runID, ended == nil else {
            throw JournalError(.fenced, "job \(claim.jobKey.prefix(12)): claim \(claim.fence) of run \(claim.runID) is no longer the job's; the write was refused")
        }
    }

    // MARK: Jobs

    public func plan(_ plan: JobPlan) async throws(JournalError) -> PlanOutcome {
        try await write { db in
            let existing = try Row.fetchOne(db, sql: "SELECT * FROM job WHERE key = ?", arguments: [plan.key]).map { try Self.journalJob($0, db) }
            let (job, outcome) = JournalRules.plan(plan, existing: existing, now: Date())
            switch outcome {
            case .alreadyDone:
                break
            case .resumed:
                try db.execute(sql: """
                    UPDATE job SET sourcePath = ?, manifestPath = ?, batch = ?, payload = ?, error = NULL, attempts = ?, updatedAt = ?
                    WHERE key = ?
                    """, arguments: [job.plan.sourcePath, job.plan.manifestPath, job.plan.batch, job.plan.payload, job.attempts,
                                     job.updatedAt, plan.key])
            case .new:
                try db.execute(sql: """
                    INSERT INTO job (key, manifestPath, role, target, sourcePath, sourceSHA256, batch, payload, step, plannedAt, updatedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [plan.key, plan.manifestPath, plan.role, plan.target, plan.sourcePath, plan.sourceSHA256,
                                     plan.batch, plan.payload, JobStep.planned.rawValue, job.plannedAt, job.updatedAt])
            }
            return outcome
        }
    }

    public func record(_ step: JournalStep, under claim: JobClaim) async throws(JournalError) {
        try await write { db in
            try Self.checkFence(db, claim)
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM job WHERE key = ?", arguments: [claim.jobKey]) else {
                throw JournalError(.unknownJob, "no job \(claim.jobKey.prefix(12)) in the journal")
            }
            let before = try Self.journalJob(row, db)
            let (after, abandoned) = try JournalRules.apply(step, to: before, now: Date())
            try Self.store(after, replacing: before, db: db)
            for asset in abandoned {
                try Self.insertAbandoned(db, assetID: asset.assetID, job: asset.jobKey, position: asset.position, reason: asset.reason, at: asset.at)
            }
        }
    }

    public func recordAbandoned(assetID: Int, item: Int?, reason: String, under claim: JobClaim) async throws(JournalError) {
        try await write { db in
            try Self.checkFence(db, claim)
            try Self.insertAbandoned(db, assetID: assetID, job: claim.jobKey, position: item, reason: reason, at: Date())
        }
    }

    /// Writes what `JournalRules` changed: the job row, and the images that differ.
    static func store(_ job: JournalJob, replacing old: JournalJob, db: Database) throws {
        let key = job.plan.key
        try db.execute(sql: """
            UPDATE job SET step = ?, error = ?, attempts = ?, attachedTo = ?, attachIntent = ?, possiblyOrphaned = ?,
                updatedAt = ?, doneAt = ?
            WHERE key = ?
            """, arguments: [job.step.rawValue, job.error, job.attempts, job.attachedTo, job.attachIntent, job.possiblyOrphaned,
                             job.updatedAt, job.doneAt, key])
        let oldItems = Dictionary(old.items.map { ($0.position, $0) }, uniquingKeysWith: { a, _ in a })
        let positions = Set(job.items.map(\.position))
        for gone in old.items where !positions.contains(gone.position) {
            try db.execute(sql: "DELETE FROM item WHERE jobKey = ? AND position = ?", arguments: [key, gone.position])
        }
        for item in job.items where oldItems[item.position] != item {
            let json = String(decoding: try JSONEncoder().encode(item.record), as: UTF8.self)
            try db.execute(sql: """
                INSERT OR REPLACE INTO item (jobKey, position, record, sha256, size, contentType, type, step, error,
                    classyAssetID, uploadURL, urlIssuedAt, urlExpiresAt, uploadedAt, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [key, item.position, json, item.record.sha256, item.record.size, item.record.contentType,
                                 item.record.type, item.step.rawValue, item.error, item.classyAssetID, item.uploadURL,
                                 item.urlIssuedAt, item.urlExpiresAt, item.uploadedAt, job.updatedAt])
        }
    }

    static func insertAbandoned(_ db: Database, assetID: Int, job key: String, position: Int?, reason: String, at: Date) throws {
        try db.execute(sql: "INSERT INTO abandonedAsset (assetID, jobKey, position, reason, at) VALUES (?, ?, ?, ?, ?)",
                       arguments: [assetID, key, position, reason, at])
    }

    // MARK: Reading

    public func job(key: String) async throws(JournalError) -> JournalJob? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM job WHERE key = ?", arguments: [key]).map { try Self.journalJob($0, db) }
        }
    }

    public func incompleteJobs() async throws(JournalError) -> [JournalJob] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM job WHERE step != ? ORDER BY plannedAt, rowid", arguments: [JobStep.done.rawValue])
                .map { try Self.journalJob($0, db) }
        }
    }

    public func allAssets(batch: String?) async throws(JournalError) -> [JournalItem] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT item.* FROM item JOIN job ON job.key = item.jobKey WHERE (? IS NULL OR job.batch = ?)
                ORDER BY job.plannedAt, job.rowid, item.position
                """, arguments: [batch, batch])
                .map(Self.journalItem)
        }
    }

    public func abandonedAssets() async throws(JournalError) -> [AbandonedAsset] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM abandonedAsset ORDER BY id").map { row in
                AbandonedAsset(assetID: row["assetID"], jobKey: row["jobKey"], position: row["position"], reason: row["reason"], at: row["at"])
            }
        }
    }

    /// An `flock`ed file per lock name beside the journal, so runs in other processes
    /// on this machine exclude each other too, and a killed holder's lock goes with it.
    public func recordHoldingLock<T: Sendable>(_ name: String, under claim: JobClaim,
                                               _ body: @escaping @Sendable () async throws -> (T, JournalStep)) async throws -> T {
        let safeName = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
        let lockFile = "\(path).lock-\(safeName)"
        var fd: Int32?
        // Polled, not blocking: a blocked flock would hold one of the few cooperative threads.
        while true {
            fd = try RunLock.acquire(lockFile)
            if fd != nil { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        defer { if let fd { RunLock.release(fd) } }
        let (value, step) = try await body()
        try await recordLockedStep(step, under: claim)
        return value
    }

    public func status(batch: String?) async throws(JournalError) -> JournalStatus {
        try await read { db in
            // Every count below is of the batch's jobs (all jobs when `batch` is nil).
            let inBatch = "(? IS NULL OR batch = ?)"
            let scope: StatementArguments = [batch, batch]
            func counts(_ sql: String) throws -> [String: Int] {
                var result: [String: Int] = [:]
                for row in try Row.fetchAll(db, sql: sql, arguments: scope) {
                    result[row["state"]] = row["n"]
                }
                return result
            }
            let jobCounts = try counts("SELECT CASE WHEN error IS NULL THEN step ELSE 'failed' END AS state, COUNT(*) AS n FROM job WHERE \(inBatch) GROUP BY state")
            let itemCounts = try counts("""
                SELECT CASE WHEN item.error IS NULL THEN item.step ELSE 'failed' END AS state, COUNT(*) AS n
                FROM item JOIN job ON job.key = item.jobKey WHERE \(inBatch) GROUP BY state
                """)
            let failures = try Row.fetchAll(db, sql: "SELECT * FROM job WHERE error IS NOT NULL AND \(inBatch) ORDER BY updatedAt, rowid",
                                            arguments: scope).map { row in
                JournalStatus.Failure(jobKey: row["key"], role: row["role"], target: row["target"], sourcePath: row["sourcePath"],
                                      error: row["error"], at: row["updatedAt"])
            }
            // A recorded run that is dead (killed, no heartbeat) is not active, ended or not.
            let now = Date()
            var active: [RunInfo] = []
            for row in try Row.fetchAll(db, sql: "SELECT * FROM run WHERE endedAt IS NULL ORDER BY id") {
                var info = Self.runInfo(row)
                guard self.isAlive(info, now: now) else { continue }
                info.claimedJobs = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM job WHERE claimedBy = ?", arguments: [info.runID]) ?? 0
                active.append(info)
            }
            let lastEnd = try String.fetchOne(db, sql: "SELECT endReason FROM run WHERE endedAt IS NOT NULL ORDER BY endedAt DESC, id DESC LIMIT 1")
            let incomplete = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM job WHERE step != ? AND \(inBatch)",
                                              arguments: [JobStep.done.rawValue, batch, batch]) ?? 0
            return JournalStatus(
                jobCounts: jobCounts, itemCounts: itemCounts, failures: failures,
                lastSuccessfulUpload: try Date.fetchOne(db, sql: "SELECT MAX(item.uploadedAt) FROM item JOIN job ON job.key = item.jobKey WHERE \(inBatch)",
                                                        arguments: scope),
                activeRuns: active,
                paused: active.isEmpty && lastEnd == RunEnd.paused.rawValue && incomplete > 0,
                abandonedCount: try Int.fetchOne(db, sql: """
                    SELECT COUNT(*) FROM abandonedAsset WHERE (? IS NULL OR jobKey IN (SELECT key FROM job WHERE batch = ?))
                    """, arguments: scope) ?? 0,
                possiblyOrphanedCount: try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(possiblyOrphaned), 0) FROM job WHERE \(inBatch)",
                                                        arguments: scope) ?? 0)
        }
    }

    // MARK: Rows

    static func step(_ text: String) throws -> JobStep {
        guard let step = JobStep(rawValue: text) else { throw JournalError(.storage, "unknown step '\(text)' in the journal") }
        return step
    }

    static func journalJob(_ row: Row, _ db: Database) throws -> JournalJob {
        let key: String = row["key"]
        let items = try Row.fetchAll(db, sql: "SELECT * FROM item WHERE jobKey = ? ORDER BY position", arguments: [key]).map(journalItem)
        return JournalJob(
            plan: JobPlan(key: key, manifestPath: row["manifestPath"], role: row["role"], target: row["target"],
                          sourcePath: row["sourcePath"], sourceSHA256: row["sourceSHA256"], batch: row["batch"], payload: row["payload"]),
            step: try step(row["step"]), error: row["error"], attempts: row["attempts"], attachedTo: row["attachedTo"],
            attachIntent: row["attachIntent"], possiblyOrphaned: row["possiblyOrphaned"] ?? 0,
            plannedAt: row["plannedAt"], updatedAt: row["updatedAt"], doneAt: row["doneAt"], items: items)
    }

    static func journalItem(_ row: Row) throws -> JournalItem {
        let json: String = row["record"]
        let record: AssetRecord
        do {
            record = try JSONDecoder().decode(AssetRecord.self, from: Data(json.utf8))
        } catch {
            throw JournalError(.storage, "unreadable asset record in the journal: \(error)")
        }
        return JournalItem(jobKey: row["jobKey"], position: row["position"], record: record, step: try step(row["step"]),
                           classyAssetID: row["classyAssetID"], uploadURL: row["uploadURL"], urlIssuedAt: row["urlIssuedAt"],
                           urlExpiresAt: row["urlExpiresAt"], uploadedAt: row["uploadedAt"], error: row["error"])
    }

    /// Raw SQL, for tests that need to set up states no runner would write (a run left by a dead pid).
    func executeForTesting(_ sql: String) throws(JournalError) {
        try writeNow { db in try db.execute(sql: sql) }
    }

    // MARK: Access

    private func writeNow<T>(_ body: (Database) throws -> T) throws(JournalError) -> T {
        do {
            return try pool.write(body)
        } catch let error as JournalError {
            throw error
        } catch {
            throw JournalError(.storage, "writing the journal \(path) failed: \(error)")
        }
    }

    private func readNow<T>(_ body: (Database) throws -> T) throws(JournalError) -> T {
        do {
            return try pool.read(body)
        } catch let error as JournalError {
            throw error
        } catch {
            throw JournalError(.storage, "reading the journal \(path) failed: \(error)")
        }
    }

    /// `writeNow` on the journal's own thread. SQLite blocks (a commit with
    /// `synchronous = FULL` waits for an fsync), and blocking one of Swift's
    /// cooperative threads (one per core) stalls every other task of the run.
    /// Not cancellable on purpose: a Ctrl-C that cancels the runner must still
    /// get its last steps, and the pause, recorded.
    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(JournalError) -> T {
        try await onJournalQueue { () throws(JournalError) -> T in try self.writeNow(body) }
    }

    /// `readNow` on the journal's own thread (WAL reads do not wait for the writer, but still touch the disk).
    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(JournalError) -> T {
        try await onJournalQueue { () throws(JournalError) -> T in try self.readNow(body) }
    }

    private func onJournalQueue<T: Sendable>(_ work: @escaping @Sendable () throws(JournalError) -> T) async throws(JournalError) -> T {
        let result: Result<T, JournalError> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result(catching: work)) }
        }
        return try result.get()
    }
}
