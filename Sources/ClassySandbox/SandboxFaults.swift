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

    public init() {}
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
