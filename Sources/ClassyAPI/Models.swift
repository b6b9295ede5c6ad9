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
    /// Set on processed children: `thumbnail_100_100`, `cropped`, `scaled_w_h`, `rotated_180` (`ChildType`).
    public var type: String?
    public var size: Int?
    public var createdAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, state, type, size
        case parentID = "parent_id", createdBy = "created_by", cdnURL = "cdn_url", contentType = "content_type", createdAt = "created_at"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeFlexibleInt(forKey: .id)
        parentID = try c.decodeFlexibleIntIfPresent(forKey: .parentID)
        createdBy = try c.decodeFlexibleIntIfPresent(forKey: .createdBy)
        state = try c.decode(String.self, forKey: .state)
        cdnURL = try c.decodeIfPresent(String.self, forKey: .cdnURL)
        contentType = try c.decodeIfPresent(String.self, forKey: .contentType)
        type = try c.decodeIfPresent(String.self, forKey: .type)
        size = try c.decodeFlexibleIntIfPresent(forKey: .size)
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

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeFlexibleInt(forKey: .id)
        presignedPutURL = try c.decode(String.self, forKey: .presignedPutURL)
    }
    /// The URL's query (its signature) stays out of logs.
    public var description: String { "PresignedAsset(id: \(id), url: \(redactedURL(presignedPutURL)))" }
}

/// `POST /2.0/assets/{id}/process` actions: the vocabulary's `ProcessAction`
/// (one definition for the client, the sandbox and local processing).
public typealias AssetProcessAction = ProcessAction

extension ProcessAction {
    /// The earlier spelling of thumbnails, with sizes as tuples.
    public static func thumbnails(_ sizes: [(width: Int, height: Int)]) -> ProcessAction {
        .thumbnails(sizes.map { ProcessSize(width: $0.width, height: $0.height) })
    }
}

/// An eCard. The reference's eCard objects carry no `id` (the sandbox adds
/// one); without it, find the card by listing the campaign's eCards
/// (`ClassyClient.findECard`).
public struct ECard: Sendable, Hashable, Decodable {
    public var id: Int?
    public var assetID: Int?
    public var campaignID: Int?
    public var imageURL: String?
    public var order: Int?
    enum CodingKeys: String, CodingKey { case id, order, assetID = "asset_id", campaignID = "campaign_id", imageURL = "image_url" }

    public init(id: Int? = nil, assetID: Int? = nil, campaignID: Int? = nil, imageURL: String? = nil, order: Int? = nil) {
        self.id = id
        self.assetID = assetID
        self.campaignID = campaignID
        self.imageURL = imageURL
        self.order = order
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeFlexibleIntIfPresent(forKey: .id)
        assetID = try c.decodeFlexibleIntIfPresent(forKey: .assetID)
        campaignID = try c.decodeFlexibleIntIfPresent(forKey: .campaignID)
        imageURL = try c.decodeIfPresent(String.self, forKey: .imageURL)
        order = try c.decodeFlexibleIntIfPresent(forKey: .order)
    }
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
/// The reference shows `campaign_id` as a string ("456"); either form decodes.
/// Amounts and datetimes are kept as the API wrote them, so an update can send
/// them back unchanged (`PUT` requires them).
public struct MatchingPlan: Sendable, Hashable, Decodable {
    public var id: Int?
    public var campaignID: Int?
    public var businessName: String?
    public var assetID: Int?
    /// A decimal amount; "0" means unlimited.
    public var matchingLimitAmount: String?
    public var matchedAmount: String?
    public var currencyCode: String?
    /// Classy datetimes (`2017-01-01T12:00:00+0000`), verbatim.
    public var startedAt: String?
    public var endedAt: String?
    public var timezoneIdentifier: String?
    enum CodingKeys: String, CodingKey {
        case id, campaignID = "campaign_id", businessName = "business_name", assetID = "asset_id"
        case matchingLimitAmount = "matching_limit_amount", matchedAmount = "matched_amount", currencyCode = "currency_code"
        case startedAt = "started_at", endedAt = "ended_at", timezoneIdentifier = "timezone_identifier"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeFlexibleIntIfPresent(forKey: .id)
        campaignID = try c.decodeFlexibleIntIfPresent(forKey: .campaignID)
        businessName = try c.decodeIfPresent(String.self, forKey: .businessName)
        assetID = try c.decodeFlexibleIntIfPresent(forKey: .assetID)
        matchingLimitAmount = try c.decodeAmountIfPresent(forKey: .matchingLimitAmount)
        matchedAmount = try c.decodeAmountIfPresent(forKey: .matchedAmount)
        currencyCode = try c.decodeIfPresent(String.self, forKey: .currencyCode)
        startedAt = try c.decodeIfPresent(String.self, forKey: .startedAt)
        endedAt = try c.decodeIfPresent(String.self, forKey: .endedAt)
        timezoneIdentifier = try c.decodeIfPresent(String.self, forKey: .timezoneIdentifier)
    }
}

/// Body of `PUT /2.0/donation-matching-plans/{id}`: the reference marks
/// business_name, matching_limit_amount, started_at and timezone_identifier Required.
struct MatchingPlanUpdate: Encodable {
    var assetID: Int?
    var businessName: String
    var matchingLimitAmount: String
    var startedAt: String
    var endedAt: String?
    var timezoneIdentifier: String
    enum CodingKeys: String, CodingKey {
        case assetID = "asset_id", businessName = "business_name", matchingLimitAmount = "matching_limit_amount"
        case startedAt = "started_at", endedAt = "ended_at", timezoneIdentifier = "timezone_identifier"
    }
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

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeFlexibleIntIfPresent(forKey: .id)
        campaignID = try c.decodeFlexibleIntIfPresent(forKey: .campaignID)
        emailBody = try c.decodeIfPresent(String.self, forKey: .emailBody)
        emailSubject = try c.decodeIfPresent(String.self, forKey: .emailSubject)
        facebookAssetID = try c.decodeFlexibleIntIfPresent(forKey: .facebookAssetID)
        facebookVideoURL = try c.decodeIfPresent(String.self, forKey: .facebookVideoURL)
        facebookImageURL = try c.decodeIfPresent(String.self, forKey: .facebookImageURL)
        twitterText = try c.decodeIfPresent(String.self, forKey: .twitterText)
        smsText = try c.decodeIfPresent(String.self, forKey: .smsText)
    }
}

