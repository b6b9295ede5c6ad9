import ArgumentParser
import AssetPipeline
import AssetJournalSQLite
import ClassyAPI
import Dispatch
import Foundation
import Imaging
import Logging

extension ActionPlace: ExpressibleByArgument {}

/// `asset-worker upload MANIFEST` or `asset-worker upload IMAGE --campaign N --role R ...`.
struct UploadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "Process and upload the jobs of a manifest (YAML or JSON), or one image, through the Classy asset flow.",
        discussion: """
        Every step is journaled (.asset-worker/journal.sqlite by default): Ctrl-C pauses, and running the same \
        command again continues where it stopped; jobs already done are not uploaded again. Without Classy \
        credentials (CLASSY_CLIENT_ID, CLASSY_CLIENT_SECRET, ...) the upload goes to a local sandbox.
        Exit status: 0 done, 64 usage, 65 invalid manifest or refused data, 69 a job failed against the service, \
        75 paused (another run on the same journal shares its jobs: each job is claimed by one run).
        """
    )

    @Argument(help: "A manifest (.yml, .yaml, .json) or a single image.")
    var input: String

    @Option(help: "Role of a single image: logo, ecard, social, sponsor, asset.")
    var role: String?

    @Option(help: "Campaign of a single image (logo, ecard, social).")
    var campaign: Int?

    @Option(help: "eCard order of a single image.")
    var order: Int?

    @Flag(help: "Refuse an eCard that is not already 600x400 instead of cover-cropping it.")
    var strict = false

    @Option(help: "Appeal set of a single social image.")
    var appealSet: Int?

    @Option(help: "Donation-matching plan of a single sponsor image.")
    var matchingPlan: Int?

    @Option(help: ArgumentHelp("Thumbnails of a single image.", valueName: "WxH[,WxH...]"))
    var thumbnails: String?

    @Option(help: ArgumentHelp("Where a single image's actions run: local (processed here, every child uploaded) or server (only the original is uploaded; the API makes each child with POST /2.0/assets/{id}/process). A manifest says it with actions_on.", valueName: "local|server"))
    var actionsOn: ActionPlace?

    @Option(help: "Jobs in flight at once (processing overlaps uploads).")
    var jobs: Int = 8

    @Flag(help: "Print every uploaded record as a JSON line instead of the summary table.")
    var json = false

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: ArgumentHelp("Upload through a shared queue instead of the local journal: enqueue the manifest, then work on the queue here (other machines may `work` on it too).", valueName: "URL"))
    var queue: String?

    @Option(help: ArgumentHelp("With --queue: a worker that has not renewed its claims for this long is taken for dead.", valueName: "SECONDS"))
    var lease: Int = 30

    @Option(help: ArgumentHelp("With --queue: where the queue keeps the sources, postgres (default) or s3://BUCKET[/PREFIX] (as enqueue --sources).", valueName: "LOCATION"))
    var sources: String?

    var isManifest: Bool {
        let ext = URL(fileURLWithPath: input).pathExtension.lowercased()
        return ["yml", "yaml", "json"].contains(ext)
    }

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        if !isManifest, role == nil { throw ValidationError("a single image needs --role (logo, ecard, social, sponsor, asset)") }
        if actionsOn != nil, isManifest { throw ValidationError("--actions-on is for a single image; in a manifest, set actions_on per job or in defaults") }
        if queue != nil, !isManifest { throw ValidationError("--queue takes a manifest: a queue's jobs are enqueued from one (asset-worker enqueue)") }
    }

    func run() async throws {
        let manifest: Manifest
        do throws(ManifestError) {
            manifest = isManifest
                ? try Manifest.load(path: input)
                : try Manifest.singleJob(source: input, role: role ?? "asset", campaign: campaign, order: order, strict: strict ? true : nil,
                                         appealSet: appealSet, matchingPlan: matchingPlan,
                                         thumbnails: thumbnails.map { [$0] } ?? [], memberID: workspace.memberID,
                                         actionsOn: actionsOn?.rawValue)
        } catch {
            StandardError.print("asset-worker upload: \(error)\nNothing was uploaded.")
            throw ExitCode(ExitStatus.dataError)
        }

        if let queue {
            try await uploadThroughQueue(manifest, queueURL: queue)
            return
        }
        try await UploadSession(workspace: workspace, jobs: jobs, json: json,
                                manifestPath: isManifest ? URL(fileURLWithPath: input).path : nil).run(manifest)
    }
}

