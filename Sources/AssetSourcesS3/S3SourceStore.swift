import AssetJobs
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SigV4

/// Sources in an S3-compatible bucket (AWS S3, MinIO, moto), one object per
/// content at `PREFIX/sources/<sha256>`, so workers on any machine with the
/// bucket's credentials read what `enqueue` stored, without the queue's
/// database holding the bytes.
///
/// Every request is a pre-signed (query-string SigV4) URL through the package's
/// `SigV4`, with a short expiry: the same signing the sandbox's object store
/// verifies, so no AWS SDK is needed. Requests are path-style
/// (`ENDPOINT/BUCKET/KEY`), which MinIO and moto require and AWS accepts.
///
/// The HTTP client is either borrowed (`httpClient:` given; the caller shuts it
/// down, `shutdown()` leaves it alone) or owned (none given; call `shutdown()` last).
public final class S3SourceStore: SourceStore {
    public let location: S3Location
    public let endpoint: S3Endpoint
    public let region: String
    /// The most any one request may take, answer body included.
    public let requestTimeout: Duration
    /// The largest object `get` accepts (and so the largest `put` stores): a server
    /// that announces or streams more is refused before the memory is spent.
    public let maxBytes: Int

    private let credentials: SigV4Credentials
    private let sessionToken: String?
    private let http: HTTPClient
    private let ownsClient: Bool

    /// Seconds a signed URL stays valid. Each request signs its own, so this only
    /// has to cover the request itself; a URL that ends up in a log or a proxy is
    /// useless minutes later.
    static let signatureExpiry = 300

    /// - Parameters:
    ///   - endpoint: `http(s)://HOST[:PORT]`, e.g. `https://s3.eu-west-1.amazonaws.com` or a MinIO / moto URL.
    ///   - sessionToken: for temporary credentials (`AWS_SESSION_TOKEN`); signed into each URL.
    ///   - httpClient: borrowed when given (the caller shuts it down); when nil the store makes its own, closed by `shutdown()`.
    public init(location: S3Location, endpoint: String, region: String, credentials: SigV4Credentials,
                sessionToken: String? = nil, httpClient: HTTPClient? = nil,
                requestTimeout: Duration = .seconds(30), maxBytes: Int = 256 << 20) throws(S3ConfigurationError) {
        precondition(requestTimeout > .zero, "requestTimeout must be positive")
        precondition(maxBytes > 0, "maxBytes must be positive")
        let parsedEndpoint = try S3Endpoint(url: endpoint)
        try Self.checkRegion(region)
        guard !credentials.accessKeyID.isEmpty, !credentials.secretAccessKey.isEmpty else {
            throw S3ConfigurationError(.missingCredentials, "the access key ID and secret access key must not be empty")
        }
        self.location = location
        self.endpoint = parsedEndpoint
        self.region = region
        self.credentials = credentials
        self.sessionToken = sessionToken.flatMap { $0.isEmpty ? nil : $0 }
        self.requestTimeout = requestTimeout
        self.maxBytes = maxBytes
        if let httpClient {
            http = httpClient
            ownsClient = false
        } else {
            http = Self.makeClient(requestTimeout: requestTimeout)
            ownsClient = true
        }
    }

