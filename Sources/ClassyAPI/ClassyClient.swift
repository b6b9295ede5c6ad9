import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Metrics
import NIOHTTP1

/// A Classy API 2.0 client: OAuth2 client credentials, retries with backoff,
/// a client-side rate limiter, and typed calls for what the worker touches.
public final class ClassyClient: Sendable {
    public struct Options: Sendable {
        public var retry: RetryPolicy = .default
        /// The deadline of one attempt (an upload of a large image included).
        public var requestTimeout: TimeAmount = .seconds(60)
        /// Send `content_type` with `POST /2.0/assets/url` so the pre-signed URL
        /// can sign it. Not in the documented body; the sandbox uses it.
        public var sendContentTypeHint = true
        /// How many fresh pre-signed URLs one upload may ask for when they expire.
        public var maxURLRequests = 3
        public init() {}
    }

    public let configuration: ClassyConfiguration
    public let options: Options
    let http: HTTPClient
    let limiter = ClientRateLimiter()
    let logger: Logger
    private let tokens: TokenProvider

    /// The process-wide HTTP client these requests go through by default (never shut down, like
    /// `HTTPClient.shared`). It differs from `.shared` in one way: a connection that cannot be
    /// established fails the request at once, instead of AsyncHTTPClient retrying it quietly
    /// until the request deadline, so `RetryPolicy` (bounded, logged) decides what happens
    /// when the API is unreachable, and a wrong `CLASSY_API_URL` does not hang for minutes.
    public static let defaultHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        // A server that accepts the connection and never answers: give up on
        // the attempt after this long without a byte (the retry budget decides
        // whether to try again), not after the whole request deadline.
        configuration.timeout.read = .seconds(20)
        // AsyncHTTPClient keeps 8 connections per host by default; a batch with 8
        // jobs in flight uploads an original and its children at once, and the
        // API and the store may share a host (the sandbox), so 8 made requests queue.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 32
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// `http` defaults to `defaultHTTPClient`, which needs no shutdown.
    public init(configuration: ClassyConfiguration, options: Options = Options(), httpClient: HTTPClient = ClassyClient.defaultHTTPClient,
                logger: Logger = Logger(label: "classy-api")) {
        self.configuration = configuration
        self.options = options
        self.http = httpClient
        self.logger = logger
        let fetch = TokenFetcher(configuration: configuration, http: httpClient, retry: options.retry, timeout: options.requestTimeout, logger: logger)
        self.tokens = TokenProvider { () async throws(ClassyAPIError) -> AccessToken in try await fetch.fetch() }
    }

    /// How many times a token was fetched (for tests and diagnostics).
    public var tokenFetchCount: Int { get async { await tokens.fetchCount } }
    public var rateLimit: RateLimitState? { get async { await limiter.current } }

    /// A current access token (cached, refreshed at 90% of its lifetime).
    public func accessToken() async throws(ClassyAPIError) -> AccessToken { try await tokens.token() }

    // MARK: the request loop

