import Foundation

/// How a store's client rides out a brief outage (a restarting database, an
/// unreachable bucket): the call is tried again after 100 ms, doubling up to
/// 5 s between tries, until `budget` has passed; then the last error stands.
/// One definition for the job store and the source store decorators.
public struct OutageBackoff: Sendable {
    public var budget: Duration

    public init(budget: Duration) {
        self.budget = budget
    }

    /// Runs `call`; an error `isOutage` accepts is retried within the budget
    /// (`onRetry` hears of each retry), any other passes at once. Cancellation
    /// while waiting ends with `cancelled()`.
    public func run<T, Failure: Error>(_ call: () async throws(Failure) -> T, isOutage: (Failure) -> Bool,
                                       onRetry: (Failure, Int) -> Void, cancelled: () -> Failure) async throws(Failure) -> T {
        let started = ContinuousClock.now
        var attempt = 0
        var delay = Duration.milliseconds(100)
        while true {
            do {
                return try await call()
            } catch where isOutage(error) && ContinuousClock.now - started + delay < budget {
                attempt += 1
                onRetry(error, attempt)
                do { try await Task.sleep(for: delay) } catch { throw cancelled() }
                delay = min(delay * 2, .seconds(5))
            }
        }
    }
}

/// A `SourceStore` that rides out a store that is briefly unreachable (an S3
/// outage, a PostgreSQL restart): `.storage` failures are tried again within
/// the budget, so a worker waits for its sources instead of failing the jobs.
/// `.missing`, `.corrupt` and `.invalidKey` pass at once: waiting cannot fix them.
/// Safe to retry: `put` is idempotent and `get` only reads.
public struct RetryingSourceStore: SourceStore {
    public let inner: any SourceStore
    public let backoff: OutageBackoff
    public let onRetry: @Sendable (SourceStoreError, Int) -> Void

    public init(_ inner: any SourceStore, budget: Duration = .seconds(120),
                onRetry: @escaping @Sendable (SourceStoreError, Int) -> Void = { _, _ in }) {
        self.inner = inner
        self.backoff = OutageBackoff(budget: budget)
        self.onRetry = onRetry
    }

    public func put(_ bytes: Data) async throws(SourceStoreError) -> String {
        try await retrying { () throws(SourceStoreError) in try await inner.put(bytes) }
    }

    public func get(_ sha256: String) async throws(SourceStoreError) -> Data {
        try await retrying { () throws(SourceStoreError) in try await inner.get(sha256) }
    }

    func retrying<T>(_ call: () async throws(SourceStoreError) -> T) async throws(SourceStoreError) -> T {
        try await backoff.run(call, isOutage: { $0.code == .storage }, onRetry: onRetry,
                              cancelled: { SourceStoreError(.storage, "cancelled while the source store was unreachable") })
    }
}
