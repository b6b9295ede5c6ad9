#if canImport(Glibc)
import Glibc
#endif
import AssetPipeline
import ClassySandbox
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// What workers of one queue share besides the jobs, as an operator runs them:
/// the API's rate limit (the app's, not a process's) and the sources, kept in
/// an S3 bucket (moto) when the queue says so.
final class QueueSharingTests: XCTestCase {
    var root: URL!
    var queueURL: String!

    override func setUp() async throws {
        guard let admin = ProcessInfo.processInfo.environment["DATABASE_URL"] else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                XCTFail("DATABASE_URL is not set: scripts/test.sh starts PostgreSQL for these tests")
            }
            throw XCTSkip("DATABASE_URL is not set (scripts/test.sh starts a throwaway PostgreSQL)")
        }
        root = FileManager.default.temporaryDirectory.appendingPathComponent("queue-sharing-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let name = "aw_share_\(UUID().uuidString.prefix(8).lowercased())"
        let created = try QueueProcessTests.run(URL(fileURLWithPath: "/usr/bin/psql"), [admin, "-q", "-c", "CREATE DATABASE \(name)"], [:])
        XCTAssertEqual(created.status, 0, created.stderr)
        var components = URLComponents(string: admin)!
        components.path = "/" + name
        queueURL = components.string!
    }

    override func tearDown() async throws {
        if let root { try? FileManager.default.removeItem(at: root) }
    }

    /// `jobs` asset jobs, each one small PNG scaled to its own width.
    func writeManifest(jobs: Int, name: String = "batch") throws -> String {
        let images = WorkerProcess.projectRoot.appendingPathComponent("TestImages").path
        var lines = ["jobs:"]
        for width in 8 ..< 8 + jobs {
            lines.append("  - {role: asset, source: \(images)/palette-basn3p08.png, actions: [{scale: {width: \(width)}}]}")
        }
        let path = root.appendingPathComponent("\(name).yml").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func start(_ binary: URL, _ name: String, _ arguments: [String], _ environment: [String: String]) throws -> (Process, OutputFile, OutputFile) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments + ["--state-dir", root.appendingPathComponent(name).path]
        process.environment = environment
        let out = try OutputFile(root.appendingPathComponent("\(name).out")), err = try OutputFile(root.appendingPathComponent("\(name).err"))
        process.standardOutput = out.handle
        process.standardError = err.handle
        try process.run()
        return (process, out, err)
    }

    /// The sandbox allows the app 15 requests a second, whichever token asks.
    /// Two workers (one `upload --queue`, one `work`) each believing the whole
    /// window is theirs go over it; spending one budget kept in the queue, neither does.
    func testTwoWorkersSpendOneRateLimitThroughTheQueue() async throws {
        let binary = try WorkerProcess.binary()
        var configuration = SandboxConfiguration()
        configuration.rateLimit = SandboxRateLimit(limit: 15, windowSeconds: 1)
        let sandbox = try await ClassySandbox.start(configuration)
        defer { Task { await sandbox.stop() } }
        let environment = WorkerProcess.environment(for: sandbox)
        let manifest = try writeManifest(jobs: 16)
        let uploader = try start(binary, "up", ["upload", manifest, "--queue", queueURL, "--jobs", "4", "--json"], environment)
        // The second worker joins once the jobs are in the queue.
        try await Task.sleep(for: .milliseconds(1500))
        let worker = try start(binary, "w", ["work", "--queue", queueURL, "--jobs", "4", "--json"], environment)
        for (process, _, err) in [uploader, worker] {
            process.waitUntilExit(orKillAfter: 240)
            XCTAssertEqual(process.terminationStatus, 0, err.text)
        }
        let records = [uploader, worker].map { $0.1.text.split(separator: "\n").count }
        XCTAssertEqual(records.reduce(0, +), 32, "every image once: \(records)")
        let stats = await sandbox.statistics()
        XCTAssertEqual(stats.assets.filter { $0.state == "uploaded" }.count, 32)
        XCTAssertEqual(stats.requestsOverLimit, 0, "requests over the app's limit (the workers did not share it)")
        print("rate limit shared: records per worker \(records), requests over the limit \(stats.requestsOverLimit)")

        // status --batch: the batch's jobs; an unknown batch has none.
        let batch = BatchRunner.batchID(of: try Manifest.load(path: manifest))
        let status = try QueueProcessTests.run(binary, ["status", "--queue", queueURL, "--batch", batch, "--json"], [:])
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.contains("\"jobs\":{\"done\":16}"), status.stdout)
        let other = try QueueProcessTests.run(binary, ["status", "--queue", queueURL, "--batch", "0000000000000000", "--json"], [:])
        XCTAssertTrue(other.stdout.contains("\"jobs\":{}"), other.stdout)
        let verify = try QueueProcessTests.run(binary, ["verify", "--queue", queueURL, "--batch", batch], environment)
        XCTAssertEqual(verify.status, 0, verify.stderr)
        XCTAssertTrue(verify.stderr.contains("Checked 32 recorded asset(s)"), verify.stderr)
    }

    /// `enqueue --sources s3://…` keeps the sources in a bucket (moto); a worker
    /// on another machine (its own state folder, no --sources) reads them from
    /// there, and a worker naming another place is refused.
    func testSourcesInAnS3BucketReachAWorkerThatWasNotToldWhereTheyAre() async throws {
        guard let moto = ProcessInfo.processInfo.environment["MOTO_ENDPOINT"], !moto.isEmpty else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("MOTO_ENDPOINT is not set: scripts/test.sh starts moto") }
            throw XCTSkip("MOTO_ENDPOINT is not set (scripts/test.sh starts moto)")
        }
        let bucket = "aw-sources-\(UUID().uuidString.prefix(8).lowercased())"
        // moto in its default mode creates a bucket on a plain PUT.
        var create = URLRequest(url: URL(string: "\(moto)/\(bucket)")!)
        create.httpMethod = "PUT"
        let (_, response) = try await URLSession.shared.data(for: create)
        XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 200)

        let binary = try WorkerProcess.binary()
        let sandbox = try await ClassySandbox.start()
        defer { Task { await sandbox.stop() } }
        var environment = WorkerProcess.environment(for: sandbox)
        environment["AWS_ACCESS_KEY_ID"] = "AKIDMOTOTEST"
        environment["AWS_SECRET_ACCESS_KEY"] = "moto-secret"
        environment["AWS_REGION"] = "us-east-1"
        environment["AWS_ENDPOINT_URL"] = moto
        let manifest = try writeManifest(jobs: 3)
        let location = "s3://\(bucket)/team-a"
        let enqueued = try QueueProcessTests.run(binary, ["enqueue", manifest, "--queue", queueURL, "--sources", location, "--json",
                                                          "--state-dir", root.appendingPathComponent("enq").path], environment)
        XCTAssertEqual(enqueued.status, 0, enqueued.stderr)
        XCTAssertTrue(enqueued.stdout.contains("\"sources\":1"), enqueued.stdout)
        // The queue holds no bytes of its own: the one source is in the bucket.
        let listing = try await URLSession.shared.data(from: URL(string: "\(moto)/\(bucket)?list-type=2&prefix=team-a/sources/")!)
        XCTAssertTrue(String(decoding: listing.0, as: UTF8.self).contains("<KeyCount>1</KeyCount>"), String(decoding: listing.0, as: UTF8.self))

        let refused = try QueueProcessTests.run(binary, ["work", "--queue", queueURL, "--sources", "postgres",
                                                         "--state-dir", root.appendingPathComponent("w0").path], environment)
        XCTAssertEqual(refused.status, 64, "a worker naming another source store is refused: \(refused.stderr)")
        XCTAssertTrue(refused.stderr.contains(location), refused.stderr)

        let worked = try QueueProcessTests.run(binary, ["work", "--queue", queueURL, "--json",
                                                        "--state-dir", root.appendingPathComponent("w1").path], environment)
        XCTAssertEqual(worked.status, 0, worked.stderr)
        XCTAssertEqual(worked.stdout.split(separator: "\n").count, 6, "three jobs, an original and a child each")
        let stats = await sandbox.statistics()
        XCTAssertEqual(stats.assets.filter { $0.state == "uploaded" }.count, 6)
    }
}
