import Foundation
import SigV4

/// Everything the sandbox knows, behind one actor so concurrent requests see a
/// consistent state. With a data directory, every change is appended to a log
/// (`SandboxPersistence`) and objects go to `objects/` instead of memory, so
/// another process can read what a run left behind and a large batch does not
/// keep every uploaded byte in RAM.
actor SandboxState {
    struct Snapshot: Codable {
        var nextID = 1000
        var assets: [Int: SandboxAsset] = [:]
        var objects: [String: StoredObject] = [:]
        var ecards: [Int: SandboxECard] = [:]
        var appealSets: [Int: SandboxAppealSet] = [:]
        var campaigns: [Int: SandboxCampaign] = [:]
        /// Optional so state saved before plans existed still loads.
        var matchingPlans: [Int: SandboxMatchingPlan]? = [:]
        // No tokens here: a snapshot is written to disk, and bearer tokens never are.
    }

    struct Window {
        var start: Int64
        var count: Int
    }

    private(set) var snapshot = Snapshot()
    /// Issued bearer tokens, in memory only: a restarted sandbox answers 401 to
    /// old tokens and the client fetches a new one, as after any expiry.
    private var tokens: [String: IssuedToken] = [:]
    /// Object bytes when there is no data directory (tests); otherwise they live in files.
    private var objectBytes: [String: [UInt8]] = [:]
    private let dataDirectory: URL?
    private let persistence: SandboxPersistence?
    var faults: SandboxFaults
    private var random: SeededRandom
    /// Seconds added to the wall clock, so tests can age URLs and tokens.
    private var clockOffset: Int64 = 0
    private var windows: [String: Window] = [:]
    /// Requests that arrived while their window was already used up.
    private(set) var requestsOverLimit = 0
    private(set) var storePuts = 0
    /// Requests to the store being answered now, and the most at once.
    private var openStorePuts = 0
    private(set) var peakConcurrentStorePuts = 0
    /// Faults injected so far (S3 500s and resets, API 500s, dropped answers), for tests.
    private(set) var injectedFaults = 0
    /// Answers dropped after the work was done (`drop-response`).
    private(set) var droppedResponses = 0

    init(dataDirectory: URL?, faults: SandboxFaults, seed: UInt64) throws {
        self.dataDirectory = dataDirectory
        self.faults = faults
        self.random = SeededRandom(seed: seed)
        persistence = try dataDirectory.map { try SandboxPersistence(directory: $0) }
        if let persistence { snapshot = persistence.loaded }
        if snapshot.campaigns.isEmpty {
            // One campaign to attach eCards and appeal sets to out of the box.
            snapshot.campaigns[1001] = SandboxCampaign(id: 1001, name: "Sandbox campaign")
        }
    }

    var now: Int64 { Int64(Date().timeIntervalSince1970) + clockOffset }
    /// The same clock in milliseconds, for lifetimes of a few seconds: whole
    /// seconds would make a 1 s token live anywhere between 0 and 1 s.
    var nowMilliseconds: Int64 { Int64(Date().timeIntervalSince1970 * 1000) + clockOffset * 1000 }

    func advanceClock(by seconds: Int64) { clockOffset += seconds }

    func setFaults(_ f: SandboxFaults) { faults = f }

    /// Not logged by itself: replaying a record moves the counter past its id
    /// (`Snapshot.apply`), and an id no record took may be handed out again.
    func nextID() -> Int {
        snapshot.nextID += 1
        return snapshot.nextID
    }

    func roll(_ rate: Double) -> Bool {
        let hit = rate > 0 && Double.random(in: 0..<1, using: &random) < rate
        if hit { injectedFaults += 1 }
        return hit
    }

    /// Whether to lose the answer of a request whose work is done (`drop-response`).
    func dropResponse(ofProcess: Bool = false) -> Bool {
        if ofProcess, faults.dropProcessAnswers > 0 {
            faults.dropProcessAnswers -= 1
            injectedFaults += 1
            droppedResponses += 1
            return true
        }
        let drop = roll(faults.dropResponseRate)
        if drop { droppedResponses += 1 }
        return drop
    }

    /// Whether to answer a `/process` whose children were made with a 500 (`process-500-after-work`).
    func takeProcessErrorAfterWork() -> Bool {
        guard faults.processErrorsAfterWork > 0 else { return false }
        faults.processErrorsAfterWork -= 1
        injectedFaults += 1
        return true
    }

    /// Takes one request of a storm if one is under way.
    func takeStormRequest() -> Bool {
        guard faults.stormRequests > 0 else { return false }
        faults.stormRequests -= 1
        return true
    }

    func takeExpiredPresign() -> Bool {
        guard faults.expiredPresignedURLs > 0 else { return false }
        faults.expiredPresignedURLs -= 1
        return true
    }

    /// Counts a request against the caller's fixed window.
    func rateLimit(key: String, limit: SandboxRateLimit) -> (allowed: Bool, remaining: Int, reset: Int64) {
        let t = now
        var w = windows[key] ?? Window(start: t, count: 0)
        if t >= w.start + Int64(limit.windowSeconds) { w = Window(start: t, count: 0) }
        let reset = w.start + Int64(limit.windowSeconds)
        guard w.count < limit.limit else {
            requestsOverLimit += 1
            windows[key] = w
            return (false, 0, reset)
        }
        w.count += 1
        windows[key] = w
        return (true, limit.limit - w.count, reset)
    }

    // MARK: tokens

    func issueToken(app: SandboxClientApp, lifetime: Int) -> String {
        let token = randomToken(20)
        tokens[token] = IssuedToken(clientID: app.clientID, trusted: app.trusted, expiresAtMilliseconds: nowMilliseconds + Int64(lifetime) * 1000)
        return token
    }

    func token(_ value: String) -> IssuedToken? {
        guard let t = tokens[value], t.expiresAtMilliseconds > nowMilliseconds else { return nil }
        return t
    }

    func expireAllTokens() { for k in tokens.keys { tokens[k]?.expiresAtMilliseconds = 0 } }

    // MARK: records

    func asset(_ id: Int) -> SandboxAsset? { snapshot.assets[id] }
    var allAssets: [SandboxAsset] { snapshot.assets.values.sorted { $0.id < $1.id } }

    func put(_ asset: SandboxAsset) throws {
        try record(.asset(asset))
    }

    func children(of id: Int) -> [SandboxAsset] {
        snapshot.assets.values.filter { $0.parentID == id }.sorted { $0.id > $1.id }
    }

    func campaign(_ id: Int) -> SandboxCampaign? { snapshot.campaigns[id] }

    func put(_ campaign: SandboxCampaign) throws {
        try record(.campaign(campaign))
    }

    func ecards(campaign: Int) -> [SandboxECard] {
        snapshot.ecards.values.filter { $0.campaignID == campaign }.sorted { ($0.order ?? Int.max, $0.id) < ($1.order ?? Int.max, $1.id) }
    }

    func ecard(_ id: Int) -> SandboxECard? { snapshot.ecards[id] }

    func put(_ ecard: SandboxECard) throws {
        try record(.ecard(ecard))
    }

    func deleteECard(_ id: Int) throws {
        try record(.ecardDeleted(id: id))
    }

    func appealSet(_ id: Int) -> SandboxAppealSet? { snapshot.appealSets[id] }
    func appealSet(campaign: Int) -> SandboxAppealSet? { snapshot.appealSets.values.first { $0.campaignID == campaign } }

    func put(_ set: SandboxAppealSet) throws {
        try record(.appealSet(set))
    }

    func matchingPlan(_ id: Int) -> SandboxMatchingPlan? { snapshot.matchingPlans?[id] }
    func matchingPlans(campaign: Int) -> [SandboxMatchingPlan] {
        (snapshot.matchingPlans ?? [:]).values.filter { $0.campaignID == campaign }.sorted { $0.id < $1.id }
    }

    func put(_ plan: SandboxMatchingPlan) throws {
        try record(.matchingPlan(plan))
    }

    // MARK: objects

    func storePutStarted() {
        openStorePuts += 1
        peakConcurrentStorePuts = max(peakConcurrentStorePuts, openStorePuts)
    }

    func storePutEnded() { openStorePuts -= 1 }

    func storeObject(_ object: StoredObject, bytes: [UInt8]) throws {
        storePuts += 1
        if let dir = dataDirectory {
            try writePrivateFile(Data(bytes), to: objectFile(dir, object.key))
        } else {
            objectBytes[object.key] = bytes
        }
        try record(.object(object))
    }

    func object(_ key: String) -> StoredObject? { snapshot.objects[key] }

    func bytes(_ key: String) -> [UInt8]? {
        if let b = objectBytes[key] { return b }
        guard snapshot.objects[key] != nil, let dir = dataDirectory,
              let d = try? Data(contentsOf: objectFile(dir, key)) else { return nil }
        return [UInt8](d)
    }

    private func objectFile(_ dir: URL, _ key: String) -> URL {
        // Keys contain `/`; flatten them into one safe file name.
        dir.appendingPathComponent("objects").appendingPathComponent(SigV4.uriEncode(key, encodeSlash: true))
    }

    /// Applies a change and keeps it.
    private func record(_ change: SandboxChange) throws {
        snapshot.apply(change)
        try persistence?.append(change)
    }
}
