import AssetJobs
import Foundation
import XCTest

/// The in-memory source store keeps the port's rules: content-addressed, idempotent, never damaged bytes.
final class InMemorySourceStoreTests: XCTestCase {
    func testPutGetIdempotentMissingAndCorrupted() async throws {
        let store = InMemorySourceStore()
        let bytes = Data("an image's bytes".utf8)
        let key = try await store.put(bytes)
        XCTAssertEqual(key, "\(SourceKey.of(bytes))")
        XCTAssertEqual(key.count, 64)
        let actual1 = try await store.put(bytes)
        XCTAssertEqual(actual1, key)
        let count = await store.count
        XCTAssertEqual(count, 1)
        let actual2 = try await store.get(key)
        XCTAssertEqual(actual2, bytes)
        // The well-known SHA-256 of "abc".
        let actual3 = try await store.put(Data("abc".utf8))
        XCTAssertEqual(actual3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")

        await expect(.missing) { _ = try await store.get(String(repeating: "f", count: 64)) }
        await expect(.invalidKey) { _ = try await store.get("ABC") }
        await expect(.invalidKey) { _ = try await store.get(String(repeating: "F", count: 64)) }
        await store.overwriteForTesting(key, with: Data("tampered".utf8))
        await expect(.corrupt) { _ = try await store.get(key) }
    }

    private func expect(_ code: SourceStoreError.Code, line: UInt = #line, _ body: () async throws -> Void) async {
        do {
            try await body()
            XCTFail("expected \(code)", line: line)
        } catch let error as SourceStoreError {
            XCTAssertEqual(error.code, code, error.message, line: line)
        } catch {
            XCTFail("expected \(code), got \(error)", line: line)
        }
    }
}
