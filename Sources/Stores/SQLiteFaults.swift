public import FeedModel
import GRDB
import GRDBSQLite
#if canImport(Glibc)
import Glibc
#endif

/// SQLite's result code, with SQLite's own words for it, and no SQL: what a store error keeps as
/// its cause, so no library internals reach the user.
public struct SQLiteResult: Error, Sendable, CustomStringConvertible {
    public var code: Int32
    public var description: String { "SQLite error \(code): \(String(cString: sqlite3_errstr(code)))" }
}

extension ErrorCode where Kind == StoreError {
    /// The store cannot be written by this process (file or folder permissions, a read-only mount).
    public static let readOnly = Self("readOnly")
    /// Another process held the store locked for longer than `busy_timeout_seconds`.
    public static let busy = Self("busy")
    /// The disk holding the store is full.
    public static let diskFull = Self("diskFull")
}

/// The faults a SQLite store meets, each in one sentence naming the path and what to do.
enum SQLiteFaults {
    static func explain(_ error: any Error, path: String, busyTimeout: Double, doing what: String,
                        code fallback: StoreError.Code) -> StoreError {
        guard let db = error as? DatabaseError else {
            return StoreError(fallback, "SQLite store \(path): cannot \(what)", cause: error)
        }
        let primary = db.resultCode.primaryResultCode
        let cause = SQLiteResult(code: db.extendedResultCode.rawValue)
        switch primary {
        case .SQLITE_READONLY:
            return StoreError(.readOnly, "the SQLite store \(path) is read-only for this process (uid \(getuid())): "
                + "feedsync must write it, and its -wal and -shm files beside it; check the owner and mode of the file and of its folder",
                cause: cause)
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return StoreError(.busy, "the SQLite store \(path) stayed locked by another process for \(number(busyTimeout)) s "
                + "(`busy_timeout_seconds`): another feedsync run, or a program holding a write transaction; "
                + "run again when it is done, or raise `busy_timeout_seconds`", cause: cause)
        case .SQLITE_FULL:
            return StoreError(.diskFull, "the disk holding the SQLite store \(path) is full: free some space and run again "
                + "(the interrupted transaction was rolled back, nothing stored was lost)", cause: cause)
        case .SQLITE_CANTOPEN:
            let folder = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
            var st = stat()
            if !folder.isEmpty && stat(folder, &st) != 0 {
                return StoreError(.cannotOpen, "cannot open the SQLite store \(path): its folder \(folder) does not exist "
                    + "(create it, or change `store:` in the configuration)", cause: cause)
            }
            return StoreError(.cannotOpen, "cannot open the SQLite store \(path): it is not a file this process may open "
                + "(a folder, or permissions)", cause: cause)
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return StoreError(.notAStore, "\(path) is not a SQLite database, or is damaged: point `store:` at the feedsync "
                + "database (or at a new path to start afresh)", cause: cause)
        case .SQLITE_IOERR:
            return StoreError(fallback, "I/O error on the SQLite store \(path) while trying to \(what): check the disk and "
                + "the file system", cause: cause)
        default:
            // SQLite's own words for what failed (a constraint and its table and column, a
            // trigger's message): its message never holds the statement's SQL.
            let words = db.message.map { ": \($0)" } ?? ""
            return StoreError(fallback, "SQLite store \(path): cannot \(what)\(words)", cause: cause)
        }
    }

    static func number(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
}
