import Foundation

/// The API's rate limit as several workers share it. The limit an API
/// advertises (`X-RateLimit-*`) is its consumer's, the app's, not one
/// process's: workers on several machines with one app's credentials spend one
/// budget, so each takes its requests from a count kept where all of them see
/// it (the queue's database), instead of each believing the whole window is its own.
public protocol SharedRateBudget: Sendable {
    /// Takes one request from the window last advertised: nil when it may be sent
    /// now, else how long to wait before asking again (the window is used up).
    /// When no window is known yet, a request may go.
    func take() async throws -> Duration?
    /// What an answer advertised.
    func observe(_ state: RateLimitState) async throws
}

extension ClassyClient {
    /// Shares this client's rate limit with other workers through `budget`: every
    /// request takes its turn from it, until the API shows it advertises no limit.
    /// When the budget cannot be reached, the client keeps to its own count.
    public func share(rateBudget budget: any SharedRateBudget) async {
        await limiter.share(budget)
    }
}
