import AssetPipeline
import AssetReport
import ClassyAPI
import Foundation
import Imaging

/// The `plan` and `status --html` pages: jobs turned into `ReportJob`s and
/// grouped per campaign (eCards in `order`), then per appeal set, matching plan,
/// and the plain assets.
enum ReportPages {
    /// A job on its way to the page, with what grouping needs (role and target as the journal words them).
    struct Entry {
        var role: String
        var target: String
        var index: Int
        var job: ReportJob
    }

    /// `plan`'s view of one job.
    static func entry(_ planned: PlannedJob, index: Int) -> Entry {
        let job = planned.job
        var status: ReportJobStatus
        var detail: String?
        switch planned.disposition {
        case .upload:
            status = .planned
            detail = "would be uploaded" + (job.attach == nil ? "" : " and attached to \(job.role.targetDescription)")
        case let .replace(id, order):
            status = .replaces
            detail = "would replace the image of eCard \(id.map(String.init) ?? "?") (order \(order))"
        case let .skip(at, attachedTo):
            status = .skipped
            detail = "the journal has it done (\(ClassyDate.format(at))\(attachedTo.map { ", attached to \($0)" } ?? "")): an upload sends nothing"
        case let .resume(step, error):
            status = .resumes
            detail = "the journal has it at step \(step.rawValue)\(error.map { " (last error: \($0))" } ?? ""): an upload continues from there"
        }
        var report = ReportJob(key: job.key, heading: heading(role: job.role.name, target: job.role.targetDescription),
                               status: planned.failure == nil ? status : .failed, statusDetail: detail,
                               facts: ["manifest line \(job.line)", "job key \(job.key.prefix(16))"], sourcePath: job.source,
                               error: planned.failure)
        if let processed = planned.processed {
            let content = ReportImages.content(of: processed)
            report.original = content.original
            report.preview = content.preview
            report.cropMarks = content.cropMarks
            report.outputs = content.outputs
            report.warnings = content.warnings
            if job.actionsOn == .server {
                // The API makes these: listed with the size the action asks for, no pixels to show yet.
                report.outputs = planned.records.dropFirst().map { ReportImages.output($0, bytes: nil) }
                report.warnings.append("actions_on: server: the API makes the \(report.outputs.count) child(ren) with POST /process after the original is uploaded; they are listed, not shown")
            }
        }
        return Entry(role: job.role.name, target: job.role.targetDescription, index: index, job: report)
    }

    /// `status --html`'s view of one journaled job: its records with their
    /// Classy ids (and CDN URLs when the API was asked), the source when it is
    /// still there, the failure if any. Derived images are not kept after an
    /// upload, so they are listed, not shown.
    static func entry(_ journaled: JournalJob, index: Int, assets: [Int: Asset]) -> Entry {
        let items = journaled.items.sorted { $0.position < $1.position }
        let status: ReportJobStatus = journaled.failed ? .failed : journaled.step == .done ? .uploaded : .incomplete
        var report = ReportJob(key: journaled.plan.key, heading: heading(role: journaled.plan.role, target: journaled.plan.target),
                               status: status,
                               statusDetail: journaled.step == .done
                                   ? "done \(ClassyDate.format(journaled.updatedAt))\(journaled.attachedTo.map { ", attached to \($0)" } ?? "")"
                                   : "at step \(journaled.step.rawValue)",
                               facts: ["job key \(journaled.plan.key.prefix(16))", "attempts \(journaled.attempts)"],
                               sourcePath: journaled.plan.sourcePath, error: journaled.error)
        func uploadedRecord(_ item: JournalItem) -> AssetRecord {
            var record = item.record
            if let id = item.classyAssetID {
                record.id = .classy(id)
                if item.step >= .markedUploaded { record.state = .uploaded }
                if let asset = assets[id] {
                    record.cdnURL = asset.cdnURL
                    record.state = AssetState(rawValue: asset.state) ?? record.state
                }
            }
            return record
        }
        if let parentItem = items.first(where: { $0.position == 0 }) {
            let parent = uploadedRecord(parentItem)
            let children = items.filter { $0.position > 0 }.map(uploadedRecord)
            let sourceBytes = (try? ImageFile.read(journaled.plan.sourcePath)).flatMap {
                LocalProcessor.sha256($0) == journaled.plan.sourceSHA256 ? $0 : nil
            }
            report.original = ReportImages.output(parent, bytes: nil)
            report.preview = sourceBytes.flatMap { ReportImages.preview(of: $0) }
            report.cropMarks = ReportImages.cropMarks(children: children)
            report.outputs = children.map { ReportImages.output($0, bytes: nil) }
            report.warnings = ReportImages.warnings(parent: parent, children: children, sourceBytes: sourceBytes)
            if sourceBytes == nil { report.warnings.append("the source is gone or changed since it was uploaded: not shown") }
        }
        return Entry(role: journaled.plan.role, target: journaled.plan.target, index: index, job: report)
    }

