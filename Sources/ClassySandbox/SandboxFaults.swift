/// Faults the sandbox can inject; every field off by default. Tests switch them
/// on through `RunningSandbox.setFaults`, the CLI through flags.
public struct SandboxFaults: Sendable, Hashable {
    /// Share (0...1) of object-store PUTs answered with S3's `500 InternalError`.
    public var s3ServerErrorRate: Double = 0
    /// Share (0...1) of object-store PUTs whose connection is closed mid-body.
    public var s3ResetRate: Double = 0
    /// Added to every response, in milliseconds.
    public var latencyMilliseconds: Int = 0
    /// Tokens stop working after this many seconds, whatever `expires_in` said.
    public var tokenLifetimeSeconds: Int? = nil
    /// The next N API requests are answered `503` (a storm), with `Retry-After`.
    public var stormRequests: Int = 0
    /// `Retry-After` seconds during a storm.
    public var stormRetryAfterSeconds: Int = 1
    /// The next N pre-signed URLs are issued already expired.
    public var expiredPresignedURLs: Int = 0
    /// Share (0...1) of API requests answered `500`.
    public var apiServerErrorRate: Double = 0
    /// Share (0...1) of answers lost after the work was done: an API request
    /// (below `/2.0/`) or an object-store PUT is carried out (state changed,
    /// object stored) and then the connection is closed without an answer,
    /// as when a response dies on the way back.
    public var dropResponseRate: Double = 0
    /// The next N `POST /2.0/assets/{id}/process` answers are lost after the
    /// children were made (the deterministic form of `drop-response` for the
    /// one call that is not idempotent).
    public var dropProcessAnswers: Int = 0
    /// The next N `POST /2.0/assets/{id}/process` requests make their children
    /// and then answer `500`: a server error that is no proof nothing happened.
    public var processErrorsAfterWork: Int = 0
    /// eCard answers carry exactly the reference's fields, without the `id`
    /// the sandbox otherwise adds, so a client must find its eCards by listing.
    public var eCardsWithoutID = false

    public init() {}

    /// Reads `--fault` values of the CLI, each `name=value`:
    /// `s3-500=0.3`, `s3-reset=0.3`, `latency-ms=200`, `token-lifetime=5`,
    /// `storm=20`, `storm-retry-after=2`, `expired-urls=1`, `api-500=0.1`,
    /// `drop-response=0.05`, `drop-process-answers=1`, `process-500-after-work=1`, `ecards-without-id=1`.
    public init(parsing specs: [String]) throws(SandboxFaultSpecError) {
        self.init()
        for spec in specs {
            let kv = spec.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2 else { throw SandboxFaultSpecError(spec: spec, reason: "expected name=value") }
            func rate() throws(SandboxFaultSpecError) -> Double {
                guard let v = Double(kv[1]), (0...1).contains(v) else { throw SandboxFaultSpecError(spec: spec, reason: "expected a share between 0 and 1") }
                return v
            }
            func count() throws(SandboxFaultSpecError) -> Int {
                guard let v = Int(kv[1]), v >= 0 else { throw SandboxFaultSpecError(spec: spec, reason: "expected a non-negative integer") }
                return v
            }
            switch kv[0] {
            case "s3-500": s3ServerErrorRate = try rate()
            case "s3-reset": s3ResetRate = try rate()
            case "api-500": apiServerErrorRate = try rate()
            case "latency-ms": latencyMilliseconds = try count()
            case "token-lifetime": tokenLifetimeSeconds = try count()
            case "storm": stormRequests = try count()
            case "storm-retry-after": stormRetryAfterSeconds = try count()
            case "expired-urls": expiredPresignedURLs = try count()
            case "drop-response": dropResponseRate = try rate()
            case "drop-process-answers": dropProcessAnswers = try count()
            case "process-500-after-work": processErrorsAfterWork = try count()
            case "ecards-without-id":
                guard let on = ["1": true, "true": true, "0": false, "false": false][kv[1].lowercased()] else {
                    throw SandboxFaultSpecError(spec: spec, reason: "expected 1 or 0")
                }
                eCardsWithoutID = on
            default: throw SandboxFaultSpecError(spec: spec, reason: "unknown fault \(kv[0])")
            }
        }
    }
}

public struct SandboxFaultSpecError: Error, Sendable, CustomStringConvertible {
    public var spec: String
    public var reason: String
    public var description: String { "invalid --fault \(spec): \(reason)" }
}

/// A deterministic generator (SplitMix64): a seed replays the same faults.
struct SeededRandom: RandomNumberGenerator, Sendable {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
