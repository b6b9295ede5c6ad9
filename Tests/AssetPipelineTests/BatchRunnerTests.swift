import ClassyAPI
import ClassySandbox
import Foundation
import Imaging
import XCTest
@testable import AssetPipeline
import AssetJournalSQLite

/// The batch uploader end to end against the in-process sandbox (its own
/// verifying S3 store): real HTTP on loopback, real SQLite journal, real codecs.
final class BatchRunnerTests: XCTestCase {
    static let testImages = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TestImages").path

    var folder: URL!
    var sandbox: RunningSandbox!
    var client: ClassyClient!

    override func setUp() async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("batch-\(UUID().uuidString)")
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

    /// Writes a manifest into the test folder, with sources from TestImages/.
    func manifest(_ yaml: String) throws -> Manifest {
        let path = folder.appendingPathComponent("manifest.yml").path
        try yaml.replacingOccurrences(of: "@", with: Self.testImages + "/").write(toFile: path, atomically: true, encoding: .utf8)
        return try Manifest.load(path: path)
    }

    func runner(_ manifest: Manifest, journalName: String = "journal.sqlite") throws -> BatchRunner {
        let journal = try SQLiteJournal(path: folder.appendingPathComponent(journalName).path)
        return BatchRunner(manifest: manifest, journal: journal, client: client,
                           options: BatchOptions(jobsInFlight: 4, processor: LocalProcessor(processing: ProcessingOptions(threads: 1))))
    }

    static let mixed = """
        jobs:
          - role: logo
            source: @campaign-logo.png
            campaign: 1001
            thumbnails: [100x100, 150x150]
          - role: ecard
            source: @ecard-landscape-exif6.jpg
            campaign: 1001
            order: 1
          - role: ecard
            source: @social-ladybird.jpg
            campaign: 1001
            order: 2
          - role: asset
            source: @sponsor-cogs.gif
            actions:
              - rotate: 90
        """

    func testMixedManifestUploadsEveryImageWithChildrenPointingAtTheirParent() async throws {
        let summary = try await runner(try manifest(Self.mixed)).run()
        XCTAssertEqual(summary.done, 4)
        XCTAssertEqual(summary.failed, 0)
        // logo: 1 + 2 thumbnails; each eCard: original + its 600x400 cover crop; gif: 1 + 1.
        XCTAssertEqual(summary.records.count, 3 + 2 + 2 + 2)
        let stats = await sandbox.statistics()
        let uploaded = stats.assets.filter { $0.state == "uploaded" }
        XCTAssertEqual(uploaded.count, 9, "every image is on the platform, once")
        XCTAssertTrue(stats.assets.allSatisfy { $0.uploadedTransitions <= 1 })
        for record in summary.records {
            let id = try XCTUnwrap(record.id.classyID)
            let bytes = await sandbox.objectBytes(assetID: id)
            XCTAssertEqual(bytes?.count, record.size, "the store holds the bytes the record describes")
            if record.type != nil {
                let parent = try XCTUnwrap(record.parentID?.classyID, "a child points at its parent's Classy id")
                XCTAssertTrue(summary.records.contains { $0.id == .classy(parent) && $0.type == nil })
            }
        }
        // Both eCards exist, attached to their 600x400 images.
        var cards: [ECard] = []
        for try await card in client.eCards(campaignID: 1001) { cards.append(card) }
        XCTAssertEqual(cards.count, 2)
        for card in cards {
            let asset = try XCTUnwrap(summary.records.first { $0.id.classyID == card.assetID })
            XCTAssertEqual([asset.width, asset.height], [600, 400])
            XCTAssertEqual(asset.type, "thumbnail_600_400")
        }
    }

    func testRerunningTheSameManifestUploadsNothingAndChangingOneJobRedoesOnlyIt() async throws {
        let first = try await runner(try manifest(Self.mixed)).run()
        XCTAssertEqual(first.done, 4)
        let before = await sandbox.statistics().assets.count

        let second = try await runner(try manifest(Self.mixed)).run()
        XCTAssertEqual(second.skipped, 4)
        XCTAssertEqual(second.done, 0)
        let afterRerun = await sandbox.statistics().assets.count
        XCTAssertEqual(afterRerun, before, "a re-run creates no asset")

        let changed = Self.mixed.replacingOccurrences(of: "thumbnails: [100x100, 150x150]", with: "thumbnails: [100x100, 120x120]")
        let third = try await runner(try manifest(changed)).run()
        XCTAssertEqual(third.done, 1, "only the changed job runs")
        XCTAssertEqual(third.skipped, 3)
        let afterChange = await sandbox.statistics().assets.count
        XCTAssertEqual(afterChange, before + 3, "the changed logo job uploads its original and two thumbnails")
    }

