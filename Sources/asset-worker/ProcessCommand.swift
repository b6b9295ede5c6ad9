import ArgumentParser
import AssetPipeline
import Foundation
import Imaging

/// `asset-worker process FILE... [actions] [--out DIR] [--json]`: local only, no network.
struct ProcessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process",
        abstract: "Run the API's process actions locally: thumbnails, crop, scale, rotate.",
        discussion: """
        Decodes each file once, runs every action given, encodes the results in the source's format (or --format) \
        and prints the parent and child records as JSON, shaped like the Classy API's asset records, with local \
        placeholder ids. With no action, the file is only checked and described. Exits 65 when a file is refused. \
        stdout carries only the records (with --json, one JSON object per line); warnings (a box an automatic \
        crop moved, animation frames dropped) are in the records and also on stderr.
        """
    )

    @Argument(help: "Source images.")
    var files: [String]

    @OptionGroup var actionFlags: ActionFlags

    @Option(help: "Write the derived images into this folder.")
    var out: String?

    @Option(help: "Output format for the derived images: png, jpeg or gif (default: the source's).")
    var format: ImageFormat?

    @OptionGroup var jpegFlags: JPEGEncodingFlags

    @Option(help: "Worker threads for resampling (default: every core).")
    var threads: Int?

    @Option(help: ArgumentHelp(
        "srgb: derived images are converted to sRGB through the source's profile; keep: an RGB or gray source keeps its own profile (wide gamut). CMYK always becomes sRGB.",
        valueName: "keep|srgb"))
    var profile: ProfileChoice = .srgb

    enum ProfileChoice: String, ExpressibleByArgument {
        case keep, srgb
    }

    @Flag(help: "One compact JSON record per line (parent first, then its children) instead of pretty JSON.")
    var json = false

    struct FileReport: Encodable {
        var parent: AssetRecord
        var children: [AssetRecord]
    }

    struct FailureReport: Encodable {
        var file: String
        var error: String
        var message: String
    }

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() async throws {
        let actions = try actionFlags.actions()
        let processor = LocalProcessor(
            processing: ProcessingOptions(filter: actionFlags.filter, threads: threads),
            encoding: jpegFlags.encodeOptions, outputFormat: format, keepColorProfile: profile == .keep)
        var refused = false
        for file in files {
            do throws(ImagingError) {
                let result = try await processor.process(file: file, actions: actions, outputDirectory: out)
                let children = result.children.map(\.record)
                for child in children {
                    for warning in child.warnings ?? [] {
                        FileHandle.standardError.write(Data("asset-worker process: \(file): \(child.type ?? "child"): warning: \(warning)\n".utf8))
                    }
                }
                if json {
                    JSONLine.print(result.parent)
                    children.forEach { JSONLine.print($0) }
                } else {
                    print(PrettyJSON.encode(FileReport(parent: result.parent, children: children)))
                }
            } catch {
                refused = true
                let report = FailureReport(file: file, error: error.code.rawValue, message: error.description)
                if json { JSONLine.print(report) } else { print(PrettyJSON.encode(report)) }
                FileHandle.standardError.write(Data("asset-worker process: \(file): \(error)\n".utf8))
            }
        }
        if refused { throw ExitCode(ExitStatus.dataError) }
    }
}

enum PrettyJSON {
    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
