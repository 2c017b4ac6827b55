public import FeedModel
import FeedHash
import Foundation
public import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
public import Snapshots
import Synchronization

/// The PostgreSQL store (postgres-nio's `PostgresClient` pool): the same tables and columns as the
/// SQLite store, with PostgreSQL's types (`timestamptz` instants, `date` all-day dates, `bigint`
/// ids, `jsonb` record data), and the same semantics: it passes the same store suite.
///
/// Bulk writes bind each column of a batch as one array and `unnest` them, so a batch is a few
/// statements whatever its size; an upsert whose row would not change writes no row version.
/// Schema changes are versioned migrations, run once under an advisory lock when several
/// processes open the store at the same moment (docs/store.md).
public final class PostgresStore: FeedStore {
    public let location: PostgresLocation
    let client: PostgresClient
    private let runner: Task<Void, Never>
    let logger: Logger
    /// How long a write waits for another session's row or table lock (`busy_timeout_seconds`).
    public let busyTimeout: Double

    /// Snapshots added by the run and not yet committed, by feed and generation (see
    /// `PostgresSnapshotTable`): `apply` writes them with the rows they describe.
    struct SnapshotKey: Hashable {
        var feedID: String
        var generation: UInt64
    }
    private let pendingSnapshots = Mutex<[SnapshotKey: [UInt8]]>([:])

    /// The store's `snapshots` table, written in the same transaction as the rows.
    public var snapshotTable: PostgresSnapshotTable { PostgresSnapshotTable(store: self) }

    /// The snapshot rows found sound by one streamed check, made once (by the first feed that
    /// asks; the others wait for it). Keys leave the set when their generation is retired.
    private let soundCheck = Mutex<Task<Set<SnapshotKey>?, Never>?>(nil)
    private let retiredSinceCheck = Mutex<Set<SnapshotKey>>([])

    /// True or false when the streamed check knows; nil when it could not be made.
    func isKnownSound(_ key: SnapshotKey) async -> Bool? {
        let task = soundCheck.withLock { task in
            if let task { return task }
            let made = Task { await self.checkSnapshotRows() }
            task = made
            return made
        }
        guard let sound = await task.value else { return nil }
        if retiredSinceCheck.withLock({ $0.contains(key) }) { return false }
        return sound.contains(key)
    }

    func forgetSound(feedID: String, generation: UInt64) {
        _ = retiredSinceCheck.withLock { $0.insert(SnapshotKey(feedID: feedID, generation: generation)) }
    }

    /// Checks every snapshot row (checksum, feed and generation in its header) in one query.
    private func checkSnapshotRows() async -> Set<SnapshotKey>? {
        var found = Set<SnapshotKey>()
        do {
            let rows = try await client.query("SELECT feed_id, generation, bytes FROM snapshots", logger: logger)
            for try await (feed, gen, buffer) in rows.decode((String, Int64, ByteBuffer).self) {
                if SnapshotCodec.isSound(Array(buffer.readableBytesView), feedID: feed, generation: UInt64(gen)) { found.insert(SnapshotKey(feedID: feed, generation: UInt64(gen))) }
            }
        } catch {
            logger.debug("cannot check the snapshot rows at once", metadata: ["error": "\(error)"])
            return nil
        }
        return found
    }

    func stage(_ bytes: [UInt8], feedID: String, generation: UInt64) {
        pendingSnapshots.withLock { $0[SnapshotKey(feedID: feedID, generation: generation)] = bytes }
    }

    func staged(feedID: String, generation: UInt64) -> [UInt8]? {
        pendingSnapshots.withLock { $0[SnapshotKey(feedID: feedID, generation: generation)] }
    }

    func unstage(feedID: String, generation: UInt64) {
        _ = pendingSnapshots.withLock { $0.removeValue(forKey: SnapshotKey(feedID: feedID, generation: generation)) }
    }

    func stagedKeys() -> [SnapshotKey] {
        pendingSnapshots.withLock { Array($0.keys) }
    }

    /// Removes and returns the staged snapshots whose key `take` accepts.
    func takeStaged(_ take: (SnapshotKey) -> Bool) -> [(SnapshotKey, [UInt8])] {
        pendingSnapshots.withLock { pending in
            let keys = pending.keys.filter(take)
            return keys.map { k in (k, pending.removeValue(forKey: k)!) }
        }
    }

    /// Writes snapshot rows and deletes every other generation of their feeds.
    static func writeSnapshots(_ snapshots: [(SnapshotKey, [UInt8])], on connection: PostgresConnection,
                               logger: Logger) async throws {
        guard !snapshots.isEmpty else { return }
        // One generation per feed: the highest, should a feed have staged two.
        var newest: [String: (UInt64, [UInt8])] = [:]
        for (k, b) in snapshots where (newest[k.feedID]?.0 ?? 0) <= k.generation { newest[k.feedID] = (k.generation, b) }
        var feeds = PostgresColumn(.text), gens = PostgresColumn(.int8), bytes = PostgresColumn(.bytea)
        for (feed, (gen, b)) in newest {
            feeds.append(feed)
            gens.append(Int64(gen))
            bytes.append(bytes: b)
        }
        var q = PostgresQuery(unsafeSQL: """
            INSERT INTO snapshots (feed_id, generation, bytes)
            SELECT * FROM unnest($1::text[], $2::int8[], $3::bytea[])
            ON CONFLICT (feed_id, generation) DO UPDATE SET bytes = excluded.bytes, created_at = now()
            """)
        q.binds.append(feeds); q.binds.append(gens); q.binds.append(bytes)
        try await connection.query(q, logger: logger)
        q = PostgresQuery(unsafeSQL: """
            DELETE FROM snapshots s USING unnest($1::text[], $2::int8[]) AS n(feed_id, generation)
            WHERE s.feed_id = n.feed_id AND s.generation <> n.generation
            """)
        q.binds.append(feeds); q.binds.append(gens)
        try await connection.query(q, logger: logger)
    }

    static let quiet = Logger(label: "feedsync.store") { _ in SwiftLogNoOpLogHandler() }

    /// Advisory lock keys: (`feed`, n).
    static let lockSpace: Int32 = 0x6665_6564
    static let migrationLock: Int32 = 1

