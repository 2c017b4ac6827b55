import FeedModel
import GRDB
import Testing
@testable import Stores

/// Each SQLite fault in one sentence naming the path and what to do, with SQLite's code (never
/// SQL) as the cause. (The end-to-end tests meet read-only, locked, missing-folder and
/// not-a-database stores for real; a full disk is mapped here.)
@Suite("SQLite faults in words")
struct SQLiteFaultTests {
    func explain(_ code: ResultCode, path: String = "/srv/feedsync/feedsync.sqlite") -> StoreError {
        let error = DatabaseError(resultCode: code, message: "some message", sql: "INSERT INTO events …")
        return SQLiteFaults.explain(error, path: path, busyTimeout: 30, doing: "apply a batch of 3 feeds", code: .write)
    }

    @Test("disk full, busy, read-only, I/O error: codes and sentences, no SQL")
    func mapping() {
        let full = explain(.SQLITE_FULL)
        #expect(full.code == .diskFull)
        #expect(full.description == "the disk holding the SQLite store /srv/feedsync/feedsync.sqlite is full: free some space and run again (the interrupted transaction was rolled back, nothing stored was lost): SQLite error 13: database or disk is full")
        #expect(explain(.SQLITE_BUSY).code == .busy && explain(.SQLITE_BUSY).message.contains("for 30 s (`busy_timeout_seconds`)"))
        #expect(explain(.SQLITE_READONLY).code == .readOnly)
        #expect(explain(.SQLITE_IOERR).message == "I/O error on the SQLite store /srv/feedsync/feedsync.sqlite while trying to apply a batch of 3 feeds: check the disk and the file system")
        // Any other fault: the sentence carries SQLite's own words (its message, never the SQL).
        #expect(explain(.SQLITE_CONSTRAINT).message == "SQLite store /srv/feedsync/feedsync.sqlite: cannot apply a batch of 3 feeds: some message")
        for code: ResultCode in [.SQLITE_FULL, .SQLITE_BUSY, .SQLITE_READONLY, .SQLITE_IOERR, .SQLITE_CORRUPT, .SQLITE_CANTOPEN, .SQLITE_ERROR] {
            #expect(!explain(code).description.contains("INSERT"), "\(code)")
        }
    }
}
