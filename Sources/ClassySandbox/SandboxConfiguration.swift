import ClassyVocabulary
import Foundation
import SigV4

/// An OAuth client the sandbox knows. Only trusted apps may use the asset endpoints.
public struct SandboxClientApp: Sendable, Hashable, Codable {
    public var clientID: String
    public var clientSecret: String
    public var trusted: Bool

    public init(clientID: String, clientSecret: String, trusted: Bool = true) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.trusted = trusted
    }
}

/// Where uploaded bytes go.
public enum SandboxObjectStore: Sendable, Hashable {
    /// The sandbox's own S3-compatible endpoint under `/s3/{bucket}/...`, which
    /// verifies signature, expiry, signed headers and Content-MD5.
    case builtIn(bucket: String)
    /// An external S3 implementation (moto, MinIO, AWS); the sandbox only issues
    /// pre-signed URLs for it and reads objects back through it.
    case external(endpoint: String, bucket: String, region: String, credentials: SigV4Credentials)
}

extension SandboxObjectStore {
    /// An external store with credentials from `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and `AWS_REGION`; moto accepts the placeholders
    /// used when they are unset.
    public static func external(endpoint: String, bucket: String,
                                environment: [String: String] = ProcessInfo.processInfo.environment) -> SandboxObjectStore {
        .external(endpoint: endpoint, bucket: bucket, region: environment["AWS_REGION"] ?? "us-east-1",
                  credentials: SigV4Credentials(accessKeyID: environment["AWS_ACCESS_KEY_ID"] ?? "AKIDSANDBOXEXTERNAL",
                                                secretAccessKey: environment["AWS_SECRET_ACCESS_KEY"] ?? "sandbox-external-secret"))
    }
}

/// Rate limiting as the Classy API advertises it: a fixed window per token.
public struct SandboxRateLimit: Sendable, Hashable {
    public var limit: Int
    public var windowSeconds: Int

    public init(limit: Int, windowSeconds: Int) {
        self.limit = limit
        self.windowSeconds = windowSeconds
    }
}

public struct SandboxConfiguration: Sendable {
    public var host: String = "127.0.0.1"
    /// 0 picks a free port; `RunningSandbox.baseURL` tells which.
    public var port: Int = 0
    /// Where state (`state.json`) and objects are kept; nil keeps everything in memory.
    public var dataDirectory: URL?
    public var apps: [SandboxClientApp]
    /// `expires_in` of issued tokens.
    public var tokenExpiresIn: Int = 3600
    /// Validity of pre-signed URLs (`X-Amz-Expires`); Classy documents 15 minutes.
    public var presignExpires: Int = ClassyLimits.presignedURLLifetimeSeconds
    public var objectStore: SandboxObjectStore = .builtIn(bucket: "classy-sandbox-assets")
    /// Keys the built-in store accepts and signs with. With a data directory
    /// (and `reuseStoredIdentity`), the directory's own key replaces them.
    public var storeCredentials = SandboxConfiguration.defaultStoreCredentials
    public var region: String = "us-east-1"
    public var rateLimit: SandboxRateLimit? = nil
    public var faults = SandboxFaults()
    /// Seed of the fault injector's random numbers, so a failing run can be replayed.
    public var seed: UInt64 = 0x5EED
    public var maxObjectBytes: Int = 20 << 20
    /// With a data directory: keep the OAuth apps in `apps.json` (mode 600) and
    /// reuse them on the next start, so printed credentials stay valid.
    public var reuseStoredApps = true
    /// With a data directory: keep the port and the store's signing key in
    /// `identity.json` (mode 600) and reuse them, so a pre-signed URL or base URL
    /// handed out by the previous run still works. The recorded port is taken
    /// when `port` is 0 and it is free (otherwise a free one, then recorded).
    public var reuseStoredIdentity = true

    /// The store key of a sandbox without a data directory (public, so never secret).
    public static let defaultStoreCredentials = SigV4Credentials(accessKeyID: "SANDBOXACCESSKEY0001",
                                                                 secretAccessKey: "sandbox-secret-not-for-production")

    public init(apps: [SandboxClientApp] = [SandboxClientApp.generated()]) {
        self.apps = apps
    }
}

extension SandboxClientApp {
    /// A trusted app with random credentials.
    public static func generated(trusted: Bool = true) -> SandboxClientApp {
        SandboxClientApp(clientID: "sandbox-" + randomToken(8), clientSecret: randomToken(24), trusted: trusted)
    }
}

func randomToken(_ bytes: Int) -> String {
    var g = SystemRandomNumberGenerator()
    return SigV4.hex((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &g) })
}
