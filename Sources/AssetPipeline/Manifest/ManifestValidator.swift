import ClassyAPI
import Foundation
import Imaging
import Yams

/// Walks a manifest's node tree, building jobs and collecting every problem.
/// It never stops at the first problem: each check that fails records one and
/// the walk goes on, so the user sees the whole list.
struct ManifestValidator {
    let baseDirectory: String
    let limits: DecodeLimits
    private(set) var problems: [ManifestProblem] = []
    /// Sources already read, by absolute path: a file used by several jobs is read once.
    private var sources: [String: Result<(ImageInfo, String), ManifestProblemText>] = [:]

    static let ecardSize = PixelSize(width: ClassyLimits.eCardWidth, height: ClassyLimits.eCardHeight)
    static let maxEcardsPerCampaign = ClassyLimits.maxECardsPerCampaign

    static let commonKeys: Set<String> = Set(["role", "source", "format", "member_id", "actions_on"]).union(CropKeys.names)
    static let roleKeys: [String: Set<String>] = [
        "logo": ["campaign", "thumbnails"],
        "ecard": ["campaign", "order", "strict"],
        "social": ["appeal_set", "campaign", "thumbnails"],
        "sponsor": ["matching_plan", "thumbnails"],
        "asset": ["actions", "thumbnails"],
    ]
    static let allJobKeys = roleKeys.values.reduce(commonKeys) { $0.union($1) }
    static let defaultKeys: Set<String> = Set(["member_id", "campaign", "format", "actions_on"]).union(CropKeys.names)

    init(baseDirectory: String, limits: DecodeLimits) {
        self.baseDirectory = baseDirectory
        self.limits = limits
    }

    // MARK: Top level

    private struct Defaults {
        var memberID: Int?
        var campaign: Int?
        var format: ImageFormat??
        var crop: CropStrategy?
        var actionsOn: ActionPlace?
    }

    mutating func manifest(_ root: Node) -> [Job] {
        guard let top = root.mapping else {
            report(root, "the manifest must be a mapping with `jobs:` (and optionally `defaults:`)")
            return []
        }
        let fields = keyed(top, allowed: ["defaults", "jobs"], context: "at the top level")
        var defaults = Defaults()
        if let node = fields["defaults"]?.value { defaults = parseDefaults(node) }
        guard let jobsNode = fields["jobs"]?.value else {
            report(root, "missing `jobs:`")
            return []
        }
        guard let list = jobsNode.sequence else {
            report(jobsNode, "`jobs` must be a list")
            return []
        }
        if list.isEmpty { report(jobsNode, "`jobs` is empty") }
        var jobs: [Job] = []
        for (index, node) in list.enumerated() {
            if let job = parseJob(node, index: index, defaults: defaults) { jobs.append(job) }
        }
        crossCheck(jobs)
        return jobs
    }

    private mutating func parseDefaults(_ node: Node) -> Defaults {
        var defaults = Defaults()
        guard let map = node.mapping else {
            report(node, "`defaults` must be a mapping")
            return defaults
        }
        let fields = keyed(map, allowed: Self.defaultKeys, context: "in `defaults`")
        if let value = fields["member_id"]?.value { defaults.memberID = positiveInt(value, "member_id") }
        if let value = fields["campaign"]?.value { defaults.campaign = positiveInt(value, "campaign") }
        if let value = fields["format"]?.value { defaults.format = outputFormat(value) }
        defaults.crop = cropStrategy(fields)
        if let value = fields["actions_on"]?.value { defaults.actionsOn = actionPlace(value) }
        return defaults
    }

    // MARK: One job

