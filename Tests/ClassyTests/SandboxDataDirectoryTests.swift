import ClassySandbox
import Foundation
import XCTest
@testable import ClassyAPI

/// What the sandbox leaves in its data directory: private files, no bearer
/// tokens, and an identity (port, store key, apps) that outlives a restart.
final class SandboxDataDirectoryTests: XCTestCase {
    private var directory: URL!

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-data-\(UUID().uuidString)")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
    }

    private func start() async throws -> RunningSandbox {
        var configuration = SandboxConfiguration()
        configuration.dataDirectory = directory
        return try await ClassySandbox.start(configuration)
    }

    private func mode(_ url: URL) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        return try XCTUnwrap(attributes[.posixPermissions] as? Int, url.path) & 0o777
    }

    /// Every file below the data directory, with its path.
    private func files() throws -> [URL] {
        let enumerator = try XCTUnwrap(FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey]))
        return try enumerator.compactMap { $0 as? URL }.filter { try $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true }
    }

    func testFilesArePrivateAndNoTokenIsWrittenDown() async throws {
        // Where the caller created the directory with the usual 0755, it is narrowed.
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        var tokens: [String] = []
        for run in 0 ..< 2 {
            let sandbox = try await start()
            let client = makeClient(sandbox)
            tokens.append(try await client.accessToken().value)
            let uploaded = try await client.uploadAsset(try TestImages.png(width: 8, height: 8), contentType: .png)
            _ = try await client.createECard(campaignID: 1001, ECardInput(imageURL: "https://example.org/\(run).png"))
            XCTAssertEqual(uploaded.asset.state, "uploaded")
            await sandbox.stop()
        }
        XCTAssertEqual(try mode(directory), 0o700)
        XCTAssertEqual(try mode(directory.appendingPathComponent("objects")), 0o700)
        let written = try files()
        let names = Set(written.map(\.lastPathComponent))
        for expected in ["state.json", "changes.jsonl", "apps.json", "identity.json"] {
            XCTAssertTrue(names.contains(expected), "\(expected) in \(names.sorted())")
        }
        XCTAssertEqual(written.filter { $0.deletingLastPathComponent().lastPathComponent == "objects" }.count, 2, "two objects stored")
        for file in written {
            XCTAssertEqual(try mode(file), 0o600, file.lastPathComponent)
            let contents = try Data(contentsOf: file)
            for token in tokens {
                XCTAssertNil(contents.range(of: Data(token.utf8)), "a bearer token in \(file.lastPathComponent)")
            }
        }
    }

    /// A restarted sandbox no longer knows old tokens; the client fetches a new one.
    func testAClientOutlivesARestartOnTheSameDirectory() async throws {
        let first = try await start()
        let client = makeClient(first)
        _ = try await client.campaign(1001)
        await first.stop()
        let second = try await start()
        defer { Task { await second.stop() } }
        XCTAssertEqual(second.baseURL, first.baseURL)
        let fetchesBefore = await client.tokenFetchCount
        _ = try await client.campaign(1001)
        let fetchesAfter = await client.tokenFetchCount
        XCTAssertEqual(fetchesAfter, fetchesBefore + 1, "the old token was refused and replaced")
        await second.stop()
    }

    func testAPresignedURLFromThePreviousRunStillWorks() async throws {
        let first = try await start()
        let pending = try await makeClient(first).createAssetURL(contentType: .png)
        await first.stop()

        let second = try await start()
        XCTAssertEqual(second.baseURL, first.baseURL, "same port on the same data directory")
        XCTAssertEqual(second.clientID, first.clientID)
        XCTAssertEqual(second.clientSecret, first.clientSecret)
        let png = try TestImages.png(width: 10, height: 10)
        let put = try await raw(.PUT, pending.presignedPutURL, headers: [("Content-Type", "image/png"), ("Content-Length", String(png.count))], body: png)
        XCTAssertEqual(put.status, 200, put.body)
        let stored = await second.objectBytes(assetID: pending.id)
        XCTAssertEqual(stored, png)
        let asset = try await makeClient(second).markAssetUploaded(pending.id)
        XCTAssertEqual(asset.state, "uploaded")
        await second.stop()
    }

    /// The store's key is the directory's own, not the public default, and stays.
    func testTheStoreKeyIsPerDirectoryAndKept() async throws {
        let first = try await start()
        let url = try await makeClient(first).createAssetURL(contentType: .png).presignedPutURL
        await first.stop()
        XCTAssertFalse(url.contains(SandboxConfiguration.defaultStoreCredentials.accessKeyID), "a key of its own")
        let identity = try String(contentsOf: directory.appendingPathComponent("identity.json"), encoding: .utf8)
        let second = try await start()
        let again = try await makeClient(second).createAssetURL(contentType: .png).presignedPutURL
        await second.stop()
        func credential(_ u: String) -> Substring? { u.split(separator: "&").first { $0.contains("X-Amz-Credential=") }?.split(separator: "%2F").first }
        XCTAssertNotNil(credential(url))
        XCTAssertEqual(credential(url), credential(again))
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("identity.json"), encoding: .utf8), identity)
    }

    /// A second sandbox on a directory in use takes another port and leaves
    /// the recorded one to the first; a busy remembered port is replaced.
    func testASecondSandboxOnTheDirectoryDoesNotTakeOverItsIdentity() async throws {
        let owner = try await start()
        let guest = try await start()
        XCTAssertNotEqual(guest.port, owner.port)
        await guest.stop()
        await owner.stop()
        let next = try await start()
        XCTAssertEqual(next.port, owner.port, "the owner's port, not the guest's")
        await next.stop()
    }

    func testABusyRememberedPortIsReplacedAndRecorded() async throws {
        let first = try await start()
        await first.stop()
        // Something else holds the remembered port now: a sandbox without a data directory.
        var squatter = SandboxConfiguration()
        squatter.port = first.port
        let other = try await ClassySandbox.start(squatter)
        let second = try await start()
        XCTAssertNotEqual(second.port, first.port)
        await second.stop()
        await other.stop()
        let third = try await start()
        XCTAssertEqual(third.port, second.port, "the port it got was recorded")
        await third.stop()
    }
}
