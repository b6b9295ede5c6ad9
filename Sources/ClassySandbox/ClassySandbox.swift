import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SigV4

/// A local Classy: the asset API, eCards, appeal sets and an S3-compatible
/// store on loopback. Start it, use `baseURL` and the credentials, stop it.
public enum ClassySandbox {
    /// Binds (port 0 picks a free one), starts serving, and returns once the
    /// port is known. With a data directory the sandbox keeps its identity
    /// across runs (`SandboxConfiguration.reuseStoredIdentity`): same apps,
    /// same store key and, when no port is configured, the port of the last run
    /// if it is free.
    public static func start(
        _ configuration: SandboxConfiguration = SandboxConfiguration(),
        processor: any SandboxImageProcessor = ImagingSandboxProcessor(),
        logger: Logger = Logger(label: "classy-sandbox")
    ) async throws -> RunningSandbox {
        var configuration = configuration
        var identity: SandboxIdentity?
        var directoryLock: DataDirectoryLock?
        if let dir = configuration.dataDirectory {
            try createPrivateDirectory(dir)
            if configuration.reuseStoredApps { configuration.apps = try storedApps(in: dir, default: configuration.apps) }
            if configuration.reuseStoredIdentity {
                let stored = try SandboxIdentity.loadOrCreate(in: dir, configured: configuration.storeCredentials)
                configuration.storeCredentials = stored.storeCredentials
                identity = stored
                directoryLock = try DataDirectoryLock(dir)
            }
        }
        let state = try SandboxState(dataDirectory: configuration.dataDirectory, faults: configuration.faults, seed: configuration.seed)
        let base = BaseURLBox()
        let baseURL: @Sendable () -> String = { base.value }
        let store = ObjectStoreBackend(state: state, config: configuration, baseURL: baseURL)
        let responder = SandboxResponder(state: state, config: configuration, store: store, processor: processor, baseURL: baseURL)

        // Only the directory's owner takes (and records) the remembered port.
        let owner = configuration.port == 0 && directoryLock != nil
        var server: Server?
        if owner, let remembered = identity?.port {
            server = await Server.bind(responder, host: configuration.host, port: remembered, logger: logger)
        }
        if server == nil { server = await Server.bind(responder, host: configuration.host, port: configuration.port, logger: logger) }
        guard let server else {
            directoryLock?.release()
            throw SandboxStartError(message: "the sandbox did not start on \(configuration.host):\(configuration.port)")
        }
        if owner, let dir = configuration.dataDirectory, var recorded = identity, recorded.port != server.port {
            recorded.port = server.port
            try recorded.save(in: dir)
        }
        base.value = "http://\(configuration.host):\(server.port)"
        return RunningSandbox(baseURL: base.value, port: server.port, apps: configuration.apps, state: state,
                              group: server.group, task: server.task, directoryLock: directoryLock)
    }

    /// A listening server and the task running it.
    private struct Server {
        var port: Int
        var group: ServiceGroup
        var task: Task<Void, any Error>

        /// Starts serving on `port` (0: any free one); nil when it cannot bind.
        static func bind(_ responder: SandboxResponder, host: String, port: Int, logger: Logger) async -> Server? {
            let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
            let app = Application(
                responder: responder,
                configuration: .init(address: .hostname(host, port: port), serverName: "classy-sandbox"),
                onServerRunning: { channel in
                    portContinuation.yield(channel.localAddress?.port ?? 0)
                    portContinuation.finish()
                },
                logger: logger
            )
            // A service group without signal handlers: `stop()` shuts it down
            // gracefully (in-flight requests finish), the CLI can add signals itself.
            let group = ServiceGroup(services: [app], logger: logger)
            let task = Task {
                // A failed bind ends the group before the server runs: end the wait too.
                defer { portContinuation.finish() }
                try await group.run()
            }
            var iterator = portStream.makeAsyncIterator()
            guard let bound = await iterator.next(), bound > 0 else {
                await group.triggerGracefulShutdown()
                _ = await task.result
                return nil
            }
            return Server(port: bound, group: group, task: task)
        }
    }
}

/// Loads `apps.json` from the data directory, or writes `apps` there (owner-only:
/// the file holds client secrets).
func storedApps(in dir: URL, default apps: [SandboxClientApp]) throws -> [SandboxClientApp] {
    let file = dir.appendingPathComponent("apps.json")
    if let data = try? Data(contentsOf: file), let stored = try? JSONDecoder().decode([SandboxClientApp].self, from: data), !stored.isEmpty {
        chmod(file.path, 0o600) // narrows a file written by an older sandbox
        return stored
    }
    try writePrivateFile(try JSONEncoder().encode(apps), to: file)
    return apps
}

public struct SandboxStartError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Set once, after binding; read by every request.
final class BaseURLBox: @unchecked Sendable {
    // Written once before the first request can arrive, then only read.
    private let lock = NSLock()
    private var _value = ""
    var value: String {
        get { lock.withLock { _value } }
        set { lock.withLock { _value = newValue } }
    }
}

