import ArgumentParser

/// `asset-worker`: process images locally and upload them to Classy.
@main
struct AssetWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "asset-worker",
        abstract: "Process images locally (PNG, JPEG, GIF) and upload them through the Classy API 2.0 asset flow.",
        subcommands: [ProcessCommand.self, ProbeCommand.self, BenchCommand.self]
    )
}

/// Exit statuses from sysexits.h, so scripts can tell bad input from a down service.
enum ExitStatus {
    static let usage: Int32 = 64
    static let dataError: Int32 = 65
    static let unavailable: Int32 = 69
    static let ioError: Int32 = 74
    static let temporaryFailure: Int32 = 75
}
