import FeedModel
import Foundation
import GRDB
import Testing
@testable import Stores

@Suite("SQLite store")
struct SQLiteStoreTests {
    let path: String
    let store: SQLiteStore

    init() throws {
        path = TestFiles.sqlite("store")
        store = try SQLiteStore(path: path)
    }

    func record(_ key: String, hash: UInt64, summary: String = "S", lastEnd: Int64? = 2_000_000_000, allDay: Bool = false) -> FeedRecord {
        FeedRecord(key: key, uid: key, recurrenceID: nil, hash: hash, start: 1_900_000_000, end: 1_900_003_600,
                   lastEnd: lastEnd, allDay: allDay, startDate: allDay ? "2030-03-17" : nil,
                   endDate: allDay ? "2030-03-18" : nil, summary: summary, body: [])
    }

    func rows(_ sql: String) throws -> [Row] {
        try DatabaseQueue(path: path).read { try Row.fetchAll($0, sql: sql) }
    }

    /// A database of its own, migrated only up to `version` (as an older feedsync left it).
    func database(at version: String) throws -> (path: String, queue: DatabaseQueue) {
        let path = TestFiles.sqlite(version)
        let queue = try DatabaseQueue(path: path)
        try SQLiteStore.migrator.migrate(queue, upTo: version)
        return (path, queue)
    }

    @Test("apply writes events, feed state and the change log; applying twice changes nothing more")
    func applyIsIdempotent() async throws {
        let run = try store.beginRun(mode: .incremental, startedAt: 1_800_000_000, now: 1_800_000_000)
        let update = FeedUpdate(feedID: "f", urlRedacted: "https://h/x.ics?s=…", property: "Flat", status: .changed,
                                fingerprint: "00112233445566778899aabbccddeeff", etag: "\"e1\"", snapshotGeneration: 1,
                                fullSync: true, added: [record("a", hash: 1), record("b", hash: 2, lastEnd: nil, allDay: true)])
        try store.apply([update], runID: run, at: 1_800_000_010)
        try store.apply([update], runID: run, at: 1_800_000_020)
        let events = try rows("SELECT record_key, start, \"end\", last_end, all_day, record_hash, first_seen_at FROM events ORDER BY record_key")
        #expect(events.count == 2)
        #expect(events[0]["start"] == "2030-03-17T17:46:40Z")
        #expect(events[0]["record_hash"] == "0000000000000001")
        #expect(events[0]["first_seen_at"] == "2027-01-15T08:00:10Z")
        #expect(events[1]["start"] == "2030-03-17" && events[1]["end"] == "2030-03-18")
        #expect(events[1]["last_end"] == nil as String?)
        let state = try #require(try store.feedStates()["f"])
        #expect(state.snapshotGeneration == 1)
        #expect(state.fingerprint == "00112233445566778899aabbccddeeff")
        #expect(state.etag == "\"e1\"")
        #expect(state.lastFullSyncAt == 1_800_000_020)
        #expect(state.lastStatus == .changed)
    }

    @Test("text is stored exactly as given, row after row: empty text stays empty (not NULL), nil stays NULL, non-ASCII and NUL-free long values intact")
    func textValues() async throws {
        let run = try store.beginRun(mode: .incremental, startedAt: 0, now: 0)
        var a = record("a", hash: 1, summary: "")
        a.description = nil
        a.location = "Zürich, 🏔"
        var b = record("b", hash: 2, summary: String(repeating: "long ", count: 2_000))
        b.description = ""
        let c = record("", hash: 3, summary: "é")
        try store.apply([FeedUpdate(feedID: "f", urlRedacted: "", property: "", status: .changed, snapshotGeneration: 1,
                                    added: [a, b, c])], runID: run, at: 100)
        let events = try rows("SELECT record_key, summary, description, location FROM events ORDER BY record_key")
        #expect(events.map { $0["record_key"] as String } == ["", "a", "b"])
        #expect(events[0]["summary"] == "é")
        #expect(events[1]["summary"] == "")
        #expect(events[1]["description"] == nil as String?)
        #expect(events[1]["location"] == "Zürich, 🏔")
        let long: String = events[2]["summary"]
        #expect(long == String(repeating: "long ", count: 2_000))
        #expect(events[2]["description"] == "")
        let feed = try #require(try rows("SELECT url_redacted, property FROM feeds").first)
        #expect(feed["url_redacted"] == "")
        #expect(feed["property"] == "")
        #expect(try rows("SELECT record_key FROM changes ORDER BY rowid").map { $0["record_key"] as String } == ["a", "b", ""])
    }

