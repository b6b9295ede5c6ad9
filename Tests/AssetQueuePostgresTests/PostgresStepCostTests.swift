import AssetJournalSQLite
@testable import AssetQueuePostgres
import Foundation
import XCTest

/// What one job step costs on PostgreSQL against the SQLite journal: the same
/// `record` calls on both, timed and (for PostgreSQL) counted. It prints the
/// figures and asserts only what cannot vary: every step landed, and the count
/// of statements. `ASSET_WORKER_MEASURE_STEPS=1000` for the README's figures
/// (default 100 steps, to keep the test suite quick).
final class PostgresStepCostTests: XCTestCase {
    var steps: Int { Int(ProcessInfo.processInfo.environment["ASSET_WORKER_MEASURE_STEPS"] ?? "") ?? 100 }

    func testStepCostAgainstSQLite() async throws {
        let postgres = try await TestServer.freshStore(try TestServer.url())
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("step-cost-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let sqlite = try SQLiteJournal(path: directory.appendingPathComponent("journal.sqlite").path)

        let (pg, pgStatements) = try await timeSteps(on: postgres, counting: { postgres.statementCount })
        let (lite, _) = try await timeSteps(on: sqlite, counting: { 0 })

        let jobs = steps / 5
        let actual8 = try await postgres.status().jobCounts
        XCTAssertEqual(actual8, ["done": jobs])
        let actual9 = try await sqlite.status().jobCounts
        XCTAssertEqual(actual9, ["done": jobs])
        // Per job: 5 records of 6 statements (BEGIN, fenced read, items, job update, one item, COMMIT).
        XCTAssertEqual(pgStatements, jobs * 5 * 6, "statements for \(jobs * 5) records")
        print(String(format: "step cost: %d record() calls: PostgreSQL %.3f ms/step (%.1f statements/step), SQLite %.3f ms/step",
                     jobs * 5, pg * 1000 / Double(jobs * 5), Double(pgStatements) / Double(jobs * 5), lite * 1000 / Double(jobs * 5)))
        await TestServer.dispose(postgres)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Plans and claims `steps / 5` jobs (untimed), then times their five records each:
    /// processed, pending created, bytes uploaded, marked uploaded, done. Seconds, and the statements they took.
    private func timeSteps(on store: any JobStore, counting statements: () -> Int) async throws -> (Double, Int) {
        let jobs = steps / 5
        for i in 0..<jobs { _ = try await store.plan(plan("cost\(i)")) }
        let run = try await store.beginRun()
        let claims = try await store.claimNext(limit: jobs, for: run)
        XCTAssertEqual(claims.count, jobs)
        let before = statements()
        let start = ContinuousClock.now
        for claim in claims {
            try await store.record(.processed([processedItem(0)]), under: claim)
            try await store.record(.pendingCreated(item: 0, assetID: 1, uploadURL: "u", issuedAt: Date(), expiresAt: nil), under: claim)
            try await store.record(.bytesUploaded(item: 0), under: claim)
            try await store.record(.markedUploaded(item: 0, at: Date()), under: claim)
            try await store.record(.done, under: claim)
        }
        let elapsed = ContinuousClock.now - start
        let used = statements() - before
        try await store.endRun(run, as: .finished)
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, used)
    }
}
