// The API's action vocabulary (`ProcessAction`, `ChildType`) is defined once in
// ClassyVocabulary; a caller of AssetProcessing sees it without another import.
@_exported import ClassyVocabulary
import Imaging

// Local actions (`ImageAction`, Imaging) and the API's (`ProcessAction`) are
// converted here and nowhere else, and every child is named here, so local
// records and the sandbox's answers give one action's children one name.

extension PixelSize {
    public init(_ size: ProcessSize) { self.init(width: size.width, height: size.height) }
}

extension ProcessSize {
    public init(_ size: PixelSize) { self.init(width: size.width, height: size.height) }
}

extension ImageAction {
    /// The local action that does what the API's does: cover thumbnails, centred.
    public init(_ action: ProcessAction) {
        switch action {
        case let .thumbnails(sizes): self = .thumbnails(sizes.map(PixelSize.init), fit: .cover, crop: .centre)
        case let .crop(x, y, w, h): self = .crop(x: x, y: y, width: w, height: h)
        case let .scale(w, h): self = .scale(width: w, height: h)
        case let .rotate(angle): self = .rotate(degrees: angle)
        }
    }

    /// The API request doing the same, or nil when the API cannot: contain
    /// thumbnails and cover crops placed by anything but the centre are local only.
    public var processAction: ProcessAction? {
        switch self {
        case let .thumbnails(sizes, fit, crop):
            guard fit == .cover, crop == .centre else { return nil }
            return .thumbnails(sizes.map(ProcessSize.init))
        case let .crop(x, y, w, h): return .crop(x: x, y: y, width: w, height: h)
        case let .scale(w, h): return .scale(width: w, height: h)
        case let .rotate(degrees): return .rotate(angle: degrees)
        }
    }

    /// The child `type` of `result`, the `index`-th image this action gave
    /// (`Image.applying` returns thumbnails in the order of their sizes).
    public func childType(of result: DerivedImage, at index: Int) -> String {
        switch self {
        case let .thumbnails(sizes, _, _):
            let size = sizes.indices.contains(index) ? sizes[index] : PixelSize(width: result.image.width, height: result.image.height)
            return ChildType.thumbnail(size)
        case .crop: return ChildType.cropped
        case .scale: return ChildType.scaled(width: result.image.width, height: result.image.height)
        case let .rotate(degrees): return ChildType.rotated(degrees)
        }
    }
}

extension ProcessAction {
    /// The `type` of each child for a source of this upright size, in the
    /// API's order: what to look for in `GET /children` (a one-sided scale is
    /// named after the size it gives, which depends on the source).
    public func childTypes(upright: PixelSize) throws(ImagingError) -> [String] {
        if case let .scale(w, h) = self {
            let size = try Image.scaledSize(source: upright, width: w, height: h)
            return [ChildType.scaled(size)]
        }
        return childTypes ?? []
    }
}

extension ChildType {
    public static func thumbnail(_ size: PixelSize) -> String { thumbnail(width: size.width, height: size.height) }
    public static func scaled(_ size: PixelSize) -> String { scaled(width: size.width, height: size.height) }
}