    func testAFifthECardIsRefusedBeforeAnythingIsUploaded() async throws {
        // Three eCards already on the campaign, two more in the manifest.
        for order in 1 ... 3 {
            let bytes = try ImageEncoder.encode(Image(pixels: PixelBuffer(width: 600, height: 400, layout: .rgb)), as: .png)
            let asset = try await client.uploadAsset(bytes, contentType: .png).asset
            _ = try await client.createECard(campaignID: 1001, ECardInput(assetID: asset.id, order: order))
        }
        let assetsBefore = await sandbox.statistics().assets.count
        let m = try manifest("""
            jobs:
              - role: ecard
                source: @ecard-landscape-exif6.jpg
                campaign: 1001
                order: 4
              - role: ecard
                source: @social-ladybird.jpg
                campaign: 1001
                order: 5
            """)
        do {
            _ = try await runner(m).run()
            XCTFail("a fifth eCard must be refused")
        } catch let error as BatchError {
            XCTAssertEqual(error.code, .ecardLimit)
            XCTAssertTrue(error.message.contains("limit of 4"), error.message)
        }
        let assetsAfter = await sandbox.statistics().assets.count
        XCTAssertEqual(assetsAfter, assetsBefore, "nothing was uploaded")
    }

    func testThirtyPercentS3FailuresStillCompleteEveryJobOnce() async throws {
        var faults = SandboxFaults()
        faults.s3ServerErrorRate = 0.3
        faults.s3ResetRate = 0.1
        await sandbox.setFaults(faults)
        let summary = try await runner(try manifest(Self.mixed)).run()
        XCTAssertEqual(summary.done, 4, summary.failures.map(\.error).joined(separator: "; "))
        let stats = await sandbox.statistics()
        XCTAssertEqual(stats.assets.filter { $0.state == "uploaded" }.count, 9)
        XCTAssertTrue(stats.assets.allSatisfy { $0.uploadedTransitions <= 1 }, "no asset marked uploaded twice")
        XCTAssertGreaterThan(stats.injectedFaults, 0, "the faults really happened and were retried")
    }

    func testVerifyDetectsAnAssetAlteredBehindTheWorkersBack() async throws {
        let m = try manifest(Self.mixed)
        let journal = try SQLiteJournal(path: folder.appendingPathComponent("journal.sqlite").path)
        let summary = try await BatchRunner(manifest: m, journal: journal, client: client).run()
        let verifier = AssetVerifier(journal: journal, client: client)
        let clean = try await verifier.verify()
        XCTAssertEqual(clean.checked, summary.records.count)
        XCTAssertEqual(clean.problems, [])

        let victim = try XCTUnwrap(summary.records.last?.id.classyID)
        let altered = try await sandbox.alterAsset(victim, size: 12)
        XCTAssertTrue(altered)
        let after = try await verifier.verify()
        XCTAssertEqual(after.problems.count, 1)
        XCTAssertEqual(after.problems.first?.assetID, victim)
        XCTAssertTrue(after.problems.first?.problem.contains("size is 12") == true)
    }

    /// `verify` checks the attachments too: an eCard deleted, or a matching plan
    /// pointed at another image, behind the worker's back.
    func testVerifyDetectsAnECardAndAMatchingPlanChangedBehindTheWorkersBack() async throws {
        try await sandbox.addMatchingPlan(id: 555, campaign: 1001)
        let m = try manifest(Self.mixed + """

              - role: sponsor
                source: @sponsor-cogs.gif
                matching_plan: 555
            """)
        let journal = try SQLiteJournal(path: folder.appendingPathComponent("journal.sqlite").path)
        let summary = try await BatchRunner(manifest: m, journal: journal, client: client).run()
        XCTAssertEqual(summary.done, 5, summary.failures.map(\.error).joined(separator: "; "))
        let verifier = AssetVerifier(journal: journal, client: client)
        let clean = try await verifier.verify()
        XCTAssertEqual(clean.problems, [])

        var cards: [ECard] = []
        for try await card in client.eCards(campaignID: 1001) { cards.append(card) }
        let deleted = try XCTUnwrap(cards.first?.id)
        try await client.deleteECard(deleted)
        let logo = try XCTUnwrap(summary.records.first { $0.type == nil && $0.contentType == "image/png" }?.id.classyID)
        _ = try await client.setMatchingPlanAsset(planID: 555, assetID: logo)

        let after = try await verifier.verify()
        XCTAssertEqual(after.problems.count, 2, after.problems.map(\.problem).joined(separator: "; "))
        XCTAssertTrue(after.problems.contains { $0.problem.contains("ecard \(deleted)") && $0.problem.contains("404") })
        XCTAssertTrue(after.problems.contains { $0.problem.contains("matching plan 555 shows asset \(logo)") })
    }

