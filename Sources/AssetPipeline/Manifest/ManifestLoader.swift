import Foundation
import Imaging
import Yams

/// Reads a manifest (YAML or JSON) into a validated `Manifest`, or throws one
/// `ManifestError` listing every problem in the file with its line.
///
/// The file is parsed to Yams nodes and walked by hand rather than decoded
/// with `Decodable`: nodes keep their line and column, so each problem can say
/// where it is, and walking on after a problem lets all of them be reported at once.
/// JSON needs no second parser: it is YAML's flow style, and libyaml gives its
/// nodes positions just the same.
public struct ManifestLoader: Sendable {
    /// Limits for reading and probing sources (the same ones processing uses).
    public var limits: DecodeLimits

    public init(limits: DecodeLimits = .default) {
        self.limits = limits
    }

    public func load(path: String) throws(ManifestError) -> Manifest {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let text: String
        do {
            text = try String(contentsOfFile: absolute, encoding: .utf8)
        } catch {
            throw ManifestError(.unreadable, origin: path, problems: [
                ManifestProblem(line: 0, message: "cannot read the manifest: \(error.localizedDescription)"),
            ])
        }
        return try parse(text, baseDirectory: URL(fileURLWithPath: absolute).deletingLastPathComponent().path,
                         origin: path, path: absolute)
    }

    /// Validates manifest text; relative sources are resolved against `baseDirectory`.
    public func parse(_ text: String, baseDirectory: String, origin: String = "manifest", path: String? = nil) throws(ManifestError) -> Manifest {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ManifestError(.syntax, origin: origin, problems: [Self.syntaxProblem(error)])
        }
        guard let root else {
            throw ManifestError(.invalid, origin: origin, problems: [ManifestProblem(line: 1, message: "the manifest is empty; expected a mapping with `jobs:`")])
        }
        var validator = ManifestValidator(baseDirectory: baseDirectory, limits: limits)
        let jobs = validator.manifest(root)
        guard validator.problems.isEmpty else {
            throw ManifestError(.invalid, origin: origin, problems: validator.problems)
        }
        return Manifest(path: path, jobs: jobs)
    }

    static func syntaxProblem(_ error: Error) -> ManifestProblem {
        switch error as? YamlError {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            let what = context.map { "\($0.text): \(problem)" } ?? problem
            return ManifestProblem(line: mark.line, column: mark.column, message: "not valid YAML/JSON: \(what)")
        case let .duplicatedKeysInMapping(duplicates, context):
            return ManifestProblem(line: context.mark.line, column: context.mark.column,
                                   message: "duplicate key(s) \(duplicates.joined(separator: ", "))")
        default:
            return ManifestProblem(line: 1, message: "not valid YAML/JSON: \(error)")
        }
    }
}

extension Manifest {
    /// Reads and validates a manifest file.
    public static func load(path: String, limits: DecodeLimits = .default) throws(ManifestError) -> Manifest {
        try ManifestLoader(limits: limits).load(path: path)
    }

    /// A one-job manifest from command-line options, e.g.
    /// `asset-worker upload logo.png --campaign 1001 --role logo --thumbnails 100x100,150x150`.
    ///
    /// The options are turned into the same nodes a manifest file gives and go
    /// through the same validation, so the command line and files can never
    /// disagree about what a job means. Problems have line 0 and name the option
    /// by its manifest key (`campaign` for `--campaign`).
    public static func singleJob(
        source: String, role: String, campaign: Int? = nil, order: Int? = nil, strict: Bool? = nil,
        appealSet: Int? = nil, matchingPlan: Int? = nil, thumbnails: [String] = [],
        format: String? = nil, memberID: Int? = nil, actionsOn: String? = nil,
        workingDirectory: String = FileManager.default.currentDirectoryPath,
        limits: DecodeLimits = .default
    ) throws(ManifestError) -> Manifest {
        func scalar(_ text: String) -> Node { .scalar(Node.Scalar(text)) }
        var pairs: [(Node, Node)] = [(scalar("role"), scalar(role)), (scalar("source"), scalar(source))]
        if let campaign { pairs.append((scalar("campaign"), scalar(String(campaign)))) }
        if let order { pairs.append((scalar("order"), scalar(String(order)))) }
        if let strict { pairs.append((scalar("strict"), scalar(strict ? "true" : "false"))) }
        if let appealSet { pairs.append((scalar("appeal_set"), scalar(String(appealSet)))) }
        if let matchingPlan { pairs.append((scalar("matching_plan"), scalar(String(matchingPlan)))) }
        if !thumbnails.isEmpty {
            // `--thumbnails 100x100,150x150` and repeated `--thumbnails` both work.
            let sizes = thumbnails.flatMap { $0.split(separator: ",") }.map { scalar($0.trimmingCharacters(in: .whitespaces)) }
            pairs.append((scalar("thumbnails"), .sequence(Node.Sequence(sizes))))
        }
        if let format { pairs.append((scalar("format"), scalar(format))) }
        if let memberID { pairs.append((scalar("member_id"), scalar(String(memberID)))) }
        if let actionsOn { pairs.append((scalar("actions_on"), scalar(actionsOn))) }
        let root = Node.mapping(Node.Mapping([(scalar("jobs"), .sequence(Node.Sequence([.mapping(Node.Mapping(pairs))])))]))
        var validator = ManifestValidator(baseDirectory: workingDirectory, limits: limits)
        let jobs = validator.manifest(root)
        guard validator.problems.isEmpty else {
            throw ManifestError(.invalid, origin: "command line", problems: validator.problems)
        }
        return Manifest(path: nil, jobs: jobs)
    }
}
