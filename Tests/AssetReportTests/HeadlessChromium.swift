import Foundation
import XCTest

/// Debian's Chromium, run headless on a local page: the DOM after the page's
/// scripts ran (`--dump-dom`), and a screenshot. Installed by
/// `scripts/setup.sh --browser` (which `scripts/test.sh` runs); missing, the
/// browser tests fail under CI=true and are skipped elsewhere.
struct HeadlessChromium {
    let executable: String
    let profile: URL

    static func find() throws -> HeadlessChromium {
        let environment = ProcessInfo.processInfo.environment
        let candidates = [environment["CHROMIUM"]].compactMap { $0 } + ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            let message = "headless Chromium is not installed (bash scripts/setup.sh --browser installs Debian's chromium)"
            if environment["CI"] == "true" { XCTFail(message) }
            throw XCTSkip(message)
        }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-profile-\(UUID().uuidString)")
        return HeadlessChromium(executable: path, profile: profile)
    }

    /// Flags every run shares: no sandbox (tests run as root in containers, where
    /// Chromium's sandbox cannot start), no GPU, a throwaway profile, no network
    /// needed, and virtual time so the load event and its script have run when the DOM is dumped.
    var commonArguments: [String] {
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--user-data-dir=\(profile.path)", "--virtual-time-budget=10000", "--hide-scrollbars"]
    }

    func dumpDOM(of page: URL) throws -> String {
        try run(commonArguments + ["--dump-dom", page.absoluteString])
    }

    func screenshot(of page: URL, to file: URL, width: Int = 1280, height: Int = 1800) throws {
        try? FileManager.default.removeItem(at: file)
        _ = try run(commonArguments + ["--window-size=\(width),\(height)", "--screenshot=\(file.path)", page.absoluteString])
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs Chromium to completion; stdout through a file (a DOM with inline
    /// images is megabytes, more than a pipe holds). A run that does not end
    /// within two minutes is killed and reported, never waited on forever.
    func run(_ arguments: [String]) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-out-\(UUID().uuidString)")
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-err-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: output)
            try? FileManager.default.removeItem(at: errors)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: watchdog)
        process.waitUntilExit()
        watchdog.cancel()
        let stdout = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            throw Failure(description: "chromium exited with \(process.terminationStatus): \(stderr.suffix(2000))")
        }
        return stdout
    }
}
