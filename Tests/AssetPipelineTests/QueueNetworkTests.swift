#if canImport(Glibc)
import Glibc
#endif
import ClassyAPI
import Foundation
import XCTest

/// The queue across a real network: PostgreSQL, the sandbox and two workers,
/// each in a network namespace of its own ("hosts" on one bridge, made by
/// scripts/netns-hosts.sh). One worker's link is cut mid-batch, past its lease,
/// then healed: the other finishes its jobs, its late writes are fenced, and
/// the batch ends exactly once (`verify --queue` agrees).
final class QueueNetworkTests: XCTestCase {
    static let pgBin = "/usr/lib/postgresql/15/bin"
    static let hosts = ["aw-db": "10.77.0.10", "aw-api": "10.77.0.11", "aw-w1": "10.77.0.21", "aw-w2": "10.77.0.22"]
    var cleanups: [() -> Void] = []

    override func tearDown() {
        for cleanup in cleanups.reversed() { cleanup() }
        cleanups = []
    }

    @discardableResult
    func sh(_ command: String, allowFailure: Bool = false) throws -> String {
        try Shell.run(command, allowFailure: allowFailure)
    }

    /// Runs a long-lived process in a namespace; returns it (stopped at tearDown).
    func spawn(_ namespace: String, _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
               output: URL) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", namespace] + arguments
        process.environment = environment
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        cleanups.append { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        return process
    }

