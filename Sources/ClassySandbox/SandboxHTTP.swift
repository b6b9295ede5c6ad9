import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Request context that keeps the channel, so a fault can cut a connection mid-body.
struct SandboxContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// An answer that is not a 2xx, carried by `throw` out of any handler.
struct SandboxHTTPError: Error {
    var status: Int
    var message: String
    var headers: [(String, String)] = []
}

enum Reply {
    static func json(_ value: JSON, status: Int = 200, headers: [(String, String)] = []) -> Response {
        make(status: status, body: value.serialized, contentType: "application/json", headers: headers)
    }

    /// Classy-style error body.
    static func error(_ status: Int, _ message: String, headers: [(String, String)] = []) -> Response {
        json(.object([("error", .string(message))]), status: status, headers: headers)
    }

    /// S3-style XML error body.
    static func s3Error(_ status: Int, code: String, message: String, resource: String) -> Response {
        let esc = { (s: String) in s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;") }
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>\(esc(code))</Code><Message>\(esc(message))</Message><Resource>\(esc(resource))</Resource><RequestId>\(randomToken(8))</RequestId></Error>"
        return make(status: status, body: body, contentType: "application/xml", headers: [])
    }

    static func make(status: Int, body: String, contentType: String, headers: [(String, String)]) -> Response {
        bytes(status: status, body: Array(body.utf8), contentType: contentType, headers: headers)
    }

    static func bytes(status: Int, body: [UInt8], contentType: String?, headers: [(String, String)]) -> Response {
        var fields = HTTPFields()
        if let contentType { fields[.contentType] = contentType }
        for (k, v) in headers { if let n = HTTPField.Name(k) { fields.append(HTTPField(name: n, value: v)) } }
        return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension Request {
    func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }

    /// Path and query exactly as they came on the request line.
    var rawTarget: (path: String, query: String) {
        let target = head.path ?? "/"
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
    }
}

/// Decodes a JSON body into `T`; any failure is a `400` with the decoder's reason.
func decodeBody<T: Decodable>(_ type: T.Type, from request: Request, limit: Int = 1 << 20) async throws -> T {
    var req = request
    let buffer = try await req.collectBody(upTo: limit)
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    do {
        return try decoder.decode(T.self, from: Data(buffer.readableBytesView))
    } catch let DecodingError.keyNotFound(key, _) {
        throw SandboxHTTPError(status: 400, message: "Missing required field: \(key.stringValue.snakeCased)")
    } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx) {
        let path = ctx.codingPath.map { $0.stringValue.snakeCased }.joined(separator: ".")
        throw SandboxHTTPError(status: 400, message: "Invalid value for \(path)")
    } catch {
        throw SandboxHTTPError(status: 400, message: "Request body must be a valid JSON object")
    }
}

extension String {
    var snakeCased: String {
        var out = ""
        for c in self {
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
        return out.replacingOccurrences(of: "_i_d", with: "_id").replacingOccurrences(of: "_u_r_l", with: "_url")
    }
}
