import AsyncHTTPClient
import ClassySandbox
import Foundation
import Imaging
import NIOCore
import NIOHTTP1
import XCTest
@testable import ClassyAPI

/// Starts a sandbox on an ephemeral port, hands it and a client to `body`,
/// and always stops it.
func withSandbox(_ configure: (inout SandboxConfiguration) -> Void = { _ in },
                 options: (inout ClassyClient.Options) -> Void = { _ in },
                 _ body: (RunningSandbox, ClassyClient) async throws -> Void) async throws {
    var config = SandboxConfiguration()
    configure(&config)
    let sandbox = try await ClassySandbox.start(config)
    let client = makeClient(sandbox, options: options)
    do {
        try await body(sandbox, client)
    } catch {
        await sandbox.stop()
        throw error
    }
    await sandbox.stop()
}

func makeClient(_ sandbox: RunningSandbox, secret: String? = nil, app: Int = 0,
                options: (inout ClassyClient.Options) -> Void = { _ in }) -> ClassyClient {
    var o = ClassyClient.Options()
    // Fast retries keep the fault tests short; the policy's shape is the same.
    o.retry = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(5), maxDelay: .milliseconds(100), maxServerWait: .seconds(10))
    options(&o)
    let conf = ClassyConfiguration(baseURL: sandbox.baseURL, clientID: sandbox.apps[app].clientID,
                                   clientSecret: secret ?? sandbox.apps[app].clientSecret, organizationID: 1, memberID: 387943)
    return ClassyClient(configuration: conf, options: o)
}

/// A raw HTTP exchange, for requests the typed client never makes.
struct RawExchange {
    var status: Int
    var headers: [(String, String)]
    var body: String
}

func raw(_ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil) async throws -> RawExchange {
    var req = HTTPClientRequest(url: url)
    req.method = method
    for (k, v) in headers { req.headers.add(name: k, value: v) }
    if let body { req.body = .bytes(ByteBuffer(bytes: body)) }
    let res = try await HTTPClient.shared.execute(req, timeout: .seconds(30))
    let b = try await res.body.collect(upTo: 32 << 20)
    return RawExchange(status: Int(res.status.code), headers: res.headers.map { ($0.name, $0.value) },
                       body: String(decoding: b.readableBytesView, as: UTF8.self))
}

func rawBytes(_ url: String) async throws -> (Int, [UInt8]) {
    let res = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
    return (Int(res.status.code), Array(try await res.body.collect(upTo: 32 << 20).readableBytesView))
}

enum TestImages {
    /// A real PNG from the Imaging encoder, with a gradient so crops are checkable.
    static func png(width: Int, height: Int) throws -> [UInt8] {
        try ImageEncoder.encode(Image(pixels: pixels(width: width, height: height)), as: .png)
    }

    static func pixels(width: Int, height: Int) -> PixelBuffer {
        var bytes: [UInt8] = []
        for y in 0..<height { for x in 0..<width { bytes += [UInt8(x & 0xFF), UInt8(y & 0xFF), UInt8((x * 7 + y * 3) & 0xFF)] } }
        return PixelBuffer(width: width, height: height, layout: .rgb, bytes: bytes)
    }

    /// The classic 1x1 GIF89a (two-colour table, one LZW-coded pixel).
    static let gif: [UInt8] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
        0x00, 0x00, 0x00, 0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
    ]

    /// Bytes with JPEG's SOI/APP0 signature and EOI. The upload path never
    /// decodes them (the JPEG codec is written on another branch), it only
    /// moves and checks them, so a recognisable blob is enough here.
    static func jpegLike(_ n: Int = 3000) -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        return [0xFF, 0xD8, 0xFF, 0xE0] + (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) } + [0xFF, 0xD9]
    }
}

func XCTAssertThrowsClassy<T>(_ code: ClassyAPIError.Code, status: Int? = nil, file: StaticString = #filePath, line: UInt = #line,
                              _ body: () async throws -> T) async -> ClassyAPIError? {
    do {
        _ = try await body()
        XCTFail("expected ClassyAPIError.\(code)", file: file, line: line)
    } catch let e as ClassyAPIError {
        XCTAssertEqual(e.code, code, "\(e)", file: file, line: line)
        if let status { XCTAssertEqual(e.status, status, "\(e)", file: file, line: line) }
        return e
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
    return nil
}
