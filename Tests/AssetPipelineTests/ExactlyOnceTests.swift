import ClassyAPI
import ClassySandbox
import Foundation
import Imaging
import XCTest
@testable import AssetPipeline
@testable import AssetJournalSQLite

/// The edges of a job's life that used to break "nothing lost, nothing done
/// twice" (issue: exactly-once against the real API). Each test reproduces one
/// reported defect against the real sandbox, journal and codecs.
final class ExactlyOnceTests: XCTestCase {
    static let projectRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let testImages = projectRoot.appendingPathComponent("TestImages").path

    var folder: URL!
    var sandbox: RunningSandbox!
    var client: ClassyClient!

    override func setUp() async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("once-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        sandbox = try await ClassySandbox.start()
        try await sandbox.addCampaign(SandboxCampaign(id: 1001, name: "Exactly once"))
        client = makeClient()
    }

    override func tearDown() async throws {
        await sandbox?.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    func makeClient(secret: String? = nil, retry: RetryPolicy? = nil) -> ClassyClient {
        var options = ClassyClient.Options()
        if let retry { options.retry = retry }
        return ClassyClient(configuration: ClassyConfiguration(
            baseURL: sandbox.baseURL, clientID: sandbox.clientID, clientSecret: secret ?? sandbox.clientSecret, memberID: 7),
            options: options)
    }

    func manifest(_ yaml: String) throws -> Manifest {
        let path = folder.appendingPathComponent("manifest.yml").path
        try yaml.replacingOccurrences(of: "@", with: Self.testImages + "/").write(toFile: path, atomically: true, encoding: .utf8)
        return try Manifest.load(path: path)
    }

    var journalPath: String { folder.appendingPathComponent("journal.sqlite").path }

    func runner(_ manifest: Manifest, journal: (any JournalStore)? = nil, client: ClassyClient? = nil,
                target: APITarget? = nil) throws -> BatchRunner {
        BatchRunner(manifest: manifest, journal: try journal ?? SQLiteJournal(path: journalPath), client: client ?? self.client,
                    options: BatchOptions(jobsInFlight: 2, processingThreads: 1, processor: LocalProcessor(processing: ProcessingOptions(threads: 1)),
                                          target: target))
    }

    static let twoECards = """
        jobs:
          - role: ecard
            source: @ecard-landscape-exif6.jpg
            campaign: 1001
            order: 1
          - role: ecard
            source: @social-ladybird.jpg
            campaign: 1001
            order: 2
        """

    func eCards() async throws -> [ECard] {
        var cards: [ECard] = []
        for try await card in client.eCards(campaignID: 1001) { cards.append(card) }
        return cards
    }

    // 1. A kill between `attached` and `done` used to leave a job refused forever ("already attached").
    func testAJobStoppedBetweenAttachedAndDoneFinishesOnTheNextRunWithoutAttachingAgain() async throws {
        let first = try await runner(try manifest(Self.twoECards)).run()
        XCTAssertEqual(first.done, 2)
        let journal = try SQLiteJournal(path: journalPath)
        // What a kill right after the `attached` write leaves behind.
        try journal.executeForTesting("UPDATE job SET step = 'attached', doneAt = NULL")
        try journal.executeForTesting("UPDATE item SET step = 'markedUploaded'")
        let assetsBefore = await sandbox.statistics().assets.count

        let second = try await runner(try manifest(Self.twoECards)).run()
        XCTAssertEqual(second.failed, 0, "\(second.failures.map(\.error))")
        XCTAssertEqual(second.done, 2)
        let assetsAfter = await sandbox.statistics().assets.count
        XCTAssertEqual(assetsAfter, assetsBefore, "nothing uploaded again")
        let cards = try await eCards()
        XCTAssertEqual(cards.count, 2, "nothing attached again")
        let status = try await journal.status()
        XCTAssertEqual(status.jobCounts["done"], 2)
    }

    // 2. A run stopped after persisting the intent to create an eCard (the POST may
    // or may not have gone out) looks the eCard up and adopts it.
    func testAnECardCreatedButNotJournaledIsAdoptedNotCreatedTwice() async throws {
        let first = try await runner(try manifest(Self.twoECards)).run()
        XCTAssertEqual(first.done, 2)
        let journal = try SQLiteJournal(path: journalPath)
        // The eCards exist on the API; the journal saw only the intents (a lost answer, then a kill).
        try journal.executeForTesting("""
            UPDATE job SET step = 'markedUploaded', doneAt = NULL, attachedTo = NULL,
                attachIntent = 'create ecard (test)'
            """)
        try journal.executeForTesting("UPDATE item SET step = 'markedUploaded'")
        let second = try await runner(try manifest(Self.twoECards)).run()
        XCTAssertEqual(second.done, 2, "\(second.failures.map(\.error))")
        let cards = try await eCards()
        XCTAssertEqual(cards.count, 2, "adopted, not created again")
        let job = try await journal.job(key: try manifest(Self.twoECards).jobs[0].key)
        XCTAssertNil(job?.attachIntent, "the intent is cleared by the attachment")
        XCTAssertNotNil(job?.attachedTo)
    }

    // An eCard in the reference's shape has no `id`, so one already at an order cannot be
    // updated (PUT /eCards/{id}); creating another there used to leave two eCards at one order.
    func testAnECardWithoutAnIDAtATakenOrderIsRefusedNotCreatedAgain() async throws {
        var faults = SandboxFaults()
        faults.eCardsWithoutID = true
        await sandbox.setFaults(faults)
        let first = try await runner(try manifest("""
            jobs:
              - {role: ecard, source: @social-ladybird.jpg, campaign: 1001, order: 1}
            """)).run()
        XCTAssertEqual(first.done, 1, "\(first.failures.map(\.error))")
        let second = try await runner(try manifest("""
            jobs:
              - {role: ecard, source: @ecard-landscape-exif6.jpg, campaign: 1001, order: 1}
            """)).run()
        XCTAssertEqual(second.failed, 1, "refused")
        XCTAssertTrue(second.failures.first?.error.contains("no id") == true, "\(second.failures.map(\.error))")
        let cards = try await eCards()
        XCTAssertEqual(cards.filter { $0.order == 1 }.count, 1, "still one eCard at order 1")
    }

    // A job asks for one pending asset at a time, and the next only once the journal holds
    // the last one's id: a kill at any moment then leaves at most one pending asset per job
    // that the journal never saw. The permit used to go back when the API answered, before
    // the journal write, so a slow write let a second request out (ResumeAfterKillTests
    // found 3 unjournaled pending assets after one kill with 2 jobs in flight).
    func testAJobsNextPendingAssetWaitsUntilTheJournalHoldsTheLastOnesID() async throws {
        let sandbox = self.sandbox!
        let written = Box<Set<Int>>([])
        let worst = Box<Int>(0)
        let slow = InterceptingJournal(inner: try SQLiteJournal(path: journalPath)) { step throws(JournalError) in
            guard case let .pendingCreated(_, assetID, _, _, _, _) = step else { return }
            // While this id is being written, every other pending asset on the API must be journaled already.
            let pending = Set(await sandbox.statistics().assets.filter { $0.state == "pending" }.map(\.id))
            let unjournaled = pending.subtracting(written.value).subtracting([assetID])
            worst.value = max(worst.value, unjournaled.count)
            try? await Task.sleep(for: .milliseconds(150))
            written.value.insert(assetID)
        }
        let manifest = try manifest("""
            jobs:
              - {role: logo, source: @campaign-logo.png, campaign: 1001, thumbnails: [100x100, 150x150, 50x50]}
            """)
        let runner = BatchRunner(manifest: manifest, journal: slow, client: client,
                                 options: BatchOptions(jobsInFlight: 1, processingThreads: 1,
                                                       processor: LocalProcessor(processing: ProcessingOptions(threads: 1))))
        let summary = try await runner.run()
        XCTAssertEqual(summary.done, 1, "\(summary.failures.map(\.error))")
        XCTAssertEqual(written.value.count, 4, "four images, four pending assets")
        XCTAssertEqual(worst.value, 0, "a second pending asset was created while the first one's id was not journaled yet")
    }

    // 3. The journal is bound to the API it uploaded to.
    func testAJournalRefusesARunAgainstAnotherTarget() async throws {
        let sandboxTarget = APITarget(endpoint: "sandbox:/somewhere", clientID: "sandbox", memberID: 7)
        _ = try await runner(try manifest(Self.twoECards), target: sandboxTarget).run()
        let real = APITarget(endpoint: "https://api.classy.org", clientID: "abc", memberID: 7)
        do {
            _ = try await runner(try manifest(Self.twoECards), target: real).run()
            XCTFail("a run against another target must be refused")
        } catch let error as BatchError {
            XCTAssertEqual(error.code, .targetMismatch)
            XCTAssertTrue(error.message.contains("sandbox:/somewhere") && error.message.contains("https://api.classy.org"), error.message)
        }
        // The same target is fine (and skips everything).
        let again = try await runner(try manifest(Self.twoECards), target: sandboxTarget).run()
        XCTAssertEqual(again.skipped, 2)
    }

    // 5. A FIFO as a source used to hang validation forever.
    func testAFIFOAsASourceIsRefusedAtValidationWithoutBlocking() throws {
        let fifo = folder.appendingPathComponent("pipe.png").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let yaml = "jobs:\n  - role: asset\n    source: \(fifo)\n"
        let path = folder.appendingPathComponent("fifo.yml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let finished = expectation(description: "validation returns")
        let outcome = LockedBox<Result<Manifest, ManifestError>?>(nil)
        Thread.detachNewThread {
            outcome.set(Result { () throws(ManifestError) -> Manifest in try Manifest.load(path: path) })
            finished.fulfill()
        }
        wait(for: [finished], timeout: 20)
        guard case let .failure(error)? = outcome.get() else { return XCTFail("a FIFO must be refused") }
        XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
    }

    // 6/8. A failing token endpoint fails the run once (not job by job); an outage
    // shorter than the retry budget fails nothing.
    func testAWrongSecretFailsTheRunOnceInsteadOfEveryJob() async throws {
        let events = LockedBox<[String]>([])
        do {
            _ = try await runner(try manifest(Self.twoECards), client: makeClient(secret: "wrong")).run { event in
                if case .failed = event { events.update { $0.append("failed") } }
            }
            XCTFail("the run must stop")
        } catch let error as BatchError {
            XCTAssertEqual(error.code, .service, error.message)
        }
        XCTAssertEqual(events.get().count, 0, "no job is failed one by one for a run-wide problem")
    }

    func testATenSecondOutageMidBatchFailsNoJob() async throws {
        let yaml = Self.twoECards + """

          - role: asset
            source: @sponsor-cogs.gif
            actions:
              - rotate: 90
          - role: logo
            source: @campaign-logo.png
            campaign: 1001
            thumbnails: [100x100]
        """
        let sandbox = sandbox!
        let outage = Task { @Sendable in
            try await Task.sleep(for: .milliseconds(300))
            var faults = SandboxFaults()
            faults.apiServerErrorRate = 1
            await sandbox.setFaults(faults)
            try await Task.sleep(for: .seconds(10))
            await sandbox.setFaults(SandboxFaults())
        }
        let summary = try await runner(try manifest(yaml)).run()
        _ = try? await outage.value
        XCTAssertEqual(summary.failed, 0, "\(summary.failures.map(\.error))")
        XCTAssertEqual(summary.done, 4)
    }

    // 7. A journal write that fails (a full disk) stops the run at once; the next run recovers.
    func testAFailingJournalWriteStopsTheRunAndTheNextRunRecovers() async throws {
        let yaml = Self.twoECards + """

          - role: asset
            source: @sponsor-cogs.gif
          - role: asset
            source: @campaign-logo.png
        """
        let failing = FailingJournal(inner: try SQLiteJournal(path: journalPath), failAfterWrites: 7)
        do {
            _ = try await runner(try manifest(yaml), journal: failing).run()
            XCTFail("the run must stop")
        } catch let error as BatchError {
            XCTAssertEqual(error.code, .journal, error.message)
        }
        let attemptsAfterFailure = failing.writesAttemptedAfterFailure
        XCTAssertLessThanOrEqual(attemptsAfterFailure, 4, "at most the writes already under way when it failed")
        let second = try await runner(try manifest(yaml)).run()
        XCTAssertEqual(second.failed, 0, "\(second.failures.map(\.error))")
        XCTAssertEqual(second.done + second.skipped, 4)
        let cards = try await eCards()
        XCTAssertEqual(cards.count, 2)
        let uploaded = await sandbox.statistics().assets.filter { $0.state == "uploaded" }
        let journaled = try await SQLiteJournal(path: journalPath).allAssets().compactMap(\.classyAssetID)
        XCTAssertEqual(Set(uploaded.map(\.id)), Set(journaled), "nothing uploaded twice, nothing missing")
    }

    // 9/10. Integrity check at open; journal created private.
    func testADamagedJournalIsRefusedAtOpenAndANewOneIsPrivate() throws {
        _ = try SQLiteJournal(path: journalPath)
        var info = stat()
        XCTAssertEqual(stat(journalPath, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600, "the journal is readable by its owner only")
        let damaged = folder.appendingPathComponent("damaged.sqlite").path
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: damaged))
        XCTAssertThrowsError(try SQLiteJournal(path: damaged)) { error in
            XCTAssertEqual((error as? JournalError)?.code, .corrupt, "\(error)")
        }
    }

    func testAStoredImageKeepsNoPresignedURLInTheJournal() async throws {
        _ = try await runner(try manifest(Self.twoECards)).run()
        let items = try await SQLiteJournal(path: journalPath).allAssets()
        XCTAssertFalse(items.isEmpty)
        XCTAssertTrue(items.allSatisfy { $0.uploadURL == nil }, "a URL is a credential: gone once the bytes are stored")
    }

    // 11. verify counts failed jobs; two social jobs for one target are refused.
    func testVerifyReportsAFailedJob() async throws {
        let broken = folder.appendingPathComponent("broken.png").path
        try Data(try Data(contentsOf: URL(fileURLWithPath: Self.testImages + "/campaign-logo.png")).prefix(100)).write(to: URL(fileURLWithPath: broken))
        // The manifest validator probes only the header, so a truncated file reaches processing and fails there.
        let yaml = "jobs:\n  - role: asset\n    source: \(broken)\n"
        let summary = try await runner(try manifest(yaml)).run()
        XCTAssertEqual(summary.failed, 1)
        let (_, problems) = try await AssetVerifier(journal: try SQLiteJournal(path: journalPath), client: client).verify()
        XCTAssertTrue(problems.contains { $0.problem.hasPrefix("job failed") }, "\(problems)")
    }

    func testTwoSocialJobsForOneAppealSetAreAValidationError() throws {
        let yaml = """
            jobs:
              - role: social
                source: @social-ladybird.jpg
                campaign: 1001
              - role: social
                source: @campaign-logo.png
                campaign: 1001
            """
        XCTAssertThrowsError(try manifest(yaml)) { error in
            XCTAssertTrue("\(error)".contains("already gets a social image"), "\(error)")
        }
    }
}

/// A value behind a lock, for results handed across threads in tests.
final class LockedBox<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.withLock { value } }
    func set(_ new: Value) { lock.withLock { value = new } }
    func update(_ change: (inout Value) -> Void) { lock.withLock { change(&value) } }
}

