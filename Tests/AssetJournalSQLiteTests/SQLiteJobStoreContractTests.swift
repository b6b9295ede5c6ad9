import AssetJournalSQLite
import Foundation
import JobStoreContract
import XCTest

/// The job store contract against the SQLite journal, one new file per check.
final class SQLiteJobStoreContractTests: XCTestCase {
    struct Subject: JobStoreTestSubject {
        let directory: URL
        func makeStore() async throws -> any JobStore {
            try SQLiteJournal(path: directory.appendingPathComponent("\(UUID().uuidString).sqlite").path)
        }
        func crash(_ lease: RunLease, of store: any JobStore) async throws {
            (store as! SQLiteJournal).simulateCrash(of: lease)
        }
    }

    func testContract() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-contract-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for check in JobStoreContract.checks {
            do { try await check.run(Subject(directory: directory)) } catch { XCTFail("\(check.name): \(error)") }
        }
    }
}