    private init(location: PostgresLocation, client: PostgresClient, runner: Task<Void, Never>, logger: Logger,
                 busyTimeout: Double) {
        self.location = location
        self.client = client
        self.runner = runner
        self.logger = logger
        self.busyTimeout = busyTimeout
    }

    deinit { runner.cancel() }

    /// Two batches in flight: one is applied while the server still works on the other's
    /// statements (their feeds differ, so their rows do).
    public var concurrentBatches: Int { 2 }

    /// Connects, checks that the server answers (so a wrong URL or password fails at once, in
    /// words), migrates the schema to the current version, and opens the pool.
    public static func open(_ location: PostgresLocation, busyTimeout: Double = SQLiteStore.defaultBusyTimeout,
                            maxConnections: Int = 8, logger: Logger = Logger(label: "feedsync.store") { _ in SwiftLogNoOpLogHandler() },
                            migrate: Bool = true) async throws(StoreError) -> PostgresStore {
        let clientTLS: PostgresClient.Configuration.TLS
        let direct: PostgresConnection.Configuration
        do {
            clientTLS = try Self.tls(location).1
            direct = try connectionConfiguration(location, busyTimeout: busyTimeout)
        } catch {
            throw StoreError(.cannotOpen, "cannot set up TLS for the PostgreSQL store \(location): \(error)")
        }
        let startup = Self.startupParameters(busyTimeout: busyTimeout)
        // One direct connection first: the pool retries a server it cannot reach for ever, and
        // the run must rather stop at once with the reason.
        do {
            let connection = try await PostgresConnection.connect(configuration: direct, id: 0, logger: logger)
            do {
                if migrate {
                    try await PostgresSchema.migrate(connection, logger: logger)
                } else if try await !PostgresSchema.exists(connection, logger: logger) {
                    try? await connection.close()
                    throw StoreError(.notAStore, "the PostgreSQL database \(location) has no feedsync tables yet (no run has written it)")
                }
            } catch {
                try? await connection.close()
                throw error
            }
            try? await connection.close()
        } catch {
            throw PostgresFaults.explain(error, at: location, doing: migrate ? "open it" : "read it", code: .cannotOpen)
        }

        var config: PostgresClient.Configuration
        if let socket = location.socketPath {
            config = .init(unixSocketPath: socket, username: location.user, password: location.password,
                           database: location.database)
        } else {
            config = .init(host: location.host ?? "127.0.0.1", port: location.port, username: location.user,
                           password: location.password, database: location.database, tls: clientTLS)
        }
        config.options.maximumConnections = max(2, maxConnections)
        config.options.additionalStartupParameters = startup
        config.options.keepAliveBehavior = nil
        let client = PostgresClient(configuration: config, backgroundLogger: logger)
        let runner = Task { await client.run() }
        return PostgresStore(location: location, client: client, runner: runner, logger: logger, busyTimeout: busyTimeout)
    }

    /// Opens the store only to read it (no migration, nothing written); nil when the database has
    /// no feedsync tables yet.
    public static func openReadOnly(_ location: PostgresLocation, busyTimeout: Double = SQLiteStore.defaultBusyTimeout,
                                    logger: Logger = Logger(label: "feedsync.store") { _ in SwiftLogNoOpLogHandler() }) async throws(StoreError) -> PostgresStore? {
        do {
            return try await open(location, busyTimeout: busyTimeout, maxConnections: 2, logger: logger, migrate: false)
        } catch where error.code == .notAStore {
            return nil
        }
    }

    /// Closes the pool (waits for nothing: every query of the run has returned).
    public func close() async {
        runner.cancel()
        await runner.value
    }

    static func startupParameters(busyTimeout: Double) -> [(String, String)] {
        let host = ProcessInfo.processInfo.hostName
        return [
            ("application_name", String("feedsync pid \(getpid()) on \(host)".prefix(63))),
            // A write waits this long for another session's lock, then fails in words (55P03).
            ("lock_timeout", "\(Int((busyTimeout * 1000).rounded()))ms"),
            ("timezone", "UTC"),
        ]
    }

    static func tls(_ location: PostgresLocation) throws -> (PostgresConnection.Configuration.TLS, PostgresClient.Configuration.TLS) {
        var config = TLSConfiguration.makeClientConfiguration()
        switch location.sslMode {
        case .disable:
            return (.disable, .disable)
        case .allow, .prefer:
            config.certificateVerification = .none
            return (.prefer(try NIOSSLContext(configuration: config)), .prefer(config))
        case .require:
            config.certificateVerification = .none
            return (.require(try NIOSSLContext(configuration: config)), .require(config))
        case .verifyCA:
            config.certificateVerification = .noHostnameVerification
            return (.require(try NIOSSLContext(configuration: config)), .require(config))
        case .verifyFull:
            config.certificateVerification = .fullVerification
            return (.require(try NIOSSLContext(configuration: config)), .require(config))
        }
    }

    // MARK: Reads

    public func feedStates() async throws(StoreError) -> [String: FeedState] {
        try await wrap(.read, "read feed states") {
            let rows = try await client.query("""
                SELECT id, fingerprint, etag, last_modified, snapshot_generation,
                       extract(epoch FROM last_success_at)::bigint, extract(epoch FROM last_full_sync_at)::bigint,
                       last_status, last_error, occurrences_until FROM feeds
                """, logger: logger)
            return try await Self.states(rows)
        }
    }

    public func feedStates(ids: [String]) async throws(StoreError) -> [String: FeedState] {
        try await wrap(.read, "read feed states") {
            let rows = try await client.query("""
                SELECT id, fingerprint, etag, last_modified, snapshot_generation,
                       extract(epoch FROM last_success_at)::bigint, extract(epoch FROM last_full_sync_at)::bigint,
                       last_status, last_error, occurrences_until FROM feeds WHERE id = ANY(\(ids)::text[])
                """, logger: logger)
            return try await Self.states(rows)
        }
    }

    public func feedIDsWithSnapshots() async throws(StoreError) -> [String] {
        try await wrap(.read, "read feed ids") {
            let rows = try await client.query("SELECT id FROM feeds WHERE snapshot_generation IS NOT NULL", logger: logger)
            var ids: [String] = []
            for try await id in rows.decode(String.self) { ids.append(id) }
            return ids
        }
    }

