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
