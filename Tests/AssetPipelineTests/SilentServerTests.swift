#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest

/// An API that accepts connections and never answers (a hung proxy, a stuck
/// load balancer). It used to take 362 s to fail one job, and jobs failed in
/// waves; the run must now stop once, within a minute, with exit 69, and no
/// job recorded as failed for it.
final class SilentServerTests: XCTestCase {
    /// A TCP listener on loopback that accepts every connection, reads nothing and says nothing.
    final class SilentServer: @unchecked Sendable {
        let fd: Int32
        let port: Int
        private var accepted: [Int32] = []
        private let lock = NSLock()

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            self.fd = fd
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var reuse: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0, listen(fd, 64) == 0 else {
                self.port = 0
                throw XCTSkip("cannot listen on loopback")
            }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            self.port = Int(UInt16(bigEndian: address.sin_port))
            let thread = Thread { [self] in
                while true {
                    let client = accept(fd, nil, nil)
                    if client < 0 { return }
                    lock.withLock { accepted.append(client) }
                }
            }
            thread.start()
        }

        var connections: Int { lock.withLock { accepted.count } }

        func close() {
            shutdown(fd, Int32(SHUT_RDWR))
            Glibc.close(fd)
            lock.withLock { for client in accepted { Glibc.close(client) } }
        }
    }

    func testAnAPIThatNeverAnswersStopsTheRunOnceWithinAMinute() throws {
        let binary = try WorkerProcess.binary()
        let server = try SilentServer()
        defer { server.close() }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("silent-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let images = WorkerProcess.projectRoot.appendingPathComponent("TestImages").path
        let manifest = root.appendingPathComponent("m.yml").path
        try """
        jobs:
          - {role: asset, source: \(images)/campaign-logo.png}
          - {role: asset, source: \(images)/social-ladybird.jpg}
          - {role: asset, source: \(images)/sponsor-cogs.gif}
        """.write(toFile: manifest, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["CLASSY_API_URL"] = "http://127.0.0.1:\(server.port)"
        environment["CLASSY_CLIENT_ID"] = "abc"
        environment["CLASSY_CLIENT_SECRET"] = "s3cret"
        environment["CLASSY_MEMBER_ID"] = "5"

        // The default timeouts and retry budget: what an operator gets.
        let process = Process()
        process.executableURL = binary
        process.arguments = ["upload", manifest, "--state-dir", root.path + "/state"]
        process.environment = environment
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        let start = Date()
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let elapsed = Date().timeIntervalSince(start)

        XCTAssertEqual(process.terminationStatus, 69, stderr)
        XCTAssertLessThan(elapsed, 60, "a silent API stops the run within a minute")
        XCTAssertTrue(stderr.lowercased().contains("token"), "the message says the token endpoint failed: \(stderr)")
        XCTAssertGreaterThan(server.connections, 0, "the worker did reach the silent server")
        print("silent API: exit \(process.terminationStatus) after \(String(format: "%.1f", elapsed)) s, \(server.connections) connection(s)")
        // No job was failed one by one for it: nothing in the journal says "failed".
        let status = Process()
        status.executableURL = binary
        status.arguments = ["status", "--state-dir", root.path + "/state", "--json"]
        let out = Pipe()
        status.standardOutput = out
        status.standardError = Pipe()
        try status.run()
        let report = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        status.waitUntilExit()
        XCTAssertFalse(report.contains("\"failed\":"), "no job recorded as failed for a service outage: \(report)")
    }
}