    private static func states(_ rows: PostgresRowSequence) async throws -> [String: FeedState] {
        var result: [String: FeedState] = [:]
        for try await (id, fp, etag, lm, gen, success, full, status, error, until) in rows.decode(
            (String, String?, String?, String?, Int64?, Int64?, Int64?, String?, String?, Int64?).self) {
            result[id] = FeedState(id: id, fingerprint: fp, etag: etag, lastModified: lm,
                                   snapshotGeneration: gen.map { UInt64($0) }, lastSuccessAt: success,
                                   lastFullSyncAt: full, lastStatus: status.flatMap(FeedStatus.init(rawValue:)),
                                   lastError: error, occurrencesUntil: until)
        }
        return result
    }

    public func priorRecords(feedID: String) async throws(StoreError) -> [PriorRecord] {
        try await wrap(.read, "read the events of feed \(feedID)") {
            // One row of four arrays rather than a row per record: decoding rows one by one cost
            // more than the query (a full sync of 10,000 feeds × 100 events read 1,000,000 rows).
            // The hash comes as the bigint of its hex digits; a NULL last end as `noEnd`.
            let rows = try await client.query("""
                SELECT array_agg(record_key), array_agg(('x' || lpad(record_hash, 16, '0'))::bit(64)::bigint),
                  array_agg(coalesce(last_end_ts, \(Self.noEnd))), array_agg(removed_at IS NOT NULL)
                FROM events WHERE feed_id = \(feedID)
                """, logger: logger)
            for try await (keys, hashes, ends, removed) in rows.decode(([String]?, [Int64]?, [Int64]?, [Bool]?).self) {
                guard let keys, let hashes, let ends, let removed,
                      hashes.count == keys.count, ends.count == keys.count, removed.count == keys.count else { return [] }
                var result: [PriorRecord] = []
                result.reserveCapacity(keys.count)
                for i in keys.indices {
                    result.append(PriorRecord(key: keys[i], hash: UInt64(bitPattern: hashes[i]),
                                              lastEnd: ends[i] == Self.noEnd ? nil : ends[i], removed: removed[i]))
                }
                return result
            }
            return []
        }
    }

    /// `last_end_ts` NULL (a series without end) in `priorRecords`' arrays.
    static let noEnd = Int64.min

    public func run(id: Int64) async throws(StoreError) -> StoredRun? {
        try await wrap(.read, "read run \(id)") {
            let rows = try await client.query("""
                SELECT mode, extract(epoch FROM now)::bigint, extract(epoch FROM started_at)::bigint,
                  extract(epoch FROM finished_at)::bigint, status, feeds_total, feeds_unchanged, feeds_changed,
                  feeds_failed, events_added, events_updated, events_removed, events_past_skipped
                FROM runs WHERE id = \(id)
                """, logger: logger)
            for try await (mode, now, started, finished, status, t, u, c, f, a, up, r, p) in rows.decode(
                (String, Int64, Int64, Int64?, String, Int?, Int?, Int?, Int?, Int?, Int?, Int?, Int?).self) {
                var counts = RunCounts()
                counts.feedsTotal = t ?? 0
                counts.feedsUnchanged = u ?? 0
                counts.feedsChanged = c ?? 0
                counts.feedsFailed = f ?? 0
                counts.eventsAdded = a ?? 0
                counts.eventsUpdated = up ?? 0
                counts.eventsRemoved = r ?? 0
                counts.eventsPastSkipped = p ?? 0
                return StoredRun(id: id, mode: SyncMode(rawValue: mode) ?? .incremental, now: now, startedAt: started,
                                 finishedAt: finished, status: RunStatus(rawValue: status) ?? .failed, counts: counts)
            }
            return nil
        }
    }

    public func prune(feedIDs: [String], at: Int64) async throws(StoreError) -> [String: Int] {
        try await wrap(.write, "prune \(feedIDs.count) feeds") {
            try await client.withTransaction(logger: logger) { c in
                var removed: [String: Int] = [:]
                for id in feedIDs {
                    let rows = try await c.query("""
                        WITH gone AS (
                          UPDATE events SET removed_at = to_timestamp(\(at)), updated_at = to_timestamp(\(at))
                          WHERE feed_id = \(id) AND removed_at IS NULL RETURNING 1)
                        SELECT count(*)::bigint FROM gone
                        """, logger: logger)
                    for try await n in rows.decode(Int.self) { removed[id] = n }
                    try await c.query("DELETE FROM occurrences WHERE feed_id = \(id) AND end_ts > \(at)", logger: logger)
                    try await c.query("""
                        UPDATE feeds SET snapshot_generation = NULL, fingerprint = NULL, etag = NULL, last_modified = NULL,
                          occurrences_until = NULL
                        WHERE id = \(id)
                        """, logger: logger)
                }
                return removed
            }
        }
    }

    public func storeID() async throws(StoreError) -> String? {
        try await wrap(.read, "read the store's identity") {
            // A database opened read-only may predate the table (migration 5).
            var exists = false
            for try await e in try await client.query("SELECT to_regclass('store_info') IS NOT NULL", logger: logger).decode(Bool.self) {
                exists = e
            }
            guard exists else { return nil }
            let rows = try await client.query("SELECT value FROM store_info WHERE key = 'id'", logger: logger)
            for try await id in rows.decode(String.self) { return id }
            return nil
        }
    }

    public func liveRecordCounts() async throws(StoreError) -> [String: Int] {
        try await wrap(.read, "count the events of each feed") {
            var result: [String: Int] = [:]
            let rows = try await client.query("SELECT feed_id, count(*)::bigint FROM events WHERE removed_at IS NULL GROUP BY feed_id",
                                              logger: logger)
            for try await (feed, n) in rows.decode((String, Int).self) { result[feed] = n }
            return result
        }
    }

    public func changes(runID: Int64) async throws(StoreError) -> [RecordChange] {
        try await wrap(.read, "read the changes of run \(runID)") {
            let rows = try await client.query("""
                SELECT feed_id, record_key, kind, extract(epoch FROM at)::bigint, old_values::text, new_values::text
                FROM changes WHERE run_id = \(runID) ORDER BY id
                """, logger: logger)
            var result: [RecordChange] = []
            for try await (feed, key, kind, at, old, new) in rows.decode((String, String, String, Int64, String?, String?).self) {
                result.append(RecordChange(feedID: feed, key: key, kind: RecordChange.Kind(rawValue: kind) ?? .updated, at: at,
                                           oldValues: old, newValues: new))
            }
            return result
        }
    }

