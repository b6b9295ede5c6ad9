import ClassySandbox
import Foundation
import XCTest
@testable import ClassyAPI

final class SandboxFaultTests: XCTestCase {
    func testFaultSpecsFromTheCommandLine() throws {
        let f = try SandboxFaults(parsing: ["s3-500=0.3", "s3-reset=0.25", "latency-ms=40", "token-lifetime=5", "storm=7", "expired-urls=2", "api-500=0.1"])
        XCTAssertEqual(f.s3ServerErrorRate, 0.3)
        XCTAssertEqual(f.s3ResetRate, 0.25)
        XCTAssertEqual(f.latencyMilliseconds, 40)
        XCTAssertEqual(f.tokenLifetimeSeconds, 5)
        XCTAssertEqual(f.stormRequests, 7)
        XCTAssertEqual(f.expiredPresignedURLs, 2)
        XCTAssertEqual(f.apiServerErrorRate, 0.1)
        XCTAssertThrowsError(try SandboxFaults(parsing: ["s3-500=2"]))
        XCTAssertThrowsError(try SandboxFaults(parsing: ["wobble=1"]))
        XCTAssertThrowsError(try SandboxFaults(parsing: ["storm"]))
    }

    func testAddedLatencyAndAPIServerErrorsAreRetried() async throws {
        var faults = SandboxFaults()
        faults.latencyMilliseconds = 150
        try await withSandbox({ $0.faults = faults }) { sandbox, client in
            _ = try await client.accessToken()
            let start = ContinuousClock.now
            _ = try await client.campaign(1001)
            XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(150))

            var f = SandboxFaults()
            f.apiServerErrorRate = 0.5
            await sandbox.setFaults(f)
            for _ in 0..<10 { _ = try await client.campaign(1001) }

            f.apiServerErrorRate = 1
            await sandbox.setFaults(f)
            let e = await XCTAssertThrowsClassy(.serverError, status: 500) { try await client.campaign(1001) }
            XCTAssertEqual(e?.request, "GET /2.0/campaigns/1001")
        }
    }

    func testSummaryNamesTheCredentials() async throws {
        try await withSandbox { sandbox, _ in
            XCTAssertTrue(sandbox.summary.contains("CLASSY_API_URL=\(sandbox.baseURL)"))
            XCTAssertTrue(sandbox.summary.contains(sandbox.clientSecret))
            XCTAssertTrue(sandbox.baseURL.hasPrefix("http://127.0.0.1:"))
            XCTAssertGreaterThan(sandbox.port, 0)
        }
    }
}

final class RetryAfterTests: XCTestCase {
    /// Backoff alone would be ~0.1 s here; two 503s asking for 1 s each must take 2 s.
    func testStormRetryAfterIsWaitedOut() async throws {
        var faults = SandboxFaults()
        faults.stormRequests = 2
        faults.stormRetryAfterSeconds = 1
        try await withSandbox({ $0.faults = faults }) { sandbox, client in
            _ = try await client.accessToken()
            let start = ContinuousClock.now
            let c = try await client.campaign(1001)
            XCTAssertEqual(c.id, 1001)
            XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .seconds(2))
        }
    }

    /// 4xx answers are final: one request, no retry.
    func testClientErrorsAreNotRetried() async throws {
        try await withSandbox({ $0.rateLimit = SandboxRateLimit(limit: 100, windowSeconds: 60) }) { sandbox, client in
            _ = await XCTAssertThrowsClassy(.notFound, status: 404) { try await client.asset(424242) }
            let state = await client.rateLimit
            // One request spent in the window: the 404 was not repeated.
            XCTAssertEqual(state?.remaining, 99)
        }
    }
}
