import AssetProcessing
import ClassyAPI
import Foundation
import Imaging

/// The check that local processing mirrors the API's `/process`: one source
/// processed locally and on the server (the API, or the sandbox), child by
/// child, with sizes, bytes and the PSNR of the server's pixels against the
/// local ones.
///
/// On the server it uploads the original once, calls `POST /2.0/assets/{id}/process`
/// once per action and downloads every child from its `cdn_url`; nothing is
/// attached to a campaign and nothing is journaled. Each run makes new assets.
public struct ServerComparison: Sendable {
    public var client: ClassyClient
    /// Children keep the source's format, as the API's do (`outputFormat` is ignored).
    public var processor: LocalProcessor

    public init(client: ClassyClient, processor: LocalProcessor = LocalProcessor()) {
        self.client = client
        self.processor = processor
        self.processor.outputFormat = nil
    }

    /// Processes `path` both ways. Local failures (an unreadable source, an
    /// action outside the image) and API failures end the comparison with a
    /// `ComparisonError`; a child present on one side only, or of another size,
    /// is reported in its `ChildComparison`.
    public func compare(file path: String, actions: [ProcessAction]) async throws(ComparisonError) -> ComparisonReport {
        guard !actions.isEmpty else { throw ComparisonError(.noActions, "give at least one action to compare") }
        let bytes: [UInt8]
        let local: ProcessedAsset
        let info: ImageInfo
        do throws(ImagingError) {
            bytes = try ImageFile.read(path, limits: processor.decoding.limits)
            info = try ImageDecoder.probe(bytes, limits: processor.decoding.limits)
            local = try processor.process(bytes: bytes, actions: actions.map(ImageAction.init), sourcePath: path)
        } catch {
            var failure = ComparisonError(.local, "\(path): \(error)")
            failure.imagingError = error
            throw failure
        }
        guard let contentType = ImageContentType(rawValue: info.format.mimeType) else {
            throw ComparisonError(.local, "\(path): \(info.format) cannot be uploaded")
        }
        do throws(ClassyAPIError) {
            let parent = try await client.uploadAsset(bytes, contentType: contentType).asset
            var report = ComparisonReport(source: path, parentID: parent.id, width: info.displayWidth, height: info.displayHeight, children: [])
            var localChildren = local.children[...]
            for action in actions {
                // `LocalProcessor` returns the children action by action, thumbnails one per size.
                let count = action.childTypes?.count ?? 1
                let mine = Array(localChildren.prefix(count))
                localChildren = localChildren.dropFirst(count)
                let theirs = try await client.processAsset(parent.id, action)
                for index in 0 ..< max(mine.count, theirs.count) {
                    let l = index < mine.count ? mine[index] : nil
                    let s = index < theirs.count ? theirs[index] : nil
                    let serverBytes = try await s.asyncMap { child async throws(ClassyAPIError) in try await client.downloadAsset(child) }
                    report.children.append(ChildComparison(action: action, local: l, server: s, serverBytes: serverBytes))
                }
            }
            return report
        } catch {
            var failure = ComparisonError(.server, error.description)
            failure.apiError = error
            throw failure
        }
    }
}

/// Everything one comparison found.
public struct ComparisonReport: Sendable {
    public var source: String
    /// The original's id on the server.
    public var parentID: Int
    /// The source's upright size.
    public var width: Int
    public var height: Int
    public var children: [ChildComparison]

    /// True when every child exists on both sides with the same size and type.
    public var allMatched: Bool { children.allSatisfy { $0.status == .identical || $0.status == .compared } }
    /// The lowest PSNR over the children (infinity when all are identical; nil when any did not match).
    public var lowestPSNR: Double? { allMatched ? children.compactMap(\.psnr).min() ?? .infinity : nil }
}

