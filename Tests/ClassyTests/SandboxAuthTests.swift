import ClassySandbox
import Foundation
import XCTest
@testable import ClassyAPI

final class SandboxAuthTests: XCTestCase {
    func testTokenIsFetchedOnceAndReused() async throws {
        try await withSandbox { sandbox, client in
            let a = try await client.accessToken()
            _ = try await client.campaign(1001)
            let b = try await client.accessToken()
            XCTAssertEqual(a.value, b.value)
            XCTAssertEqual(a.expiresIn, 3600)
            let fetches = await client.tokenFetchCount
            XCTAssertEqual(fetches, 1)
            XCTAssertFalse("\(a)".contains(a.value), "token value must not appear in descriptions")
        }
    }

    func testConcurrent401sShareOneRefreshAndRetryOnce() async throws {
        try await withSandbox { sandbox, client in
            _ = try await client.campaign(1001)
            await sandbox.expireAllTokens()
            try await withThrowingTaskGroup(of: Campaign.self) { group in
                for _ in 0..<8 { group.addTask { try await client.campaign(1001) } }
                for try await c in group { XCTAssertEqual(c.id, 1001) }
            }
            let fetches = await client.tokenFetchCount
            XCTAssertEqual(fetches, 2, "eight 401s must cause exactly one refresh")
        }
    }

    func testTokenRefreshedBeforeExpiryAt90Percent() async throws {
        try await withSandbox({ $0.tokenExpiresIn = 3 }) { sandbox, client in
            let first = try await client.accessToken()
            try await Task.sleep(for: .milliseconds(2800))   // past 90% of 3 s, before the server's expiry
            let second = try await client.accessToken()
            XCTAssertNotEqual(first.value, second.value)
            _ = try await client.campaign(1001)
            let fetches = await client.tokenFetchCount
            XCTAssertEqual(fetches, 2)
        }
    }

    func testTokensExpiringEarlyAreRefreshedOnTheir401() async throws {
        var faults = SandboxFaults()
        // 2 s, not 1: a loaded machine may take most of a second between fetching the token and using it.
        faults.tokenLifetimeSeconds = 2
        try await withSandbox({ $0.faults = faults }) { sandbox, client in
            _ = try await client.campaign(1001)
            try await Task.sleep(for: .milliseconds(2200))
            _ = try await client.campaign(1001)
            let fetches = await client.tokenFetchCount
            XCTAssertEqual(fetches, 2)
        }
    }

    func testBadSecretIsAnAuthenticationErrorWithoutTheSecret() async throws {
        try await withSandbox { sandbox, _ in
            let client = makeClient(sandbox, secret: "wrong-secret-value")
            let e = await XCTAssertThrowsClassy(.authentication, status: 401) { try await client.campaign(1001) }
            XCTAssertFalse("\(String(describing: e))".contains("wrong-secret-value"))
        }
    }

    func testStatusCodesOfTheDocumentedErrors() async throws {
        try await withSandbox({ $0.apps.append(SandboxClientApp(clientID: "untrusted", clientSecret: "s3cr3t", trusted: false)) }) { sandbox, client in
            // 401 without and with a bad token.
            var r = try await raw(.GET, sandbox.baseURL + "/2.0/assets/1")
            XCTAssertEqual(r.status, 401)
            r = try await raw(.GET, sandbox.baseURL + "/2.0/assets/1", headers: [("Authorization", "Bearer nope")])
            XCTAssertEqual(r.status, 401)
            // 403 for an app that is not trusted.
            let untrusted = makeClient(sandbox, app: 1)
            _ = await XCTAssertThrowsClassy(.forbidden, status: 403) { try await untrusted.asset(1) }
            // 404 for unknown ids; never retried.
            let e = await XCTAssertThrowsClassy(.notFound, status: 404) { try await client.asset(999_999) }
            XCTAssertEqual(e?.request, "GET /2.0/assets/999999")
            // 405 for a wrong method.
            let token = try await client.accessToken().value
            r = try await raw(.DELETE, sandbox.baseURL + "/2.0/assets/1", headers: [("Authorization", "Bearer \(token)")])
            XCTAssertEqual(r.status, 405)
            // 400 with a message for a missing member_id.
            r = try await raw(.POST, sandbox.baseURL + "/2.0/assets/url", headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")], body: Array("{}".utf8))
            XCTAssertEqual(r.status, 400)
            XCTAssertTrue(r.body.contains("member_id"), r.body)
            // 400 for `uploaded` before the object exists.
            let pending = try await client.createAssetURL(contentType: .png)
            let e400 = await XCTAssertThrowsClassy(.badRequest, status: 400) { try await client.markAssetUploaded(pending.id) }
            XCTAssertTrue(e400?.message.contains("not been uploaded") ?? false)
            XCTAssertFalse("\(pending)".contains("X-Amz-Signature"), "pre-signed URL signatures stay out of descriptions")
        }
    }
}

final class ClassyUnitTests: XCTestCase {
    func testDatesInAndOut() throws {
        let d = try XCTUnwrap(ClassyDate.parse("2016-03-31T22:49:18+0000"))
        XCTAssertEqual(d.timeIntervalSince1970, 1_459_464_558)
        XCTAssertEqual(ClassyDate.format(d), "2016-03-31T22:49:18+0000")
        XCTAssertEqual(ClassyDate.parse("2016-04-01T00:49:18+0200"), d)
        XCTAssertEqual(ClassyDate.parse("2016-03-31T17:49:18-05:00"), d)
        XCTAssertEqual(ClassyDate.parse("2016-03-31T22:49:18Z"), d)
        XCTAssertNil(ClassyDate.parse("2016-02-30T00:00:00+0000"))
        XCTAssertNil(ClassyDate.parse("2016-03-31 nonsense"))
    }

