import Crypto
import Imaging

/// A job's stable key: SHA-256 of a canonical text naming everything that
/// decides what gets uploaded and where. The journal uses it to recognise a job
/// it has already done, so the text must never depend on anything incidental:
///
/// - the source's *content hash*, not its path (moving or renaming a file does not redo it);
/// - role and target, actions in order (the order decides child order) with a cover crop's
///   strategy, output format, member, and where the actions run (`actions_on: server` makes
///   other assets than local processing, so it is another job);
/// - not the job's position in the manifest, nor `strict` (it only decides whether
///   validation accepts the job, never what is uploaded).
///
/// The version prefix lets a future change of the encoding start new keys on purpose.
public enum JobKey {
    public static func make(sourceSHA256: String, role: JobRole, actions: [ImageAction],
                            outputFormat: ImageFormat?, memberID: Int?, actionsOn: ActionPlace = .local) -> String {
        let text = canonical(sourceSHA256: sourceSHA256, role: role, actions: actions,
                             outputFormat: outputFormat, memberID: memberID, actionsOn: actionsOn)
        return LocalProcessor.sha256(Array(text.utf8))
    }

    /// One field per line, `name=value`, in a fixed order.
    static func canonical(sourceSHA256: String, role: JobRole, actions: [ImageAction],
                          outputFormat: ImageFormat?, memberID: Int?, actionsOn: ActionPlace = .local) -> String {
        var lines = ["asset-worker-job-v1", "source=\(sourceSHA256)", "role=\(role.name)"]
        switch role {
        case let .logo(campaign): lines.append("campaign=\(campaign)")
        case let .ecard(campaign, order, _): lines += ["campaign=\(campaign)", "order=\(order)"]
        case .social(.appealSet(let id)): lines.append("appeal_set=\(id)")
        case .social(.campaign(let id)): lines.append("campaign=\(id)")
        case let .sponsor(plan): lines.append("matching_plan=\(plan)")
        case .asset: break
        }
        for action in actions { lines.append("action=" + canonical(action)) }
        lines.append("format=\(outputFormat?.rawValue ?? "same")")
        lines.append("member=\(memberID.map(String.init) ?? "-")")
        // Only a server job says so, so every local job keeps the key it always had.
        if actionsOn == .server { lines.append("actions_on=server") }
        return lines.joined(separator: "\n")
    }

    static func canonical(_ action: ImageAction) -> String {
        switch action {
        // A centred crop adds nothing, so jobs journaled before strategies existed keep their keys.
        case let .thumbnails(sizes, fit, crop):
            "thumbnails(\(sizes.map(\.description).joined(separator: ",")))fit=\(fit.rawValue)" + (crop == .centre ? "" : "crop=\(crop)")
        case let .crop(x, y, width, height): "crop(\(x),\(y),\(width),\(height))"
        case let .scale(width, height): "scale(\(width.map(String.init) ?? "-"),\(height.map(String.init) ?? "-"))"
        // `Double.description` is the shortest round-tripping form: 90.0 and 90 read the same.
        case let .rotate(degrees): "rotate(\(degrees.description))"
        }
    }
}
