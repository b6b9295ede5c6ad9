import Foundation
import SigV4
import Synchronization

/// What must stay the same from one run to the next on a data directory for
/// what an earlier run handed out to keep working: its port (a pre-signed URL
/// kept in a journal, and the printed `CLASSY_API_URL`, name it) and the key
/// the built-in store signs URLs with. Kept in `identity.json` (0600); the
/// OAuth apps are kept beside it, in `apps.json`.
struct SandboxIdentity: Codable, Equatable {
    /// The port the last owner listened on; nil until one was recorded.
    var port: Int?
    var storeAccessKeyID: String
    var storeSecretAccessKey: String

    var storeCredentials: SigV4Credentials {
        SigV4Credentials(accessKeyID: storeAccessKeyID, secretAccessKey: storeSecretAccessKey)
    }

    static func file(in dir: URL) -> URL { dir.appendingPathComponent("identity.json") }

    /// The stored identity, or a new one written now. A new identity signs with
    /// `configured` credentials, unless they are the public built-in default,
    /// which is replaced by a random key of this directory's own.
    static func loadOrCreate(in dir: URL, configured: SigV4Credentials) throws -> SandboxIdentity {
        if let data = try? Data(contentsOf: file(in: dir)), let stored = try? JSONDecoder().decode(SandboxIdentity.self, from: data) {
            return stored
        }
        let isDefault = configured.accessKeyID == SandboxConfiguration.defaultStoreCredentials.accessKeyID
            && configured.secretAccessKey == SandboxConfiguration.defaultStoreCredentials.secretAccessKey
        let identity = isDefault
            ? SandboxIdentity(port: nil, storeAccessKeyID: "SANDBOX" + randomToken(7).uppercased(), storeSecretAccessKey: randomToken(20))
            : SandboxIdentity(port: nil, storeAccessKeyID: configured.accessKeyID, storeSecretAccessKey: configured.secretAccessKey)
        try identity.save(in: dir)
        return identity
    }

    func save(in dir: URL) throws {
        try writePrivateFile(try JSONEncoder().encode(self), to: Self.file(in: dir))
    }
}

/// An exclusive `flock` on `identity.lock`, held for as long as a sandbox owns
/// its directory's identity. A second sandbox on the same directory (a `verify`
/// beside a running `upload`) does not get it: it listens on a free port and
/// leaves the recorded identity to the owner. The kernel drops the lock when
/// the process dies, so a killed run never blocks the next; `stop()` releases
/// it at once, so a sandbox restarted in the same process takes over.
final class DataDirectoryLock: Sendable {
    /// -1 once released.
    private let descriptor: Mutex<Int32>

    /// nil when another sandbox holds the directory.
    init?(_ dir: URL) throws {
        let path = dir.appendingPathComponent("identity.lock").path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SandboxPersistenceError(message: "cannot open \(path): errno \(errno)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        descriptor = Mutex(fd)
    }

    func release() {
        descriptor.withLock { fd in
            if fd >= 0 { close(fd) }
            fd = -1
        }
    }

    deinit { release() }
}
