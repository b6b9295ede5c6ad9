/// The three formats the worker reads and writes.
public enum ImageFormat: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    case png
    case jpeg
    case gif

    /// Detects the format from the first bytes of the content. The file name is
    /// never consulted: a `.jpg` that holds PNG bytes is a PNG.
    public static func detect<C: Collection>(_ bytes: C) -> ImageFormat? where C.Element == UInt8 {
        let head = Array(bytes.prefix(8))
        if head.count >= 8, head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        // SOI followed by the start of any marker.
        if head.count >= 3, head[0] == 0xFF, head[1] == 0xD8, head[2] == 0xFF { return .jpeg }
        if head.count >= 6, head[0 ..< 6].elementsEqual(Array("GIF87a".utf8)) || head[0 ..< 6].elementsEqual(Array("GIF89a".utf8)) {
            return .gif
        }
        return nil
    }

    /// The MIME type the Classy API and S3 expect for this format.
    public var mimeType: String {
        switch self {
        case .png: "image/png"
        case .jpeg: "image/jpeg"
        case .gif: "image/gif"
        }
    }

    public init?(mimeType: String) {
        switch mimeType.lowercased() {
        case "image/png": self = .png
        case "image/jpeg", "image/jpg": self = .jpeg
        case "image/gif": self = .gif
        default: return nil
        }
    }

    /// The usual file extension, without the dot.
    public var fileExtension: String {
        switch self {
        case .png: "png"
        case .jpeg: "jpg"
        case .gif: "gif"
        }
    }

    public var description: String {
        switch self {
        case .png: "PNG"
        case .jpeg: "JPEG"
        case .gif: "GIF"
        }
    }
}
