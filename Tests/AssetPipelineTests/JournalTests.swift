#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest
@testable import AssetPipeline
@testable import AssetJournalSQLite

final class JournalTests: XCTestCase {
    var folder: URL!
    var path: String { folder.appendingPathComponent("journal.sqlite").path }

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func plan(_ key: String) -> JobPlan { Self.plan(key) }
    func items(_ key: String, children: Int = 1, hashSuffix: String = "") -> [ProcessedItem] { Self.items(key, children: children, hashSuffix: hashSuffix) }

    static func plan(_ key: String) -> JobPlan {
        JobPlan(key: key, manifestPath: "/m/jobs.yaml", role: "logo", target: "campaign=1001", sourcePath: "/m/\(key).png", sourceSHA256: "s-\(key)")
    }

    /// The original and `children` children, with made-up records.
    static func items(_ key: String, children: Int = 1, hashSuffix: String = "") -> [ProcessedItem] {
        (0 ... children).map { position in
            ProcessedItem(position: position, record: AssetRecord(
                id: .local("\(key)-\(position)"), parentID: position == 0 ? nil : .local("\(key)-0"), state: position == 0 ? .local : .processed,
                contentType: "image/png", type: position == 0 ? nil : "thumbnail_100_100", size: 1000 + position,
                createdAt: Date(timeIntervalSince1970: 1_700_000_000), width: 100, height: 100, sha256: "h-\(key)-\(position)\(hashSuffix)"))
        }
    }

    /// Plans `key` and takes every image through to marked uploaded (asset ids from `firstAssetID` on).
    func upload(_ journal: SQLiteJournal, _ key: String, firstAssetID: Int, at: Date = Date()) async throws {
        _ = try await journal.plan(plan(key))
        try await journal.record(.processed(items(key)), job: key)
        for position in 0 ... 1 {
            try await journal.record(.pendingCreated(item: position, assetID: firstAssetID + position, uploadURL: "https://s3/\(key)/\(position)",
                                                     issuedAt: at, expiresAt: at.addingTimeInterval(3600)), job: key)
            try await journal.record(.bytesUploaded(item: position), job: key)
            try await journal.record(.markedUploaded(item: position, at: at), job: key)
        }
    }

    func testMigrationsCreateTheSchemaOnAFreshFile() async throws {
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        let journal = try SQLiteJournal(path: path)
        XCTAssertEqual(try journal.tableNames(), ["abandonedAsset", "item", "job", "run", "target"])
        _ = try await journal.plan(plan("a"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: path + "-wal"), "WAL mode")
        // Opening again migrates nothing twice and keeps the data.
        let again = try SQLiteJournal(path: path)
        XCTAssertEqual(try again.tableNames(), ["abandonedAsset", "item", "job", "run", "target"])
        let job = try await again.job(key: "a")
        XCTAssertEqual(job?.step, .planned)
        XCTAssertEqual(try again.integrityCheck(), "ok")
    }

    func testPlanningTheSameJobTwiceKeepsOneJobAndItsProgress() async throws {
        let journal = try SQLiteJournal(path: path)
        let first = try await journal.plan(plan("a"))
        XCTAssertEqual(first, .new)
        try await journal.record(.processed(items("a")), job: "a")
        try await journal.record(.pendingCreated(item: 0, assetID: 7, uploadURL: "u", issuedAt: Date(), expiresAt: nil), job: "a")

        let second = try await journal.plan(plan("a"))
        XCTAssertEqual(second, .resumed(step: .processed, previousError: nil), "the job is as far as its least advanced image")
        let job = try await journal.job(key: "a")
        XCTAssertEqual(job?.items.map(\.step), [.pendingCreated, .processed])
        XCTAssertEqual(job?.items.first?.classyAssetID, 7)
        let status = try await journal.status()
        XCTAssertEqual(status.totalJobs, 1)

        try await journal.record(.pendingCreated(item: 1, assetID: 8, uploadURL: "u", issuedAt: Date(), expiresAt: nil), job: "a")
        for position in 0 ... 1 { try await journal.record(.markedUploaded(item: position, at: Date()), job: "a") }
        try await journal.record(.done, job: "a")
        guard case .alreadyDone = try await journal.plan(plan("a")) else { return XCTFail("a done job is reported as done") }
        let remaining = try await journal.incompleteJobs()
        XCTAssertTrue(remaining.isEmpty)
    }