    func testAssetDecodingConvertsOffsetsToUTC() throws {
        let json = #"{"id":1,"parent_id":null,"created_by":2,"state":"uploaded","cdn_url":"x","content_type":"image/png","size":3,"created_at":"2016-04-01T00:49:18+0200"}"#
        let a = try JSONDecoder().decode(Asset.self, from: Data(json.utf8))
        XCTAssertEqual(a.createdAt.map(ClassyDate.format), "2016-03-31T22:49:18+0000")
    }

    func testRetryPolicyHonoursRetryAfterAndRateLimitReset() {
        let now = Date(timeIntervalSince1970: 1_000_000_000)
        XCTAssertEqual(RetryPolicy.serverRequestedDelay(headers: [("Retry-After", "3")], status: 503, now: now), .seconds(3))
        let reset = [("X-RateLimit-Limit", "10"), ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", "1000000007")]
        XCTAssertEqual(RetryPolicy.serverRequestedDelay(headers: reset, status: 503, now: now), .seconds(7))
        XCTAssertNil(RetryPolicy.serverRequestedDelay(headers: reset, status: 500, now: now))
        XCTAssertFalse(RetryPolicy.isRetryable(status: 400))
        XCTAssertFalse(RetryPolicy.isRetryable(status: 404))
        XCTAssertTrue(RetryPolicy.isRetryable(status: 502))
        var g = SystemRandomNumberGenerator()
        let p = RetryPolicy(baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        for attempt in 0..<10 { XCTAssertLessThanOrEqual(p.backoff(attempt: attempt, using: &g), .seconds(1)) }
    }

    func testConfigurationPrecedenceAndPrivateFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("classy-conf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("classy.conf").path
        try "# test\nCLASSY_CLIENT_ID=file-id\nCLASSY_CLIENT_SECRET=file-secret\nCLASSY_MEMBER_ID=7\n".write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o644)
        XCTAssertThrowsError(try ClassyConfiguration.resolve(environment: [:], configFile: file)) {
            XCTAssertEqual(($0 as? ClassyAPIError)?.code, .configuration)
            XCTAssertTrue("\($0)".contains("readable by others"))
        }
        chmod(file, 0o600)
        let c = try ClassyConfiguration.resolve(flags: .init(organizationID: 5), environment: ["CLASSY_CLIENT_ID": "env-id"], configFile: file)
        XCTAssertEqual(c.clientID, "env-id")
        XCTAssertEqual(c.clientSecret, "file-secret")
        XCTAssertEqual(c.memberID, 7)
        XCTAssertEqual(c.organizationID, 5)
        XCTAssertEqual(c.baseURL, "https://api.classy.org")
        XCTAssertFalse("\(c)".contains("file-secret"))
        XCTAssertEqual(redactedURL("http://h/b/k?X-Amz-Signature=abc"), "http://h/b/k?<redacted>")
    }
}
