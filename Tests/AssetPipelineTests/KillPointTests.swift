import ClassyAPI
import ClassySandbox
import Foundation
import XCTest
@testable import AssetPipeline
import AssetJournalSQLite

/// `kill -9` between every pair of journal writes: the worker process kills
/// itself right after its Nth write (`ASSET_WORKER_KILL_AFTER_WRITES=N`), then
/// a run without the kill must finish the batch with every image uploaded once
/// and every eCard attached once, for every N. Also the CLI's refusals of an
/// incomplete configuration.
final class KillPointTests: XCTestCase {
    static let projectRoot = ResumeAfterKillTests.projectRoot

    func binary() throws -> URL { try WorkerProcess.binary() }

    func run(_ binary: URL, _ arguments: [String], _ environment: [String: String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    func testAKillAfterEveryJournalWriteStillEndsWithEverythingUploadedOnce() async throws {
        let binary = try binary()
        let images = Self.projectRoot.appendingPathComponent("TestImages").path
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("killpoints-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let manifest = root.appendingPathComponent("m.yml").path
        try """
        jobs:
          - role: ecard
            source: \(images)/social-ladybird.jpg
            campaign: 1001
            order: 3
          - role: logo
            source: \(images)/campaign-logo.png
            campaign: 1001
            thumbnails: [100x100]
        """.write(toFile: manifest, atomically: true, encoding: .utf8)

        var killPoints = 0
        // N runs from the first write until a run no longer reaches its kill point (all writes passed).
        for n in 1 ... 80 {
            // A fresh sandbox per kill point, so each is checked on its own.
            let sandbox = try await ClassySandbox.start()
            try await sandbox.addCampaign(SandboxCampaign(id: 1001, name: "Kill points"))
            let environment = WorkerProcess.environment(for: sandbox)
            let state = root.appendingPathComponent("state-\(n)").path
            let arguments = ["upload", manifest, "--state-dir", state, "--jobs", "1"]
            var killing = environment
            killing["ASSET_WORKER_KILL_AFTER_WRITES"] = String(n)
            let killed = try run(binary, arguments, killing)
            if killed.status == 0 {
                await sandbox.stop()
                break // past the last write: every kill point was tried
            }
            killPoints += 1
            XCTAssertEqual(killed.status, 9, "write \(n): the process kills itself (SIGKILL): \(killed.stderr)")
            let finished = try run(binary, arguments, environment)
            XCTAssertEqual(finished.status, 0, "write \(n): the next run finishes: \(finished.stderr)")

            let journal = try SQLiteJournal(path: state + "/journal.sqlite")
            let items = try await journal.allAssets()
            XCTAssertEqual(items.count, 4, "write \(n)")
            let stats = await sandbox.statistics()
            let uploaded = Set(stats.assets.filter { $0.state == "uploaded" }.map(\.id))
            XCTAssertEqual(uploaded, Set(items.compactMap(\.classyAssetID)), "write \(n): every image once, none missing")
            XCTAssertTrue(stats.assets.allSatisfy { $0.uploadedTransitions <= 1 }, "write \(n)")
            let client = ClassyClient(configuration: ClassyConfiguration(
                baseURL: sandbox.baseURL, clientID: sandbox.clientID, clientSecret: sandbox.clientSecret, memberID: 5))
            var cards: [ECard] = []
            for try await card in client.eCards(campaignID: 1001) { cards.append(card) }
            XCTAssertEqual(cards.count, 1, "write \(n): the eCard once")
            // A kill can leave at most one pending asset the journal never saw per job
            // in flight (created by the API, killed before its id was written); --jobs 1.
            let pending = stats.assets.filter { $0.state == "pending" }.count
            XCTAssertLessThanOrEqual(pending, 1, "write \(n)")
            await sandbox.stop()
        }
        XCTAssertGreaterThan(killPoints, 10, "the batch has that many journal writes")
        print("kill points: \(killPoints) (a kill after every journal write of the batch), each followed by a clean run")
    }

    /// The same for `actions_on: server`, from the command line (`--actions-on server`):
    /// after a kill at every journal write and a clean run, the API holds each
    /// child exactly once, and the journal records those very children.
    func testAKillAfterEveryJournalWriteOfAServerJobLeavesEachChildMadeOnce() async throws {
        let binary = try binary()
        let image = Self.projectRoot.appendingPathComponent("TestImages/campaign-logo.png").path
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("killpoints-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        var killPoints = 0
        // After each write (between two steps), and before each write (after the action it
        // records: the `/process` call made the children, the kill lands before their record).
        for (variable, name) in [("ASSET_WORKER_KILL_AFTER_WRITES", "after"), ("ASSET_WORKER_KILL_BEFORE_WRITE", "before")] {
          for n in 1 ... 40 {
            let sandbox = try await ClassySandbox.start()
            let environment = WorkerProcess.environment(for: sandbox)
            let state = root.appendingPathComponent("state-\(name)-\(n)").path
            let arguments = ["upload", image, "--role", "asset", "--thumbnails", "100x100,50x50", "--actions-on", "server",
                             "--state-dir", state, "--jobs", "1"]
            var killing = environment
            killing[variable] = String(n)
            let killed = try run(binary, arguments, killing)
            if killed.status == 0 {
                await sandbox.stop()
                break
            }
            killPoints += 1
            XCTAssertEqual(killed.status, 9, "\(name) write \(n): \(killed.stderr)")
            let finished = try run(binary, arguments, environment)
            XCTAssertEqual(finished.status, 0, "write \(n): the next run finishes: \(finished.stderr)")

            let items = try await SQLiteJournal(path: state + "/journal.sqlite").allAssets()
            let stats = await sandbox.statistics()
            let originals = stats.assets.filter { $0.state == "uploaded" }
            XCTAssertEqual(originals.count, 1, "write \(n): the original once")
            let children = stats.assets.filter { $0.parentID != nil }
            XCTAssertEqual(children.compactMap(\.type).sorted(), ["thumbnail_100_100", "thumbnail_50_50"], "write \(n): each child once")
            XCTAssertEqual(Set(items.compactMap(\.classyAssetID)), Set((originals + children).map(\.id)), "write \(n): the journal has them all")
            await sandbox.stop()
          }
        }
        XCTAssertGreaterThanOrEqual(killPoints, 12, "plan, processed, 3 upload steps, the request, the children, done; after and before each")
    }

    func testMissingCredentialsAreRefusedUnlessSandboxIsAsked() throws {
        let binary = try binary()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("creds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let image = Self.projectRoot.appendingPathComponent("TestImages/campaign-logo.png").path
        var environment = ProcessInfo.processInfo.environment
        for name in ["CLASSY_CLIENT_ID", "CLASSY_CLIENT_SECRET", "CLASSY_MEMBER_ID", "CLASSY_API_URL"] { environment[name] = nil }
        let arguments = ["upload", image, "--role", "asset", "--state-dir", root.path + "/state"]

        let none = try run(binary, arguments, environment)
        XCTAssertEqual(none.status, 64, none.stderr)
        XCTAssertTrue(none.stderr.contains("--sandbox"), none.stderr)

        var partial = environment
        partial["CLASSY_CLIENT_SECRET"] = "s3cret"
        partial["CLASSY_API_URL"] = "http://127.0.0.1:9"
        let lost = try run(binary, arguments, partial)
        XCTAssertEqual(lost.status, 64, "a lost CLASSY_CLIENT_ID is an error, never a silent sandbox: \(lost.stderr)")
        XCTAssertTrue(lost.stderr.contains("client ID"), lost.stderr)

        let sandboxed = try run(binary, arguments + ["--sandbox", "--json"], environment)
        XCTAssertEqual(sandboxed.status, 0, sandboxed.stderr)
        let lines = sandboxed.stdout.split(separator: "\n")
        XCTAssertFalse(lines.isEmpty)
        for line in lines {
            XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(line.utf8)), "--json prints only JSON lines: \(line)")
        }

        // The same state dir, now pointed at another API: refused (64), naming both targets.
        var other = environment
        other["CLASSY_CLIENT_ID"] = "abc"
        other["CLASSY_CLIENT_SECRET"] = "s3cret"
        other["CLASSY_MEMBER_ID"] = "5"
        other["CLASSY_API_URL"] = "http://127.0.0.1:9"
        let switched = try run(binary, arguments, other)
        XCTAssertEqual(switched.status, 64, switched.stderr)
        XCTAssertTrue(switched.stderr.contains("sandbox:") && switched.stderr.contains("http://127.0.0.1:9"), switched.stderr)
    }
}

