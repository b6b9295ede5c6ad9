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
