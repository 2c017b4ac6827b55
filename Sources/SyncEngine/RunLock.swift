import Foundation
public import FeedModel
#if canImport(Glibc)
import Glibc
#endif

/// One run at a time: an exclusive `flock` on `<snapshots>/.feedsync.lock`, which also holds who
/// took it (pid, host, start time) so a second run can say who is in the way, and one on the
/// snapshot folder itself, so that a lock file deleted during a run (a clean-up script, a person)
/// does not let a second run in beside the first: the folder is what the runs share. The kernel
/// drops both locks when the process ends, however it ends, so a crash leaves no stale lock.
public final class RunLock {
    private let fd: Int32
    private let folderFD: Int32
    public let path: String

    public struct Held: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var holder: String
        public var description: String {
            "another feedsync run holds the lock \(path)" + (holder.isEmpty ? "" : " (\(holder))")
        }
    }

    public init(folder: String, startedAt: String) throws {
        path = (folder as NSString).appendingPathComponent(".feedsync.lock")
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw SyncError(.lock, "cannot create the snapshot folder \(folder) for the lock file", cause: error)
        }
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw SyncError(.lock, "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw Held(path: path, holder: holder)
        }
        folderFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folderFD >= 0 else {
            let e = errno
            close(fd)
            throw SyncError(.lock, "cannot open the snapshot folder \(folder) to lock it: \(String(cString: strerror(e)))")
        }
        if flock(folderFD, LOCK_EX | LOCK_NB) != 0 {
            // Our lock file is a new one: the holder's was deleted under it.
            close(folderFD)
            close(fd)
            throw Held(path: path, holder: "a run whose lock file was deleted; it still holds the folder \(folder)")
        }
        let host = ProcessInfo.processInfo.hostName
        let text = "pid \(getpid()) on \(host), started \(startedAt)\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    /// Who holds the run lock of `folder` right now (its text: pid, host, start), or nil when no
    /// run holds it. Takes nothing: a shared lock is tried and let go at once.
    public static func holder(folder: String) -> String? {
        let path = (folder as NSString).appendingPathComponent(".feedsync.lock")
        func held(_ file: String, _ flags: Int32) -> Bool {
            let fd = open(file, flags | O_CLOEXEC)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            if flock(fd, LOCK_SH | LOCK_NB) == 0 {
                flock(fd, LOCK_UN)
                return false
            }
            return true
        }
        guard held(folder, O_RDONLY | O_DIRECTORY) || held(path, O_RDONLY) else { return nil }
        let text = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return text.isEmpty ? "another process" : text
    }

    deinit {
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
        flock(folderFD, LOCK_UN)
        close(folderFD)
    }
}

/// A run-level failure (exit 3): the run could not go on at all. A code to act on, a message for
/// people, and the underlying error.
public struct SyncError: CodedError {
    public typealias Code = ErrorCode<SyncError>
    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }
}

extension ErrorCode where Kind == SyncError {
    /// The run lock cannot be taken or created.
    public static let lock = Self("lock")
    /// The snapshots cannot be made durable or cleaned.
    public static let snapshots = Self("snapshots")
}
