/// Every failure of the client. It names the request (method and path, never
/// the query of a pre-signed URL, never a token or secret), the HTTP status when
/// there was one, and the API's own message.
public struct ClassyAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let raw: String
        public var description: String { raw }
        public static let badRequest = Code(raw: "badRequest")                 // 400
        public static let unauthorized = Code(raw: "unauthorized")             // 401 after one refresh
        public static let forbidden = Code(raw: "forbidden")                   // 403
        public static let notFound = Code(raw: "notFound")                     // 404
        public static let methodNotAllowed = Code(raw: "methodNotAllowed")     // 405
        public static let serverError = Code(raw: "serverError")               // 5xx after the retries
        public static let rateLimited = Code(raw: "rateLimited")               // 503 after the retries
        public static let unexpectedStatus = Code(raw: "unexpectedStatus")
        public static let transport = Code(raw: "transport")                   // connection failures after the retries
        public static let invalidResponse = Code(raw: "invalidResponse")       // undecodable body
        public static let authentication = Code(raw: "authentication")         // token endpoint refused the credentials
        public static let configuration = Code(raw: "configuration")
        /// The request could not be built from what the caller gave (a non-finite
        /// rotation angle); nothing was sent.
        public static let invalidRequest = Code(raw: "invalidRequest")
        /// The object store refused the upload (signature, checksum, content type).
        public static let uploadRejected = Code(raw: "uploadRejected")
        /// The store's ETag or the asset record disagrees with the bytes sent.
        public static let verificationFailed = Code(raw: "verificationFailed")
        /// Pre-signed URLs kept expiring before they could be used.
        public static let urlExpired = Code(raw: "urlExpired")
        /// A request that is not safe to repeat (a `POST` that creates something) was
        /// sent and no answer came back: the API may or may not have carried it out.
        /// The caller looks the effect up before calling again (see `BatchRunner`).
        public static let ambiguous = Code(raw: "ambiguous")
    }

    public var code: Code
    /// HTTP status, when a response came back.
    public var status: Int?
    /// The API's (or store's) message, or a description of what went wrong.
    public var message: String
    /// `PUT /2.0/assets/42` or `PUT <store>/bucket/key` (query removed).
    public var request: String
    /// For a failed upload: every pending asset it created and left behind
    /// (expired URLs and the one in use when it failed), so the caller can record them.
    public var pendingAssetIDs: [Int] = []
    /// Pending assets the API may have created although no answer said so (a
    /// `POST /2.0/assets/url` whose answer was lost): they cannot be looked up,
    /// only counted.
    public var possiblyOrphanedPendingAssets = 0

    public init(_ code: Code, status: Int? = nil, message: String, request: String) {
        self.code = code
        self.status = status
        self.message = message
        self.request = request
    }

    /// The failure is the token endpoint's: it concerns every request, not one.
    public var isTokenFailure: Bool { request == TokenFetcher.label }

    public var description: String {
        "ClassyAPIError.\(code)(\(status.map(String.init) ?? "-")) \(request): \(message)"
    }

    static func forStatus(_ status: Int, message: String, request: String) -> ClassyAPIError {
        let code: Code = switch status {
        case 400: .badRequest
        case 401: .unauthorized
        case 403: .forbidden
        case 404: .notFound
        case 405: .methodNotAllowed
        case 503: .rateLimited
        case 500...599: .serverError
        default: .unexpectedStatus
        }
        return ClassyAPIError(code, status: status, message: message, request: request)
    }
}

/// Strips the query (which holds the signature and credential) from a URL.
public func redactedURL(_ url: String) -> String {
    guard let q = url.firstIndex(of: "?") else { return url }
    return String(url[..<q]) + "?<redacted>"
}
