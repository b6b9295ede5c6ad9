import AssetJobs
import ClassyAPI
import ClassySandbox
import Foundation
import Imaging
import XCTest
@testable import AssetPipeline
@testable import AssetJournalSQLite

/// `actions_on: server`: only the original is uploaded, and each action is a
/// `POST /2.0/assets/{id}/process`, journaled as exactly-once work. Against the
/// real sandbox (which runs `/process` with the project's imaging), SQLite journal and codecs.
final class ServerActionsTests: XCTestCase {
    static let testImages = ExactlyOnceTests.testImages

    var folder: URL!
    var sandbox: RunningSandbox!
    var client: ClassyClient!

    override func setUp() async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        sandbox = try await ClassySandbox.start()
        try await sandbox.addCampaign(SandboxCampaign(id: 1001, name: "Server actions"))
        client = ClassyClient(configuration: ClassyConfiguration(
            baseURL: sandbox.baseURL, clientID: sandbox.clientID, clientSecret: sandbox.clientSecret, memberID: 7))
    }

    override func tearDown() async throws {
        await sandbox?.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    func manifest(_ yaml: String) throws -> Manifest {
        let path = folder.appendingPathComponent("manifest.yml").path
        try yaml.replacingOccurrences(of: "@", with: Self.testImages + "/").write(toFile: path, atomically: true, encoding: .utf8)
        return try Manifest.load(path: path)
    }

    var journalPath: String { folder.appendingPathComponent("journal.sqlite").path }

    func run(_ manifest: Manifest, journal: (any JournalStore)? = nil) async throws -> BatchSummary {
        let runner = BatchRunner(manifest: manifest, journal: try journal ?? SQLiteJournal(path: journalPath), client: client,
                                 options: BatchOptions(jobsInFlight: 2, processingThreads: 1,
                                                       processor: LocalProcessor(processing: ProcessingOptions(threads: 1))))
        return try await runner.run()
    }

    static let assetOnServer = """
        jobs:
          - role: asset
            source: @campaign-logo.png
            actions_on: server
            actions:
              - thumbnails: [100x100, 50x50]
              - crop: {x: 0, y: 0, width: 40, height: 30}
              - scale: {width: 60}
              - rotate: 90
        """

    /// The children the sandbox holds for `parent`, by type.
    func childrenOnServer(of parent: Int) async -> [String: [SandboxStatistics.Asset]] {
        Dictionary(grouping: await sandbox.statistics().assets.filter { $0.parentID == parent }, by: { $0.type ?? "-" })
    }

    // MARK: The manifest

    func testActionsOnIsReadPerJobAndFromDefaultsAndChangesTheJobKeyOfServerJobsOnly() throws {
        let local = try manifest("jobs:\n  - {role: asset, source: @campaign-logo.png, actions: [{rotate: 90}]}\n").jobs[0]
        let server = try manifest("jobs:\n  - {role: asset, source: @campaign-logo.png, actions_on: server, actions: [{rotate: 90}]}\n").jobs[0]
        let byDefault = try manifest("""
            defaults: {actions_on: server}
            jobs:
              - {role: asset, source: @campaign-logo.png, actions: [{rotate: 90}]}
              - {role: asset, source: @campaign-logo.png, actions_on: local, actions: [{rotate: 90}]}
            """).jobs
        XCTAssertNil(local.actionsOn)
        XCTAssertEqual(server.actionsOn, .server)
        XCTAssertEqual(server.serverActions, [.rotate(angle: 90)])
        XCTAssertEqual(byDefault[0].key, server.key, "the default applies")
        XCTAssertEqual(byDefault[1].key, local.key, "a job's own key wins over the default")
        XCTAssertNotEqual(server.key, local.key, "another place is another job")
        XCTAssertEqual(local.key, JobKey.make(sourceSHA256: local.sourceSHA256, role: .asset, actions: local.actions,
                                              outputFormat: nil, memberID: nil), "a local job keeps the key it always had")
    }

    func testWhatTheAPICannotDoIsRefusedForAServerJob() throws {
        let cases = [
            ("{role: asset, source: @campaign-logo.png, actions_on: server, actions: [{thumbnails: {sizes: [100x100], fit: contain}}]}", "cannot do"),
            ("{role: ecard, source: @social-ladybird.jpg, campaign: 1001, order: 1, actions_on: server, crop: attention}", "cannot do"),
            ("{role: asset, source: @campaign-logo.png, actions_on: server, format: jpeg, actions: [{rotate: 90}]}", "keeps the original's format"),
            ("{role: asset, source: @campaign-logo.png, actions_on: cloud, actions: [{rotate: 90}]}", "must be local or server"),
        ]
        for (job, expected) in cases {
            XCTAssertThrowsError(try manifest("jobs:\n  - \(job)\n"), job) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(job): \(error)")
            }
        }
    }

    // MARK: Uploading

    func testAServerJobUploadsOnlyItsOriginalAndTheAPIMakesEachChildOnce() async throws {
        let summary = try await run(try manifest(Self.assetOnServer))
        XCTAssertEqual(summary.done, 1, "\(summary.failures.map(\.error))")
        let assets = await sandbox.statistics().assets
        let uploaded = assets.filter { $0.state == "uploaded" }
        XCTAssertEqual(uploaded.count, 1, "only the original goes through the pre-signed flow")
        let parent = try XCTUnwrap(uploaded.first).id
        let children = await childrenOnServer(of: parent)
        let expected = ["thumbnail_100_100", "thumbnail_50_50", "cropped", "scaled_60_24", "rotated_90"]
        XCTAssertEqual(Set(children.keys), Set(expected), "the API's own children, typed")
        XCTAssertTrue(children.values.allSatisfy { $0.count == 1 && $0[0].state == "processed" }, "\(children)")

        // The records are the API's: parent_id, type and state processed are real on the server.
        let records = summary.records
        XCTAssertEqual(records.count, 6)
        XCTAssertEqual(summary.madeOnServer, 5, "five children made by the API")
        XCTAssertEqual(records[0].id, .classy(parent))
        for record in records.dropFirst() {
            XCTAssertEqual(record.parentID, .classy(parent))
            XCTAssertEqual(record.state, .processed)
            let child = try XCTUnwrap(children[record.type ?? ""]?.first, "\(record.type ?? "-")")
            XCTAssertEqual(record.id, .classy(child.id))
            XCTAssertEqual(record.size, child.size)
        }
        XCTAssertEqual(records.dropFirst().map(\.type), expected, "in the order of the actions")
        let onServer = try await client.assetChildren(parent)
        XCTAssertEqual(Set(onServer.compactMap(\.type)), Set(expected), "GET /children lists them")

        // verify checks /children; a second run does nothing.
        let journal = try SQLiteJournal(path: journalPath)
        let verified = try await AssetVerifier(journal: journal, client: client).verify()
        XCTAssertEqual(verified.checked, 6)
        XCTAssertEqual(verified.problems, [])
        let again = try await run(try manifest(Self.assetOnServer))
        XCTAssertEqual(again.skipped, 1)
        let after = await sandbox.statistics().assets
        XCTAssertEqual(after.count, assets.count, "nothing made twice")
    }

    func testAServerECardShowsTheCoverCropTheAPIMade() async throws {
        let summary = try await run(try manifest("""
            jobs:
              - {role: ecard, source: @social-ladybird.jpg, campaign: 1001, order: 2, actions_on: server}
            """))
        XCTAssertEqual(summary.done, 1, "\(summary.failures.map(\.error))")
        var cards: [ECard] = []
        for try await card in client.eCards(campaignID: 1001) { cards.append(card) }
        XCTAssertEqual(cards.count, 1)
        let shown = try XCTUnwrap(cards.first?.assetID)
        let asset = try await client.asset(shown)
        XCTAssertEqual(asset.type, "thumbnail_600_400")
        XCTAssertNotNil(asset.parentID, "the eCard shows the original's child, made by the API")
        XCTAssertEqual(summary.records.last?.id, .classy(shown))
    }

    // MARK: Doubt: a lost answer, a crash after the request

    func testALostProcessAnswerIsLookedUpAndNothingIsMadeTwice() async throws {
        var faults = SandboxFaults()
        faults.dropProcessAnswers = 2
        await sandbox.setFaults(faults)
        let summary = try await run(try manifest(Self.assetOnServer))
        XCTAssertEqual(summary.done, 1, "\(summary.failures.map(\.error))")
        let dropped = await sandbox.droppedResponses()
        XCTAssertEqual(dropped, 2, "two answers were lost after the children were made")
        let uploadedOriginal = await sandbox.statistics().assets.first { $0.state == "uploaded" }
        let parent = try XCTUnwrap(uploadedOriginal).id
        let children = await childrenOnServer(of: parent)
        XCTAssertEqual(children.count, 5)
        XCTAssertTrue(children.values.allSatisfy { $0.count == 1 }, "each child exactly once: \(children.mapValues(\.count))")
        let ids = Set(summary.records.dropFirst().compactMap { $0.id.classyID })
        XCTAssertEqual(ids, Set(children.values.flatMap { $0.map(\.id) }), "the looked-up children are the ones recorded")
        let verified = try await AssetVerifier(journal: try SQLiteJournal(path: journalPath), client: client).verify()
        XCTAssertEqual(verified.problems, [])
    }

    func testAServerErrorAfterTheChildrenWereMadeIsLookedUpNotRepeated() async throws {
        var faults = SandboxFaults()
        faults.processErrorsAfterWork = 2
        await sandbox.setFaults(faults)
        let summary = try await run(try manifest(Self.assetOnServer))
        XCTAssertEqual(summary.done, 1, "\(summary.failures.map(\.error))")
        let uploadedOriginal = await sandbox.statistics().assets.first { $0.state == "uploaded" }
        let children = await childrenOnServer(of: try XCTUnwrap(uploadedOriginal).id)
        XCTAssertEqual(children.count, 5)
        XCTAssertTrue(children.values.allSatisfy { $0.count == 1 }, "each child exactly once: \(children.mapValues(\.count))")
    }

    func testARunThatStopsAfterTheCallBeforeRecordingItAdoptsTheChildrenOnTheNextRun() async throws {
        // The API makes the children, then the journal write of their ids fails (as a
        // kill at that moment would leave it): the run stops with the request persisted.
        let journal = try SQLiteJournal(path: journalPath)
        let failing = InterceptingJournal(inner: journal) { step throws(JournalError) in
            if case .madeOnServer = step { throw JournalError(.storage, "disk I/O error (injected)") }
        }
        let first = try? await run(try manifest(Self.assetOnServer), journal: failing)
        XCTAssertNotEqual(first?.done, 1, "the first run cannot finish")
        let uploadedOriginal = await sandbox.statistics().assets.first { $0.state == "uploaded" }
        let parent = try XCTUnwrap(uploadedOriginal).id
        let madeBefore = await childrenOnServer(of: parent)
        XCTAssertEqual(madeBefore.count, 2, "the first call made its two thumbnails before the write failed")
        let job = try await journal.job(key: try manifest(Self.assetOnServer).jobs[0].key)
        XCTAssertEqual(job?.items.filter { $0.step == .processRequested }.map(\.position), [1, 2], "the request is persisted")

        let second = try await run(try manifest(Self.assetOnServer))
        XCTAssertEqual(second.done, 1, "\(second.failures.map(\.error))")
        let children = await childrenOnServer(of: parent)
        XCTAssertEqual(children.count, 5)
        XCTAssertTrue(children.values.allSatisfy { $0.count == 1 }, "adopted, not made again: \(children.mapValues(\.count))")
        XCTAssertEqual(Set(second.records.dropFirst(1).prefix(2).compactMap { $0.id.classyID }),
                       Set(madeBefore.values.flatMap { $0.map(\.id) }), "the children made before the stop are the ones recorded")
    }

    func testVerifyReportsAChildNoJobRecorded() async throws {
        let summary = try await run(try manifest(Self.assetOnServer))
        XCTAssertEqual(summary.done, 1)
        let parent = try XCTUnwrap(summary.records.first?.id.classyID)
        _ = try await client.processAsset(parent, .rotate(angle: 90))   // what a second, blind call would leave
        let verified = try await AssetVerifier(journal: try SQLiteJournal(path: journalPath), client: client).verify()
        XCTAssertEqual(verified.problems.count, 1, "\(verified.problems)")
        XCTAssertTrue(verified.problems.first?.problem.contains("no job recorded") == true, "\(verified.problems)")
    }
}