    static func heading(role: String, target: String) -> String {
        target == "-" ? role : "\(role) \(target)"
    }

    /// `campaign=1001 order=2` -> 1001, 2.
    static func number(_ name: String, in target: String) -> Int? {
        for field in target.split(separator: " ") where field.hasPrefix(name + "=") {
            return Int(field.dropFirst(name.count + 1))
        }
        return nil
    }

    /// Campaigns first (ascending; in each, other jobs in manifest order, then
    /// the eCards by `order`), then appeal sets, matching plans and the rest.
    static func sections(_ entries: [Entry], campaignNotes: [Int: [String]] = [:]) -> [ReportSection] {
        var campaigns: [Int: [Entry]] = [:]
        var appealSets: [Entry] = [], plans: [Entry] = [], others: [Entry] = []
        for entry in entries {
            if let campaign = number("campaign", in: entry.target) {
                campaigns[campaign, default: []].append(entry)
            } else if number("appeal_set", in: entry.target) != nil {
                appealSets.append(entry)
            } else if number("matching_plan", in: entry.target) != nil {
                plans.append(entry)
            } else {
                others.append(entry)
            }
        }
        var sections: [ReportSection] = []
        for (campaign, list) in campaigns.sorted(by: { $0.key < $1.key }) {
            let ordered = list.sorted { a, b in
                let orderA = a.role == "ecard" ? number("order", in: a.target) : nil
                let orderB = b.role == "ecard" ? number("order", in: b.target) : nil
                switch (orderA, orderB) {
                case (nil, nil): return a.index < b.index
                case (nil, _): return true
                case (_, nil): return false
                case let (x?, y?): return x != y ? x < y : a.index < b.index
                }
            }
            sections.append(ReportSection(title: "Campaign \(campaign)", notes: campaignNotes[campaign] ?? [], jobs: ordered.map(\.job)))
        }
        if !appealSets.isEmpty { sections.append(ReportSection(title: "Appeal sets", jobs: appealSets.map(\.job))) }
        if !plans.isEmpty { sections.append(ReportSection(title: "Donation-matching plans", jobs: plans.map(\.job))) }
        if !others.isEmpty { sections.append(ReportSection(title: "Other assets", jobs: others.map(\.job))) }
        return sections
    }

    /// "eCards: 1 existing + 2 new = 3 of at most 4 (1 replaced, ...)".
    static func describe(_ count: ECardCount) -> String {
        var text = count.countedAgainstAPI
            ? "eCards: \(count.existing) existing + \(count.adding) new = \(count.total) of at most \(count.limit)"
            : "eCards: \(count.adding) new (existing eCards not counted: no API configured) of at most \(count.limit)"
        var extras: [String] = []
        if count.replacing > 0 { extras.append("\(count.replacing) replaced (same order)") }
        if count.alreadyDone > 0 { extras.append("\(count.alreadyDone) already uploaded") }
        if !extras.isEmpty { text += "; " + extras.joined(separator: ", ") }
        if count.total > count.limit { text += ": OVER THE LIMIT, an upload would refuse the run" }
        return text
    }

    /// Writes the page; a failure is an I/O error (exit 74), named with its path.
    static func write(_ page: ReportPage, to path: String) throws(CLIFailure) {
        do {
            try Data(HTMLReport.render(page).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CLIFailure(status: ExitStatus.ioError, message: "cannot write \(path): \(error.localizedDescription)")
        }
    }
}