extension UploadCommand {
    /// `upload MANIFEST --queue URL`: `enqueue` then `work` in this process, on one connection.
    /// The worker takes any job of the queue, not only this manifest's, and stays until
    /// the queue is empty (as `work` without --follow).
    func uploadThroughQueue(_ manifest: Manifest, queueURL: String) async throws {
        let connection = try await QueueSession.connect(workspace, for: manifest, command: "upload")
        let opened = try await QueueSession.open(url: queueURL, lease: lease, sources: sources, command: "upload", connection: connection,
                                                 storesSources: true)
        let enqueued = await QueueSession.enqueue(manifest, manifestPath: input, connection: connection, queue: opened)
        guard case .success = enqueued else {
            await opened.close()
            await connection.close()
            _ = try QueueSession.report(enqueued, command: "upload", json: json)
            return
        }
        _ = try QueueSession.report(enqueued, command: "upload", json: json)
        let worked = await QueueSession.work(connection: connection, queue: opened, lease: lease, jobs: jobs, follow: false,
                                             json: json, command: "upload", cacheDirectory: workspace.stateDir + "/sources")
        await opened.close()
        await connection.close()
        try QueueSession.finish(worked, command: "upload", json: json)
    }
}

/// One upload run of a manifest: connect (API or sandbox), open the journal,
/// run the batch with Ctrl-C as pause, report. Shared by `upload` and `resume`.
struct UploadSession {
    var workspace: WorkspaceOptions
    var jobs: Int
    var json: Bool
    var manifestPath: String?

    func run(_ manifest: Manifest) async throws {
        let campaigns = Set(manifest.jobs.compactMap { job -> Int? in
            switch job.role {
            case let .logo(campaign), let .ecard(campaign, _, _), let .social(.campaign(campaign)): campaign
            default: nil
            }
        })
        let plans = Set(manifest.jobs.compactMap { job -> Int? in
            if case let .sponsor(plan) = job.role { return plan }
            return nil
        })
        let connection: Connection
        do {
            connection = try await Workspace.connect(workspace, campaigns: campaigns.sorted(), matchingPlans: plans.sorted())
        } catch let failure as CLIFailure {
            StandardError.print("asset-worker upload: \(failure.message)")
            throw ExitCode(failure.status)
        }
        // Messages go to stderr, so `--json` leaves stdout to the records alone.
        StandardError.print("asset-worker upload: \(connection.description)")

        let journal: any JournalStore
        do {
            try FileManager.default.createDirectory(atPath: workspace.stateDir, withIntermediateDirectories: true)
            journal = KillPointJournal.wrapping(try SQLiteJournal(path: workspace.journalPath))
        } catch {
            await connection.close()
            StandardError.print("asset-worker upload: \(error)")
            throw ExitCode(ExitStatus.ioError)
        }

        let runner = BatchRunner(manifest: manifest, journal: journal, client: connection.client,
                                 options: BatchOptions(jobsInFlight: jobs, manifestPath: manifestPath, target: connection.target))
        let progress = ProgressReporter(total: manifest.jobs.count, json: json)
        let runTask = Task { () throws(BatchError) -> BatchSummary in
            try await runner.run { event in progress.report(event) }
        }
        // Ctrl-C: cancel the run; in-flight steps stop at a journaled point.
        signal(SIGINT, SIG_IGN)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT)
        interrupt.setEventHandler {
            StandardError.print("\nasset-worker upload: pausing (finishing the journal)...")
            runTask.cancel()
        }
        interrupt.resume()
        defer { interrupt.cancel() }

