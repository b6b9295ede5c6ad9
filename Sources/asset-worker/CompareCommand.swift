import ArgumentParser
import AssetPipeline
import ClassyAPI
import Foundation
import Imaging

/// `asset-worker compare IMAGE --actions A... [--sandbox] [--json] [--min-psnr DB]`.
struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Process an image locally and with the API's /process, and compare every child (size, bytes, PSNR).",
        discussion: """
        Uploads the original once, calls POST /2.0/assets/{id}/process once per action, downloads each child from \
        its cdn_url and compares it with the local result of the same action (children keep the source's format, \
        as the API's do). The server is the Classy API when credentials are configured (as for `upload`), or the \
        built-in sandbox with --sandbox. Each run creates new assets on the server; nothing is attached or journaled. \
        Actions: thumbnails=WxH[,WxH...], crop=X,Y,W,H, scale=WxH|Wx|xH, rotate=DEG (clockwise). \
        PSNR is in dB over 8-bit RGB (premultiplied RGBA when either has alpha); inf means identical pixels. \
        Exit status: 0 every child matched (and reached --min-psnr), 1 a child is missing, of another size or \
        below --min-psnr, 64 usage or credentials, 65 the source or an action refused locally, 69 the API failed.
        """
    )

    @Argument(help: "The source image (PNG, JPEG or GIF).")
    var image: String

    @Option(name: .long, parsing: .upToNextOption,
            help: ArgumentHelp("The API actions to compare, in order: thumbnails=WxH[,WxH...], crop=X,Y,W,H, scale=WxH|Wx|xH, rotate=DEG.",
                              valueName: "ACTION=ARGS"))
    var actions: [ActionArgument]

    @Option(help: ArgumentHelp("Exit 1 when a child's PSNR is below this.", valueName: "DB"))
    var minPsnr: Double?

    @Flag(help: "One JSON object per child on stdout, nothing else (messages go to stderr).")
    var json = false

    @OptionGroup var workspace: WorkspaceOptions

    func validate() throws {
        guard !actions.isEmpty else { throw ValidationError("give at least one --actions value") }
    }

    func run() async throws {
        let connection: Connection
        do {
            connection = try await Workspace.connect(workspace)
        } catch let failure as CLIFailure {
            StandardError.print("asset-worker compare: \(failure.message)")
            throw ExitCode(failure.status)
        }
        StandardError.print("asset-worker compare: \(connection.description)")
        let result: Result<ComparisonReport, ComparisonError>
        do throws(ComparisonError) {
            result = .success(try await ServerComparison(client: connection.client).compare(file: image, actions: actions.map(\.action)))
        } catch {
            result = .failure(error)
        }
        await connection.close()
        let report: ComparisonReport
        switch result {
        case let .failure(error):
            StandardError.print("asset-worker compare: \(error)")
            throw ExitCode(error.code == .server ? ExitStatus.unavailable : error.code == .local ? ExitStatus.dataError : ExitStatus.usage)
        case let .success(value):
            report = value
        }
        if json {
            report.children.forEach { JSONLine.print($0) }
        } else {
            print(Self.table(report))
        }
        let belowMinimum = minPsnr.map { floor in report.children.contains { ($0.psnr ?? -.infinity) < floor } } ?? false
        if !report.allMatched || belowMinimum {
            StandardError.print("asset-worker compare: " + (report.allMatched ? "a child is below --min-psnr \(minPsnr ?? 0)" : "a child did not match (see status)"))
            throw ExitCode(1)
        }
    }

    static func table(_ report: ComparisonReport) -> String {
        var lines = ["\(report.source) (\(report.width)x\(report.height)), original uploaded as asset \(report.parentID)"]
        let header = ["action", "type", "local", "server", "local B", "server B", "PSNR dB", "status"]
        let rows = report.children.map { c -> [String] in
            func size(_ s: ChildComparison.Side?) -> String {
                guard let s, let w = s.width, let h = s.height else { return "-" }
                return "\(w)x\(h)"
            }
            return [c.action, c.type ?? "-", size(c.local), size(c.server), c.local.map { String($0.bytes) } ?? "-",
                    c.server.map { String($0.bytes) } ?? "-", c.psnrText, c.status.rawValue]
        }
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max() ?? 0 }
        for row in [header] + rows {
            lines.append(row.enumerated().map { i, cell in cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
        return lines.joined(separator: "\n")
    }
}

/// One `--actions` value: `thumbnails=100x100,150x150`, `crop=10,10,100,100`,
/// `scale=200x` (one side keeps the aspect ratio), `rotate=-90`.
struct ActionArgument: ExpressibleByArgument {
    var action: ProcessAction

    init?(argument: String) {
        guard let parsed = try? Self.parse(argument) else { return nil }
        action = parsed
    }

    static func parse(_ text: String) throws -> ProcessAction {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let name = ProcessAction.Name(rawValue: parts[0].lowercased()) else {
            throw ValidationError("an action is NAME=ARGS with NAME one of thumbnails, crop, scale, rotate; got \(text)")
        }
        let value = parts[1].trimmingCharacters(in: .whitespaces)
        switch name {
        case .thumbnails:
            let sizes = value.split(separator: ",").map { PixelSize(parsing: $0) }
            guard !sizes.isEmpty, sizes.allSatisfy({ ($0?.width ?? 0) > 0 && ($0?.height ?? 0) > 0 }) else {
                throw ValidationError("thumbnails takes WxH[,WxH...]")
            }
            return .thumbnails(sizes.compactMap { $0.map(ProcessSize.init) })
        case .crop:
            let n = value.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard n.count == 4, let x = n[0], let y = n[1], let w = n[2], let h = n[3], x >= 0, y >= 0, w > 0, h > 0 else {
                throw ValidationError("crop takes X,Y,W,H")
            }
            return .crop(x: x, y: y, width: w, height: h)
        case .scale:
            let sides = value.lowercased().split(separator: "x", omittingEmptySubsequences: false).map(String.init)
            guard sides.count == 2 else { throw ValidationError("scale takes WxH, Wx or xH") }
            let w = Int(sides[0]), h = Int(sides[1])
            guard (w != nil || sides[0].isEmpty), (h != nil || sides[1].isEmpty), w != nil || h != nil, (w ?? 1) > 0, (h ?? 1) > 0 else {
                throw ValidationError("scale takes WxH, Wx or xH")
            }
            return .scale(width: w, height: h)
        case .rotate:
            guard let angle = Double(value), angle.isFinite else { throw ValidationError("rotate takes a number of degrees") }
            return .rotate(angle: angle)
        }
    }

    static var defaultCompletionKind: CompletionKind { .default }
}