    private mutating func parseJob(_ node: Node, index: Int, defaults: Defaults) -> Job? {
        guard let map = node.mapping else {
            report(node, "job \(index + 1) must be a mapping (role, source, ...)")
            return nil
        }
        let problemsBefore = problems.count
        let line = node.mark?.line ?? 0

        // The role decides which keys are allowed, so read it first; an unknown
        // role still gets its keys checked against every role's, to catch typos too.
        var roleName: String?
        var roleGiven = false
        for (key, value) in map where key.string == "role" {
            roleGiven = true
            guard let name = value.scalar?.string, Self.roleKeys[name] != nil else {
                let text = value.scalar?.string ?? "(not a word)"
                report(value, "unknown role '\(text)'\(suggestion(text, Set(JobRole.names))); roles are \(JobRole.names.joined(separator: ", "))")
                continue
            }
            roleName = name
        }
        let allowed = roleName.flatMap { Self.roleKeys[$0] }.map { Self.commonKeys.union($0) } ?? Self.allJobKeys
        let fields = keyed(map, allowed: allowed, context: roleName.map { "for role '\($0)'" } ?? "in a job", role: roleName)
        if !roleGiven { report(node, "job \(index + 1) has no `role`") }

        // Source: present, a file, and a PNG/JPEG/GIF by its bytes.
        var source: (path: String, info: ImageInfo, hash: String)?
        if let value = fields["source"]?.value {
            if let text = string(value, "source"), !text.isEmpty {
                let path = resolve(text)
                if let (info, hash) = readSource(path, node: value) { source = (path, info, hash) }
            } else if value.scalar?.string.isEmpty == true {
                report(value, "`source` is empty")
            }
        } else {
            report(node, "job \(index + 1) has no `source`")
        }

        let memberID = fields["member_id"].flatMap { positiveInt($0.value, "member_id") } ?? defaults.memberID
        var format: ImageFormat? = defaults.format ?? nil
        if let value = fields["format"]?.value { format = outputFormat(value) ?? nil }
        let campaignField = fields["campaign"].flatMap { positiveInt($0.value, "campaign") }
        let campaign = campaignField ?? defaults.campaign

        var actions: [ImageAction] = []
        if let value = fields["thumbnails"]?.value, let thumbnails = thumbnailsAction(value) { actions.append(thumbnails) }
        if let value = fields["actions"]?.value { actions += actionList(value) }

        // Role and target.
        var role: JobRole?
        var attach: AttachedImage? = .original
        switch roleName {
        case "logo":
            if let campaign { role = .logo(campaign: campaign) } else if fields["campaign"] == nil {
                report(node, "a logo needs `campaign` (in the job or in `defaults`)")
            }
        case "ecard":
            let order = fields["order"].flatMap { positiveInt($0.value, "order") }
            let strict = fields["strict"].flatMap { bool($0.value, "strict") } ?? false
            if campaign == nil, fields["campaign"] == nil { report(node, "an ecard needs `campaign` (in the job or in `defaults`)") }
            if fields["order"] == nil { report(node, "an ecard needs `order`") }
            if let campaign, let order { role = .ecard(campaign: campaign, order: order, strict: strict) }
            if let source {
                let upright = PixelSize(width: source.info.displayWidth, height: source.info.displayHeight)
                if upright == Self.ecardSize, source.info.orientation <= 1 {
                    // Already right: upload the original unchanged and attach it.
                    attach = .original
                } else if strict, upright != Self.ecardSize {
                    report(fields["source"]!.value, "a strict ecard must be exactly 600x400 (upright); this source is \(upright)")
                } else {
                    // Cover-crop to 600x400. An upright 600x400 stored sideways (EXIF
                    // orientation) also goes through it, which bakes the rotation in.
                    actions = [.thumbnails([Self.ecardSize], fit: .cover)]
                    attach = .child(type: ChildType.thumbnail(Self.ecardSize))
                }
            }
        case "social":
            let appealSet = fields["appeal_set"].flatMap { positiveInt($0.value, "appeal_set") }
            if fields["appeal_set"] != nil, fields["campaign"] != nil {
                report(fields["appeal_set"]!.key, "give `appeal_set` or `campaign`, not both")
            } else if let appealSet {
                role = .social(.appealSet(appealSet))
            } else if let campaign, fields["appeal_set"] == nil {
                role = .social(.campaign(campaign))
            } else if fields["appeal_set"] == nil, fields["campaign"] == nil {
                report(node, "a social image needs `appeal_set` or `campaign`")
            }
        case "sponsor":
            if let value = fields["matching_plan"]?.value {
                if let plan = positiveInt(value, "matching_plan") { role = .sponsor(matchingPlan: plan) }
            } else {
                report(node, "a sponsor image needs `matching_plan`")
            }
        case "asset":
            role = .asset
            attach = nil
        default:
            break
        }

        if let source { checkActions(actions, fields: fields, upright: PixelSize(width: source.info.displayWidth, height: source.info.displayHeight)) }
        actions = cropActions(actions, fields: fields, defaults: defaults, source: source?.info)
        let actionsOn = fields["actions_on"].map { actionPlace($0.value) } ?? defaults.actionsOn
        if actionsOn == .server { checkServerActions(actions, format: format, node: fields["actions_on"]?.value ?? node) }

        guard problems.count == problemsBefore, let role, let source else { return nil }
        let key = JobKey.make(sourceSHA256: source.hash, role: role, actions: actions, outputFormat: format, memberID: memberID,
                              actionsOn: actionsOn ?? .local)
        return Job(index: index, line: line, role: role, source: source.path, sourceInfo: source.info, sourceSHA256: source.hash,
                   actions: actions, outputFormat: format, memberID: memberID, attach: attach, key: key,
                   actionsOn: actionsOn == .server ? .server : nil)
    }

