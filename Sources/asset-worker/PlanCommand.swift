import ArgumentParser
import AssetJournalSQLite
import AssetPipeline
import AssetReport
import ClassyAPI
import Foundation

/// `asset-worker plan MANIFEST [--html FILE] [--json]`: what `upload` would do,
/// without doing it.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Dry run of `upload`: validate and process every job exactly as upload would, and show what it would create, replace and skip. Uploads nothing, writes nothing to the journal.",
        discussion: """
        With Classy credentials (or --sandbox) the campaigns' eCards are counted against the API as upload counts them. \
        --html writes one self-contained page (no network): each source with its crop boxes, every output at real size, \
        sizes, types and warnings. Exit status: 0 an upload would run cleanly, 64 usage, 65 an invalid manifest, a job \
        that would fail or a campaign over its eCard limit, 69 the API cannot be asked, 74 the journal or the page cannot be read or written.
        """
    )

    @Argument(help: "A manifest (.yml, .yaml, .json).")
    var manifest: String

    @Option(help: ArgumentHelp("Write the preview page here (one self-contained HTML file).", valueName: "FILE"))
    var html: String?

    @Flag(help: "Print the planned records (state \"planned\") and the plan's facts as JSON lines; messages go to stderr.")
    var json = false

    @OptionGroup var workspace: WorkspaceOptions

    func run() async throws {
        let loaded: Manifest
        do throws(ManifestError) {
            loaded = try Manifest.load(path: manifest)
        } catch {
            StandardError.print("asset-worker plan: \(error)")
            throw ExitCode(ExitStatus.dataError)
        }
        do {
            try await plan(loaded)
        } catch let failure as CLIFailure {
            StandardError.print("asset-worker plan: \(failure.message)")
            throw ExitCode(failure.status)
        }
    }

    func plan(_ loaded: Manifest) async throws {
        let journal = try await Workspace.readOnlyJournal(workspace)
        let connection = try await Workspace.connectIfConfigured(workspace, for: loaded)
        if let connection {
            StandardError.print("asset-worker plan: eCards counted against \(connection.description)")
            if let bound = try await journal.boundTarget, bound != connection.target {
                await connection.close()
                throw CLIFailure(status: ExitStatus.usage, message: """
                    the journal \(workspace.journalPath) records uploads to \(bound), but this run is configured for \(connection.target); \
                    an upload would refuse it. Use another --state-dir for that target
                    """)
            }
        } else {
            StandardError.print("asset-worker plan: no Classy credentials and no --sandbox: existing eCards are not counted")
        }

        let planner = UploadPlanner(manifest: loaded, journal: journal.store, client: connection?.client,
                                    options: BatchOptions(manifestPath: URL(fileURLWithPath: manifest).path))
        let total = loaded.jobs.count
        var entries: [ReportPages.Entry] = []
        var index = 0
        let result: UploadPlan
        do {
            result = try await planner.plan { planned in
                index += 1
                report(planned, number: index, of: total)
                if html != nil { entries.append(ReportPages.entry(planned, index: index)) }
            }
        } catch {
            await connection?.close()
            throw CLIFailure(status: ExitStatus.of(error), message: error.message)
        }
        await connection?.close()

        for count in result.ecardCounts {
            if json {
                JSONLine.print(PlanLine.ECards(count: count))
            } else {
                print("campaign \(count.campaign): \(ReportPages.describe(count))")
            }
        }
        let summary = "\(total) job(s): \(result.uploading) to upload, \(result.replacing) replacing an eCard, "
            + "\(result.resuming) to continue, \(result.skipping) skipped (done in the journal), \(result.failed) failing"
        StandardError.print("asset-worker plan: \(summary). Nothing was uploaded.")
        if let html {
            var notes = ["Manifest: \(URL(fileURLWithPath: manifest).path)", summary,
                         connection.map { "eCards counted against \($0.description)" } ?? "eCards not counted against the API (no credentials, no --sandbox)",
                         "Nothing was uploaded; the journal (\(workspace.journalPath)) was only read."]
            if let refusal = result.refusal { notes.insert("An upload would refuse this manifest: \(refusal.message)", at: 0) }
            let campaignNotes = Dictionary(result.ecardCounts.map { ($0.campaign, [ReportPages.describe($0)]) }, uniquingKeysWith: +)
            let page = ReportPage(title: "asset-worker plan: \(URL(fileURLWithPath: manifest).lastPathComponent)", notes: notes,
                                  sections: ReportPages.sections(entries, campaignNotes: campaignNotes))
            try ReportPages.write(page, to: html)
            StandardError.print("asset-worker plan: wrote \(html)")
        }
        if let refusal = result.refusal {
            StandardError.print("asset-worker plan: an upload would refuse this manifest: \(refusal.message)")
            throw ExitCode(ExitStatus.of(refusal))
        }
        if result.failed > 0 { throw ExitCode(ExitStatus.dataError) }
    }

    /// One job: its records as JSON lines, or a line for people.
    func report(_ planned: PlannedJob, number: Int, of total: Int) {
        let job = planned.job
        if json {
            switch planned.disposition {
            case let .skip(at, attachedTo):
                JSONLine.print(PlanLine.Job(plan: "skip", job: job, reason: "done in the journal on \(ClassyDate.format(at))",
                                            attachedTo: attachedTo))
            case let .replace(id, order):
                JSONLine.print(PlanLine.Job(plan: "replace", job: job, reason: "eCard with order \(order) exists", ecardID: id))
            case let .resume(step, _):
                JSONLine.print(PlanLine.Job(plan: "resume", job: job, reason: "the journal has it at step \(step.rawValue)"))
            case .upload:
                break
            }
            if let failure = planned.failure {
                JSONLine.print(PlanLine.Job(plan: "fail", job: job, reason: failure))
            }
            if case .skip = planned.disposition { return }
            for record in planned.records { JSONLine.print(record) }
            return
        }
        let head = "[\(number)/\(total)] \(ReportPages.heading(role: job.role.name, target: job.role.targetDescription)) \(job.source)"
        if let failure = planned.failure {
            print("\(head): would FAIL: \(failure)")
            return
        }
        let images = planned.records.map { record in
            "\(record.type ?? "original") \(record.width)x\(record.height) \(record.contentType) \(record.size) B"
        }.joined(separator: "; ")
        // A server job uploads only the original; the API makes the rest (`actions_on: server`).
        let uploading = planned.job.actionsOn == .server
            ? "would upload the original and ask the API (POST /process) for \(planned.records.count - 1) child(ren)"
            : "would upload \(planned.records.count) image(s)"
        switch planned.disposition {
        case .upload: print("\(head): \(uploading): \(images)")
        case let .replace(id, order):
            print("\(head): \(uploading) and replace eCard \(id.map(String.init) ?? "?") (order \(order)): \(images)")
        case let .skip(at, _): print("\(head): skipped, done in the journal on \(ClassyDate.format(at))")
        case let .resume(step, _): print("\(head): would continue from step \(step.rawValue): \(images)")
        }
        for warning in planned.records.flatMap({ $0.warnings ?? [] }) { print("    warning: \(warning)") }
    }
}