/// One child, both sides.
public struct ChildComparison: Sendable, Encodable {
    public enum Status: String, Sendable, Encodable {
        /// The same pixels (PSNR infinite).
        case identical
        /// The same size and type; `psnr` says how close.
        case compared
        case sizeMismatch = "size-mismatch"
        case typeMismatch = "type-mismatch"
        case missingOnServer = "missing-on-server"
        case missingLocally = "missing-locally"
        /// The server's bytes are not an image the decoder reads.
        case undecodable
    }

    public struct Side: Sendable, Encodable {
        public var type: String?
        public var width: Int?
        public var height: Int?
        public var bytes: Int
        /// Server only.
        public var id: Int?
        public var cdnURL: String?
        enum CodingKeys: String, CodingKey { case type, width, height, bytes, id, cdnURL = "cdn_url" }
    }

    /// `ProcessAction.description`: `rotate 270`, `thumbnails 100x100,150x150`.
    public var action: String
    /// The child's type (the local one; the server's when only it has the child).
    public var type: String?
    public var local: Side?
    public var server: Side?
    /// dB; +infinity for identical pixels; nil when the two cannot be compared.
    public var psnr: Double?
    public var bytesIdentical: Bool
    public var status: Status

    init(action: ProcessAction, local: ProcessedChild?, server: Asset?, serverBytes: [UInt8]?) {
        self.action = action.description
        type = local?.record.type ?? server?.type
        self.local = local.map { Side(type: $0.record.type, width: $0.record.width, height: $0.record.height, bytes: $0.bytes.count) }
        bytesIdentical = local != nil && serverBytes != nil && local?.bytes == serverBytes
        var decoded: Image?
        if let server {
            decoded = serverBytes.flatMap { try? ImageDecoder.decode($0) }
            self.server = Side(type: server.type, width: decoded?.width, height: decoded?.height,
                               bytes: serverBytes?.count ?? server.size ?? 0, id: server.id, cdnURL: server.cdnURL)
        }
        guard let local else { status = .missingLocally; return }
        guard server != nil else { status = .missingOnServer; return }
        guard let decoded else { status = .undecodable; return }
        // Both decoded the same way: what a browser shows of each file.
        guard let mine = try? ImageDecoder.decode(local.bytes), mine.width == decoded.width, mine.height == decoded.height,
              mine.frames.count == decoded.frames.count, let value = try? ImageComparison.psnr(mine, decoded) else {
            status = .sizeMismatch
            return
        }
        psnr = value
        status = server?.type == local.record.type ? (value.isInfinite ? .identical : .compared) : .typeMismatch
    }

    enum CodingKeys: String, CodingKey {
        case action, type, local, server, status
        case psnr = "psnr_db", bytesIdentical = "bytes_identical"
    }

    /// `psnr_db` is a number, the string `"inf"` for identical pixels, or null.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(action, forKey: .action)
        try c.encode(type, forKey: .type)
        try c.encode(status, forKey: .status)
        try c.encode(local, forKey: .local)
        try c.encode(server, forKey: .server)
        if let psnr, psnr.isInfinite { try c.encode("inf", forKey: .psnr) } else {
            try c.encode(psnr.map { ($0 * 100).rounded() / 100 }, forKey: .psnr)
        }
        try c.encode(bytesIdentical, forKey: .bytesIdentical)
    }

    /// `44.81` or `inf`; `-` when not compared.
    public var psnrText: String {
        guard let psnr else { return "-" }
        return psnr.isInfinite ? "inf" : String(format: "%.2f", psnr)
    }
}

/// Why a comparison could not be made.
public struct ComparisonError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case noActions
        /// The source or an action, locally (`ImagingError`).
        case local
        /// The API or its CDN (`ClassyAPIError`).
        case server
    }

    public var code: Code
    public var message: String
    /// The local failure, for `.local` (nil when the format itself is not uploadable).
    public var imagingError: ImagingError?
    /// The API's failure, for `.server`.
    public var apiError: ClassyAPIError?

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

extension Optional {
    fileprivate func asyncMap<T, E: Error>(_ body: (Wrapped) async throws(E) -> T) async throws(E) -> T? {
        switch self {
        case .some(let value): try await body(value)
        case .none: nil
        }
    }
}
