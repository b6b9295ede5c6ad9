import ClassyVocabulary
import Foundation
import Imaging

/// An asset's identity: a local placeholder until the upload gives it a Classy id.
///
/// Encodes as the API does once uploaded (a JSON number) and as a
/// `"local:<hash>"` string before, so a record printed before and after upload
/// reads the same way and nothing mistakes a placeholder for a real id.
public enum AssetID: Sendable, Hashable, Codable, CustomStringConvertible {
    case local(String)
    case classy(Int)

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            self = .classy(number)
        } else {
            let text = try container.decode(String.self)
            if text.hasPrefix("local:") {
                self = .local(String(text.dropFirst(6)))
            } else if let number = Int(text) {
                self = .classy(number)
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an asset id: \(text)")
            }
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .local(let key): try container.encode("local:\(key)")
        case .classy(let number): try container.encode(number)
        }
    }

    public var description: String {
        switch self {
        case .local(let key): "local:\(key)"
        case .classy(let number): String(number)
        }
    }

    public var classyID: Int? {
        if case .classy(let number) = self { return number }
        return nil
    }
}

/// The states of the API's asset life cycle, plus `local` for an original that
/// exists only on disk so far.
public enum AssetState: String, Sendable, Codable, CaseIterable {
    case local
    /// What `asset-worker plan` prints: the record an upload would create (nothing is sent).
    case planned
    case pending
    case uploaded
    case processed
}

/// An asset record shaped like the API's (`GET /2.0/assets/{id}`), plus the
/// local facts the worker needs (pixel size, content hash, where the bytes are).
public struct AssetRecord: Sendable, Codable, Equatable {
    public var id: AssetID
    public var parentID: AssetID?
    public var createdBy: Int?
    public var state: AssetState
    public var cdnURL: String?
    public var contentType: String
    /// nil for an original; the child type (`thumbnail_100_100`, `cropped`...) for a derived image.
    public var type: String?
    /// Bytes.
    public var size: Int
    public var createdAt: Date

    // Local fields (not part of the API's record).
    public var width: Int
    public var height: Int
    public var sha256: String
    public var path: String?
    /// Colour profiles the worker ignored or replaced (`ColorWarning`s as text); empty when none.
    public var colorWarnings: [String] = []
    /// For a cover thumbnail (an eCard's 600x400 among them): the part of the
    /// original it shows, in upright source pixels.
    public var cropBox: CropBox?
    /// What a person should look at before this goes live: a box an automatic
    /// crop moved off-centre, animation frames dropped. Absent when none.
    public var warnings: [String]?
    /// On an original: its bytes are uploaded exactly as read (no re-encoding, its
    /// colour profile and colour model kept); only derived images are converted.
    public var uploadedUnchanged: Bool?

    public init(id: AssetID, parentID: AssetID? = nil, createdBy: Int? = nil, state: AssetState, cdnURL: String? = nil,
                contentType: String, type: String? = nil, size: Int, createdAt: Date,
                width: Int, height: Int, sha256: String, path: String? = nil,
                cropBox: CropBox? = nil, warnings: [String]? = nil) {
        self.id = id
        self.parentID = parentID
        self.createdBy = createdBy
        self.state = state
        self.cdnURL = cdnURL
        self.contentType = contentType
        self.type = type
        self.size = size
        self.createdAt = createdAt
        self.width = width
        self.height = height
        self.sha256 = sha256
        self.path = path
        self.cropBox = cropBox
        self.warnings = warnings
    }

    enum CodingKeys: String, CodingKey {
        case id, state, type, size, width, height, sha256, path, warnings
        case colorWarnings = "color_warnings"
        case cropBox = "crop_box"
        case uploadedUnchanged = "uploaded_unchanged"
        case parentID = "parent_id"
        case createdBy = "created_by"
        case cdnURL = "cdn_url"
        case contentType = "content_type"
        case createdAt = "created_at"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(AssetID.self, forKey: .id)
        parentID = try c.decodeIfPresent(AssetID.self, forKey: .parentID)
        createdBy = try c.decodeIfPresent(Int.self, forKey: .createdBy)
        state = try c.decode(AssetState.self, forKey: .state)
        cdnURL = try c.decodeIfPresent(String.self, forKey: .cdnURL)
        contentType = try c.decode(String.self, forKey: .contentType)
        type = try c.decodeIfPresent(String.self, forKey: .type)
        size = try c.decode(Int.self, forKey: .size)
        let stamp = try c.decode(String.self, forKey: .createdAt)
        guard let date = ClassyDate.parse(stamp) else {
            throw DecodingError.dataCorruptedError(forKey: .createdAt, in: c, debugDescription: "not a Classy datetime: \(stamp)")
        }
        createdAt = date
        width = try c.decode(Int.self, forKey: .width)
        height = try c.decode(Int.self, forKey: .height)
        sha256 = try c.decode(String.self, forKey: .sha256)
        path = try c.decodeIfPresent(String.self, forKey: .path)
        colorWarnings = try c.decodeIfPresent([String].self, forKey: .colorWarnings) ?? []
        cropBox = try c.decodeIfPresent(CropBox.self, forKey: .cropBox)
        warnings = try c.decodeIfPresent([String].self, forKey: .warnings)
        uploadedUnchanged = try c.decodeIfPresent(Bool.self, forKey: .uploadedUnchanged)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        // The API always sends these keys, with null when empty; so do we.
        try c.encode(parentID, forKey: .parentID)
        try c.encode(createdBy, forKey: .createdBy)
        try c.encode(state, forKey: .state)
        try c.encode(cdnURL, forKey: .cdnURL)
        try c.encode(contentType, forKey: .contentType)
        try c.encode(type, forKey: .type)
        try c.encode(size, forKey: .size)
        try c.encode(ClassyDate.format(createdAt), forKey: .createdAt)
        try c.encode(width, forKey: .width)
        try c.encode(height, forKey: .height)
        try c.encode(sha256, forKey: .sha256)
        try c.encodeIfPresent(path, forKey: .path)
        if !colorWarnings.isEmpty { try c.encode(colorWarnings, forKey: .colorWarnings) }
        try c.encodeIfPresent(cropBox, forKey: .cropBox)
        if let warnings, !warnings.isEmpty { try c.encode(warnings, forKey: .warnings) }
        try c.encodeIfPresent(uploadedUnchanged, forKey: .uploadedUnchanged)
    }
}
