import ArgumentParser
import AssetPipeline

/// `asset-worker`: process images locally and upload them to Classy.
@main
struct AssetWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "asset-worker",
        abstract: "Process images locally (PNG, JPEG, GIF) and upload them through the Classy API 2.0 asset flow.",
        subcommands: [UploadCommand.self, PlanCommand.self, EnqueueCommand.self, WorkCommand.self, ResumeCommand.self, StatusCommand.self, VerifyCommand.self, ProcessCommand.self, CompareCommand.self, ProbeCommand.self, BenchCommand.self, SandboxCommand.self]
    )
}

/// Exit statuses from sysexits.h, so scripts can tell bad input from a down service.
/// The library's errors are mapped to them here and nowhere else.
enum ExitStatus {
    static let usage: Int32 = 64
    static let dataError: Int32 = 65
    static let unavailable: Int32 = 69
    static let ioError: Int32 = 74
    static let temporaryFailure: Int32 = 75

    /// A run that could not start, or stopped for every job.
    static func of(_ error: BatchError) -> Int32 {
        switch error.code {
        case .ecardLimit: dataError
        case .busy: temporaryFailure
        case .journal: ioError
        case .service: unavailable
        case .targetMismatch: usage
        }
    }

    /// A run that finished with failed jobs (nil: none failed). Jobs refused for
    /// their own data only: 65; any failure of the service: 69.
    static func of(_ summary: BatchSummary) -> Int32? {
        guard summary.failed > 0 else { return nil }
        return summary.failedOnData == summary.failed ? dataError : unavailable
    }
}
