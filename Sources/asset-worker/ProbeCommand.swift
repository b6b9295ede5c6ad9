import ArgumentParser
import Foundation
import Imaging

/// `asset-worker probe FILE...`: one JSON object per file with what its header
/// says, after checking that the whole file decodes (unless `--header-only`).
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Identify images by content and check that they decode.",
        discussion: "Prints one JSON object per file: format, width and height as stored (before EXIF rotation), orientation, frames, hasAlpha; or error (truncated, corrupt, unsupported, too_large, io) and message. Exits 65 when any file is refused."
    )

    @Argument(help: "Image files to probe.")
    var files: [String]

    @Flag(help: "Read headers only; do not decode the pixels (faster, but cannot see damage after the header).")
    var headerOnly = false

    @Option(help: "Largest accepted image, in megapixels.")
    var maxMegapixels: Int = 100

    struct Report: Encodable {
        var file: String
        var format: String?
        var width: Int?
        var height: Int?
        var orientation: Int?
        var frames: Int?
        var hasAlpha: Bool?
        var error: String?
        var message: String?
    }

    func run() throws {
        var limits = DecodeLimits()
        limits.maxPixels = maxMegapixels * 1_000_000
        var refused = false
        for file in files {
            do throws(ImagingError) {
                let bytes = try ImageFile.read(file, limits: limits)
                let info = try ImageDecoder.probe(bytes, limits: limits)
                if !headerOnly {
                    // Full decode as stored: catches damage after the header.
                    _ = try ImageDecoder.decode(bytes, options: DecodeOptions(limits: limits, applyOrientation: false, keepColorProfile: false))
                }
                JSONLine.print(Report(file: file, format: info.format.rawValue, width: info.width, height: info.height,
                                      orientation: info.orientation, frames: info.frames, hasAlpha: info.hasAlpha))
            } catch {
                refused = true
                JSONLine.print(Report(file: file, format: error.format?.rawValue, error: error.code.rawValue, message: error.description))
            }
        }
        if refused { throw ExitCode(ExitStatus.dataError) }
    }
}