        let result = await runTask.result
        await connection.close()
        switch result {
        case let .failure(anyError):
            let error = anyError as? BatchError ?? BatchError(.service, "\(anyError)")
            StandardError.print("asset-worker upload: \(error.message)")
            throw ExitCode(ExitStatus.of(error))
        case let .success(summary):
            progress.finish(summary)
            if summary.paused {
                let again = CommandLine.arguments.joined(separator: " ")
                StandardError.print("Paused. Nothing is lost: run `\(again)` again (or `asset-worker resume`) to continue.")
                throw ExitCode(ExitStatus.temporaryFailure)
            }
            if let status = ExitStatus.of(summary) { throw ExitCode(status) }
        }
    }
}

/// Progress for people or machines: on a terminal, a line per job under a
/// redrawn progress bar; otherwise (a pipe, a CI log, a service) swift-log
/// lines with the job's facts as metadata; with `--json`, the records as JSON
/// lines. A summary table closes every run but a `--json` one.
final class ProgressReporter: @unchecked Sendable {
    enum Style {
        case terminal, log, json
    }

    let total: Int
    let style: Style
    let started = Date()
    private let logger: Logger
    // Guarded by `outputLock`, like the output itself.
    private var jobsReported = 0
    private var uploadedBytes = 0
    private var uploadedImages = 0

    init(total: Int, json: Bool) {
        self.total = total
        self.style = json ? .json : isatty(STDOUT_FILENO) == 1 ? .terminal : .log
        var logger = Logger(label: "asset-worker") { label in StreamLogHandler.standardOutput(label: label) }
        logger.logLevel = .info
        self.logger = logger
    }

    var json: Bool { style == .json }

    /// Events come from concurrent jobs; one at a time keeps the bar and the
    /// lines whole, and guards the counts above.
    private let outputLock = NSLock()

    func report(_ event: BatchEvent) {
        outputLock.withLock { write(event) }
    }

    private func write(_ event: BatchEvent) {
        if style == .terminal { print("\r\u{1B}[K", terminator: "") }
        defer { if style == .terminal { drawBar() } }
        switch event {
        case .started:
            switch style {
            case .terminal: print("\(total) job(s)")
            case .log: logger.info("batch started", metadata: ["jobs": "\(total)"])
            case .json: break
            }
        case let .uploaded(_, record):
            uploadedBytes += record.size
            uploadedImages += 1
            if style == .json { JSONLine.print(record) }
        case .processed:
            break
        case let .skipped(job, reason):
            let n = nextJob()
            switch style {
            case .terminal: print("[\(n)/\(total)] \(job.role.name) \(job.source): already uploaded (\(reason))")
            case .log: logger.info("job already uploaded", metadata: metadata(job, n).merging(["reason": "\(reason)"]) { $1 })
            case .json: break
            }
        case let .finished(job, records, attachedTo):
            let n = nextJob()
            let ids = records.compactMap { $0.id.classyID }.map(String.init)
            switch style {
            case .terminal:
                let attached = attachedTo.map { ", attached to \($0)" } ?? ""
                let eta = n < total ? String(format: ", ETA %.0fs", etaSeconds(done: n)) : ""
                print("[\(n)/\(total)] \(job.role.name) \(job.source): assets \(ids.joined(separator: ", "))\(attached)\(eta)")
            case .log:
                var fields = metadata(job, n)
                fields["assets"] = "\(ids.joined(separator: ","))"
                if let attachedTo { fields["attached"] = "\(attachedTo)" }
                fields["eta_s"] = "\(Int(etaSeconds(done: n).rounded()))"
                logger.info("job done", metadata: fields)
            case .json: break
            }
        case let .failed(job, error):
            let n = nextJob()
            if style == .log {
                logger.error("job failed", metadata: metadata(job, n).merging(["line": "\(job.line)", "error": "\(error)"]) { $1 })
            } else {
                StandardError.print("[\(n)/\(total)] \(job.role.name) \(job.source) (manifest line \(job.line)) failed: \(error)")
            }
        case let .abandoned(job, assetID, reason):
            switch style {
            case .terminal: print("    \(job.source): pending asset \(assetID) abandoned (\(reason)); recorded in the journal")
            case .log: logger.warning("pending asset abandoned, recorded in the journal",
                                      metadata: ["source": "\(job.source)", "asset_id": "\(assetID)", "reason": "\(reason)"])
            case .json: break
            }
        }
    }

    private func nextJob() -> Int {
        jobsReported += 1
        return jobsReported
    }

