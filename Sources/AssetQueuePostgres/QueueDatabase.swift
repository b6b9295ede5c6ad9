import AssetJobs
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// One PostgreSQL database through postgres-nio's pooled `PostgresClient`, with
/// what both queue stores need on top of it: every call bounded by a deadline,
/// every failure turned into a typed error that names the server (never its
/// password), and a count of the statements sent (for the cost per job step).
///
/// The client reconnects by itself: after a restart of the server the next call
/// gets a new connection; a call caught in the outage fails with `.storage` and
/// may be tried again by the caller.
final class QueueDatabase: Sendable {
    let url: PostgresURL
    let logger: Logger
    /// The longest any one call may take, connection included.
    let deadline: Duration
    let client: PostgresClient
    private let runTask: Mutex<Task<Void, Never>?>
    private let statements = Atomic<Int>(0)

    init(url: PostgresURL, logger: Logger, deadline: Duration, maximumConnections: Int = 8) {
        self.url = url
        self.logger = logger
        self.deadline = deadline
        var config = PostgresClient.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                  database: url.database, tls: Self.tls(url.tls))
        config.options.maximumConnections = maximumConnections
        config.options.connectTimeout = .seconds(5)
        // Idle connections are checked often, so one killed by a server restart is replaced before it is needed.
        config.options.keepAliveBehavior = .init(frequency: .seconds(10))
        let client = PostgresClient(configuration: config, backgroundLogger: logger)
        self.client = client
        self.runTask = Mutex(Task { await client.run() })
    }

    static func tls(_ mode: PostgresURL.TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }

    /// Closes every connection; later calls fail with `.storage`.
    func shutdown() async {
        let task = runTask.withLock { task -> Task<Void, Never>? in
            defer { task = nil }
            return task
        }
        task?.cancel()
        await task?.value
    }

    /// Statements sent so far (BEGIN and COMMIT included).
    var statementCount: Int { statements.load(ordering: .relaxed) }

    // MARK: Running statements

    /// Runs `query` on `connection` and collects its rows.
    @discardableResult
    func rows(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [PostgresRow] {
        statements.add(1, ordering: .relaxed)
        return try await connection.query(query, logger: logger).collect()
    }

    /// Runs `body` in one transaction (BEGIN … COMMIT; ROLLBACK when it throws), within the deadline.
    @discardableResult
    func transaction<T: Sendable>(_ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws(JournalError) -> T {
        try await bounded(what) {
            try await self.client.withConnection { connection in
                self.statements.add(2, ordering: .relaxed)
                return try await connection.withTransaction(logger: self.logger) { connection in try await body(connection) }
            }
        }
    }

    /// Runs `body` in one transaction on a connection of its own (not pooled), within
    /// the deadline. A refused connection, a missing database or bad credentials
    /// fail here at once with the server's reason, where the pool would keep retrying.
    func directTransaction<T: Sendable>(_ what: String, inTransaction: Bool = true,
                                        _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws(JournalError) -> T {
        let url = url, logger = logger
        return try await bounded(what) {
            var config = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                          database: url.database, tls: try Self.connectionTLS(url.tls))
            config.options.connectTimeout = .seconds(5)
            let connection: PostgresConnection
            do {
                connection = try await PostgresConnection.connect(configuration: config, id: 0, logger: logger)
            } catch {
                throw JournalError(.storage, "cannot connect to \(url): \(Self.describe(error))")
            }
            do {
                let value: T
                if inTransaction {
                    self.statements.add(2, ordering: .relaxed)
                    value = try await connection.withTransaction(logger: logger) { connection in try await body(connection) }
                } else {
                    value = try await body(connection)
                }
                try? await connection.close()
                return value
            } catch {
                try? await connection.close()
                throw error
            }
        }
    }

    /// A connection of its own (not pooled), within the deadline: for work that holds
    /// one connection across other calls (a lock held while the API is called).
    /// The caller closes it (`closeWithoutWaiting`).
    func openOwnConnection(_ what: String) async throws(JournalError) -> PostgresConnection {
        let url = url, logger = logger
        return try await bounded(what) {
            var config = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                          database: url.database, tls: try Self.connectionTLS(url.tls))
            config.options.connectTimeout = .seconds(5)
            do {
                return try await PostgresConnection.connect(configuration: config, id: 1, logger: logger)
            } catch {
                throw JournalError(.storage, "\(what): cannot connect to \(url): \(Self.describe(error))")
            }
        }
    }

    /// Closes without waiting: closing a connection the server has already ended
    /// (a restart mid-transaction) need not return promptly, and nothing waits on it.
    static func closeWithoutWaiting(_ connection: PostgresConnection) {
        Task { try? await connection.close() }
    }

    static func connectionTLS(_ mode: PostgresURL.TLSMode) throws -> PostgresConnection.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }

    /// Runs `body` on a pooled connection outside of a transaction (reads), within the deadline.
    func read<T: Sendable>(_ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws(JournalError) -> T {
        try await bounded(what) {
            try await self.client.withConnection { connection in try await body(connection) }
        }
    }

    /// `body` within the deadline. On timeout the caller gets `.storage` at once
    /// and `body` is cancelled; it is not waited for (a connection stuck in a
    /// half-open socket must not hold the caller).
    func bounded<T: Sendable>(_ what: String, within limit: Duration? = nil,
                              _ body: @escaping @Sendable () async throws -> T) async throws(JournalError) -> T {
        let gate = Gate<T>()
        let deadline = limit ?? deadline
        let outcome: Result<T, any Error> = await withCheckedContinuation { continuation in
            gate.arm(continuation)
            let work = Task {
                do { gate.finish(.success(try await body())) } catch { gate.finish(.failure(error)) }
            }
            let timer = Task {
                try? await Task.sleep(for: deadline)
                if gate.finish(.failure(DeadlineExceeded())) { work.cancel() }
            }
            gate.onFinish { timer.cancel() }
        }
        switch outcome {
        case let .success(value):
            return value
        case let .failure(error):
            throw journalError(error, while: what)
        }
    }

    /// The typed error for a failure of `what`, naming the server without its password.
    func journalError(_ error: any Error, while what: String) -> JournalError {
        if let error = error as? JournalError { return error }
        if let error = error as? PostgresTransactionError {
            for inner in [error.closureError, error.beginError, error.commitError].compactMap({ $0 }) {
                if let journal = inner as? JournalError { return journal }
            }
            let inner = error.closureError ?? error.beginError ?? error.commitError
            return JournalError(.storage, "\(what) on \(url) failed: \(inner.map(Self.describe) ?? "transaction error")")
        }
        if error is DeadlineExceeded {
            return JournalError(.storage, "\(what) on \(url) got no answer within \(deadline) (is PostgreSQL running and reachable?)")
        }
        return JournalError(.storage, "\(what) on \(url) failed: \(Self.describe(error))")
    }

    /// What went wrong, in words: the server's message and SQLSTATE, or the connection error.
    /// (`PSQLError.description` hides everything on purpose; its query and binds stay out of messages here too.)
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return String(describing: error) }
        if let info = error.serverInfo {
            var text = info[.message] ?? "server error"
            if let state = info[.sqlState] {
                text += " (SQLSTATE \(state))"
                if state == "3D000" { text += "; create the database first, e.g. createdb" }
                if state == "28P01" || state == "28000" { text += "; check the user and password" }
            }
            return text
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }

    /// The SQLSTATE of a server error, if that is what `error` is.
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}

struct DeadlineExceeded: Error {}

/// Resumes a continuation once: with the work's result or the timeout, whichever comes first.
final class Gate<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result<T, any Error>, Never>?
        var done = false
        var onFinish: (@Sendable () -> Void)?
    }
    private let state = Mutex<State>(State())

    func arm(_ continuation: CheckedContinuation<Result<T, any Error>, Never>) {
        state.withLock { $0.continuation = continuation }
    }

    /// Whether this call was the first to finish.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let (continuation, hook) = state.withLock { s -> (CheckedContinuation<Result<T, any Error>, Never>?, (@Sendable () -> Void)?) in
            guard !s.done else { return (nil, nil) }
            s.done = true
            defer { s.continuation = nil; s.onFinish = nil }
            return (s.continuation, s.onFinish)
        }
        guard let continuation else { return false }
        continuation.resume(returning: result)
        hook?()
        return true
    }

    /// Runs `hook` when finished (at once if already).
    func onFinish(_ hook: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { s -> Bool in
            if s.done { return true }
            s.onFinish = hook
            return false
        }
        if runNow { hook() }
    }
}
