import ArgumentParser
import AssetPipeline
import ClassyAPI
import Dispatch
import Foundation
import Logging

/// The shared queue a command works on (`--queue postgres://...`).
struct QueueOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The shared queue: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.", valueName: "URL"))
    var queue: String

    @Option(help: ArgumentHelp("A worker that has not renewed its claims for this long is taken for dead, and its jobs are given to others.", valueName: "SECONDS"))
    var lease: Int = 30

    @Option(help: ArgumentHelp("Where the queue keeps the sources: postgres (its own table, the default) or an S3-compatible bucket, s3://BUCKET[/PREFIX] (credentials and endpoint from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL). The first enqueue records it; workers read it from the queue.", valueName: "LOCATION"))
    var sources: String?
}

/// `asset-worker enqueue MANIFEST --queue URL`: validate, store the sources, create the jobs.
struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Validate a manifest and put its jobs, with their sources, into a shared queue; prints the batch id.",
        discussion: """
        Idempotent: enqueueing the same manifest again adds nothing. The eCard limits are checked against the API first, \
        so credentials (or --sandbox) are needed. Exit status: 0 done, 64 usage, 65 invalid manifest or over the eCard \
        limit, 69 API or queue unreachable, 74 the queue refused a write.
        """
    )

    @Argument(help: "A manifest (.yml, .yaml, .json).")
    var manifest: String

    @OptionGroup var queueOptions: QueueOptions
    @OptionGroup var workspace: WorkspaceOptions

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func run() async throws {
        let loaded: Manifest
        do throws(ManifestError) {
            loaded = try Manifest.load(path: manifest)
        } catch {
            StandardError.print("asset-worker enqueue: \(error)\nNothing was enqueued.")
            throw ExitCode(ExitStatus.dataError)
        }
        let connection = try await QueueSession.connect(workspace, for: loaded, command: "enqueue")
        let queue = try await QueueSession.open(queueOptions, command: "enqueue", connection: connection, storesSources: true)
        let result = await QueueSession.enqueue(loaded, manifestPath: manifest, connection: connection, queue: queue)
        await queue.close()
        await connection.close()
        let summary = try QueueSession.report(result, command: "enqueue", json: json)
        if json { JSONLine.print(summary) } else { print(summary.batch) }
    }
}

extension EnqueueSummary: Encodable {
    enum CodingKeys: String, CodingKey { case batch, added, alreadyQueued = "already_queued", alreadyDone = "already_done", sources }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(batch, forKey: .batch)
        try c.encode(added, forKey: .added)
        try c.encode(alreadyQueued, forKey: .alreadyQueued)
        try c.encode(alreadyDone, forKey: .alreadyDone)
        try c.encode(sources, forKey: .sources)
    }
}

/// `asset-worker work --queue URL`: take jobs from the queue until it is empty (or, with --follow, until SIGTERM).
struct WorkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "work",
        abstract: "Work on a shared queue: claim jobs, process and upload them, on any number of machines at once.",
        discussion: """
        Without --follow the worker stops when every job of the queue is done or failed (it waits while other workers \
        hold unfinished jobs, since one may die). SIGTERM or SIGINT drains: the jobs in hand stop at a journaled point \
        and are released, exit 0. Exit status: 0 done or drained, 64 usage, 65/69 jobs failed (as upload), 74 the queue \
        cannot be written.
        """
    )

    @OptionGroup var queueOptions: QueueOptions
    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: "Jobs in flight at once in this worker.")
    var jobs: Int = 8

    @Flag(help: "Keep waiting for new jobs until SIGTERM or SIGINT.")
    var follow = false

    @Flag(help: "Print every uploaded record as a JSON line.")
    var json = false

    @Option(help: ArgumentHelp("Serve Prometheus metrics on GET /metrics and GET /healthz on this port.", valueName: "PORT"))
    var metricsPort: Int?

    @Option(help: "The address the metrics port listens on.")
    var metricsHost: String = "127.0.0.1"

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        if let metricsPort, !(1 ... 65535).contains(metricsPort) { throw ValidationError("--metrics-port must be 1...65535") }
    }

    func run() async throws {
        var metrics: MetricsEndpoint?
        if let metricsPort {
            var logger = Logger(label: "asset-worker.metrics")
            logger.logLevel = .warning
            metrics = try await MetricsEndpoint.start(host: metricsHost, port: metricsPort, logger: logger)
            StandardError.print("asset-worker work: metrics on http://\(metricsHost):\(metricsPort)/metrics")
        }
        defer { if let metrics { Task { await metrics.stop() } } }
        let connection = try await QueueSession.connect(workspace, for: Manifest(path: nil, jobs: []), command: "work")
        let queue = try await QueueSession.open(queueOptions, command: "work", connection: connection)
        let result = await QueueSession.work(connection: connection, queue: queue, lease: queueOptions.lease,
                                             jobs: jobs, follow: follow, json: json, command: "work",
                                             cacheDirectory: workspace.stateDir + "/sources")
        await queue.close()
        await connection.close()
        try QueueSession.finish(result, command: "work", json: json)
    }
}

