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

/// A minimal processor on the Imaging module: exact crops and quarter-turn
/// rotations, and nearest-neighbour sampling for scale and thumbnails. It is a
/// stand-in until the resampling core is connected; it works on the first frame.
public struct BasicSandboxImageProcessor: SandboxImageProcessor {
    public init() {}

    public func process(_ bytes: [UInt8], format: ImageFormat, action: SandboxProcessAction) async throws -> [UInt8] {
        var options = DecodeOptions.default
        options.firstFrameOnly = true
        let image = try ImageDecoder.decode(bytes, options: options)
        let src = image.pixels
        let out: PixelBuffer
        switch action {
        case .crop(let x, let y, let w, let h):
            out = Self.crop(src, x: x, y: y, width: w, height: h)
        case .rotate(let angle):
            out = Self.rotate(src, quarterTurns: angle / 90)
        case .scale(let w, let h), .thumbnail(let w, let h):
            out = Self.nearest(src, width: w, height: h)
        }
        return try ImageEncoder.encode(Image(pixels: out, colorProfile: image.colorProfile, sourceFormat: format), as: format)
    }

    /// Copies whole row slices: no resampling, so the result is bit-exact.
    static func crop(_ src: PixelBuffer, x: Int, y: Int, width: Int, height: Int) -> PixelBuffer {
        let c = src.channels
        var bytes: [UInt8] = []
        bytes.reserveCapacity(width * height * c)
        for row in y..<(y + height) {
            let start = row * src.bytesPerRow + x * c
            bytes.append(contentsOf: src.bytes[start..<(start + width * c)])
        }
        return PixelBuffer(width: width, height: height, layout: src.layout, bytes: bytes)
    }

    /// Clockwise quarter turns.
    static func rotate(_ src: PixelBuffer, quarterTurns: Int) -> PixelBuffer {
        let turns = ((quarterTurns % 4) + 4) % 4
        if turns == 0 { return src }
        let c = src.channels
        let (w, h) = turns == 2 ? (src.width, src.height) : (src.height, src.width)
        var bytes = [UInt8](repeating: 0, count: w * h * c)
        for sy in 0..<src.height {
            for sx in 0..<src.width {
                let (dx, dy): (Int, Int)
                switch turns {
                case 1: (dx, dy) = (src.height - 1 - sy, sx)
                case 2: (dx, dy) = (src.width - 1 - sx, src.height - 1 - sy)
                default: (dx, dy) = (sy, src.width - 1 - sx)
                }
                let s = (sy * src.width + sx) * c, d = (dy * w + dx) * c
                for k in 0..<c { bytes[d + k] = src.bytes[s + k] }
            }
        }
        return PixelBuffer(width: w, height: h, layout: src.layout, bytes: bytes)
    }

    static func nearest(_ src: PixelBuffer, width: Int, height: Int) -> PixelBuffer {
        let c = src.channels
        var bytes = [UInt8](repeating: 0, count: width * height * c)
        for y in 0..<height {
            let sy = min(src.height - 1, (2 * y + 1) * src.height / (2 * height))
            for x in 0..<width {
                let sx = min(src.width - 1, (2 * x + 1) * src.width / (2 * width))
                let s = (sy * src.width + sx) * c, d = (y * width + x) * c
                for k in 0..<c { bytes[d + k] = src.bytes[s + k] }
            }
        }
        return PixelBuffer(width: width, height: height, layout: src.layout, bytes: bytes)
    }
}