    private func metadata(_ job: Job, _ n: Int) -> Logger.Metadata {
        ["job": "\(n)/\(total)", "role": "\(job.role.name)", "source": "\(job.source)"]
    }

    private func etaSeconds(done: Int) -> Double {
        done >= total ? 0 : Date().timeIntervalSince(started) / Double(done) * Double(total - done)
    }

    /// `[=====     ] 12/40 jobs, 31 images, 18.2 MB, 9.1 images/s, ETA 14s`
    private func drawBar() {
        let done = jobsReported
        let images = uploadedImages
        let elapsed = max(0.001, Date().timeIntervalSince(started))
        let width = 24
        let filled = total == 0 ? width : width * done / total
        let eta = done == 0 || done >= total ? "" : String(format: ", ETA %.0fs", elapsed / Double(done) * Double(total - done))
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        print(String(format: "[%@] %d/%d jobs, %d images, %.1f MB, %.1f images/s%@", bar, done, total, images,
                     Double(uploadedBytes) / 1e6, Double(images) / elapsed, eta), terminator: "")
        fflush(nil)
    }

    func finish(_ summary: BatchSummary) {
        if style == .terminal { print("") }
        guard style != .json else { return }
        let seconds = Date().timeIntervalSince(started)
        print("")
        func row(_ name: String, _ value: String) -> String {
            name.padding(toLength: 10, withPad: " ", startingAt: 0) + String(repeating: " ", count: max(0, 6 - value.count)) + value
        }
        print(row("jobs", "count"))
        for (name, count) in [("done", summary.done), ("skipped", summary.skipped), ("failed", summary.failed)] {
            print(row(name, String(count)))
        }
        print(String(format: "uploaded %d image(s), %.1f MB in %.1f s; %d pending asset(s) abandoned",
                     summary.records.count - summary.madeOnServer, Double(summary.bytesUploaded) / 1e6, seconds, summary.abandoned))
        if summary.madeOnServer > 0 { print("the API made \(summary.madeOnServer) child(ren) with POST /process (actions_on: server)") }
        print(String(format: "processing: %.1f CPU-s on %d thread(s)", summary.processingCPUSeconds,
                     ProcessInfo.processInfo.activeProcessorCount))
    }
}

/// `asset-worker resume`: continues every unfinished job of the journal, by
/// reloading the manifests they came from.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue the unfinished jobs recorded in the journal (after Ctrl-C, a crash or kill -9).",
        discussion: "Jobs that came from a single-image `upload` (no manifest) are resumed by running that command again."
    )

    @Option(help: "Jobs in flight at once.")
    var jobs: Int = 8

    @Flag(help: "Print every uploaded record as a JSON line.")
    var json = false

    @OptionGroup var workspace: WorkspaceOptions

    func run() async throws {
        guard FileManager.default.fileExists(atPath: workspace.journalPath) else {
            print("No journal at \(workspace.journalPath): nothing to resume.")
            return
        }
        let incomplete: [JournalJob]
        do {
            incomplete = try await SQLiteJournal(path: workspace.journalPath).incompleteJobs()
        } catch {
            StandardError.print("asset-worker resume: \(error)")
            throw ExitCode(ExitStatus.ioError)
        }
        let manifests = Array(Set(incomplete.compactMap(\.plan.manifestPath))).sorted()
        let withoutManifest = incomplete.filter { $0.plan.manifestPath == nil }
        for job in withoutManifest {
            StandardError.print("asset-worker resume: \(job.plan.role) \(job.plan.sourcePath) came from a single-image upload; run that upload command again")
        }
        if manifests.isEmpty {
            print(incomplete.isEmpty ? "Nothing to resume: every job in the journal is done." : "No manifest to resume from.")
            return
        }
        for path in manifests {
            let manifest: Manifest
            do throws(ManifestError) {
                manifest = try Manifest.load(path: path)
            } catch {
                StandardError.print("asset-worker resume: \(path): \(error)")
                throw ExitCode(ExitStatus.dataError)
            }
            print("asset-worker resume: \(path)")
            try await UploadSession(workspace: workspace, jobs: jobs, json: json, manifestPath: path).run(manifest)
        }
    }
}
