import Foundation

/// The S3 service to talk to: `http(s)://HOST[:PORT]`, nothing after it.
///
/// Requests are path-style (`ENDPOINT/BUCKET/KEY`), which AWS, MinIO and moto
/// all accept, so the endpoint is only a scheme and an authority; a path,
/// query or user info would be silently dropped or signed wrongly, so they are refused.
public struct S3Endpoint: Sendable, Hashable, CustomStringConvertible {
    /// `http` or `https`.
    public let scheme: String
    /// The `Host:` header value, `:port` included when it is not the scheme's default
    /// (that is what the signature covers, so it must be exactly what is sent).
    public let hostHeader: String

    public init(url: String) throws(S3ConfigurationError) {
        func refuse(_ why: String) -> S3ConfigurationError {
            S3ConfigurationError(.invalidEndpoint, "endpoint '\(url.prefix(200))' \(why)")
        }
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased() else {
            throw refuse("is not a URL")
        }
        guard scheme == "http" || scheme == "https" else { throw refuse("must be http:// or https://") }
        guard let host = parts.host, !host.isEmpty else { throw refuse("has no host") }
        guard parts.user == nil, parts.password == nil else { throw refuse("must not carry user info") }
        guard parts.path.isEmpty || parts.path == "/" else {
            throw refuse("must not have a path (requests are path-style: ENDPOINT/BUCKET/KEY)")
        }
        guard parts.query == nil, parts.fragment == nil else { throw refuse("must not have a query or fragment") }
        let defaultPort = scheme == "https" ? 443 : 80
        // URLComponents gives an IPv6 literal without its brackets on some platforms.
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        if let port = parts.port, port != defaultPort {
            guard (1...65535).contains(port) else { throw refuse("has an invalid port") }
            hostHeader = "\(bracketed):\(port)"
        } else {
            hostHeader = bracketed
        }
        self.scheme = scheme
    }

    /// `scheme://host[:port]`, no trailing slash.
    public var description: String { "\(scheme)://\(hostHeader)" }
}