/// What the queue commands share: the API connection and the opened queue.
enum QueueSession {
    static func connect(_ workspace: WorkspaceOptions, for manifest: Manifest, command: String) async throws -> Connection {
        let campaigns = Set(manifest.jobs.compactMap { job -> Int? in
            switch job.role {
            case let .logo(campaign), let .ecard(campaign, _, _), let .social(.campaign(campaign)): campaign
            default: nil
            }
        })
        do {
            let connection = try await Workspace.connect(workspace, campaigns: campaigns.sorted())
            StandardError.print("asset-worker \(command): \(connection.description)")
            return connection
        } catch let failure as CLIFailure {
            StandardError.print("asset-worker \(command): \(failure.message)")
            throw ExitCode(failure.status)
        }
    }

    /// `storesSources`: the command puts sources into the queue (enqueue), so it records
    /// where they go (`--sources`, else PostgreSQL) when the queue has no place yet.
    static func open(_ options: QueueOptions, command: String, connection: Connection? = nil, storesSources: Bool = false) async throws -> OpenedQueue {
        try await open(url: options.queue, lease: options.lease, sources: options.sources, command: command, connection: connection,
                       storesSources: storesSources)
    }

    static func open(url: String, lease: Int = 30, sources: String? = nil, command: String, connection: Connection? = nil,
                     storesSources: Bool = false) async throws -> OpenedQueue {
        do {
            return try await OpenedQueue.open(url: url, leaseSeconds: lease, sources: storesSources ? (sources ?? "postgres") : sources)
        } catch let failure as CLIFailure {
            await connection?.close()
            StandardError.print("asset-worker \(command): \(failure.message)")
            throw ExitCode(failure.status)
        }
    }

    /// Puts a manifest's jobs into the queue (`enqueue`, and `upload --queue` before it works).
    static func enqueue(_ manifest: Manifest, manifestPath: String, connection: Connection,
                        queue: OpenedQueue) async -> Result<EnqueueSummary, BatchError> {
        let runner = BatchRunner(manifest: manifest, journal: queue.store, client: connection.client,
                                 options: BatchOptions(manifestPath: URL(fileURLWithPath: manifestPath).path, target: connection.target))
        do throws(BatchError) {
            return .success(try await runner.enqueue(sources: queue.sources))
        } catch {
            return .failure(error)
        }
    }

    /// The enqueue's outcome for the operator (stderr); a failure becomes its exit status.
    static func report(_ result: Result<EnqueueSummary, BatchError>, command: String, json: Bool) throws -> EnqueueSummary {
        switch result {
        case let .failure(error):
            StandardError.print("asset-worker \(command): \(error.message)")
            throw ExitCode(ExitStatus.of(error))
        case let .success(summary):
            if !json {
                StandardError.print("asset-worker \(command): batch \(summary.batch): \(summary.added) job(s) added, \(summary.alreadyQueued) already queued, \(summary.alreadyDone) already done; \(summary.sources) source(s) stored")
            }
            return summary
        }
    }

    /// Works on the queue until it is empty (or, with `follow`, until SIGTERM or
    /// SIGINT, which drain: the jobs in hand stop at a journaled point and are released).
    static func work(connection: Connection, queue: OpenedQueue, lease: Int, jobs: Int, follow: Bool, json: Bool,
                     command: String, cacheDirectory: String) async -> (Result<BatchSummary, BatchError>, ProgressReporter) {
        // The API's rate limit is the app's: every worker of the queue spends one budget.
        await connection.client.share(rateBudget: queue.rateBudget)
        var options = BatchOptions(jobsInFlight: jobs, target: connection.target)
        // Renewed three times per lease, so one slow beat does not lose the claims.
        options.heartbeatInterval = .milliseconds(lease * 1000 / 3)
        let runner = BatchRunner(manifest: Manifest(path: nil, jobs: []), journal: queue.store, client: connection.client,
                                 options: options)
        let progress = ProgressReporter(total: 0, json: json)
        let task = Task { () throws(BatchError) -> BatchSummary in
            try await runner.work(sources: queue.sources, cacheDirectory: cacheDirectory, follow: follow) { progress.report($0) }
        }
        var signalSources: [DispatchSourceSignal] = []
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber)
            source.setEventHandler {
                StandardError.print("asset-worker \(command): draining (finishing the journal)...")
                task.cancel()
            }
            source.resume()
            signalSources.append(source)
        }
        defer { signalSources.forEach { $0.cancel() } }
        let result = await task.result.mapError { $0 as? BatchError ?? BatchError(.service, "\($0)") }
        return (result, progress)
    }

    /// The worker's outcome for the operator; failures and failed jobs become the exit status.
    static func finish(_ outcome: (Result<BatchSummary, BatchError>, ProgressReporter), command: String, json: Bool) throws {
        let (result, progress) = outcome
        switch result {
        case let .failure(error):
            StandardError.print("asset-worker \(command): \(error.message)")
            throw ExitCode(ExitStatus.of(error))
        case let .success(summary):
            if !json { progress.finish(summary) }
            if summary.paused { StandardError.print("asset-worker \(command): drained; the jobs left stay in the queue for other workers") }
            if let status = ExitStatus.of(summary) { throw ExitCode(status) }
        }
    }
}
