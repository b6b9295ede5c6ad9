@testable import AssetQueuePostgres
import Foundation
import Logging
import PostgresNIO
import Synchronization
import XCTest

/// The test server: `DATABASE_URL` (scripts/test.sh starts one with scripts/start-postgres.sh).
/// Without it a test skips, except under CI=true, where it fails.
enum TestServer {
    static func url(file: StaticString = #filePath, line: UInt = #line) throws -> PostgresURL {
        let env = ProcessInfo.processInfo.environment
        guard let text = env["DATABASE_URL"], !text.isEmpty else {
            let why = "DATABASE_URL is not set: start a server with `eval \"$(bash scripts/start-postgres.sh)\"` (scripts/test.sh does)"
            if env["CI"] == "true" {
                XCTFail("CI=true and \(why)", file: file, line: line)
                throw XCTSkip("failed above")
            }
            throw XCTSkip(why)
        }
        return try PostgresURL(text)
    }

    static let logger: Logger = {
        var logger = Logger(label: "queue-tests")
        logger.logLevel = .critical
        return logger
    }()

    /// Runs one statement outside of a transaction on `url`'s server (CREATE/DROP DATABASE cannot run in one).
    static func admin(_ url: PostgresURL, _ sql: String) async throws {
        let db = QueueDatabase(url: url.with(database: "postgres"), logger: logger, deadline: .seconds(30))
        do {
            try await db.directTransaction("admin", inTransaction: false) { c in
                try await db.rows(PostgresQuery(unsafeSQL: sql), on: c)
            }
        } catch {
            await db.shutdown()
            throw error
        }
        await db.shutdown()
    }

    /// A new, empty database on the test server; dropped by `drop`.
    static func freshDatabase(_ url: PostgresURL, prefix: String = "aw_test") async throws -> PostgresURL {
        let name = "\(prefix)_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16))"
        try await admin(url, "CREATE DATABASE \(name)")
        return url.with(database: name)
    }

    static func drop(_ url: PostgresURL) async {
        try? await admin(url, "DROP DATABASE IF EXISTS \(url.database) WITH (FORCE)")
    }

    /// A migrated store on a fresh database.
    static func freshStore(_ url: PostgresURL, leaseDuration: TimeInterval = 30,
                           operationTimeout: Duration = .seconds(30)) async throws -> PostgresJobStore {
        let store = PostgresJobStore(url: try await freshDatabase(url), leaseDuration: leaseDuration,
                                     operationTimeout: operationTimeout, logger: logger)
        try await store.migrate()
        return store
    }

    /// Shuts `store` down and drops its database.
    static func dispose(_ store: PostgresJobStore) async {
        await store.shutdown()
        await drop(store.url)
    }
}

/// Stores made during a test, disposed of at its end.
final class StoreBin: Sendable {
    private let stores = Mutex<[PostgresJobStore]>([])
    func keep(_ store: PostgresJobStore) -> PostgresJobStore {
        stores.withLock { $0.append(store) }
        return store
    }
    func disposeAll() async {
        for store in stores.withLock({ $0 }) { await TestServer.dispose(store) }
    }
}

func plan(_ key: String) -> JobPlan {
    JobPlan(key: key, manifestPath: "/m.yml", role: "logo", target: "campaign=1", sourcePath: "/src/\(key).png",
            sourceSHA256: String(repeating: "a", count: 64))
}

func processedItem(_ position: Int) -> ProcessedItem {
    ProcessedItem(position: position, record: AssetRecord(
        id: .local("k\(position)"), state: .local, contentType: "image/png", type: nil, size: 100,
        createdAt: Date(timeIntervalSince1970: 1_700_000_000), width: 10, height: 10, sha256: String(repeating: "b", count: 64)))
}

/// Asserts that `body` throws a `JournalError` with `code`; returns it.
@discardableResult
func assertJournalError(_ code: JournalError.Code, file: StaticString = #filePath, line: UInt = #line,
                        _ body: () async throws -> Void) async -> JournalError? {
    do {
        try await body()
        XCTFail("expected JournalError(.\(code)), nothing was thrown", file: file, line: line)
    } catch let error as JournalError {
        XCTAssertEqual(error.code, code, "\(error.message)", file: file, line: line)
        return error
    } catch {
        XCTFail("expected JournalError(.\(code)), got \(error)", file: file, line: line)
    }
    return nil
}