    /// A social image for a campaign without an appeal set creates it with the
    /// image; a later one updates that set; `verify` notices a set changed behind the worker's back.
    func testASocialImageCreatesTheCampaignsAppealSetThenUpdatesIt() async throws {
        let before = try await client.appealSet(campaignID: 1001)
        XCTAssertNil(before.id.flatMap { $0 > 0 ? $0 : nil }, "the sandbox campaign starts without an appeal set")
        let journal = try SQLiteJournal(path: folder.appendingPathComponent("journal.sqlite").path)
        func uploadSocialImage(_ source: String) async throws -> BatchSummary {
            let summary = try await BatchRunner(manifest: try manifest("jobs:\n  - role: social\n    source: @\(source)\n    campaign: 1001\n"),
                                                journal: journal, client: client).run()
            XCTAssertEqual(summary.done, 1, summary.failures.map(\.error).joined(separator: "; "))
            return summary
        }
        let first = try await uploadSocialImage("social-ladybird.jpg")
        let created = try await client.appealSet(campaignID: 1001)
        let setID = try XCTUnwrap(created.id)
        XCTAssertEqual(created.facebookAssetID, first.records.first?.id.classyID)

        let second = try await uploadSocialImage("campaign-logo.png")
        let updated = try await client.appealSet(setID)
        XCTAssertEqual(updated.facebookAssetID, second.records.first?.id.classyID, "the same set now shows the new image")

        let verifier = AssetVerifier(journal: journal, client: client)
        let report = try await verifier.verify()
        // The first job's record says it set the older image: the set moved on, and verify says so.
        XCTAssertEqual(report.problems.count, 1, report.problems.map(\.problem).joined(separator: "; "))
        XCTAssertTrue(report.problems.first?.problem.contains("appeal set \(setID) shows facebook_asset_id") == true)
    }

    func testASponsorImageIsSetOnItsDonationMatchingPlan() async throws {
        try await sandbox.addMatchingPlan(id: 555, campaign: 1001)
        let summary = try await runner(try manifest("""
            jobs:
              - role: sponsor
                source: @sponsor-cogs.gif
                matching_plan: 555
                thumbnails: [40x40]
            """)).run()
        XCTAssertEqual(summary.done, 1, summary.failures.map(\.error).joined(separator: "; "))
        let plan = try await client.matchingPlan(555)
        let attached = try XCTUnwrap(plan.assetID)
        XCTAssertTrue(summary.records.contains { $0.id == .classy(attached) }, "the plan points at an image this job uploaded")
    }

    func testAnImageThatDoesNotDecodeFailsItsJobAsBadDataAndTheOthersRun() async throws {
        // Cut after the header: the manifest's probe accepts it, processing refuses it.
        let whole = try Data(contentsOf: URL(fileURLWithPath: Self.testImages + "/social-ladybird.jpg"))
        let cut = folder.appendingPathComponent("cut.jpg")
        try whole.prefix(200_000).write(to: cut)
        let summary = try await runner(try manifest("""
            jobs:
              - role: asset
                source: \(cut.path)
                actions:
                  - scale: {width: 100}
              - role: asset
                source: @palette-basn3p08.png
                actions:
                  - scale: {width: 50}
            """)).run()
        XCTAssertEqual(summary.done, 1)
        XCTAssertEqual(summary.failed, 1)
        XCTAssertEqual(summary.failedOnData, 1, "a file that does not decode is bad data, not a service failure")
        XCTAssertTrue(summary.failures.first?.error.contains("truncated") == true, summary.failures.first?.error ?? "")
        let uploadedAssets = await sandbox.statistics().assets.count
        XCTAssertEqual(uploadedAssets, 2, "only the good job's images were uploaded")
    }