    func testEveryStepSurvivesClosingAndReopening() async throws {
        var journal: SQLiteJournal? = try SQLiteJournal(path: path)
        // Each step is written, the handle dropped without any cleanup, and a fresh one must see the step.
        func reopen() throws -> SQLiteJournal {
            journal = nil
            journal = try SQLiteJournal(path: path)
            return journal!
        }
        let issued = Date(timeIntervalSince1970: 1_800_000_000)
        _ = try await journal!.plan(plan("k"))
        var job = try await reopen().job(key: "k")
        XCTAssertEqual(job?.step, .planned)

        try await journal!.record(.processed(items("k")), job: "k")
        job = try await reopen().job(key: "k")
        XCTAssertEqual(job?.step, .processed)
        XCTAssertEqual(job?.items.map(\.record.sha256), ["h-k-0", "h-k-1"])
        XCTAssertEqual(job?.items[1].record.parentID, .local("k-0"))

        for position in 0 ... 1 {
            try await journal!.record(.pendingCreated(item: position, assetID: 500 + position, uploadURL: "https://s3/\(position)",
                                                      issuedAt: issued, expiresAt: issued.addingTimeInterval(900)), job: "k")
        }
        job = try await reopen().job(key: "k")
        XCTAssertEqual(job?.step, .pendingCreated)
        XCTAssertEqual(job?.items.map(\.classyAssetID), [500, 501])
        XCTAssertEqual(job?.items[0].uploadURL, "https://s3/0")
        XCTAssertEqual(job?.items[0].urlIssuedAt?.timeIntervalSince1970 ?? 0, issued.timeIntervalSince1970, accuracy: 0.001)
        XCTAssertEqual(job?.items[0].urlExpiresAt?.timeIntervalSince1970 ?? 0, issued.timeIntervalSince1970 + 900, accuracy: 0.001)

        for position in 0 ... 1 { try await journal!.record(.bytesUploaded(item: position), job: "k") }
        job = try await reopen().job(key: "k")
        XCTAssertEqual(job?.step, .bytesUploaded)

        for position in 0 ... 1 { try await journal!.record(.markedUploaded(item: position, at: issued.addingTimeInterval(5)), job: "k") }
        job = try await reopen().job(key: "k")
        XCTAssertEqual(job?.step, .markedUploaded)
        XCTAssertEqual(job?.items[1].uploadedAt?.timeIntervalSince1970 ?? 0, issued.timeIntervalSince1970 + 5, accuracy: 0.001)

        try await journal!.record(.attached(to: "campaign 1001 logo_id"), job: "k")
        job = try await reopen().job(key: "k")
        XCTAssertEqual(job?.step, .attached)
        XCTAssertEqual(job?.attachedTo, "campaign 1001 logo_id")

        try await journal!.record(.done, job: "k")
        job = try await reopen().job(key: "k")
        XCTAssertEqual(job?.step, .done)
        XCTAssertEqual(job?.items.map(\.step), [.done, .done])
        XCTAssertEqual(try journal!.integrityCheck(), "ok")
    }

    func testStepsOutOfOrderAreRefused() async throws {
        let journal = try SQLiteJournal(path: path)
        _ = try await journal.plan(plan("a"))
        await XCTAssertThrowsJournalError(.invalidTransition) { try await journal.record(.bytesUploaded(item: 0), job: "a") }
        try await journal.record(.processed(items("a")), job: "a")
        await XCTAssertThrowsJournalError(.invalidTransition) { try await journal.record(.markedUploaded(item: 0, at: Date()), job: "a") }
        await XCTAssertThrowsJournalError(.invalidTransition) { try await journal.record(.done, job: "a") }
        await XCTAssertThrowsJournalError(.unknownJob) { try await journal.record(.done, job: "nope") }
    }