    /// `local` or `server`; nil after reporting a problem.
    private mutating func actionPlace(_ node: Node) -> ActionPlace? {
        guard let text = node.scalar?.string, let place = ActionPlace(rawValue: text) else {
            report(node, "`actions_on` must be \(ActionPlace.allCases.map(\.rawValue).joined(separator: " or "))")
            return nil
        }
        return place
    }

    /// What the API's `/process` cannot do is refused for a server job, never
    /// done differently: its thumbnails are cover and centred, and its children
    /// keep the original's format.
    private mutating func checkServerActions(_ actions: [ImageAction], format: ImageFormat?, node: Node) {
        for action in actions where action.processAction == nil {
            report(node, "actions_on: server cannot do \(action) (the API's thumbnails are cover-cropped from the centre); use actions_on: local, or crop: centre with fit: cover")
        }
        if let format {
            report(node, "actions_on: server keeps the original's format (the API's children are the original's format); remove format: \(format.rawValue) or use actions_on: local")
        }
    }

    /// Problems only the source's size reveals: a crop box outside the (upright) original.
    private mutating func checkActions(_ actions: [ImageAction], fields: [String: (key: Node, value: Node)], upright: PixelSize) {
        for action in actions {
            guard case let .crop(x, y, width, height) = action else { continue }
            if x + width > upright.width || y + height > upright.height {
                let node = fields["actions"]?.value ?? fields["source"]!.value
                report(node, "crop \(width)x\(height) at (\(x), \(y)) does not fit inside the \(upright) source")
            }
        }
    }

    // MARK: Crop strategy (the keys themselves are read by `CropKeys`)

    private mutating func cropStrategy(_ fields: [String: (key: Node, value: Node)]) -> CropStrategy? {
        let (strategy, found) = CropKeys.strategy(fields)
        problems += found
        return strategy
    }

    /// The job's cover crops placed by its own crop key, else the default's.
    private mutating func cropActions(_ actions: [ImageAction], fields: [String: (key: Node, value: Node)],
                                      defaults: Defaults, source: ImageInfo?) -> [ImageAction] {
        let own = cropStrategy(fields)
        let strategy = CropKeys.names.contains(where: { fields[$0] != nil }) ? own : defaults.crop
        if let source, let node = CropKeys.names.compactMap({ fields[$0]?.value }).first ?? fields["source"]?.value {
            problems += CropKeys.checkFocus(strategy, upright: PixelSize(width: source.displayWidth, height: source.displayHeight), node: node)
        }
        return CropKeys.applying(strategy, to: actions)
    }

    // MARK: Across jobs

