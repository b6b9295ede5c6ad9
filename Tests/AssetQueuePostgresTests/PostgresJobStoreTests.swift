@testable import AssetQueuePostgres
import Foundation
import PostgresNIO
import Synchronization
import XCTest

/// What the PostgreSQL store adds to the contract: migrations from several
/// workers at once, typed errors for a wrong URL or server, leases by the
/// server's clock, SKIP LOCKED claims under concurrency, and a server restart.
final class PostgresJobStoreTests: XCTestCase {
    // MARK: Migrations

    func testConcurrentMigrationsOnAnEmptyDatabaseAllSucceed() async throws {
        let server = try TestServer.url()
        let url = try await TestServer.freshDatabase(server)
        let stores = (0..<8).map { _ in PostgresJobStore(url: url, logger: TestServer.logger) }
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for store in stores { group.addTask { try await store.migrate() } }
            var all: [[Int]] = []
            for try await versions in group { all.append(versions) }
            return all
        }
        XCTAssertEqual(applied.count, 8)
        XCTAssertEqual(applied.filter { !$0.isEmpty }, [QueueSchema.migrations.map(\.version)], "exactly one worker applies the migrations")
        let again = try await stores[0].migrate()
        XCTAssertEqual(again, [], "an up-to-date schema is left alone")
        // Each store works on the migrated schema.
        _ = try await stores[3].plan(plan("j1"))
        let job = try await stores[5].job(key: "j1")
        XCTAssertEqual(job?.step, .planned)
        for store in stores { await store.shutdown() }
        await TestServer.drop(url)
    }

    // MARK: Typed errors

    func testMissingDatabaseIsAStorageErrorWithoutThePassword() async throws {
        let server = try TestServer.url()
        var url = server.with(database: "aw_no_such_database")
        url.password = "s3cret-pw"
        let store = PostgresJobStore(url: url, operationTimeout: .seconds(20), logger: TestServer.logger)
        let error = await assertJournalError(.storage) { try await store.migrate() }
        XCTAssertTrue(error?.message.contains("aw_no_such_database") == true, error?.message ?? "")
        XCTAssertTrue(error?.message.contains("does not exist") == true, error?.message ?? "")
        XCTAssertFalse(error?.message.contains("s3cret-pw") == true, "the password leaked: \(error?.message ?? "")")
        await store.shutdown()
    }

    func testRefusedConnectionIsAStorageError() async throws {
        // A port nobody listens on: bind one, learn its number, close it.
        let port = try freeLoopbackPort()
        let store = PostgresJobStore(url: PostgresURL(user: "aw", password: "hunter2", host: "127.0.0.1", port: port, database: "assets"),
                                     operationTimeout: .seconds(20), logger: TestServer.logger)
        let error = await assertJournalError(.storage) { try await store.migrate() }
        XCTAssertTrue(error?.message.contains("postgres://aw:***@127.0.0.1:\(port)/assets") == true, error?.message ?? "")
        XCTAssertFalse(error?.message.contains("hunter2") == true, "the password leaked")
        await store.shutdown()
    }

    func testACallAfterShutdownIsAStorageError() async throws {
        let store = try await TestServer.freshStore(try TestServer.url())
        let url = store.url
        await store.shutdown()
        await assertJournalError(.storage) { _ = try await store.status() }
        await TestServer.drop(url)
    }

    // MARK: Leases and claims

    /// No heartbeat within the lease: the run is dead, its job is taken over, its late writes are fenced.
    func testARunWithoutHeartbeatLosesItsLease() async throws {
        let store = try await TestServer.freshStore(try TestServer.url(), leaseDuration: 1)
        _ = try await store.plan(plan("j1"))
        let a = try await store.beginRun()
        let claimA = try await store.claim(["j1"], for: a)
        XCTAssertEqual(claimA.count, 1)
        let early = try await store.beginRun()
        let none = try await store.claim(["j1"], for: early)
        XCTAssertEqual(none, [], "a live claim is exclusive")
        try await Task.sleep(for: .milliseconds(1500))
        let b = try await store.beginRun()
        XCTAssertTrue(b.tookOver.map(\.runID).contains(a.runID), "\(b.tookOver)")
        let claimB = try await store.claimNext(limit: 5, for: b)
        XCTAssertEqual(claimB.map(\.jobKey), ["j1"])
        XCTAssertGreaterThan(claimB[0].fence, claimA[0].fence)
        await assertJournalError(.fenced) { try await store.record(.processed([processedItem(0)]), under: claimA[0]) }
        await assertJournalError(.leaseLost) { try await store.heartbeat(a) }
        try await store.record(.processed([processedItem(0)]), under: claimB[0])
        await TestServer.dispose(store)
    }

    /// Four workers (four connection pools) drain 200 jobs at once: every job claimed exactly once.
    func testConcurrentWorkersNeverClaimOneJobTwice() async throws {
        let first = try await TestServer.freshStore(try TestServer.url())
        for i in 0..<200 { _ = try await first.plan(plan(String(format: "job%03d", i))) }
        let workers = [first] + (1..<4).map { _ in PostgresJobStore(url: first.url, logger: TestServer.logger) }
        let perWorker = try await withThrowingTaskGroup(of: [String].self) { group in
            for store in workers {
                group.addTask {
                    let lease = try await store.beginRun()
                    var taken: [String] = []
                    while true {
                        let claims = try await store.claimNext(limit: 3, for: lease)
                        if claims.isEmpty { break }
                        for claim in claims {
                            try await store.record(.processed([processedItem(0)]), under: claim)
                            taken.append(claim.jobKey)
                        }
                    }
                    return taken
                }
            }
            var all: [[String]] = []
            for try await taken in group { all.append(taken) }
            return all
        }
        let all = perWorker.flatMap { $0 }
        XCTAssertEqual(all.count, 200, "jobs claimed: \(all.count)")
        XCTAssertEqual(Set(all).count, 200, "a job was claimed twice")
        XCTAssertTrue(perWorker.allSatisfy { !$0.isEmpty }, "every worker got work: \(perWorker.map(\.count))")
        for store in workers.dropFirst() { await store.shutdown() }
        await TestServer.dispose(first)
    }

    // MARK: Cost

    /// The statements one step costs, counted (not timed): BEGIN, the fenced read of
    /// the job, its items, the job's update, the changed item, COMMIT.
    func testARecordCostsSixStatements() async throws {
        let store = try await TestServer.freshStore(try TestServer.url())
        _ = try await store.plan(plan("j1"))
        let run = try await store.beginRun()
        let claim = try await store.claim(["j1"], for: run)[0]
        try await store.record(.processed([processedItem(0)]), under: claim)
        let before = store.statementCount
        try await store.record(.pendingCreated(item: 0, assetID: 5, uploadURL: "u", issuedAt: Date(), expiresAt: nil), under: claim)
        XCTAssertEqual(store.statementCount - before, 6)
        let beforeClaim = store.statementCount
        _ = try await store.claimNext(limit: 8, for: run)
        XCTAssertEqual(store.statementCount - beforeClaim, 4, "BEGIN, the run's liveness, the SKIP LOCKED claim, COMMIT")
        await TestServer.dispose(store)
    }

    // MARK: Restart

    /// PostgreSQL restarted (every connection cut) between two writes: a call in
    /// the outage fails with `.storage` within its deadline (never hangs or
    /// crashes), and the store's calls succeed again once the server is back.
    func testTheStoreRecoversFromAServerRestart() async throws {
        let server = try TestServer.url()
        guard let state = ProcessInfo.processInfo.environment["ASSET_WORKER_PG_STATE"] else {
            let why = "ASSET_WORKER_PG_STATE is not set: this test restarts the server of scripts/start-postgres.sh"
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail(why); return }
            throw XCTSkip(why)
        }
        let store = try await TestServer.freshStore(server, operationTimeout: .seconds(10))
        _ = try await store.plan(plan("j1"))
        let run = try await store.beginRun()
        let claim = try await store.claim(["j1"], for: run)[0]
        try await store.record(.processed([processedItem(0)]), under: claim)

        try restartServer(state: state)

        // Retry within a bound, as the engine does: every failure must be a typed `.storage`.
        var failures: [JournalError] = []
        var recorded = false
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(60) {
            do {
                try await store.record(.pendingCreated(item: 0, assetID: 7, uploadURL: "u", issuedAt: Date(), expiresAt: nil), under: claim)
                recorded = true
                break
            } catch {
                XCTAssertEqual(error.code, .storage, error.message)
                failures.append(error)
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        XCTAssertTrue(recorded, "no write succeeded after the restart: \(failures.map(\.message))")
        let job = try await store.job(key: "j1")
        XCTAssertEqual(job?.items.first?.classyAssetID, 7)
        try await store.heartbeat(run)
        try await store.record(.bytesUploaded(item: 0), under: claim)
        let actual7 = try await store.job(key: "j1")?.items.first?.step
        XCTAssertEqual(actual7, .bytesUploaded)
        await TestServer.dispose(store)
    }

    /// PostgreSQL down: a call fails with `.storage` within its deadline (no hang,
    /// no crash); once the server is back, the same store works again.
    func testACallDuringAnOutageFailsTypedAndTheStoreWorksAfterIt() async throws {
        let server = try TestServer.url()
        guard let state = ProcessInfo.processInfo.environment["ASSET_WORKER_PG_STATE"] else {
            let why = "ASSET_WORKER_PG_STATE is not set: this test stops the server of scripts/start-postgres.sh"
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail(why); return }
            throw XCTSkip(why)
        }
        let store = try await TestServer.freshStore(server, operationTimeout: .seconds(3))
        _ = try await store.plan(plan("j1"))
        let run = try await store.beginRun()
        let claim = try await store.claim(["j1"], for: run)[0]

        try restartServer(state: state, "stop")
        let started = ContinuousClock.now
        let error = await assertJournalError(.storage) { try await store.record(.processed([processedItem(0)]), under: claim) }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(30), "the call was not bounded by its deadline")
        XCTAssertTrue(error?.message.contains(store.url.description) == true, error?.message ?? "")
        try restartServer(state: state, "start")

        var recorded = false
        let back = ContinuousClock.now
        while !recorded, ContinuousClock.now - back < .seconds(60) {
            do {
                try await store.record(.processed([processedItem(0)]), under: claim)
                recorded = true
            } catch {
                XCTAssertEqual(error.code, .storage, error.message)
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        XCTAssertTrue(recorded, "the store did not work again after the outage")
        let job = try await store.job(key: "j1")
        XCTAssertEqual(job?.step, .processed)
        await TestServer.dispose(store)
    }

    /// Runs scripts/restart-postgres.sh and waits for it (posix_spawn + waitpid: Foundation's
    /// `Process.waitUntilExit` was seen never to return here once the server had daemonized).
    private func restartServer(state: String, _ action: String = "restart") throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/restart-postgres.sh").path
        setenv("ASSET_WORKER_PG_STATE", state, 1)
        let args: [String] = ["/bin/bash", script, action]
        let argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        XCTAssertEqual(posix_spawn(&pid, "/bin/bash", nil, nil, argv, environ), 0, "cannot run \(script)")
        var status: Int32 = 0
        XCTAssertEqual(waitpid(pid, &status, 0), pid)
        XCTAssertEqual(status, 0, "restart-postgres.sh failed (wait status \(status))")
    }
}

func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw XCTSkip("cannot bind a loopback socket") }
    return Int(UInt16(bigEndian: address.sin_port))
}
