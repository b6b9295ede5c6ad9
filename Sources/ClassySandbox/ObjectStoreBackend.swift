import AsyncHTTPClient
import Crypto
import Foundation
import Hummingbird
import NIOCore
import SigV4

/// Issues pre-signed URLs and reads objects back, either from the sandbox's own
/// store or from an external S3 implementation.
struct ObjectStoreBackend: Sendable {
    let state: SandboxState
    let config: SandboxConfiguration
    let baseURL: @Sendable () -> String

    /// Pre-signed PUT for `key`. The content type, when known, is signed, so the
    /// upload must carry exactly it.
    func presignPut(key: String, contentType: String?, expired: Bool) async -> String {
        var now = await state.now
        if expired { now -= Int64(config.presignExpires) + 60 }
        var headers: [String: String] = [:]
        if let contentType { headers["content-type"] = contentType }
        let (origin, path, creds, region) = target(key)
        let hostPart = origin.split(separator: "://", maxSplits: 1).last.map(String.init) ?? origin
        let signed = SigV4.presign(PresignInput(method: "PUT", host: hostPart, path: path, headers: headers,
                                                region: region, date: UTCTime(epochSeconds: now),
                                                expires: config.presignExpires), credentials: creds)
        return origin + signed.pathAndQuery
    }

    func cdnURL(_ key: String) -> String {
        switch config.objectStore {
        case .builtIn: baseURL() + "/cdn/" + SigV4.uriEncode(key, encodeSlash: false)
        case .external(let endpoint, let bucket, _, _): endpoint + "/" + bucket + "/" + SigV4.uriEncode(key, encodeSlash: false)
        }
    }

    /// Metadata of a stored object, nil when absent.
    func head(_ key: String) async throws -> StoredObject? {
        guard case .external = config.objectStore else { return await state.object(key) }
        guard let bytes = try await fetch(key, method: "GET") else { return nil }
        return bytes.0
    }

    func bytes(_ key: String) async throws -> [UInt8]? {
        guard case .external = config.objectStore else { return await state.bytes(key) }
        return try await fetch(key, method: "GET")?.1
    }

    /// Stores a derived object (a processed child).
    func put(_ key: String, bytes: [UInt8], contentType: String) async throws {
        let md5 = SigV4.hex(Insecure.MD5.hash(data: bytes))
        guard case .external = config.objectStore else {
            try await state.storeObject(StoredObject(key: key, contentType: contentType, size: bytes.count, md5Hex: md5), bytes: bytes)
            return
        }
        let url = await presignPut(key: key, contentType: contentType, expired: false)
        var req = HTTPClientRequest(url: url)
        req.method = .PUT
        req.headers.add(name: "Content-Type", value: contentType)
        req.headers.add(name: "Content-Length", value: String(bytes.count))
        req.body = .bytes(ByteBuffer(bytes: bytes))
        let res = try await HTTPClient.shared.execute(req, timeout: .seconds(30))
        guard (200..<300).contains(Int(res.status.code)) else {
            throw SandboxHTTPError(status: 500, message: "external store refused a derived object (\(res.status.code))")
        }
    }

    private func fetch(_ key: String, method: String) async throws -> (StoredObject, [UInt8])? {
        let (origin, path, creds, region) = target(key)
        let hostPart = origin.split(separator: "://", maxSplits: 1).last.map(String.init) ?? origin
        let signed = SigV4.presign(PresignInput(method: "GET", host: hostPart, path: path, region: region,
                                                date: UTCTime(epochSeconds: await state.now), expires: 300), credentials: creds)
        var req = HTTPClientRequest(url: origin + signed.pathAndQuery)
        req.method = .GET
        let res = try await HTTPClient.shared.execute(req, timeout: .seconds(30))
        let body = try await res.body.collect(upTo: config.maxObjectBytes)
        if res.status.code == 404 { return nil }
        guard res.status.code == 200 else {
            throw SandboxHTTPError(status: 500, message: "external store answered \(res.status.code)")
        }
        let bytes = Array(body.readableBytesView)
        let object = StoredObject(key: key, contentType: res.headers.first(name: "Content-Type") ?? "application/octet-stream",
                                  size: bytes.count, md5Hex: SigV4.hex(Insecure.MD5.hash(data: bytes)))
        return (object, bytes)
    }

