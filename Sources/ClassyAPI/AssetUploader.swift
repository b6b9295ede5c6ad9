import Crypto
import Foundation
import NIOHTTP1

/// The outcome of one upload: the verified record, and every pending asset the
/// upload created and had to give up (its URL expired), so none is lost.
public struct UploadResult: Sendable, Hashable {
    public var asset: Asset
    public var abandonedAssetIDs: [Int]
    /// PUTs sent to the object store, retries included.
    public var storeAttempts: Int
}

extension ClassyClient {
    /// create pending asset → PUT the bytes to the pre-signed URL → mark
    /// uploaded → fetch and check the record. The URL is asked for right
    /// before the PUT, and again (a new pending asset) if the store says it expired.
    public func uploadAsset(_ bytes: [UInt8], contentType: ImageContentType, memberID: Int? = nil) async throws(ClassyAPIError) -> UploadResult {
        let digest = Insecure.MD5.hash(data: bytes)
        let md5Base64 = Data(digest).base64EncodedString()
        let md5Hex = digest.map { String(format: "%02x", $0) }.joined()
        var abandoned: [Int] = []
        var storeAttempts = 0
        for _ in 0..<max(1, options.maxURLRequests) {
            let pending: PresignedAsset
            do { pending = try await createAssetURL(memberID: memberID, contentType: contentType) } catch {
                var e = error
                e.pendingAssetIDs = abandoned
                throw e
            }
            let outcome: PutOutcome
            do {
                outcome = try await put(bytes, to: pending, contentType: contentType, md5Base64: md5Base64, md5Hex: md5Hex, attempts: &storeAttempts)
                if outcome == .stored {
                    let record = try await confirmUploaded(pending.id, size: bytes.count, contentType: contentType)
                    return UploadResult(asset: record, abandonedAssetIDs: abandoned, storeAttempts: storeAttempts)
                }
            } catch {
                var e = error
                e.pendingAssetIDs = abandoned + [pending.id]
                throw e
            }
            switch outcome {
            case .stored:
                continue
            case .expired:
                logger.warning("pre-signed URL expired; abandoning the pending asset and asking for a new one", metadata: ["asset_id": "\(pending.id)"])
                abandoned.append(pending.id)
            }
        }
        var e = ClassyAPIError(.urlExpired, status: 403,
                               message: "every pre-signed URL expired before use; abandoned pending assets: \(abandoned)",
                               request: "POST /2.0/assets/url")
        e.pendingAssetIDs = abandoned
        throw e
    }

    enum PutOutcome { case stored, expired }

    /// What one step-by-step PUT to the store gave.
    public enum StoreOutcome: Sendable, Hashable {
        /// The bytes are stored (and the ETag, when the store sent one, is their MD5).
        case stored
        /// The pre-signed URL had expired: ask for a new pending asset.
        case expired
    }

    /// The PUT of the upload flow on its own (with the same retries and checks),
    /// for a runner that journals each step: create pending asset, PUT, confirm.
    public func putObject(_ bytes: [UInt8], to pending: PresignedAsset, contentType: ImageContentType) async throws(ClassyAPIError) -> StoreOutcome {
        let digest = Insecure.MD5.hash(data: bytes)
        var attempts = 0
        let outcome = try await put(bytes, to: pending, contentType: contentType, md5Base64: Data(digest).base64EncodedString(),
                                    md5Hex: digest.map { String(format: "%02x", $0) }.joined(), attempts: &attempts)
        return outcome == .stored ? .stored : .expired
    }

    /// Marks a stored asset uploaded and checks that its state, size and content
    /// type agree with what was sent. The API answers the PUT with the whole
    /// record (API reference, "Update an Asset Record"), so that answer is
    /// checked; the record is fetched back only when the answer lacks a field,
    /// which saves a round trip per image.
    public func confirmUploaded(_ id: Int, size: Int, contentType: ImageContentType) async throws(ClassyAPIError) -> Asset {
        let marked = try await markAssetUploaded(id)
        let record = marked.size != nil && marked.contentType != nil && marked.id == id ? marked : try await asset(id)
        try verify(record, marked: marked, size: size, contentType: contentType)
        return record
    }

