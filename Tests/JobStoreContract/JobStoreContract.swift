import AssetJobs
import Foundation

/// A store under test: how to make a fresh one, and how to kill one of its runs
/// the way a `kill -9` or a lost machine would (no `endRun`, no more heartbeats).
public protocol JobStoreTestSubject: Sendable {
    func makeStore() async throws -> any JobStore
    func crash(_ lease: RunLease, of store: any JobStore) async throws
}

/// A contract check that did not hold.
public struct ContractFailure: Error, CustomStringConvertible {
    public var description: String
}

/// The rules every `JobStore` keeps, as checks any test target runs against its
/// store: SQLite, PostgreSQL and the in-memory store pass the same ones. A check
/// throws `ContractFailure` (or the store's own error) when a rule is broken.
public enum JobStoreContract {
    public typealias Check = @Sendable (any JobStoreTestSubject) async throws -> Void

    public static let checks: [(name: String, run: Check)] = [
        ("plan is idempotent", planIsIdempotent),
        ("the target binding refuses another target", bindingRefusesAnotherTarget),
        ("a claim is exclusive while its run lives", claimIsExclusive),
        ("a dead run's jobs are taken over and its writes fenced", deadRunIsFenced),
        ("a job's whole life is recorded", wholeLifecycle),
        ("steps out of order are refused", invalidTransitions),
        ("a replaced pending asset is recorded abandoned", replacedPendingIsAbandoned),
        ("reprocessing keeps uploaded images and abandons changed pending ones", reprocessing),
        ("a failed job is retried by plan, skipped by claimNext", failedJobs),
        ("claimNext takes the oldest free jobs up to its limit", claimNextOrder),
        ("release lets another run claim; a stale release changes nothing", releaseRules),
        ("ending a run releases its claims; status reports runs and pauses", endRunAndStatus),
        ("possibly orphaned pending assets are counted", possiblyOrphanedCounted),
        ("a write for an unknown job is refused", unknownJob),
        ("status and assets of one batch count that batch's jobs alone", batchScope),
        ("a named lock has one holder at a time, and its step is recorded before it is let go", namedLock),
        ("images the API makes are requested after the original, then recorded once with the API's record", serverMadeImages),
    ]

    // MARK: Helpers

    static func expect(_ condition: Bool, _ message: @autoclosure () -> String, line: Int = #line) throws {
        if !condition { throw ContractFailure(description: "line \(line): \(message())") }
    }

