#if canImport(Glibc)
import Glibc
#endif
import ClassyAPI
import ClassySandbox
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// The PostgreSQL queue end to end, as an operator runs it: `enqueue` once,
/// three `work` processes on one queue against the sandbox, one of them killed
/// and one stopped past its lease in the second test. Exactly once is checked
/// on the sandbox's side (every image uploaded once, every eCard once).
final class QueueProcessTests: XCTestCase {
    var sandbox: RunningSandbox!
    var root: URL!
    var queueURL: String!

    static let campaigns = 2000 ..< 2030
    static let assetJobs = 120

    override func setUp() async throws {
        guard let admin = ProcessInfo.processInfo.environment["DATABASE_URL"] else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                XCTFail("DATABASE_URL is not set: scripts/test.sh starts PostgreSQL for these tests")
            }
            throw XCTSkip("DATABASE_URL is not set (scripts/test.sh starts a throwaway PostgreSQL)")
        }
        root = FileManager.default.temporaryDirectory.appendingPathComponent("queue-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        // A database of its own per test.
        let name = "aw_queue_\(UUID().uuidString.prefix(8).lowercased())"
        let created = try Self.run(URL(fileURLWithPath: "/usr/bin/psql"), [admin, "-q", "-c", "CREATE DATABASE \(name)"], [:])
        XCTAssertEqual(created.status, 0, created.stderr)
        var components = URLComponents(string: admin)!
        components.path = "/" + name
        queueURL = components.string!
        sandbox = try await ClassySandbox.start()
        for campaign in Self.campaigns { try await sandbox.addCampaign(SandboxCampaign(id: campaign, name: "Campaign \(campaign)")) }
    }

    override func tearDown() async throws {
        await sandbox?.stop()
        if let root { try? FileManager.default.removeItem(at: root) }
    }

    static func run(_ binary: URL, _ arguments: [String], _ environment: [String: String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if !environment.isEmpty { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    /// 150 jobs: an eCard for each of 30 campaigns, and 120 assets (one small PNG scaled to 120 widths).
    func writeManifest() throws -> String {
        let images = WorkerProcess.projectRoot.appendingPathComponent("TestImages").path
        var lines = ["jobs:"]
        for campaign in Self.campaigns {
            lines.append("  - {role: ecard, source: \(images)/campaign-logo.png, campaign: \(campaign), order: 1}")
        }
        for width in 8 ..< 8 + Self.assetJobs {
            lines.append("  - {role: asset, source: \(images)/palette-basn3p08.png, actions: [{scale: {width: \(width)}}]}")
        }
        let path = root.appendingPathComponent("batch.yml").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A `work` process with its own state folder (its source cache), as on its own machine.
    /// Output goes to files, read after exit: pipes read one after the other would fill
    /// (a worker printing JSON lines blocks on a full pipe while the test waits on another).
    func startWorker(_ binary: URL, _ name: String, lease: Int, extra: [String] = []) throws -> (Process, OutputFile, OutputFile) {
        let process = Process()
        process.executableURL = binary
        process.arguments = ["work", "--queue", queueURL, "--jobs", "4", "--lease", String(lease), "--json",
                             "--state-dir", root.appendingPathComponent(name).path] + extra
        process.environment = WorkerProcess.environment(for: sandbox)
        let out = try OutputFile(root.appendingPathComponent("\(name).out")), err = try OutputFile(root.appendingPathComponent("\(name).err"))
        process.standardOutput = out.handle
        process.standardError = err.handle
        try process.run()
        return (process, out, err)
    }

    func enqueue(_ binary: URL) throws {
        let manifest = try writeManifest()
        let first = try Self.run(binary, ["enqueue", manifest, "--queue", queueURL, "--json", "--state-dir", root.appendingPathComponent("enq").path],
                                 WorkerProcess.environment(for: sandbox))
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("\"added\":150"), first.stdout)
        let again = try Self.run(binary, ["enqueue", manifest, "--queue", queueURL, "--json", "--state-dir", root.appendingPathComponent("enq").path],
                                 WorkerProcess.environment(for: sandbox))
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("\"added\":0"), "re-enqueueing adds nothing: \(again.stdout)")
    }

    /// Every image on the platform once, every campaign with its one eCard, and the queue all done.
    func assertExactlyOnce(_ binary: URL, file: StaticString = #filePath, line: UInt = #line) async throws {
        let stats = await sandbox.statistics()
        let uploaded = stats.assets.filter { $0.state == "uploaded" }
        // Each eCard job: the original and its 600x400 cover crop; each asset job: the original and one scaled child.
        XCTAssertEqual(uploaded.count, 2 * Self.campaigns.count + 2 * Self.assetJobs, "every image uploaded once", file: file, line: line)
        XCTAssertTrue(stats.assets.allSatisfy { $0.uploadedTransitions <= 1 }, "confirmed once", file: file, line: line)
        let client = ClassyClient(configuration: ClassyConfiguration(
            baseURL: sandbox.baseURL, clientID: sandbox.clientID, clientSecret: sandbox.clientSecret, memberID: 5))
        for campaign in Self.campaigns {
            var cards: [ECard] = []
            for try await card in client.eCards(campaignID: campaign) { cards.append(card) }
            XCTAssertEqual(cards.count, 1, "campaign \(campaign): its eCard once", file: file, line: line)
        }
        let status = try Self.run(binary, ["status", "--queue", queueURL, "--json"], [:])
        XCTAssertEqual(status.status, 0, status.stderr, file: file, line: line)
        XCTAssertTrue(status.stdout.contains("\"jobs\":{\"done\":150}"), status.stdout, file: file, line: line)
    }

    /// Three workers, the third a service (`--follow`, metrics): the batch is
    /// shared, the service's metrics count what it did, and SIGTERM drains it (exit 0).
    func testThreeWorkersShareA150JobBatchExactlyOnce() async throws {
        let binary = try WorkerProcess.binary()
        try enqueue(binary)
        let metricsPort = Int.random(in: 20_000 ... 60_000)
        var workers = try (1 ... 2).map { try startWorker(binary, "w\($0)", lease: 10) }
        workers.append(try startWorker(binary, "w3", lease: 10, extra: ["--follow", "--metrics-port", String(metricsPort)]))
        var recordsPerWorker: [Int] = []
        for (process, out, err) in workers.prefix(2) {
            process.waitUntilExit(orKillAfter: 240)
            let stdout = out.text
            let stderr = err.text
            XCTAssertEqual(process.terminationStatus, 0, stderr)
            recordsPerWorker.append(stdout.split(separator: "\n").count)
        }
        // The first two leave when every job is done; the service stays until told to stop.
        let service = workers[2].0
        XCTAssertTrue(service.isRunning, "--follow keeps the worker waiting for jobs")
        let metrics = try await Self.fetch("http://127.0.0.1:\(metricsPort)/metrics")
        let health = try await Self.fetch("http://127.0.0.1:\(metricsPort)/healthz")
        XCTAssertEqual(health.trimmingCharacters(in: .whitespacesAndNewlines), "ok")
        for name in ["asset_worker_jobs_claimed_total", "asset_worker_jobs_done_total", "asset_worker_images_uploaded_total",
                     "asset_worker_bytes_uploaded_total", "asset_worker_lease_renewals_total", "asset_worker_queue_depth",
                     "asset_worker_api_request_duration_seconds"] {
            XCTAssertTrue(metrics.contains(name), "metric \(name) missing from:\n\(metrics.prefix(2000))")
        }
        kill(service.processIdentifier, SIGTERM)
        service.waitUntilExit(orKillAfter: 120)
        let stdout = workers[2].1.text
        let stderr = workers[2].2.text
        XCTAssertEqual(service.terminationStatus, 0, "SIGTERM drains: \(stderr)")
        let serviceRecords = stdout.split(separator: "\n").count
        recordsPerWorker.append(serviceRecords)
        let done = Self.metricValue("asset_worker_jobs_done_total", in: metrics)
        print("queue: records uploaded per worker \(recordsPerWorker); the service's jobs_done_total \(done.map { String($0) } ?? "-")")
        XCTAssertEqual(recordsPerWorker.reduce(0, +), 2 * Self.campaigns.count + 2 * Self.assetJobs)
        XCTAssertTrue(recordsPerWorker.allSatisfy { $0 > 0 }, "the work is spread over all three: \(recordsPerWorker)")
        try await assertExactlyOnce(binary)
    }

    static func fetch(_ url: String) async throws -> String {
        var lastError: (any Error)?
        for _ in 0 ..< 50 {
            do {
                let (data, _) = try await URLSession.shared.data(from: URL(string: url)!)
                return String(decoding: data, as: UTF8.self)
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        throw lastError!
    }

    /// The value of an unlabelled sample in Prometheus' text format.
    static func metricValue(_ name: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    /// PostgreSQL stopped for 3 s mid-batch, then started again: the workers pause
    /// (their calls are retried) and the batch completes, no job failed for it.
    func testAPostgreSQLOutageMidBatchPausesTheWorkersAndTheBatchCompletes() async throws {
        let binary = try WorkerProcess.binary()
        guard ProcessInfo.processInfo.environment["ASSET_WORKER_PG_STATE"] != nil else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("ASSET_WORKER_PG_STATE is not set (scripts/test.sh sets it)") }
            throw XCTSkip("ASSET_WORKER_PG_STATE is not set: the server is not one scripts/start-postgres.sh started")
        }
        try enqueue(binary)
        let workers = try (1 ... 2).map { try startWorker(binary, "w\($0)", lease: 15) }
        try await Task.sleep(for: .seconds(1.5))
        let restart = WorkerProcess.projectRoot.appendingPathComponent("scripts/restart-postgres.sh").path
        try Shell.run("bash \(restart) stop")
        try await Task.sleep(for: .seconds(3))
        try Shell.run("bash \(restart) start")
        for (process, _, err) in workers {
            process.waitUntilExit(orKillAfter: 240)
            let stderr = err.text
            XCTAssertEqual(process.terminationStatus, 0, "a worker rides out the outage: \(stderr)")
        }
        try await assertExactlyOnce(binary)
        let status = try Self.run(binary, ["status", "--queue", queueURL, "--json"], [:])
        XCTAssertFalse(status.stdout.contains("\"failed\""), "no job failed for the outage: \(status.stdout)")
    }

    func testAKilledWorkerAndAStoppedOneLoseNothingAndDoNothingTwice() async throws {
        let binary = try WorkerProcess.binary()
        try enqueue(binary)
        // Short enough to keep the test quick, long enough that a live worker on a loaded 2-core machine keeps it.
        let lease = 5
        let workers = try (1 ... 3).map { try startWorker(binary, "w\($0)", lease: lease) }
        // Seeded moments, so a failure can be replayed.
        var generator = SeededGenerator(seed: 20261203)
        // (A worker needs about a second to start and connect; the batch takes about ten.)
        let killAfter = Double.random(in: 2.0 ... 3.5, using: &generator)
        let stopAfter = Double.random(in: 2.0 ... 3.5, using: &generator)
        try await Task.sleep(for: .seconds(min(killAfter, stopAfter)))
        kill(workers[0].0.processIdentifier, SIGKILL)
        try await Task.sleep(for: .seconds(abs(killAfter - stopAfter)))
        kill(workers[1].0.processIdentifier, SIGSTOP)
        // Past its lease: the others take its jobs; its late writes must be refused by the fence.
        try await Task.sleep(for: .seconds(Double(lease) * 2 + 1))
        kill(workers[1].0.processIdentifier, SIGCONT)
        var outcomes: [String] = []
        for (index, (process, _, err)) in workers.enumerated() {
            process.waitUntilExit(orKillAfter: 240)
            let stderr = err.text
            outcomes.append("worker \(index + 1): \(process.terminationReason == .uncaughtSignal ? "signal" : "exit") \(process.terminationStatus)")
            if index == 2 { XCTAssertEqual(process.terminationStatus, 0, stderr) }
            if index == 1 {
                // The stopped worker either finished what it still held or learnt it lost its lease (74).
                XCTAssertTrue([0, 74].contains(process.terminationStatus), stderr)
            }
        }
        print("queue kill/stop (kill at \(String(format: "%.2f", killAfter)) s, stop at \(String(format: "%.2f", stopAfter)) s): \(outcomes)")
        // The killed worker's unfinished jobs: if the survivor ended before the lease expired, a new worker finishes them.
        let last = try Self.run(binary, ["work", "--queue", queueURL, "--lease", String(lease), "--state-dir", root.appendingPathComponent("w4").path],
                                WorkerProcess.environment(for: sandbox))
        XCTAssertEqual(last.status, 0, last.stderr)
        try await assertExactlyOnce(binary)
    }
}

/// A small deterministic generator (SplitMix64) for seeded test moments.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A file a child process writes its output to; read once the process has exited.
struct OutputFile {
    let url: URL
    let handle: FileHandle
    init(_ url: URL) throws {
        self.url = url
        FileManager.default.createFile(atPath: url.path, contents: nil)
        handle = try FileHandle(forWritingTo: url)
    }
    var text: String { (try? String(contentsOf: url, encoding: .utf8)) ?? "" }
}