    private func target(_ key: String) -> (origin: String, path: String, SigV4Credentials, String) {
        switch config.objectStore {
        case .builtIn(let bucket):
            return (baseURL(), "/s3/\(bucket)/\(key)", config.storeCredentials, config.region)
        case .external(let endpoint, let bucket, let region, let creds):
            let origin = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
            return (origin, "/\(bucket)/\(key)", creds, region)
        }
    }
}

/// The sandbox's own S3-compatible endpoint, mounted at `/s3/{bucket}/{key}`.
struct S3Endpoint {
    let state: SandboxState
    let config: SandboxConfiguration
    let store: ObjectStoreBackend

    func handle(_ request: Request, context: SandboxContext) async throws -> Response {
        let (rawPath, rawQuery) = request.rawTarget
        let resource = SigV4.percentDecode(rawPath) ?? rawPath
        guard case .builtIn(let bucket) = config.objectStore else {
            return Reply.s3Error(404, code: "NoSuchBucket", message: "The sandbox uses an external store", resource: resource)
        }
        let parts = resource.split(separator: "/", maxSplits: 2).map(String.init)
        guard parts.count == 3, parts[1] == bucket else {
            return Reply.s3Error(404, code: "NoSuchBucket", message: "The specified bucket does not exist", resource: resource)
        }
        let key = parts[2]
        guard request.method == .put else {
            return Reply.s3Error(405, code: "MethodNotAllowed", message: "The specified method is not allowed against this resource.", resource: resource)
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        // HTTPTypes keeps Host as the `:authority` pseudo-header, outside `headers`.
        if let authority = request.head.authority { headers["host"] = authority }
        let verifier = PresignVerifier(keys: [config.storeCredentials.accessKeyID: config.storeCredentials.secretAccessKey], region: config.region)
        let now = UTCTime(epochSeconds: await state.now)
        do throws(PresignVerificationError) {
            _ = try verifier.verify(ReceivedRequest(method: "PUT", rawPath: rawPath, rawQuery: rawQuery, headers: headers), now: now)
        } catch {
            return Reply.s3Error(error.httpStatus, code: error.s3Code, message: error.message, resource: resource)
        }
        guard headers["content-length"] != nil else {
            return Reply.s3Error(411, code: "MissingContentLength", message: "You must provide the Content-Length HTTP header.", resource: resource)
        }
        let faults = await state.faults
        if await state.roll(faults.s3ResetRate) {
            // Take some of the body, then drop the connection: the client sees a reset mid-upload.
            var iterator = request.body.makeAsyncIterator()
            _ = try? await iterator.next()
            try? await context.channel.close()
            throw ConnectionDropped()
        }
        var req = request
        let body = try await req.collectBody(upTo: config.maxObjectBytes)
        if await state.roll(faults.s3ServerErrorRate) {
            return Reply.s3Error(500, code: "InternalError", message: "We encountered an internal error. Please try again.", resource: resource)
        }
        let bytes = Array(body.readableBytesView)
        let digest = Insecure.MD5.hash(data: bytes)
        if let md5Header = headers["content-md5"] {
            guard let claimed = Data(base64Encoded: md5Header), claimed.count == 16 else {
                return Reply.s3Error(400, code: "InvalidDigest", message: "The Content-MD5 you specified was invalid.", resource: resource)
            }
            guard claimed.elementsEqual(digest) else {
                return Reply.s3Error(400, code: "BadDigest", message: "The Content-MD5 you specified did not match what we received.", resource: resource)
            }
        }
        let md5 = SigV4.hex(digest)
        let object = StoredObject(key: key, contentType: headers["content-type"] ?? "binary/octet-stream", size: bytes.count, md5Hex: md5)
        try await state.storeObject(object, bytes: bytes)
        if await state.dropResponse() {
            // Stored, but the client never hears so.
            try? await context.channel.close()
            throw ConnectionDropped()
        }
        return Reply.bytes(status: 200, body: [], contentType: nil, headers: [("ETag", "\"\(md5)\"")])
    }
}

/// Thrown after a fault closed the connection on purpose: nothing to answer, nothing to log.
struct ConnectionDropped: Error {}
