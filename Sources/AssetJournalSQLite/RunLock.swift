#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The machine-local half of "one run at a time": an exclusive `flock` on a file
/// beside the journal. The kernel drops it when the holder dies, even by
/// `kill -9`, so a lock that cannot be taken always belongs to a live process.
/// (The `runs` table is the other half: it says *who* holds it, for messages,
/// `status`, and for stores where a local lock means nothing.)
enum RunLock {
    /// Opens and locks `path`; nil when another open description holds the lock.
    static func acquire(_ path: String) throws(JournalError) -> Int32? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw JournalError(.storage, "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return fd }
        let failure = errno
        close(fd)
        if failure == EWOULDBLOCK { return nil }
        throw JournalError(.storage, "cannot lock \(path): \(String(cString: strerror(failure)))")
    }

    static func release(_ fd: Int32) {
        flock(fd, LOCK_UN)
        close(fd)
    }

    /// Whether some process holds the lock right now (checked by trying to take it).
    static func isHeld(_ path: String) -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return false }
        guard let fd = try? acquire(path) else { return true }
        release(fd)
        return false
    }

    /// Whether a process with this id exists on this machine.
    static func processIsAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        // Signal 0 checks existence and permission only; EPERM means it exists but is someone else's.
        return kill(pid, 0) == 0 || errno == EPERM
    }

    static var hostName: String { ProcessInfo.processInfo.hostName }
    static var pid: Int32 { getpid() }
}