    public func occurrences(feedID: String, after: Int64) async throws(StoreError) -> [OccurrenceRow] {
        try await wrap(.read, "read the occurrences of feed \(feedID)") {
            let rows = try await client.query("""
                SELECT record_key, uid, start_ts, end_ts, start_date::text, end_date::text, all_day, cancelled FROM occurrences
                WHERE feed_id = \(feedID) AND end_ts > \(after) ORDER BY start_ts, record_key
                """, logger: logger)
            var result: [OccurrenceRow] = []
            for try await (key, uid, start, end, sd, ed, allDay, cancelled) in rows.decode(
                (String, String, Int64, Int64, String, String, Bool, Bool).self) {
                result.append(OccurrenceRow(recordKey: key, uid: uid, start: start, end: end, startDay: ISOTime.parseDay(sd) ?? 0,
                                            endDay: ISOTime.parseDay(ed) ?? 0, allDay: allDay, cancelled: cancelled))
            }
            return result
        }
    }

    // MARK: Writes

    public func beginRun(mode: SyncMode, startedAt: Int64, now: Int64) async throws(StoreError) -> Int64 {
        try await wrap(.write, "record the start of the run") {
            try await client.withTransaction(logger: logger) { c in
                // The caller holds the run lock: a run still `running` was killed before its end.
                try await c.query("UPDATE runs SET status = 'aborted' WHERE status = 'running'", logger: logger)
                let rows = try await c.query("""
                    INSERT INTO runs (mode, now, dry_run, started_at) VALUES (\(mode.rawValue), to_timestamp(\(now)), false, to_timestamp(\(startedAt)))
                    RETURNING id
                    """, logger: logger)
                for try await id in rows.decode(Int64.self) { return id }
                throw StoreError(.write, "the PostgreSQL store \(location) returned no run id")
            }
        }
    }

    public func finishRun(id: Int64, finishedAt: Int64, status: RunStatus, counts s: RunCounts) async throws(StoreError) {
        try await wrap(.write, "record the end of the run") {
            _ = try await client.query("""
                UPDATE runs SET finished_at = to_timestamp(\(finishedAt)), status = \(status.rawValue),
                  feeds_total = \(s.feedsTotal), feeds_unchanged = \(s.feedsUnchanged), feeds_changed = \(s.feedsChanged),
                  feeds_failed = \(s.feedsFailed), events_added = \(s.eventsAdded), events_updated = \(s.eventsUpdated),
                  events_removed = \(s.eventsRemoved), events_past_skipped = \(s.eventsPastSkipped)
                WHERE id = \(id)
                """, logger: logger)
        }
    }

    public func apply(_ batch: [FeedUpdate], runID: Int64, at: Int64) async throws(StoreError) {
        _ = try await apply(batch, fencedBy: nil, runID: runID, at: at)
    }

    /// Applies a batch in one transaction. With `completions` (a shared night), the night's rows
    /// of the batch's feeds are first marked done where this process's lease still holds; the
    /// feeds whose lease was lost are left out of everything the transaction writes, and returned.
    func apply(_ batch: [FeedUpdate], fencedBy completions: [NightCompletion]?, runID: Int64,
               at: Int64) async throws(StoreError) -> Set<String> {
        guard !batch.isEmpty || !(completions?.isEmpty ?? true) else { return [] }
        // The new snapshots of the feeds that synced; those of the others are dropped.
        var wanted = Set<SnapshotKey>()
        let batchFeeds = Set(batch.map(\.feedID))
        for u in batch where u.status != .failed {
            if let g = u.snapshotGeneration { wanted.insert(SnapshotKey(feedID: u.feedID, generation: g)) }
        }
        let staged = takeStaged { batchFeeds.contains($0.feedID) }.filter { wanted.contains($0.0) }
        return try await wrap(.write, "apply a batch of \(batch.count) feeds") {
            try await Self.retryingConflicts { try await client.withTransaction(logger: logger) { connection in
                var batch = batch, snapshots = staged, lost = Set<String>()
                if let completions {
                    let held = try await Self.complete(completions, runID: runID, on: connection, logger: logger)
                    lost = Set(completions.map(\.feedID)).subtracting(held)
                    if !lost.isEmpty {
                        batch.removeAll { lost.contains($0.feedID) }
                        snapshots.removeAll { lost.contains($0.0.feedID) }
                    }
                }
                try await Self.writeSnapshots(snapshots, on: connection, logger: logger)
                // A feed named twice in one batch is written in order, one part after the other (a
                // statement may not touch the same row twice).
                var part: [FeedUpdate] = []
                var seen = Set<String>()
                for u in batch {
                    if seen.contains(u.feedID) {
                        try await Self.write(part, runID: runID, at: at, on: connection, logger: logger)
                        part.removeAll(keepingCapacity: true)
                        seen.removeAll(keepingCapacity: true)
                    }
                    seen.insert(u.feedID)
                    part.append(u)
                }
                try await Self.write(part, runID: runID, at: at, on: connection, logger: logger)
                return lost
            } }
        }
    }

