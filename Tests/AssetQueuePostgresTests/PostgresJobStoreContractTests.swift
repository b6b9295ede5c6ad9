@testable import AssetQueuePostgres
import Foundation
import JobStoreContract
import XCTest

/// The job store contract against PostgreSQL, one new database per check.
final class PostgresJobStoreContractTests: XCTestCase {
    struct Subject: JobStoreTestSubject {
        let server: PostgresURL
        let bin: StoreBin
        func makeStore() async throws -> any JobStore {
            bin.keep(try await TestServer.freshStore(server))
        }
        func crash(_ lease: RunLease, of store: any JobStore) async throws {
            try await (store as! PostgresJobStore).simulateCrash(of: lease)
        }
    }

    func testContract() async throws {
        let server = try TestServer.url()
        let bin = StoreBin()
        for check in JobStoreContract.checks {
            do { try await check.run(Subject(server: server, bin: bin)) } catch { XCTFail("\(check.name): \(error)") }
        }
        await bin.disposeAll()
    }
}
