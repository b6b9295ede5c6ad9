/// A size in pixels, as the API's `{width, height}` objects.
public struct PixelSize: Sendable, Hashable, Codable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Parses `WxH` (e.g. `150x150`).
    public init?(parsing text: some StringProtocol) {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]) else { return nil }
        self.init(width: w, height: h)
    }

    public var description: String { "\(width)x\(height)" }
}

/// The four actions of `POST /2.0/assets/{id}/process`, with the same
/// arguments, run locally. Each produces child images whose `type` names match
/// what the API gives its children.
public enum ImageAction: Sendable, Hashable, Codable {
    /// One child per size, each exactly `width x height` (cover) or fitting
    /// inside it (contain). `crop` places the cover box; contain ignores it.
    case thumbnails([PixelSize], fit: ThumbnailFit = .cover, crop: CropStrategy = .centre)
    /// The box must lie inside the image.
    case crop(x: Int, y: Int, width: Int, height: Int)
    /// Omit one side to keep the aspect ratio.
    case scale(width: Int?, height: Int?)
    /// Degrees, clockwise.
    case rotate(degrees: Double)

    /// How a thumbnail fills its box.
    public enum ThumbnailFit: String, Sendable, Hashable, Codable, CaseIterable {
        /// Scale to cover the box, then crop (centred unless a `CropStrategy` says otherwise):
        /// exactly w x h, nothing letterboxed (the default).
        case cover
        /// Scale to fit inside the box, keeping everything; the result can be smaller than w x h on one side.
        case contain
    }

    /// The API's action name.
    public var name: String {
        switch self {
        case .thumbnails: "thumbnails"
        case .crop: "crop"
        case .scale: "scale"
        case .rotate: "rotate"
        }
    }
}

/// Naming of child assets, as the API names the children `/process` creates.
public enum ChildType {
    public static func thumbnail(_ size: PixelSize) -> String { "thumbnail_\(size.width)_\(size.height)" }
    public static let cropped = "cropped"
    public static func scaled(_ size: PixelSize) -> String { "scaled_\(size.width)_\(size.height)" }
    /// `rotated_180`, or `rotated_17.5` for a fractional angle.
    public static func rotated(_ degrees: Double) -> String {
        if degrees == degrees.rounded(), abs(degrees) < 1e9 { return "rotated_\(Int(degrees))" }
        return "rotated_\(degrees)"
    }
}