    func testAFailureKeepsProgressAndPlanningAgainRetries() async throws {
        let journal = try SQLiteJournal(path: path)
        _ = try await journal.plan(plan("a"))
        try await journal.record(.processed(items("a")), job: "a")
        try await journal.record(.pendingCreated(item: 0, assetID: 1, uploadURL: "u", issuedAt: Date(), expiresAt: nil), job: "a")
        try await journal.record(.failed(item: 0, error: "PUT returned 403"), job: "a")

        var status = try await journal.status()
        XCTAssertEqual(status.jobCounts, ["failed": 1])
        XCTAssertEqual(status.failures.map(\.error), ["PUT returned 403"])
        XCTAssertEqual(status.failures.first?.sourcePath, "/m/a.png")

        let outcome = try await journal.plan(plan("a"))
        XCTAssertEqual(outcome, .resumed(step: .processed, previousError: "PUT returned 403"))
        let job = try await journal.job(key: "a")
        XCTAssertNil(job?.error)
        XCTAssertEqual(job?.attempts, 2)
        XCTAssertEqual(job?.items[0].classyAssetID, 1, "progress kept")
        status = try await journal.status()
        XCTAssertEqual(status.failures.count, 0)
    }

    func testTwoRunsShareTheJournalThroughClaims() async throws {
        let journal = try SQLiteJournal(path: path)
        _ = try await journal.plan(plan("a"))
        _ = try await journal.plan(plan("b"))
        let lease = try await journal.beginRun()
        XCTAssertEqual(lease.pid, getpid())
        // Another handle on the same file, as a second `upload` process would have.
        let other = try SQLiteJournal(path: path)
        let second = try await other.beginRun()
        let mine = try await journal.claim(["a"], for: lease)
        XCTAssertEqual(mine.map(\.jobKey), ["a"])
        let theirs = try await other.claim(["a", "b"], for: second)
        XCTAssertEqual(theirs.map(\.jobKey), ["b"], "a job claimed by a live run is left to it")
        let status = try await other.status()
        XCTAssertEqual(status.activeRuns.map(\.runID), [lease.runID, second.runID])
        XCTAssertEqual(status.activeRuns.map(\.claimedJobs), [1, 1])
        try await journal.heartbeat(lease)

        try await journal.endRun(lease, as: .finished)
        let taken = try await other.claim(["a"], for: second)
        XCTAssertEqual(taken.map(\.jobKey), ["a"], "an ended run's claims are released")
        XCTAssertGreaterThan(taken[0].fence, mine[0].fence)
        await XCTAssertThrowsJournalError(.fenced) { try await journal.record(.processed(self.items("a")), under: mine[0]) }
        try await other.endRun(second, as: .finished)
        await XCTAssertThrowsJournalError(.leaseLost) { try await journal.heartbeat(lease) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: journal.lockPath(ofRun: lease.runID)), "an ended run's lock file is removed")
    }

    func testARunLeftByADeadProcessIsTakenOver() async throws {
        var dead: Int32 = 999_999
        while kill(dead, 0) == 0 || errno != ESRCH { dead -= 1 }
        let journal = try SQLiteJournal(path: path)
        _ = try await journal.plan(plan("a"))
        try journal.executeForTesting("""
            INSERT INTO run (id, pid, host, startedAt, heartbeatAt) VALUES (77, \(dead), '\(ProcessInfo.processInfo.hostName)', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000');
            UPDATE job SET claimedBy = 77, fence = 1;
            """)
        let before = try await journal.status()
        XCTAssertNil(before.activeRun, "a recorded run nobody holds the lock for is not active")

        let lease = try await journal.beginRun()
        XCTAssertEqual(lease.tookOver.map(\.pid), [dead])
        let status = try await journal.status()
        XCTAssertEqual(status.activeRun?.runID, lease.runID)
        let claims = try await journal.claim(["a"], for: lease)
        XCTAssertEqual(claims.map(\.fence), [2], "the dead run's job is claimed with a larger fence")
        try await journal.endRun(lease, as: .finished)
    }

    /// A real process holds a run's lock, as a running `upload` would; `kill -9`
    /// frees its job at once (the kernel drops the lock), with no lease to wait for.
    func testTheJobsOfAKilledProcessAreFreedAtOnce() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/perl") else { throw XCTSkip("no /usr/bin/perl") }
        let journal = try SQLiteJournal(path: path)
        _ = try await journal.plan(plan("a"))
        try journal.executeForTesting("""
            INSERT INTO run (id, pid, host, startedAt, heartbeatAt) VALUES (42, 1, '\(ProcessInfo.processInfo.hostName)', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000');
            UPDATE job SET claimedBy = 42, fence = 1;
            """)
        // One process (perl, not flock(1), whose forked command would inherit the lock and outlive it).
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/perl")
        holder.arguments = ["-e", "use Fcntl qw(:flock); open(my $f, '>>', $ARGV[0]) or die; flock($f, LOCK_EX) or die; sleep 60",
                            journal.lockPath(ofRun: 42)]
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL); holder.waitUntilExit() } }
        let deadline = Date().addingTimeInterval(10)
        while !RunLock.isHeld(journal.lockPath(ofRun: 42)), Date() < deadline { try await Task.sleep(nanoseconds: 20_000_000) }

        let lease = try await journal.beginRun()
        XCTAssertTrue(lease.tookOver.isEmpty, "a run whose lock is held is alive")
        let whileAlive = try await journal.claim(["a"], for: lease)
        XCTAssertTrue(whileAlive.isEmpty, "the live process's job was taken")
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        var claims: [JobClaim] = []
        while claims.isEmpty, Date() < deadline.addingTimeInterval(10) {
            claims = try await journal.claim(["a"], for: lease)
            if claims.isEmpty { try await Task.sleep(nanoseconds: 50_000_000) }
        }
        XCTAssertEqual(claims.map(\.jobKey), ["a"], "the killed process's job is claimable")
        try await journal.endRun(lease, as: .finished)
    }

    func testStatusCountsPauseAndLastUpload() async throws {
        let journal = try SQLiteJournal(path: path)
        let lease = try await journal.beginRun()
        let early = Date(timeIntervalSince1970: 1_800_000_000), late = early.addingTimeInterval(60)
        try await upload(journal, "done1", firstAssetID: 10, at: early)
        try await journal.record(.done, job: "done1")
        try await upload(journal, "done2", firstAssetID: 20, at: late)
        try await journal.record(.attached(to: "ecard 9"), job: "done2")
        try await journal.record(.done, job: "done2")
        try await upload(journal, "uploaded", firstAssetID: 30, at: early)
        _ = try await journal.plan(plan("failed"))
        try await journal.record(.failed(item: nil, error: "source unreadable"), job: "failed")
        _ = try await journal.plan(plan("planned"))

        var status = try await journal.status()
        XCTAssertEqual(status.jobCounts, ["done": 2, "markedUploaded": 1, "failed": 1, "planned": 1])
        XCTAssertEqual(status.itemCounts, ["done": 4, "markedUploaded": 2])
        XCTAssertEqual(status.lastSuccessfulUpload?.timeIntervalSince1970 ?? 0, late.timeIntervalSince1970, accuracy: 0.001)
        XCTAssertEqual(status.failures.map(\.jobKey), ["failed"])
        XCTAssertNotNil(status.activeRun)
        XCTAssertFalse(status.paused)

        try await journal.endRun(lease, as: .paused)
        status = try await journal.status()
        XCTAssertNil(status.activeRun)
        XCTAssertTrue(status.paused)
        let incomplete = try await journal.incompleteJobs()
        XCTAssertEqual(incomplete.map(\.plan.key), ["uploaded", "failed", "planned"])
    }

    func testAbandonedPendingAssetsAreRecordedAndListed() async throws {
        let journal = try SQLiteJournal(path: path)
        _ = try await journal.plan(plan("a"))
        try await journal.record(.processed(items("a")), job: "a")
        let issued = Date().addingTimeInterval(-7200)
        try await journal.record(.pendingCreated(item: 0, assetID: 101, uploadURL: "old", issuedAt: issued, expiresAt: issued.addingTimeInterval(3600)), job: "a")
        var job = try await journal.job(key: "a")
        XCTAssertFalse(job!.items[0].pendingIsReusable(), "the URL has expired")

        try await journal.record(.pendingCreated(item: 0, assetID: 102, uploadURL: "new", issuedAt: Date(), expiresAt: Date().addingTimeInterval(3600),
                                                 replacing: "pre-signed URL expired"), job: "a")
        job = try await journal.job(key: "a")
        XCTAssertTrue(job!.items[0].pendingIsReusable())
        XCTAssertEqual(job?.items[0].classyAssetID, 102)
        try await journal.recordAbandoned(assetID: 103, job: "a", item: 1, reason: "created twice")
        // The same id again is not a replacement.
        try await journal.record(.pendingCreated(item: 0, assetID: 102, uploadURL: "new", issuedAt: Date(), expiresAt: nil), job: "a")

        let abandoned = try await journal.abandonedAssets()
        XCTAssertEqual(abandoned.map(\.assetID), [101, 103])
        XCTAssertEqual(abandoned.map(\.reason), ["pre-signed URL expired", "created twice"])
        XCTAssertEqual(abandoned.map(\.position), [0, 1])
        let status = try await journal.status()
        XCTAssertEqual(status.abandonedCount, 2)

        // Output that changed since (a new library version) abandons the pending asset of the changed image only.
        try await journal.record(.processed(items("a").map { item in
            var item = item
            if item.position == 0 { item.record.sha256 += "-changed" }
            return item
        }), job: "a")
        let after = try await journal.abandonedAssets()
        XCTAssertEqual(after.map(\.assetID), [101, 103, 102])
        job = try await journal.job(key: "a")
        XCTAssertNil(job?.items[0].classyAssetID)
    }

    func testConcurrentWritesFromManyTasksAllLand() async throws {
        let journal = try SQLiteJournal(path: path)
        // 8 tasks x 10 jobs x (plan + 5 steps for 1 image) = 8 x 50 steps, interleaved.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0 ..< 8 {
                group.addTask {
                    for n in 0 ..< 10 {
                        let key = "t\(task)-\(n)"
                        _ = try await journal.plan(Self.plan(key))
                        try await journal.record(.processed(Self.items(key, children: 0)), job: key)
                        try await journal.record(.pendingCreated(item: 0, assetID: task * 100 + n, uploadURL: "u", issuedAt: Date(), expiresAt: nil), job: key)
                        try await journal.record(.bytesUploaded(item: 0), job: key)
                        try await journal.record(.markedUploaded(item: 0, at: Date()), job: key)
                        try await journal.record(.done, job: key)
                    }
                }
            }
            try await group.waitForAll()
        }
        let status = try await journal.status()
        XCTAssertEqual(status.jobCounts, ["done": 80])
        XCTAssertEqual(status.itemCounts, ["done": 80])
        let assets = try await journal.allAssets()
        XCTAssertEqual(Set(assets.compactMap(\.classyAssetID)).count, 80)
        XCTAssertEqual(try journal.integrityCheck(), "ok")
    }

    /// A writer killed in the middle of a transaction (here the sqlite3 shell, `kill -9`'d
    /// while its transaction is open and has spilled pages into the WAL) leaves a
    /// journal with every committed step and none of the uncommitted ones.
    func testAWriterKilledMidTransactionLeavesTheJournalConsistent() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") else { throw XCTSkip("no /usr/bin/sqlite3") }
        var journal: SQLiteJournal? = try SQLiteJournal(path: path)
        _ = try await journal!.plan(plan("before"))
        journal = nil

        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        shell.arguments = [path]
        let input = Pipe(), output = Pipe()
        shell.standardInput = input
        shell.standardOutput = output
        try shell.run()
        defer { if shell.isRunning { kill(shell.processIdentifier, SIGKILL); shell.waitUntilExit() } }
        let now = "'2026-01-01 00:00:00.000'"
        let script = """
            PRAGMA busy_timeout = 5000;
            INSERT INTO job (key, role, target, sourcePath, sourceSHA256, step, plannedAt, updatedAt) VALUES ('committed', 'logo', 't', 's', 'h', 'planned', \(now), \(now));
            BEGIN IMMEDIATE;
            INSERT INTO job (key, role, target, sourcePath, sourceSHA256, step, plannedAt, updatedAt) VALUES ('uncommitted', 'logo', 't', 's', 'h', 'planned', \(now), \(now));
            UPDATE job SET step = 'done' WHERE key = 'before';
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
              INSERT INTO abandonedAsset (assetID, jobKey, reason, at) SELECT i, 'spill', hex(randomblob(2000)), \(now) FROM n;
            SELECT 'ready';

            """
        input.fileHandleForWriting.write(Data(script.utf8))
        var seen = ""
        while !seen.contains("ready") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        XCTAssertTrue(seen.contains("ready"), "the shell ran the script: \(seen)")
        let walSize = (try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        XCTAssertGreaterThan(walSize, 1_000_000, "the open transaction wrote pages to the WAL")
        kill(shell.processIdentifier, SIGKILL)
        shell.waitUntilExit()

        let reopened = try SQLiteJournal(path: path)
        XCTAssertEqual(try reopened.integrityCheck(), "ok")
        let committed = try await reopened.job(key: "committed")
        XCTAssertNotNil(committed)
        let uncommitted = try await reopened.job(key: "uncommitted")
        XCTAssertNil(uncommitted)
        let before = try await reopened.job(key: "before")
        XCTAssertEqual(before?.step, .planned)
        let abandoned = try await reopened.abandonedAssets()
        XCTAssertEqual(abandoned.count, 0)
        // And it takes new steps.
        try await reopened.record(.processed(items("before")), job: "before")
        let job = try await reopened.job(key: "before")
        XCTAssertEqual(job?.step, .processed)
    }
}

