import AssetProcessing
import Foundation

/// Where a batch's source files are kept so a worker on any machine can read
/// them: content-addressed by SHA-256, so storing the same bytes twice stores
/// them once, and a key names exactly one content.
///
/// `InMemorySourceStore` here (tests), `PostgresSourceStore` in the queue's
/// database (AssetQueuePostgres); an S3 bucket can implement the same port.
public protocol SourceStore: Sendable {
    /// Stores `bytes` (idempotent) and returns their SHA-256, lowercase hex: the key for `get`.
    func put(_ bytes: Data) async throws(SourceStoreError) -> String
    /// The bytes stored under `sha256`. `.missing` when none are; `.corrupt`
    /// when what is stored does not hash to the key (never handed out).
    func get(_ sha256: String) async throws(SourceStoreError) -> Data
}

/// Why a source could not be stored or read.
public struct SourceStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// No source is stored under the key.
        case missing
        /// The stored bytes do not hash to their key (damaged storage): refused.
        case corrupt
        /// The key is not 64 lowercase hex digits.
        case invalidKey
        /// The storage could not be reached, read or written (an outage: worth waiting for).
        case storage
        /// The store refused the request, or cannot be used from here (credentials,
        /// configuration, a size limit): waiting does not help.
        case refused
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "source store: \(message)" }
}

/// The checks every `SourceStore` makes, in one place.
public enum SourceKey {
    /// SHA-256 of `bytes`, lowercase hex.
    public static func of(_ bytes: Data) -> String { LocalProcessor.sha256(Array(bytes)) }

    /// Refuses a key that cannot be a SHA-256 (before any storage is asked).
    public static func validate(_ key: String) throws(SourceStoreError) {
        guard key.utf8.count == 64, key.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw SourceStoreError(.invalidKey, "'\(key.prefix(80))' is not a SHA-256 (64 lowercase hex digits)")
        }
    }

    /// The bytes read for `key`, if they hash to it.
    public static func verified(_ bytes: Data, key: String) throws(SourceStoreError) -> Data {
        let actual = of(bytes)
        guard actual == key else {
            throw SourceStoreError(.corrupt, "the source stored under \(key) hashes to \(actual) (\(bytes.count) bytes): the store is damaged")
        }
        return bytes
    }
}

/// A `SourceStore` in memory, for tests and single-process use.
public actor InMemorySourceStore: SourceStore {
    private var blobs: [String: Data] = [:]

    public init() {}

    public func put(_ bytes: Data) async throws(SourceStoreError) -> String {
        let key = SourceKey.of(bytes)
        if blobs[key] == nil { blobs[key] = bytes }
        return key
    }

    public func get(_ sha256: String) async throws(SourceStoreError) -> Data {
        try SourceKey.validate(sha256)
        guard let bytes = blobs[sha256] else { throw SourceStoreError(.missing, "no source \(sha256) in the store") }
        return try SourceKey.verified(bytes, key: sha256)
    }

    /// Replaces what is stored under `key`, as a damaged disk would (tests of `.corrupt`).
    public func overwriteForTesting(_ key: String, with bytes: Data) {
        blobs[key] = bytes
    }

    /// How many distinct sources are stored.
    public var count: Int { blobs.count }
}
