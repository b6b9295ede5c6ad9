/// The image types Classy accepts, with their exact MIME types: the one list the
/// client, the sandbox and the pipeline check against.
public enum ImageContentType: String, Sendable, CaseIterable, Hashable, Codable {
    case png = "image/png"
    case jpeg = "image/jpeg"
    case gif = "image/gif"
}

/// The states of an asset on the API, as `GET /2.0/assets/{id}` spells them:
/// created `pending` by `POST /2.0/assets/url`, `uploaded` once marked so, and
/// `processed` for the children `/process` makes.
public enum AssetLifecycleState: String, Sendable, CaseIterable, Hashable, Codable {
    case pending
    case uploaded
    case processed

    /// The states in which the asset's bytes are on the platform.
    public var isOnPlatform: Bool { self != .pending }
}