    private mutating func crossCheck(_ jobs: [Job]) {
        var firstWithOrder: [Int: [Int: Job]] = [:]
        var countPerCampaign: [Int: Int] = [:]
        var firstWithKey: [String: Job] = [:]
        var firstSocialFor: [String: Job] = [:]
        for job in jobs {
            // Two social images for one appeal set would race, the later-finishing
            // one winning: refused, so the outcome never depends on timing.
            if case .social = job.role {
                let target = job.role.targetDescription
                if let first = firstSocialFor[target] {
                    problems.append(ManifestProblem(line: job.line, message:
                        "\(target) already gets a social image from the job at line \(first.line) (an appeal set has one Facebook image)"))
                } else {
                    firstSocialFor[target] = job
                }
            }
            if case let .ecard(campaign, order, _) = job.role {
                countPerCampaign[campaign, default: 0] += 1
                if countPerCampaign[campaign]! == Self.maxEcardsPerCampaign + 1 {
                    problems.append(ManifestProblem(line: job.line, message:
                        "campaign \(campaign) gets more than \(Self.maxEcardsPerCampaign) eCards in this manifest (the API allows at most \(Self.maxEcardsPerCampaign))"))
                }
                if let first = firstWithOrder[campaign]?[order] {
                    problems.append(ManifestProblem(line: job.line, message: "campaign \(campaign) already has an ecard with order \(order) (line \(first.line))"))
                } else {
                    firstWithOrder[campaign, default: [:]][order] = job
                }
            }
            if let first = firstWithKey[job.key] {
                problems.append(ManifestProblem(line: job.line, message: "same source, role, target and actions as the job at line \(first.line)"))
            } else {
                firstWithKey[job.key] = job
            }
        }
    }

    // MARK: Actions

    private mutating func actionList(_ node: Node) -> [ImageAction] {
        guard let list = node.sequence else {
            report(node, "`actions` must be a list, e.g. `- thumbnails: [100x100]`")
            return []
        }
        var result: [ImageAction] = []
        for item in list {
            guard let map = item.mapping, map.count == 1, let (key, value) = map.first, let name = key.scalar?.string else {
                report(item, "each action is a mapping with one key: thumbnails, crop, scale or rotate")
                continue
            }
            switch name {
            case "thumbnails": if let action = thumbnailsAction(value) { result.append(action) }
            case "crop": if let action = cropAction(value) { result.append(action) }
            case "scale": if let action = scaleAction(value) { result.append(action) }
            case "rotate": if let action = rotateAction(value) { result.append(action) }
            default:
                report(key, "unknown action '\(name)'\(suggestion(name, ["thumbnails", "crop", "scale", "rotate"])); actions are thumbnails, crop, scale, rotate")
            }
        }
        return result
    }

    /// `[100x100, 150x150]`, or `{sizes: [...], fit: cover|contain}`.
    private mutating func thumbnailsAction(_ node: Node) -> ImageAction? {
        var fit = ImageAction.ThumbnailFit.cover
        var listNode = node
        if let map = node.mapping {
            let fields = keyed(map, allowed: ["sizes", "fit"], context: "in `thumbnails`")
            if let fitNode = fields["fit"]?.value {
                if let text = fitNode.scalar?.string, let value = ImageAction.ThumbnailFit(rawValue: text) {
                    fit = value
                } else {
                    report(fitNode, "`fit` must be cover or contain")
                }
            }
            guard let sizes = fields["sizes"]?.value else {
                report(node, "`thumbnails` needs `sizes`")
                return nil
            }
            listNode = sizes
        }
        guard let list = listNode.sequence else {
            report(listNode, "thumbnail sizes must be a list, e.g. [100x100, 150x150]")
            return nil
        }
        if list.isEmpty {
            report(listNode, "no thumbnail sizes given")
            return nil
        }
        let before = problems.count
        let sizes = list.compactMap { size($0) }
        return problems.count == before ? .thumbnails(sizes, fit: fit) : nil
    }

