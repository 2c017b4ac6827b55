public import FeedModel
import FeedHash
import GRDB
import GRDBSQLite
import JSONOutput
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The SQLite store (GRDB), in WAL mode so readers can query while a run writes.
///
/// Schema (see docs/store.md): `feeds`, `events` (one row per feed and record key; a removal sets
/// `removed_at`, a sync never deletes a row), `changes` (the log of what each run did) and `runs`.
/// Instants are ISO-8601 UTC text (`YYYY-MM-DDTHH:MM:SSZ`); all-day dates are `YYYY-MM-DD`.
public final class SQLiteStore: FeedStore {
    private let pool: any DatabaseWriter
    public let path: String
    /// How long a write waits for another process's lock before it fails (`busy_timeout_seconds`).
    public let busyTimeout: Double

    public static let defaultBusyTimeout: Double = 30

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    public init(path: String, busyTimeout: Double = SQLiteStore.defaultBusyTimeout) throws(StoreError) {
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        // The `REFERENCES` of `events.feed_id` and `changes.run_id` are not enforced on
        // feedsync's own connections (SQLite's default; GRDB turns enforcement on): every event
        // and change is written in the transaction that writes its feed and its run, and none is
        // deleted. Enforced, they cost two index lookups for every row a first night inserts.
        config.foreignKeysEnabled = false
        // The writer's statement journals (kept to undo a statement's earlier rows if a later one
        // fails: its multi-row UPDATEs and DELETEs; the multi-row INSERTs are `OR FAIL` and keep
        // none) in memory, not in a temporary file (a file per statement was 10% more CPU, all of
        // it in the kernel, on a first night). Only the writer: a reader's large sort may still
        // spill to disk.
        config.prepareDatabase { db in
            if !db.configuration.readonly { try db.execute(sql: "PRAGMA temp_store = MEMORY") }
        }
        self.path = path
        self.busyTimeout = busyTimeout
        do {
            let pool = try DatabasePool(path: path, configuration: config)
            try Self.migrator.migrate(pool)
            self.pool = pool
        } catch {
            throw SQLiteFaults.explain(error, path: path, busyTimeout: busyTimeout, doing: "open it", code: .cannotOpen)
        }
    }

    private init(readOnly queue: DatabaseQueue, path: String, busyTimeout: Double) {
        self.pool = queue
        self.path = path
        self.busyTimeout = busyTimeout
    }

