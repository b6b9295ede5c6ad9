import ClassyAPI
import Foundation
import GRDB
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
/// - One run at a time: `RunLock` (a `flock` on `<journal>.lock`) plus a `run` row.
public final class SQLiteJournal: JournalStore {
    public let path: String
    public let lockPath: String
    /// A run on another host whose heartbeat is older than this is taken to be dead.
    public let staleAfter: TimeInterval
    private let pool: DatabasePool
    /// Where the blocking SQLite calls of the `async` methods run (see `write`).
    private let queue = DispatchQueue(label: "asset-worker.journal")

    public init(path: String, staleAfter: TimeInterval = 120) throws(JournalError) {
        self.path = path
        self.lockPath = path + ".lock"
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

    public func beginRun() async throws(JournalError) -> RunLease {
        guard let fd = try RunLock.acquire(lockPath) else {
            let holder = try? await read { db in try Self.activeRunRow(db) }
            throw JournalError(.busy, Self.busyMessage(holder ?? nil, path: path))
        }
        let pid = RunLock.pid, host = RunLock.hostName, now = Date()
        let staleAfter = staleAfter
        do {
            let (runID, tookOver) = try await write { db -> (Int64, RunInfo?) in
                var tookOver: RunInfo?
                for row in try Row.fetchAll(db, sql: "SELECT * FROM run WHERE endedAt IS NULL") {
                    let info = Self.runInfo(row)
                    // On this host the flock is the truth: we hold it, so the recorded
                    // run is gone (killed, crashed) whatever its pid says now (pids get reused).
                    // On another host only the heartbeat can tell.
                    if info.host != host, now.timeIntervalSince(info.heartbeatAt) < staleAfter {
                        throw JournalError(.busy, Self.busyMessage(info, path: self.path))
                    }
                    let why = info.host == host
                        ? (RunLock.processIsAlive(info.pid) && info.pid != pid ? "stale: pid \(info.pid) no longer holds the lock" : "stale: pid \(info.pid) is not running")
                        : "stale: no heartbeat since \(info.heartbeatAt)"
                    try db.execute(sql: "UPDATE run SET endedAt = ?, endReason = ? WHERE id = ?", arguments: [now, why, info.runID])
                    tookOver = info
                }
                try db.execute(sql: "INSERT INTO run (pid, host, startedAt, heartbeatAt) VALUES (?, ?, ?, ?)", arguments: [pid, host, now, now])
                return (db.lastInsertedRowID, tookOver)
            }
            return RunLease(runID: runID, pid: pid, host: host, startedAt: now, tookOver: tookOver, lockDescriptor: fd)
        } catch {
            RunLock.release(fd)
            throw error
        }
    }

    public func heartbeat(_ lease: RunLease) async throws(JournalError) {
        let changed = try await write { db in
            try db.execute(sql: "UPDATE run SET heartbeatAt = ? WHERE id = ? AND endedAt IS NULL", arguments: [Date(), lease.runID])
            return db.changesCount
        }
        if changed == 0 { throw JournalError(.busy, "run \(lease.runID) no longer holds the journal (it was ended or taken over)") }
    }

    public func endRun(_ lease: RunLease, as end: RunEnd) async throws(JournalError) {
        defer { RunLock.release(lease.lockDescriptor) }
        try await write { db in
            try db.execute(sql: "UPDATE run SET endedAt = ?, endReason = ? WHERE id = ? AND endedAt IS NULL",
                           arguments: [Date(), end.rawValue, lease.runID])
        }
    }

    static func busyMessage(_ holder: RunInfo?, path: String) -> String {
        guard let holder else { return "another upload is already running on the journal \(path); wait for it to finish, or stop it first" }
        return "another upload is already running on the journal \(path): pid \(holder.pid) on \(holder.host), started \(ClassyDate.format(holder.startedAt)); wait for it to finish, or stop it first"
    }

    static func activeRunRow(_ db: Database) throws -> RunInfo? {
        try Row.fetchOne(db, sql: "SELECT * FROM run WHERE endedAt IS NULL ORDER BY id DESC LIMIT 1").map(runInfo)
    }

    static func runInfo(_ row: Row) -> RunInfo {
        RunInfo(runID: row["id"], pid: row["pid"], host: row["host"], startedAt: row["startedAt"], heartbeatAt: row["heartbeatAt"])
    }

    // MARK: Jobs

    public func plan(_ plan: JobPlan) async throws(JournalError) -> PlanOutcome {
        try await write { db in
            let now = Date()
            if let row = try Row.fetchOne(db, sql: "SELECT step, error, doneAt FROM job WHERE key = ?", arguments: [plan.key]) {
                let step = try Self.step(row["step"])
                if step == .done { return .alreadyDone(at: row["doneAt"] ?? now) }
                let previousError: String? = row["error"]
                // Same content and plan, so same job, even if the file moved: keep the newest path.
                try db.execute(sql: """
                    UPDATE job SET sourcePath = ?, manifestPath = ?, error = NULL, updatedAt = ?,
                        attempts = attempts + (CASE WHEN error IS NULL THEN 0 ELSE 1 END)
                    WHERE key = ?
                    """, arguments: [plan.sourcePath, plan.manifestPath, now, plan.key])
                return .resumed(step: step, previousError: previousError)
            }
            try db.execute(sql: """
                INSERT INTO job (key, manifestPath, role, target, sourcePath, sourceSHA256, step, plannedAt, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [plan.key, plan.manifestPath, plan.role, plan.target, plan.sourcePath, plan.sourceSHA256,
                                 JobStep.planned.rawValue, now, now])
            return .new
        }
    }

    public func record(_ step: JournalStep, job key: String) async throws(JournalError) {
        try await write { db in
            let now = Date()
            guard let jobRow = try Row.fetchOne(db, sql: "SELECT step FROM job WHERE key = ?", arguments: [key]) else {
                throw JournalError(.unknownJob, "no job \(key.prefix(12)) in the journal")
            }
            let jobStep = try Self.step(jobRow["step"])
            switch step {
            case let .processed(items):
                guard jobStep < .attached else { throw JournalError(.invalidTransition, "job \(key.prefix(12)) is already \(jobStep.rawValue)") }
                try Self.storeProcessed(items, job: key, now: now, db: db)
            case let .pendingCreated(position, assetID, url, issuedAt, expiresAt, replacing):
                let item = try Self.item(db, key, position)
                guard item.step < .markedUploaded else {
                    throw JournalError(.invalidTransition, "image \(position) of job \(key.prefix(12)) is already uploaded as asset \(item.classyAssetID.map(String.init) ?? "?")")
                }
                if let old = item.classyAssetID, old != assetID {
                    try Self.insertAbandoned(db, assetID: old, job: key, position: position, reason: replacing, at: now)
                }
                try db.execute(sql: """
                    UPDATE item SET step = ?, classyAssetID = ?, uploadURL = ?, urlIssuedAt = ?, urlExpiresAt = ?, error = NULL, updatedAt = ?
                    WHERE jobKey = ? AND position = ?
                    """, arguments: [JobStep.pendingCreated.rawValue, assetID, url, issuedAt, expiresAt, now, key, position])
            case let .bytesUploaded(position):
                let item = try Self.item(db, key, position)
                guard item.step >= .pendingCreated else {
                    throw JournalError(.invalidTransition, "image \(position) of job \(key.prefix(12)) has no pending asset to upload to")
                }
                if item.step < .bytesUploaded { try Self.setItemStep(db, key, position, .bytesUploaded, now) }
                // The pre-signed URL (a bearer credential for that key) is kept only while it is needed.
                try db.execute(sql: "UPDATE item SET uploadURL = NULL WHERE jobKey = ? AND position = ?", arguments: [key, position])
            case let .markedUploaded(position, at):
                let item = try Self.item(db, key, position)
                guard item.classyAssetID != nil, item.step >= .pendingCreated else {
                    throw JournalError(.invalidTransition, "image \(position) of job \(key.prefix(12)) has no asset to mark uploaded")
                }
                if item.step < .markedUploaded {
                    try db.execute(sql: "UPDATE item SET step = ?, uploadedAt = ?, error = NULL, updatedAt = ? WHERE jobKey = ? AND position = ?",
                                   arguments: [JobStep.markedUploaded.rawValue, at, now, key, position])
                }
            case let .attachIntent(call):
                try Self.requireAllUploaded(db, key)
                try db.execute(sql: "UPDATE job SET attachIntent = ?, updatedAt = ? WHERE key = ?", arguments: [call, now, key])
                return
            case let .attached(target):
                try Self.requireAllUploaded(db, key)
                try db.execute(sql: "UPDATE job SET step = ?, attachedTo = ?, attachIntent = NULL, error = NULL, updatedAt = ? WHERE key = ?",
                               arguments: [max(jobStep, .attached).rawValue, target, now, key])
                return
            case .pendingPossiblyOrphaned:
                try db.execute(sql: "UPDATE job SET possiblyOrphaned = possiblyOrphaned + 1, updatedAt = ? WHERE key = ?", arguments: [now, key])
                return
            case .done:
                try Self.requireAllUploaded(db, key)
                try db.execute(sql: "UPDATE item SET step = ?, updatedAt = ? WHERE jobKey = ?", arguments: [JobStep.done.rawValue, now, key])
                try db.execute(sql: "UPDATE job SET step = ?, error = NULL, doneAt = ?, updatedAt = ? WHERE key = ?",
                               arguments: [JobStep.done.rawValue, now, now, key])
                return
            case let .failed(position, error):
                try db.execute(sql: "UPDATE job SET error = ?, updatedAt = ? WHERE key = ?", arguments: [error, now, key])
                if let position {
                    try db.execute(sql: "UPDATE item SET error = ?, updatedAt = ? WHERE jobKey = ? AND position = ?", arguments: [error, now, key, position])
                }
                return
            }
            try Self.updateJobStep(db, key, current: jobStep, now: now)
        }
    }

    public func recordAbandoned(assetID: Int, job key: String, item: Int?, reason: String) async throws(JournalError) {
        try await write { db in try Self.insertAbandoned(db, assetID: assetID, job: key, position: item, reason: reason, at: Date()) }
    }

    /// Stores a job's images. Processing is deterministic, so a resumed run that
    /// processes again normally finds the same hashes and keeps every image's progress.
    /// An image whose bytes changed (a new library version) starts over, abandoning
    /// its pending asset, unless it is already on the platform, which is kept.
    static func storeProcessed(_ items: [ProcessedItem], job key: String, now: Date, db: Database) throws {
        let existing = try Row.fetchAll(db, sql: "SELECT * FROM item WHERE jobKey = ?", arguments: [key]).map(journalItem)
        let byPosition = Dictionary(existing.map { ($0.position, $0) }, uniquingKeysWith: { a, _ in a })
        for new in items {
            if let old = byPosition[new.position] {
                if old.record.sha256 == new.record.sha256 || old.step >= .markedUploaded { continue }
                if let id = old.classyAssetID {
                    try insertAbandoned(db, assetID: id, job: key, position: new.position, reason: "the processed image changed", at: now)
                }
                try db.execute(sql: "DELETE FROM item WHERE jobKey = ? AND position = ?", arguments: [key, new.position])
            }
            let json = String(decoding: try JSONEncoder().encode(new.record), as: UTF8.self)
            try db.execute(sql: """
                INSERT INTO item (jobKey, position, record, sha256, size, contentType, type, step, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [key, new.position, json, new.record.sha256, new.record.size, new.record.contentType,
                                 new.record.type, JobStep.processed.rawValue, now])
        }
        let positions = Set(items.map(\.position))
        for old in existing where !positions.contains(old.position) && old.step < .markedUploaded {
            if let id = old.classyAssetID {
                try insertAbandoned(db, assetID: id, job: key, position: old.position, reason: "the image is no longer produced", at: now)
            }
            try db.execute(sql: "DELETE FROM item WHERE jobKey = ? AND position = ?", arguments: [key, old.position])
        }
    }

    /// Before attachment a job is as far as its least advanced image.
    static func updateJobStep(_ db: Database, _ key: String, current: JobStep, now: Date) throws {
        guard current < .attached else { return }
        let steps = try String.fetchAll(db, sql: "SELECT step FROM item WHERE jobKey = ?", arguments: [key]).map(step)
        let step = max(.processed, steps.min() ?? .planned)
        try db.execute(sql: "UPDATE job SET step = ?, updatedAt = ? WHERE key = ?", arguments: [step.rawValue, now, key])
    }

    static func requireAllUploaded(_ db: Database, _ key: String) throws {
        let steps = try String.fetchAll(db, sql: "SELECT step FROM item WHERE jobKey = ?", arguments: [key]).map(step)
        guard !steps.isEmpty, steps.allSatisfy({ $0 >= .markedUploaded }) else {
            throw JournalError(.invalidTransition, "job \(key.prefix(12)) has images not marked uploaded yet")
        }
    }

    static func item(_ db: Database, _ key: String, _ position: Int) throws -> JournalItem {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM item WHERE jobKey = ? AND position = ?", arguments: [key, position]) else {
            throw JournalError(.invalidTransition, "job \(key.prefix(12)) has no processed image \(position)")
        }
        return try journalItem(row)
    }

    static func setItemStep(_ db: Database, _ key: String, _ position: Int, _ step: JobStep, _ now: Date) throws {
        try db.execute(sql: "UPDATE item SET step = ?, error = NULL, updatedAt = ? WHERE jobKey = ? AND position = ?",
                       arguments: [step.rawValue, now, key, position])
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

    public func allAssets() async throws(JournalError) -> [JournalItem] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT item.* FROM item JOIN job ON job.key = item.jobKey ORDER BY job.plannedAt, job.rowid, item.position")
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

    public func status() async throws(JournalError) -> JournalStatus {
        let lockHeld = RunLock.isHeld(lockPath)
        let host = RunLock.hostName
        return try await read { db in
            func counts(_ table: String) throws -> [String: Int] {
                var result: [String: Int] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT CASE WHEN error IS NULL THEN step ELSE 'failed' END AS state, COUNT(*) AS n FROM \(table) GROUP BY state") {
                    result[row["state"]] = row["n"]
                }
                return result
            }
            let jobCounts = try counts("job")
            let failures = try Row.fetchAll(db, sql: "SELECT * FROM job WHERE error IS NOT NULL ORDER BY updatedAt, rowid").map { row in
                JournalStatus.Failure(jobKey: row["key"], role: row["role"], target: row["target"], sourcePath: row["sourcePath"],
                                      error: row["error"], at: row["updatedAt"])
            }
            var active = try Self.activeRunRow(db)
            // A recorded run on this host without the lock was killed: not active.
            if let run = active, run.host == host, !lockHeld { active = nil }
            let lastEnd = try String.fetchOne(db, sql: "SELECT endReason FROM run WHERE endedAt IS NOT NULL ORDER BY id DESC LIMIT 1")
            let incomplete = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM job WHERE step != ?", arguments: [JobStep.done.rawValue]) ?? 0
            return JournalStatus(
                jobCounts: jobCounts, itemCounts: try counts("item"), failures: failures,
                lastSuccessfulUpload: try Date.fetchOne(db, sql: "SELECT MAX(uploadedAt) FROM item"),
                activeRun: active,
                paused: active == nil && lastEnd == RunEnd.paused.rawValue && incomplete > 0,
                abandonedCount: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM abandonedAsset") ?? 0,
                possiblyOrphanedCount: try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(possiblyOrphaned), 0) FROM job") ?? 0)
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
                          sourcePath: row["sourcePath"], sourceSHA256: row["sourceSHA256"]),
            step: try step(row["step"]), error: row["error"], attempts: row["attempts"], attachedTo: row["attachedTo"],
            attachIntent: row["attachIntent"], possiblyOrphaned: row["possiblyOrphaned"] ?? 0,
            plannedAt: row["plannedAt"], updatedAt: row["updatedAt"], items: items)
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
