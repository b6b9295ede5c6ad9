/// One thing wrong with a manifest, where it is.
public struct ManifestProblem: Sendable, Hashable, CustomStringConvertible {
    /// 1-based line in the manifest file; 0 when the job came from command-line options.
    public var line: Int
    /// 1-based column (counted in Unicode scalars, as libyaml does), when known.
    public var column: Int?
    public var message: String

    public init(line: Int, column: Int? = nil, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        if line == 0 { return message }
        if let column { return "line \(line), column \(column): \(message)" }
        return "line \(line): \(message)"
    }
}

/// Everything wrong with a manifest at once, so a user fixes the file in one go
/// instead of one error per run. Nothing is uploaded from a manifest that threw this.
public struct ManifestError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The file could not be read.
        case unreadable
        /// Not YAML/JSON at all (the problem list holds the parser's message and position).
        case syntax
        /// Well-formed, but the jobs in it are wrong.
        case invalid
    }

    public var code: Code
    /// The manifest's path, or `command line` for a one-job manifest built from options.
    public var origin: String
    /// Sorted by line, then column.
    public var problems: [ManifestProblem]

    public init(_ code: Code, origin: String, problems: [ManifestProblem]) {
        self.code = code
        self.origin = origin
        self.problems = problems.sorted { ($0.line, $0.column ?? 0) < ($1.line, $1.column ?? 0) }
    }

    public var description: String {
        let noun = problems.count == 1 ? "problem" : "problems"
        let head = "\(origin): \(problems.count) \(noun), nothing was uploaded"
        return ([head] + problems.map { "  \($0)" }).joined(separator: "\n")
    }
}
