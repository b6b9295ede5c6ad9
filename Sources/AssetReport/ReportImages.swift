import AssetProcessing
import Foundation
import Imaging

/// Turns processed images and records into the page's values: images as
/// `data:` URIs (the page needs no network and no files beside it), crop boxes,
/// and the warnings a person should read before the images go live.
public enum ReportImages {
    /// The longest side of the source preview the crop boxes are drawn on.
    public static let previewSide = 360

    /// `data:<type>;base64,...`
    public static func dataURI(_ bytes: [UInt8], contentType: String) -> String {
        "data:\(contentType);base64," + Data(bytes).base64EncodedString()
    }

    /// The source's upright first frame, in sRGB, shrunk to at most `maxSide`
    /// a side (never enlarged), as a JPEG (a PNG when it has alpha). nil when
    /// it does not decode; the page then says so instead of showing it.
    public static func preview(of bytes: [UInt8], maxSide: Int = previewSide) -> ReportImage? {
        guard let info = try? ImageDecoder.probe(bytes) else { return nil }
        var options = DecodeOptions(firstFrameOnly: true, colorHandling: .convertToSRGB)
        // Shrink-on-load: the preview needs a few hundred pixels, not the whole JPEG.
        let longest = max(info.displayWidth, info.displayHeight)
        for shrink in JPEGShrink.allCases.reversed() where longest / shrink.rawValue >= maxSide * 2 {
            options.jpegShrink = shrink
            break
        }
        guard let image = try? ImageDecoder.decode(bytes, options: options) else { return nil }
        let scale = min(1, Double(maxSide) / Double(max(image.width, image.height)))
        let width = max(1, Int((Double(image.width) * scale).rounded()))
        let height = max(1, Int((Double(image.height) * scale).rounded()))
        guard let pixels = try? (scale < 1 ? image.pixels.resized(width: width, height: height) : image.pixels) else { return nil }
        let hasAlpha = pixels.layout == .rgba || pixels.layout == .grayAlpha
        let format: ImageFormat = hasAlpha ? .png : .jpeg
        guard let encoded = try? ImageEncoder.encode(Image(pixels: pixels), as: format) else { return nil }
        return ReportImage(dataURI: dataURI(encoded, contentType: format.mimeType), width: width, height: height)
    }

    /// A record as a row of the page; `bytes`, when given, are shown at real size.
    public static func output(_ record: AssetRecord, bytes: [UInt8]?) -> ReportOutput {
        ReportOutput(type: record.type, width: record.width, height: record.height, bytes: record.size,
                     contentType: record.contentType, sha256: record.sha256,
                     image: bytes.map { ReportImage(dataURI: dataURI($0, contentType: record.contentType), width: record.width, height: record.height) },
                     id: record.id.description, state: record.state.rawValue, cdnURL: record.cdnURL, warnings: record.warnings ?? [])
    }

    /// The boxes cover crops keep, from the children's records.
    public static func cropMarks(children: [AssetRecord], coverCrops: [CoverCrop?] = []) -> [ReportCropMark] {
        children.enumerated().compactMap { index, record in
            guard let box = record.cropBox else { return nil }
            let cover = index < coverCrops.count ? coverCrops[index] : nil
            let centred = cover.flatMap { $0.centred != $0.box ? $0.centred : nil }
            return ReportCropMark(label: record.type ?? "crop", box: box, centred: centred)
        }
    }

    /// What a person should check before this goes live: the records' own
    /// warnings (a moved smart crop, frames dropped, a CMYK original), colour
    /// profiles ignored, derived images made larger than the pixels they come
    /// from, and a source that is not sRGB.
    public static func warnings(parent: AssetRecord, children: [AssetRecord], sourceBytes: [UInt8]?) -> [String] {
        var warnings = parent.warnings ?? []
        warnings += parent.colorWarnings.map { "colour: \($0)" }
        if let sourceBytes, let note = colourSpaceNote(sourceBytes) { warnings.append(note) }
        for child in children {
            let type = child.type ?? "child"
            warnings += (child.warnings ?? []).map { "\(type): \($0)" }
            if let upscale = upscaleNote(child, parent: parent) { warnings.append(upscale) }
        }
        return warnings
    }

    /// A derived image with more pixels than the part of the source it shows.
    static func upscaleNote(_ child: AssetRecord, parent: AssetRecord) -> String? {
        let type = child.type ?? "child"
        // A rotation's canvas grows with the angle; that is not enlargement.
        if type.hasPrefix("rotated") { return nil }
        let from = child.cropBox.map { PixelSize(width: $0.width, height: $0.height) } ?? PixelSize(width: parent.width, height: parent.height)
        guard child.width > from.width || child.height > from.height else { return nil }
        return "\(type): upscaled, its \(child.width)x\(child.height) pixels come from \(from.width)x\(from.height) source pixels"
    }

    /// A source with an embedded profile that is not sRGB (Display P3, Adobe RGB,
    /// CMYK): derived images are converted, and may look different from the original.
    static func colourSpaceNote(_ bytes: [UInt8]) -> String? {
        let options = DecodeOptions(jpegShrink: .eighth, firstFrameOnly: true, keepColorProfile: true, colorHandling: .asStored)
        guard let image = try? ImageDecoder.decode(bytes, options: options), let profile = image.colorProfile, !profile.isEmpty else { return nil }
        guard !describesSRGB(profile) else { return nil }
        let space = ICCProfile.headerColorSpace(profile).map { " (\($0.trimmingCharacters(in: .whitespaces)))" } ?? ""
        return "the source is not sRGB: its colour profile\(space) is converted to sRGB in the derived images"
    }

    /// Whether a profile's text names sRGB (its description, ASCII or the UTF-16 of `mluc`).
    static func describesSRGB(_ profile: [UInt8]) -> Bool {
        let ascii: [UInt8] = Array("sRGB".utf8)
        let utf16: [UInt8] = [0, 0x73, 0, 0x52, 0, 0x47, 0, 0x42]
        return contains(profile, ascii) || contains(profile, utf16)
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        for start in 0 ... haystack.count - needle.count where haystack[start] == needle[0] {
            if Array(haystack[start ..< start + needle.count]) == needle { return true }
        }
        return false
    }

    /// The images of a processed job: the original (no bytes inlined: it is
    /// shown as the preview), every output at real size, boxes and warnings.
    public static func content(of processed: ProcessedAsset) -> ReportJobContent {
        let children = processed.children.map(\.record)
        return ReportJobContent(
            original: output(processed.parent, bytes: nil),
            preview: preview(of: processed.parentBytes),
            cropMarks: cropMarks(children: children, coverCrops: processed.children.map(\.coverCrop)),
            outputs: processed.children.map { output($0.record, bytes: $0.bytes) },
            warnings: warnings(parent: processed.parent, children: children, sourceBytes: processed.parentBytes))
    }
}

/// The image parts of a `ReportJob`.
public struct ReportJobContent: Sendable, Equatable {
    public var original: ReportOutput
    public var preview: ReportImage?
    public var cropMarks: [ReportCropMark]
    public var outputs: [ReportOutput]
    public var warnings: [String]
}
