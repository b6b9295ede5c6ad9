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
    /// Pending assets possibly created without an answer (see `UploadCheckpoint.pendingPossiblyOrphaned`).
    public var possiblyOrphaned: Int = 0
}

/// Why the upload engine stopped.
public struct UploadError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// The API or the store failed (after the retry budget).
        case api(ClassyAPIError)
        /// The caller could not persist a checkpoint; nothing more was sent.
        case checkpointFailed(String)
        /// The flow itself gave up (every URL expired, creations kept failing).
        case gaveUp(UploadStateMachine.Failure)
    }

    public var kind: Kind
    /// Pending assets this upload created and left behind, including the one in use when it failed.
    public var abandonedAssetIDs: [Int]
    /// Pending assets possibly created without an answer.
    public var possiblyOrphaned: Int

    public var description: String {
        switch kind {
        case let .api(error): error.description
        case let .checkpointFailed(message): "checkpoint not persisted: \(message)"
        case let .gaveUp(.urlsKeptExpiring(ids)): "every pre-signed URL expired before use; abandoned pending assets: \(ids)"
        case let .gaveUp(.creationKeptFailing(n)): "POST /2.0/assets/url kept getting no answer (\(n) pending asset(s) possibly left)"
        case let .gaveUp(.unexpected(event, state)): "upload flow: \(event) in state \(state)"
        }
    }

    /// The same failure as the client's error type, for callers without a journal.
    public var apiError: ClassyAPIError {
        var error: ClassyAPIError
        switch kind {
        case let .api(e): error = e
        case .checkpointFailed: error = ClassyAPIError(.configuration, message: description, request: "checkpoint")
        case .gaveUp: error = ClassyAPIError(.urlExpired, status: 403, message: description, request: "POST /2.0/assets/url")
        }
        error.pendingAssetIDs = abandonedAssetIDs
        error.possiblyOrphanedPendingAssets = possiblyOrphaned
        return error
    }
}

extension ClassyClient {
    /// create pending asset → PUT the bytes to the pre-signed URL → mark
    /// uploaded → check the record. The URL is asked for right before the PUT,
    /// and again (a new pending asset) if the store says it expired.
    /// This is `upload(_:contentType:memberID:from:checkpoint:)` without persistence.
    public func uploadAsset(_ bytes: [UInt8], contentType: ImageContentType, memberID: Int? = nil) async throws(ClassyAPIError) -> UploadResult {
        do {
            return try await upload(bytes, contentType: contentType, memberID: memberID) { _ in }
        } catch {
            throw error.apiError
        }
    }

    /// The one upload engine: `UploadStateMachine` driven against the API and
    /// the store. It starts from `progress` (what a journal kept from an earlier
    /// run) and hands every `UploadCheckpoint` to `checkpoint` before the next
    /// request, so a caller that persists them can stop at any moment and resume.
    /// `createPendingAsset` replaces `createAssetURL` (a runner puts a gate around it).
    public func upload(_ bytes: [UInt8], contentType: ImageContentType, memberID: Int? = nil,
                       from progress: UploadProgress = .notStarted,
                       createPendingAsset: (@Sendable () async throws(ClassyAPIError) -> PresignedAsset)? = nil,
                       checkpoint: (UploadCheckpoint) async throws -> Void) async throws(UploadError) -> UploadResult {
        let digest = Insecure.MD5.hash(data: bytes)
        let md5Base64 = Data(digest).base64EncodedString()
        let md5Hex = digest.map { String(format: "%02x", $0) }.joined()
        var machine = UploadStateMachine(resumingFrom: progress, maxURLRequests: options.maxURLRequests)
        var storeAttempts = 0
        func failure(_ kind: UploadError.Kind) -> UploadError {
            var left = machine.abandoned
            if case let .pending(asset, _) = machine.state { left.append(asset.id) }
            return UploadError(kind: kind, abandonedAssetIDs: left, possiblyOrphaned: machine.possiblyOrphaned)
        }
        while true {
            let command = machine.nextCommand
            switch command {
            case let .finish(asset):
                return UploadResult(asset: asset, abandonedAssetIDs: machine.abandoned, storeAttempts: storeAttempts,
                                    possiblyOrphaned: machine.possiblyOrphaned)
            case let .fail(reason):
                throw failure(.gaveUp(reason))
            default:
                break
            }
            let event: UploadStateMachine.Event
            do throws(ClassyAPIError) {
                switch command {
                case .createPendingAsset:
                    let issuedAt = Date()
                    do throws(ClassyAPIError) {
                        let created = if let createPendingAsset { try await createPendingAsset() }
                            else { try await createAssetURL(memberID: memberID, contentType: contentType) }
                        event = .created(created, issuedAt: issuedAt)
                    } catch where error.code == .ambiguous {
                        event = .creationInDoubt
                    }
                case let .put(pending):
                    let outcome = try await put(bytes, to: pending, contentType: contentType, md5Base64: md5Base64, md5Hex: md5Hex,
                                                attempts: &storeAttempts)
                    if outcome == .expired {
                        logger.warning("pre-signed URL expired; abandoning the pending asset and asking for a new one",
                                       metadata: ["asset_id": "\(pending.id)"])
                    }
                    event = outcome == .stored ? .stored : .expired
                case let .confirm(id):
                    event = .confirmed(try await confirmUploaded(id, size: bytes.count, contentType: contentType))
                case let .fetch(id):
                    event = .confirmed(try await asset(id))
                case .finish, .fail:
                    preconditionFailure("handled above")
                }
            } catch {
                throw failure(.api(error))
            }
            if let due = machine.apply(event) {
                do { try await checkpoint(due) } catch { throw failure(.checkpointFailed("\(error)")) }
            }
        }
    }

    enum PutOutcome { case stored, expired }

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
        let started = ContinuousClock.now
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
            let delay = options.retry.backoff(attempt: attempt, using: &rng)
            guard !Task.isCancelled, options.retry.allowsRetry(afterAttempt: attempt, elapsed: ContinuousClock.now - started, delay: delay) else {
                failure.message += " (after \(attempt + 1) attempts; pending asset \(pending.id) left unused)"
                throw failure
            }
            logger.warning("retrying the upload", metadata: ["asset_id": "\(pending.id)", "attempt": "\(attempt + 1)", "error": "\(failure.code)"])
            try await sleep(delay, label)
            attempt += 1
        }
    }

    private func verify(_ record: Asset, marked: Asset, size: Int, contentType: ImageContentType) throws(ClassyAPIError) {
        let label = "GET /2.0/assets/\(record.id)"
        var problems: [String] = []
        if record.state != AssetLifecycleState.uploaded.rawValue { problems.append("state is \(record.state), expected \(AssetLifecycleState.uploaded.rawValue)") }
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
