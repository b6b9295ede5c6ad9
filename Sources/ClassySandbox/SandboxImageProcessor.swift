import AssetProcessing
import Imaging

/// One child image `/process` makes: its `type` (`ChildType`) and its encoded bytes.
public struct SandboxProcessedChild: Sendable {
    public var type: String
    public var bytes: [UInt8]

    public init(type: String, bytes: [UInt8]) {
        self.type = type
        self.bytes = bytes
    }
}

/// The pixel work behind `POST /2.0/assets/{id}/process`, kept behind a
/// protocol so a test can put another server-side pipeline behind the sandbox.
public protocol SandboxImageProcessor: Sendable {
    /// Every child of `action` (thumbnails: one per size, in order), encoded in
    /// `format` (the parent's). The action was checked against the upright
    /// image; an `ImagingError` of code `invalidArgument` or `tooLarge` is
    /// answered 400, any other failure 500.
    func process(_ bytes: [UInt8], format: ImageFormat, action: ProcessAction) async throws -> [SandboxProcessedChild]
}

/// The sandbox's `/process` runs the project's imaging operations the way a
/// server would: a full decode of the original (upright, converted to sRGB as
/// local children are), the action, the parent's format. It shares the
/// operations, the action vocabulary and the child names with local
/// processing but not its shortcuts (JPEG shrink-on-load for thumbnails), so
/// `asset-worker compare` against it measures something. Every frame of an
/// animation is processed.
public struct ImagingSandboxProcessor: SandboxImageProcessor {
    public var options: ProcessingOptions
    public var decoding: DecodeOptions

    public init(options: ProcessingOptions = .init(), decoding: DecodeOptions = DecodeOptions(colorHandling: .convertToSRGB)) {
        self.options = options
        self.decoding = decoding
    }

    public func process(_ bytes: [UInt8], format: ImageFormat, action: ProcessAction) async throws -> [SandboxProcessedChild] {
        let image = try ImageDecoder.decode(bytes, options: decoding)
        let local = ImageAction(action)
        let derived = try image.applying(local, outputHasAlpha: format != .jpeg, options: options)
        var children: [SandboxProcessedChild] = []
        for (index, result) in derived.enumerated() {
            children.append(SandboxProcessedChild(type: local.childType(of: result, at: index),
                                                  bytes: try ImageEncoder.encode(result.image, as: format)))
        }
        return children
    }
}
