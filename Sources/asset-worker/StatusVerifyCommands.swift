import ArgumentParser
import AssetPipeline
import AssetJournalSQLite
import ClassyAPI
import Foundation

/// `asset-worker status`: where the journal stands.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show where the batch stands: jobs per state, failures and why, the last upload, a run active or paused."
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Flag(help: "Print the status as one JSON object.")
    var json = false

    @Option(help: ArgumentHelp("Show a shared queue (postgres://...) instead of the local journal: its jobs, failures and live workers.", valueName: "URL"))
    var queue: String?

    @Option(help: ArgumentHelp("Only the jobs of this batch (the id `enqueue` printed); the live workers are the whole queue's.", valueName: "ID"))
    var batch: String?

    @Option(help: ArgumentHelp("Also write the journal's jobs as one self-contained page (records, ids, failures; CDN URLs when the API is configured).", valueName: "FILE"))
    var html: String?

    struct Report: Encodable {
        var jobs: [String: Int]
        var images: [String: Int]
        var lastSuccessfulUpload: String?
        var activeRun: String?
        /// Every live run (worker) with the jobs it holds.
        var workers: [Worker]
        var paused: Bool
        var abandonedPendingAssets: Int
        /// Pending assets the API may have created without an answer (cannot be listed).
        var possiblyOrphanedPendingAssets: Int
        var failures: [Failure]

        struct Worker: Encodable {
            var pid: Int32
            var host: String
            var since: String
            var claimedJobs: Int
        }

        struct Failure: Encodable {
            var role: String
            var target: String
            var source: String
            var error: String
            var at: String
        }
    }

    func run() async throws {
        let status: JournalStatus
        var where_ = workspace.journalPath
        if let queue {
            let opened = try await QueueSession.open(url: queue, command: "status")
            where_ = opened.description
            do {
                status = try await opened.store.status(batch: batch)
            } catch {
                await opened.close()
                StandardError.print("asset-worker status: \(error)")
                throw ExitCode(ExitStatus.ioError)
            }
            await opened.close()
        } else {
            guard FileManager.default.fileExists(atPath: workspace.journalPath) else {
                print("No journal at \(workspace.journalPath): nothing has been uploaded from here yet.")
                return
            }
            do {
                status = try await SQLiteJournal(path: workspace.journalPath).status(batch: batch)
            } catch {
                StandardError.print("asset-worker status: \(error)")
                throw ExitCode(ExitStatus.ioError)
            }
        }
        let report = Report(
            jobs: status.jobCounts, images: status.itemCounts,
            lastSuccessfulUpload: status.lastSuccessfulUpload.map(ClassyDate.format),
            activeRun: status.activeRun.map { "pid \($0.pid) on \($0.host) since \(ClassyDate.format($0.startedAt))" },
            workers: status.activeRuns.map { .init(pid: $0.pid, host: $0.host, since: ClassyDate.format($0.startedAt), claimedJobs: $0.claimedJobs) },
            paused: status.paused, abandonedPendingAssets: status.abandonedCount,
            possiblyOrphanedPendingAssets: status.possiblyOrphanedCount,
            failures: status.failures.map {
                Report.Failure(role: $0.role, target: $0.target, source: $0.sourcePath, error: $0.error, at: ClassyDate.format($0.at))
            })
        if let html {
            do {
                try await StatusPage.write(workspace, to: html)
            } catch let failure as CLIFailure {
                StandardError.print("asset-worker status: \(failure.message)")
                throw ExitCode(failure.status)
            }
        }
        if json {
            JSONLine.print(report)
            return
        }
        print("Journal: \(where_)" + (batch.map { ", batch \($0)" } ?? ""))
        print("Run: " + (report.activeRun.map { "active (\($0))" } ?? (status.paused ? "paused; run upload again (or resume) to continue" : "none active")))
        if report.workers.count > 1 || queue != nil {
            for worker in report.workers { print("Worker: pid \(worker.pid) on \(worker.host) since \(worker.since), \(worker.claimedJobs) job(s) claimed") }
        }
        print("Jobs: " + status.jobCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        print("Images: " + status.itemCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        print("Last successful upload: \(report.lastSuccessfulUpload ?? "never")")
        print("Abandoned pending assets (recorded): \(status.abandonedCount)")
        print("Pending assets possibly left by lost answers (not listable): \(status.possiblyOrphanedCount)")
        for failure in report.failures {
            print("FAILED \(failure.role) \(failure.target) \(failure.source) at \(failure.at): \(failure.error)")
        }
    }
}

/// `asset-worker verify`: every recorded asset checked against the API.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Fetch every recorded asset from the API and report mismatches in state, size or content type, and assets the API does not know.",
        discussion: "Exit status 0 when everything agrees, 65 when something does not, 69 when the API cannot be reached."
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Flag(help: "Print each problem as a JSON line.")
    var json = false

    @Option(help: ArgumentHelp("Verify a shared queue (postgres://...) instead of the local journal.", valueName: "URL"))
    var queue: String?

    @Option(help: ArgumentHelp("Only the jobs of this batch (the id `enqueue` printed).", valueName: "ID"))
    var batch: String?

    func run() async throws {
        let journal: any JobStore
        var opened: OpenedQueue?
        if let queue {
            opened = try await QueueSession.open(url: queue, command: "verify")
            journal = opened!.store
        } else {
            guard FileManager.default.fileExists(atPath: workspace.journalPath) else {
                print("No journal at \(workspace.journalPath): nothing to verify.")
                return
            }
            do {
                journal = try SQLiteJournal(path: workspace.journalPath)
            } catch {
                StandardError.print("asset-worker verify: \(error)")
                throw ExitCode(ExitStatus.ioError)
            }
        }
        defer { if let opened { Task { await opened.close() } } }
        let connection: Connection
        do {
            connection = try await Workspace.connect(workspace, needsMember: false)
        } catch let failure as CLIFailure {
            StandardError.print("asset-worker verify: \(failure.message)")
            throw ExitCode(failure.status)
        }
        StandardError.print("asset-worker verify: \(connection.description)")
        let checked: Int
        let problems: [VerificationProblem]
        do {
            (checked, problems) = try await AssetVerifier(journal: journal, client: connection.client).verify(batch: batch)
        } catch {
            await connection.close()
            StandardError.print("asset-worker verify: \(error)")
            throw ExitCode(ExitStatus.ioError)
        }
        let unreachable = problems.contains { $0.unreachable }
        await connection.close()
        for problem in problems {
            if json { JSONLine.print(problem) } else { print("MISMATCH asset \(problem.assetID) (\(problem.source)): \(problem.problem)") }
        }
        if !json { StandardError.print("Checked \(checked) recorded asset(s): \(problems.isEmpty ? "all agree with the API" : "\(problems.count) problem(s)")") }
        if unreachable { throw ExitCode(ExitStatus.unavailable) }
        if !problems.isEmpty { throw ExitCode(ExitStatus.dataError) }
    }
}
