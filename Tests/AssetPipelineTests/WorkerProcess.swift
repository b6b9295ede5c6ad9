#if canImport(Glibc)
import Glibc
#endif
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

/// Shell steps for tests that start daemons (PostgreSQL).
enum Shell {
    /// Runs a shell command and returns its output. Through posix_spawn and
    /// waitpid, not Foundation's Process: its wait never returns once a command
    /// (pg_ctl) leaves a daemon behind. Output goes to a file for the same reason.
    @discardableResult
    static func run(_ command: String, allowFailure: Bool = false) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("sh-\(UUID().uuidString).out").path
        defer { unlink(output) }
        var pid: pid_t = 0
        let argv = ["/bin/bash", "-c", "(\(command)) >\(output) 2>&1 </dev/null"]
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        guard posix_spawn(&pid, "/bin/bash", nil, nil, &cArgs, environ) == 0 else { throw ShellFailure(description: "cannot spawn bash") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        if exited != 0, !allowFailure {
            throw ShellFailure(description: "`\(command)` failed (\(exited)): \(text)")
        }
        return text
    }

}

struct ShellFailure: Error, CustomStringConvertible {
    var description: String
}

extension Process {
    /// Waits for the process at most `seconds`. One still running then is killed
    /// (SIGKILL) and the test fails: a hung worker fails its test instead of
    /// holding the whole suite until CI gives up.
    func waitUntilExit(orKillAfter seconds: Double, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning && Date() < deadline { usleep(50_000) }
        if isRunning {
            XCTFail("\(arguments?.first ?? "the process") still running after \(Int(seconds)) s: killed", file: file, line: line)
            kill(processIdentifier, SIGKILL)
        }
        waitUntilExit()
    }
}
