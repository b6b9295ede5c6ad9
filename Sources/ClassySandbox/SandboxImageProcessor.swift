import Imaging

/// One pixel operation of `POST /2.0/assets/{id}/process`, already validated
/// against the image's size.
public enum SandboxProcessAction: Sendable, Hashable {
    case thumbnail(width: Int, height: Int)
    case crop(x: Int, y: Int, width: Int, height: Int)
    case scale(width: Int, height: Int)
    /// A multiple of 90, normalised to 0..<360.
    case rotate(angle: Int)

    /// The child's `type`, as documented.
    public var typeName: String {
        switch self {
        case .thumbnail(let w, let h): "thumbnail_\(w)_\(h)"
        case .crop: "cropped"
        case .scale(let w, let h): "scaled_\(w)_\(h)"
        case .rotate(let a): "rotated_\(a)"
        }
    }
}

/// The pixel work behind `/process`, kept behind a protocol so the sandbox can
/// run the project's real imaging pipeline (and compare it with local processing).
public protocol SandboxImageProcessor: Sendable {
    /// Returns the encoded child image, in the same format as the parent.
    func process(_ bytes: [UInt8], format: ImageFormat, action: SandboxProcessAction) async throws -> [UInt8]
}

/// The sandbox's `/process` runs the project's own imaging pipeline, the same
/// code as `asset-worker process`, so server-side and local results can be
/// compared byte for byte. Every frame of an animation is processed.
public struct ImagingSandboxProcessor: SandboxImageProcessor {
    public var options: ProcessingOptions

    public init(options: ProcessingOptions = .init()) {
        self.options = options
    }

    public func process(_ bytes: [UInt8], format: ImageFormat, action: SandboxProcessAction) async throws -> [UInt8] {
        let image = try ImageDecoder.decode(bytes)
        let imagingAction: ImageAction =
            switch action {
            case .thumbnail(let w, let h): .thumbnails([PixelSize(width: w, height: h)])
            case .crop(let x, let y, let w, let h): .crop(x: x, y: y, width: w, height: h)
            case .scale(let w, let h): .scale(width: w, height: h)
            case .rotate(let angle): .rotate(degrees: Double(angle))
            }
        let derived = try image.applying(imagingAction, outputHasAlpha: format != .jpeg, options: options)
        return try ImageEncoder.encode(derived[0].image, as: format)
    }
}