    private mutating func cropAction(_ node: Node) -> ImageAction? {
        guard let map = node.mapping else {
            report(node, "`crop` needs {x, y, width, height}")
            return nil
        }
        let fields = keyed(map, allowed: ["x", "y", "width", "height"], context: "in `crop`")
        let missing = ["x", "y", "width", "height"].filter { fields[$0] == nil }
        if !missing.isEmpty {
            report(node, "`crop` needs all of x, y, width, height; missing \(missing.joined(separator: ", "))")
            return nil
        }
        let x = nonNegativeInt(fields["x"]!.value, "x"), y = nonNegativeInt(fields["y"]!.value, "y")
        let w = dimension(fields["width"]!.value, "width"), h = dimension(fields["height"]!.value, "height")
        guard let x, let y, let w, let h else { return nil }
        return .crop(x: x, y: y, width: w, height: h)
    }

    private mutating func scaleAction(_ node: Node) -> ImageAction? {
        guard let map = node.mapping else {
            report(node, "`scale` needs {width} or {height} (or both)")
            return nil
        }
        let fields = keyed(map, allowed: ["width", "height"], context: "in `scale`")
        if fields.isEmpty {
            report(node, "`scale` needs width or height")
            return nil
        }
        let before = problems.count
        let w = fields["width"].flatMap { dimension($0.value, "width") }
        let h = fields["height"].flatMap { dimension($0.value, "height") }
        return problems.count == before ? .scale(width: w, height: h) : nil
    }

    /// `{angle: 90}` or just `90`. Any finite angle; the image code handles non-right angles.
    private mutating func rotateAction(_ node: Node) -> ImageAction? {
        var angleNode = node
        if let map = node.mapping {
            let fields = keyed(map, allowed: ["angle"], context: "in `rotate`")
            guard let value = fields["angle"]?.value else {
                report(node, "`rotate` needs `angle`")
                return nil
            }
            angleNode = value
        }
        guard let text = angleNode.scalar?.string, let angle = Double(text), angle.isFinite else {
            report(angleNode, "`angle` must be a number of degrees")
            return nil
        }
        return .rotate(degrees: angle)
    }

    // MARK: Values

    /// `WxH` or `{width: W, height: H}`.
    private mutating func size(_ node: Node) -> PixelSize? {
        if let map = node.mapping {
            let fields = keyed(map, allowed: ["width", "height"], context: "in a size")
            guard let wNode = fields["width"]?.value, let hNode = fields["height"]?.value else {
                report(node, "a size needs width and height")
                return nil
            }
            guard let w = dimension(wNode, "width"), let h = dimension(hNode, "height") else { return nil }
            return PixelSize(width: w, height: h)
        }
        guard let text = node.scalar?.string, let size = PixelSize(parsing: text) else {
            report(node, "'\(node.scalar?.string ?? "?")' is not a size; write WxH, e.g. 150x150")
            return nil
        }
        guard (1 ... limits.maxDimension).contains(size.width), (1 ... limits.maxDimension).contains(size.height) else {
            report(node, "size \(size) is out of range (each side 1...\(limits.maxDimension))")
            return nil
        }
        return size
    }

    private mutating func dimension(_ node: Node, _ name: String) -> Int? {
        guard let value = int(node, name) else { return nil }
        guard (1 ... limits.maxDimension).contains(value) else {
            report(node, "`\(name)` must be 1...\(limits.maxDimension), not \(value)")
            return nil
        }
        return value
    }

    private mutating func positiveInt(_ node: Node, _ name: String) -> Int? {
        guard let value = int(node, name) else { return nil }
        guard value > 0 else {
            report(node, "`\(name)` must be a positive number, not \(value)")
            return nil
        }
        return value
    }

    private mutating func nonNegativeInt(_ node: Node, _ name: String) -> Int? {
        guard let value = int(node, name) else { return nil }
        guard value >= 0 else {
            report(node, "`\(name)` must not be negative")
            return nil
        }
        return value
    }

    private mutating func int(_ node: Node, _ name: String) -> Int? {
        guard let text = node.scalar?.string, let value = Int(text) else {
            report(node, "`\(name)` must be a whole number, not '\(node.scalar?.string ?? "a list or mapping")'")
            return nil
        }
        return value
    }