    /// Opens the database at `path` read-only, without creating, migrating or writing anything:
    /// for tools that inspect a store a run may be using. nil when there is no database file yet.
    public static func openReadOnly(path: String, busyTimeout: Double = SQLiteStore.defaultBusyTimeout) throws(StoreError) -> SQLiteStore? {
        guard access(path, F_OK) == 0 else { return nil }
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(busyTimeout)
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
        } catch {
            throw SQLiteFaults.explain(error, path: path, busyTimeout: busyTimeout, doing: "read it", code: .cannotOpen)
        }
        let hasFeeds: Bool
        do {
            hasFeeds = try queue.read { try $0.tableExists("feeds") }
        } catch {
            throw SQLiteFaults.explain(error, path: path, busyTimeout: busyTimeout, doing: "read it", code: .read)
        }
        guard hasFeeds else {
            throw StoreError(.notAStore, "the SQLite store at \(path) has no `feeds` table (not a feedsync database?)")
        }
        return SQLiteStore(readOnly: queue, path: path, busyTimeout: busyTimeout)
    }

    /// The change log's CHECK on `kind` as migration v1 wrote it, and as v5 spells it.
    static let changesCheckV1 = "CHECK (kind IN ('added', 'updated', 'removed'))"
    static let changesCheck = "CHECK (kind = 'added' OR kind = 'updated' OR kind = 'removed')"

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE feeds (
                    id TEXT PRIMARY KEY NOT NULL,
                    url_redacted TEXT NOT NULL,
                    property TEXT,
                    fingerprint TEXT,
                    etag TEXT,
                    last_modified TEXT,
                    snapshot_generation INTEGER,
                    last_success_at TEXT,
                    last_full_sync_at TEXT,
                    last_status TEXT,
                    last_error TEXT
                );
                CREATE TABLE events (
                    feed_id TEXT NOT NULL REFERENCES feeds(id),
                    record_key TEXT NOT NULL,
                    uid TEXT NOT NULL,
                    recurrence_id TEXT,
                    start TEXT NOT NULL,
                    "end" TEXT NOT NULL,
                    last_end TEXT,
                    all_day INTEGER NOT NULL,
                    summary TEXT,
                    description TEXT,
                    location TEXT,
                    status TEXT,
                    record_hash TEXT NOT NULL,
                    start_ts INTEGER NOT NULL,
                    last_end_ts INTEGER,
                    first_seen_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    removed_at TEXT,
                    PRIMARY KEY (feed_id, record_key)
                ) WITHOUT ROWID;
                CREATE INDEX events_uid ON events(feed_id, uid, recurrence_id);
                CREATE TABLE runs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    mode TEXT NOT NULL,
                    now TEXT NOT NULL,
                    dry_run INTEGER NOT NULL DEFAULT 0,
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    status TEXT NOT NULL DEFAULT 'running',
                    feeds_total INTEGER, feeds_unchanged INTEGER, feeds_changed INTEGER, feeds_failed INTEGER,
                    events_added INTEGER, events_updated INTEGER, events_removed INTEGER, events_past_skipped INTEGER
                );
                CREATE TABLE changes (
                    run_id INTEGER NOT NULL REFERENCES runs(id),
                    feed_id TEXT NOT NULL,
                    record_key TEXT NOT NULL,
                    uid TEXT NOT NULL,
                    recurrence_id TEXT,
                    kind TEXT NOT NULL \(changesCheckV1),
                    at TEXT NOT NULL
                );
                CREATE INDEX changes_run ON changes(run_id);
                CREATE INDEX changes_feed ON changes(feed_id, record_key);
                """)
        }
        // v2: JSON and CSV records. `data` holds a record's fields as canonical JSON; a record
        // without times has no start or end (the columns become nullable: SQLite rebuilds the table).
        m.registerMigration("v2") { db in
            try db.execute(sql: """
                CREATE TABLE events_v2 (
                    feed_id TEXT NOT NULL REFERENCES feeds(id),
                    record_key TEXT NOT NULL,
                    uid TEXT NOT NULL,
                    recurrence_id TEXT,
                    start TEXT,
                    "end" TEXT,
                    last_end TEXT,
                    all_day INTEGER NOT NULL,
                    summary TEXT,
                    description TEXT,
                    location TEXT,
                    status TEXT,
                    record_hash TEXT NOT NULL,
                    start_ts INTEGER,
                    last_end_ts INTEGER,
                    first_seen_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    removed_at TEXT,
                    data TEXT,
                    PRIMARY KEY (feed_id, record_key)
                ) WITHOUT ROWID;
                INSERT INTO events_v2 (feed_id, record_key, uid, recurrence_id, start, "end", last_end, all_day,
                  summary, description, location, status, record_hash, start_ts, last_end_ts, first_seen_at,
                  updated_at, removed_at)
                SELECT feed_id, record_key, uid, recurrence_id, start, "end", last_end, all_day, summary,
                  description, location, status, record_hash, start_ts, last_end_ts, first_seen_at, updated_at,
                  removed_at FROM events;
                DROP TABLE events;
                ALTER TABLE events_v2 RENAME TO events;
                CREATE INDEX events_uid ON events(feed_id, uid, recurrence_id);
                """)
        }
        // v3: the store's identity, which its snapshot folder records (a folder serves one store).
        m.registerMigration("v3") { db in
            try db.execute(sql: """
                CREATE TABLE store_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                INSERT INTO store_info (key, value) VALUES ('id', lower(hex(randomblob(16))));
                """)
        }
        // v4: every row's instants and local days (`end_ts`, `start_date`, `end_date`), the
        // materialised occurrences, and the change log's values. Rows written before are given
        // their new columns by the next run (a feed whose `occurrences_until` is NULL is read and
        // materialised).
        m.registerMigration("v4") { db in
            try db.execute(sql: """
                ALTER TABLE events ADD COLUMN end_ts INTEGER;
                ALTER TABLE events ADD COLUMN start_date TEXT;
                ALTER TABLE events ADD COLUMN end_date TEXT;
                UPDATE events SET start_date = start, end_date = "end" WHERE all_day = 1;
                UPDATE events SET end_ts = CAST(strftime('%s', "end") AS INTEGER) WHERE all_day = 0 AND "end" IS NOT NULL;
                ALTER TABLE feeds ADD COLUMN occurrences_until INTEGER;
                ALTER TABLE changes ADD COLUMN old_values TEXT;
                ALTER TABLE changes ADD COLUMN new_values TEXT;
                CREATE TABLE occurrences (
                    feed_id TEXT NOT NULL,
                    record_key TEXT NOT NULL,
                    uid TEXT NOT NULL,
                    start TEXT NOT NULL,
                    "end" TEXT NOT NULL,
                    start_ts INTEGER NOT NULL,
                    end_ts INTEGER NOT NULL,
                    start_date TEXT NOT NULL,
                    end_date TEXT NOT NULL,
                    all_day INTEGER NOT NULL,
                    cancelled INTEGER NOT NULL,
                    PRIMARY KEY (feed_id, record_key, start_ts)
                ) WITHOUT ROWID;
                DROP INDEX IF EXISTS events_uid;
                """)
        }
        // v5: the change log's CHECK on `kind` spelt as comparisons. SQLite compiles `kind IN (…)`
        // in a CHECK into a temporary b-tree built for every row inserted, which was 30% of the
        // writer's CPU on a first night. The two spellings accept the same values and the rows on
        // disk do not change, so the definition is edited in place (SQLite's documented procedure
        // for constraint changes that leave the stored content as it is, "Making Other Kinds Of
        // Table Schema Changes": writable_schema, then schema_version + 1, in one transaction).
        m.registerMigration("v5") { db in
            let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'changes'") ?? ""
            // A `changes` not spelt as v1 made it (edited by hand?) is left as it is.
            guard sql.contains(Self.changesCheckV1) else { return }
            let version = try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
            try db.execute(sql: "PRAGMA writable_schema = ON")
            defer { try? db.execute(sql: "PRAGMA writable_schema = OFF") }
            do {
                try db.execute(sql: "UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'changes'",
                               arguments: [Self.changesCheckV1, Self.changesCheck])
                try db.execute(sql: "PRAGMA schema_version = \(version + 1)")
            } catch {
                // A SQLite built to refuse edits of its schema (SQLITE_DBCONFIG_DEFENSIVE): the
                // v1 spelling stays. It accepts the same rows, only more slowly.
            }
        }
        return m
    }

    public func occurrences(feedID: String, after: Int64) throws(StoreError) -> [OccurrenceRow] {
        try wrap(.read, "read the occurrences of feed \(feedID)") {
            try pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT record_key, uid, start_ts, end_ts, start_date, end_date, all_day, cancelled FROM occurrences
                    WHERE feed_id = ? AND end_ts > ? ORDER BY start_ts, record_key
                    """, arguments: [feedID, after]).map { row in
                    OccurrenceRow(recordKey: row[0], uid: row[1], start: row[2], end: row[3],
                                  startDay: ISOTime.parseDay(row[4]) ?? 0, endDay: ISOTime.parseDay(row[5]) ?? 0,
                                  allDay: row[6], cancelled: row[7])
                }
            }
        }
    }

    public func prune(feedIDs: [String], at: Int64) throws(StoreError) -> [String: Int] {
        try wrap(.write, "prune \(feedIDs.count) feeds") {
            try pool.write { db in
                var removed: [String: Int] = [:]
                for id in feedIDs {
                    try db.execute(sql: "UPDATE events SET removed_at = ?, updated_at = ? WHERE feed_id = ? AND removed_at IS NULL",
                                   arguments: [ISOTime.format(at), ISOTime.format(at), id])
                    removed[id] = db.changesCount
                    try db.execute(sql: "DELETE FROM occurrences WHERE feed_id = ? AND end_ts > ?", arguments: [id, at])
                    try db.execute(sql: """
                        UPDATE feeds SET snapshot_generation = NULL, fingerprint = NULL, etag = NULL, last_modified = NULL,
                          occurrences_until = NULL
                        WHERE id = ?
                        """, arguments: [id])
                }
                return removed
            }
        }
    }

    public func storeID() throws(StoreError) -> String? {
        try wrap(.read, "read the store's identity") {
            try pool.read { db in
                guard try db.tableExists("store_info") else { return nil }
                return try String.fetchOne(db, sql: "SELECT value FROM store_info WHERE key = 'id'")
            }
        }
    }

    public func feedStates() throws(StoreError) -> [String: FeedState] {
        try wrap(.read, "read feed states") {
            try pool.read { db in try Self.feedStates(db) }
        }
    }

    public func feedStates(ids: [String]) throws(StoreError) -> [String: FeedState] {
        try wrap(.read, "read feed states") {
            try pool.read { db in
                var result: [String: FeedState] = [:]
                result.reserveCapacity(ids.count)
                // In chunks of bound parameters (well under SQLite's limit), by primary key.
                var start = 0
                while start < ids.count {
                    let chunk = ids[start..<min(ids.count, start + 500)]
                    start += chunk.count
                    let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                    try Self.feedStates(db, into: &result, where: "WHERE id IN (\(marks))",
                                        arguments: StatementArguments(Array(chunk)))
                }
                return result
            }
        }
    }

    public func feedIDsWithSnapshots() throws(StoreError) -> [String] {
        try wrap(.read, "read feed ids") {
            try pool.read { db in
                try String.fetchAll(db, sql: "SELECT id FROM feeds WHERE snapshot_generation IS NOT NULL")
            }
        }
    }

    private static func feedStates(_ db: Database) throws -> [String: FeedState] {
        var result: [String: FeedState] = [:]
        try feedStates(db, into: &result, where: "", arguments: [])
        return result
    }

    private static func feedStates(_ db: Database, into result: inout [String: FeedState], where clause: String,
                                   arguments: StatementArguments) throws {
        // Read through the C API: GRDB's `Row` boxes every value, and a night reads a row per feed.
        let query = try db.makeStatement(sql: """
            SELECT id, fingerprint, etag, last_modified, snapshot_generation, last_success_at,
                   last_full_sync_at, last_status, last_error, occurrences_until FROM feeds \(clause)
            """)
        try query.setArguments(arguments)
        let stmt = query.sqliteStatement
        defer { sqlite3_reset(stmt) }
        func text(_ i: Int32) -> String? {
            guard sqlite3_column_type(stmt, i) != SQLITE_NULL, let p = sqlite3_column_text(stmt, i) else { return nil }
            return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, i))), as: UTF8.self)
        }
        func int(_ i: Int32) -> Int64? {
            sqlite3_column_type(stmt, i) == SQLITE_NULL ? nil : sqlite3_column_int64(stmt, i)
        }
        while true {
            let code = sqlite3_step(stmt)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            let id = text(0) ?? ""
            result[id] = FeedState(
                id: id, fingerprint: text(1), etag: text(2), lastModified: text(3),
                snapshotGeneration: int(4).map { UInt64(bitPattern: $0) },
                lastSuccessAt: text(5).flatMap(ISOTime.parse),
                lastFullSyncAt: text(6).flatMap(ISOTime.parse),
                lastStatus: text(7).flatMap(FeedStatus.init(rawValue:)), lastError: text(8),
                occurrencesUntil: int(9))
        }
    }

    public func priorRecords(feedID: String) throws(StoreError) -> [PriorRecord] {
        try wrap(.read, "read the events of feed \(feedID)") {
            try pool.read { db in
                var result: [PriorRecord] = []
                let rows = try Row.fetchCursor(db, sql: """
                    SELECT record_key, record_hash, last_end_ts, removed_at IS NOT NULL
                    FROM events WHERE feed_id = ?
                    """, arguments: [feedID])
                while let row = try rows.next() {
                    let hashText: String = row[1]
                    result.append(PriorRecord(key: row[0], hash: UInt64(hashText, radix: 16) ?? 0,
                                              lastEnd: row[2], removed: row[3]))
                }
                return result
            }
        }
    }

    public func beginRun(mode: SyncMode, startedAt: Int64, now: Int64) throws(StoreError) -> Int64 {
        try wrap(.write, "record the start of the run") {
            try pool.write { db in
                // The caller holds the run lock: a run still `running` was killed before its end.
                try db.execute(sql: "UPDATE runs SET status = 'aborted' WHERE status = 'running'")
                try db.execute(sql: "INSERT INTO runs (mode, now, dry_run, started_at) VALUES (?, ?, 0, ?)",
                               arguments: [mode.rawValue, ISOTime.format(now), ISOTime.format(startedAt)])
                return db.lastInsertedRowID
            }
        }
    }

    public func finishRun(id: Int64, finishedAt: Int64, status: RunStatus, counts s: RunCounts) throws(StoreError) {
        try wrap(.write, "record the end of the run") {
            try pool.write { db in
                try db.execute(sql: """
                    UPDATE runs SET finished_at = ?, status = ?, feeds_total = ?, feeds_unchanged = ?,
                      feeds_changed = ?, feeds_failed = ?, events_added = ?, events_updated = ?,
                      events_removed = ?, events_past_skipped = ? WHERE id = ?
                    """, arguments: [ISOTime.format(finishedAt), status.rawValue, s.feedsTotal, s.feedsUnchanged,
                                     s.feedsChanged, s.feedsFailed, s.eventsAdded, s.eventsUpdated,
                                     s.eventsRemoved, s.eventsPastSkipped, id])
            }
        }
    }

    public func run(id: Int64) throws(StoreError) -> StoredRun? {
        try wrap(.read, "read run \(id)") {
            try pool.read { db in
                guard let row = try Row.fetchOne(db, sql: """
                    SELECT mode, now, started_at, finished_at, status, feeds_total, feeds_unchanged, feeds_changed,
                      feeds_failed, events_added, events_updated, events_removed, events_past_skipped
                    FROM runs WHERE id = ?
                    """, arguments: [id]) else { return nil }
                var c = RunCounts()
                c.feedsTotal = row[5] ?? 0
                c.feedsUnchanged = row[6] ?? 0
                c.feedsChanged = row[7] ?? 0
                c.feedsFailed = row[8] ?? 0
                c.eventsAdded = row[9] ?? 0
                c.eventsUpdated = row[10] ?? 0
                c.eventsRemoved = row[11] ?? 0
                c.eventsPastSkipped = row[12] ?? 0
                return StoredRun(id: id, mode: SyncMode(rawValue: row[0]) ?? .incremental,
                                 now: ISOTime.parse(row[1]) ?? 0, startedAt: ISOTime.parse(row[2]) ?? 0,
                                 finishedAt: (row[3] as String?).flatMap(ISOTime.parse),
                                 status: RunStatus(rawValue: row[4]) ?? .failed, counts: c)
            }
        }
    }

    public func liveRecordCounts() throws(StoreError) -> [String: Int] {
        try wrap(.read, "count the events of each feed") {
            try pool.read { db in
                var result: [String: Int] = [:]
                let rows = try Row.fetchCursor(db, sql: "SELECT feed_id, count(*) FROM events WHERE removed_at IS NULL GROUP BY feed_id")
                while let row = try rows.next() { result[row[0]] = row[1] }
                return result
            }
        }
    }

    public func changes(runID: Int64) throws(StoreError) -> [RecordChange] {
        try wrap(.read, "read the changes of run \(runID)") {
            try pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT feed_id, record_key, kind, at, old_values, new_values FROM changes WHERE run_id = ? ORDER BY rowid
                    """, arguments: [runID]).map { row in
                    RecordChange(feedID: row[0], key: row[1], kind: RecordChange.Kind(rawValue: row[2]) ?? .updated,
                                 at: ISOTime.parse(row[3]) ?? 0, oldValues: row[4], newValues: row[5])
                }
            }
        }
    }

    public func apply(_ batch: [FeedUpdate], runID: Int64, at: Int64) throws(StoreError) {
        guard !batch.isEmpty else { return }
        let now = ISOTime.format(at)
        try wrap(.write, "apply a batch of \(batch.count) feeds") {
            try pool.write { db in
                let upsertFeed = try db.cachedStatement(sql: """
                    INSERT INTO feeds (id, url_redacted, property, last_status, last_error)
                    VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET url_redacted = excluded.url_redacted,
                      property = excluded.property, last_status = excluded.last_status,
                      last_error = excluded.last_error
                    """)
                // A feed that synced: its row and its state in one statement (nil validators keep
                // the stored ones), bound without boxing — a quiet night writes one per feed.
                var feedRow = RowWriter(db, head: """
                    INSERT INTO feeds (id, url_redacted, property, last_status, last_error, fingerprint, etag,
                      last_modified, snapshot_generation, last_success_at, last_full_sync_at)
                    VALUES
                    """, columns: 11, tail: """

                    ON CONFLICT(id) DO UPDATE SET url_redacted = excluded.url_redacted,
                      property = excluded.property, last_status = excluded.last_status,
                      last_error = excluded.last_error, fingerprint = coalesce(excluded.fingerprint, fingerprint),
                      etag = coalesce(excluded.etag, etag), last_modified = coalesce(excluded.last_modified, last_modified),
                      snapshot_generation = coalesce(excluded.snapshot_generation, snapshot_generation),
                      last_success_at = excluded.last_success_at,
                      last_full_sync_at = coalesce(excluded.last_full_sync_at, last_full_sync_at)
                    """, maxRows: 1)
                // Whether the store has a row for the feed yet. A feed it has none for has no
                // events nor occurrences either (they are written with their feed's row): it has
                // no occurrences to replace.
                let known = try db.cachedStatement(sql: "SELECT 1 FROM feeds WHERE id = ?")
                // `OR FAIL`, here and in every multi-row insert below: a failing row fails its
                // statement without SQLite undoing the statement's earlier rows, so SQLite keeps no
                // statement journal (a copy of every page a statement touches, for every group of
                // rows: about a tenth of the writer's CPU on a first night, docs/performance.md). Any
                // error fails the batch's whole transaction, which is rolled back: nothing is
                // half written.
                var event = RowWriter(db, head: """
                    INSERT OR FAIL INTO events (feed_id, record_key, uid, recurrence_id, start, "end", last_end, all_day,
                      summary, description, location, status, record_hash, start_ts, last_end_ts,
                      first_seen_at, updated_at, removed_at, data, end_ts, start_date, end_date)
                    VALUES
                    """, columns: 22, tail: """

                    ON CONFLICT(feed_id, record_key) DO UPDATE SET uid = excluded.uid,
                      recurrence_id = excluded.recurrence_id, start = excluded.start, "end" = excluded."end",
                      last_end = excluded.last_end, all_day = excluded.all_day, summary = excluded.summary,
                      description = excluded.description, location = excluded.location,
                      status = excluded.status, record_hash = excluded.record_hash,
                      start_ts = excluded.start_ts, last_end_ts = excluded.last_end_ts,
                      updated_at = excluded.updated_at, removed_at = excluded.removed_at, data = excluded.data,
                      end_ts = excluded.end_ts, start_date = excluded.start_date, end_date = excluded.end_date
                    """)
                // The fields of a live row, before it is updated or removed (the change log's old values).
                let readOld = try db.cachedStatement(sql: """
                    SELECT start, "end", start_date, end_date, all_day, last_end, summary, description, location, status, data
                    FROM events WHERE feed_id = ? AND record_key = ? AND removed_at IS NULL
                    """)
                let removeEvent = try db.cachedStatement(sql: """
                    UPDATE events SET removed_at = ?, updated_at = ?
                    WHERE feed_id = ? AND record_key = ? AND removed_at IS NULL
                    """)
                var change = RowWriter(db, head: """
                    INSERT OR FAIL INTO changes (run_id, feed_id, record_key, uid, recurrence_id, kind, at, old_values, new_values)
                    VALUES
                    """, columns: 9)
                let logRemoval = try db.cachedStatement(sql: """
                    INSERT INTO changes (run_id, feed_id, record_key, uid, recurrence_id, kind, at, old_values)
                    SELECT ?, feed_id, record_key, uid, recurrence_id, 'removed', ?, ? FROM events
                    WHERE feed_id = ? AND record_key = ?
                    """)
                var occurrences = OccurrenceWriter(db)
                func old(_ feedID: String, _ key: String) throws -> ChangeFields? {
                    guard let row = try Row.fetchOne(readOld, arguments: [feedID, key]) else { return nil }
                    return ChangeFields(start: row[0], end: row[1], startDate: row[2], endDate: row[3], allDay: row[4],
                                        lastEnd: row[5], summary: row[6], description: row[7], location: row[8],
                                        status: row[9], data: row[10])
                }
                /// Binds one event's row to the upsert (in place: a copy of the writer
                /// would lose its rows).
                func write(_ r: FeedRecord, of feedID: String, to event: inout RowWriter) throws {
                    if !r.hasTimes {
                        event.bind(feedID, r.key, r.uid, r.recurrenceID, nil, nil)
                    } else if r.allDay {
                        event.bind(feedID, r.key, r.uid, r.recurrenceID, r.startDate ?? ISOTime.format(r.start),
                                   r.endDate ?? ISOTime.format(r.end))
                    } else {
                        event.bind(feedID, r.key, r.uid, r.recurrenceID, ISOTime.format(r.start), ISOTime.format(r.end))
                    }
                    event.bind(r.lastEnd.map(ISOTime.format))
                    event.bind(r.allDay ? 1 : 0)
                    event.bind(r.summary, r.description, r.location, r.status, hex64(r.hash))
                    event.bind(r.hasTimes ? r.start : nil)
                    event.bind(r.lastEnd)
                    // A cancelled occurrence is kept as a removed row (docs/store.md).
                    event.bind(now, now, r.isCancelledOccurrence ? now : nil, r.data)
                    event.bind(r.hasTimes ? r.end : nil)
                    event.bind(r.hasTimes ? r.startDateText : nil, r.hasTimes ? r.endDateText : nil)
                    try event.endRow()
                }
                for u in batch {
                    guard u.status != .failed else {
                        try upsertFeed.execute(arguments: [u.feedID, u.urlRedacted, u.property, u.status.rawValue, u.error])
                        continue
                    }
                    // Asked only of a feed with occurrences to write: a quiet night's feeds have none.
                    let isNew = try u.occurrences != nil && Self.isAbsent(known, u.feedID)
                    feedRow.bind(u.feedID, u.urlRedacted, u.property, u.status.rawValue, u.error, u.fingerprint, u.etag,
                                 u.lastModified)
                    feedRow.bind(u.snapshotGeneration.map { Int64($0) })
                    feedRow.bind(now, u.fullSync ? now : nil)
                    try feedRow.endRow()
                    for (kind, records) in [("added", u.added), ("updated", u.updated)] {
                        for r in records {
                            let before = kind == "updated" ? try old(u.feedID, r.key) : nil
                            // An addition logs no values: its row holds them (a later change logs them as old).
                            let values = before.map { ChangeValues.updated(from: $0, to: ChangeFields(r)) }
                            try write(r, of: u.feedID, to: &event)
                            change.bind(runID)
                            change.bind(u.feedID, r.key, r.uid, r.recurrenceID, kind, now, values?.old, values?.new)
                            try change.endRow()
                        }
                    }
                    // Written before the removals and occurrences read the tables; the change log's
                    // rows keep their order.
                    try event.flush()
                    try change.flush()
                    for key in u.removed {
                        guard let before = try old(u.feedID, key) else { continue }
                        try removeEvent.execute(arguments: [now, now, u.feedID, key])
                        try logRemoval.execute(arguments: [runID, now, ChangeValues.removed(before), u.feedID, key])
                    }
                    try occurrences.write(u, at: at, isNew: isNew)
                }
            }
        }
    }

    /// True when `SELECT 1 FROM feeds WHERE id = ?` finds no row for `feedID`.
    /// Bound and stepped through the C API: GRDB's `Row.fetchOne` boxed every value of a query
    /// asked once per feed.
    private static func isAbsent(_ known: Statement, _ feedID: String) throws -> Bool {
        let statement = known.sqliteStatement
        var id = feedID
        let code = id.withUTF8 { b -> Int32 in
            // SQLITE_TRANSIENT: SQLite copies the text (the buffer lives only in this closure).
            sqlite3_bind_text(statement, 1, UnsafeRawPointer(b.baseAddress ?? UnsafePointer(bitPattern: 1)!)
                .assumingMemoryBound(to: CChar.self), Int32(b.count), unsafeBitCast(-1, to: sqlite3_destructor_type.self))
            defer { sqlite3_reset(statement); sqlite3_clear_bindings(statement) }
            return sqlite3_step(statement)
        }
        switch code {
        case SQLITE_ROW: return false
        case SQLITE_DONE: return true
        default:
            // SQLite's own reason, as the other statements stepped by hand give it.
            let reason = sqlite3_db_handle(statement).map { String(cString: sqlite3_errmsg($0)) } ?? "error \(code)"
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "\(reason) (is feed \(feedID) stored?)")
        }
    }

    private func wrap<T>(_ code: StoreError.Code, _ what: String, _ body: () throws -> T) throws(StoreError) -> T {
        do {
            return try body()
        } catch let error as StoreError {
            throw error
        } catch {
            throw SQLiteFaults.explain(error, path: path, busyTimeout: busyTimeout, doing: what, code: code)
        }
    }
}

/// Writes rows of one INSERT, bound straight through the SQLite C API, up to `maxRows` rows per
/// statement execution (`INSERT … VALUES (…), (…), …`): a first night writes millions of rows, and
/// SQLite's cost of running a statement once (step, halt, reset) is then paid once per group
/// instead of once per row (16 rows a statement: about 20% less CPU per row in a C experiment on
/// the change log's schema). Rows go out when `maxRows` are bound and at `flush()`; whoever reads
/// the table in between must flush first. A row's text is copied once into a buffer the writer
/// reuses and bound from there without SQLite copying it again (`SQLITE_STATIC`): the buffer stays
/// as it is from the binding to the statement's reset, and every parameter is bound again before
/// the next execution.
private struct RowWriter {
    private enum Value {
        case null
        case int(Int64)
        case text(offset: Int, count: Int)
    }
    private let db: Database
    private let head: String
    private let tail: String
    private let columns: Int
    private let maxRows: Int
    /// The statement for k rows at index k, prepared when first needed.
    private var statements: [Statement?]
    private var values: [Value] = []
    private var arena: [UInt8] = []
    private var rows = 0
    private static let empty: StaticString = ""

    /// `head`: `INSERT … (columns) VALUES`; `tail`: what follows the rows (an upsert clause), or "".
    init(_ db: Database, head: String, columns: Int, tail: String = "", maxRows: Int = 16) {
        self.db = db
        self.head = head
        self.tail = tail
        self.columns = columns
        self.maxRows = maxRows
        statements = Array(repeating: nil, count: maxRows + 1)
        values.reserveCapacity(columns * maxRows)
        arena.reserveCapacity(1024 * maxRows)
    }

    /// Inlined, so that the caller's list of values need not be an array on the heap.
    @inline(__always)
    mutating func bind(_ texts: String?...) {
        for t in texts {
            guard var t else { values.append(.null); continue }
            let offset = arena.count
            t.withUTF8 { arena.append(contentsOf: $0) }
            values.append(.text(offset: offset, count: arena.count - offset))
        }
    }

    mutating func bind(_ value: Int64?) {
        values.append(value.map { .int($0) } ?? .null)
    }

    /// Ends the row whose values were just bound; writes the group when it is full.
    mutating func endRow() throws {
        rows += 1
        precondition(values.count == rows * columns, "every column of the row is bound")
        if rows == maxRows { try flush() }
    }

    /// Writes the rows not written yet.
    mutating func flush() throws {
        guard rows > 0 else { return }
        let statement = try statement(rows: rows).sqliteStatement
        let (code, message) = arena.withUnsafeBytes { bytes -> (Int32, String?) in
            for (i, v) in values.enumerated() {
                let index = Int32(i + 1)
                switch v {
                case .null: sqlite3_bind_null(statement, index)
                case .int(let n): sqlite3_bind_int64(statement, index, n)
                case .text(let offset, let count):
                    // An empty value still needs a pointer: a NULL one would bind SQL NULL.
                    let p = count == 0 ? UnsafeRawPointer(RowWriter.empty.utf8Start) : UnsafeRawPointer(bytes.baseAddress! + offset)
                    sqlite3_bind_text(statement, index, p.assumingMemoryBound(to: CChar.self), Int32(count), nil)
                }
            }
            let code = sqlite3_step(statement)
            let message = code == SQLITE_DONE ? nil : db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) } ?? "error \(code)"
            sqlite3_reset(statement)
            // No parameter may point into the buffer once it changes.
            sqlite3_clear_bindings(statement)
            return (code, message)
        }
        rows = 0
        values.removeAll(keepingCapacity: true)
        arena.removeAll(keepingCapacity: true)
        if let message { throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message) }
    }

    private mutating func statement(rows k: Int) throws -> Statement {
        if let s = statements[k] { return s }
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        let s = try db.cachedStatement(sql: head + " " + Array(repeating: row, count: k).joined(separator: ", ") + tail)
        statements[k] = s
        return s
    }
}

/// Writes a feed update's occurrences (docs/store.md, `occurrences`) and its derived columns.
private struct OccurrenceWriter {
    let db: Database
    /// One writer for the whole transaction, so its statements and buffers are made once.
    private var rows: RowWriter

    init(_ db: Database) {
        self.db = db
        // `OR FAIL`: no statement journal (SQLiteStore.apply).
        rows = RowWriter(db, head: """
            INSERT OR FAIL INTO occurrences (feed_id, record_key, uid, start, "end", start_ts, end_ts, start_date,
              end_date, all_day, cancelled)
            VALUES
            """, columns: 11, tail: """

            ON CONFLICT (feed_id, record_key, start_ts) DO UPDATE SET uid = excluded.uid, start = excluded.start,
              "end" = excluded."end", end_ts = excluded.end_ts, start_date = excluded.start_date,
              end_date = excluded.end_date, all_day = excluded.all_day, cancelled = excluded.cancelled
            """)
    }

    /// `isNew`: the store had no row for the feed before this transaction, hence no occurrences.
    mutating func write(_ u: FeedUpdate, at: Int64, isNew: Bool) throws {
        // The future occurrences of a removed event go with it.
        if !u.removed.isEmpty {
            let dropKey = try db.cachedStatement(sql: "DELETE FROM occurrences WHERE feed_id = ? AND record_key = ? AND end_ts > ?")
            for key in u.removed { try dropKey.execute(arguments: [u.feedID, key, u.occurrences?.from ?? at]) }
        }
        guard let o = u.occurrences else { return }
        if isNew {
            // Nothing to replace.
        } else if let uids = o.uids {
            // One pass over the feed's rows (its key prefix) whatever the number of series: no
            // index on uid to keep up on every insert.
            if !uids.isEmpty {
                try db.cachedStatement(sql: """
                    DELETE FROM occurrences WHERE feed_id = ? AND end_ts > ? AND uid IN (SELECT value FROM json_each(?))
                    """).execute(arguments: [u.feedID, o.from, JSONValue.array(uids.map(JSONValue.string)).renderCompact()])
            }
        } else if o.keep.isEmpty {
            try db.cachedStatement(sql: "DELETE FROM occurrences WHERE feed_id = ? AND end_ts > ?").execute(arguments: [u.feedID, o.from])
        } else {
            try db.cachedStatement(sql: """
                DELETE FROM occurrences WHERE feed_id = ? AND end_ts > ? AND record_key NOT IN (SELECT value FROM json_each(?))
                """).execute(arguments: [u.feedID, o.from, JSONValue.array(o.keep.map(JSONValue.string)).renderCompact()])
        }
        if !o.rows.isEmpty {
            try write(o.rows, of: u.feedID)
        }
        try db.cachedStatement(sql: "UPDATE feeds SET occurrences_until = ? WHERE id = ?").execute(arguments: [o.until, u.feedID])
        if !o.refresh.isEmpty {
            let refresh = try db.cachedStatement(sql: """
                UPDATE events SET end_ts = ?1, start_date = ?2, end_date = ?3
                WHERE feed_id = ?4 AND record_key = ?5 AND (end_ts IS NOT ?1 OR start_date IS NOT ?2 OR end_date IS NOT ?3)
                """)
            for r in o.refresh where r.hasTimes {
                try refresh.execute(arguments: [r.end, r.startDateText, r.endDateText, u.feedID, r.key])
            }
        }
    }

    private mutating func write(_ occurrences: [OccurrenceRow], of feedID: String) throws {
        for r in occurrences {
            let startDate = ISOTime.formatDay(r.startDay), endDate = ISOTime.formatDay(r.endDay)
            rows.bind(feedID, r.recordKey, r.uid, r.allDay ? startDate : ISOTime.format(r.start),
                      r.allDay ? endDate : ISOTime.format(r.end))
            rows.bind(r.start)
            rows.bind(r.end)
            rows.bind(startDate, endDate)
            rows.bind(r.allDay ? 1 : 0)
            rows.bind(r.cancelled ? 1 : 0)
            try rows.endRow()
        }
        try rows.flush()
    }
}