/// `plan --json`'s lines beside the records: each has a `plan` key saying what it is.
enum PlanLine {
    struct Job: Encodable {
        var plan: String
        var role: String
        var target: String
        var source: String
        var line: Int
        var key: String
        var reason: String
        var ecardID: Int?
        var attachedTo: String?

        init(plan: String, job: AssetPipeline.Job, reason: String, ecardID: Int? = nil, attachedTo: String? = nil) {
            self.plan = plan
            role = job.role.name
            target = job.role.targetDescription
            source = job.source
            line = job.line
            key = job.key
            self.reason = reason
            self.ecardID = ecardID
            self.attachedTo = attachedTo
        }

        enum CodingKeys: String, CodingKey {
            case plan, role, target, source, line, key, reason
            case ecardID = "ecard_id"
            case attachedTo = "attached_to"
        }
    }

    struct ECards: Encodable {
        var plan = "ecards"
        var campaign: Int
        var existing: Int
        var adding: Int
        var replacing: Int
        var alreadyDone: Int
        var total: Int
        var limit: Int
        var countedAgainstAPI: Bool

        init(count: ECardCount) {
            campaign = count.campaign
            existing = count.existing
            adding = count.adding
            replacing = count.replacing
            alreadyDone = count.alreadyDone
            total = count.total
            limit = count.limit
            countedAgainstAPI = count.countedAgainstAPI
        }

        enum CodingKeys: String, CodingKey {
            case plan, campaign, existing, adding, replacing, total, limit
            case alreadyDone = "already_done"
            case countedAgainstAPI = "counted_against_api"
        }
    }
}

/// The journal as `plan` and `status --html` use it: read-only, and absent
/// when nothing was uploaded from here yet (never created by reading).
struct JournalForReading {
    var store: ReadOnlyJournal

    var boundTarget: APITarget? {
        get async throws {
            do {
                return try await store.boundTarget()
            } catch {
                throw CLIFailure(status: ExitStatus.ioError, message: "\(error)")
            }
        }
    }
}

extension Workspace {
    static func readOnlyJournal(_ options: WorkspaceOptions) async throws -> JournalForReading {
        guard FileManager.default.fileExists(atPath: options.journalPath) else {
            return JournalForReading(store: ReadOnlyJournal(nil))
        }
        do {
            let sqlite = try SQLiteJournal(path: options.journalPath)
            return JournalForReading(store: ReadOnlyJournal(sqlite))
        } catch {
            throw CLIFailure(status: ExitStatus.ioError, message: "\(error)")
        }
    }

    /// Whether the command line or the environment names an API: `--sandbox`,
    /// a credentials flag or file, or any `CLASSY_*` credential variable.
    static func apiConfigured(_ options: WorkspaceOptions) -> Bool {
        if options.sandbox || options.clientID != nil || options.config != nil || options.apiURL != nil { return true }
        let environment = ProcessInfo.processInfo.environment
        return credentialVariables.contains { environment[$0].map { !$0.isEmpty } == true }
    }

    /// A connection when an API is configured (incomplete credentials are an error, as for `upload`), nil otherwise.
    static func connectIfConfigured(_ options: WorkspaceOptions, for manifest: Manifest? = nil) async throws -> Connection? {
        guard apiConfigured(options) else { return nil }
        var campaigns: Set<Int> = [], plans: Set<Int> = []
        for job in manifest?.jobs ?? [] {
            switch job.role {
            case let .logo(campaign), let .ecard(campaign, _, _), let .social(.campaign(campaign)): campaigns.insert(campaign)
            case let .sponsor(plan): plans.insert(plan)
            default: break
            }
        }
        return try await connect(options, campaigns: campaigns.sorted(), matchingPlans: plans.sorted(), needsMember: false)
    }
}
