@testable import AssetQueuePostgres
import Foundation
import PostgresNIO
import XCTest

/// Sources in PostgreSQL: content-addressed, idempotent, and never handed out damaged.
final class PostgresSourceStoreTests: XCTestCase {
    func testPutGetIdempotentMissingAndCorrupted() async throws {
        let jobs = try await TestServer.freshStore(try TestServer.url())
        let sources = PostgresSourceStore(sharing: jobs)
        let bytes = Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let key = try await sources.put(bytes)
        XCTAssertEqual(key, SourceKey.of(bytes))
        XCTAssertEqual(key.count, 64)
        let again = try await sources.put(bytes)
        XCTAssertEqual(again, key)
        let got = try await sources.get(key)
        XCTAssertEqual(got, bytes)
        let rows = try await jobs.db.read("count") { c in
            try await jobs.db.rows("SELECT COUNT(*) FROM source", on: c).first!.decode(Int.self)
        }
        XCTAssertEqual(rows, 1, "the same bytes are stored once")

        let empty = try await sources.put(Data())
        let actual4 = try await sources.get(empty)
        XCTAssertEqual(actual4, Data())

        await assertSourceError(.missing) { _ = try await sources.get(String(repeating: "0", count: 64)) }
        await assertSourceError(.invalidKey) { _ = try await sources.get("../etc/passwd") }

        // Damaged storage: the stored bytes no longer hash to their key.
        try await jobs.db.transaction("corrupt") { c in
            try await jobs.db.rows("UPDATE source SET bytes = \(ByteBuffer(bytes: [1, 2, 3])) WHERE sha256 = \(key)", on: c)
        }
        await assertSourceError(.corrupt) { _ = try await sources.get(key) }

        await sources.shutdown()   // shares the job store's connections: closes nothing
        let actual5 = try await jobs.job(key: "none")
        XCTAssertEqual(actual5, nil)
        await TestServer.dispose(jobs)
    }

    func testAStoreWithItsOwnConnectionsMigratesAndShutsDown() async throws {
        let url = try await TestServer.freshDatabase(try TestServer.url())
        let sources = PostgresSourceStore(url: url, logger: TestServer.logger)
        try await sources.migrate()
        let key = try await sources.put(Data("hello".utf8))
        let actual6 = try await sources.get(key)
        XCTAssertEqual(actual6, Data("hello".utf8))
        await sources.shutdown()
        await assertSourceError(.storage) { _ = try await sources.get(key) }
        await TestServer.drop(url)
    }
}

func assertSourceError(_ code: SourceStoreError.Code, file: StaticString = #filePath, line: UInt = #line,
                       _ body: () async throws -> Void) async {
    do {
        try await body()
        XCTFail("expected SourceStoreError(.\(code)), nothing was thrown", file: file, line: line)
    } catch let error as SourceStoreError {
        XCTAssertEqual(error.code, code, error.message, file: file, line: line)
    } catch {
        XCTFail("expected SourceStoreError(.\(code)), got \(error)", file: file, line: line)
    }
}
