import AssetJobs
import AssetSourcesS3
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SigV4
import XCTest

/// The S3 source store against a real S3 implementation (moto, started by
/// `scripts/test.sh`, which sets MOTO_ENDPOINT), and its failures against
/// loopback ports with nothing or a silent listener behind them.
final class S3SourceStoreTests: XCTestCase {
    static let credentials = SigV4Credentials(accessKeyID: "AKIDS3SOURCES", secretAccessKey: "s3-sources-test-secret")
    static let projectRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func motoEndpoint() throws -> String {
        if let e = ProcessInfo.processInfo.environment["MOTO_ENDPOINT"], !e.isEmpty { return e }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail("MOTO_ENDPOINT is not set: in CI the S3 source store tests must run (use scripts/test.sh)")
        }
        throw XCTSkip("MOTO_ENDPOINT not set; run scripts/test.sh (or eval \"$(bash scripts/start-moto.sh)\") to include the S3 tests")
    }

    /// A fresh bucket in moto (its default mode accepts a plain PUT) and a store on it,
    /// configured the way operators configure it: through the AWS variables.
    func motoStore(prefix: String = "queue-a", maxBytes: Int = 256 << 20) async throws -> (S3SourceStore, endpoint: String, bucket: String) {
        let endpoint = try motoEndpoint()
        let bucket = "sources-\(UUID().uuidString.lowercased().prefix(8))"
        var req = HTTPClientRequest(url: "\(endpoint)/\(bucket)")
        req.method = .PUT
        let res = try await HTTPClient.shared.execute(req, timeout: .seconds(30))
        XCTAssertEqual(res.status.code, 200, "creating bucket \(bucket) in moto")
        let env = ["AWS_ACCESS_KEY_ID": Self.credentials.accessKeyID, "AWS_SECRET_ACCESS_KEY": Self.credentials.secretAccessKey,
                   "AWS_ENDPOINT_URL": endpoint]
        let store = try S3SourceStore.fromEnvironment(location: try S3Location(url: "s3://\(bucket)/\(prefix)"), environment: env,
                                                      maxBytes: maxBytes)
        addTeardownBlock { await store.shutdown() }
        return (store, endpoint, bucket)
    }

    /// A request signed here, independently of the store, to look at (or damage) what is in moto.
    func signed(_ method: HTTPMethod, _ endpoint: String, _ path: String, query: [String: String] = [:],
                body: Data? = nil) async throws -> (status: Int, body: Data) {
        let host = String(endpoint.split(separator: "://", maxSplits: 1)[1])
        let p = SigV4.presign(PresignInput(method: method.rawValue, host: host, path: path, query: query,
                                           date: UTCTime(epochSeconds: Int64(Date().timeIntervalSince1970)), expires: 60),
                              credentials: Self.credentials)
        var req = HTTPClientRequest(url: endpoint + p.pathAndQuery)
        req.method = method
        if let body { req.body = .bytes(ByteBuffer(bytes: body)) }
        let res = try await HTTPClient.shared.execute(req, timeout: .seconds(30))
        return (Int(res.status.code), Data(try await res.body.collect(upTo: 32 << 20).readableBytesView))
    }

    /// The object keys under `prefix`, by a signed ListObjectsV2.
    func listKeys(_ endpoint: String, _ bucket: String, prefix: String) async throws -> [String] {
        let (status, body) = try await signed(.GET, endpoint, "/\(bucket)", query: ["list-type": "2", "prefix": prefix])
        XCTAssertEqual(status, 200, String(decoding: body, as: UTF8.self))
        let xml = String(decoding: body, as: UTF8.self)
        return xml.components(separatedBy: "<Key>").dropFirst().compactMap { $0.components(separatedBy: "</Key>").first }
    }

    func expectError<T>(_ code: SourceStoreError.Code, _ body: () async throws(SourceStoreError) -> T,
                        file: StaticString = #filePath, line: UInt = #line) async -> SourceStoreError? {
        do {
            _ = try await body()
            XCTFail("expected .\(code), got a result", file: file, line: line)
            return nil
        } catch {
            XCTAssertEqual(error.code, code, error.message, file: file, line: line)
            return error
        }
    }

    // MARK: against moto

    func testRoundTripOfARealImageUnderThePrefix() async throws {
        let (store, endpoint, bucket) = try await motoStore()
        let png = try Data(contentsOf: Self.projectRoot.appendingPathComponent("TestImages/campaign-logo.png"))
        XCTAssertGreaterThan(png.count, 1000)
        let key = try await store.put(png)
        XCTAssertEqual(key, SourceKey.of(png))
        let read = try await store.get(key)
        XCTAssertEqual(read, png)
        // Where the brief says it lives, with exactly these bytes.
        let (status, stored) = try await signed(.GET, endpoint, "/\(bucket)/queue-a/sources/\(key)")
        XCTAssertEqual(status, 200)
        XCTAssertEqual(stored, png)
    }

    func testPutTwiceStoresOnce() async throws {
        let (store, endpoint, bucket) = try await motoStore()
        let a = Data("first source".utf8), b = Data("second source".utf8)
        let k1 = try await store.put(a)
        let k2 = try await store.put(a)
        let k3 = try await store.put(b)
        XCTAssertEqual(k1, k2)
        XCTAssertNotEqual(k1, k3)
        let keys = try await listKeys(endpoint, bucket, prefix: "queue-a/")
        XCTAssertEqual(keys.sorted(), ["queue-a/sources/\(k1)", "queue-a/sources/\(k3)"].sorted())
    }

    /// The second put finds an object of the same size and does not upload: shown by
    /// damaging the object with bytes of the same length, which that put leaves in place.
    /// (Same-size damage is not repaired by put; get still refuses it.)
    func testPutOfAStoredSizeSkipsTheUpload() async throws {
        let (store, endpoint, bucket) = try await motoStore()
        let bytes = Data("the original source bytes".utf8)
        let key = try await store.put(bytes)
        let sameLength = Data(String(repeating: "x", count: bytes.count).utf8)
        let (status, _) = try await signed(.PUT, endpoint, "/\(bucket)/queue-a/sources/\(key)", body: sameLength)
        XCTAssertEqual(status, 200)
        _ = try await store.put(bytes)
        let (_, after) = try await signed(.GET, endpoint, "/\(bucket)/queue-a/sources/\(key)")
        XCTAssertEqual(after, sameLength, "put uploaded although an object of the same size was there")
    }

    func testUnknownKeyIsMissing() async throws {
        let (store, _, _) = try await motoStore()
        let unknown = SourceKey.of(Data("never stored".utf8))
        let error = await expectError(.missing) { () async throws(SourceStoreError) in try await store.get(unknown) }
        XCTAssertTrue(error?.message.contains(unknown) ?? false, error?.message ?? "")
    }

    func testOverwrittenObjectIsCorruptAndAPutOfTheRightBytesRepairsIt() async throws {
        let (store, endpoint, bucket) = try await motoStore()
        let bytes = try Data(contentsOf: Self.projectRoot.appendingPathComponent("TestImages/sponsor-cogs.gif"))
        let key = try await store.put(bytes)
        let (status, _) = try await signed(.PUT, endpoint, "/\(bucket)/queue-a/sources/\(key)", body: Data("tampered".utf8))
        XCTAssertEqual(status, 200)
        let error = await expectError(.corrupt) { () async throws(SourceStoreError) in try await store.get(key) }
        XCTAssertTrue(error?.message.contains(SourceKey.of(Data("tampered".utf8))) ?? false, error?.message ?? "")
        // A different size means damage, so storing the source again writes it.
        _ = try await store.put(bytes)
        let repaired = try await store.get(key)
        XCTAssertEqual(repaired, bytes)
    }

    func testMissingBucketIsRefusedNotMissing() async throws {
        let endpoint = try motoEndpoint()
        let store = try S3SourceStore(location: try S3Location(url: "s3://no-such-bucket-\(UUID().uuidString.lowercased().prefix(8))"),
                                      endpoint: endpoint, region: "us-east-1", credentials: Self.credentials)
        addTeardownBlock { await store.shutdown() }
        let key = SourceKey.of(Data("x".utf8))
        let error = await expectError(.refused) { () async throws(SourceStoreError) in try await store.get(key) }
        XCTAssertTrue(error?.message.contains("NoSuchBucket") ?? false, error?.message ?? "")
        _ = await expectError(.refused) { () async throws(SourceStoreError) in try await store.put(Data("x".utf8)) }
    }

    func testAnswersLargerThanMaxBytesAreRefused() async throws {
        let (store, endpoint, bucket) = try await motoStore()
        let big = Data((0..<5000).map { UInt8($0 & 0xFF) })
        let key = try await store.put(big)
        let small = try S3SourceStore(location: try S3Location(url: "s3://\(bucket)/queue-a"), endpoint: endpoint,
                                      region: "us-east-1", credentials: Self.credentials, maxBytes: 4096)
        addTeardownBlock { await small.shutdown() }
        let error = await expectError(.refused) { () async throws(SourceStoreError) in try await small.get(key) }
        XCTAssertTrue(error?.message.contains("larger than the 4096 bytes") ?? false, error?.message ?? "")
        _ = await expectError(.refused) { () async throws(SourceStoreError) in try await small.put(big) }
        let fits = try await small.get(try await small.put(Data(big.prefix(4096))))
        XCTAssertEqual(fits.count, 4096)
    }

    // MARK: without moto

    func testInvalidKeysAreRefusedBeforeAnyRequest() async throws {
        // Nothing listens there: an invalid key must not even try.
        let store = try S3SourceStore(location: try S3Location(url: "s3://some-bucket"), endpoint: "http://127.0.0.1:\(try unusedLoopbackPort())",
                                      region: "us-east-1", credentials: Self.credentials)
        addTeardownBlock { await store.shutdown() }
        for bad in ["", "abc", String(repeating: "A", count: 64), String(repeating: "g", count: 64),
                    "../" + String(repeating: "a", count: 61), String(repeating: "a", count: 65)] {
            _ = await expectError(.invalidKey) { () async throws(SourceStoreError) in try await store.get(bad) }
        }
    }

    func testRefusedConnectionIsStorageWithinTheTimeout() async throws {
        let port = try unusedLoopbackPort()
        let store = try S3SourceStore(location: try S3Location(url: "s3://refused-bucket/p"), endpoint: "http://127.0.0.1:\(port)",
                                      region: "us-east-1", credentials: Self.credentials, requestTimeout: .seconds(5))
        addTeardownBlock { await store.shutdown() }
        let clock = ContinuousClock()
        let start = clock.now
        let key = SourceKey.of(Data("y".utf8))
        let error = await expectError(.storage) { () async throws(SourceStoreError) in try await store.get(key) }
        XCTAssertLessThan(clock.now - start, .seconds(5))
        let message = error?.message ?? ""
        XCTAssertTrue(message.contains("127.0.0.1:\(port)"), message)
        XCTAssertTrue(message.contains("refused-bucket"), message)
        XCTAssertFalse(message.contains(Self.credentials.secretAccessKey), message)
        XCTAssertFalse(message.contains("X-Amz-Signature"), message)
        _ = await expectError(.storage) { () async throws(SourceStoreError) in try await store.put(Data("y".utf8)) }
    }

    func testASilentServerTimesOut() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let store = try S3SourceStore(location: try S3Location(url: "s3://silent-bucket"), endpoint: "http://127.0.0.1:\(listener.port)",
                                      region: "us-east-1", credentials: Self.credentials, requestTimeout: .seconds(1))
        addTeardownBlock { await store.shutdown() }
        let clock = ContinuousClock()
        let start = clock.now
        let error = await expectError(.storage) { () async throws(SourceStoreError) in try await store.get(SourceKey.of(Data("z".utf8))) }
        let elapsed = clock.now - start
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(900))
        XCTAssertLessThan(elapsed, .seconds(5))
        XCTAssertTrue(error?.message.contains("silent-bucket") ?? false, error?.message ?? "")
    }

    // MARK: configuration

    func testLocationParsing() throws {
        let plain = try S3Location(url: "s3://my-bucket")
        XCTAssertEqual(plain.bucket, "my-bucket")
        XCTAssertEqual(plain.prefix, "")
        XCTAssertEqual(plain.objectKey(for: "ab"), "sources/ab")
        let nested = try S3Location(url: "S3://my.bucket-1/team/queue_a/")
        XCTAssertEqual(nested.bucket, "my.bucket-1")
        XCTAssertEqual(nested.prefix, "team/queue_a")
        XCTAssertEqual(nested.objectKey(for: "ab"), "team/queue_a/sources/ab")
        XCTAssertEqual(nested.description, "s3://my.bucket-1/team/queue_a")
        XCTAssertEqual(try S3Location(url: "s3://abc/").prefix, "")

        let bad = ["", "s3://", "s3:///prefix", "https://bucket/p", "bucket/p", "s3:/bucket", "s3://ab",
                   "s3://" + String(repeating: "a", count: 64), "s3://My-Bucket", "s3://bad_bucket", "s3://-bucket",
                   "s3://bucket-", "s3://a..b", "s3://user@bucket", "s3://bucket:9000", "s3://bucket?x=1",
                   "s3://bucket/a//b", "s3://bucket/a/../b", "s3://bucket/./b", "s3://bucket/a b", "s3://bucket/a?b",
                   "s3://bucket/a%2Fb", "s3://bucket/a#b"]
        for url in bad {
            XCTAssertThrowsError(try S3Location(url: url), url) { error in
                XCTAssertEqual((error as? S3ConfigurationError)?.code, .invalidLocation, url)
            }
        }
    }

    func testEndpointParsing() throws {
        XCTAssertEqual(try S3Endpoint(url: "http://127.0.0.1:9000").hostHeader, "127.0.0.1:9000")
        XCTAssertEqual(try S3Endpoint(url: "https://s3.eu-west-1.amazonaws.com/").hostHeader, "s3.eu-west-1.amazonaws.com")
        XCTAssertEqual(try S3Endpoint(url: "https://minio.local:443").description, "https://minio.local")
        for url in ["ftp://host", "host:9000", "http://", "http://host/s3", "http://user:pw@host", "http://host?x=1"] {
            XCTAssertThrowsError(try S3Endpoint(url: url), url) { error in
                XCTAssertEqual((error as? S3ConfigurationError)?.code, .invalidEndpoint, url)
            }
        }
    }

    func testFromEnvironmentRefusesMissingCredentialsByName() throws {
        let location = try S3Location(url: "s3://env-bucket")
        func refusal(_ env: [String: String]) -> S3ConfigurationError? {
            do {
                _ = try S3SourceStore.fromEnvironment(location: location, environment: env, httpClient: HTTPClient.shared)
                return nil
            } catch { return error }
        }
        let noID = refusal(["AWS_SECRET_ACCESS_KEY": "s"])
        XCTAssertEqual(noID?.code, .missingCredentials)
        XCTAssertTrue(noID?.message.contains("AWS_ACCESS_KEY_ID") ?? false, noID?.message ?? "no error")
        let noSecret = refusal(["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": " "])
        XCTAssertEqual(noSecret?.code, .missingCredentials)
        XCTAssertTrue(noSecret?.message.contains("AWS_SECRET_ACCESS_KEY") ?? false, noSecret?.message ?? "no error")
        XCTAssertEqual(refusal(["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "Not A Region"])?.code, .invalidRegion)
        XCTAssertEqual(refusal(["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_ENDPOINT_URL": "ftp://x"])?.code, .invalidEndpoint)
    }

    func testFromEnvironmentDefaultsAndPrecedence() throws {
        let location = try S3Location(url: "s3://env-bucket")
        let keys = ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s"]
        let aws = try S3SourceStore.fromEnvironment(location: location, environment: keys, httpClient: HTTPClient.shared)
        XCTAssertEqual(aws.region, "us-east-1")
        XCTAssertEqual(aws.endpoint.description, "https://s3.us-east-1.amazonaws.com")
        let regional = try S3SourceStore.fromEnvironment(location: location, environment: keys.merging(["AWS_DEFAULT_REGION": "eu-west-1"]) { $1 },
                                                         httpClient: HTTPClient.shared)
        XCTAssertEqual(regional.endpoint.description, "https://s3.eu-west-1.amazonaws.com")
        let both = keys.merging(["AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "eu-west-1",
                                 "AWS_ENDPOINT_URL": "http://generic:1", "AWS_ENDPOINT_URL_S3": "http://s3only:2"]) { $1 }
        let custom = try S3SourceStore.fromEnvironment(location: location, environment: both, httpClient: HTTPClient.shared)
        XCTAssertEqual(custom.region, "eu-central-1")
        XCTAssertEqual(custom.endpoint.description, "http://s3only:2")
    }
}

// MARK: loopback helpers

#if canImport(Glibc)
import Glibc
private let streamSocket = Int32(SOCK_STREAM.rawValue)
#elseif canImport(Darwin)
import Darwin
private let streamSocket = SOCK_STREAM
#endif

struct SocketError: Error { var what: String }

/// A TCP socket bound to a free loopback port, listening or not.
private func boundLoopbackSocket(listen backlog: Int32?) throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, streamSocket, 0)
    guard fd >= 0 else { throw SocketError(what: "socket") }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    guard bound == 0 else { close(fd); throw SocketError(what: "bind") }
    if let backlog, listen(fd, backlog) != 0 { close(fd); throw SocketError(what: "listen") }
    let named = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    guard named == 0 else { close(fd); throw SocketError(what: "getsockname") }
    return (fd, Int(UInt16(bigEndian: addr.sin_port)))
}

/// A loopback port nobody listens on (bound, never listened, closed): connections are refused.
func unusedLoopbackPort() throws -> Int {
    let (fd, port) = try boundLoopbackSocket(listen: nil)
    close(fd)
    return port
}

/// A listener that never accepts: the kernel completes the handshake, the request is sent, no answer comes.
final class SilentListener: @unchecked Sendable {
    let fd: Int32
    let port: Int
    init() throws { (fd, port) = try boundLoopbackSocket(listen: 16) }
    func close() { _ = closeSocket(fd) }
}

private func closeSocket(_ fd: Int32) -> Int32 { close(fd) }
