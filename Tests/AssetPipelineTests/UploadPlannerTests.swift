import AssetJournalSQLite
import ClassyAPI
import ClassySandbox
import Foundation
import Imaging
import XCTest
@testable import AssetPipeline

/// `plan` against the in-process sandbox and a real SQLite journal: what it
/// says an upload would skip, replace and count is what the upload then does,
/// with the same bytes, and the plan itself changes nothing anywhere.
final class UploadPlannerTests: XCTestCase {
    var folder: URL!
    var sandbox: RunningSandbox!
    var client: ClassyClient!

    override func setUp() async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID().uuidString)")
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

    func manifest(_ yaml: String, name: String = "manifest.yml") throws -> Manifest {
        let path = folder.appendingPathComponent(name).path
        try yaml.replacingOccurrences(of: "@", with: BatchRunnerTests.testImages + "/").write(toFile: path, atomically: true, encoding: .utf8)
        return try Manifest.load(path: path)
    }

    static let logoOnly = """
        jobs:
          - role: logo
            source: @campaign-logo.png
            campaign: 1001
            thumbnails: [100x100, 150x150]
        """

    static let mixed = logoOnly + """

          - role: ecard
            source: @ecard-landscape-exif6.jpg
            campaign: 1001
            order: 1
          - role: ecard
            source: @social-ladybird.jpg
            campaign: 1001
            order: 2
            crop: attention
          - role: asset
            source: @sponsor-cogs.gif
            format: png
            actions:
              - rotate: 90
        """

    let options = BatchOptions(jobsInFlight: 4)

    func plan(_ manifest: Manifest, journal: (any JobStore)?, client: ClassyClient?) async throws -> (UploadPlan, [PlannedJob]) {
        var jobs: [PlannedJob] = []
        let result = try await UploadPlanner(manifest: manifest, journal: ReadOnlyJournal(journal), client: client, options: options)
            .plan { jobs.append($0) }
        return (result, jobs)
    }

    /// Everything the journal holds, for before/after comparisons.
    func snapshot(_ journal: SQLiteJournal, keys: [String]) async throws -> ([JournalJob?], [JournalItem], JournalStatus) {
        var jobs: [JournalJob?] = []
        for key in keys { jobs.append(try await journal.job(key: key)) }
        return (jobs, try await journal.allAssets(), try await journal.status())
    }

    func testThePlanSkipsJournaledJobsWritesNothingAndTheUploadSendsExactlyThePlannedBytes() async throws {
        let journalPath = folder.appendingPathComponent("journal.sqlite").path
        let journal = try SQLiteJournal(path: journalPath)
        let first = try await BatchRunner(manifest: try manifest(Self.logoOnly), journal: journal, client: client, options: options).run()
        XCTAssertEqual(first.done, 1)
        let assetsAfterFirst = await sandbox.statistics().assets.count

        let mixed = try manifest(Self.mixed)
        let keys = mixed.jobs.map(\.key)
        let before = try await snapshot(journal, keys: keys)
        let (result, planned) = try await plan(mixed, journal: journal, client: client)

        // What it says.
        XCTAssertEqual(planned.map(\.job.key), keys, "every job, in manifest order")
        guard case .skip = planned[0].disposition else { return XCTFail("the uploaded logo is skipped: \(planned[0].disposition)") }
        XCTAssertEqual(planned.dropFirst().map(\.disposition), [.upload, .upload, .upload])
        XCTAssertEqual([result.uploading, result.skipping, result.failed], [3, 1, 0])
        XCTAssertEqual(result.ecardCounts, [ECardCount(campaign: 1001, existing: 0, countedAgainstAPI: true).with(adding: 2)])
        XCTAssertNil(result.refusal)
        for job in planned.dropFirst() {
            XCTAssertFalse(job.records.isEmpty)
            XCTAssertTrue(job.records.allSatisfy { $0.state == .planned }, "records say planned")
            XCTAssertTrue(job.records.dropFirst().allSatisfy { $0.parentID == job.records[0].id })
        }
        // The eCards' cover crops carry their boxes (what the page draws).
        XCTAssertNotNil(planned[2].records.first { $0.type == "thumbnail_600_400" }?.cropBox)

        // What it did: nothing.
        let assetsAfterPlan = await sandbox.statistics().assets.count
        XCTAssertEqual(assetsAfterPlan, assetsAfterFirst, "nothing uploaded")
        let eCards = try await allECards(1001)
        XCTAssertTrue(eCards.isEmpty, "no eCard created")
        let after = try await snapshot(journal, keys: keys)
        XCTAssertEqual(after.0, before.0, "no job planned, moved or touched in the journal")
        XCTAssertNil(after.0[1], "the eCard job is still unknown to the journal")
        XCTAssertEqual(after.1, before.1)
        XCTAssertEqual(after.2, before.2)

        // The upload then sends exactly the planned images, byte for byte.
        let summary = try await BatchRunner(manifest: mixed, journal: journal, client: client, options: options).run()
        XCTAssertEqual([summary.done, summary.skipped, summary.failed], [3, 1, 0])
        for job in planned.dropFirst() {
            let uploaded = try await journal.job(key: job.job.key)
            let items = try XCTUnwrap(uploaded).items.sorted { $0.position < $1.position }
            XCTAssertEqual(items.map(\.record.sha256), job.records.map(\.sha256), "same images, same order: \(job.job.source)")
            XCTAssertEqual(items.map(\.record.type), job.records.map(\.type))
            XCTAssertEqual(items.map(\.record.cropBox), job.records.map(\.cropBox))
            for item in items {
                let stored = await sandbox.objectBytes(assetID: try XCTUnwrap(item.classyAssetID))
                XCTAssertEqual(stored.map(LocalProcessor.sha256), item.record.sha256, "the store holds the planned bytes")
            }
        }
        let planBytes = planned[3].processed?.children.first?.bytes
        XCTAssertEqual(planBytes.map(LocalProcessor.sha256), planned[3].records.last?.sha256)
    }

    func testAnECardWithAnExistingOrderIsAReplacementAndTheCountsAgreeWithTheUploadsRefusal() async throws {
        var existingIDs: [Int: Int] = [:]
        for order in 1 ... 3 {
            let bytes = try ImageEncoder.encode(Image(pixels: PixelBuffer(width: 600, height: 400, layout: .rgb)), as: .png)
            let asset = try await client.uploadAsset(bytes, contentType: .png).asset
            existingIDs[order] = try await client.createECard(campaignID: 1001, ECardInput(assetID: asset.id, order: order)).id
        }
        // Order 1 replaces the existing card; order 4 adds the fourth: allowed.
        let fits = try manifest("""
            jobs:
              - role: ecard
                source: @ecard-landscape-exif6.jpg
                campaign: 1001
                order: 1
              - role: ecard
                source: @social-ladybird.jpg
                campaign: 1001
                order: 4
            """)
        let (fitting, fittingJobs) = try await plan(fits, journal: nil, client: client)
        XCTAssertEqual(fittingJobs.map(\.disposition), [.replace(ecardID: existingIDs[1], order: 1), .upload])
        var expected = ECardCount(campaign: 1001, existing: 3, countedAgainstAPI: true).with(adding: 1)
        expected.replacing = 1
        XCTAssertEqual(fitting.ecardCounts, [expected])
        XCTAssertEqual(fitting.ecardCounts.first?.total, 4)
        XCTAssertNil(fitting.refusal, "3 existing + 1 new is within the limit of 4")

        // Orders 4 and 5: five eCards. The plan says the upload would refuse, and it does.
        let over = try manifest("""
            jobs:
              - role: ecard
                source: @ecard-landscape-exif6.jpg
                campaign: 1001
                order: 4
              - role: ecard
                source: @social-ladybird.jpg
                campaign: 1001
                order: 5
            """, name: "over.yml")
        let (refused, _) = try await plan(over, journal: nil, client: client)
        XCTAssertEqual(refused.ecardCounts.first?.total, 5)
        XCTAssertEqual(refused.refusal?.code, .ecardLimit)
        let journal = try SQLiteJournal(path: folder.appendingPathComponent("journal.sqlite").path)
        let plannedMessage = refused.refusal?.message
        var uploadRefusal: (code: BatchError.Code, message: String)?
        do {
            _ = try await BatchRunner(manifest: over, journal: journal, client: client, options: options).run()
        } catch {
            uploadRefusal = (error.code, error.message)
        }
        XCTAssertEqual(uploadRefusal?.code, .ecardLimit, "the upload refuses what the plan said it would")
        XCTAssertEqual(uploadRefusal?.message, plannedMessage, "the plan reports the upload's own refusal")
    }

    /// The plan says what the upload does with an eCard in the reference's shape (no id) at a taken order: fail.
    func testAnIDLessECardAtATakenOrderIsAFailingJobInThePlanAsInTheUpload() async throws {
        var faults = SandboxFaults()
        faults.eCardsWithoutID = true
        await sandbox.setFaults(faults)
        let bytes = try ImageEncoder.encode(Image(pixels: PixelBuffer(width: 600, height: 400, layout: .rgb)), as: .png)
        let asset = try await client.uploadAsset(bytes, contentType: .png).asset
        _ = try await client.createECard(campaignID: 1001, ECardInput(assetID: asset.id, order: 1))
        let (result, jobs) = try await plan(try manifest("""
            jobs:
              - {role: ecard, source: @social-ladybird.jpg, campaign: 1001, order: 1}
            """), journal: nil, client: client)
        XCTAssertEqual(result.failed, 1)
        XCTAssertTrue(jobs.first?.failure?.contains("no id") == true, "\(String(describing: jobs.first?.failure))")
    }

    func testWithoutAnAPIOnlyTheManifestsECardsAreCountedAndNothingIsAsked() async throws {
        // The sandbox has three eCards, but without a client nobody asks it.
        for order in 1 ... 3 {
            let bytes = try ImageEncoder.encode(Image(pixels: PixelBuffer(width: 600, height: 400, layout: .rgb)), as: .png)
            let asset = try await client.uploadAsset(bytes, contentType: .png).asset
            _ = try await client.createECard(campaignID: 1001, ECardInput(assetID: asset.id, order: order))
        }
        let two = try manifest("jobs:\n" + (4 ... 5).map { order in
            "  - role: ecard\n    source: @social-ladybird.jpg\n    campaign: 1001\n    order: \(order)\n"
        }.joined())
        let (result, jobs) = try await plan(two, journal: nil, client: nil)
        XCTAssertEqual(jobs.map(\.disposition), [.upload, .upload])
        XCTAssertFalse(result.countedAgainstAPI)
        XCTAssertEqual(result.ecardCounts, [ECardCount(campaign: 1001, existing: 0, countedAgainstAPI: false).with(adding: 2)])
        XCTAssertNil(result.refusal, "not counted, so not refused: the upload counts against the API")
    }

    func testAChangedSourceIsAFailingJobInThePlanAsInTheUpload() async throws {
        let copy = folder.appendingPathComponent("logo.png")
        try FileManager.default.copyItem(atPath: BatchRunnerTests.testImages + "/campaign-logo.png", toPath: copy.path)
        let m = try manifest("jobs:\n  - role: logo\n    source: \(copy.path)\n    campaign: 1001\n")
        // Same format, other bytes: validated before, changed since.
        try FileManager.default.removeItem(at: copy)
        try FileManager.default.copyItem(atPath: BatchRunnerTests.testImages + "/palette-basn3p08.png", toPath: copy.path)
        let (result, jobs) = try await plan(m, journal: nil, client: nil)
        XCTAssertEqual(result.failed, 1)
        XCTAssertTrue(jobs[0].failure?.contains("changed after the manifest was checked") == true, jobs[0].failure ?? "nil")
    }

    func testTheReadOnlyJournalRefusesEveryWrite() async throws {
        let journal = try SQLiteJournal(path: folder.appendingPathComponent("journal.sqlite").path)
        let readOnly = ReadOnlyJournal(journal)
        let plan = JobPlan(key: "k", manifestPath: nil, role: "logo", target: "campaign=1", sourcePath: "/x", sourceSHA256: "00")
        do { _ = try await readOnly.plan(plan); XCTFail("plan must be refused") } catch { XCTAssertEqual(error.code, .storage) }
        let claim = JobClaim(jobKey: "k", runID: 1, fence: 1)
        do { try await readOnly.record(.done, under: claim); XCTFail("record must be refused") } catch { XCTAssertEqual(error.code, .storage) }
        do { _ = try await readOnly.claimNext(limit: 1, for: RunLease(runID: 1, pid: 1, host: "h", startedAt: Date())); XCTFail("claimNext must be refused") } catch { XCTAssertEqual(error.code, .storage) }
        do { _ = try await readOnly.beginRun(); XCTFail("beginRun must be refused") } catch { XCTAssertEqual(error.code, .storage) }
        let known = try await journal.job(key: "k")
        XCTAssertNil(known)
        let empty = try await ReadOnlyJournal(nil).incompleteJobs()
        XCTAssertTrue(empty.isEmpty)
    }

    func allECards(_ campaign: Int) async throws -> [ECard] {
        var cards: [ECard] = []
        for try await card in client.eCards(campaignID: campaign) { cards.append(card) }
        return cards
    }
}

extension ECardCount {
    func with(adding: Int) -> ECardCount {
        var copy = self
        copy.adding = adding
        return copy
    }
}