/// The part of a campaign the worker needs (`GET /2.0/campaigns/{id}?with=logo`).
/// The reference's example campaign has no `id` field, so it is optional.
public struct Campaign: Sendable, Hashable, Decodable {
    public var id: Int?
    public var name: String?
    public var logoID: Int?
    public var logoURL: String?
    public var logo: Asset?
    enum CodingKeys: String, CodingKey { case id, name, logo, logoID = "logo_id", logoURL = "logo_url" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeFlexibleIntIfPresent(forKey: .id)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        logoID = try c.decodeFlexibleIntIfPresent(forKey: .logoID)
        logoURL = try c.decodeIfPresent(String.self, forKey: .logoURL)
        logo = try c.decodeIfPresent(Asset.self, forKey: .logo)
    }
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

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        total = try c.decodeFlexibleIntIfPresent(forKey: .total)
        perPage = try c.decodeFlexibleIntIfPresent(forKey: .perPage)
        currentPage = try c.decodeFlexibleIntIfPresent(forKey: .currentPage)
        lastPage = try c.decodeFlexibleIntIfPresent(forKey: .lastPage)
        nextPageURL = try c.decodeIfPresent(String.self, forKey: .nextPageURL)
        data = try c.decode([Element].self, forKey: .data)
    }
}

/// An integer the API may write as a JSON number or as a string of digits:
/// the reference shows some ids as strings (a matching plan's `campaign_id`,
/// "456"), others as numbers. Anything else is a decoding error.
public struct FlexibleInt: Sendable, Hashable, Decodable {
    public var value: Int

    public init(_ value: Int) { self.value = value }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int.self) {
            value = n
        } else if let s = try? c.decode(String.self), let n = Int(s.trimmingCharacters(in: .whitespaces)) {
            value = n
        } else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected an integer or a string of digits")
        }
    }
}

extension KeyedDecodingContainer {
    func decodeFlexibleInt(forKey key: Key) throws -> Int {
        try decode(FlexibleInt.self, forKey: key).value
    }

    func decodeFlexibleIntIfPresent(forKey key: Key) throws -> Int? {
        try decodeIfPresent(FlexibleInt.self, forKey: key)?.value
    }

    /// An amount documented as a string ("5000"); a JSON number is accepted
    /// and written the way it came, so it can be sent back unchanged.
    func decodeAmountIfPresent(forKey key: Key) throws -> String? {
        if let s = try? decodeIfPresent(String.self, forKey: key) { return s }
        if let n = try? decodeIfPresent(Int.self, forKey: key) { return String(n) }
        if let d = try decodeIfPresent(Double.self, forKey: key) { return String(d) }
        return nil
    }

    func decodeClassyDate(forKey key: Key) throws -> Date? {
        guard let s = try decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let d = ClassyDate.parse(s) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not a Classy datetime: \(s)")
        }
        return d
    }
}
