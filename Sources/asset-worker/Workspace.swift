import ArgumentParser
import AssetPipeline
import ClassyAPI
import ClassySandbox
import Foundation
import Logging

/// Where a worker keeps its state, and which Classy it talks to: the real API
/// when credentials are configured, otherwise an in-process sandbox whose data
/// lives beside the journal (so `status` and `verify` work afterwards).
struct WorkspaceOptions: ParsableArguments {
    @Option(help: "The folder for the journal and, without credentials, the local sandbox's data.")
    var stateDir: String = ".asset-worker"

    @Option(help: "Classy API base URL (or CLASSY_API_URL).")
    var apiURL: String?

    @Option(help: "OAuth client ID (or CLASSY_CLIENT_ID).")
    var clientID: String?

    @Option(help: "Member ID that creates the assets (or CLASSY_MEMBER_ID).")
    var memberID: Int?

    @Option(help: "A NAME=value file with the CLASSY_* settings; must not be readable by others (chmod 600).")
    var config: String?

    @Option(help: ArgumentHelp("Without credentials: a fault for the local sandbox, NAME=VALUE as `asset-worker sandbox --fault` (repeatable; for benchmarks and demos).", valueName: "NAME=VALUE"))
    var sandboxFault: [String] = []

    @Flag(inversion: .prefixedNo,
          help: "Send the image's content type with POST /2.0/assets/url so the pre-signed URL signs it (not in the documented body: turn it off if the API refuses the field).")
    var contentTypeHint = true

    var journalPath: String { stateDir + "/journal.sqlite" }

    var clientOptions: ClassyClient.Options {
        var options = ClassyClient.Options()
        options.sendContentTypeHint = contentTypeHint
        return options
    }
    var sandboxData: String { stateDir + "/sandbox" }
}

/// An API to talk to, and the sandbox behind it when there is one.
struct Connection {
    var client: ClassyClient
    var sandbox: RunningSandbox?
    var description: String

    func close() async {
        await sandbox?.stop()
    }
}

enum Workspace {
    /// The configured Classy API, or a local sandbox when no credentials are configured.
    /// `campaigns` are created in the sandbox so eCards and appeal sets have somewhere to go.
    static func connect(_ options: WorkspaceOptions, campaigns: [Int] = [], matchingPlans: [Int] = []) async throws -> Connection {
        let environment = ProcessInfo.processInfo.environment
        let hasCredentials = options.clientID != nil || environment["CLASSY_CLIENT_ID"].map { !$0.isEmpty } == true
            || options.config != nil
        var logger = Logger(label: "asset-worker")
        logger.logLevel = .warning
        if hasCredentials {
            let secret = environment["CLASSY_CLIENT_SECRET"]
            let configuration: ClassyConfiguration
            do {
                configuration = try ClassyConfiguration.resolve(
                    flags: .init(baseURL: options.apiURL, clientID: options.clientID, clientSecret: secret, memberID: options.memberID),
                    configFile: options.config)
            } catch {
                throw CLIFailure(status: ExitStatus.usage, message: error.description)
            }
            return Connection(client: ClassyClient(configuration: configuration, options: options.clientOptions, logger: logger), sandbox: nil,
                              description: "Classy API at \(configuration.baseURL)")
        }
        try FileManager.default.createDirectory(atPath: options.stateDir, withIntermediateDirectories: true)
        var configuration = SandboxConfiguration()
        configuration.dataDirectory = URL(fileURLWithPath: options.sandboxData)
        do {
            configuration.faults = try SandboxFaults(parsing: options.sandboxFault)
        } catch {
            throw CLIFailure(status: ExitStatus.usage, message: "--sandbox-fault: \(error)")
        }
        var sandboxLogger = Logger(label: "classy-sandbox")
        sandboxLogger.logLevel = .warning
        let sandbox = try await ClassySandbox.start(configuration, logger: sandboxLogger)
        for campaign in campaigns {
            try await sandbox.addCampaign(SandboxCampaign(id: campaign, name: "Campaign \(campaign)"))
        }
        // A sponsor job names an existing plan; the local sandbox makes it (on a campaign of its own).
        for plan in matchingPlans {
            try await sandbox.addMatchingPlan(id: plan, campaign: campaigns.first ?? 1, businessName: "Sponsor \(plan)")
        }
        let client = ClassyClient(
            configuration: ClassyConfiguration(baseURL: sandbox.baseURL, clientID: sandbox.clientID,
                                               clientSecret: sandbox.clientSecret, memberID: options.memberID ?? 1),
            options: options.clientOptions, logger: logger)
        return Connection(client: client, sandbox: sandbox,
                          description: "no Classy credentials configured: using the local sandbox at \(sandbox.baseURL) (data in \(options.sandboxData))")
    }
}

/// A command failure with its sysexits status and a message for stderr.
struct CLIFailure: Error, CustomStringConvertible {
    var status: Int32
    var message: String
    var description: String { message }
}

enum StandardError {
    static func print(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
