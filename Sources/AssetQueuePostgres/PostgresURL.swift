import Foundation

/// A PostgreSQL address as operators write it:
/// `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`
/// (`postgresql://` too). User, password and database may be percent-encoded.
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    public enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    /// Without `sslmode`: `disable` on loopback (a local test server), `prefer` elsewhere.
    public var tls: TLSMode

    public init(user: String, password: String? = nil, host: String, port: Int = 5432, database: String, tls: TLSMode? = nil) {
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database
        self.tls = tls ?? (Self.isLoopback(host) ? .disable : .prefer)
    }

    /// Parses `text`; a malformed URL gets a `PostgresURLError` saying what is wrong (never with the password).
    public init(_ text: String) throws(PostgresURLError) {
        func fail(_ why: String) -> PostgresURLError { PostgresURLError(url: Self.redact(text), reason: why) }
        let schemes = ["postgres://", "postgresql://"]
        guard let scheme = schemes.first(where: { text.hasPrefix($0) }) else {
            throw fail("it must start with postgres:// (form: postgres://user[:password]@host[:port]/database)")
        }
        var rest = Substring(text.dropFirst(scheme.count))
        var query: Substring?
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let slash = rest.firstIndex(of: "/") else { throw fail("it names no database (…/database at the end)") }
        let authority = rest[..<slash]
        let path = rest[rest.index(after: slash)...]
        guard let at = authority.lastIndex(of: "@") else { throw fail("it names no user (user@host)") }
        let userInfo = authority[..<at]
        let hostPort = authority[authority.index(after: at)...]

        var user = Substring(userInfo), password: Substring?
        if let colon = userInfo.firstIndex(of: ":") {
            user = userInfo[..<colon]
            password = userInfo[userInfo.index(after: colon)...]
        }
        guard let decodedUser = user.removingPercentEncoding, !decodedUser.isEmpty else { throw fail("the user is empty or badly percent-encoded") }
        let decodedPassword = try password.map { (p: Substring) throws(PostgresURLError) -> String in
            guard let d = p.removingPercentEncoding else { throw fail("the password is badly percent-encoded") }
            return d
        }

        var host = hostPort, portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw fail("an IPv6 host needs its closing ]") }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected text after the IPv6 host") }
                portText = after.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = hostPort[..<colon]
            portText = hostPort[hostPort.index(after: colon)...]
        }
        guard !host.isEmpty else { throw fail("the host is empty") }
        guard host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" || $0 == "_" }) else {
            throw fail("the host '\(host)' has characters a host name cannot have")
        }
        var port = 5432
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else { throw fail("the port '\(portText)' is not a number from 1 to 65535") }
            port = value
        }
        guard let database = path.removingPercentEncoding, !database.isEmpty, !database.contains("/") else {
            throw fail("the database name is empty or not one path segment")
        }

        var tls: TLSMode?
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[0] == "sslmode" else { throw fail("unknown parameter '\(pair)' (only sslmode is understood)") }
            guard let mode = TLSMode(rawValue: parts[1]) else { throw fail("sslmode must be disable, prefer or require, not '\(parts[1])'") }
            tls = mode
        }
        self.init(user: decodedUser, password: decodedPassword, host: String(host), port: port, database: database, tls: tls)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The URL without its password, for messages and logs.
    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)\(password == nil ? "" : ":***")@\(h):\(port)/\(database)"
    }

    /// The same server and credentials, another database (tests create one per check; admin work uses `postgres`).
    public func with(database: String) -> PostgresURL {
        var copy = self
        copy.database = database
        return copy
    }

    /// `text` with whatever stands between `://user:` and `@` replaced, for error messages.
    static func redact(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://"), let at = text[schemeEnd.upperBound...].lastIndex(of: "@") else { return text }
        let userInfo = text[schemeEnd.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }
}

/// A queue URL that cannot be used, and why (an operator's mistake: exit 64).
public struct PostgresURLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL as given, password hidden.
    public var url: String
    public var reason: String

    public var description: String { "invalid PostgreSQL URL \(url): \(reason)" }
}
