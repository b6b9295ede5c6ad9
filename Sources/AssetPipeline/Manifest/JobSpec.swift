import Foundation
import Imaging

/// A job described in Swift rather than in a manifest file: the same fields as
/// a manifest entry. `Manifest.build(_:)` checks a list of them with the very
/// validator a file goes through, so a batch built in code means exactly what
/// the same YAML would (same keys, same eCard rules, same job keys).
public struct JobSpec: Sendable, Hashable {
    /// The role, with the target it is attached to.
    public enum Target: Sendable, Hashable {
        case logo(campaign: Int)
        /// `strict` refuses a source that is not 600x400 instead of cover-cropping it.
        case ecard(campaign: Int, order: Int, strict: Bool = false)
        case social(SocialTarget)
        case sponsor(matchingPlan: Int)
        /// A plain asset: the original and what `actions` make of it.
        case asset
    }

    public var source: String
    public var target: Target
    /// Cover thumbnails of the original (every role but `ecard`).
    public var thumbnails: [PixelSize]
    /// Any list of the four actions (`asset` only).
    public var actions: [ImageAction]
    /// Format of the derived images; nil keeps the source's.
    public var format: ImageFormat?
    /// The member the assets are created for; nil uses the client's.
    public var memberID: Int?
    /// How the job's cover crops (an eCard's 600x400, cover thumbnails) are placed; nil is centred.
    public var crop: CropStrategy?
    /// Where the actions run (`actions_on`); nil is local.
    public var actionsOn: ActionPlace?

    public init(source: String, target: Target, thumbnails: [PixelSize] = [], actions: [ImageAction] = [],
                format: ImageFormat? = nil, memberID: Int? = nil, crop: CropStrategy? = nil, actionsOn: ActionPlace? = nil) {
        self.source = source
        self.target = target
        self.thumbnails = thumbnails
        self.actions = actions
        self.format = format
        self.memberID = memberID
        self.crop = crop
        self.actionsOn = actionsOn
    }

    /// The job as one YAML flow mapping (one line), keys as a manifest file spells them.
    var flowYAML: String {
        var fields: [String] = []
        switch target {
        case let .logo(campaign): fields += ["role: logo", "campaign: \(campaign)"]
        case let .ecard(campaign, order, strict): fields += ["role: ecard", "campaign: \(campaign)", "order: \(order)", "strict: \(strict)"]
        case let .social(.appealSet(id)): fields += ["role: social", "appeal_set: \(id)"]
        case let .social(.campaign(id)): fields += ["role: social", "campaign: \(id)"]
        case let .sponsor(plan): fields += ["role: sponsor", "matching_plan: \(plan)"]
        case .asset: fields += ["role: asset"]
        }
        fields.append("source: \(Self.quoted(source))")
        if !thumbnails.isEmpty { fields.append("thumbnails: \(Self.sizes(thumbnails))") }
        if !actions.isEmpty { fields.append("actions: [\(actions.map(Self.action).joined(separator: ", "))]") }
        if let format { fields.append("format: \(format.rawValue)") }
        if let memberID { fields.append("member_id: \(memberID)") }
        if let actionsOn { fields.append("actions_on: \(actionsOn.rawValue)") }
        if let strategy = crop ?? Self.actionCrop(actions) { fields.append(CropKeys.flowYAML(strategy)) }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    /// A strategy given on a cover thumbnails action instead of `crop`.
    private static func actionCrop(_ actions: [ImageAction]) -> CropStrategy? {
        for case let .thumbnails(_, .cover, strategy) in actions where strategy != .centre { return strategy }
        return nil
    }

    private static func sizes(_ sizes: [PixelSize]) -> String {
        "[" + sizes.map { "\($0.width)x\($0.height)" }.joined(separator: ", ") + "]"
    }

    private static func action(_ action: ImageAction) -> String {
        switch action {
        // A manifest sets the strategy per job (`crop`), not per action: see `actionCrop`.
        case let .thumbnails(list, fit, _): "{thumbnails: {sizes: \(sizes(list)), fit: \(fit.rawValue)}}"
        case let .crop(x, y, width, height): "{crop: {x: \(x), y: \(y), width: \(width), height: \(height)}}"
        case let .scale(width, height):
            "{scale: {" + [width.map { "width: \($0)" }, height.map { "height: \($0)" }].compactMap { $0 }.joined(separator: ", ") + "}}"
        case let .rotate(degrees): "{rotate: \(degrees)}"
        }
    }

    /// A YAML double-quoted scalar: JSON's string syntax, minus the `\/` escape libyaml may not know.
    private static func quoted(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return (try? encoder.encode(text)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }
}

extension Manifest {
    /// A batch built in code, validated as a manifest file is: every problem of
    /// every job at once, nothing uploaded from an invalid list. A problem's
    /// `line` is the job's position in `jobs` (1-based), and so is each `Job.line`.
    public static func build(_ jobs: [JobSpec], workingDirectory: String = FileManager.default.currentDirectoryPath,
                             limits: DecodeLimits = .default) throws(ManifestError) -> Manifest {
        // Job i is on line i + 2 of the text (after `jobs:`), so lines map back to positions.
        let text = jobs.isEmpty ? "jobs: []\n" : "jobs:\n" + jobs.map { "  - \($0.flowYAML)\n" }.joined()
        let position = { (line: Int) in max(0, line - 1) }
        do {
            var manifest = try ManifestLoader(limits: limits).parse(text, baseDirectory: workingDirectory, origin: "code")
            for index in manifest.jobs.indices { manifest.jobs[index].line = position(manifest.jobs[index].line) }
            return manifest
        } catch {
            let problems = error.problems.map { problem in
                ManifestProblem(line: position(problem.line), message: Self.renumberLines(problem.message, position))
            }
            throw ManifestError(error.code, origin: "code", problems: problems)
        }
    }

    /// "... (line 4)" in a message about another job becomes "(job 3)".
    private static func renumberLines(_ message: String, _ position: (Int) -> Int) -> String {
        var result = ""
        var rest = Substring(message)
        while let range = rest.range(of: "line ") {
            result += rest[..<range.lowerBound]
            let digits = rest[range.upperBound...].prefix { $0.isNumber }
            if let line = Int(digits) {
                result += "job \(position(line))"
            } else {
                result += "line "
            }
            rest = rest[range.upperBound...].dropFirst(digits.count)
        }
        return result + rest
    }
}