    private mutating func bool(_ node: Node, _ name: String) -> Bool? {
        switch node.scalar?.string.lowercased() {
        case "true", "yes": return true
        case "false", "no": return false
        default:
            report(node, "`\(name)` must be true or false")
            return nil
        }
    }

    private mutating func string(_ node: Node, _ name: String) -> String? {
        guard let text = node.scalar?.string else {
            report(node, "`\(name)` must be a single value")
            return nil
        }
        return text
    }

    /// `same` (nil) or a format name; `.none` after reporting a problem.
    private mutating func outputFormat(_ node: Node) -> ImageFormat?? {
        switch node.scalar?.string.lowercased() {
        case "same": return .some(nil)
        case "png": return .png
        case "jpeg", "jpg": return .jpeg
        case "gif": return .gif
        default:
            report(node, "`format` must be same, png, jpeg or gif")
            return nil
        }
    }

    // MARK: Sources

    private func resolve(_ text: String) -> String {
        let url = text.hasPrefix("/") ? URL(fileURLWithPath: text) : URL(fileURLWithPath: baseDirectory).appendingPathComponent(text)
        return url.standardizedFileURL.path
    }

    private mutating func readSource(_ path: String, node: Node) -> (ImageInfo, String)? {
        if sources[path] == nil { sources[path] = Self.probe(path, limits: limits) }
        switch sources[path]! {
        case let .success(value): return value
        case let .failure(problem):
            report(node, problem.text)
            return nil
        }
    }

    private static func probe(_ path: String, limits: DecodeLimits) -> Result<(ImageInfo, String), ManifestProblemText> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .failure(ManifestProblemText(text: "source file not found: \(path)"))
        }
        guard !isDirectory.boolValue else { return .failure(ManifestProblemText(text: "source is a folder, not an image: \(path)")) }
        do throws(ImagingError) {
            let bytes = try ImageFile.read(path, limits: limits)
            let info = try ImageDecoder.probe(bytes, limits: limits)
            return .success((info, LocalProcessor.sha256(bytes)))
        } catch {
            return .failure(ManifestProblemText(text: "source \(path) is not a usable PNG, JPEG or GIF: \(error.message)"))
        }
    }

    // MARK: Keys and reporting

    /// The mapping's pairs by key name, reporting unknown, misplaced, duplicate and non-text keys.
    private mutating func keyed(_ map: Node.Mapping, allowed: Set<String>, context: String, role: String? = nil) -> [String: (key: Node, value: Node)] {
        var result: [String: (key: Node, value: Node)] = [:]
        for (key, value) in map {
            guard let name = key.scalar?.string else {
                report(key, "keys must be words \(context)")
                continue
            }
            if result[name] != nil {
                report(key, "`\(name)` is given twice")
                continue
            }
            if !allowed.contains(name) {
                if let role, Self.allJobKeys.contains(name) {
                    report(key, "`\(name)` is not used by role '\(role)' (it takes \(Self.commonKeys.union(Self.roleKeys[role] ?? []).sorted().joined(separator: ", ")))")
                } else {
                    let candidates = role == nil ? allowed : Self.allJobKeys
                    report(key, "unknown key `\(name)` \(context)\(suggestion(name, candidates))")
                }
                continue
            }
            result[name] = (key, value)
        }
        return result
    }

    /// ` (did you mean 'x'?)` for a near miss (one or two edits away), else nothing.
    private func suggestion(_ word: String, _ candidates: Set<String>) -> String {
        let best = candidates.map { ($0, Self.editDistance(word, $0)) }.min { ($0.1, $0.0) < ($1.1, $1.0) }
        guard let best, best.1 <= 2, best.1 < word.count else { return "" }
        return " (did you mean '\(best.0)'?)"
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0 ... b.count)
        for i in 1 ... max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }

    private mutating func report(_ node: Node, _ message: String) {
        problems.append(ManifestProblem(line: node.mark?.line ?? 0, column: node.mark?.column, message: message))
    }
}

/// A problem's text before it has a position (a source read once, reported for each job using it).
struct ManifestProblemText: Error, Sendable {
    var text: String
}