    struct RawResponse: Sendable {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    /// Sends an authenticated API request and returns the 2xx answer. Retries
    /// 500/502/503/504 and connection failures within the retry budget; on a 401
    /// refreshes the token once. A request that is not `idempotent` (a `POST`
    /// that creates something) is repeated after a lost answer only when the
    /// failure happened before it was sent; otherwise it fails as `.ambiguous`,
    /// so the caller can look the effect up instead of doing it twice. With
    /// `serverErrorsAreAmbiguous`, a 500, 502 or 504 answer to such a request is
    /// `.ambiguous` too, not retried: for a call whose effect can be looked up
    /// (`/process`), a server error is no proof that nothing was made.
    func send(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], json: [UInt8]? = nil,
              idempotent: Bool? = nil, serverErrorsAreAmbiguous: Bool = false) async throws(ClassyAPIError) -> RawResponse {
        let label = "\(method.rawValue) \(path)"
        let repeatable = idempotent ?? (method != .POST)
        var url = configuration.baseURL + path
        if !query.isEmpty {
            url += "?" + query.map { "\(formEncode($0.0))=\(formEncode($0.1))" }.joined(separator: "&")
        }
        var attempt = 0
        var refreshed = false
        var rng = SystemRandomNumberGenerator()
        let started = ContinuousClock.now
        while true {
            let token = try await tokens.token()
            try await wrapCancellation(label) { try await self.limiter.acquire() }
            var headers = [("Authorization", "Bearer \(token.value)"), ("Accept", "application/json")]
            if json != nil { headers.append(("Content-Type", "application/json")) }
            let response: RawResponse
            do {
                response = try await execute(method, url: url, headers: headers, body: json)
            } catch {
                await limiter.release()
                if Task.isCancelled { throw ClassyAPIError(.transport, message: "cancelled", request: label) }
                if !repeatable && !TransportFailure.happenedBeforeSending(error) {
                    throw ClassyAPIError(.ambiguous, message: "no answer (\(describeTransport(error))); the API may have carried it out",
                                         request: label)
                }
                let delay = options.retry.backoff(attempt: attempt, using: &rng)
                guard options.retry.allowsRetry(afterAttempt: attempt, elapsed: ContinuousClock.now - started, delay: delay) else {
                    throw ClassyAPIError(.transport, message: "\(describeTransport(error)) (gave up after \(attempt + 1) attempt(s) in \(ContinuousClock.now - started))", request: label)
                }
                logger.warning("retrying after a connection failure", metadata: ["request": "\(label)", "attempt": "\(attempt + 1)"])
                try await sleep(delay, label)
                attempt += 1
                continue
            }
            await limiter.complete(RateLimitState.parse(headers: response.headers))
            switch response.status {
            case 200..<300:
                return response
            case 401 where !refreshed:
                logger.info("access token refused; refreshing once", metadata: ["request": "\(label)"])
                await tokens.invalidate(token)
                refreshed = true
            case let s where RetryPolicy.isRetryable(status: s) && serverErrorsAreAmbiguous && !repeatable && s != 503:
                throw ClassyAPIError(.ambiguous, message: "answered \(s) (\(apiMessage(response.body))); the API may have carried it out",
                                     request: label)
            case let s where RetryPolicy.isRetryable(status: s):
                var delay = options.retry.backoff(attempt: attempt, using: &rng)
                if let asked = RetryPolicy.serverRequestedDelay(headers: response.headers, status: s) {
                    guard asked <= options.retry.maxServerWait else {
                        throw ClassyAPIError.forStatus(s, message: "server asked to wait \(asked), more than allowed", request: label)
                    }
                    delay = max(delay, asked)
                }
                guard options.retry.allowsRetry(afterAttempt: attempt, elapsed: ContinuousClock.now - started, delay: delay) else {
                    throw ClassyAPIError.forStatus(s, message: apiMessage(response.body), request: label)
                }
                logger.warning("retrying", metadata: ["request": "\(label)", "status": "\(s)", "attempt": "\(attempt + 1)", "delay": "\(delay)"])
                try await sleep(delay, label)
                attempt += 1
            default:
                throw ClassyAPIError.forStatus(response.status, message: apiMessage(response.body), request: label)
            }
        }
    }

    func execute(_ method: HTTPMethod, url: String, headers: [(String, String)], body: [UInt8]?) async throws -> RawResponse {
        var req = HTTPClientRequest(url: url)
        req.method = method
        for (k, v) in headers { req.headers.add(name: k, value: v) }
        if let body { req.body = .bytes(ByteBuffer(bytes: body)) }
        let started = ContinuousClock.now
        let res = try await http.execute(req, timeout: options.requestTimeout)
        let buffer = try await res.body.collect(upTo: 32 << 20)
        // One answered attempt (the API's or the store's), for `asset_worker_api_request_duration_seconds`.
        Timer(label: "asset_worker_api_request_duration_seconds", dimensions: [("method", method.rawValue)])
            .recordNanoseconds((ContinuousClock.now - started).nanoseconds)
        return RawResponse(status: Int(res.status.code), headers: res.headers.map { ($0.name, $0.value) }, body: Array(buffer.readableBytesView))
    }

    func decode<T: Decodable>(_ type: T.Type, _ r: RawResponse, _ label: String) throws(ClassyAPIError) -> T {
        do { return try JSONDecoder().decode(T.self, from: Data(r.body)) } catch {
            throw ClassyAPIError(.invalidResponse, status: r.status, message: "cannot decode \(T.self): \(error)", request: label)
        }
    }

    func sleep(_ d: Duration, _ label: String) async throws(ClassyAPIError) {
        try await wrapCancellation(label) { try await Task.sleep(for: d) }
    }

    func wrapCancellation(_ label: String, _ body: () async throws -> Void) async throws(ClassyAPIError) {
        do { try await body() } catch {
            throw ClassyAPIError(.transport, message: "cancelled", request: label)
        }
    }
}

/// Fetches tokens with the client-credentials grant.
struct TokenFetcher: Sendable {
    let configuration: ClassyConfiguration
    let http: HTTPClient
    let retry: RetryPolicy
    let timeout: TimeAmount
    let logger: Logger

    /// The request label of every token failure, so a caller can tell that the
    /// failure concerns every request, not one.
    static let label = "POST /oauth2/auth"