    /// Runs `body` again (up to three times in all) when the server rolled it back for a deadlock
    /// or a serialization failure: nothing of it was written, and the next try usually passes.
    static func retryingConflicts<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch {
                guard attempt < 3, let state = sqlState(of: error), state == "40P01" || state == "40001" else { throw error }
                attempt += 1
                try await Task.sleep(for: .milliseconds(50 * attempt))
            }
        }
    }

    static func sqlState(of error: any Error) -> String? {
        if let t = error as? PostgresTransactionError, let inner = t.closureError ?? t.commitError ?? t.beginError {
            return sqlState(of: inner)
        }
        return (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// Writes feeds that each appear once: their state, their rows and the change log, in at most
    /// six statements whatever their number.
    private static func write(_ part: [FeedUpdate], runID: Int64, at: Int64, on connection: PostgresConnection,
                              logger: Logger) async throws {
        guard !part.isEmpty else { return }
        // 1. Every feed's row: its label, status and error.
        var ids = PostgresColumn(.text, capacity: part.count), urls = PostgresColumn(.text, capacity: part.count)
        var properties = PostgresColumn(.text), statuses = PostgresColumn(.text), errors = PostgresColumn(.text)
        for u in part {
            ids.append(u.feedID)
            urls.append(u.urlRedacted)
            properties.append(u.property)
            statuses.append(u.status.rawValue)
            errors.append(u.error)
        }
        var q = PostgresQuery(unsafeSQL: """
            INSERT INTO feeds (id, url_redacted, property, last_status, last_error)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
            ON CONFLICT (id) DO UPDATE SET url_redacted = excluded.url_redacted, property = excluded.property,
              last_status = excluded.last_status, last_error = excluded.last_error
            RETURNING id, xmax = 0
            """)
        q.binds.append(ids); q.binds.append(urls); q.binds.append(properties); q.binds.append(statuses); q.binds.append(errors)
        // A feed whose row this statement created has no events yet (they reference it): its
        // records are inserted without the conflict checks of an upsert.
        var newFeeds = Set<String>()
        for try await (id, inserted) in try await connection.query(q, logger: logger).decode((String, Bool).self) where inserted {
            newFeeds.insert(id)
        }

        let succeeded = part.filter { $0.status != .failed }
        guard !succeeded.isEmpty else { return }

        // 2. The state of the feeds that synced (nil validators keep the stored ones).
        var sIDs = PostgresColumn(.text), fps = PostgresColumn(.text), etags = PostgresColumn(.text)
        var lms = PostgresColumn(.text), gens = PostgresColumn(.int8), fulls = PostgresColumn(.bool)
        for u in succeeded {
            sIDs.append(u.feedID)
            fps.append(u.fingerprint)
            etags.append(u.etag)
            lms.append(u.lastModified)
            gens.append(u.snapshotGeneration.map { Int64($0) })
            fulls.append(u.fullSync)
        }
        q = PostgresQuery(unsafeSQL: """
            UPDATE feeds f SET fingerprint = coalesce(u.fp, f.fingerprint), etag = coalesce(u.etag, f.etag),
              last_modified = coalesce(u.lm, f.last_modified), snapshot_generation = coalesce(u.gen, f.snapshot_generation),
              last_success_at = to_timestamp($7),
              last_full_sync_at = CASE WHEN u.is_full THEN to_timestamp($7) ELSE f.last_full_sync_at END
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::bool[]) AS u(id, fp, etag, lm, gen, is_full)
            WHERE f.id = u.id
            """)
        q.binds.append(sIDs); q.binds.append(fps); q.binds.append(etags); q.binds.append(lms)
        q.binds.append(gens); q.binds.append(fulls); q.binds.append(at)
        try await connection.query(q, logger: logger)

        // 3. The fields of the live rows about to be updated or removed: the change log's old values.
        var oldFields: [String: [String: ChangeFields]] = [:]
        var oldFeeds = PostgresColumn(.text), oldKeys = PostgresColumn(.text)
        for u in succeeded where !newFeeds.contains(u.feedID) {
            for r in u.updated { oldFeeds.append(u.feedID); oldKeys.append(r.key) }
            for key in u.removed { oldFeeds.append(u.feedID); oldKeys.append(key) }
        }
        if oldFeeds.count > 0 {
            q = PostgresQuery(unsafeSQL: """
                SELECT e.feed_id, e.record_key, e.all_day, e.start_ts, extract(epoch FROM e."end")::bigint,
                  e.start_date::text, e.end_date::text, e.last_end_ts, e.summary, e.description, e.location, e.status, e.data::text
                FROM unnest($1::text[], $2::text[]) AS k(feed_id, record_key)
                JOIN events e ON e.feed_id = k.feed_id AND e.record_key = k.record_key
                WHERE e.removed_at IS NULL
                """)
            q.binds.append(oldFeeds); q.binds.append(oldKeys)
            for try await (feed, key, allDay, start, end, sd, ed, lastEnd, summary, description, location, status, data)
                in try await connection.query(q, logger: logger).decode(
                    (String, String, Bool, Int64?, Int64?, String?, String?, Int64?, String?, String?, String?, String?, String?).self) {
                oldFields[feed, default: [:]][key] = ChangeFields(
                    start: allDay ? sd ?? start.map(ISOTime.format) : start.map(ISOTime.format),
                    end: allDay ? ed ?? end.map(ISOTime.format) : end.map(ISOTime.format),
                    startDate: sd, endDate: ed, allDay: allDay, lastEnd: lastEnd.map(ISOTime.format), summary: summary,
                    description: description, location: location, status: status, data: ChangeFields.canonicalData(data))
            }
        }

        // 4. Added and updated records, upserted; a row that would not change is not written.
        //    The change log is ordered as the SQLite store orders it: per feed, its additions and
        //    updates, then its removals (`ord`).
        var rows = EventColumns(), fresh = EventColumns()
        var log = ChangeColumns()
        var removals = ChangeColumns()
        var ord: Int64 = 0
        for u in succeeded {
            var keys = Set<String>()
            let isNew = newFeeds.contains(u.feedID)
            for (kind, records) in [("added", u.added), ("updated", u.updated)] {
                for r in records {
                    ord += 1
                    // An addition logs no values: its row holds them.
                    let before = kind == "updated" ? oldFields[u.feedID]?[r.key] : nil
                    let values = before.map { ChangeValues.updated(from: $0, to: ChangeFields(r)) }
                    log.append(feed: u.feedID, key: r.key, uid: r.uid, recurrenceID: r.recurrenceID, kind: kind, ord: ord,
                               old: values?.old, new: values?.new)
                    // The same key twice in one update (never made by the planner): the last one stands.
                    if keys.insert(r.key).inserted {
                        if isNew { fresh.append(u.feedID, r) } else { rows.append(u.feedID, r) }
                    } else {
                        if isNew { fresh.replace(u.feedID, r) } else { rows.replace(u.feedID, r) }
                    }
                }
            }
            for key in u.removed {
                ord += 1
                let before = oldFields[u.feedID]?[key]
                removals.append(feed: u.feedID, key: key, uid: nil, recurrenceID: nil, kind: "removed", ord: ord,
                                old: before.map(ChangeValues.removed), new: nil)
            }
        }
        let insertEvents = """
                INSERT INTO events AS e (feed_id, record_key, uid, recurrence_id, start, "end", start_date, end_date, last_end,
                  all_day, summary, description, location, status, record_hash, start_ts, last_end_ts,
                  first_seen_at, updated_at, removed_at, data, end_ts)
                SELECT feed_id, record_key, uid, recurrence_id, to_timestamp(start_ts), to_timestamp(end_ts),
                  start_date::date, end_date::date, to_timestamp(last_end_ts), all_day, summary, description, location,
                  status, record_hash, start_ts, last_end_ts, to_timestamp($17), to_timestamp($17),
                  CASE WHEN recurrence_id IS NOT NULL AND status = 'CANCELLED' THEN to_timestamp($17) END, data::jsonb,
                  end_ts
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[], $7::text[],
                            $8::text[], $9::int8[], $10::bool[], $11::text[], $12::text[], $13::text[], $14::text[],
                            $15::text[], $16::text[])
                  AS r(feed_id, record_key, uid, recurrence_id, start_ts, end_ts, start_date, end_date, last_end_ts,
                       all_day, summary, description, location, status, record_hash, data)

            """
        if fresh.count > 0 {
            q = PostgresQuery(unsafeSQL: insertEvents)
            fresh.bind(into: &q.binds)
            q.binds.append(at)
            try await connection.query(q, logger: logger)
        }
        if rows.count > 0 {
            q = PostgresQuery(unsafeSQL: insertEvents + """
                ON CONFLICT (feed_id, record_key) DO UPDATE SET uid = excluded.uid,
                  recurrence_id = excluded.recurrence_id, start = excluded.start, "end" = excluded."end",
                  start_date = excluded.start_date, end_date = excluded.end_date, last_end = excluded.last_end,
                  all_day = excluded.all_day, summary = excluded.summary, description = excluded.description,
                  location = excluded.location, status = excluded.status, record_hash = excluded.record_hash,
                  start_ts = excluded.start_ts, last_end_ts = excluded.last_end_ts, updated_at = excluded.updated_at,
                  removed_at = excluded.removed_at, data = excluded.data, end_ts = excluded.end_ts
                WHERE e.removed_at IS NOT NULL
                   OR (e.uid, e.recurrence_id, e.start, e."end", e.start_date, e.end_date, e.last_end, e.all_day,
                       e.summary, e.description, e.location, e.status, e.record_hash, e.data, e.end_ts)
                      IS DISTINCT FROM
                      (excluded.uid, excluded.recurrence_id, excluded.start, excluded."end", excluded.start_date,
                       excluded.end_date, excluded.last_end, excluded.all_day, excluded.summary, excluded.description,
                       excluded.location, excluded.status, excluded.record_hash, excluded.data, excluded.end_ts)
                """)
            rows.bind(into: &q.binds)
            q.binds.append(at)
            try await connection.query(q, logger: logger)
        }

        // 5. Removals flag live rows only, and the log gets one line per row that was live.
        if log.count > 0 || removals.count > 0 {
            q = PostgresQuery(unsafeSQL: """
                WITH gone AS (
                  UPDATE events e SET removed_at = to_timestamp($2), updated_at = to_timestamp($2)
                  FROM unnest($11::text[], $12::text[], $13::int8[], $14::text[]) AS d(feed_id, record_key, ord, old_values)
                  WHERE e.feed_id = d.feed_id AND e.record_key = d.record_key AND e.removed_at IS NULL
                  RETURNING e.feed_id, e.record_key, e.uid, e.recurrence_id, d.ord, d.old_values
                )
                INSERT INTO changes (run_id, feed_id, record_key, uid, recurrence_id, kind, at, old_values, new_values)
                SELECT $1, feed_id, record_key, uid, recurrence_id, kind, to_timestamp($2), old_values::jsonb, new_values::jsonb FROM (
                  SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int8[], $9::text[], $10::text[])
                    AS a(feed_id, record_key, uid, recurrence_id, kind, ord, old_values, new_values)
                  UNION ALL
                  SELECT feed_id, record_key, uid, recurrence_id, 'removed', ord, old_values, NULL FROM gone
                ) c ORDER BY ord
                """)
            q.binds.append(runID)
            q.binds.append(at)
            log.bind(into: &q.binds)
            removals.bindKeys(into: &q.binds)
            try await connection.query(q, logger: logger)
        }

        // 6. Occurrences: those of removed events, of the replaced series or of whole feeds go
        //    (the future ones), the new ones come, and each feed's `occurrences_until` is set.
        try await writeOccurrences(succeeded, newFeeds: newFeeds, at: at, on: connection, logger: logger)
    }

    /// `newFeeds`: the feeds whose row this transaction created, which have no occurrences yet:
    /// theirs are inserted without the conflict checks of an upsert.
    private static func writeOccurrences(_ part: [FeedUpdate], newFeeds: Set<String>, at: Int64,
                                         on connection: PostgresConnection, logger: Logger) async throws {
        var dropFeed = PostgresColumn(.text), dropKey = PostgresColumn(.text), dropFrom = PostgresColumn(.int8)
        var uidFeed = PostgresColumn(.text), uidValue = PostgresColumn(.text), uidFrom = PostgresColumn(.int8)
        var allFeed = PostgresColumn(.text), allFrom = PostgresColumn(.int8)
        var keepFeed = PostgresColumn(.text), keepKey = PostgresColumn(.text)
        var untilFeed = PostgresColumn(.text), untilValue = PostgresColumn(.int8)
        var o = OccurrenceColumns(), freshOccurrences = OccurrenceColumns(), refresh = RefreshColumns()
        for u in part {
            let from = u.occurrences?.from
            for key in u.removed {
                dropFeed.append(u.feedID); dropKey.append(key); dropFrom.append(from ?? at)
            }
            guard let occ = u.occurrences else { continue }
            if let uids = occ.uids {
                for uid in Set(uids) { uidFeed.append(u.feedID); uidValue.append(uid); uidFrom.append(occ.from) }
            } else {
                allFeed.append(u.feedID); allFrom.append(occ.from)
                for key in occ.keep { keepFeed.append(u.feedID); keepKey.append(key) }
            }
            if newFeeds.contains(u.feedID) {
                for r in occ.rows { freshOccurrences.append(u.feedID, r) }
            } else {
                for r in occ.rows { o.append(u.feedID, r) }
            }
            untilFeed.append(u.feedID); untilValue.append(occ.until)
            for r in occ.refresh where r.hasTimes { refresh.append(u.feedID, r) }
        }
        if dropFeed.count > 0 || uidFeed.count > 0 || allFeed.count > 0 {
            var q = PostgresQuery(unsafeSQL: """
                WITH by_key AS (
                  DELETE FROM occurrences o USING unnest($1::text[], $2::text[], $3::int8[]) AS d(feed_id, record_key, from_ts)
                  WHERE o.feed_id = d.feed_id AND o.record_key = d.record_key AND o.end_ts > d.from_ts RETURNING 1
                ), by_uid AS (
                  DELETE FROM occurrences o USING unnest($4::text[], $5::text[], $6::int8[]) AS d(feed_id, uid, from_ts)
                  WHERE o.feed_id = d.feed_id AND o.uid = d.uid AND o.end_ts > d.from_ts RETURNING 1
                ), by_feed AS (
                  DELETE FROM occurrences o USING unnest($7::text[], $8::int8[]) AS d(feed_id, from_ts)
                  WHERE o.feed_id = d.feed_id AND o.end_ts > d.from_ts
                    AND NOT EXISTS (SELECT 1 FROM unnest($9::text[], $10::text[]) AS k(feed_id, record_key)
                                    WHERE k.feed_id = o.feed_id AND k.record_key = o.record_key)
                  RETURNING 1
                )
                SELECT (SELECT count(*) FROM by_key) + (SELECT count(*) FROM by_uid) + (SELECT count(*) FROM by_feed)
                """)
            for c in [dropFeed, dropKey, dropFrom, uidFeed, uidValue, uidFrom, allFeed, allFrom, keepFeed, keepKey] { q.binds.append(c) }
            try await connection.query(q, logger: logger)
        }
        let insertOccurrences = """
            INSERT INTO occurrences (feed_id, record_key, uid, start, "end", start_ts, end_ts, start_date, end_date, all_day, cancelled)
            SELECT feed_id, record_key, uid, to_timestamp(start_ts), to_timestamp(end_ts), start_ts, end_ts,
              start_date::date, end_date::date, all_day, cancelled
            FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::text[], $7::text[], $8::bool[], $9::bool[])
              AS r(feed_id, record_key, uid, start_ts, end_ts, start_date, end_date, all_day, cancelled)

            """
        if freshOccurrences.count > 0 {
            var q = PostgresQuery(unsafeSQL: insertOccurrences)
            freshOccurrences.bind(into: &q.binds)
            try await connection.query(q, logger: logger)
        }
        if o.count > 0 {
            var q = PostgresQuery(unsafeSQL: insertOccurrences + """
                ON CONFLICT (feed_id, record_key, start_ts) DO UPDATE SET uid = excluded.uid, "end" = excluded."end",
                  end_ts = excluded.end_ts, start_date = excluded.start_date, end_date = excluded.end_date,
                  all_day = excluded.all_day, cancelled = excluded.cancelled
                """)
            o.bind(into: &q.binds)
            try await connection.query(q, logger: logger)
        }
        if untilFeed.count > 0 {
            var q = PostgresQuery(unsafeSQL: """
                UPDATE feeds f SET occurrences_until = u.until FROM unnest($1::text[], $2::int8[]) AS u(id, until)
                WHERE f.id = u.id AND f.occurrences_until IS DISTINCT FROM u.until
                """)
            q.binds.append(untilFeed); q.binds.append(untilValue)
            try await connection.query(q, logger: logger)
        }
        if refresh.count > 0 {
            var q = PostgresQuery(unsafeSQL: """
                UPDATE events e SET end_ts = r.end_ts, start_date = r.start_date::date, end_date = r.end_date::date
                FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], $5::text[]) AS r(feed_id, record_key, end_ts, start_date, end_date)
                WHERE e.feed_id = r.feed_id AND e.record_key = r.record_key
                  AND (e.end_ts, e.start_date, e.end_date) IS DISTINCT FROM (r.end_ts, r.start_date::date, r.end_date::date)
                """)
            refresh.bind(into: &q.binds)
            try await connection.query(q, logger: logger)
        }
    }

    func wrap<T>(_ code: StoreError.Code, _ what: String, _ body: () async throws -> T) async throws(StoreError) -> T {
        do {
            return try await body()
        } catch {
            throw PostgresFaults.explain(error, at: location, doing: what, code: code)
        }
    }
}

/// The columns of an events upsert.
private struct EventColumns {
    var feed = PostgresColumn(.text), key = PostgresColumn(.text), uid = PostgresColumn(.text)
    var rid = PostgresColumn(.text), start = PostgresColumn(.int8), end = PostgresColumn(.int8)
    var startDate = PostgresColumn(.text), endDate = PostgresColumn(.text), lastEnd = PostgresColumn(.int8)
    var allDay = PostgresColumn(.bool), summary = PostgresColumn(.text), description = PostgresColumn(.text)
    var location = PostgresColumn(.text), status = PostgresColumn(.text), hash = PostgresColumn(.text)
    var data = PostgresColumn(.text)
    /// Records written twice under one key, by feed and key: the last one replaces the earlier.
    var replaced: [String: FeedRecord] = [:]
    var order: [(String, FeedRecord)] = []

    var count: Int { order.count }

    mutating func append(_ feedID: String, _ r: FeedRecord) { order.append((feedID, r)) }

    mutating func replace(_ feedID: String, _ r: FeedRecord) {
        if let i = order.lastIndex(where: { $0.0 == feedID && $0.1.key == r.key }) { order[i] = (feedID, r) }
    }

    mutating func bind(into binds: inout PostgresBindings) {
        for (feedID, r) in order {
            feed.append(feedID)
            key.append(r.key)
            uid.append(r.uid)
            rid.append(r.recurrenceID)
            start.append(r.hasTimes ? r.start : nil)
            end.append(r.hasTimes ? r.end : nil)
            startDate.append(r.hasTimes ? r.startDateText : nil)
            endDate.append(r.hasTimes ? r.endDateText : nil)
            lastEnd.append(r.lastEnd)
            allDay.append(r.allDay)
            summary.append(r.summary)
            description.append(r.description)
            location.append(r.location)
            status.append(r.status)
            hash.append(hex64(r.hash))
            data.append(r.data.map(jsonForPostgres))
        }
        for c in [feed, key, uid, rid, start, end, startDate, endDate, lastEnd, allDay, summary, description,
                  location, status, hash, data] {
            binds.append(c)
        }
    }
}

/// `jsonb` cannot hold `\u0000` (PostgreSQL text cannot); such an escape becomes U+FFFD.
func jsonForPostgres(_ text: String) -> String {
    text.contains("\\u0000") ? text.replacingOccurrences(of: "\\u0000", with: "\\ufffd") : text
}

/// The columns of change-log lines.
private struct ChangeColumns {
    var feed = PostgresColumn(.text), key = PostgresColumn(.text), uid = PostgresColumn(.text)
    var rid = PostgresColumn(.text), kind = PostgresColumn(.text), ord = PostgresColumn(.int8)
    var old = PostgresColumn(.text), new = PostgresColumn(.text)
    var count: Int { feed.count }

    mutating func append(feed f: String, key k: String, uid u: String?, recurrenceID: String?, kind: String, ord o: Int64,
                         old before: String?, new after: String?) {
        feed.append(f)
        key.append(k)
        uid.append(u)
        rid.append(recurrenceID)
        self.kind.append(kind)
        ord.append(o)
        old.append(before.map(jsonForPostgres))
        new.append(after.map(jsonForPostgres))
    }

    func bind(into binds: inout PostgresBindings) {
        for c in [feed, key, uid, rid, kind, ord, old, new] { binds.append(c) }
    }

    func bindKeys(into binds: inout PostgresBindings) {
        for c in [feed, key, ord, old] { binds.append(c) }
    }
}

/// The columns of an occurrences insert.
private struct OccurrenceColumns {
    var feed = PostgresColumn(.text), key = PostgresColumn(.text), uid = PostgresColumn(.text)
    var start = PostgresColumn(.int8), end = PostgresColumn(.int8), startDate = PostgresColumn(.text)
    var endDate = PostgresColumn(.text), allDay = PostgresColumn(.bool), cancelled = PostgresColumn(.bool)
    /// One row per key and start (an insert may not touch a row twice).
    private struct Key: Hashable { var feed: String, key: String, start: Int64 }
    private var seen = Set<Key>()
    var count: Int { feed.count }

    mutating func append(_ feedID: String, _ r: OccurrenceRow) {
        guard seen.insert(Key(feed: feedID, key: r.recordKey, start: r.start)).inserted else { return }
        feed.append(feedID)
        key.append(r.recordKey)
        uid.append(r.uid)
        start.append(r.start)
        end.append(r.end)
        startDate.append(ISOTime.formatDay(r.startDay))
        endDate.append(ISOTime.formatDay(r.endDay))
        allDay.append(r.allDay)
        cancelled.append(r.cancelled)
    }

    func bind(into binds: inout PostgresBindings) {
        for c in [feed, key, uid, start, end, startDate, endDate, allDay, cancelled] { binds.append(c) }
    }
}

/// The derived columns of events rows written before they existed.
private struct RefreshColumns {
    var feed = PostgresColumn(.text), key = PostgresColumn(.text), end = PostgresColumn(.int8)
    var startDate = PostgresColumn(.text), endDate = PostgresColumn(.text)
    var count: Int { feed.count }

    mutating func append(_ feedID: String, _ r: FeedRecord) {
        feed.append(feedID)
        key.append(r.key)
        end.append(r.end)
        startDate.append(r.startDateText)
        endDate.append(r.endDateText)
    }

    func bind(into binds: inout PostgresBindings) {
        for c in [feed, key, end, startDate, endDate] { binds.append(c) }
    }
}

/// One run at a time on a PostgreSQL store: a session advisory lock held on a connection of its
/// own for as long as the run lasts. The server lets go of it when that connection ends, however
/// the process ends, so a crash leaves no stale lock.
public final class PostgresRunLock: Sendable {
    private let connection: PostgresConnection
    static let key: Int32 = 2

    init(connection: PostgresConnection) { self.connection = connection }

    /// Lets go of the lock, then of its connection (the server would drop the lock with the
    /// connection too, but only once it has noticed the close).
    public func release() async {
        _ = try? await connection.query(
            "SELECT pg_advisory_unlock(\(PostgresStore.lockSpace), \(Self.key))", logger: PostgresStore.quiet)
        try? await connection.close()
    }
}

extension PostgresStore {
    /// Takes the store's run lock, or says who holds it (the holder's `application_name`:
    /// `feedsync pid N on HOST`, and since when).
    public func lockRun() async throws(StoreError) -> PostgresRunLock {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                configuration: try Self.connectionConfiguration(location, busyTimeout: busyTimeout), id: 1, logger: logger)
        } catch {
            throw PostgresFaults.explain(error, at: location, doing: "take the run lock", code: .cannotOpen)
        }
        do {
            var got = false
            for try await ok in try await connection.query(
                "SELECT pg_try_advisory_lock(\(Self.lockSpace), \(PostgresRunLock.key))", logger: logger).decode(Bool.self) {
                got = ok
            }
            if got { return PostgresRunLock(connection: connection) }
            var holder = "another session"
            let rows = try await connection.query("""
                SELECT a.application_name, to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted AND l.classid = \(Int64(Self.lockSpace))::oid
                  AND l.objid = \(Int64(PostgresRunLock.key))::oid AND l.objsubid = 2
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """, logger: logger)
            for try await (name, since) in rows.decode((String?, String?).self) {
                holder = "\(name?.isEmpty == false ? name! : "a session")" + (since.map { ", connected since \($0)" } ?? "")
            }
            try? await connection.close()
            throw StoreError(.locked, "another feedsync run holds the run lock of the PostgreSQL store \(location) (\(holder))")
        } catch let error as StoreError {
            throw error
        } catch {
            try? await connection.close()
            throw PostgresFaults.explain(error, at: location, doing: "take the run lock", code: .cannotOpen)
        }
    }

    /// A single connection's settings (the pool has its own, alike).
    static func connectionConfiguration(_ location: PostgresLocation, busyTimeout: Double) throws -> PostgresConnection.Configuration {
        var config: PostgresConnection.Configuration
        if let socket = location.socketPath {
            config = .init(unixSocketPath: socket, username: location.user, password: location.password, database: location.database)
        } else {
            config = .init(host: location.host ?? "127.0.0.1", port: location.port, username: location.user,
                           password: location.password, database: location.database, tls: try Self.tls(location).0)
        }
        config.options.connectTimeout = .seconds(10)
        config.options.additionalStartupParameters = Self.startupParameters(busyTimeout: busyTimeout)
        return config
    }
}
