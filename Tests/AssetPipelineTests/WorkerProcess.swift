import ClassySandbox
import Foundation
import XCTest

/// What the tests that run `asset-worker` as a real process share: the built
/// binary, and the environment that points it at a sandbox.
enum WorkerProcess {
    static let projectRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `.build/debug/asset-worker` (or release); a failure in CI, a skip elsewhere.
    static func binary() throws -> URL {
        for configuration in ["debug", "release"] {
            let url = projectRoot.appendingPathComponent(".build/\(configuration)/asset-worker")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail("asset-worker is not built (swift build --build-tests builds it)")
        }
        throw XCTSkip("asset-worker is not built")
    }

    /// This process's environment with the `CLASSY_*` credentials of `sandbox`.
    static func environment(for sandbox: RunningSandbox, memberID: Int = 5) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["CLASSY_API_URL"] = sandbox.baseURL
        environment["CLASSY_CLIENT_ID"] = sandbox.clientID
        environment["CLASSY_CLIENT_SECRET"] = sandbox.clientSecret
        environment["CLASSY_MEMBER_ID"] = String(memberID)
        return environment
    }
}
