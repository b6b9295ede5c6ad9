import AssetJobs
import Foundation
import XCTest

/// The source store decorator a queue's workers use: an outage (`.storage`) is
/// waited out within the budget, so a job starts late instead of failing;
/// what waiting cannot fix (`.missing`, `.refused`, ...) passes at once.
final class RetryingSourceStoreTests: XCTestCase {
    /// The in-memory store behind a switch that fails the next N calls with `code`.
    actor FlakySources: SourceStore {
        let inner = InMemorySourceStore()
        var failuresLeft = 0
        var code: SourceStoreError.Code = .storage
        private(set) var calls = 0

        func fail(_ n: Int, with code: SourceStoreError.Code = .storage) {
            failuresLeft = n
            self.code = code
        }

        private func check() throws(SourceStoreError) {
            calls += 1
            if failuresLeft > 0 {
                failuresLeft -= 1
                throw SourceStoreError(code, "injected")
            }
        }

        func put(_ bytes: Data) async throws(SourceStoreError) -> String {
            try check()
            return try await inner.put(bytes)
        }

        func get(_ sha256: String) async throws(SourceStoreError) -> Data {
            try check()
            return try await inner.get(sha256)
        }
    }

    func testAnOutageIsWaitedOutAndTheBytesArrive() async throws {
        let flaky = FlakySources()
        let key = try await flaky.put(Data("source".utf8))
        await flaky.fail(3)
        let retries = Counter()
        let store = RetryingSourceStore(flaky, budget: .seconds(10)) { _, _ in retries.add() }
        let bytes = try await store.get(key)
        XCTAssertEqual(bytes, Data("source".utf8))
        XCTAssertEqual(retries.value, 3, "three outages, three retries")
        let calls = await flaky.calls
        XCTAssertEqual(calls, 5, "one put, then four gets")
    }

    func testAnOutageLongerThanTheBudgetFailsAsStorage() async throws {
        let flaky = FlakySources()
        let key = try await flaky.put(Data("source".utf8))
        await flaky.fail(1_000)
        let store = RetryingSourceStore(flaky, budget: .milliseconds(400))
        do {
            _ = try await store.get(key)
            XCTFail("the outage outlasted the budget")
        } catch {
            XCTAssertEqual(error.code, .storage)
        }
        let calls = await flaky.calls
        XCTAssertLessThan(calls, 10, "backoff, not a busy loop: \(calls) calls")
    }

    func testWhatWaitingCannotFixPassesAtOnce() async throws {
        for code in [SourceStoreError.Code.missing, .refused, .corrupt, .invalidKey] {
            let flaky = FlakySources()
            await flaky.fail(1, with: code)
            let store = RetryingSourceStore(flaky, budget: .seconds(10))
            do {
                _ = try await store.get(String(repeating: "a", count: 64))
                XCTFail("\(code) was retried")
            } catch {
                XCTAssertEqual(error.code, code)
            }
            let calls = await flaky.calls
            XCTAssertEqual(calls, 1, "\(code): one call")
        }
    }
}

/// A thread-safe count for callbacks.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
