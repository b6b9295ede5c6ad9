import CColour
import Foundation

/// Conversion of decoded samples to sRGB through lcms2 (relative colorimetric,
/// black-point compensation, as libvips' `icc_transform` does).
enum ColorConverter {
    /// Gray stays gray (sRGB's tone curve), RGB(A) stays RGB(A), alpha is copied.
    static func toSRGB(_ pixels: PixelBuffer, profile: ICCProfile) throws(ImagingError) -> PixelBuffer {
        let input = cc_input(model: pixels.layout.isGray ? Int32(CC_MODEL_GRAY) : Int32(CC_MODEL_RGB),
                             has_alpha: pixels.layout.hasAlpha ? 1 : 0, cmyk_inverted: 0)
        return try convert(pixels.bytes, width: pixels.width, height: pixels.height, input: input,
                           profile: profile.bytes, to: pixels.layout)
    }

    /// Interleaved CMYK samples (`inverted`: 255 - ink, as Adobe stores them) to RGB.
    static func cmykToSRGB(_ cmyk: [UInt8], width: Int, height: Int, inverted: Bool, profile: ICCProfile) throws(ImagingError) -> PixelBuffer {
        let input = cc_input(model: Int32(CC_MODEL_CMYK), has_alpha: 0, cmyk_inverted: inverted ? 1 : 0)
        return try convert(cmyk, width: width, height: height, input: input, profile: profile.bytes, to: .rgb)
    }

    /// The naive formula (R = (1 - C)(1 - K), ...) for CMYK with no profile at all.
    static func cmykByFormula(_ cmyk: [UInt8], width: Int, height: Int, inverted: Bool) -> PixelBuffer {
        PixelBuffer(width: width, height: height, layout: .rgb) { (out: UnsafeMutableRawBufferPointer) in
            for i in 0 ..< width * height {
                var s = (cmyk[4 * i], cmyk[4 * i + 1], cmyk[4 * i + 2], cmyk[4 * i + 3])
                if !inverted { s = (255 - s.0, 255 - s.1, 255 - s.2, 255 - s.3) }
                let k = Int(s.3)
                out[3 * i] = UInt8((Int(s.0) * k + 127) / 255)
                out[3 * i + 1] = UInt8((Int(s.1) * k + 127) / 255)
                out[3 * i + 2] = UInt8((Int(s.2) * k + 127) / 255)
            }
        }
    }

    private static func convert(_ samples: [UInt8], width: Int, height: Int, input: cc_input, profile: [UInt8],
                                to layout: PixelLayout) throws(ImagingError) -> PixelBuffer {
        var message = [CChar](repeating: 0, count: 256)
        var input = input
        var failed = false
        let result = PixelBuffer(width: width, height: height, layout: layout) { (out: UnsafeMutableRawBufferPointer) in
            let status = samples.withUnsafeBufferPointer { source in
                profile.withUnsafeBufferPointer { icc in
                    cc_convert_to_srgb(icc.baseAddress, icc.count, &input, source.baseAddress,
                                       out.baseAddress!.assumingMemoryBound(to: UInt8.self), width * height,
                                       &message, message.count)
                }
            }
            failed = status != 0
        }
        if failed {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ImagingError(.unsupported, "colour conversion failed: \(reason)")
        }
        return result
    }
}

/// Where CMYK without a usable embedded profile gets its colours: Ghostscript's
/// default CMYK profile (Debian: libgs-common), a coated-paper press profile.
public enum DefaultCMYKProfile {
    public static let path = "/usr/share/color/icc/ghostscript/default_cmyk.icc"

    /// Read once; nil when the file is missing or unusable.
    public static let profile: ICCProfile? = {
        guard let data = FileManager.default.contents(atPath: path),
              case let .success(profile) = ICCProfile.parse([UInt8](data)), profile.model == .cmyk
        else { return nil }
        return profile
    }()
}
