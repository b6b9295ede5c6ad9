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

    @Flag(help: "Upload to the built-in local sandbox (data in STATE-DIR/sandbox) instead of the Classy API. Without it, missing credentials are an error, never a silent switch to the sandbox.")
    var sandbox = false

    @Option(help: ArgumentHelp("With --sandbox: a fault for the local sandbox, NAME=VALUE as `asset-worker sandbox --fault` (repeatable; for benchmarks and demos).", valueName: "NAME=VALUE"))
    var sandboxFault: [String] = []

    @Flag(inversion: .prefixedNo,
          help: "Send the image's content type with POST /2.0/assets/url so the pre-signed URL signs it (not in the documented body: turn it off if the API refuses the field).")
    var contentTypeHint = true

    @Option(help: ArgumentHelp("How long one API or store call may keep retrying transient failures (5xx, resets, no answer) before its job fails; an outage shorter than this fails nothing.", valueName: "SECONDS"))
    var retryBudget: Double = 30

    @Option(help: ArgumentHelp("Give up on one attempt after this long without an answer (the retry budget then decides).", valueName: "SECONDS"))
    var requestTimeout: Int = 60

    var journalPath: String { stateDir + "/journal.sqlite" }

    var clientOptions: ClassyClient.Options {
        var options = ClassyClient.Options()
        options.sendContentTypeHint = contentTypeHint
        options.retry.budget = .milliseconds(Int64(max(0, retryBudget) * 1000))
        options.requestTimeout = .seconds(Int64(max(1, requestTimeout)))
        return options
    }
    var sandboxData: String { stateDir + "/sandbox" }
}

/// An API to talk to, and the sandbox behind it when there is one.
struct Connection {
    var client: ClassyClient
    var sandbox: RunningSandbox?
    var description: String
    /// What the journal is bound to.
    var target: APITarget

    func close() async {
        await sandbox?.stop()
    }
}

enum Workspace {
    /// The credentials' variables, in the order a message names them.
    static let credentialVariables = ["CLASSY_CLIENT_ID", "CLASSY_CLIENT_SECRET", "CLASSY_MEMBER_ID"]

    /// The configured Classy API, or with `--sandbox` the built-in local sandbox.
    /// Incomplete credentials are refused (exit 64) naming what is missing: a job
    /// that lost one variable must fail, not "succeed" against a local emulator.
    /// `campaigns` are created in the sandbox so eCards and appeal sets have somewhere to go.
    static func connect(_ options: WorkspaceOptions, campaigns: [Int] = [], matchingPlans: [Int] = [],
                        needsMember: Bool = true) async throws -> Connection {
        var logger = Logger(label: "asset-worker")
        logger.logLevel = .warning
        if options.sandbox { return try await startSandbox(options, campaigns: campaigns, matchingPlans: matchingPlans, logger: logger) }
        if !options.sandboxFault.isEmpty {
            throw CLIFailure(status: ExitStatus.usage, message: "--sandbox-fault needs --sandbox (faults are injected by the local sandbox only)")
        }
        let environment = ProcessInfo.processInfo.environment
        let configuration: ClassyConfiguration
        do {
            configuration = try ClassyConfiguration.resolve(
                flags: .init(baseURL: options.apiURL, clientID: options.clientID, memberID: options.memberID),
                environment: environment, configFile: options.config)
        } catch {
            let given = credentialVariables.filter { environment[$0].map { !$0.isEmpty } == true }
            let hint = given.isEmpty && options.clientID == nil && options.config == nil
                ? "no Classy credentials configured: set \(credentialVariables.joined(separator: ", ")) (or --config FILE), or pass --sandbox to use the built-in local sandbox"
                : "\(error.message); nothing was uploaded"
            throw CLIFailure(status: ExitStatus.usage, message: hint)
        }
        if needsMember, configuration.memberID == nil {
            throw CLIFailure(status: ExitStatus.usage,
                             message: "CLASSY_MEMBER_ID is not set (or --member-id): the API needs the member that creates the assets; nothing was uploaded")
        }
        let target = APITarget(endpoint: configuration.baseURL, clientID: configuration.clientID, memberID: configuration.memberID,
                               organizationID: configuration.organizationID)
        return Connection(client: ClassyClient(configuration: configuration, options: options.clientOptions, logger: logger), sandbox: nil,
                          description: "Classy API at \(configuration.baseURL)", target: target)
    }

    static func startSandbox(_ options: WorkspaceOptions, campaigns: [Int], matchingPlans: [Int], logger: Logger) async throws -> Connection {
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
        let memberID = options.memberID ?? 1
        let client = ClassyClient(
            configuration: ClassyConfiguration(baseURL: sandbox.baseURL, clientID: sandbox.clientID,
                                               clientSecret: sandbox.clientSecret, memberID: memberID),
            options: options.clientOptions, logger: logger)
        // The sandbox's identity is its data folder (its port may change between runs).
        let dataPath = URL(fileURLWithPath: options.sandboxData).standardizedFileURL.path
        return Connection(client: client, sandbox: sandbox,
                          description: "the local sandbox at \(sandbox.baseURL) (--sandbox; data in \(options.sandboxData))",
                          target: APITarget(endpoint: "sandbox:" + dataPath, clientID: "sandbox", memberID: memberID))
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
