import Foundation
import XCTest

/// Locates the shared third-party test corpus (`../shared/corpus` beside the
/// project) and the project's own `TestImages/`.
///
/// Outside CI a missing corpus skips the test that needs it; in CI
/// (`CI=true`) it is a failure, because a skipped test must never count as a pass.
enum Corpus {
    /// The project root (three levels above this file).
    static let projectRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var root: URL {
        if let override = ProcessInfo.processInfo.environment["ASSET_WORKER_CORPUS"] {
            return URL(fileURLWithPath: override)
        }
        return projectRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus")
    }

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The corpus folder, or a skip (failure in CI) when it is not there.
    static func require() throws -> URL {
        let manifest = root.appendingPathComponent("MANIFEST.tsv")
        if FileManager.default.fileExists(atPath: manifest.path) { return root }
        if isCI { XCTFail("the shared corpus is missing at \(root.path)"); throw XCTSkip("corpus missing") }
        throw XCTSkip("the shared corpus is not at \(root.path)")
    }

    /// The bytes of a corpus file, by path relative to the corpus root.
    static func bytes(_ relativePath: String) throws -> [UInt8] {
        let url = try require().appendingPathComponent(relativePath)
        return [UInt8](try Data(contentsOf: url))
    }

    /// The bytes of a file in the project's `TestImages/`.
    static func testImage(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: projectRoot.appendingPathComponent("TestImages").appendingPathComponent(name)))
    }

    /// The bytes of one of the benchmark images in `../shared/bench/images/`
    /// (a skip outside CI when they are not there, a failure in CI).
    static func benchImage(_ name: String) throws -> [UInt8] {
        let url = projectRoot.deletingLastPathComponent().appendingPathComponent("shared/bench/images").appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            if isCI { XCTFail("the benchmark image is missing at \(url.path)"); throw XCTSkip("bench image missing") }
            throw XCTSkip("the benchmark images are not at \(url.path)")
        }
        return [UInt8](try Data(contentsOf: url))
    }

    /// One row of `MANIFEST.tsv`.
    struct Entry {
        var path: String
        var format: String
        var width: Int?
        var height: Int?
        var valid: Bool
        var what: String
    }

    static func manifest() throws -> [Entry] {
        let text = try String(contentsOf: require().appendingPathComponent("MANIFEST.tsv"), encoding: .utf8)
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 6 else { return nil }
            return Entry(path: f[0], format: f[1], width: Int(f[2]), height: Int(f[3]), valid: f[4] == "valid", what: f[5])
        }
    }
}
