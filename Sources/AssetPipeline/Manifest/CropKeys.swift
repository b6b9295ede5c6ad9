import Imaging
import Yams

/// The job (and `defaults`) keys that choose how cover crops are placed, read
/// apart from the rest of the validator so the feature stays in one piece:
///
/// ```yaml
/// crop: attention            # centre (default) | attention | entropy
/// focus: {x: 640, y: 300}    # or: centre the box on this point (upright source pixels)
/// gravity: north             # or: against a side or corner (north, south-east, ...)
/// ```
///
/// At most one of the three per job; a job's own key replaces the default's.
/// They steer every cover crop of the job: an eCard brought to 600x400, and
/// `thumbnails` with `fit: cover`. Contain thumbnails ignore them.
enum CropKeys {
    static let names: Set<String> = ["crop", "focus", "gravity"]

    /// The strategy the keys among `fields` give (nil when none is given), and
    /// every problem with them.
    static func strategy(_ fields: [String: (key: Node, value: Node)]) -> (CropStrategy?, [ManifestProblem]) {
        // In file order, so a second key is the one reported.
        let given = names.compactMap { name in fields[name].map { (name: name, key: $0.key, value: $0.value) } }
            .sorted { ($0.key.mark?.line ?? 0, $0.key.mark?.column ?? 0, $0.name) < ($1.key.mark?.line ?? 0, $1.key.mark?.column ?? 0, $1.name) }
        guard let (name, _, value) = given.first else { return (nil, []) }
        if given.count > 1 {
            let keys = given.map { "`\($0.name)`" }.joined(separator: " and ")
            return (nil, [problem(given[1].key, "give one of `crop`, `focus` or `gravity`, not \(keys)")])
        }
        switch name {
        case "crop": return crop(value)
        case "focus": return focus(value)
        default: return gravity(value)
        }
    }

    /// The actions with `strategy` on every cover thumbnails action.
    static func applying(_ strategy: CropStrategy?, to actions: [ImageAction]) -> [ImageAction] {
        guard let strategy else { return actions }
        return actions.map { action in
            guard case let .thumbnails(sizes, .cover, _) = action else { return action }
            return .thumbnails(sizes, fit: .cover, crop: strategy)
        }
    }

    /// A focus point must lie on the (upright) source.
    static func checkFocus(_ strategy: CropStrategy?, upright: PixelSize, node: Node) -> [ManifestProblem] {
        guard case let .focus(x, y) = strategy, x >= upright.width || y >= upright.height else { return [] }
        return [problem(node, "focus (\(x), \(y)) is outside the \(upright) source (upright pixels)")]
    }

    /// The strategy as a manifest spells it (for jobs built in code).
    static func flowYAML(_ strategy: CropStrategy) -> String {
        switch strategy {
        case .centre, .attention, .entropy: "crop: \(strategy)"
        case let .focus(x, y): "focus: {x: \(x), y: \(y)}"
        case let .gravity(side): "gravity: \(side.rawValue)"
        }
    }

    // MARK: Values

    private static func crop(_ node: Node) -> (CropStrategy?, [ManifestProblem]) {
        let names = CropStrategy.namedStrategies.keys.sorted()
        guard let text = node.scalar?.string else {
            let hint = node.mapping != nil ? "; for a point write `focus: {x, y}`" : ""
            return (nil, [problem(node, "`crop` must be one of \(names.joined(separator: ", "))\(hint)")])
        }
        if let strategy = CropStrategy.namedStrategies[text] { return (strategy, []) }
        if CropGravity(rawValue: text) != nil {
            return (nil, [problem(node, "`crop: \(text)` is a side; write `gravity: \(text)`")])
        }
        return (nil, [problem(node, "unknown crop strategy '\(text)'\(suggestion(text, names)); strategies are \(names.joined(separator: ", "))")])
    }

    private static func focus(_ node: Node) -> (CropStrategy?, [ManifestProblem]) {
        guard let map = node.mapping else {
            return (nil, [problem(node, "`focus` needs {x, y} in upright source pixels")])
        }
        var problems: [ManifestProblem] = []
        var values: [String: Int] = [:]
        for (key, value) in map {
            guard let name = key.scalar?.string, name == "x" || name == "y" else {
                problems.append(problem(key, "unknown key `\(key.scalar?.string ?? "?")` in `focus` (it takes x and y)"))
                continue
            }
            guard values[name] == nil else {
                problems.append(problem(key, "`\(name)` is given twice"))
                continue
            }
            guard let text = value.scalar?.string, let number = Int(text), number >= 0 else {
                problems.append(problem(value, "focus `\(name)` must be a whole number of pixels, 0 or more, not '\(value.scalar?.string ?? "a list or mapping")'"))
                continue
            }
            values[name] = number
        }
        let missing = ["x", "y"].filter { values[$0] == nil }
        if problems.isEmpty, !missing.isEmpty { problems.append(problem(node, "`focus` needs both x and y; missing \(missing.joined(separator: ", "))")) }
        guard problems.isEmpty, let x = values["x"], let y = values["y"] else { return (nil, problems) }
        return (.focus(x: x, y: y), [])
    }

    private static func gravity(_ node: Node) -> (CropStrategy?, [ManifestProblem]) {
        let sides = CropGravity.allCases.map(\.rawValue)
        guard let text = node.scalar?.string, let side = CropGravity(rawValue: text) else {
            let text = node.scalar?.string ?? "a list or mapping"
            return (nil, [problem(node, "`gravity` must be one of \(sides.joined(separator: ", ")), not '\(text)'\(suggestion(text, sides))")])
        }
        return (.gravity(side), [])
    }

    // MARK: Reporting

    private static func problem(_ node: Node, _ message: String) -> ManifestProblem {
        ManifestProblem(line: node.mark?.line ?? 0, column: node.mark?.column, message: message)
    }

    /// ` (did you mean 'x'?)` for a near miss (`center`, `northeast`).
    private static func suggestion(_ word: String, _ candidates: [String]) -> String {
        let best = candidates.map { ($0, ManifestValidator.editDistance(word, $0)) }.min { ($0.1, $0.0) < ($1.1, $1.0) }
        guard let best, best.1 <= 2, best.1 < word.count else { return "" }
        return " (did you mean '\(best.0)'?)"
    }
}