func XCTAssertThrowsJournalError(_ code: JournalError.Code, file: StaticString = #filePath, line: UInt = #line,
                                 _ body: () async throws -> Void) async {
    do {
        try await body()
        XCTFail("no error thrown", file: file, line: line)
    } catch let error as JournalError {
        XCTAssertEqual(error.code, code, error.message, file: file, line: line)
    } catch {
        XCTFail("unexpected \(error)", file: file, line: line)
    }
}

final class BridgeJournalTests: XCTestCase {
    func testItemPositionsFollowTheProcessorsOrderAndTheAttachmentFindsItsImage() throws {
        let logo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TestImages/campaign-logo.png").path
        let manifest = try Manifest.singleJob(source: logo, role: "logo", campaign: 1001, thumbnails: ["100x100", "150x150"])
        let job = manifest.jobs[0]
        let plan = JobPlan(job, manifestPath: nil)
        XCTAssertEqual(plan.key, job.key)
        XCTAssertEqual(plan.target, "campaign=1001")
        let asset = try LocalProcessor().process(bytes: [UInt8](Data(contentsOf: URL(fileURLWithPath: logo))), actions: job.actions)
        let items = ProcessedItem.items(of: asset)
        XCTAssertEqual(items.map(\.position), [0, 1, 2])
        XCTAssertEqual(items.map(\.record.type), [nil, "thumbnail_100_100", "thumbnail_150_150"])
        XCTAssertEqual(AttachedImage.original.position(childTypes: asset.children.map(\.record.type)), 0)
        XCTAssertEqual(AttachedImage.child(type: "thumbnail_150_150").position(childTypes: asset.children.map(\.record.type)), 2)
        XCTAssertNil(AttachedImage.child(type: "thumbnail_600_400").position(childTypes: asset.children.map(\.record.type)))
    }
}

/// The journal's rules are tested here without caring about claims: each write
/// is made by a short run of its own that claims the job, writes, and ends.
extension SQLiteJournal {
    func record(_ step: JournalStep, job key: String) async throws(JournalError) {
        let lease = try await beginRun()
        guard let claim = try await claim([key], for: lease).first else {
            try await endRun(lease, as: .finished)
            throw JournalError(.unknownJob, "no claimable job \(key)")
        }
        do {
            try await record(step, under: claim)
        } catch {
            try await endRun(lease, as: .finished)
            throw error
        }
        try await endRun(lease, as: .finished)
    }

    func recordAbandoned(assetID: Int, job key: String, item: Int?, reason: String) async throws(JournalError) {
        let lease = try await beginRun()
        guard let claim = try await claim([key], for: lease).first else { throw JournalError(.unknownJob, "no claimable job \(key)") }
        try await recordAbandoned(assetID: assetID, item: item, reason: reason, under: claim)
        try await endRun(lease, as: .finished)
    }
}
