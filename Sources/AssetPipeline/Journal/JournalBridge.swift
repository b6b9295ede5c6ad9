/// The glue between a validated `Job`, `LocalProcessor`'s output and the journal,
/// so the runner does not invent its own numbering.
extension JobPlan {
    /// The journal's view of a manifest job.
    public init(_ job: Job, manifestPath: String?) {
        self.init(key: job.key, manifestPath: manifestPath, role: job.role.name, target: job.role.targetDescription,
                  sourcePath: job.source, sourceSHA256: job.sourceSHA256)
    }
}

extension JobRole {
    /// The target in words, as `status` shows it: `campaign=1001 order=1`.
    public var targetDescription: String {
        switch self {
        case let .logo(campaign): "campaign=\(campaign)"
        case let .ecard(campaign, order, _): "campaign=\(campaign) order=\(order)"
        case .social(.appealSet(let id)): "appeal_set=\(id)"
        case .social(.campaign(let id)): "campaign=\(id)"
        case let .sponsor(plan): "matching_plan=\(plan)"
        case .asset: "-"
        }
    }
}

extension ProcessedItem {
    /// Journal items of a processed source: position 0 is the original, position
    /// i the (i-1)th child, in the order the actions made them.
    public static func items(of asset: ProcessedAsset) -> [ProcessedItem] {
        [ProcessedItem(position: 0, record: asset.parent)]
            + asset.children.enumerated().map { ProcessedItem(position: $0.offset + 1, record: $0.element.record) }
    }
}

extension AttachedImage {
    /// The journal position of the image to attach, given the children's types in order; nil when there is no such child.
    public func position(childTypes: [String?]) -> Int? {
        switch self {
        case .original: 0
        case let .child(type): childTypes.firstIndex(of: type).map { $0 + 1 }
        }
    }
}
