import Foundation

/// One change to the sandbox's records: a line of `changes.jsonl`.
///
/// Every change is an upsert (or a delete) of one record, so replaying a line
/// twice gives the same state; that is what makes the compaction below safe
/// to interrupt at any point.
enum SandboxChange: Codable {
    case asset(SandboxAsset)
    case object(StoredObject)
    case campaign(SandboxCampaign)
    case ecard(SandboxECard)
    case ecardDeleted(id: Int)
    case appealSet(SandboxAppealSet)
    case matchingPlan(SandboxMatchingPlan)
    // No token case: bearer tokens are never written down. (Lines of an
    // older log holding tokens no longer decode and are skipped on replay.)
}

extension SandboxState.Snapshot {
    /// Applies a change; the id counter moves past every id a record holds,
    /// so ids are never reused after a restart.
    mutating func apply(_ change: SandboxChange) {
        switch change {
        case .asset(let a): assets[a.id] = a; nextID = max(nextID, a.id)
        case .object(let o): objects[o.key] = o
        case .campaign(let c): campaigns[c.id] = c // ids chosen by the caller, not the counter
        case .ecard(let e): ecards[e.id] = e; nextID = max(nextID, e.id)
        case .ecardDeleted(let id): ecards[id] = nil
        case .appealSet(let s): appealSets[s.id] = s; nextID = max(nextID, s.id)
        case .matchingPlan(let p): matchingPlans = (matchingPlans ?? [:]).merging([p.id: p]) { _, new in new }; nextID = max(nextID, p.id)
        }
    }
}

/// Keeps the sandbox's records in a data directory at a cost per change that
/// does not grow with the number of records: each change is appended to
/// `changes.jsonl`; `state.json` holds the state as of the last open.
///
/// (It used to rewrite the whole `state.json` on every change: a 200-eCard
/// batch spent a quarter of its CPU re-encoding the sandbox.)
///
/// No fsync: the sandbox stands in for a remote server, and what it must
/// survive is the worker being killed (the page cache keeps every write), not
/// power loss. A line torn by a crash mid-write is the last one, and is skipped.
/// Everything here is the owner's alone: the directory is 0700 and every file
/// 0600 (objects, pre-signed URL keys and client secrets live beside the state).
/// Appends and the compaction hold an `flock` on the log, so a second process
/// opening the same directory (a `verify` beside a running `upload`) neither
/// loses nor tears the other's lines.
final class SandboxPersistence {
    let directory: URL
    private let logDescriptor: Int32
    private let encoder = JSONEncoder()
    /// The state found on disk when this was opened.
    let loaded: SandboxState.Snapshot

    /// Loads `state.json`, replays `changes.jsonl` over it, then compacts: the
    /// merged state goes to `state.json` (atomically) and the log is emptied.
    /// A crash between those two steps only means the old lines are replayed
    /// again next time, which changes nothing.
    init(directory: URL) throws {
        self.directory = directory
        try createPrivateDirectory(directory)
        try createPrivateDirectory(directory.appendingPathComponent("objects"))
        let stateFile = directory.appendingPathComponent("state.json")
        let logPath = directory.appendingPathComponent("changes.jsonl").path
        let fd = open(logPath, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SandboxPersistenceError(message: "cannot open \(logPath): errno \(errno)") }
        // A log created by an older sandbox (0644) is narrowed too.
        fchmod(fd, 0o600)
        flock(fd, LOCK_EX)
        defer { flock(fd, LOCK_UN) }
        var snapshot = SandboxState.Snapshot()
        do {
            let saved = try? Data(contentsOf: stateFile)
            if let saved {
                snapshot = try JSONDecoder().decode(SandboxState.Snapshot.self, from: saved)
            }
            let log = (try? Data(contentsOf: URL(fileURLWithPath: logPath))) ?? Data()
            let decoder = JSONDecoder()
            for line in log.split(separator: UInt8(ascii: "\n")) {
                guard let change = try? decoder.decode(SandboxChange.self, from: line) else { continue }
                snapshot.apply(change)
            }
            // Nothing to fold in: leave state.json as it is (a `status` or `verify` opens the
            // sandbox too, and should not rewrite a large file for nothing).
            if saved == nil || !log.isEmpty {
                let pretty = JSONEncoder()
                pretty.outputFormatting = [.sortedKeys, .prettyPrinted]
                try writePrivateFile(try pretty.encode(snapshot), to: stateFile)
            }
        } catch {
            close(fd)
            throw error
        }
        ftruncate(fd, 0)
        logDescriptor = fd
        loaded = snapshot
    }

    func append(_ change: SandboxChange) throws {
        var line = try encoder.encode(change)
        line.append(UInt8(ascii: "\n"))
        flock(logDescriptor, LOCK_EX)
        defer { flock(logDescriptor, LOCK_UN) }
        let failure = writeAll(logDescriptor, line)
        guard failure == 0 else { throw SandboxPersistenceError(message: "cannot append to changes.jsonl: errno \(failure)") }
    }

    deinit { close(logDescriptor) }
}

/// Creates `directory` (and its parents) and makes it owner-only (0700), also
/// when it already existed with wider permissions.
func createPrivateDirectory(_ directory: URL) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    guard chmod(directory.path, 0o700) == 0 else {
        throw SandboxPersistenceError(message: "cannot make \(directory.path) private: errno \(errno)")
    }
}

/// Replaces `file` atomically with `data`, owner-only (0600) from the moment it
/// exists: a temporary file created 0600 in the same directory, then renamed.
/// (`Data.write(options: .atomic)` would create it 0644 under the usual umask.)
func writePrivateFile(_ data: Data, to file: URL) throws {
    let temporary = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).\(randomToken(4)).tmp").path
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw SandboxPersistenceError(message: "cannot create \(temporary): errno \(errno)") }
    let failure = writeAll(fd, data)
    close(fd)
    guard failure == 0, rename(temporary, file.path) == 0 else {
        let reason = failure != 0 ? failure : errno
        unlink(temporary)
        throw SandboxPersistenceError(message: "cannot write \(file.path): errno \(reason)")
    }
}

/// Writes all of `data`, retrying short writes and EINTR; returns 0 or the errno.
private func writeAll(_ fd: Int32, _ data: Data) -> Int32 {
    data.withUnsafeBytes { raw -> Int32 in
        var offset = 0
        while offset < raw.count {
            let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return errno }
            offset += n
        }
        return 0
    }
}

struct SandboxPersistenceError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
