import Foundation
import GRDB
import PostgresTestSupport
import Snapshots
import Testing

/// The same nights through the real binary, once on SQLite and once on a real PostgreSQL server
/// (started by the tests): the reports agree feed by feed, and a normalised dump of `events`,
/// `changes`, `feeds` and `runs` is the same after every night.
@Suite("SQLite and PostgreSQL leave the same rows, end to end", .serialized)
struct StoreParityTests {
    /// One scenario run on both stores side by side, night by night.
    struct Pair {
        let sqlite: Harness
        let postgres: Harness
        let url: String
        /// PostgreSQL keeps the snapshots in its table (else in a folder, as SQLite does).
        let inStore: Bool
        /// Text that differs between the two sides by construction (their folders, their API
        /// servers' ports), replaced before comparing.
        var sqliteAliases: [String] = []
        var postgresAliases: [String] = []

        /// `config` names no store and no snapshot folder.
        init(_ name: String, config: String, snapshotsInStore: Bool) async throws {
            sqlite = try Harness("\(name)-sqlite")
            postgres = try Harness("\(name)-pg")
            url = try await PostgresTestServer.shared.newDatabase(name)
            inStore = snapshotsInStore
            sqliteAliases = [sqlite.dir.path]
            postgresAliases = [postgres.dir.path]
            try configure(sqlite: config, postgres: config)
        }

        /// Writes each side's configuration (without store and snapshot settings).
        func configure(sqlite a: String, postgres b: String) throws {
            try sqlite.write("feedsync.yml", "store: sqlite:feedsync.sqlite\nsnapshots: snapshots\n" + a)
            try postgres.write("feedsync.yml", "store: \(url)\n" + (inStore ? "" : "snapshots: snapshots\n") + b)
        }

        func normalise(_ text: String, _ aliases: [String]) -> String {
            aliases.reduce(text) { $0.replacingOccurrences(of: $1, with: "ALIAS") }
        }

        /// Every snapshot, by its file name, with its bytes (hex): the same bytes on both sides.
        func snapshots(_ h: Harness, fromTable: Bool) async throws -> [String] {
            if fromTable {
                return try await PostgresTestServer.shared.rows(
                    "SELECT feed_id, generation, encode(bytes, 'hex') FROM snapshots", url: url)
                    .map { "\(SnapshotDirectory.fileName(feedID: $0[0]!, generation: UInt64($0[1]!)!)) \($0[2]!)" }.sorted()
            }
            return try h.snapshotFiles().map { name in
                let bytes = try Data(contentsOf: h.dir.appendingPathComponent("snapshots/\(name)"))
                return "\(name) \(bytes.map { String(format: "%02x", $0) }.joined())"
            }.sorted()
        }

        func cleanUp() {
            sqlite.cleanUp()
            postgres.cleanUp()
        }

        /// Writes a feed file in both folders.
        func write(_ path: String, _ text: String) throws {
            try sqlite.write(path, text)
            try postgres.write(path, text)
        }

        func writeBytes(_ path: String, _ bytes: [UInt8]) throws {
            try sqlite.writeBytes(path, bytes)
            try postgres.writeBytes(path, bytes)
        }

        func remove(_ path: String) throws {
            try sqlite.remove(path)
            try postgres.remove(path)
        }