    static func expectError(_ code: JournalError.Code, line: Int = #line, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as JournalError {
            try expect(error.code == code, "expected \(code), got \(error.code): \(error.message)", line: line)
            return
        }
        throw ContractFailure(description: "line \(line): expected \(code), nothing was thrown")
    }

    static func plan(_ key: String) -> JobPlan {
        JobPlan(key: key, manifestPath: "/m.yml", role: "logo", target: "campaign=1", sourcePath: "/src/\(key).png",
                sourceSHA256: String(repeating: "a", count: 64))
    }

    static func record(_ position: Int, sha: Character = "b") -> ProcessedItem {
        ProcessedItem(position: position, record: AssetRecord(
            id: .local("k\(position)"), state: .local, contentType: "image/png", type: position == 0 ? nil : "thumbnail_100_100",
            size: 100 + position, createdAt: Date(timeIntervalSince1970: 1_700_000_000), width: 10, height: 10,
            sha256: String(repeating: sha, count: 64)))
    }

    static func claimOne(_ key: String, _ store: any JobStore, _ lease: RunLease) async throws -> JobClaim {
        let claims = try await store.claim([key], for: lease)
        try expect(claims.count == 1 && claims[0].jobKey == key, "run \(lease.runID) could not claim \(key): \(claims)")
        return claims[0]
    }

    /// Records processed images all the way to uploaded.
    static func upload(_ claim: JobClaim, _ store: any JobStore, positions: [Int], firstID: Int = 500) async throws {
        for position in positions {
            let id = firstID + position
            try await store.record(.pendingCreated(item: position, assetID: id, uploadURL: "https://s3/\(id)?X-Amz-Signature=x",
                                                   issuedAt: Date(), expiresAt: Date().addingTimeInterval(900)), under: claim)
            try await store.record(.bytesUploaded(item: position), under: claim)
            try await store.record(.markedUploaded(item: position, at: Date()), under: claim)
        }
    }

    // MARK: Checks

    static func planIsIdempotent(_ subject: any JobStoreTestSubject) async throws {
        let store = try await subject.makeStore()
        let first = try await store.plan(plan("j1"))
        try expect(first == .new, "first plan: \(first)")
        var moved = plan("j1")
        moved.sourcePath = "/elsewhere/j1.png"
        let second = try await store.plan(moved)
        try expect(second == .resumed(step: .planned, previousError: nil), "second plan: \(second)")
        let job = try await store.job(key: "j1")
        try expect(job?.step == .planned && job?.plan.sourcePath == "/elsewhere/j1.png", "job after re-plan: \(String(describing: job))")
        var queued = plan("j2")
        queued.batch = "b-1"
        queued.payload = Data("{\"spec\":1}".utf8)
        _ = try await store.plan(queued)
        let stored = try await store.job(key: "j2")?.plan
        try expect(stored == queued, "a plan's batch and payload are kept: \(String(describing: stored))")
        try expect(try await store.incompleteJobs().map(\.plan.key) == ["j1", "j2"], "incomplete jobs")
    }

    static func bindingRefusesAnotherTarget(_ subject: any JobStoreTestSubject) async throws {
        let store = try await subject.makeStore()
        let target = APITarget(endpoint: "https://api.classy.org", clientID: "abc", memberID: 7)
        try expect(try await store.boundTarget() == nil, "a new store is bound to nothing")
        try await store.bind(to: target)
        try await store.bind(to: target)
        try expect(try await store.boundTarget() == target, "bound target")
        try await expectError(.targetMismatch) {
            try await store.bind(to: APITarget(endpoint: "sandbox:/tmp/x", clientID: "abc", memberID: 7))
        }
    }

    static func claimIsExclusive(_ subject: any JobStoreTestSubject) async throws {
        let store = try await subject.makeStore()
        _ = try await store.plan(plan("j1"))
        let a = try await store.beginRun(), b = try await store.beginRun()
        try expect(a.runID != b.runID, "two runs share an id")
        let claimA = try await claimOne("j1", store, a)
        try expect(try await store.claim(["j1"], for: b).isEmpty, "a live claim was claimed again")
        try expect(try await store.claimNext(limit: 5, for: b).isEmpty, "claimNext took a claimed job")
        try await store.heartbeat(a)
        try await store.record(.processed([record(0)]), under: claimA)
        try await store.endRun(a, as: .finished)
        let claimB = try await claimOne("j1", store, b)
        try expect(claimB.fence > claimA.fence, "fence did not grow: \(claimA.fence) then \(claimB.fence)")
        try await store.endRun(b, as: .finished)
    }

    static func deadRunIsFenced(_ subject: any JobStoreTestSubject) async throws {
        let store = try await subject.makeStore()
        _ = try await store.plan(plan("j1"))
        let a = try await store.beginRun()
        let claimA = try await claimOne("j1", store, a)
        try await store.record(.processed([record(0)]), under: claimA)
        try await subject.crash(a, of: store)
        let b = try await store.beginRun()
        try expect(b.tookOver.map(\.runID).contains(a.runID), "run \(a.runID) not taken over: \(b.tookOver)")
        let claimB = try await claimOne("j1", store, b)
        try expect(claimB.fence > claimA.fence, "fence did not grow")
        // The dead run's late writes change nothing.
        try await expectError(.fenced) {
            try await store.record(.pendingCreated(item: 0, assetID: 1, uploadURL: "u", issuedAt: Date(), expiresAt: nil), under: claimA)
        }
        try await expectError(.fenced) { try await store.recordAbandoned(assetID: 9, item: 0, reason: "late", under: claimA) }
        try await expectError(.leaseLost) { try await store.heartbeat(a) }
        let job = try await store.job(key: "j1")
        try expect(job?.items.first?.classyAssetID == nil && job?.items.first?.step == .processed, "a fenced write changed the job")
        try expect(try await store.abandonedAssets().isEmpty, "a fenced abandon was recorded")
        // The new owner continues from the last step the dead one persisted.
        try await store.record(.pendingCreated(item: 0, assetID: 2, uploadURL: "u", issuedAt: Date(), expiresAt: nil), under: claimB)
        try expect(try await store.job(key: "j1")?.items.first?.classyAssetID == 2, "the new owner's write was lost")
        try await store.endRun(b, as: .finished)
    }

    static func wholeLifecycle(_ subject: any JobStoreTestSubject) async throws {
        let store = try await subject.makeStore()
        _ = try await store.plan(plan("j1"))
        let run = try await store.beginRun()
        let claim = try await claimOne("j1", store, run)
        try await store.record(.processed([record(0), record(1)]), under: claim)
        var job = try await store.job(key: "j1")
        try expect(job?.step == .processed && job?.items.map(\.position) == [0, 1], "after processed: \(String(describing: job))")
        try await store.record(.pendingCreated(item: 0, assetID: 500, uploadURL: "https://s3/500", issuedAt: Date(), expiresAt: nil), under: claim)
        job = try await store.job(key: "j1")
        try expect(job?.step == .processed, "a job is as far as its least advanced image")
        try expect(job?.items[0].step == .pendingCreated && job?.items[0].uploadURL == "https://s3/500", "pending image")
        try await store.record(.bytesUploaded(item: 0), under: claim)
        job = try await store.job(key: "j1")
        try expect(job?.items[0].uploadURL == nil, "the pre-signed URL is kept only while it is needed")
        try await store.record(.markedUploaded(item: 0, at: Date()), under: claim)
        try await store.record(.pendingCreated(item: 1, assetID: 501, uploadURL: "u", issuedAt: Date(), expiresAt: nil), under: claim)
        try await store.record(.bytesUploaded(item: 1), under: claim)
        try await store.record(.markedUploaded(item: 1, at: Date()), under: claim)
        job = try await store.job(key: "j1")
        try expect(job?.step == .markedUploaded, "all images uploaded: \(String(describing: job?.step))")
        try await store.record(.attachIntent(call: "POST ecard"), under: claim)
        try expect(try await store.job(key: "j1")?.attachIntent == "POST ecard", "intent kept")
        try await store.record(.attached(to: "ecard 9001"), under: claim)
        job = try await store.job(key: "j1")
        try expect(job?.step == .attached && job?.attachedTo == "ecard 9001" && job?.attachIntent == nil, "attached clears the intent")
        try await store.record(.done, under: claim)
        job = try await store.job(key: "j1")
        try expect(job?.step == .done && job?.items.allSatisfy { $0.step == .done } == true && job?.doneAt != nil, "done")
        try expect(try await store.incompleteJobs().isEmpty, "a done job is not incomplete")
        try expect(try await store.allAssets().compactMap(\.classyAssetID) == [500, 501], "all assets")
        if case .alreadyDone = try await store.plan(plan("j1")) {} else { throw ContractFailure(description: "a done job planned again is not alreadyDone") }
        try expect(try await store.claim(["j1"], for: run).isEmpty, "a done job was claimed")
        let status = try await store.status()
        try expect(status.jobCounts == ["done": 1] && status.itemCounts == ["done": 2], "status counts: \(status.jobCounts) \(status.itemCounts)")
        try expect(status.lastSuccessfulUpload != nil, "last upload")
        try await store.endRun(run, as: .finished)
    }

    static func invalidTransitions(_ subject: any JobStoreTestSubject) async throws {
        let store = try await subject.makeStore()
        _ = try await store.plan(plan("j1"))
        let run = try await store.beginRun()
        let claim = try await claimOne("j1", store, run)
        try await expectError(.invalidTransition) { try await store.record(.bytesUploaded(item: 0), under: claim) }
        try await store.record(.processed([record(0)]), under: claim)
        try await expectError(.invalidTransition) { try await store.record(.bytesUploaded(item: 0), under: claim) }
        try await expectError(.invalidTransition) { try await store.record(.markedUploaded(item: 0, at: Date()), under: claim) }
        try await expectError(.invalidTransition) { try await store.record(.attached(to: "x"), under: claim) }
        try await expectError(.invalidTransition) { try await store.record(.attachIntent(call: "x"), under: claim) }
        try await expectError(.invalidTransition) { try await store.record(.done, under: claim) }
        try await expectError(.invalidTransition) { try await store.record(.bytesUploaded(item: 7), under: claim) }
        try await upload(claim, store, positions: [0])
        try await expectError(.invalidTransition) {
            try await store.record(.pendingCreated(item: 0, assetID: 9, uploadURL: "u", issuedAt: Date(), expiresAt: nil), under: claim)
        }
        try await store.record(.attached(to: "logo"), under: claim)
        try await expectError(.invalidTransition) { try await store.record(.processed([record(0, sha: "c")]), under: claim) }
        try await store.endRun(run, as: .finished)
    }

    static func replacedPendingIsAbandoned(_ subject: any JobStoreTestSubject) async throws {
        let store = try await subject.makeStore()
        _ = try await store.plan(plan("j1"))
        let run = try await store.beginRun()
        let claim = try await claimOne("j1", store, run)
        try await store.record(.processed([record(0)]), under: claim)
        try await store.record(.pendingCreated(item: 0, assetID: 1, uploadURL: "u1", issuedAt: Date(), expiresAt: nil), under: claim)
        try await store.record(.pendingCreated(item: 0, assetID: 2, uploadURL: "u2", issuedAt: Date(), expiresAt: nil,
                                               replacing: "its pre-signed URL expired"), under: claim)
        let abandoned = try await store.abandonedAssets()
        try expect(abandoned.map(\.assetID) == [1] && abandoned.first?.reason == "its pre-signed URL expired", "abandoned: \(abandoned)")
        try await store.recordAbandoned(assetID: 3, item: nil, reason: "left pending by a failed upload", under: claim)
        try expect(try await store.abandonedAssets().map(\.assetID) == [1, 3], "recordAbandoned")
        try expect(try await store.status().abandonedCount == 2, "status counts abandoned")
        try await store.endRun(run, as: .finished)
    }

    static func reprocessing(_ subject: any JobStoreTestSubject) async throws {
        let store = try await subject.makeStore()
        _ = try await store.plan(plan("j1"))
        let run = try await store.beginRun()
        let claim = try await claimOne("j1", store, run)
        try await store.record(.processed([record(0), record(1), record(2)]), under: claim)
        try await upload(claim, store, positions: [0])
        try await store.record(.pendingCreated(item: 1, assetID: 601, uploadURL: "u", issuedAt: Date(), expiresAt: nil), under: claim)
        try await store.record(.pendingCreated(item: 2, assetID: 602, uploadURL: "u", issuedAt: Date(), expiresAt: nil), under: claim)
        // Same bytes: progress kept.
        try await store.record(.processed([record(0), record(1), record(2)]), under: claim)
        var job = try await store.job(key: "j1")
        try expect(job?.items.map(\.step) == [.markedUploaded, .pendingCreated, .pendingCreated], "same bytes keep progress: \(String(describing: job?.items.map(\.step)))")
        // Image 0 changes but is on the platform: kept. Image 1 changes: starts over. Image 2 is no longer produced.
        try await store.record(.processed([record(0, sha: "c"), record(1, sha: "c")]), under: claim)
        job = try await store.job(key: "j1")
        try expect(job?.items.map(\.position) == [0, 1], "positions after reprocessing: \(String(describing: job?.items.map(\.position)))")
        try expect(job?.items[0].step == .markedUploaded && job?.items[0].classyAssetID == 500, "an uploaded image is kept")
        try expect(job?.items[1].step == .processed && job?.items[1].classyAssetID == nil, "a changed image starts over")
        let reasons = Dictionary(try await store.abandonedAssets().map { ($0.assetID, $0.reason) }, uniquingKeysWith: { a, _ in a })
        try expect(reasons == [601: "the processed image changed", 602: "the image is no longer produced"], "abandoned: \(reasons)")
        try await store.endRun(run, as: .finished)
    }

    static func failedJobs(_ subject: any JobStoreTestSubject) async throws {
        let store = try await subject.makeStore()
        _ = try await store.plan(plan("j1"))
        _ = try await store.plan(plan("j2"))
        let run = try await store.beginRun()
        let claim = try await claimOne("j1", store, run)
        try await store.record(.processed([record(0)]), under: claim)
        try await store.record(.failed(item: 0, error: "boom"), under: claim)
        try await store.release(claim)
        var job = try await store.job(key: "j1")
        try expect(job?.error == "boom" && job?.items.first?.error == "boom", "failure recorded on job and image")
        try expect(try await store.status().failures.map(\.jobKey) == ["j1"], "status lists the failure")
        try expect(try await store.status().jobCounts["failed"] == 1, "a failed job counts as failed")
        try expect(try await store.claimNext(limit: 5, for: run).map(\.jobKey) == ["j2"], "claimNext skips failed jobs")
        let outcome = try await store.plan(plan("j1"))
        try expect(outcome == .resumed(step: .processed, previousError: "boom"), "re-plan: \(outcome)")
        job = try await store.job(key: "j1")
        try expect(job?.error == nil && job?.attempts == 2, "re-plan clears the error and counts the attempt: \(String(describing: job))")
        try expect(try await store.claim(["j1"], for: run).count == 1, "a re-planned job can be claimed")
        try await store.endRun(run, as: .finished)
    }

    static func claimNextOrder(_ subject: any JobStoreTestSubject) async throws {
        let store = try await subject.makeStore()
        for key in ["a", "b", "c", "d"] { _ = try await store.plan(plan(key)) }
        let one = try await store.beginRun(), two = try await store.beginRun()
        let first = try await store.claimNext(limit: 2, for: one)
        try expect(first.map(\.jobKey) == ["a", "b"], "oldest first: \(first.map(\.jobKey))")
        let second = try await store.claimNext(limit: 5, for: two)
        try expect(second.map(\.jobKey) == ["c", "d"], "the rest: \(second.map(\.jobKey))")
        try expect(try await store.claimNext(limit: 5, for: one).isEmpty, "nothing left")
        try await store.endRun(one, as: .finished)
        try await store.endRun(two, as: .finished)
    }

    static func releaseRules(_ subject: any JobStoreTestSubject) async throws {
        let store = try await subject.makeStore()
        _ = try await store.plan(plan("j1"))
        let a = try await store.beginRun(), b = try await store.beginRun()
        let claimA = try await claimOne("j1", store, a)
        try await store.release(claimA)
        let claimB = try await claimOne("j1", store, b)
        try await store.release(claimA)   // stale: must not free B's claim
        try expect(try await store.claim(["j1"], for: a).isEmpty, "a stale release freed another run's claim")
        try await expectError(.fenced) { try await store.record(.processed([record(0)]), under: claimA) }
        try await store.record(.processed([record(0)]), under: claimB)
        try await store.endRun(a, as: .finished)
        try await store.endRun(b, as: .finished)
    }

    static func endRunAndStatus(_ subject: any JobStoreTestSubject) async throws {
        let store = try await subject.makeStore()
        _ = try await store.plan(plan("j1"))
        _ = try await store.plan(plan("j2"))
        let a = try await store.beginRun()
        _ = try await claimOne("j1", store, a)
        var status = try await store.status()
        try expect(status.activeRuns.map(\.runID) == [a.runID] && status.activeRuns.first?.claimedJobs == 1,
                   "active runs: \(status.activeRuns)")
        try expect(!status.paused, "a live run is not paused")
        try await store.endRun(a, as: .paused)
        status = try await store.status()
        try expect(status.activeRuns.isEmpty && status.paused, "after a pause with work left: \(status.activeRuns) paused=\(status.paused)")
        try expect(status.jobCounts == ["planned": 2], "counts: \(status.jobCounts)")
        let b = try await store.beginRun()
        try expect(try await store.claim(["j1", "j2"], for: b).map(\.jobKey) == ["j1", "j2"], "ended run's claims released")
        try await store.endRun(b, as: .finished)
        try expect(!(try await store.status().paused), "finished is not paused")
        try await expectError(.leaseLost) { try await store.heartbeat(b) }
        try await expectError(.leaseLost) { _ = try await store.claimNext(limit: 1, for: b) }
    }

    static func possiblyOrphanedCounted(_ subject: any JobStoreTestSubject) async throws {
        let store = try await subject.makeStore()
        _ = try await store.plan(plan("j1"))
        let run = try await store.beginRun()
        let claim = try await claimOne("j1", store, run)
        try await store.record(.processed([record(0)]), under: claim)
        try await store.record(.pendingPossiblyOrphaned(item: 0), under: claim)
        try await store.record(.pendingPossiblyOrphaned(item: 0), under: claim)
        try expect(try await store.job(key: "j1")?.possiblyOrphaned == 2, "per job")
        try expect(try await store.status().possiblyOrphanedCount == 2, "in status")
        try await store.endRun(run, as: .finished)
    }

    static func unknownJob(_ subject: any JobStoreTestSubject) async throws {
        let store = try await subject.makeStore()
        let run = try await store.beginRun()
        try expect(try await store.claim(["nope"], for: run).isEmpty, "an unknown job was claimed")
        try expect(try await store.job(key: "nope") == nil, "unknown job read")
        try await expectError(.unknownJob) { try await store.record(.done, under: JobClaim(jobKey: "nope", runID: run.runID, fence: 1)) }
        try await store.endRun(run, as: .finished)
    }

    static func batchScope(_ subject: any JobStoreTestSubject) async throws {
        let store = try await subject.makeStore()
        for (key, batch) in [("a1", "A"), ("a2", "A"), ("b1", "B")] {
            var p = plan(key)
            p.batch = batch
            _ = try await store.plan(p)
        }
        let run = try await store.beginRun()
        let a1 = try await claimOne("a1", store, run), b1 = try await claimOne("b1", store, run)
        try await store.record(.processed([record(0), record(1)]), under: a1)
        try await upload(a1, store, positions: [0, 1], firstID: 700)
        try await store.record(.processed([record(0)]), under: b1)
        try await store.record(.failed(item: 0, error: "boom"), under: b1)
        try await store.record(.pendingPossiblyOrphaned(item: 0), under: b1)
        let a = try await store.status(batch: "A"), b = try await store.status(batch: "B")
        try expect(a.jobCounts == ["markedUploaded": 1, "planned": 1], "batch A's jobs: \(a.jobCounts)")
        try expect(a.itemCounts == ["markedUploaded": 2] && a.failures.isEmpty && a.possiblyOrphanedCount == 0,
                   "batch A's images and failures: \(a.itemCounts) \(a.failures.map(\.jobKey)) \(a.possiblyOrphanedCount)")
        try expect(a.lastSuccessfulUpload != nil && b.lastSuccessfulUpload == nil, "last upload per batch")
        try expect(b.jobCounts == ["failed": 1] && b.failures.map(\.jobKey) == ["b1"] && b.possiblyOrphanedCount == 1,
                   "batch B: \(b.jobCounts) \(b.failures.map(\.jobKey)) \(b.possiblyOrphanedCount)")
        try expect(a.activeRuns.map(\.runID) == [run.runID], "the live workers are the whole store's")
        try expect(try await store.status(batch: "none").totalJobs == 0, "an unknown batch has no jobs")
        try expect(try await store.status().totalJobs == 3, "no batch: every job")
        try expect(try await store.allAssets(batch: "A").map(\.classyAssetID) == [700, 701], "batch A's assets")
        try expect(try await store.allAssets(batch: "B").map(\.jobKey) == ["b1"], "batch B's assets")
        try expect(try await store.allAssets().count == 3, "all assets")
        try await store.endRun(run, as: .finished)
    }

    /// The order bodies ran in, across tasks.
    actor EventLog {
        var events: [String] = []
        func add(_ event: String) { events.append(event) }
    }

    struct BodyError: Error {}

    static func namedLock(_ subject: any JobStoreTestSubject) async throws {
        let store = try await subject.makeStore()
        for key in ["j1", "j2", "j3"] { _ = try await store.plan(plan(key)) }
        let a = try await store.beginRun(), b = try await store.beginRun()
        var claims: [JobClaim] = []
        for (key, run) in [("j1", a), ("j2", b), ("j3", b)] {
            let claim = try await claimOne(key, store, run)
            try await store.record(.processed([record(0)]), under: claim)
            try await upload(claim, store, positions: [0], firstID: key == "j1" ? 800 : key == "j2" ? 810 : 820)
            try await store.record(.attachIntent(call: "POST /2.0/campaigns/1/ecards"), under: claim)
            claims.append(claim)
        }
        let held = claims
        let log = EventLog()
        // j1 holds "campaign-1" while j2 asks for it: j2's body starts only after j1's step is recorded.
        let first = Task {
            try await store.recordHoldingLock("campaign-1", under: held[0]) { () async throws -> (Int, JournalStep) in
                await log.add("j1 start")
                try await Task.sleep(for: .milliseconds(300))
                await log.add("j1 end")
                return (1, .attached(to: "ecard 1"))
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        let second = Task {
            try await store.recordHoldingLock("campaign-1", under: held[1]) { () async throws -> (Int, JournalStep) in
                let attached = try await store.job(key: "j1")?.attachedTo
                await log.add("j2 start, j1 attached to \(attached ?? "nothing")")
                return (2, .attached(to: "ecard 2"))
            }
        }
        // Another name is not held up meanwhile.
        let other = try await store.recordHoldingLock("campaign-2", under: held[2]) { () async throws -> (Int, JournalStep) in
            await log.add("j3 under another lock")
            return (3, .attached(to: "ecard 3"))
        }
        let values = [try await first.value, try await second.value, other]
        try expect(values == [1, 2, 3], "the bodies' values: \(values)")
        let events = await log.events
        try expect(events == ["j1 start", "j3 under another lock", "j1 end", "j2 start, j1 attached to ecard 1"],
                   "one holder at a time, the step recorded before the lock is let go: \(events)")
        try expect(try await store.job(key: "j2")?.attachedTo == "ecard 2", "the second holder's step is recorded")
        // A body that throws records nothing, and its error comes out as it is.
        _ = try await store.plan(plan("j4"))
        let c4 = try await claimOne("j4", store, a)
        try await store.record(.processed([record(0)]), under: c4)
        try await upload(c4, store, positions: [0], firstID: 830)
        try await store.record(.attachIntent(call: "POST /2.0/campaigns/1/ecards"), under: c4)
        do {
            _ = try await store.recordHoldingLock("campaign-1", under: c4) { () async throws -> (Int, JournalStep) in throw BodyError() }
            throw ContractFailure(description: "a throwing body's error was swallowed")
        } catch is BodyError {}
        let j4 = try await store.job(key: "j4")
        try expect(j4?.attachedTo == nil && j4?.attachIntent != nil, "a throwing body recorded something: \(String(describing: j4?.attachedTo))")
        // The lock is free again after a throwing body.
        _ = try await store.recordHoldingLock("campaign-1", under: c4) { () async throws -> (Int, JournalStep) in (4, .attached(to: "ecard 4")) }
        try await store.endRun(a, as: .finished)
        try await store.endRun(b, as: .finished)
    }

    static func serverMadeImages(_ subject: any JobStoreTestSubject) async throws {
        let store = try await subject.makeStore()
        _ = try await store.plan(plan("j1"))
        let run = try await store.beginRun()
        let claim = try await claimOne("j1", store, run)
        var planned = record(1).record
        planned.state = .planned
        planned.sha256 = ""
        try await store.record(.processed([record(0), ProcessedItem(position: 1, record: planned)]), under: claim)
        try await expectError(.invalidTransition) { try await store.record(.processRequested(items: [1]), under: claim) }
        try await upload(claim, store, positions: [0])
        try await store.record(.processRequested(items: [1]), under: claim)
        var job = try await store.job(key: "j1")
        try expect(job?.items.map(\.step) == [.markedUploaded, .processRequested] && job?.step == .processRequested,
                   "requested: \(String(describing: job?.items.map(\.step)))")
        // Processing again (a restart) keeps a requested image: only a look-up can tell whether the API made it.
        var changed = planned
        changed.sha256 = String(repeating: "d", count: 64)
        try await store.record(.processed([record(0), ProcessedItem(position: 1, record: changed)]), under: claim)
        job = try await store.job(key: "j1")
        try expect(job?.items[1].step == .processRequested && job?.items[1].record.sha256 == "", "a requested image is kept")
        try expect(try await store.abandonedAssets().isEmpty, "nothing abandoned")
        var made = planned
        made.id = .classy(700)
        made.parentID = .classy(500)
        made.state = .processed
        made.size = 321
        made.cdnURL = "https://cdn/700.png"
        try await store.record(.madeOnServer([ServerMadeImage(position: 1, assetID: 700, record: made)]), under: claim)
        job = try await store.job(key: "j1")
        let item = job?.items.first { $0.position == 1 }
        try expect(item?.step == .markedUploaded && item?.classyAssetID == 700 && item?.record == made && item?.madeByTheAPI == true,
                   "made: \(String(describing: item))")
        try expect(job?.step == .markedUploaded, "the job is as far as its images: \(String(describing: job?.step))")
        try await store.record(.madeOnServer([ServerMadeImage(position: 1, assetID: 700, record: made)]), under: claim)
        try await expectError(.invalidTransition) {
            try await store.record(.madeOnServer([ServerMadeImage(position: 1, assetID: 701, record: made)]), under: claim)
        }
        try await expectError(.invalidTransition) { try await store.record(.processRequested(items: [1]), under: claim) }
        try await store.record(.done, under: claim)
        try expect(try await store.allAssets().compactMap(\.classyAssetID) == [500, 700], "all assets")
        try await store.endRun(run, as: .finished)
    }
}
