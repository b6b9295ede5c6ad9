import ClassySandbox
import Foundation
import Logging
import XCTest
@testable import ClassyAPI

/// Keeps every log line (message and metadata) so a test can search them.
final class LogCollector: @unchecked Sendable {
    // Guarded by `lock`; log calls come from many tasks.
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ s: String) { lock.withLock { lines.append(s) } }
    var all: [String] { lock.withLock { lines } }
}

struct CollectingLogHandler: LogHandler {
    let collector: LogCollector
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        collector.append("\(event.level) \(event.message) \(metadata.merging(event.metadata ?? [:]) { $1 }) \(event.error.map { "\($0)" } ?? "")")
    }
}

final class RedactionTests: XCTestCase {
    func testLogsAndErrorsNeverCarrySecretsTokensOrSignatures() async throws {
        var faults = SandboxFaults()
        faults.s3ServerErrorRate = 0.4
        faults.expiredPresignedURLs = 1
        faults.stormRequests = 1
        faults.stormRetryAfterSeconds = 0
        try await withSandbox({ $0.faults = faults; $0.seed = 7 }) { sandbox, _ in
            let collector = LogCollector()
            var o = ClassyClient.Options()
            o.retry = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(5), maxDelay: .milliseconds(50))
            let client = ClassyClient(configuration: ClassyConfiguration(baseURL: sandbox.baseURL, clientID: sandbox.clientID,
                                                                         clientSecret: sandbox.clientSecret, memberID: 5),
                                      options: o, logger: Logger(label: "test") { _ in CollectingLogHandler(collector: collector) })
            let result = try await client.uploadAsset(TestImages.gif, contentType: .gif)
            XCTAssertEqual(result.abandonedAssetIDs.count, 1)
            await sandbox.expireAllTokens()
            _ = try await client.asset(result.asset.id)
            let token = try await client.accessToken().value
            // A refused upload produces an error that names the request without its query.
            let pending = try await client.createAssetURL(contentType: .gif)
            var wrong = pending
            wrong.presignedPutURL = pending.presignedPutURL.replacingOccurrences(of: "X-Amz-Signature=", with: "X-Amz-Signature=f")
            var errorText = ""
            do { _ = try await client.putForTesting(TestImages.gif, to: wrong, contentType: .gif) } catch { errorText = "\(error)" }
            XCTAssertFalse(errorText.isEmpty)

            let logs = collector.all
            XCTAssertFalse(logs.isEmpty, "the faults above must have been logged")
            for text in logs + [errorText] {
                XCTAssertFalse(text.contains(sandbox.clientSecret), text)
                XCTAssertFalse(text.contains(token), text)
                XCTAssertFalse(text.contains("X-Amz-Signature"), text)
                XCTAssertFalse(text.contains("X-Amz-Credential"), text)
            }
        }
    }

    func testConnectionFailuresAreRetriedThenReportedAsTransport() async throws {
        // Nothing listens on port 9 of loopback here ("discard", never served in the sandbox).
        var o = ClassyClient.Options()
        o.retry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20))
        // AHC keeps retrying a refused connection until the request's deadline, so keep it short.
        o.requestTimeout = .seconds(1)
        let client = ClassyClient(configuration: ClassyConfiguration(baseURL: "http://127.0.0.1:9", clientID: "id", clientSecret: "secret-xyz"), options: o)
        let e = await XCTAssertThrowsClassy(.transport) { try await client.campaign(1) }
        XCTAssertEqual(e?.request, "POST /oauth2/auth")
        XCTAssertFalse(e?.description.contains("secret-xyz") ?? true)
    }
}
