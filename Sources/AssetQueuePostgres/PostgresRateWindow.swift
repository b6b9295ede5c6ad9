import AssetJobs
import Foundation
import PostgresNIO

/// The API's rate window in the queue's database, so every worker of the queue
/// spends one budget: the limit an API advertises is its consumer's (one app's
/// credentials), however many processes and machines use them.
///
/// One row: the limit, what is left of the window, and when it resets. `take`
/// counts a request off atomically (`UPDATE … WHERE remaining > 0`), so two
/// workers never spend the same request. Past the reset, requests are counted
/// from the limit (provisionally) until an answer of the new window says where
/// it stands. The ClassyAPI side is `SharedRateBudget` (the CLI joins the two).
public final class PostgresRateWindow: Sendable {
    let db: QueueDatabase
    /// Slack after the advertised reset: the API's clock and the database's may differ by about a second.
    let margin: TimeInterval

    /// On the connections of `jobStore` (same database, already migrated).
    public init(sharing jobStore: PostgresJobStore, margin: TimeInterval = 1) {
        db = jobStore.db
        self.margin = margin
    }

    /// Takes one request: nil when it may be sent now (also when no window is
    /// known yet), else how long to wait before asking again.
    public func take() async throws(JournalError) -> Duration? {
        let margin = margin
        return try await db.transaction("taking a request from the shared rate window") { c -> Duration? in
            let past = "now() > reset_at + make_interval(secs => \(margin))"
            let taken = try await self.db.rows(PostgresQuery(unsafeSQL: """
                UPDATE rate_window SET
                    remaining = CASE WHEN NOT provisional AND \(past) THEN request_limit - 1 ELSE remaining - 1 END,
                    provisional = provisional OR \(past)
                WHERE id = 1 AND (remaining > 0 OR (NOT provisional AND \(past)))
                RETURNING remaining
                """), on: c)
            if !taken.isEmpty { return nil }
            let rows = try await self.db.rows(PostgresQuery(unsafeSQL: """
                SELECT provisional, EXTRACT(EPOCH FROM (reset_at + make_interval(secs => \(margin)) - now()))::float8 FROM rate_window WHERE id = 1
                """), on: c)
            guard let row = rows.first else { return nil }
            let (provisional, seconds) = try row.decode((Bool, Double).self)
            // Used up: wait for the reset; used up provisionally: for an answer of the new window.
            let wait = provisional ? 0.1 : max(0.05, seconds)
            return .milliseconds(Int64(wait * 1000))
        }
    }

    /// Records what an answer advertised: a newer window replaces the row; the
    /// same window, or a new one counted provisionally, can only lower what is
    /// left (requests in flight were taken already).
    public func observe(limit: Int, remaining: Int, reset: Date) async throws(JournalError) {
        try await db.transaction("recording the API's rate window") { c in
            try await self.db.rows("""
                INSERT INTO rate_window (id, request_limit, remaining, reset_at, provisional) VALUES (1, \(limit), \(remaining), \(reset), false)
                ON CONFLICT (id) DO UPDATE SET
                    request_limit = EXCLUDED.request_limit,
                    remaining = CASE
                        -- A newer window. Counted provisionally since its reset: what was taken meanwhile
                        -- includes requests still in flight, which the API's count may not have yet.
                        WHEN EXCLUDED.reset_at > rate_window.reset_at + interval '0.5 second' AND rate_window.provisional
                            THEN LEAST(rate_window.remaining, EXCLUDED.remaining)
                        WHEN EXCLUDED.reset_at > rate_window.reset_at + interval '0.5 second' THEN EXCLUDED.remaining
                        WHEN NOT rate_window.provisional AND abs(EXTRACT(EPOCH FROM (EXCLUDED.reset_at - rate_window.reset_at))) < 0.5
                            THEN LEAST(rate_window.remaining, EXCLUDED.remaining)
                        ELSE rate_window.remaining END,
                    provisional = CASE WHEN EXCLUDED.reset_at > rate_window.reset_at + interval '0.5 second' THEN false
                        ELSE rate_window.provisional END,
                    reset_at = GREATEST(rate_window.reset_at, EXCLUDED.reset_at)
                """, on: c)
        }
    }
}
