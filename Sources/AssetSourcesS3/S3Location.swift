/// Why an S3 source store could not be set up: a location, endpoint, region or
/// credentials that cannot work. Raised before any request is made, so a typo
/// in a URL or a missing variable fails at start-up, not in the middle of a batch.
public struct S3ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The `s3://BUCKET[/PREFIX]` location is malformed.
        case invalidLocation
        /// The endpoint is not an `http(s)://HOST[:PORT]` URL.
        case invalidEndpoint
        /// The region is empty or not a region name.
        case invalidRegion
        /// An access key variable is unset or empty (the message names it).
        case missingCredentials
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "S3 source store: \(message)" }
}

/// Where in S3 the sources live: a bucket and an optional key prefix, written
/// `s3://BUCKET[/PREFIX]`. Sources are stored at `PREFIX/sources/<sha256>`.
///
/// Both parts are checked strictly (S3's bucket naming rules; a prefix of
/// unreserved characters and `/`), because they end up in a request path that
/// is signed as written: a character the server normalises differently from us
/// would make every request fail with a signature mismatch far from the cause.
public struct S3Location: Sendable, Hashable, CustomStringConvertible {
    public let bucket: String
    /// Without leading or trailing `/`; empty for none.
    public let prefix: String

    public init(bucket: String, prefix: String = "") throws(S3ConfigurationError) {
        try Self.checkBucket(bucket)
        var p = Substring(prefix)
        while p.hasPrefix("/") { p = p.dropFirst() }
        while p.hasSuffix("/") { p = p.dropLast() }
        try Self.checkPrefix(String(p), original: prefix)
        self.bucket = bucket
        self.prefix = String(p)
    }

    /// Parses `s3://BUCKET[/PREFIX]` (a trailing `/` is allowed).
    public init(url: String) throws(S3ConfigurationError) {
        let scheme = "s3://"
        guard url.utf8.count > scheme.utf8.count, url.lowercased().hasPrefix(scheme) else {
            throw S3ConfigurationError(.invalidLocation, "'\(url.prefix(200))' is not an s3://BUCKET[/PREFIX] URL")
        }
        let rest = url.dropFirst(scheme.count)
        let bucket: Substring
        let prefix: Substring
        if let slash = rest.firstIndex(of: "/") {
            bucket = rest[..<slash]
            prefix = rest[rest.index(after: slash)...]
        } else {
            bucket = rest
            prefix = ""
        }
        try self.init(bucket: String(bucket), prefix: String(prefix))
    }

    /// The object key of a source: `PREFIX/sources/<sha256>`.
    public func objectKey(for sha256: String) -> String {
        prefix.isEmpty ? "sources/\(sha256)" : "\(prefix)/sources/\(sha256)"
    }

    /// Where all sources are (for listings): `PREFIX/sources/`.
    public var sourcesPrefix: String { prefix.isEmpty ? "sources/" : "\(prefix)/sources/" }

    public var description: String { prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)" }

    /// S3's rules for new buckets: 3-63 of `a-z 0-9 . -`, starting and ending
    /// with a letter or digit, no `..`. Path-style requests put the name in the
    /// path, so a `/`, `?` or `%` here would change what is asked for.
    static func checkBucket(_ b: String) throws(S3ConfigurationError) {
        func refuse(_ why: String) -> S3ConfigurationError {
            S3ConfigurationError(.invalidLocation, "bucket '\(b.prefix(100))' \(why)")
        }
        if b.isEmpty { throw S3ConfigurationError(.invalidLocation, "the bucket name is empty (s3://BUCKET[/PREFIX])") }
        guard (3...63).contains(b.utf8.count) else { throw refuse("must be 3 to 63 characters long") }
        let bytes = Array(b.utf8)
        let allowed = bytes.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
        guard allowed else { throw refuse("may hold only lowercase letters, digits, '.' and '-'") }
        guard isLowerAlnum(bytes[0]), isLowerAlnum(bytes[bytes.count - 1]) else {
            throw refuse("must start and end with a lowercase letter or digit")
        }
        guard !b.contains("..") else { throw refuse("must not contain '..'") }
    }

    /// Unreserved characters and `/` only, no empty, `.` or `..` segments:
    /// those are the ones every S3 implementation and proxy leaves alone.
    static func checkPrefix(_ p: String, original: String) throws(S3ConfigurationError) {
        if p.isEmpty { return }
        func refuse(_ why: String) -> S3ConfigurationError {
            S3ConfigurationError(.invalidLocation, "prefix '\(original.prefix(200))' \(why)")
        }
        guard p.utf8.count <= 512 else { throw refuse("is longer than 512 bytes") }
        let allowed = p.utf8.allSatisfy {
            isLowerAlnum($0) || (65...90).contains($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
                || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/")
        }
        guard allowed else { throw refuse("may hold only letters, digits, '-', '_', '.', '~' and '/'") }
        for segment in p.split(separator: "/", omittingEmptySubsequences: false) {
            guard !segment.isEmpty, segment != ".", segment != ".." else {
                throw refuse("has an empty, '.' or '..' segment")
            }
        }
    }

    private static func isLowerAlnum(_ b: UInt8) -> Bool { (97...122).contains(b) || (48...57).contains(b) }
}
