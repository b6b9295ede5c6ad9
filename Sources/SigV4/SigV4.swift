import Crypto

/// An access key pair. `description` never shows the secret, so a key pair can
/// be logged or put into an error by accident without leaking it.
public struct SigV4Credentials: Sendable, Hashable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String

    public init(accessKeyID: String, secretAccessKey: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
    }

    public var description: String { "SigV4Credentials(\(accessKeyID), secret: <redacted>)" }
}

/// What a pre-signed URL grants: one method on one path of one host, with the
/// listed headers fixed to the listed values, for `expires` seconds from `date`.
public struct PresignInput: Sendable, Hashable {
    public var method: String
    /// Host as the client will send it in `Host:` (with `:port` when not the default).
    public var host: String
    /// The path, not yet percent-encoded (`/bucket/key name.png`).
    public var path: String
    /// Extra query parameters to sign along (not yet encoded).
    public var query: [String: String]
    /// Headers the request must carry with exactly these values; `host` is added.
    public var headers: [String: String]
    public var region: String
    public var service: String
    public var date: UTCTime
    public var expires: Int

    public init(method: String, host: String, path: String, query: [String: String] = [:],
                headers: [String: String] = [:], region: String = "us-east-1", service: String = "s3",
                date: UTCTime, expires: Int) {
        self.method = method
        self.host = host
        self.path = path
        self.query = query
        self.headers = headers
        self.region = region
        self.service = service
        self.date = date
        self.expires = expires
    }
}

/// A pre-signed URL in its parts, so tests can compare every step.
public struct PresignedRequest: Sendable, Hashable {
    public var canonicalRequest: String
    public var stringToSign: String
    public var signature: String
    /// The full encoded query string, `X-Amz-Signature` last.
    public var queryString: String
    /// Encoded path + `?` + query.
    public var pathAndQuery: String
}

/// AWS Signature Version 4, query-string ("pre-signed URL") flavour, as S3 uses it.
public enum SigV4 {
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// S3 does not hash the body of a pre-signed request.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// Signs `input` and returns the URL parts.
    public static func presign(_ input: PresignInput, credentials: SigV4Credentials) -> PresignedRequest {
        var headers: [String: String] = [:]
        for (k, v) in input.headers { headers[k.lowercased()] = v }
        headers["host"] = input.host
        let signedHeaders = headers.keys.sorted().joined(separator: ";")
        let scope = "\(input.date.amzDay)/\(input.region)/\(input.service)/aws4_request"
        var query = input.query
        query["X-Amz-Algorithm"] = algorithm
        query["X-Amz-Credential"] = "\(credentials.accessKeyID)/\(scope)"
        query["X-Amz-Date"] = input.date.amzDate
        query["X-Amz-Expires"] = String(input.expires)
        query["X-Amz-SignedHeaders"] = signedHeaders
        let canonicalQuery = canonicalQueryString(query)
        let canonical = canonicalRequest(method: input.method, encodedPath: encodePath(input.path),
                                         canonicalQuery: canonicalQuery, headers: headers,
                                         signedHeaders: signedHeaders)
        let sts = stringToSign(date: input.date, scope: scope, canonicalRequest: canonical)
        let key = signingKey(secret: credentials.secretAccessKey, day: input.date.amzDay,
                             region: input.region, service: input.service)
        let signature = hex(HMAC<SHA256>.authenticationCode(for: Array(sts.utf8), using: key))
        let qs = canonicalQuery + "&X-Amz-Signature=" + signature
        return PresignedRequest(canonicalRequest: canonical, stringToSign: sts, signature: signature,
                                queryString: qs, pathAndQuery: encodePath(input.path) + "?" + qs)
    }

    public static func canonicalRequest(method: String, encodedPath: String, canonicalQuery: String,
                                        headers: [String: String], signedHeaders: String) -> String {
        let names = signedHeaders.split(separator: ";").map(String.init)
        let canonicalHeaders = names.map { "\($0):\(trimHeaderValue(headers[$0] ?? ""))\n" }.joined()
        return [method, encodedPath, canonicalQuery, canonicalHeaders, signedHeaders, unsignedPayload]
            .joined(separator: "\n")
    }

    public static func stringToSign(date: UTCTime, scope: String, canonicalRequest: String) -> String {
        let hash = hex(SHA256.hash(data: Array(canonicalRequest.utf8)))
        return [algorithm, date.amzDate, scope, hash].joined(separator: "\n")
    }

    /// The HMAC chain: secret → date → region → service → "aws4_request".
    public static func signingKey(secret: String, day: String, region: String, service: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array(("AWS4" + secret).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    /// Name/value pairs encoded and sorted by encoded name, as SigV4 requires.
    public static func canonicalQueryString(_ query: [String: String]) -> String {
        query.map { (uriEncode($0.key, encodeSlash: true), uriEncode($0.value, encodeSlash: true)) }
            .sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// S3 encodes the path once, keeping `/`.
    public static func encodePath(_ path: String) -> String {
        let p = path.hasPrefix("/") ? path : "/" + path
        return uriEncode(p, encodeSlash: false)
    }

    /// RFC 3986 encoding of everything but the unreserved set, uppercase hex.
    public static func uriEncode(_ s: String, encodeSlash: Bool) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            case UInt8(ascii: "/") where !encodeSlash:
                out.append("/")
            default:
                out.append("%")
                out.append(hexDigits[Int(b >> 4)])
                out.append(hexDigits[Int(b & 0xF)])
            }
        }
        return out
    }

    /// Decodes `%XX` sequences (and `+` when `plusIsSpace`, as in form query strings).
    public static func percentDecode(_ s: String, plusIsSpace: Bool = false) -> String? {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%") {
                guard it.count >= 2, let hi = hexValue(it.removeFirst()), let lo = hexValue(it.removeFirst()) else { return nil }
                bytes.append(hi << 4 | lo)
            } else if b == UInt8(ascii: "+") && plusIsSpace {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Splits a raw query string into decoded pairs (later duplicates win).
    public static func parseQuery(_ raw: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let k = percentDecode(String(kv[0])) else { continue }
            out[k] = kv.count > 1 ? percentDecode(String(kv[1])) ?? "" : ""
        }
        return out
    }

    static func trimHeaderValue(_ v: String) -> String {
        // Canonical header values: outer whitespace trimmed, inner runs collapsed.
        v.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    static let hexDigits: [Character] = Array("0123456789ABCDEF")

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - 48
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - 87
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - 55
        default: return nil
        }
    }

    public static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef")
        var s = ""
        for b in bytes { s.append(digits[Int(b >> 4)]); s.append(digits[Int(b & 0xF)]) }
        return s
    }

    static func hex<M: MessageAuthenticationCode>(_ mac: M) -> String { mac.withUnsafeBytes { hex($0) } }
    static func hex<D: Digest>(_ d: D) -> String { d.withUnsafeBytes { hex($0) } }
}
