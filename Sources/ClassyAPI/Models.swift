import Foundation

/// An asset record (`GET /2.0/assets/{id}`).
public struct Asset: Sendable, Hashable, Decodable {
    public var id: Int
    public var parentID: Int?
    public var createdBy: Int?
    /// `pending`, `uploaded`, or `processed` for children.
    public var state: String
    public var cdnURL: String?
    public var contentType: String?
    /// Set on processed children: `thumbnail_100_100`, `cropped`, `scaled_w_h`, `rotated_180`.
    public var type: String?
    public var size: Int?
    public var createdAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, state, type, size
        case parentID = "parent_id", createdBy = "created_by", cdnURL = "cdn_url", contentType = "content_type", createdAt = "created_at"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int.self, forKey: .id)
        parentID = try c.decodeIfPresent(Int.self, forKey: .parentID)
        createdBy = try c.decodeIfPresent(Int.self, forKey: .createdBy)
        state = try c.decode(String.self, forKey: .state)
        cdnURL = try c.decodeIfPresent(String.self, forKey: .cdnURL)
        contentType = try c.decodeIfPresent(String.self, forKey: .contentType)
        type = try c.decodeIfPresent(String.self, forKey: .type)
        size = try c.decodeIfPresent(Int.self, forKey: .size)
        createdAt = try c.decodeClassyDate(forKey: .createdAt)
    }
}

/// The answer of `POST /2.0/assets/url`: a new pending asset and where to PUT its bytes.
public struct PresignedAsset: Sendable, Hashable, Decodable, CustomStringConvertible {
    public var id: Int
    public var presignedPutURL: String
    enum CodingKeys: String, CodingKey { case id, presignedPutURL = "presigned_put_url" }

    /// A pending asset known from a journal (to reuse its URL while it is valid).
    public init(id: Int, presignedPutURL: String) {
        self.id = id
        self.presignedPutURL = presignedPutURL
    }
    /// The URL's query (its signature) stays out of logs.
    public var description: String { "PresignedAsset(id: \(id), url: \(redactedURL(presignedPutURL)))" }
}

/// The image types Classy accepts, with their exact MIME types.
public enum ImageContentType: String, Sendable, CaseIterable, Hashable {
    case png = "image/png"
    case jpeg = "image/jpeg"
    case gif = "image/gif"
}

/// `POST /2.0/assets/{id}/process` actions.
public enum AssetProcessAction: Sendable, Hashable {
    case thumbnails([(width: Int, height: Int)])
    case crop(x: Int, y: Int, width: Int, height: Int)
    case scale(width: Int, height: Int)
    case rotate(angle: Int)

    public static func == (a: AssetProcessAction, b: AssetProcessAction) -> Bool { a.body == b.body }
    public func hash(into h: inout Hasher) { h.combine(body) }

    var body: String {
        switch self {
        case .thumbnails(let sizes):
            let list = sizes.map { "{\"width\":\($0.width),\"height\":\($0.height)}" }.joined(separator: ",")
            return "{\"action\":\"thumbnails\",\"arguments\":[\(list)]}"
        case .crop(let x, let y, let w, let h):
            return "{\"action\":\"crop\",\"arguments\":{\"x\":\(x),\"y\":\(y),\"width\":\(w),\"height\":\(h)}}"
        case .scale(let w, let h):
            return "{\"action\":\"scale\",\"arguments\":{\"width\":\(w),\"height\":\(h)}}"
        case .rotate(let a):
            return "{\"action\":\"rotate\",\"arguments\":{\"angle\":\(a)}}"
        }
    }
}

public struct ECard: Sendable, Hashable, Decodable {
    public var id: Int?
    public var assetID: Int?
    public var campaignID: Int?
    public var imageURL: String?
    public var order: Int?
    enum CodingKeys: String, CodingKey { case id, order, assetID = "asset_id", campaignID = "campaign_id", imageURL = "image_url" }
}

/// Body of eCard create/update; Classy wants `asset_id` or `image_url`.
public struct ECardInput: Sendable, Hashable, Encodable {
    public var assetID: Int?
    public var imageURL: String?
    public var order: Int?
    public init(assetID: Int? = nil, imageURL: String? = nil, order: Int? = nil) {
        self.assetID = assetID
        self.imageURL = imageURL
        self.order = order
    }
    enum CodingKeys: String, CodingKey { case order, assetID = "asset_id", imageURL = "image_url" }
}

/// A sponsor's donation-matching plan; `asset_id` is the sponsor's thumbnail.
public struct MatchingPlan: Sendable, Hashable, Decodable {
    public var id: Int?
    public var campaignID: Int?
    public var businessName: String?
    public var assetID: Int?
    enum CodingKeys: String, CodingKey { case id, campaignID = "campaign_id", businessName = "business_name", assetID = "asset_id" }
}

public struct AppealSet: Sendable, Hashable, Decodable {
    public var id: Int?
    public var campaignID: Int?
    public var emailBody: String?
    public var emailSubject: String?
    public var facebookAssetID: Int?
    public var facebookVideoURL: String?
    public var facebookImageURL: String?
    public var twitterText: String?
    public var smsText: String?
    enum CodingKeys: String, CodingKey {
        case id
        case campaignID = "campaign_id", emailBody = "email_body", emailSubject = "email_subject"
        case facebookAssetID = "facebook_asset_id", facebookVideoURL = "facebook_video_url", facebookImageURL = "facebook_image_url"
        case twitterText = "twitter_text", smsText = "sms_text"
    }
}

/// The part of a campaign the worker needs (`GET /2.0/campaigns/{id}?with=logo`).
public struct Campaign: Sendable, Hashable, Decodable {
    public var id: Int
    public var name: String?
    public var logoID: Int?
    public var logoURL: String?
    public var logo: Asset?
    enum CodingKeys: String, CodingKey { case id, name, logo, logoID = "logo_id", logoURL = "logo_url" }
}

/// One page of a collection, as documented.
public struct CollectionPage<Element: Decodable & Sendable>: Sendable, Decodable {
    public var total: Int?
    public var perPage: Int?
    public var currentPage: Int?
    public var lastPage: Int?
    public var nextPageURL: String?
    public var data: [Element]
    enum CodingKeys: String, CodingKey {
        case total, data
        case perPage = "per_page", currentPage = "current_page", lastPage = "last_page", nextPageURL = "next_page_url"
    }
}

extension KeyedDecodingContainer {
    func decodeClassyDate(forKey key: Key) throws -> Date? {
        guard let s = try decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let d = ClassyDate.parse(s) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not a Classy datetime: \(s)")
        }
        return d
    }
}