    @Test("a feed new to the store: a repeated key or occurrence leaves one row, the later one, as for a known feed; every row's feed and run exist")
    func newFeedRows() async throws {
        let run = try store.beginRun(mode: .full, startedAt: 0, now: 0)
        func occurrence(_ key: String, _ start: Int64) -> OccurrenceRow {
            OccurrenceRow(recordKey: key, uid: key, start: start, end: start + 3_600, startDay: ISOTime.day(start),
                          endDay: ISOTime.day(start + 3_600), allDay: false, cancelled: false)
        }
        func update(_ feed: String) -> FeedUpdate {
            var u = FeedUpdate(feedID: feed, urlRedacted: "u", property: nil, status: .changed, snapshotGeneration: 1, fullSync: true,
                               added: [record("a", hash: 1), record("b", hash: 2), record("a", hash: 3)])
            // The same instant twice (a THISANDFUTURE shift can land on an occurrence): one row.
            u.occurrences = OccurrenceUpdate(uids: nil, from: 0, rows: [occurrence("a", 1_900_000_000), occurrence("a", 1_900_000_000),
                                                                        occurrence("b", 1_900_086_400)],
                                             until: OccurrenceUpdate.complete)
            return u
        }
        // "new" is new in this batch; "known" was written by an earlier one.
        try store.apply([update("known")], runID: run, at: 100)
        try store.apply([update("new"), update("known")], runID: run, at: 200)
        for feed in ["new", "known"] {
            let events = try rows("SELECT record_key, record_hash FROM events WHERE feed_id = '\(feed)' ORDER BY record_key")
            #expect(events.map { $0["record_key"] as String } == ["a", "b"])
            #expect(events.first?["record_hash"] == "0000000000000003")
            #expect(try store.occurrences(feedID: feed, after: 0).map(\.start) == [1_900_000_000, 1_900_086_400])
            #expect(try store.feedStates()[feed]?.occurrencesUntil == OccurrenceUpdate.complete)
        }
        // Enforcement is off on feedsync's connections; what it would have checked holds.
        #expect(try rows("PRAGMA foreign_key_check").isEmpty)
    }