    /// Two runs on one journal split the work through per-job claims: a job
    /// another live run holds is left to it, never done twice.
    func testConcurrentRunsOnTheSameJournalShareTheJobs() async throws {
        let path = folder.appendingPathComponent("journal.sqlite").path
        let manifest = try manifest(Self.mixed)
        let holder = try SQLiteJournal(path: path)
        for job in manifest.jobs { _ = try await holder.plan(JobPlan(job, manifestPath: nil)) }
        let lease = try await holder.beginRun()
        let held = try await holder.claim(manifest.jobs.prefix(2).map(\.key), for: lease)
        XCTAssertEqual(held.count, 2)

        let first = try await BatchRunner(manifest: manifest, journal: try SQLiteJournal(path: path), client: client).run()
        XCTAssertEqual(first.done, 2)
        XCTAssertEqual(first.skipped, 2, "the jobs another live run holds are left to it")
        let afterFirst = await sandbox.statistics().assets.count

        try await holder.endRun(lease, as: .finished)
        let second = try await BatchRunner(manifest: manifest, journal: try SQLiteJournal(path: path), client: client).run()
        XCTAssertEqual(second.done, 2, "released jobs are done by the next run")
        XCTAssertEqual(second.skipped, 2)
        let third = try await BatchRunner(manifest: manifest, journal: try SQLiteJournal(path: path), client: client).run()
        XCTAssertEqual(third.skipped, 4)
        let uploadedTotal = await sandbox.statistics().assets.count
        XCTAssertGreaterThan(afterFirst, 0)
        XCTAssertGreaterThan(uploadedTotal, afterFirst)
        let recorded = try await holder.allAssets().compactMap(\.classyAssetID)
        XCTAssertEqual(recorded.count, uploadedTotal, "every uploaded asset belongs to exactly one journaled image")
        XCTAssertEqual(Set(recorded).count, recorded.count)
    }

    func testEventsArriveAsAnAsyncSequence() async throws {
        var finished = 0
        var started = false
        for try await event in try runner(try manifest(Self.mixed)).events() {
            switch event {
            case .started(let jobs): started = jobs == 4
            case .finished: finished += 1
            default: break
            }
        }
        XCTAssertTrue(started)
        XCTAssertEqual(finished, 4)
    }

    /// Memory follows the jobs in flight, not the batch: a job's encoded images
    /// are held from `.processed` until `.finished`, and with slow uploads
    /// (latency injected) processing may run ahead of them by at most
    /// `2 * processingThreads` jobs, while the uploads themselves never exceed
    /// `jobsInFlight` jobs (the store never sees more PUTs at once than that
    /// many jobs have images).
    func testJobsHeldInMemoryAreBoundedByJobsInFlightNotByTheBatchSize() async throws {
        var yaml = "jobs:\n"
        for size in 20 ..< 32 {
            yaml += "  - role: asset\n    source: @campaign-logo.png\n    actions:\n      - thumbnails: [\(size)x\(size)]\n"
        }
        let batch = try manifest(yaml)
        XCTAssertEqual(batch.jobs.count, 12)
        var faults = SandboxFaults()
        faults.latencyMilliseconds = 40
        await sandbox.setFaults(faults)
        let journal = try SQLiteJournal(path: folder.appendingPathComponent("bounded.sqlite").path)
        let options = BatchOptions(jobsInFlight: 1, processingThreads: 1, processor: LocalProcessor(processing: ProcessingOptions(threads: 1)))
        let runner = BatchRunner(manifest: batch, journal: journal, client: client, options: options)

        let held = LockedSet()
        let summary = try await runner.run { event in
            switch event {
            case let .processed(job, images, bytes):
                XCTAssertEqual(images, 2)
                XCTAssertGreaterThan(bytes, 0)
                held.insert(job.key)
            case let .finished(job, _, _), let .failed(job, _):
                held.remove(job.key)
            default:
                break
            }
        }
        XCTAssertEqual(summary.done, 12)
        XCTAssertEqual(summary.failed, 0)
        XCTAssertGreaterThan(summary.processingCPUSeconds, 0)
        XCTAssertLessThanOrEqual(held.peak, options.jobsInFlight + 2 * options.processingThreads,
                                 "processed jobs waiting for their upload are bounded")
        XCTAssertGreaterThanOrEqual(held.peak, 2, "processing runs ahead of the slow uploads instead of waiting for them")
        XCTAssertEqual(held.count, 0)
        let stats = await sandbox.statistics()
        XCTAssertLessThanOrEqual(stats.peakConcurrentStorePuts, 2, "one job (its original and one thumbnail) on the network at a time")
        XCTAssertEqual(stats.assets.filter { $0.state == "uploaded" }.count, 24)
    }
}

/// A set shared by event callbacks that remembers its largest size.
final class LockedSet: @unchecked Sendable {
    // Guarded by `lock`.
    private var members: Set<String> = []
    private var largest = 0
    private let lock = NSLock()

    func insert(_ key: String) {
        lock.withLock {
            members.insert(key)
            largest = max(largest, members.count)
        }
    }

    func remove(_ key: String) { _ = lock.withLock { members.remove(key) } }
    var peak: Int { lock.withLock { largest } }
    var count: Int { lock.withLock { members.count } }
}
