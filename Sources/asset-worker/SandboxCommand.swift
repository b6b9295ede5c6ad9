import ArgumentParser
import ClassySandbox
import Dispatch
import Foundation
import Logging

/// `asset-worker sandbox`: a local Classy (asset API, eCards, appeal sets and an
/// S3-compatible store) on loopback, for development and tests without credentials.
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run a local Classy asset API and S3 store on loopback.",
        discussion: """
        Prints its base URL and a client ID/secret to use (as CLASSY_* environment lines), then serves until \
        Ctrl-C. Faults for testing: --fault s3-500=0.3 --fault s3-reset=0.1 --fault api-500=0.2 \
        --fault latency-ms=20 --fault token-lifetime=5 --fault storm=10 --fault storm-retry-after=2 \
        --fault expired-urls=2 (repeatable).
        """
    )

    @Option(help: "Port (0 picks a free one).")
    var port: Int = 0

    @Option(help: "The address to listen on (another host's workers need a non-loopback one).")
    var host: String = "127.0.0.1"

    @Option(help: "Keep assets, objects and the client credentials in this folder across runs.")
    var data: String?

    @Option(help: "Issue pre-signed URLs for this external S3 endpoint instead of the built-in store (e.g. moto_server).")
    var s3Endpoint: String?

    @Option(help: "Bucket in the external S3 store.")
    var s3Bucket: String?

    @Option(help: "Access-token lifetime in seconds (expires_in).")
    var tokenLifetime: Int = 3600

    @Option(help: "Advertised rate limit: requests per window (X-RateLimit-Limit); 0 disables it.")
    var rateLimit: Int = 0

    @Option(help: "Rate-limit window in seconds.")
    var rateWindow: Int = 60

    @Option(help: ArgumentHelp("A fault to inject, NAME=VALUE (repeatable).", valueName: "NAME=VALUE"))
    var fault: [String] = []

    @Option(help: ArgumentHelp("Campaigns to create besides 1001, as IDs and ranges: 2000-2049,3000.", valueName: "IDS"))
    var campaigns: String?

    /// `--campaigns` as a list of ids.
    func campaignIDs() throws -> [Int] {
        guard let campaigns else { return [] }
        var ids: [Int] = []
        for part in campaigns.split(separator: ",") {
            let bounds = part.split(separator: "-", maxSplits: 1).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard let low = bounds.first ?? nil, let high = bounds.last ?? nil, low > 0, low <= high, high - low < 100_000 else {
                throw ValidationError("--campaigns: '\(part)' is not an ID or a range like 2000-2049")
            }
            ids += Array(low ... high)
        }
        return ids
    }

    func validate() throws {
        guard (0 ... 65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        if (s3Endpoint == nil) != (s3Bucket == nil) { throw ValidationError("--s3-endpoint and --s3-bucket go together") }
        guard tokenLifetime > 0 else { throw ValidationError("--token-lifetime must be positive") }
        _ = try campaignIDs()
    }

    func run() async throws {
        var configuration = SandboxConfiguration()
        configuration.port = port
        configuration.host = host
        configuration.tokenExpiresIn = tokenLifetime
        if let data { configuration.dataDirectory = URL(fileURLWithPath: data) }
        if let s3Endpoint, let s3Bucket { configuration.objectStore = .external(endpoint: s3Endpoint, bucket: s3Bucket) }
        if rateLimit > 0 { configuration.rateLimit = SandboxRateLimit(limit: rateLimit, windowSeconds: rateWindow) }
        do {
            configuration.faults = try SandboxFaults(parsing: fault)
        } catch {
            throw ValidationError("--fault: \(error)")
        }
        let sandbox = try await ClassySandbox.start(configuration)
        for id in try campaignIDs() {
            try await sandbox.addCampaign(SandboxCampaign(id: id, name: "Campaign \(id)"))
        }
        print(sandbox.summary)
        fflush(nil) // the CI log and scripts see the URL before the first request
        // Ctrl-C / SIGTERM stop the server gracefully (in-flight requests finish).
        let signals = [SIGINT, SIGTERM].map { signalNumber -> DispatchSourceSignal in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber)
            source.setEventHandler { Task { await sandbox.stop() } }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }
        try await sandbox.wait()
    }
}