        /// One night on both; the exit status, the report and the rows must agree.
        func night(_ now: String, _ extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let (a, ra) = try sqlite.night(now, extra)
            let (b, rb) = try postgres.night(now, extra)
            #expect(a.status == b.status, "\(now): exit \(a.status) on SQLite, \(b.status) on PostgreSQL: \(b.stderr)",
                    sourceLocation: sourceLocation)
            #expect(Self.summary(ra).map { normalise($0, sqliteAliases) } == Self.summary(rb).map { normalise($0, postgresAliases) },
                    "\(now): the reports differ", sourceLocation: sourceLocation)
            let sa = try sqliteDump().mapValues { $0.map { normalise($0, sqliteAliases) } }
            let sb = try await postgresDump().mapValues { $0.map { normalise($0, postgresAliases) } }
            #expect(Set(sa.keys) == Set(sb.keys))
            for table in sa.keys.sorted() {
                let a = sa[table] ?? [], b = sb[table] ?? []
                #expect(a == b, "\(now): table \(table) differs\nonly SQLite: \(a.filter { !b.contains($0) })\nonly PostgreSQL: \(b.filter { !a.contains($0) })",
                        sourceLocation: sourceLocation)
            }
            #expect(!(sa["events"] ?? []).isEmpty, sourceLocation: sourceLocation)
            let (snapA, snapB) = (try await snapshots(sqlite, fromTable: false), try await snapshots(postgres, fromTable: inStore))
            #expect(snapA == snapB, "\(now): the snapshots differ: \(snapA.map { $0.prefix(40) }) vs \(snapB.map { $0.prefix(40) })",
                    sourceLocation: sourceLocation)
            if inStore {
                #expect(!FileManager.default.fileExists(atPath: postgres.dir.appendingPathComponent("snapshots").path),
                        "snapshots in the store: no folder", sourceLocation: sourceLocation)
            }
        }

        static func summary(_ r: Report) -> [String] {
            r.feeds.map { "\($0.id) \($0.status) \($0.sync_type) (\($0.reason)) +\($0.added) ~\($0.updated) -\($0.removed) p\($0.past_skipped) \($0.error ?? "")" }
                .sorted()
        }

        /// Rows as text, one line each, in a stable order.
        func sqliteDump() throws -> [String: [String]] {
            func lines(_ sql: String) throws -> [String] {
                try sqlite.rows(sql).map { row in
                    row.databaseValues.map { v in v.isNull ? "∅" : String(describing: v.storage.value.map { "\($0)" } ?? "∅") }
                        .joined(separator: " | ")
                }
            }
            var out: [String: [String]] = [:]
            out["events"] = try lines("""
                SELECT feed_id, record_key, uid, recurrence_id, start, "end", last_end, all_day, summary, description,
                  location, status, record_hash, start_ts, last_end_ts, first_seen_at, updated_at, removed_at
                FROM events ORDER BY feed_id, record_key
                """)
            out["data"] = try sqlite.rows("SELECT feed_id, record_key, data FROM events WHERE data IS NOT NULL ORDER BY feed_id, record_key")
                .map { "\($0["feed_id"] as String) \($0["record_key"] as String) \(Self.json($0["data"] as String))" }
            out["changes"] = try lines("""
                SELECT run_id, feed_id, record_key, uid, recurrence_id, kind, at FROM changes
                ORDER BY run_id, feed_id, record_key, kind
                """)
            out["values"] = try sqlite.rows("""
                SELECT run_id, feed_id, record_key, kind, old_values, new_values FROM changes ORDER BY run_id, feed_id, record_key, kind
                """).map { r in
                let old: String? = r["old_values"], new: String? = r["new_values"]
                return "\(r["run_id"] as Int64) \(r["feed_id"] as String) \(r["record_key"] as String) \(r["kind"] as String) "
                    + "\(old.map(Self.json) ?? "∅") \(new.map(Self.json) ?? "∅")"
            }
            out["days"] = try lines("SELECT feed_id, record_key, end_ts, start_date, end_date FROM events ORDER BY feed_id, record_key")
            out["occurrences"] = try lines("""
                SELECT feed_id, record_key, uid, start, "end", start_ts, end_ts, start_date, end_date, all_day, cancelled
                FROM occurrences ORDER BY feed_id, record_key, start_ts
                """)
            out["feeds"] = try lines("""
                SELECT id, url_redacted, property, fingerprint, etag, last_modified, snapshot_generation, last_success_at,
                  last_full_sync_at, last_status, last_error, occurrences_until FROM feeds ORDER BY id
                """)
            out["runs"] = try lines("""
                SELECT id, mode, now, status, feeds_total, feeds_unchanged, feeds_changed, feeds_failed, events_added,
                  events_updated, events_removed, events_past_skipped FROM runs ORDER BY id
                """)
            return out
        }

        /// The same columns from PostgreSQL, written as SQLite writes them.
        func postgresDump() async throws -> [String: [String]] {
            let server = PostgresTestServer.shared
            func instant(_ column: String) -> String {
                "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            }
            func lines(_ sql: String) async throws -> [String] {
                try await server.rows(sql, url: url).map { $0.map { $0 ?? "∅" }.joined(separator: " | ") }
            }
            var out: [String: [String]] = [:]
            out["events"] = try await lines("""
                SELECT feed_id, record_key, uid, recurrence_id,
                  CASE WHEN all_day THEN to_char(start_date, 'YYYY-MM-DD') ELSE \(instant("start")) END,
                  CASE WHEN all_day THEN to_char(end_date, 'YYYY-MM-DD') ELSE \(instant("\"end\"")) END,
                  \(instant("last_end")), CASE WHEN all_day THEN 1 ELSE 0 END, summary, description, location, status,
                  record_hash, start_ts, last_end_ts, \(instant("first_seen_at")), \(instant("updated_at")), \(instant("removed_at"))
                FROM events ORDER BY feed_id COLLATE "C", record_key COLLATE "C"
                """)
            out["data"] = try await server.rows("SELECT feed_id, record_key, data::text FROM events WHERE data IS NOT NULL ORDER BY feed_id COLLATE \"C\", record_key COLLATE \"C\"", url: url)
                .map { "\($0[0]!) \($0[1]!) \(Self.json($0[2]!))" }
            out["changes"] = try await lines("""
                SELECT run_id, feed_id, record_key, uid, recurrence_id, kind, \(instant("at")) FROM changes
                ORDER BY run_id, feed_id COLLATE "C", record_key COLLATE "C", kind COLLATE "C"
                """)
            out["values"] = try await server.rows("""
                SELECT run_id, feed_id, record_key, kind, old_values::text, new_values::text FROM changes
                ORDER BY run_id, feed_id COLLATE "C", record_key COLLATE "C", kind COLLATE "C"
                """, url: url).map { "\($0[0]!) \($0[1]!) \($0[2]!) \($0[3]!) \($0[4].map(Self.json) ?? "∅") \($0[5].map(Self.json) ?? "∅")" }
            out["days"] = try await lines("""
                SELECT feed_id, record_key, end_ts, to_char(start_date, 'YYYY-MM-DD'), to_char(end_date, 'YYYY-MM-DD')
                FROM events ORDER BY feed_id COLLATE "C", record_key COLLATE "C"
                """)
            out["occurrences"] = try await lines("""
                SELECT feed_id, record_key, uid,
                  CASE WHEN all_day THEN to_char(start_date, 'YYYY-MM-DD') ELSE \(instant("start")) END,
                  CASE WHEN all_day THEN to_char(end_date, 'YYYY-MM-DD') ELSE \(instant("\"end\"")) END,
                  start_ts, end_ts, to_char(start_date, 'YYYY-MM-DD'), to_char(end_date, 'YYYY-MM-DD'),
                  CASE WHEN all_day THEN 1 ELSE 0 END, CASE WHEN cancelled THEN 1 ELSE 0 END
                FROM occurrences ORDER BY feed_id COLLATE "C", record_key COLLATE "C", start_ts
                """)
            out["feeds"] = try await lines("""
                SELECT id, url_redacted, property, fingerprint, etag, last_modified, snapshot_generation,
                  \(instant("last_success_at")), \(instant("last_full_sync_at")), last_status, last_error, occurrences_until
                FROM feeds ORDER BY id COLLATE "C"
                """)
            out["runs"] = try await lines("""
                SELECT id, mode, \(instant("now")), status, feeds_total, feeds_unchanged, feeds_changed, feeds_failed,
                  events_added, events_updated, events_removed, events_past_skipped FROM runs ORDER BY id
                """)
            return out
        }

        /// JSON text in one spelling (members sorted), so canonical JSON and jsonb's output compare.
        static func json(_ text: String) -> String {
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
                  let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed]) else {
                return "unreadable JSON: \(text)"
            }
            return String(decoding: data, as: UTF8.self)
        }
    }

    typealias N = NightlyScenarioTests

    func writeAll(_ p: Pair, stamp: String, airbnb: ICS = N.airbnb(), vrbo: ICS = N.vrbo(), booking: ICS = N.booking(),
                  google: ICS = N.google()) throws {
        try p.write("feeds/airbnb.ics", airbnb.text(stamp: stamp))
        try p.write("feeds/vrbo.ics", vrbo.text(stamp: stamp))
        try p.write("feeds/booking.ics", booking.text(stamp: stamp))
        try p.write("feeds/google.ics", google.text(stamp: stamp))
    }

    @Test("the six iCalendar nights: first sync, edits, failures, the guard, a full sync, a quiet night",
          arguments: [true, false])
    func icalendarNights(snapshotsInStore: Bool) async throws {
        let config = N.config.split(separator: "\n").filter { !$0.hasPrefix("store:") && !$0.hasPrefix("snapshots:") }
            .joined(separator: "\n") + "\n"
        let p = try await Pair("ics", config: config, snapshotsInStore: snapshotsInStore)
        defer { p.cleanUp() }
        try writeAll(p, stamp: "20261101T020000Z")
        try await p.night("2026-11-01T02:00:00Z")

        let edited = N.airbnb(a1Summary: "Reserved (edited late)", a3Summary: "Reserved - extended", withA4: false, withA6: true)
        try writeAll(p, stamp: "20261102T020000Z", airbnb: edited, booking: N.booking(withB3: false),
                     google: N.google(overrideSummary: "Team sync (moved again)", crlf: false, foldAt: 40))
        try await p.night("2026-11-02T02:00:00Z")

        try writeAll(p, stamp: "20261103T020000Z", airbnb: edited, booking: N.booking(withB3: false),
                     google: N.google(overrideSummary: "Team sync (moved again)"))
        try p.remove("feeds/vrbo.ics")
        let full = Array(N.booking(withB3: false).text(stamp: "20261103T020000Z").utf8)
        try p.writeBytes("feeds/booking.ics", Array(full.prefix(full.count * 2 / 3)))
        try await p.night("2026-11-03T02:00:00Z")

        try writeAll(p, stamp: "20261104T020000Z", airbnb: N.airbnb(a1Summary: "Reserved (edited late)", allButOne: true),
                     booking: N.booking(withB3: false, withB4: true), google: N.google(empty: true))
        try await p.night("2026-11-04T02:00:00Z")

        try writeAll(p, stamp: "20261105T020000Z", airbnb: edited, booking: N.booking(withB3: false, withB4: true),
                     google: N.google(overrideSummary: "Team sync (moved again)"))
        try await p.night("2026-11-05T02:00:00Z", ["--force-full-sync"])

        try writeAll(p, stamp: "20261106T020000Z", airbnb: edited, booking: N.booking(withB3: false, withB4: true),
                     google: N.google(overrideSummary: "Team sync (moved again)"))
        let updatesBefore = try await PostgresTestServer.shared.psql(
            "SELECT pg_stat_force_next_flush(); SELECT n_tup_upd, n_tup_ins FROM pg_stat_user_tables WHERE relname = 'events'", url: p.url)
        try await p.night("2026-11-06T02:00:00Z")
        // A quiet night writes no row version of `events` (statistics are flushed when a
        // session ends; the run's sessions have ended).
        try await Task.sleep(for: .milliseconds(700))
        let updatesAfter = try await PostgresTestServer.shared.psql(
            "SELECT pg_stat_force_next_flush(); SELECT n_tup_upd, n_tup_ins FROM pg_stat_user_tables WHERE relname = 'events'", url: p.url)
        #expect(updatesBefore == updatesAfter)
        #expect(!updatesAfter.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }

    @Test("JSON and CSV feeds: adds, edits, removals, reordering and volatile fields, a malformed body")
    func recordNights() async throws {
        let config = RecordFeedTests.config
        let p = try await Pair("records", config: config, snapshotsInStore: true)
        defer { p.cleanUp() }
        typealias R = RecordFeedTests
        try p.write("feeds/races.json", R.races(R.night1Events))
        try p.write("feeds/members.csv", "club,member_id,name,joined\r\nA,1,\"Smith, Ann\",2020\r\nA,2,Bob,2021\r\nB,1,Cleo,2022\r\n")
        try p.write("feeds/calendar.ics", N.airbnb().text())
        try await p.night("2026-11-23T02:00:00Z")
        try p.write("feeds/races.json", R.races(R.night1Events, stamp: 2))
        try await p.night("2026-11-23T14:00:00Z")
        try p.write("feeds/races.json", R.races(R.night1Events.reversed(), stamp: 3, indent: true))
        try p.write("feeds/members.csv", "club,member_id,name,joined\nB,1,Cleo,2022\nA,2,Bob,2021\nA,1,\"Smith, Ann\",2020\n")
        try await p.night("2026-11-24T02:00:00Z")
        try p.write("feeds/races.json", R.races([(102, "10K Classic", "12/5/2026 09:00", "12/5/2026 11:00"),
                                                 (104, "Kids run", "12/7/2026 09:00", "12/7/2026 09:30")], stamp: 4))
        try p.write("feeds/members.csv", "club,member_id,name,joined\nA,1,\"Smith, Ann\",2020\nA,2,Bob,2023\nB,1,Cleo,2022\n")
        try await p.night("2026-11-25T02:00:00Z")
        try p.write("feeds/races.json", "{\"race\": {\"events\": [\n{\"event_id\": 102,}\n]}}")
        try p.write("feeds/members.csv", "club,member_id,name,joined\nA,1,\"Smith\n")
        try await p.night("2026-11-26T02:00:00Z")
        try await p.night("2026-11-27T02:00:00Z", ["--force-full-sync"])
    }

    @Test("children from a race API: future events only, {since} deltas, a fallback, a stale and a forced night")
    func raceAPINights() async throws {
        typealias A = RaceAPITests
        var p = try await Pair("race", config: "feeds: []\n", snapshotsInStore: true)
        defer { p.cleanUp() }
        try p.write("feeds/calendar.ics", N.airbnb().text())
        var api = A.initial
        try api.write(p.sqlite)
        try api.write(p.postgres)
        // Each side has its API server (it counts what it was asked), on a port of its own.
        let sqliteServer = try FeedServer.start("race_api.py", [p.sqlite.dir.appendingPathComponent("api.json").path,
                                                                p.sqlite.dir.appendingPathComponent("api.log").path])
        defer { sqliteServer.stop() }
        let postgresServer = try FeedServer.start("race_api.py", [p.postgres.dir.appendingPathComponent("api.json").path,
                                                                  p.postgres.dir.appendingPathComponent("api.log").path])
        defer { postgresServer.stop() }
        try p.configure(sqlite: A().config(sqliteServer.port), postgres: A().config(postgresServer.port))
        p.sqliteAliases.append("127.0.0.1:\(sqliteServer.port)")
        p.postgresAliases.append("127.0.0.1:\(postgresServer.port)")
        func publish() throws {
            try api.write(p.sqlite)
            try api.write(p.postgres)
        }
        try await p.night("2026-11-23T02:00:00Z")
        api.participants["102"]![2] = A.person(13, "Runner Three", modified: A.night1 + 3_600)
        api.participants["102"]![3] = A.person(14, "Runner 4", modified: A.night1 + 3_600)
        api.events.append(A.event(104, "Relay", "12/7/2026 09:00", "12/7/2026 12:00"))
        api.participants["104"] = [A.person(31, "Leg A"), A.person(32, "Leg B")]
        try publish()
        try await p.night("2026-11-24T02:00:00Z")
        api.failIncremental = [103]
        try publish()
        try await p.night("2026-11-25T02:00:00Z")
        api.failIncremental = []
        try publish()
        try await p.night("2026-12-05T20:00:00Z")
        api.participants["104"] = [A.person(31, "Leg A")]
        try publish()
        try await p.night("2026-12-05T21:00:00Z", ["--force-full-sync", "--allow-mass-removal"])
        try await p.night("2026-12-14T12:00:00Z")
    }
}