/// A started sandbox: where it listens, who may log in, and test controls.
public struct RunningSandbox: Sendable {
    public let baseURL: String
    public let port: Int
    public let apps: [SandboxClientApp]
    let state: SandboxState
    let group: ServiceGroup
    let task: Task<Void, any Error>
    /// Held while this sandbox owns its data directory's identity.
    let directoryLock: DataDirectoryLock?

    /// The first app's client ID and secret (the one printed by the CLI).
    public var clientID: String { apps[0].clientID }
    public var clientSecret: String { apps[0].clientSecret }

    /// What a command line prints so someone can point a client at the sandbox.
    public var summary: String {
        """
        Classy sandbox listening on \(baseURL)
        CLASSY_API_URL=\(baseURL)
        CLASSY_CLIENT_ID=\(clientID)
        CLASSY_CLIENT_SECRET=\(clientSecret)
        """
    }

    /// Stops the server and waits for it to close (and lets the next sandbox
    /// on the same data directory take its port).
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
        directoryLock?.release()
    }

    /// Waits until the server stops by itself (for a CLI in the foreground).
    public func wait() async throws { try await task.value }

    public func setFaults(_ faults: SandboxFaults) async { await state.setFaults(faults) }
    public func faults() async -> SandboxFaults { await state.faults }
    /// Moves the sandbox's clock forward (ages tokens and pre-signed URLs).
    public func advanceClock(by seconds: Int) async { await state.advanceClock(by: Int64(seconds)) }
    public func expireAllTokens() async { await state.expireAllTokens() }
    public func addCampaign(_ campaign: SandboxCampaign) async throws { try await state.put(campaign) }

    /// Adds (or keeps) a sponsor's donation-matching plan on a campaign, for tests and the CLI's sandbox mode.
    /// A kept plan saved before the sandbox knew the Required `started_at` and
    /// `timezone_identifier` gets them, so it can be updated as documented.
    public func addMatchingPlan(id: Int, campaign: Int, businessName: String = "Sponsor") async throws {
        let now = await state.now
        if var kept = await state.matchingPlan(id) {
            guard kept.startedAt == nil || kept.timezoneIdentifier == nil else { return }
            kept.startedAt = kept.startedAt ?? classyDate(now)
            kept.timezoneIdentifier = kept.timezoneIdentifier ?? "UTC"
            try await state.put(kept)
            return
        }
        if await state.campaign(campaign) == nil { try await state.put(SandboxCampaign(id: campaign, name: "Campaign \(campaign)")) }
        try await state.put(SandboxMatchingPlan(id: id, campaignID: campaign, businessName: businessName, matchingLimitAmount: "0",
                                                currencyCode: "USD", startedAt: classyDate(now), timezoneIdentifier: "UTC",
                                                createdAt: now, updatedAt: now))
    }

    /// Changes an asset record the way someone editing the platform behind the
    /// worker's back would (for `verify` tests and demos). Returns false for an unknown id.
    @discardableResult
    public func alterAsset(_ id: Int, size: Int? = nil, contentType: String? = nil, state newState: String? = nil) async throws -> Bool {
        guard var asset = await state.asset(id) else { return false }
        if let size { asset.size = size }
        if let contentType { asset.contentType = contentType }
        if let newState { asset.state = newState }
        try await state.put(asset)
        return true
    }

    /// Observations for tests.
    public func statistics() async -> SandboxStatistics {
        let assets = await state.allAssets
        return SandboxStatistics(
            assets: assets.map { SandboxStatistics.Asset(id: $0.id, parentID: $0.parentID, state: $0.state, type: $0.type,
                                                          size: $0.size, contentType: $0.contentType, uploadedTransitions: $0.uploadedTransitions) },
            requestsOverLimit: await state.requestsOverLimit,
            storePuts: await state.storePuts,
            peakConcurrentStorePuts: await state.peakConcurrentStorePuts,
            injectedFaults: await state.injectedFaults,
            droppedResponses: await state.droppedResponses)
    }

    /// Answers lost on purpose so far (`drop-response`): the work was done, the client heard nothing.
    public func droppedResponses() async -> Int { await state.droppedResponses }

    /// The bytes the built-in store holds for an asset.
    public func objectBytes(assetID: Int) async -> [UInt8]? {
        guard let a = await state.asset(assetID) else { return nil }
        return await state.bytes(a.objectKey)
    }
}

public struct SandboxStatistics: Sendable {
    public struct Asset: Sendable, Hashable {
        public var id: Int
        public var parentID: Int?
        public var state: String
        public var type: String?
        public var size: Int?
        public var contentType: String?
        public var uploadedTransitions: Int
    }
    public var assets: [Asset]
    /// Requests that arrived after the advertised limit was used up.
    public var requestsOverLimit: Int
    /// Successful writes into the built-in store.
    public var storePuts: Int
    /// The most requests to the store (built-in) open at once, injected latency included.
    public var peakConcurrentStorePuts: Int = 0
    /// Faults injected so far (S3 500s and resets, API 500s, dropped answers).
    public var injectedFaults: Int = 0
    /// Answers dropped after the work was done (`drop-response`), API and store together.
    public var droppedResponses: Int = 0
}
