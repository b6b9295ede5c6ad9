/// Where a job's image was attached, as the journal keeps it (`ecard 1013`,
/// `matching_plan 555 asset_id=1008`, ...): written by the runner, read back
/// by `verify`, so the text form is defined here and nowhere else.
public enum Attachment: Sendable, Hashable, CustomStringConvertible {
    /// An eCard created (or, `updated`, an existing one pointed at the new image).
    case ecard(id: Int, updated: Bool)
    /// An eCard created where the API's answer carried no id (the reference's
    /// eCard objects have none): known by its campaign, order and image.
    case ecardAt(campaign: Int, order: Int, assetID: Int)
    case appealSet(id: Int, facebookAssetID: Int)
    case matchingPlan(id: Int, assetID: Int)

    public var description: String {
        switch self {
        case let .ecard(id, updated): "ecard \(id)" + (updated ? " (updated)" : "")
        case let .ecardAt(campaign, order, asset): "ecard_at campaign=\(campaign) order=\(order) asset_id=\(asset)"
        case let .appealSet(id, asset): "appeal_set \(id) facebook_asset_id=\(asset)"
        case let .matchingPlan(id, asset): "matching_plan \(id) asset_id=\(asset)"
        }
    }

    /// Parses `description`; nil for anything else (a journal written by an older version).
    public init?(_ text: String) {
        let words = text.split(separator: " ").map(String.init)
        func value(_ word: String, after prefix: String) -> Int? {
            word.hasPrefix(prefix) ? Int(word.dropFirst(prefix.count)) : nil
        }
        switch (words.first, words.count) {
        case ("ecard", 2), ("ecard", 3):
            guard let id = Int(words[1]), words.count == 2 || words[2] == "(updated)" else { return nil }
            self = .ecard(id: id, updated: words.count == 3)
        case ("ecard_at", 4):
            guard let campaign = value(words[1], after: "campaign="), let order = value(words[2], after: "order="),
                  let asset = value(words[3], after: "asset_id=") else { return nil }
            self = .ecardAt(campaign: campaign, order: order, assetID: asset)
        case ("appeal_set", 3):
            guard let id = Int(words[1]), let asset = value(words[2], after: "facebook_asset_id=") else { return nil }
            self = .appealSet(id: id, facebookAssetID: asset)
        case ("matching_plan", 3):
            guard let id = Int(words[1]), let asset = value(words[2], after: "asset_id=") else { return nil }
            self = .matchingPlan(id: id, assetID: asset)
        default:
            return nil
        }
    }
}
