import Crypto

/// Why a pre-signed request was refused, with the S3 error code and status an
/// S3 server answers with. Messages never contain the signature or the secret.
public struct PresignVerificationError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let raw: String
        public var description: String { raw }
        /// A required `X-Amz-*` parameter is missing or malformed.
        public static let malformedQuery = Code(raw: "malformedQuery")
        /// The access key in `X-Amz-Credential` is unknown.
        public static let unknownAccessKey = Code(raw: "unknownAccessKey")
        /// `X-Amz-Date + X-Amz-Expires` is in the past.
        public static let expired = Code(raw: "expired")
        /// A header listed in `X-Amz-SignedHeaders` is absent.
        public static let missingSignedHeader = Code(raw: "missingSignedHeader")
        /// The recomputed signature differs.
        public static let signatureMismatch = Code(raw: "signatureMismatch")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The `<Code>` S3 puts in its XML error body.
    public var s3Code: String {
        switch code {
        case .malformedQuery: "AuthorizationQueryParametersError"
        case .unknownAccessKey: "InvalidAccessKeyId"
        case .expired: "AccessDenied"
        default: "SignatureDoesNotMatch"
        }
    }

    /// The HTTP status S3 answers with.
    public var httpStatus: Int { code == .malformedQuery ? 400 : 403 }

    public var description: String { "\(s3Code): \(message)" }
}

/// A request as a server received it, before any trust is given to it.
public struct ReceivedRequest: Sendable {
    public var method: String
    /// The path exactly as it came on the request line (still percent-encoded).
    public var rawPath: String
    /// The query string without `?`, still encoded.
    public var rawQuery: String
    /// Header names lowercased.
    public var headers: [String: String]

    public init(method: String, rawPath: String, rawQuery: String, headers: [String: String]) {
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        var lower: [String: String] = [:]
        for (k, v) in headers { lower[k.lowercased()] = v }
        self.headers = lower
    }
}

/// What a valid pre-signed request was allowed to do.
public struct VerifiedPresign: Sendable, Hashable {
    public var accessKeyID: String
    public var signedHeaders: [String]
    public var expiresAt: UTCTime
}

/// Checks query-string SigV4 signatures the way S3 does: format, expiry, then
/// the signature over the request as received.
public struct PresignVerifier: Sendable {
    /// Access key ID → secret.
    public var keys: [String: String]
    public var region: String
    public var service: String
    /// S3 refuses `X-Amz-Expires` above seven days.
    public var maxExpires: Int = 604_800

    public init(keys: [String: String], region: String = "us-east-1", service: String = "s3") {
        self.keys = keys
        self.region = region
        self.service = service
    }

    public func verify(_ request: ReceivedRequest, now: UTCTime) throws(PresignVerificationError) -> VerifiedPresign {
        let query = SigV4.parseQuery(request.rawQuery)
        func param(_ name: String) throws(PresignVerificationError) -> String {
            guard let v = query[name], !v.isEmpty else {
                throw PresignVerificationError(.malformedQuery, "Query-string authentication requires the \(name) parameter")
            }
            return v
        }
        guard try param("X-Amz-Algorithm") == SigV4.algorithm else {
            throw PresignVerificationError(.malformedQuery, "X-Amz-Algorithm only supports \"\(SigV4.algorithm)\"")
        }
        let credential = try param("X-Amz-Credential")
        let amzDate = try param("X-Amz-Date")
        let expiresText = try param("X-Amz-Expires")
        let signedHeadersText = try param("X-Amz-SignedHeaders")
        let signature = try param("X-Amz-Signature")

        let parts = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, parts[4] == "aws4_request" else {
            throw PresignVerificationError(.malformedQuery, "Error parsing the X-Amz-Credential parameter")
        }
        guard let date = UTCTime(amzDate: amzDate), parts[1] == date.amzDay else {
            throw PresignVerificationError(.malformedQuery, "X-Amz-Date must be in the ISO8601 Long Format and match the credential scope")
        }
        guard parts[2] == region, parts[3] == service else {
            throw PresignVerificationError(.malformedQuery, "Error parsing the X-Amz-Credential parameter; the region or service is wrong")
        }
        guard let expires = Int(expiresText), expires >= 0, expires <= maxExpires else {
            throw PresignVerificationError(.malformedQuery, "X-Amz-Expires must be between 0 and \(maxExpires) seconds")
        }
        guard let secret = keys[parts[0]] else {
            throw PresignVerificationError(.unknownAccessKey, "The AWS Access Key Id you provided does not exist in our records.")
        }
        let expiresAt = UTCTime(epochSeconds: date.epochSeconds + Int64(expires))
        if now.epochSeconds > expiresAt.epochSeconds {
            throw PresignVerificationError(.expired, "Request has expired")
        }
        let signedHeaders = signedHeadersText.split(separator: ";").map(String.init)
        guard signedHeaders.contains("host"), signedHeaders == signedHeaders.sorted() else {
            throw PresignVerificationError(.malformedQuery, "X-Amz-SignedHeaders must be sorted and include host")
        }
        for name in signedHeaders where request.headers[name] == nil {
            throw PresignVerificationError(.missingSignedHeader,
                "There were headers present in the request which were not signed or a signed header is missing: \(name)")
        }
        var unsigned = query
        unsigned["X-Amz-Signature"] = nil
        guard let decodedPath = SigV4.percentDecode(request.rawPath) else {
            throw PresignVerificationError(.malformedQuery, "The request path is not valid percent-encoding")
        }
        let canonical = SigV4.canonicalRequest(
            method: request.method, encodedPath: SigV4.encodePath(decodedPath),
            canonicalQuery: SigV4.canonicalQueryString(unsigned), headers: request.headers,
            signedHeaders: signedHeadersText)
        let scope = parts[1...4].joined(separator: "/")
        let sts = SigV4.stringToSign(date: date, scope: scope, canonicalRequest: canonical)
        let key = SigV4.signingKey(secret: secret, day: parts[1], region: region, service: service)
        let expected = SigV4.hex(HMAC<SHA256>.authenticationCode(for: Array(sts.utf8), using: key))
        guard constantTimeEqual(expected, signature.lowercased()) else {
            throw PresignVerificationError(.signatureMismatch,
                "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
        }
        return VerifiedPresign(accessKeyID: parts[0], signedHeaders: signedHeaders, expiresAt: expiresAt)
    }
}

/// Comparison whose time does not depend on where the strings first differ.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var diff: UInt8 = 0
    for i in x.indices { diff |= x[i] ^ y[i] }
    return diff == 0
}
