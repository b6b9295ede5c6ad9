/// What decoding does with colour.
public enum ColorHandling: String, Sendable, Equatable, CaseIterable {
    /// Samples as the codec stores them, profile attached as read (CMYK turned
    /// into RGB by formula). The raw view: probes, codec tests, corpus checks.
    case asStored
    /// Everything converted to sRGB through its embedded profile (CMYK through
    /// the default CMYK profile when it has none); the image then carries no
    /// profile, since an untagged image is sRGB to every browser.
    case convertToSRGB
    /// An RGB or gray source keeps its own valid profile and its pixels
    /// unconverted (wide gamut: Display P3, Adobe RGB); CMYK is still converted
    /// to sRGB, because a CMYK profile never describes RGB pixels.
    case keepProfile
}

/// The colour model of a source's samples.
public enum ColorModel: String, Sendable, Equatable, Codable {
    case gray, rgb, cmyk
}

/// Why a source's colour was handled other than through its own profile.
/// Never an error: the image still decodes, as libvips does.
public struct ColorWarning: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        /// lcms2 refused the embedded profile (truncated, malformed): ignored.
        case unreadableProfile
        /// The profile describes another colour model than the pixels: ignored.
        case mismatchedProfile
        /// CMYK without a usable profile: converted through the default CMYK profile.
        case defaultCMYKProfile
        /// CMYK without a usable profile and no default CMYK profile installed: converted by formula.
        case naiveCMYK
    }

    public var kind: Kind
    public var detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "\(kind.rawValue): \(detail)" }
}
