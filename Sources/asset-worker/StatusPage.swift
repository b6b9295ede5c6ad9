import AssetPipeline
import AssetReport
import ClassyAPI
import Foundation

/// `status --html FILE`: the `plan` page after a run, from the journal (read
/// only): every job with its records, Classy ids and failures; with an API
/// configured (credentials or `--sandbox`), each asset's CDN URL and state as the API reports them.
enum StatusPage {
    static func write(_ workspace: WorkspaceOptions, to path: String) async throws {
        let journal = try await Workspace.readOnlyJournal(workspace)
        let jobs: [JournalJob]
        do {
            jobs = try await journaledJobs(journal.store)
        } catch {
            throw CLIFailure(status: ExitStatus.ioError, message: "\(error)")
        }
        var notes = ["Journal: \(workspace.journalPath) (read only)"]
        var assets: [Int: Asset] = [:]
        if let connection = try await Workspace.connectIfConfigured(workspace) {
            var unreachable = 0
            for id in jobs.flatMap(\.items).compactMap(\.classyAssetID) {
                do { assets[id] = try await connection.client.asset(id) } catch { unreachable += 1 }
            }
            await connection.close()
            notes.append("Records and CDN URLs from \(connection.description)"
                         + (unreachable > 0 ? "; \(unreachable) asset(s) could not be fetched" : ""))
        } else {
            notes.append("CDN URLs not shown: no API configured (pass --sandbox, or set the Classy credentials)")
        }
        let done = jobs.filter { $0.step == .done && !$0.failed }.count
        let failed = jobs.filter(\.failed).count
        notes.append("\(jobs.count) job(s): \(done) done, \(failed) failed, \(jobs.count - done - failed) unfinished")
        let entries = jobs.enumerated().map { ReportPages.entry($0.element, index: $0.offset, assets: assets) }
        let page = ReportPage(title: "asset-worker status", notes: notes, sections: ReportPages.sections(entries))
        try ReportPages.write(page, to: path)
        StandardError.print("asset-worker status: wrote \(path)")
    }

    /// Every job the journal holds, in the order they were planned: those with
    /// images (from `allAssets`), then those that failed before any.
    static func journaledJobs(_ journal: ReadOnlyJournal) async throws(JournalError) -> [JournalJob] {
        var keys: [String] = []
        var seen: Set<String> = []
        for item in try await journal.allAssets() where seen.insert(item.jobKey).inserted { keys.append(item.jobKey) }
        for job in try await journal.incompleteJobs() where seen.insert(job.plan.key).inserted { keys.append(job.plan.key) }
        var jobs: [JournalJob] = []
        for key in keys {
            if let job = try await journal.job(key: key) { jobs.append(job) }
        }
        return jobs
    }
}