    func fetch() async throws(ClassyAPIError) -> AccessToken {
        let label = Self.label
        let form = [("grant_type", "client_credentials"), ("client_id", configuration.clientID), ("client_secret", configuration.clientSecret)]
            .map { "\(formEncode($0.0))=\(formEncode($0.1))" }.joined(separator: "&")
        var rng = SystemRandomNumberGenerator()
        var attempt = 0
        let started = ContinuousClock.now
        while true {
            var req = HTTPClientRequest(url: configuration.baseURL + "/oauth2/auth")
            req.method = .POST
            req.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            req.headers.add(name: "Accept", value: "application/json")
            req.body = .bytes(ByteBuffer(string: form))
            var status = 0
            var body: [UInt8] = []
            var headers: [(String, String)] = []
            do {
                let res = try await http.execute(req, timeout: timeout)
                status = Int(res.status.code)
                headers = res.headers.map { ($0.name, $0.value) }
                body = Array(try await res.body.collect(upTo: 1 << 20).readableBytesView)
            } catch {
                status = -1
                if Task.isCancelled || !retry.allowsRetry(afterAttempt: attempt, elapsed: ContinuousClock.now - started, delay: .zero) {
                    throw ClassyAPIError(.transport, message: "the token endpoint did not answer: \(describeTransport(error))", request: label)
                }
            }
            if status == 200 {
                struct Answer: Decodable { var access_token: String; var token_type: String?; var expires_in: Int }
                guard let a = try? JSONDecoder().decode(Answer.self, from: Data(body)) else {
                    throw ClassyAPIError(.invalidResponse, status: 200, message: "token answer is not {access_token, token_type, expires_in}", request: label)
                }
                logger.debug("obtained an access token", metadata: ["expires_in": "\(a.expires_in)"])
                return AccessToken(value: a.access_token, expiresIn: a.expires_in, obtainedAt: .now)
            }
            var delay = retry.backoff(attempt: attempt, using: &rng)
            if let asked = RetryPolicy.serverRequestedDelay(headers: headers, status: status) { delay = max(delay, min(asked, retry.maxServerWait)) }
            guard status == -1 || RetryPolicy.isRetryable(status: status),
                  retry.allowsRetry(afterAttempt: attempt, elapsed: ContinuousClock.now - started, delay: delay) else {
                if status == -1 { throw ClassyAPIError(.transport, message: "the token endpoint did not answer", request: label) }
                throw ClassyAPIError(.authentication, status: status, message: apiMessage(body), request: label)
            }
            do { try await Task.sleep(for: delay) } catch { throw ClassyAPIError(.transport, message: "cancelled", request: label) }
            attempt += 1
        }
    }
}

/// The API's message from an error body (`{"error": ...}`, `{"message": ...}`), or the start of the text.
func apiMessage(_ body: [UInt8]) -> String {
    if let obj = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
        if let e = obj["error"] as? String {
            return (obj["error_description"] as? String).map { "\(e): \($0)" } ?? e
        }
        if let e = obj["error"] as? [String: Any], let m = e["message"] as? String { return m }
        if let m = obj["message"] as? String { return m }
    }
    let text = String(decoding: body.prefix(300), as: UTF8.self)
    return text.isEmpty ? "(no message)" : text
}

/// AHC errors can quote the URL; never let a signed query through.
func describeTransport(_ error: any Error) -> String {
    let s = String(describing: error)
    guard let r = s.range(of: "X-Amz-") else { return s }
    return String(s[..<r.lowerBound]) + "<redacted>"
}

func formEncode(_ s: String) -> String {
    var out = ""
    for b in s.utf8 {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            out.unicodeScalars.append(Unicode.Scalar(b))
        default:
            out += "%" + String(b >> 4, radix: 16, uppercase: true) + String(b & 0xF, radix: 16, uppercase: true)
        }
    }
    return out
}

/// Which transport failures certainly happened before the request left:
/// only those are safe to repeat for a request that creates something.
enum TransportFailure {
    static func happenedBeforeSending(_ error: any Error) -> Bool {
        if let e = error as? HTTPClientError, e == .connectTimeout { return true }
        if let e = error as? ChannelError, case .connectTimeout = e { return true }
        // A refused connection reaches us as NIOPosix's connection error (a type this
        // module does not link), named in its description.
        let text = String(describing: error)
        return text.contains("NIOConnectionError") || text.contains("connect(descriptor") || text.contains("Connection refused")
    }
}

extension Duration {
    /// The whole duration in nanoseconds (saturating), for swift-metrics' timers.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled + attoseconds / 1_000_000_000
    }
}
