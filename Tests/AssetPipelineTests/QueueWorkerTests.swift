import ClassyAPI
import ClassySandbox
import Foundation
import Imaging
import XCTest
@testable import AssetPipeline

/// A queue's life against the sandbox with the in-memory store (the engine's
/// rules; the PostgreSQL store runs the same code in its own tests): enqueue
/// once, several workers share the jobs, a dead worker's jobs are finished by
/// the others, nothing is uploaded twice.
final class QueueWorkerTests: XCTestCase {
    var folder: URL!
    var sandbox: RunningSandbox!
    var client: ClassyClient!

    override func setUp() async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("queue-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        sandbox = try await ClassySandbox.start()
        try await sandbox.addCampaign(SandboxCampaign(id: 1001, name: "Spring appeal"))
        client = ClassyClient(configuration: ClassyConfiguration(
            baseURL: sandbox.baseURL, clientID: sandbox.clientID, clientSecret: sandbox.clientSecret, memberID: 7))
    }

    override func tearDown() async throws {
        await sandbox?.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    func manifest() throws -> Manifest {
        let path = folder.appendingPathComponent("manifest.yml").path
        try BatchRunnerTests.mixed.replacingOccurrences(of: "@", with: BatchRunnerTests.testImages + "/")
            .write(toFile: path, atomically: true, encoding: .utf8)
        return try Manifest.load(path: path)
    }

    func worker(_ store: any JobStore, _ manifest: Manifest = Manifest(path: nil, jobs: [])) -> BatchRunner {
        var options = BatchOptions(jobsInFlight: 2, processingThreads: 1, processor: LocalProcessor(processing: ProcessingOptions(threads: 1)))
        options.heartbeatInterval = .milliseconds(200)
        return BatchRunner(manifest: manifest, journal: store, client: client, options: options)
    }

    func testEnqueueIsIdempotentAndWorkersShareTheJobsExactlyOnce() async throws {
        let store = InMemoryJobStore()
        let sources = InMemorySourceStore()
        let manifest = try manifest()
        let first = try await worker(store, manifest).enqueue(sources: sources)
        XCTAssertEqual(first.added, 4)
        XCTAssertEqual(first.sources, 4)
        let again = try await worker(store, manifest).enqueue(sources: sources)
        XCTAssertEqual(again.added, 0, "the same manifest adds nothing")
        XCTAssertEqual(again.alreadyQueued, 4)
        XCTAssertEqual(again.batch, first.batch)
        let statsBefore = await sandbox.statistics()
        XCTAssertTrue(statsBefore.assets.isEmpty, "enqueue uploads nothing")

        // The sources are gone from the enqueuing machine's point of view: workers use the queue's copy.
        let cache = folder.appendingPathComponent("cache").path
        let workerA = worker(store), workerB = worker(store)
        async let a = workerA.work(sources: sources, cacheDirectory: cache)
        async let b = workerB.work(sources: sources, cacheDirectory: cache + "-b")
        let (one, two) = try await (a, b)
        XCTAssertEqual(one.done + two.done, 4)
        XCTAssertEqual(one.failed + two.failed, 0)
        let stats = await sandbox.statistics()
        XCTAssertEqual(stats.assets.filter { $0.state == "uploaded" }.count, 9, "every image once")
        XCTAssertTrue(stats.assets.allSatisfy { $0.uploadedTransitions <= 1 })
        let cards = try await client.eCards(campaignID: 1001).reduce(into: [ECard]()) { $0.append($1) }
        XCTAssertEqual(cards.count, 2, "every eCard once")
        let status = try await store.status()
        XCTAssertEqual(status.jobCounts, ["done": 4])
        let third = try await worker(store).work(sources: sources, cacheDirectory: cache)
        XCTAssertEqual(third.jobs, 0, "a drained queue gives a worker nothing")
    }

    /// A queue's job keeps `actions_on: server` through its payload: the worker
    /// uploads only the original and the API makes the children.
    func testAServerJobThroughTheQueueHasTheAPIMakeItsChildren() async throws {
        let store = InMemoryJobStore()
        let sources = InMemorySourceStore()
        let path = folder.appendingPathComponent("server.yml").path
        try """
            defaults: {actions_on: server}
            jobs:
              - {role: asset, source: \(BatchRunnerTests.testImages)/campaign-logo.png, actions: [{thumbnails: [100x100]}, {rotate: 90}]}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let manifest = try Manifest.load(path: path)
        _ = try await worker(store, manifest).enqueue(sources: sources)
        let summary = try await worker(store).work(sources: sources, cacheDirectory: folder.appendingPathComponent("cache").path)
        XCTAssertEqual(summary.done, 1, "\(summary.failures.map(\.error))")
        let assets = await sandbox.statistics().assets
        XCTAssertEqual(assets.filter { $0.state == "uploaded" }.count, 1, "only the original is uploaded")
        XCTAssertEqual(assets.filter { $0.parentID != nil }.compactMap(\.type).sorted(), ["rotated_90", "thumbnail_100_100"])
    }

    /// Two batches enqueued before either runs, each within the limit on its own:
    /// A wants orders 1, 2, 3 of campaign 1001 and B orders 1, 4, 5. Checked at
    /// enqueue alone, both pass; racing workers would then put two eCards at
    /// order 1 (each saw none when it started). Under the campaign's lock the
    /// second order-1 job replaces the first's image, four eCards are made, one
    /// per order, and the job that would be the fifth fails with the reason.
    func testBatchesRacingForOneCampaignKeepOneECardPerOrderAndTheLimit() async throws {
        let store = InMemoryJobStore()
        let sources = InMemorySourceStore()
        let images = BatchRunnerTests.testImages
        func batch(_ name: String, _ orders: [(Int, String)]) throws -> Manifest {
            let lines = ["jobs:"] + orders.map { "  - {role: ecard, source: \(images)/\($0.1), campaign: 1001, order: \($0.0)}" }
            let path = folder.appendingPathComponent("\(name).yml").path
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return try Manifest.load(path: path)
        }
        let a = try batch("a", [(1, "ecard-landscape-exif6.jpg"), (2, "social-ladybird.jpg"), (3, "campaign-logo.png")])
        let b = try batch("b", [(1, "social-ladybird.jpg"), (4, "ecard-landscape-exif6.jpg"), (5, "campaign-logo.png")])
        _ = try await worker(store, a).enqueue(sources: sources)
        _ = try await worker(store, b).enqueue(sources: sources)
        let cache = folder.appendingPathComponent("cache").path
        let one = worker(store), two = worker(store)
        async let x = one.work(sources: sources, cacheDirectory: cache)
        async let y = two.work(sources: sources, cacheDirectory: cache + "-2")
        let (first, second) = try await (x, y)
        XCTAssertEqual(first.done + second.done, 5)
        XCTAssertEqual(first.failed + second.failed, 1, "the fifth eCard fails")
        let cards = try await client.eCards(campaignID: 1001).reduce(into: [ECard]()) { $0.append($1) }
        let orders = cards.compactMap(\.order).sorted()
        XCTAssertEqual(cards.count, 4, "the limit holds: \(orders)")
        XCTAssertEqual(Set(orders).count, orders.count, "one eCard per order: \(orders)")
        let failure = try await store.status().failures.first
        XCTAssertTrue(failure?.error.contains("limit of 4") ?? false, failure?.error ?? "no failure recorded")
    }

    func testADeadWorkersJobIsFinishedByAnotherAndItsLateWritesAreFenced() async throws {
        let store = InMemoryJobStore()
        let sources = InMemorySourceStore()
        _ = try await worker(store, try manifest()).enqueue(sources: sources)
        // A worker claims a job and dies before doing anything with it.
        let dead = try await store.beginRun()
        let held = try await store.claimNext(limit: 1, for: dead)
        XCTAssertEqual(held.count, 1)
        await store.simulateCrash(of: dead)

        let summary = try await worker(store).work(sources: sources, cacheDirectory: folder.appendingPathComponent("cache").path)
        XCTAssertEqual(summary.done, 4, "the dead worker's job was taken over")
        let late: Result<Void, JournalError> = await {
            do throws(JournalError) {
                try await store.record(.failed(item: nil, error: "late"), under: held[0])
                return .success(())
            } catch {
                return .failure(error)
            }
        }()
        XCTAssertEqual(late.failureCode, .fenced, "a dead worker's late write is refused")
        let job = try await store.job(key: held[0].jobKey)
        XCTAssertEqual(job?.step, .done)
        XCTAssertNil(job?.error)
    }

    func testAJobWhoseSourceIsMissingFromTheQueueFailsAndOthersFinish() async throws {
        let store = InMemoryJobStore()
        let sources = InMemorySourceStore()
        let manifest = try manifest()
        _ = try await worker(store, manifest).enqueue(sources: sources)
        let damaged = InMemorySourceStore()
        for job in manifest.jobs.dropFirst() { _ = try await damaged.put(Data(try ImageFile.read(job.source))) }
        let summary = try await worker(store).work(sources: damaged, cacheDirectory: folder.appendingPathComponent("cache").path)
        XCTAssertEqual(summary.done, 3)
        XCTAssertEqual(summary.failed, 1)
        let status = try await store.status()
        XCTAssertEqual(status.failures.map(\.jobKey), [manifest.jobs[0].key])
    }
}

extension Result where Failure == JournalError {
    var failureCode: JournalError.Code? {
        if case let .failure(error) = self { return error.code }
        return nil
    }
}
