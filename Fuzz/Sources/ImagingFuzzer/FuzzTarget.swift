// libFuzzer entry point for the three decoders.
//
// FUZZ_FORMAT (png, jpeg or gif; default: all) picks the format: inputs whose
// signature is another format's are skipped, so each campaign's corpus stays on
// one decoder. Every input goes through probe and decode with tight-but-realistic
// limits; the last byte picks the decode options, so the mutator explores them too.
// Whatever decodes is encoded back to its own format (small images only), which
// exercises the encoders on odd layouts, palettes, profiles and frame counts.
//
// A crash, an ASan report, a timeout (-timeout) or an allocation over -rss_limit_mb /
// -malloc_limit_mb is a finding. A thrown ImagingError is the expected outcome for
// garbage; anything else thrown cannot happen (typed throws).

import Imaging

#if canImport(Glibc)
import Glibc
#endif

/// Which format this process fuzzes, from FUZZ_FORMAT; nil means all three.
nonisolated(unsafe) private var targetFormat: ImageFormat?? = nil

private func selectedFormat() -> ImageFormat? {
    if let chosen = targetFormat { return chosen }
    var chosen: ImageFormat? = nil
    if let raw = getenv("FUZZ_FORMAT") {
        switch String(cString: raw).lowercased() {
        case "png": chosen = .png
        case "jpeg", "jpg": chosen = .jpeg
        case "gif": chosen = .gif
        default: chosen = nil
        }
    }
    targetFormat = .some(chosen)
    return chosen
}

/// Tight but realistic: a 4 MP canvas is a large web asset; 1 MB of input is
/// above the -max_len the campaigns use, so it never refuses a fuzz input by size.
private let fuzzLimits = DecodeLimits(
    maxPixels: 4_000_000,
    maxDimension: 16_384,
    maxFrames: 64,
    maxTotalFramePixels: 16_000_000,
    maxInputBytes: 1 << 20,
    maxMetadataBytes: 256 << 10
)

/// Only images up to this many pixels (all frames) are re-encoded, to keep exec/s up.
private let maxEncodePixels = 512 * 512

private func options(from selector: UInt8) -> DecodeOptions {
    let shrinks = JPEGShrink.allCases
    return DecodeOptions(
        limits: fuzzLimits,
        applyOrientation: selector & 0x01 == 0,
        jpegShrink: shrinks[Int(selector >> 1) % shrinks.count],
        firstFrameOnly: selector & 0x10 != 0,
        keepColorProfile: selector & 0x20 == 0,
        // The top bits also run the lcms2 colour step: profile parsing and conversion (CMYK included).
        colorHandling: [ColorHandling.asStored, .convertToSRGB, .keepProfile][Int(selector >> 6) % 3]
    )
}

private func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition {
        // A decoder returned something inconsistent: make it a finding.
        fatalError("invariant broken: \(message())")
    }
}

private func validate(_ image: Image, info: ImageInfo?, options: DecodeOptions) {
    check(!image.frames.isEmpty, "no frames")
    let width = image.width, height = image.height
    check(width > 0 && height > 0, "empty image \(width)x\(height)")
    check(width * height <= options.limits.maxPixels, "image \(width)x\(height) over maxPixels")
    check(image.frames.count <= options.limits.maxFrames, "\(image.frames.count) frames over maxFrames")
    if options.firstFrameOnly { check(image.frames.count == 1, "firstFrameOnly gave \(image.frames.count) frames") }
    for frame in image.frames {
        let p = frame.pixels
        check(p.width == width && p.height == height && p.layout == image.layout, "frames differ in size or layout")
        check(p.bytes.count == p.width * p.height * p.layout.channels,
              "buffer of \(p.bytes.count) bytes for \(p.width)x\(p.height)x\(p.layout.channels)")
    }
    if let info, options.jpegShrink == .none, !options.applyOrientation || info.orientation == 1 {
        // Probe and decode must agree on the size they report.
        check(info.width == width && info.height == height,
              "probe says \(info.width)x\(info.height), decode gives \(width)x\(height)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // No signature: nothing past detection to explore; -1 keeps it out of the corpus.
    guard let detected = ImageFormat.detect(bytes) else { return -1 }
    if let wanted = selectedFormat(), wanted != detected { return -1 } // -1: do not add to the corpus

    let options = options(from: bytes[bytes.count - 1])

    let info = try? ImageDecoder.probe(bytes, limits: options.limits)
    let image: Image
    do {
        image = try ImageDecoder.decode(bytes, options: options)
    } catch {
        _ = error.code // typed ImagingError: the expected outcome for garbage
        return 0
    }
    validate(image, info: info, options: options)

    let totalPixels = image.width * image.height * image.frames.count
    if totalPixels <= maxEncodePixels {
        let encoded: [UInt8]
        do {
            encoded = try ImageEncoder.encode(image, as: detected)
        } catch {
            // An encoder may refuse with a typed error; that is allowed.
            _ = error.code
            return 0
        }
        // What an encoder writes must read back, at the same size.
        do {
            let again = try ImageDecoder.decode(encoded, options: DecodeOptions(limits: fuzzLimits))
            check(again.width == image.width && again.height == image.height, "re-encoded image changed size")
        } catch {
            fatalError("the \(detected) encoder wrote a file its decoder refuses: \(error)")
        }
    }
    return 0
}
