import CColour
import Foundation

/// An embedded ICC profile, checked by lcms2 (a header that parses is not
/// enough: the profile must also build a transform to sRGB).
public struct ICCProfile: Sendable, Equatable {
    public let bytes: [UInt8]
    public let model: ColorModel

    /// Nil (with the reason) when lcms2 cannot use the profile or it describes
    /// neither gray, RGB nor CMYK (Lab, XYZ, n-colour, device links).
    public static func parse(_ bytes: [UInt8]) -> Result<ICCProfile, ColorWarning> {
        var message = [CChar](repeating: 0, count: 256)
        let model = bytes.withUnsafeBufferPointer { p in
            cc_profile_model(p.baseAddress, p.count, &message, message.count)
        }
        switch model {
        case Int32(CC_MODEL_GRAY): return .success(ICCProfile(bytes: bytes, model: .gray))
        case Int32(CC_MODEL_RGB): return .success(ICCProfile(bytes: bytes, model: .rgb))
        case Int32(CC_MODEL_CMYK): return .success(ICCProfile(bytes: bytes, model: .cmyk))
        case Int32(CC_MODEL_OTHER):
            return .failure(ColorWarning(.mismatchedProfile, "a \(headerColorSpace(bytes) ?? "?") profile (\(bytes.count) bytes) fits no gray, RGB or CMYK image; ignored"))
        default:
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return .failure(ColorWarning(.unreadableProfile, "the \(bytes.count)-byte ICC profile is unusable (\(reason)); ignored"))
        }
    }

    /// The data colour space signature from the 128-byte header ("RGB", "GRAY",
    /// "CMYK"), read without lcms2: cheap enough for every encode.
    public static func headerColorSpace(_ bytes: [UInt8]) -> String? {
        guard bytes.count >= 128 else { return nil }
        let signature = bytes[16 ..< 20].map { Character(Unicode.Scalar($0)) }
        return String(signature).trimmingCharacters(in: .whitespaces)
    }

    /// True when the profile's header says it describes pixels of `layout`.
    public static func fits(_ bytes: [UInt8], _ layout: PixelLayout) -> Bool {
        headerColorSpace(bytes) == (layout.isGray ? "GRAY" : "RGB")
    }

    /// True when the header names a colour space other than the pixels' own
    /// (a CMYK profile on RGB samples); bytes that are no ICC header at all are
    /// left to the caller, who put them there.
    public static func contradicts(_ bytes: [UInt8], _ layout: PixelLayout) -> Bool {
        guard let space = headerColorSpace(bytes), knownColorSpaces.contains(space) else { return false }
        return !fits(bytes, layout)
    }

    /// ICC data colour space signatures (ICC.1:2010 table 19), padded spaces trimmed.
    static let knownColorSpaces: Set<String> = [
        "XYZ", "Lab", "Luv", "YCbr", "Yxy", "RGB", "GRAY", "HSV", "HLS", "CMYK", "CMY",
        "2CLR", "3CLR", "4CLR", "5CLR", "6CLR", "7CLR", "8CLR", "9CLR", "ACLR", "BCLR", "CCLR", "DCLR", "ECLR", "FCLR",
    ]
}
