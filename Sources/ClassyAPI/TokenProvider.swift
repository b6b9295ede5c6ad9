import Foundation

/// An OAuth2 access token. `description` never shows the value.
public struct AccessToken: Sendable, Hashable, CustomStringConvertible {
    public var value: String
    public var expiresIn: Int
    public var obtainedAt: ContinuousClock.Instant

    /// Refresh at 90% of the lifetime, as the official Node SDK does.
    public var refreshAt: ContinuousClock.Instant { obtainedAt + .milliseconds(Int64(expiresIn) * 900) }
    public var description: String { "AccessToken(<redacted>, expiresIn: \(expiresIn))" }
}

/// Caches the client-credentials token and refreshes it. Concurrent callers
/// that need a new token all wait on the same single fetch.
actor TokenProvider {
    typealias Fetch = @Sendable () async throws(ClassyAPIError) -> AccessToken

    private let fetch: Fetch
    private var cached: AccessToken?
    private var inFlight: Task<AccessToken, any Error>?
    private(set) var fetchCount = 0

    init(fetch: @escaping Fetch) { self.fetch = fetch }

    func token() async throws(ClassyAPIError) -> AccessToken {
        if let t = cached, ContinuousClock.now < t.refreshAt { return t }
        return try await refresh()
    }

    /// Drops `rejected` (a 401 answer) unless another caller already replaced
    /// it, so a burst of 401s causes one refresh, not one each.
    func invalidate(_ rejected: AccessToken) {
        if cached?.value == rejected.value { cached = nil }
    }

    private func refresh() async throws(ClassyAPIError) -> AccessToken {
        if let task = inFlight { return try await Self.value(of: task) }
        fetchCount += 1
        let fetch = self.fetch
        let task = Task { () async throws -> AccessToken in try await fetch() }
        inFlight = task
        defer { inFlight = nil }
        let t = try await Self.value(of: task)
        cached = t
        return t
    }

    private static func value(of task: Task<AccessToken, any Error>) async throws(ClassyAPIError) -> AccessToken {
        do { return try await task.value } catch let e as ClassyAPIError { throw e } catch {
            throw ClassyAPIError(.authentication, message: "token request failed: \(error)", request: "POST /oauth2/auth")
        }
    }
}