/// A journal whose writes fail from the Nth on, as on a full disk (a fake for
/// the runner's reaction; the storage itself is the real SQLite journal).
final class FailingJournal: ForwardingJobStore, @unchecked Sendable {
    let inner: any JobStore
    let failAfterWrites: Int
    private let lock = NSLock()
    private var writes = 0
    private(set) var writesAttemptedAfterFailure = 0

    init(inner: SQLiteJournal, failAfterWrites: Int) {
        self.inner = inner
        self.failAfterWrites = failAfterWrites
    }

    private func write() throws(JournalError) {
        let failing: Bool = lock.withLock {
            writes += 1
            if writes > failAfterWrites { writesAttemptedAfterFailure += 1 }
            return writes > failAfterWrites
        }
        if failing { throw JournalError(.storage, "database or disk is full (injected)") }
    }

    func plan(_ plan: JobPlan) async throws(JournalError) -> PlanOutcome {
        try write()
        return try await inner.plan(plan)
    }
    func record(_ step: JournalStep, under claim: JobClaim) async throws(JournalError) {
        try write()
        try await inner.record(step, under: claim)
    }
    func recordAbandoned(assetID: Int, item: Int?, reason: String, under claim: JobClaim) async throws(JournalError) {
        try write()
        try await inner.recordAbandoned(assetID: assetID, item: item, reason: reason, under: claim)
    }
    func recordHoldingLock<T: Sendable>(_ name: String, under claim: JobClaim,
                                        _ body: @escaping @Sendable () async throws -> (T, JournalStep)) async throws -> T {
        try write()
        return try await inner.recordHoldingLock(name, under: claim, body)
    }
}

/// A value shared with a `@Sendable` hook in a test.
final class Box<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