    @Test("rows go out in groups of 16 a statement: 37 rows of a new feed, then 37 updates of the known one, each stored with its own values, the change log in the order given")
    func multiRowGroups() async throws {
        let run = try store.beginRun(mode: .full, startedAt: 0, now: 0)
        let keys = (0..<37).map { String(format: "k%02d", $0) }.shuffled()
        var first = FeedUpdate(feedID: "f", urlRedacted: "u", property: nil, status: .changed, snapshotGeneration: 1, fullSync: true,
                               added: keys.enumerated().map { record($1, hash: UInt64($0 + 1), summary: "first \($1)") })
        first.occurrences = OccurrenceUpdate(uids: nil, from: 0, rows: keys.enumerated().map { i, key in
            OccurrenceRow(recordKey: key, uid: key, start: 1_900_000_000 + Int64(i) * 86_400, end: 1_900_003_600 + Int64(i) * 86_400,
                          startDay: ISOTime.day(1_900_000_000) + Int64(i), endDay: ISOTime.day(1_900_000_000) + Int64(i), allDay: false, cancelled: false)
        }, until: OccurrenceUpdate.complete)
        try store.apply([first], runID: run, at: 100)
        let second = FeedUpdate(feedID: "f", urlRedacted: "u", property: nil, status: .changed, snapshotGeneration: 2,
                                updated: keys.enumerated().map { record($1, hash: UInt64($0 + 100), summary: "second \($1)") })
        try store.apply([second], runID: run, at: 200)
        // A quiet feed in the same store: its state is written, nothing else.
        try store.apply([FeedUpdate(feedID: "f", urlRedacted: "u", property: nil, status: .unchanged)], runID: run, at: 300)

        let events = try rows("SELECT record_key, summary, record_hash FROM events ORDER BY record_key")
        #expect(events.count == 37)
        for e in events {
            let key: String = e["record_key"]
            #expect(e["summary"] == "second \(key)")
            let i = try #require(keys.firstIndex(of: key))
            #expect(e["record_hash"] == String(format: "%016llx", UInt64(i + 100)))
        }
        let log = try rows("SELECT record_key, kind, old_values IS NOT NULL AS has_old FROM changes ORDER BY rowid")
        #expect(log.map { $0["record_key"] as String } == keys + keys)
        #expect(log.prefix(37).allSatisfy { $0["kind"] == "added" && $0["has_old"] == false })
        #expect(log.suffix(37).allSatisfy { $0["kind"] == "updated" && $0["has_old"] == true })
        let occurrences = try store.occurrences(feedID: "f", after: 0)
        #expect(occurrences.count == 37)
        #expect(occurrences.map(\.recordKey) == keys)
        #expect(try store.feedStates()["f"]?.lastStatus == .unchanged)
        #expect(try store.feedStates()["f"]?.snapshotGeneration == 2)
    }