    /// One PUT (with its retries) to a given URL, for tests of the store's refusals.
    func putForTesting(_ bytes: [UInt8], to pending: PresignedAsset, contentType: ImageContentType) async throws(ClassyAPIError) -> PutOutcome {
        let digest = Insecure.MD5.hash(data: bytes)
        var n = 0
        return try await put(bytes, to: pending, contentType: contentType, md5Base64: Data(digest).base64EncodedString(),
                             md5Hex: digest.map { String(format: "%02x", $0) }.joined(), attempts: &n)
    }

    private func put(_ bytes: [UInt8], to pending: PresignedAsset, contentType: ImageContentType, md5Base64: String, md5Hex: String,
                     attempts: inout Int) async throws(ClassyAPIError) -> PutOutcome {
        let label = "PUT \(redactedURL(pending.presignedPutURL)) (asset \(pending.id))"
        var rng = SystemRandomNumberGenerator()
        var attempt = 0
        while true {
            attempts += 1
            // Content-Length comes from the body (AHC sets it for a byte buffer).
            let headers = [("Content-Type", contentType.rawValue), ("Content-MD5", md5Base64)]
            var failure: ClassyAPIError
            do {
                let r = try await execute(.PUT, url: pending.presignedPutURL, headers: headers, body: bytes)
                let s3 = S3ErrorBody(r.body)
                switch r.status {
                case 200..<300:
                    // S3's ETag of a single PUT is the hex MD5 of the bytes.
                    if let etag = r.header("ETag")?.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")), !etag.contains("-"),
                       etag.lowercased() != md5Hex {
                        throw ClassyAPIError(.verificationFailed, status: r.status, message: "store ETag \(etag) is not the MD5 of the bytes sent (\(md5Hex))", request: label)
                    }
                    return .stored
                case 403 where s3.isExpired:
                    return .expired
                case let s where RetryPolicy.isRetryable(status: s):
                    failure = ClassyAPIError(.serverError, status: s, message: s3.summary, request: label)
                default:
                    // Signature, checksum or content-type errors: repeating cannot help.
                    throw ClassyAPIError(.uploadRejected, status: r.status, message: s3.summary + " (pending asset \(pending.id) left unused)", request: label)
                }
            } catch let e as ClassyAPIError {
                throw e
            } catch {
                failure = ClassyAPIError(.transport, message: describeTransport(error), request: label)
            }
            guard attempt + 1 < options.retry.maxAttempts else {
                failure.message += " (after \(attempt + 1) attempts; pending asset \(pending.id) left unused)"
                throw failure
            }
            logger.warning("retrying the upload", metadata: ["asset_id": "\(pending.id)", "attempt": "\(attempt + 1)", "error": "\(failure.code)"])
            try await sleep(options.retry.backoff(attempt: attempt, using: &rng), label)
            attempt += 1
        }
    }

    private func verify(_ record: Asset, marked: Asset, size: Int, contentType: ImageContentType) throws(ClassyAPIError) {
        let label = "GET /2.0/assets/\(record.id)"
        var problems: [String] = []
        if record.state != "uploaded" { problems.append("state is \(record.state), expected uploaded") }
        if record.size != size { problems.append("size is \(record.size.map(String.init) ?? "null"), expected \(size)") }
        if record.contentType?.lowercased() != contentType.rawValue { problems.append("content_type is \(record.contentType ?? "null"), expected \(contentType.rawValue)") }
        guard problems.isEmpty else {
            throw ClassyAPIError(.verificationFailed, message: problems.joined(separator: "; "), request: label)
        }
    }
}

/// The `<Code>` and `<Message>` of an S3 XML error body.
struct S3ErrorBody {
    var code: String?
    var message: String?

    init(_ body: [UInt8]) {
        let text = String(decoding: body.prefix(4096), as: UTF8.self)
        func element(_ name: String) -> String? {
            guard let a = text.range(of: "<\(name)>"), let b = text.range(of: "</\(name)>", range: a.upperBound..<text.endIndex) else { return nil }
            return String(text[a.upperBound..<b.lowerBound])
        }
        code = element("Code")
        message = element("Message")
    }

    var isExpired: Bool { code == "AccessDenied" && (message ?? "").lowercased().contains("expired") }
    var summary: String { [code, message].compactMap { $0 }.joined(separator: ": ").isEmpty ? "(no S3 error body)" : [code, message].compactMap { $0 }.joined(separator: ": ") }
}
