import SigV4

/// An asset record as the sandbox stores it.
struct SandboxAsset: Codable, Sendable {
    var id: Int
    var parentID: Int?
    var createdBy: Int
    var state: String
    var contentType: String?
    /// The content type the pre-signed URL was signed for, if the client named one.
    var signedContentType: String?
    var size: Int?
    var createdAt: Int64
    var type: String?
    var objectKey: String
    /// How many times the record went `pending → uploaded` (must never exceed 1).
    var uploadedTransitions: Int = 0
}

struct StoredObject: Codable, Sendable {
    var key: String
    var contentType: String
    var size: Int
    var md5Hex: String
}

struct SandboxECard: Codable, Sendable {
    var id: Int
    var campaignID: Int
    var assetID: Int?
    var imageURL: String?
    var order: Int?
}

struct SandboxAppealSet: Codable, Sendable {
    var id: Int
    var campaignID: Int
    var emailBody: String?
    var emailSubject: String?
    var facebookAssetID: Int?
    var facebookVideoURL: String?
    var twitterText: String?
    var smsText: String?
}

/// A sponsor's donation-matching plan; `asset_id` is the sponsor's image.
/// Fields added after the first version are optional, so older state still loads.
struct SandboxMatchingPlan: Codable, Sendable {
    var id: Int
    var campaignID: Int
    var businessName: String
    var matchingLimitAmount: String
    var assetID: Int?
    var currencyCode: String?
    var matchedAmount: String?
    /// Classy datetimes as the client sent them.
    var startedAt: String?
    var endedAt: String?
    var timezoneIdentifier: String?
    var createdAt: Int64?
    var updatedAt: Int64?
}

public struct SandboxCampaign: Codable, Sendable {
    public var id: Int
    public var name: String
    public var logoID: Int?

    public init(id: Int, name: String, logoID: Int? = nil) {
        self.id = id
        self.name = name
        self.logoID = logoID
    }
}

/// A bearer token's grant; kept in memory only.
struct IssuedToken: Sendable {
    var clientID: String
    var trusted: Bool
    var expiresAtMilliseconds: Int64
}

/// A JSON value with ordered keys, so responses read like the documentation
/// (and `null` fields are written, as the API does, instead of dropped).
enum JSON: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    static func optional(_ v: Int?) -> JSON { v.map(JSON.int) ?? .null }
    static func optional(_ v: String?) -> JSON { v.map(JSON.string) ?? .null }

    var serialized: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .string(let s): return JSON.quote(s)
        case .array(let a): return "[" + a.map(\.serialized).joined(separator: ",") + "]"
        case .object(let o): return "{" + o.map { JSON.quote($0.0) + ":" + $0.1.serialized }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

/// Classy's datetime form, `2016-03-31T22:49:18+0000`, always in UTC.
func classyDate(_ epoch: Int64) -> String {
    let t = UTCTime(epochSeconds: epoch)
    return pad(t.year, 4) + "-" + pad(t.month, 2) + "-" + pad(t.day, 2) + "T" + pad(t.hour, 2) + ":" + pad(t.minute, 2) + ":" + pad(t.second, 2) + "+0000"
}

func pad(_ v: Int, _ w: Int) -> String {
    let s = String(v)
    return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
}
