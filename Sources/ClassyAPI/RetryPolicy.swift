import Foundation

/// When and how long to wait before trying again. Only 500, 502, 503, 504 and
/// connection failures are retried; 4xx never are (Classy: "Do not repeat request").
///
/// The budget is a time, not a count: an outage shorter than `budget` fails
/// nothing (a count of 6 quick retries used to give up on a 2 s outage), and a
/// call that cannot succeed still gives up after `budget` plus one request timeout.
public struct RetryPolicy: Sendable {
    /// A cap on attempts inside the budget (a safety net; the budget decides first).
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// Longest wait a `Retry-After` or `X-RateLimit-Reset` may impose before giving up.
    public var maxServerWait: Duration
    /// How long one call may keep retrying, from its first attempt.
    public var budget: Duration

    public init(maxAttempts: Int = 100, baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(5),
                maxServerWait: Duration = .seconds(120), budget: Duration = .seconds(30)) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxServerWait = maxServerWait
        self.budget = budget
    }

    /// Whether another attempt may start after `attempt` failed ones, waiting
    /// `delay` first, for a call that started `elapsed` ago.
    public func allowsRetry(afterAttempt attempt: Int, elapsed: Duration, delay: Duration) -> Bool {
        attempt + 1 < maxAttempts && elapsed + delay < budget
    }

    public static let `default` = RetryPolicy()

    public static func isRetryable(status: Int) -> Bool { [500, 502, 503, 504].contains(status) }

    /// Exponential backoff with full jitter: uniform in [0, min(max, base·2^attempt)].
    /// `attempt` starts at 0 for the first retry.
    public func backoff<G: RandomNumberGenerator>(attempt: Int, using g: inout G) -> Duration {
        let cap = min(maxDelay, baseDelay * (1 << min(attempt, 20)))
        let ms = Double(cap.components.seconds) * 1000 + Double(cap.components.attoseconds) / 1e15
        return .milliseconds(Int64(Double.random(in: 0...max(ms, 0), using: &g)))
    }

    /// The wait a response asks for: `Retry-After` (seconds or HTTP date), or on
    /// a 503 with `X-RateLimit-Remaining: 0`, until `X-RateLimit-Reset`.
    public static func serverRequestedDelay(headers: [(String, String)], status: Int, now: Date = Date()) -> Duration? {
        func header(_ n: String) -> String? { headers.first { $0.0.lowercased() == n }?.1.trimmingCharacters(in: .whitespaces) }
        if let ra = header("retry-after") {
            if let s = Double(ra) { return .milliseconds(Int64(max(0, s) * 1000)) }
            if let d = httpDate(ra) { return .milliseconds(Int64(max(0, d.timeIntervalSince(now)) * 1000)) }
        }
        if status == 503, let remaining = header("x-ratelimit-remaining").flatMap(Int.init), remaining <= 0,
           let reset = header("x-ratelimit-reset").flatMap(Double.init) {
            return .milliseconds(Int64(max(0, RateLimitState.resetDate(reset, now: now).timeIntervalSince(now)) * 1000))
        }
        return nil
    }

    static func httpDate(_ s: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return f.date(from: s)
    }
}

/// What the server last said about its rate limit.
public struct RateLimitState: Sendable, Hashable {
    public var limit: Int
    public var remaining: Int
    public var reset: Date

    /// `X-RateLimit-Reset` is read as a Unix time when it is large, else as seconds from now.
    static func resetDate(_ value: Double, now: Date) -> Date {
        value > 1_000_000_000 ? Date(timeIntervalSince1970: value) : now.addingTimeInterval(value)
    }

    static func parse(headers: [(String, String)], now: Date = Date()) -> RateLimitState? {
        func header(_ n: String) -> String? { headers.first { $0.0.lowercased() == n }?.1.trimmingCharacters(in: .whitespaces) }
        guard let l = header("x-ratelimit-limit").flatMap(Int.init), let r = header("x-ratelimit-remaining").flatMap(Int.init),
              let s = header("x-ratelimit-reset").flatMap(Double.init) else { return nil }
        return RateLimitState(limit: l, remaining: r, reset: resetDate(s, now: now))
    }
}

/// Client-side limiter: spends the budget the server advertises and, once it
/// is used up, holds every request until the window resets.
///
/// Requests still in flight are subtracted from the last advertised
/// `remaining` (the server may or may not have counted them yet, so this errs
/// on the safe side), and until the first answer tells whether there is a
/// limit at all, only one request is sent.
public actor ClientRateLimiter {
    private var known: RateLimitState?
    /// nil until an answer came back; false when the server advertises no limit.
    private var advertised: Bool?
    private var outstanding = 0
    /// After a reset inferred from the clock: requests sent since, until an answer of the new window.
    private var provisionalSent: Int?
    /// Margin after the advertised reset (the two clocks differ by up to a second).
    private let margin: TimeInterval

    /// Other workers' share of the same limit, when there are any (`ClassyClient.share(rateBudget:)`).
    private var shared: (any SharedRateBudget)?

    public init(margin: TimeInterval = 1.0) { self.margin = margin }

    func share(_ budget: any SharedRateBudget) { shared = budget }

    /// Waits until a request may be sent, and counts it as in flight.
    public func acquire() async throws {
        try await acquireLocally()
        // Then the workers' shared budget, unless the API has shown it has no limit: also
        // before this process's first answer, since other workers may have spent the window.
        guard advertised != false, let shared else { return }
        while true {
            let wait: Duration?
            do {
                wait = try await shared.take()
            } catch {
                return   // the shared count is unreachable: this process's own count still holds
            }
            guard let wait else { return }
            do {
                try await Task.sleep(for: wait)
            } catch {
                outstanding = max(0, outstanding - 1)
                throw error
            }
        }
    }

    private func acquireLocally() async throws {
        while true {
            let now = Date()
            var wait: TimeInterval = 0.02
            switch advertised {
            case .some(false):
                outstanding += 1
                return
            case .none:
                if outstanding == 0 { outstanding += 1; return }
            case .some(true):
                guard let k = known else { outstanding += 1; return }
                if provisionalSent == nil, now >= k.reset.addingTimeInterval(margin) { provisionalSent = 0 }
                if let sent = provisionalSent {
                    if sent < k.limit { provisionalSent = sent + 1; outstanding += 1; return }
                } else if k.remaining - outstanding > 0 {
                    outstanding += 1
                    return
                } else {
                    wait = max(0.01, k.reset.addingTimeInterval(margin).timeIntervalSince(now))
                }
            }
            try await Task.sleep(for: .milliseconds(Int64(wait * 1000)))
        }
    }

    /// An answer came back; `state` is what it advertised (nil: no headers).
    public func complete(_ state: RateLimitState?) async {
        if let state, let shared { try? await shared.observe(state) }
        outstanding = max(0, outstanding - 1)
        guard let state else {
            if advertised == nil { advertised = false }
            return
        }
        advertised = true
        guard let k = known else { known = state; return }
        if abs(k.reset.timeIntervalSince(state.reset)) < 0.5 {
            if provisionalSent == nil { known?.remaining = min(k.remaining, state.remaining) }
        } else if state.reset > k.reset {
            // An answer from a newer window.
            known = state
            provisionalSent = nil
        }
    }

    /// The request failed without an answer.
    public func release() { outstanding = max(0, outstanding - 1) }

    public var current: RateLimitState? { known }
}