    func testWorkersOnSeparateHostsSurviveAPartitionExactlyOnce() async throws {
        let inCI = ProcessInfo.processInfo.environment["CI"] == "true"
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip"),
              FileManager.default.isExecutableFile(atPath: Self.pgBin + "/pg_ctl") else {
            if inCI { XCTFail("network namespaces need root, iproute2 and PostgreSQL 15 (scripts/setup.sh installs them)") }
            throw XCTSkip("network namespaces need root, iproute2 and PostgreSQL 15")
        }
        let binary = try WorkerProcess.binary()
        let script = WorkerProcess.projectRoot.appendingPathComponent("scripts/netns-hosts.sh").path
        let names = Self.hosts.keys.sorted()
        try? sh("bash \(script) down \(names.joined(separator: " "))", allowFailure: true)
        do {
            try sh("bash \(script) up " + names.map { "\($0):\(Self.hosts[$0]!)" }.joined(separator: " "))
        } catch {
            // The one place a skip is allowed, outside CI: a machine where namespaces cannot be made.
            if inCI { XCTFail("cannot create network namespaces: \(error)") }
            throw XCTSkip("cannot create network namespaces here: \(error)")
        }
        cleanups.append { [self] in _ = try? sh("bash \(script) down \(names.joined(separator: " "))", allowFailure: true) }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("netns-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        cleanups.append { try? FileManager.default.removeItem(at: root) }

        // PostgreSQL on the "db" host, reachable from the bridge's subnet. (The server inherits
        // pg_ctl's descriptors: they go to /dev/null, or reading our pipe would never end.)
        let pgData = root.appendingPathComponent("pg").path
        try sh("mkdir -p \(pgData) && chown postgres:postgres \(pgData) && chmod 700 \(pgData) && chmod o+x \(root.path)")
        try sh("runuser -u postgres -- \(Self.pgBin)/initdb -D \(pgData) -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null")
        try sh("echo 'host all all 10.77.0.0/24 trust' >> \(pgData)/pg_hba.conf")
        try sh("""
            ip netns exec aw-db runuser -u postgres -- \(Self.pgBin)/pg_ctl -D \(pgData) -l \(pgData)/server.log -w -t 30 \
            -o "-c listen_addresses=10.77.0.10 -p 5432 -k \(pgData) -c fsync=off" start </dev/null >/dev/null 2>&1
            """)
        cleanups.append { [self] in
            _ = try? sh("ip netns exec aw-db runuser -u postgres -- \(Self.pgBin)/pg_ctl -D \(pgData) -m immediate -w stop", allowFailure: true)
        }
        try sh("\(Self.pgBin)/createdb -h 10.77.0.10 -p 5432 -U postgres assets")
        let queue = "postgres://postgres@10.77.0.10:5432/assets"

        // The sandbox on the "api" host.
        let sandboxLog = root.appendingPathComponent("sandbox.log")
        _ = try spawn("aw-api", [binary.path, "sandbox", "--host", "10.77.0.11", "--port", "8080", "--campaigns", "2000-2009"],
                      output: sandboxLog)
        var summary = ""
        for _ in 0 ..< 100 where !summary.contains("CLASSY_CLIENT_SECRET=") {
            try await Task.sleep(for: .milliseconds(100))
            summary = (try? String(contentsOf: sandboxLog, encoding: .utf8)) ?? ""
        }
        var environment = ProcessInfo.processInfo.environment
        for line in summary.split(separator: "\n") where line.hasPrefix("CLASSY_") {
            let parts = line.split(separator: "=", maxSplits: 1)
            environment[String(parts[0])] = String(parts[1])
        }
        environment["CLASSY_MEMBER_ID"] = "5"
        XCTAssertEqual(environment["CLASSY_API_URL"], "http://10.77.0.11:8080", summary)

        // 40 jobs, enqueued from the test's own host (the bridge).
        let images = WorkerProcess.projectRoot.appendingPathComponent("TestImages").path
        var lines = ["jobs:"]
        for campaign in 2000 ... 2009 { lines.append("  - {role: ecard, source: \(images)/campaign-logo.png, campaign: \(campaign), order: 1}") }
        for width in 8 ..< 38 { lines.append("  - {role: asset, source: \(images)/palette-basn3p08.png, actions: [{scale: {width: \(width)}}]}") }
        let manifest = root.appendingPathComponent("batch.yml").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: manifest, atomically: true, encoding: .utf8)
        let enqueue = try QueueProcessTests.run(binary, ["enqueue", manifest, "--queue", queue, "--json",
                                                         "--state-dir", root.appendingPathComponent("enq").path], environment)
        XCTAssertEqual(enqueue.status, 0, enqueue.stderr)

        // Two workers, each on its own host; w1 is cut off past its 5 s lease, then healed.
        let lease = "5"
        let w1 = try spawn("aw-w1", [binary.path, "work", "--queue", queue, "--jobs", "2", "--lease", lease,
                                     "--state-dir", root.appendingPathComponent("w1").path],
                           environment: environment, output: root.appendingPathComponent("w1.log"))
        let w2 = try spawn("aw-w2", [binary.path, "work", "--queue", queue, "--jobs", "2", "--lease", lease,
                                     "--state-dir", root.appendingPathComponent("w2").path],
                           environment: environment, output: root.appendingPathComponent("w2.log"))
        try await Task.sleep(for: .seconds(1.5))
        try sh("bash \(script) cut aw-w1")
        try await Task.sleep(for: .seconds(12))
        try sh("bash \(script) heal aw-w1")
        for worker in [w1, w2] {
            while worker.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        }
        let w1Log = (try? String(contentsOf: root.appendingPathComponent("w1.log"), encoding: .utf8)) ?? ""
        let w2Log = (try? String(contentsOf: root.appendingPathComponent("w2.log"), encoding: .utf8)) ?? ""
        print("netns: w1 (cut for 12 s) exit \(w1.terminationStatus), w2 exit \(w2.terminationStatus)")
        XCTAssertEqual(w2.terminationStatus, 0, w2Log)
        XCTAssertTrue([0, 69, 74].contains(w1.terminationStatus), "the cut-off worker stops cleanly: \(w1Log)")

        // Whatever w1 left, a last worker finishes; then everything agrees, once.
        let last = try QueueProcessTests.run(binary, ["work", "--queue", queue, "--lease", lease,
                                                      "--state-dir", root.appendingPathComponent("w3").path], environment)
        XCTAssertEqual(last.status, 0, last.stderr)
        let status = try QueueProcessTests.run(binary, ["status", "--queue", queue, "--json"], [:])
        XCTAssertTrue(status.stdout.contains("\"jobs\":{\"done\":40}"), status.stdout)
        let verify = try QueueProcessTests.run(binary, ["verify", "--queue", queue], environment)
        XCTAssertEqual(verify.status, 0, "verify --queue: \(verify.stdout) \(verify.stderr)")
        // Every campaign has its one eCard, asked of the API itself.
        let client = ClassyClient(configuration: ClassyConfiguration(
            baseURL: environment["CLASSY_API_URL"]!, clientID: environment["CLASSY_CLIENT_ID"]!,
            clientSecret: environment["CLASSY_CLIENT_SECRET"]!, memberID: 5))
        for campaign in 2000 ... 2009 {
            var cards = 0
            for try await _ in client.eCards(campaignID: campaign) { cards += 1 }
            XCTAssertEqual(cards, 1, "campaign \(campaign): its eCard once")
        }
    }
}