    @Test("a row that fails in the middle of a group of 16 leaves nothing of its batch: no event, no change, no occurrence, no feed state; the error names SQLite's reason")
    func failingRowRollsBackTheBatch() async throws {
        let run = try store.beginRun(mode: .full, startedAt: 0, now: 0)
        try store.apply([FeedUpdate(feedID: "kept", urlRedacted: "u", property: nil, status: .changed, snapshotGeneration: 1,
                                    added: [record("a", hash: 1)])], runID: run, at: 100)
        // Rows go out `INSERT OR FAIL`: a failing row keeps its statement's earlier rows, so only
        // the transaction's rollback may undo them. The failure is injected by a trigger.
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: """
                CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.record_key = 'k20'
                BEGIN SELECT RAISE(FAIL, 'injected failure'); END
                """)
        }
        let keys = (0..<37).map { String(format: "k%02d", $0) }
        var g = FeedUpdate(feedID: "g", urlRedacted: "u", property: nil, status: .changed, snapshotGeneration: 1,
                           added: keys.prefix(10).map { record("g-\($0)", hash: 1) })
        g.occurrences = OccurrenceUpdate(uids: nil, from: 0, rows: [
            OccurrenceRow(recordKey: "g-k00", uid: "g-k00", start: 1_900_000_000, end: 1_900_003_600,
                          startDay: ISOTime.day(1_900_000_000), endDay: ISOTime.day(1_900_000_000), allDay: false, cancelled: false)
        ], until: OccurrenceUpdate.complete)
        let f = FeedUpdate(feedID: "f", urlRedacted: "u", property: nil, status: .changed, snapshotGeneration: 1,
                           added: keys.map { record($0, hash: 2) })
        let kept = FeedUpdate(feedID: "kept", urlRedacted: "u", property: nil, status: .changed, snapshotGeneration: 2,
                              updated: [record("a", hash: 9, summary: "changed")])
        let error = try await #require(throws: StoreError.self) { try await store.apply([kept, g, f], runID: run, at: 200) }
        #expect(error.message.contains("injected failure"))
        #expect(try rows("SELECT feed_id FROM events").map { $0["feed_id"] as String } == ["kept"])
        #expect(try rows("SELECT summary, record_hash FROM events").first?["summary"] == "S")
        #expect(try rows("SELECT count(*) AS n FROM changes").first?["n"] == 1)
        #expect(try rows("SELECT count(*) AS n FROM occurrences").first?["n"] == 0)
        #expect(try store.feedStates().keys.sorted() == ["kept"])
        #expect(try store.feedStates()["kept"]?.snapshotGeneration == 1)
    }

    @Test("removal sets removed_at and logs once; a reappearing row comes back; rows are never deleted")
    func removalAndReturn() async throws {
        let run = try store.beginRun(mode: .incremental, startedAt: 0, now: 0)
        try store.apply([FeedUpdate(feedID: "f", urlRedacted: "u", property: nil, status: .changed, snapshotGeneration: 1,
                                    added: [record("a", hash: 1), record("b", hash: 2)])], runID: run, at: 100)
        let removal = FeedUpdate(feedID: "f", urlRedacted: "u", property: nil, status: .changed, snapshotGeneration: 2, removed: ["a"])
        try store.apply([removal], runID: run, at: 200)
        try store.apply([removal], runID: run, at: 300)
        #expect(try rows("SELECT removed_at FROM events WHERE record_key = 'a'").first?["removed_at"] == "1970-01-01T00:03:20Z")
        #expect(try rows("SELECT * FROM changes WHERE kind = 'removed'").count == 1)
        let stored = try store.priorRecords(feedID: "f").sorted { $0.key < $1.key }
        #expect(stored == [PriorRecord(key: "a", hash: 1, lastEnd: 2_000_000_000, removed: true),
                           PriorRecord(key: "b", hash: 2, lastEnd: 2_000_000_000, removed: false)])
        try store.apply([FeedUpdate(feedID: "f", urlRedacted: "u", property: nil, status: .changed, snapshotGeneration: 3,
                                    added: [record("a", hash: 1)])], runID: run, at: 400)
        #expect(try rows("SELECT removed_at FROM events WHERE record_key = 'a'").first?["removed_at"] == nil as String?)
        #expect(try rows("SELECT count(*) AS n FROM events").first?["n"] == 2)
    }

    @Test("a failed feed records its error and keeps its state and rows")
    func failedFeed() async throws {
        let run = try store.beginRun(mode: .incremental, startedAt: 0, now: 0)
        try store.apply([FeedUpdate(feedID: "f", urlRedacted: "u", property: nil, status: .changed, fingerprint: "aa",
                                    snapshotGeneration: 4, added: [record("a", hash: 1)])], runID: run, at: 100)
        try store.apply([FeedUpdate(feedID: "f", urlRedacted: "u", property: nil, status: .failed, error: "boom")], runID: run, at: 200)
        let state = try #require(try store.feedStates()["f"])
        #expect(state.lastStatus == .failed && state.lastError == "boom")
        #expect(state.snapshotGeneration == 4 && state.fingerprint == "aa")
        #expect(state.lastSuccessAt == 100)
        #expect(try store.priorRecords(feedID: "f").count == 1)
    }

    @Test("runs are recorded with their summary")
    func runs() async throws {
        let run = try store.beginRun(mode: .full, startedAt: 10, now: 5)
        var s = RunCounts()
        s.feedsTotal = 3
        s.eventsAdded = 7
        try store.finishRun(id: run, finishedAt: 20, status: .ok, counts: s)
        let row = try #require(try rows("SELECT * FROM runs").first)
        #expect(row["mode"] == "full" && row["status"] == "ok")
        #expect(row["feeds_total"] == 3 && row["events_added"] == 7)
        #expect(row["finished_at"] == "1970-01-01T00:00:20Z")
    }

    @Test("opening an existing database migrates nothing twice")
    func reopen() async throws {
        _ = try SQLiteStore(path: path)
        _ = try SQLiteStore(path: path)
        #expect(try rows("SELECT identifier FROM grdb_migrations").map { $0["identifier"] as String } == ["v1", "v2", "v3", "v4", "v5"])
    }

    @Test("a path that cannot be a database gives a clear error")
    func badPath() {
        #expect(throws: StoreError.self) { _ = try SQLiteStore(path: "/proc/nonexistent/dir/db.sqlite") }
    }

    @Test("a version 1 database is migrated with its rows kept; records without times and with data are stored")
    func migrationV2() async throws {
        let (old, queue) = try database(at: "v1")
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO feeds (id, url_redacted) VALUES ('f', 'u')")
            try db.execute(sql: """
                INSERT INTO events (feed_id, record_key, uid, start, "end", all_day, record_hash, start_ts, first_seen_at, updated_at)
                VALUES ('f', 'a', 'a', '2030-01-01T00:00:00Z', '2030-01-01T01:00:00Z', 0, '0000000000000001', 1893456000, 'x', 'x')
                """)
        }
        let store = try SQLiteStore(path: old)
        #expect(try store.priorRecords(feedID: "f") == [PriorRecord(key: "a", hash: 1, lastEnd: nil)])
        let run = try store.beginRun(mode: .incremental, startedAt: 0, now: 0)
        var untimed = record("r1", hash: 2)
        untimed.hasTimes = false
        untimed.lastEnd = nil
        untimed.data = #"{"id":"r1","name":"Ann"}"#
        try store.apply([FeedUpdate(feedID: "f", urlRedacted: "u", property: nil, status: .changed, snapshotGeneration: 1,
                                    added: [untimed])], runID: run, at: 100)
        let row = try #require(try DatabaseQueue(path: old).read { try Row.fetchOne($0, sql: "SELECT * FROM events WHERE record_key = 'r1'") })
        #expect(row["start"] == nil as String? && row["start_ts"] == nil as Int64? && row["last_end"] == nil as String?)
        #expect(row["data"] == #"{"id":"r1","name":"Ann"}"#)
    }

    @Test("a version 3 database is migrated: timed rows get end_ts, all-day rows their dates, feeds are marked not materialised")
    func migrationV4() async throws {
        let (old, queue) = try database(at: "v3")
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO feeds (id, url_redacted, snapshot_generation) VALUES ('f', 'u', 3)")
            try db.execute(sql: """
                INSERT INTO events (feed_id, record_key, uid, start, "end", all_day, record_hash, start_ts, first_seen_at, updated_at)
                VALUES ('f', 'a', 'a', '2030-01-01T00:00:00Z', '2030-01-01T01:00:00Z', 0, '0000000000000001', 1893456000, 'x', 'x'),
                       ('f', 'b', 'b', '2030-02-01', '2030-02-04', 1, '0000000000000002', 1896130800, 'x', 'x')
                """)
            try db.execute(sql: "INSERT INTO runs (mode, now, started_at) VALUES ('full', 'x', 'x')")
            try db.execute(sql: "INSERT INTO changes (run_id, feed_id, record_key, uid, kind, at) VALUES (1, 'f', 'a', 'a', 'added', 'x')")
        }
        let store = try SQLiteStore(path: old)
        #expect(try store.feedStates()["f"]?.occurrencesUntil == nil)
        let rows = try DatabaseQueue(path: old).read { try Row.fetchAll($0, sql: "SELECT * FROM events ORDER BY record_key") }
        #expect(rows[0]["end_ts"] == 1_893_459_600 as Int64 && rows[0]["start_date"] == nil as String?)
        #expect(rows[1]["start_date"] == "2030-02-01" && rows[1]["end_date"] == "2030-02-04" && rows[1]["end_ts"] == nil as Int64?)
        let log = try store.changes(runID: 1)
        #expect(log.count == 1 && log[0].oldValues == nil && log[0].newValues == nil)
        #expect(try store.occurrences(feedID: "f", after: 0).isEmpty)
    }

    @Test("a version 4 database is migrated: the change log's CHECK is edited in place, its rows kept, bad kinds still refused, no temporary b-tree per row")
    func migrationV5() async throws {
        let (old, queue) = try database(at: "v4")
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO runs (mode, now, started_at) VALUES ('full', 'x', 'x')")
            try db.execute(sql: "INSERT INTO changes (run_id, feed_id, record_key, uid, kind, at) VALUES (1, 'f', 'a', 'a', 'added', 'x')")
            try db.execute(sql: "INSERT INTO changes (run_id, feed_id, record_key, uid, kind, at) VALUES (1, 'f', 'b', 'b', 'removed', 'x')")
        }
        let before = try queue.read { try Row.fetchAll($0, sql: "SELECT rowid, * FROM changes ORDER BY rowid") }
        let store = try SQLiteStore(path: old)
        let reopened = try DatabaseQueue(path: old)
        let (sql, after, plan) = try reopened.read { db in
            (try String.fetchOne(db, sql: "SELECT sql FROM sqlite_schema WHERE name = 'changes'") ?? "",
             try Row.fetchAll(db, sql: "SELECT rowid, * FROM changes ORDER BY rowid"),
             try Row.fetchAll(db, sql: "EXPLAIN INSERT INTO changes (run_id, feed_id, record_key, uid, kind, at) VALUES (1, 'f', 'c', 'c', ?, 'x')",
                              arguments: ["added"]).map { $0["opcode"] as String })
        }
        #expect(sql.contains(SQLiteStore.changesCheck) && !sql.contains(SQLiteStore.changesCheckV1))
        #expect(after == before && after.count == 2)
        #expect(plan.contains("Insert") && !plan.contains("OpenEphemeral"))
        try await reopened.write { db in
            try db.execute(sql: "INSERT INTO changes (run_id, feed_id, record_key, uid, kind, at) VALUES (1, 'f', 'c', 'c', 'updated', 'x')")
            #expect(throws: DatabaseError.self) {
                try db.execute(sql: "INSERT INTO changes (run_id, feed_id, record_key, uid, kind, at) VALUES (1, 'f', 'd', 'd', 'moved', 'x')")
            }
        }
        #expect(try store.changes(runID: 1).map(\.kind) == [.added, .removed, .updated])
        let check = try await reopened.read { try String.fetchAll($0, sql: "PRAGMA integrity_check") }
        #expect(check == ["ok"])
    }

    @Test("a change log whose CHECK is not spelt as v1 made it is left as it is by v5, and the store opens and writes")
    func migrationV5LeavesOthers() async throws {
        let (old, queue) = try database(at: "v4")
        let edited = "CHECK (kind IN ('added','updated','removed'))"
        try await queue.write { db in
            let version = try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
            try db.execute(sql: "PRAGMA writable_schema = ON")
            try db.execute(sql: "UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE name = 'changes'",
                           arguments: [SQLiteStore.changesCheckV1, edited])
            try db.execute(sql: "PRAGMA schema_version = \(version + 1)")
            try db.execute(sql: "PRAGMA writable_schema = OFF")
        }
        let store = try SQLiteStore(path: old)
        let sql = try await DatabaseQueue(path: old).read { try String.fetchOne($0, sql: "SELECT sql FROM sqlite_schema WHERE name = 'changes'") ?? "" }
        #expect(sql.contains(edited))
        let run = try store.beginRun(mode: .incremental, startedAt: 0, now: 0)
        try store.apply([FeedUpdate(feedID: "f", urlRedacted: "u", property: nil, status: .changed, snapshotGeneration: 1,
                                    added: [record("a", hash: 1)])], runID: run, at: 100)
        #expect(try store.changes(runID: run).map(\.kind) == [.added])
    }
}