    /// A store configured by the standard AWS variables: `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY` (required; `AWS_SESSION_TOKEN` when set),
    /// `AWS_REGION` or else `AWS_DEFAULT_REGION` (default `us-east-1`), and
    /// `AWS_ENDPOINT_URL_S3` or else `AWS_ENDPOINT_URL` (default `https://s3.<region>.amazonaws.com`).
    /// Missing credentials are an error naming the variable: no other source
    /// (profiles, instance metadata) is consulted behind the operator's back.
    public static func fromEnvironment(location: S3Location,
                                       environment: [String: String] = ProcessInfo.processInfo.environment,
                                       httpClient: HTTPClient? = nil, requestTimeout: Duration = .seconds(30),
                                       maxBytes: Int = 256 << 20) throws(S3ConfigurationError) -> S3SourceStore {
        func value(_ name: String) -> String? {
            guard let v = environment[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        func required(_ name: String) throws(S3ConfigurationError) -> String {
            guard let v = value(name) else {
                throw S3ConfigurationError(.missingCredentials, "\(name) is not set (or empty); the S3 source store for \(location) needs it")
            }
            return v
        }
        let keyID = try required("AWS_ACCESS_KEY_ID")
        let secret = try required("AWS_SECRET_ACCESS_KEY")
        let region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? "us-east-1"
        try checkRegion(region)
        let endpoint = value("AWS_ENDPOINT_URL_S3") ?? value("AWS_ENDPOINT_URL") ?? "https://s3.\(region).amazonaws.com"
        return try S3SourceStore(location: location, endpoint: endpoint, region: region,
                                 credentials: SigV4Credentials(accessKeyID: keyID, secretAccessKey: secret),
                                 sessionToken: value("AWS_SESSION_TOKEN"), httpClient: httpClient,
                                 requestTimeout: requestTimeout, maxBytes: maxBytes)
    }

    /// Closes the HTTP client if the store made it; a borrowed one is left to its owner.
    public func shutdown() async {
        if ownsClient { try? await http.shutdown() }
    }

    public func put(_ bytes: Data) async throws(SourceStoreError) -> String {
        let key = SourceKey.of(bytes)
        guard bytes.count <= maxBytes else {
            // Stored, it could never be read back by a store with the same limit.
            throw SourceStoreError(.refused, "source \(key) is \(bytes.count) bytes, more than the \(maxBytes) this store accepts (\(place))")
        }
        let head = try await send("HEAD", key)
        switch head.status {
        case 200 where head.contentLength == bytes.count:
            // Content-addressed: an object of the right size under this key is these bytes (get verifies that).
            return key
        case 200, 403, 404:
            // Absent; or of another size, so damaged, and writing the right bytes repairs it;
            // or 403, which S3 answers for a missing object without s3:ListBucket (the PUT tells the truth).
            break
        default:
            throw failure("HEAD", key, head)
        }
        let stored = try await send("PUT", key, body: bytes)
        guard (200..<300).contains(stored.status) else { throw failure("PUT", key, stored) }
        return key
    }

    public func get(_ sha256: String) async throws(SourceStoreError) -> Data {
        try SourceKey.validate(sha256)
        let reply = try await send("GET", sha256)
        switch reply.status {
        case 200:
            return try SourceKey.verified(reply.body, key: sha256)
        case 404 where reply.s3ErrorCode == nil || reply.s3ErrorCode == "NoSuchKey":
            throw SourceStoreError(.missing, "no source \(sha256) in \(place)")
        default:
            // A 404 NoSuchBucket is a configuration problem, not a missing source.
            throw failure("GET", sha256, reply)
        }
    }

    // MARK: requests

    /// `s3://bucket/prefix at endpoint`: what every message names (never the secret or a signature).
    var place: String { "\(location) at \(endpoint)" }

    struct Reply: Sendable {
        var status: Int
        var contentLength: Int?
        var body: Data

        /// The `<Code>` of an S3 error document, if the body is one.
        var s3ErrorCode: String? {
            let text = String(decoding: body, as: UTF8.self)
            guard let start = text.range(of: "<Code>"), let end = text.range(of: "</Code>", range: start.upperBound..<text.endIndex) else {
                return nil
            }
            return String(text[start.upperBound..<end.lowerBound])
        }
    }

    /// How much of an error answer is kept (for its S3 error code); the rest is not read.
    static let errorBodyLimit = 16 << 10

    private struct TimedOut: Error {}
    private struct TooLarge: Error { var announced: Int? }

    /// One signed request for the object of `sha256`, answer read within `requestTimeout`.
    /// Transport failures, timeouts and oversized answers are `.storage`; HTTP statuses are the caller's to judge.
    func send(_ method: String, _ sha256: String, body: Data? = nil) async throws(SourceStoreError) -> Reply {
        let objectPath = "/\(location.bucket)/\(location.objectKey(for: sha256))"
        var signedHeaders: [String: String] = [:]
        if body != nil { signedHeaders["Content-Type"] = "application/octet-stream" }
        let signed = sign(method, path: objectPath, headers: signedHeaders)

        var request = HTTPClientRequest(url: signed.url)
        request.method = HTTPMethod(rawValue: method)
        // Exactly the Host the signature covers (AsyncHTTPClient would otherwise derive its own).
        request.headers.add(name: "Host", value: endpoint.hostHeader)
        for (name, value) in signedHeaders { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }

        let prepared = request
        let limit = maxBytes
        let timeout = requestTimeout
        let http = self.http
        let deadline = NIODeadline.now() + Self.timeAmount(timeout)
        do {
            return try await withThrowingTaskGroup(of: Reply?.self) { group in
                group.addTask {
                    let response = try await http.execute(prepared, deadline: deadline)
                    let status = Int(response.status.code)
                    let length = response.headers.first(name: "Content-Length").flatMap { Int($0) }
                    // Only a successful GET's body is the object; an error body is kept short.
                    let ok = (200..<300).contains(status)
                    let bytes = try await Self.read(response.body, announced: method == "HEAD" ? nil : length,
                                                    limit: ok ? limit : Self.errorBodyLimit, truncate: !ok)
                    return Reply(status: status, contentLength: length, body: bytes)
                }
                // AsyncHTTPClient's deadline stops at the response head; this one covers the body too.
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let reply = first else { throw TimedOut() }
                return reply
            }
        } catch is TimedOut {
            throw SourceStoreError(.storage, "\(method) \(sha256) in \(place): no complete answer within \(timeout)")
        } catch let error as TooLarge {
            let size = error.announced.map { " (\($0) bytes announced)" } ?? ""
            throw SourceStoreError(.refused, "\(method) \(sha256) in \(place): the answer is larger than the \(limit) bytes this store accepts\(size)")
        } catch {
            throw SourceStoreError(.storage, "\(method) \(sha256) in \(place) failed: \(scrub(String(describing: error), signed.secrets))")
        }
    }

    /// Reads at most `limit` bytes: refuses more (`TooLarge`), or with `truncate` keeps the first `limit` and stops reading.
    private static func read(_ body: HTTPClientResponse.Body, announced: Int?, limit: Int, truncate: Bool) async throws -> Data {
        if let announced, announced > limit, !truncate { throw TooLarge(announced: announced) }
        var data = Data()
        if let announced, announced <= limit { data.reserveCapacity(announced) }
        for try await chunk in body {
            if data.count + chunk.readableBytes > limit {
                if !truncate { throw TooLarge(announced: announced) }
                data.append(contentsOf: chunk.readableBytesView.prefix(limit - data.count))
                break
            }
            data.append(contentsOf: chunk.readableBytesView)
        }
        return data
    }

    /// A pre-signed URL for one request, and the strings in it no message may show.
    func sign(_ method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:]) -> (url: String, secrets: [String]) {
        var query = query
        if let sessionToken { query["X-Amz-Security-Token"] = sessionToken }
        let now = UTCTime(epochSeconds: Int64(Date().timeIntervalSince1970))
        let presigned = SigV4.presign(
            PresignInput(method: method, host: endpoint.hostHeader, path: path, query: query, headers: headers,
                         region: region, service: "s3", date: now, expires: Self.signatureExpiry),
            credentials: credentials)
        let secrets = [presigned.signature, credentials.secretAccessKey] + (sessionToken.map { [$0] } ?? [])
        return (endpoint.description + presigned.pathAndQuery, secrets)
    }

    /// An HTTP answer that is not what was asked for, with S3's error code when it sent one:
    /// `.storage` (worth waiting for) for 5xx, 408 and 429; `.refused` for the other
    /// 4xx (credentials, a missing bucket), which waiting does not fix.
    private func failure(_ method: String, _ sha256: String, _ reply: Reply) -> SourceStoreError {
        let code = reply.s3ErrorCode.map { " \($0)" } ?? ""
        let outage = reply.status >= 500 || reply.status == 408 || reply.status == 429
        return SourceStoreError(outage ? .storage : .refused, "\(method) \(sha256) in \(place): HTTP \(reply.status)\(code)")
    }

    /// Belt and braces: transport errors do not carry URLs today, but one that did would carry the signature.
    private func scrub(_ text: String, _ secrets: [String]) -> String {
        var text = text
        for secret in secrets where !secret.isEmpty { text = text.replacingOccurrences(of: secret, with: "<redacted>") }
        return text
    }

    static func checkRegion(_ region: String) throws(S3ConfigurationError) {
        let ok = !region.isEmpty && region.utf8.count <= 64
            && region.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == UInt8(ascii: "-") }
        guard ok else {
            throw S3ConfigurationError(.invalidRegion, "region '\(region.prefix(80))' is not a region name (like us-east-1)")
        }
    }

    /// The store's own client: a refused connection fails the request at once instead of
    /// being retried quietly until the deadline, and redirects are not followed (a signed
    /// URL is for one host; S3 redirects only when the region is wrong, which should be seen).
    private static func makeClient(requestTimeout: Duration) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = timeAmount(min(requestTimeout, .seconds(10)))
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    static func timeAmount(_ d: Duration) -> TimeAmount {
        let (seconds, attoseconds) = d.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
