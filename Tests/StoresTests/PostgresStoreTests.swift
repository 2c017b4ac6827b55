import FeedModel
import Foundation
import PostgresTestSupport
import Testing
@testable import Stores

@Suite("PostgreSQL store URL")
struct PostgresLocationTests {
    @Test("a URL gives user, password, host, port, database and sslmode; libpq's defaults apply")
    func parses() throws {
        let a = try PostgresLocation.parse("postgres://sync:s%40cret@db.example.com:6543/bookings?sslmode=require")
        #expect(a.user == "sync" && a.password == "s@cret" && a.host == "db.example.com" && a.port == 6543)
        #expect(a.database == "bookings" && a.sslMode == .require && a.socketPath == nil)
        let b = try PostgresLocation.parse("postgresql://sync@localhost/bookings", password: "fromfile")
        #expect(b.port == 5432 && b.sslMode == .prefer && b.password == "fromfile")
        let c = try PostgresLocation.parse("postgres://sync@[::1]:5433/b")
        #expect(c.host == "::1" && c.port == 5433)
        let d = try PostgresLocation.parse("postgres://sync@/b?host=/var/run/postgresql")
        #expect(d.socketPath == "/var/run/postgresql/.s.PGSQL.5432" && d.host == nil)
        // A password in the URL wins over the one from password_file or PGPASSWORD.
        #expect(try PostgresLocation.parse("postgres://u:inurl@h/db", password: "other").password == "inurl")
    }

    @Test("the password is never shown: not in the description, not in an error")
    func redacts() throws {
        let a = try PostgresLocation.parse("postgres://sync:hunter2@db:5432/b?sslmode=disable&password=x")
        #expect(a.description == "postgres://sync:…@db:5432/b?sslmode=disable&password=…")
        #expect(!StoreLocation.postgres(a).description.contains("hunter2"))
        do {
            _ = try PostgresLocation.parse("postgres://sync:hunter2@db:99999/b")
            Issue.record("a bad port must fail")
        } catch {
            #expect(error.message.contains("port") && !error.message.contains("hunter2"))
        }
    }

    @Test("what is missing or wrong is said", arguments: [
        ("postgres://db:5432/b", "no user"),
        ("postgres://u@db:5432/", "no database"),
        ("postgres://u@db/b?sslmode=sometimes", "unknown sslmode"),
        ("postgres://u@db/b?fast=yes", "unknown parameter `fast`"),
        ("postgres://u@:5432/b", "no host"),
    ])
    func refuses(_ url: String, _ why: String) {
        do {
            _ = try PostgresLocation.parse(url)
            Issue.record("\(url) must be refused")
        } catch {
            #expect(error.message.contains(why), "\(error.message)")
        }
    }
}

@Suite("PostgreSQL store, its own rules")
struct PostgresStoreTests {
    let server = PostgresTestServer.shared

    func record(_ key: String, hash: UInt64, summary: String? = nil, allDay: Bool = false, data: String? = nil) -> FeedRecord {
        var r = FeedRecord(key: key, uid: key, recurrenceID: nil, hash: hash, start: 1_850_000_000, end: 1_850_086_400,
                           lastEnd: 1_850_086_400, allDay: allDay, summary: summary ?? "S \(key)", body: [])
        if allDay {
            r.startDate = "2028-08-18"
            r.endDate = "2028-08-19"
        }
        r.data = data
        return r
    }

    func update(_ records: [FeedRecord], updated: [FeedRecord] = [], generation: UInt64 = 1) -> FeedUpdate {
        FeedUpdate(feedID: "f", urlRedacted: "https://h/f.ics", property: "Flat", status: .changed,
                   fingerprint: "aa", snapshotGeneration: generation, added: records, updated: updated)
    }

    @Test("several processes opening a new database at once migrate it once")
    func concurrentMigrations() async throws {
        let url = try await server.newDatabase("migrate")
        let location = try PostgresLocation.parse(url)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<6 {
                group.addTask { await (try PostgresStore.open(location)).close() }
            }
            try await group.waitForAll()
        }
        let versions = try await server.psql("SELECT version FROM feedsync_migrations ORDER BY version", url: url)
        #expect(versions.split(separator: "\n") == (1...PostgresSchema.current).map { Substring(String($0)) })
    }

    @Test("an upsert that changes nothing writes no row version; one that changes a field writes one")
    func quietUpsert() async throws {
        let url = try await server.newDatabase("quiet")
        let store = try await PostgresStore.open(try PostgresLocation.parse(url))
        let run = try await store.beginRun(mode: .full, startedAt: 100, now: 100)
        try await store.apply([update([record("a", hash: 1), record("b", hash: 2)])], runID: run, at: 200)
        let before = try await server.psql("SELECT record_key, xmin FROM events ORDER BY 1", url: url)
        try await store.apply([update([], updated: [record("a", hash: 1), record("b", hash: 2)])], runID: run, at: 300)
        #expect(try await server.psql("SELECT record_key, xmin FROM events ORDER BY 1", url: url) == before)
        try await store.apply([update([], updated: [record("b", hash: 3)])], runID: run, at: 400)
        let after = try await server.psql("SELECT record_key, xmin FROM events ORDER BY 1", url: url)
        let lines = after.split(separator: "\n"), old = before.split(separator: "\n")
        #expect(lines[0] == old[0] && lines[1] != old[1])
        await store.close()
    }

    @Test("PostgreSQL's types: instants as timestamptz, all-day dates as date, data as jsonb")
    func types() async throws {
        let url = try await server.newDatabase("types")
        let store = try await PostgresStore.open(try PostgresLocation.parse(url))
        let run = try await store.beginRun(mode: .full, startedAt: 100, now: 100)
        try await store.apply([update([record("day", hash: 1, allDay: true),
                                       record("rec", hash: 2, data: #"{"bib":12345678901234567,"name":"Ann"}"#)])],
                              runID: run, at: 1_800_000_000)
        let rows = try await server.psql("""
            SELECT record_key, start, start_date, end_date, all_day, data->>'name', data->'bib', first_seen_at
            FROM events ORDER BY 1
            """, url: url)
        #expect(rows.split(separator: "\n") == [
            "day|2028-08-16 00:53:20+00|2028-08-18|2028-08-19|t|||2027-01-15 08:00:00+00",
            "rec|2028-08-16 00:53:20+00|||f|Ann|12345678901234567|2027-01-15 08:00:00+00",
        ])
        await store.close()
    }

    @Test("a NUL in a stranger's text or JSON is stored as U+FFFD, not a failed batch")
    func nulBytes() async throws {
        let url = try await server.newDatabase("nul")
        let store = try await PostgresStore.open(try PostgresLocation.parse(url))
        let run = try await store.beginRun(mode: .full, startedAt: 100, now: 100)
        try await store.apply([update([record("n", hash: 1, summary: "a\u{0}b", data: #"{"x":"\u0000"}"#)])], runID: run, at: 200)
        #expect(try await server.psql("SELECT summary = 'a' || chr(65533) || 'b', data->>'x' = chr(65533) FROM events", url: url)
            .trimmingCharacters(in: .whitespacesAndNewlines) == "t|t")
        await store.close()
    }

    @Test("a batch of 25,000 records (more than the runner ever sends) is written in one transaction")
    func bigBatch() async throws {
        let url = try await server.newDatabase("big")
        let store = try await PostgresStore.open(try PostgresLocation.parse(url))
        let run = try await store.beginRun(mode: .full, startedAt: 100, now: 100)
        let records = (0..<25_000).map { record("k\($0)", hash: UInt64($0)) }
        try await store.apply([update(records)], runID: run, at: 200)
        #expect(try await store.priorRecords(feedID: "f").count == 25_000)
        #expect(try await store.changes(runID: run).count == 25_000)
        await store.close()
    }

    @Test("a server that is not there, or a database that does not exist, is said in one sentence")
    func cannotOpen() async throws {
        let url = try await server.newDatabase("open")
        let port = PostgresTestServer.freePort()
        do throws(StoreError) {
            _ = try await PostgresStore.open(try PostgresLocation.parse("postgres://feedsync:pw@127.0.0.1:\(port)/x"))
            Issue.record("nothing listens there")
        } catch {
            #expect(error.code == .cannotOpen)
            #expect(error.message.hasPrefix("cannot connect to the PostgreSQL server postgres://feedsync:…@127.0.0.1:\(port)/x: connection refused"),
                    "\(error.message)")
        }
        let missing = url.replacingOccurrences(of: "/fs_", with: "/nosuch_")
        do throws(StoreError) {
            _ = try await PostgresStore.open(try PostgresLocation.parse(missing))
            Issue.record("no such database")
        } catch {
            #expect(error.code == .cannotOpen && error.message.contains("has no database `nosuch_"), "\(error.message)")
        }
        // Read-only opening of a database no run has written: no store yet, and nothing created.
        #expect(try await PostgresStore.openReadOnly(try PostgresLocation.parse(url)) == nil)
        #expect(try await server.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", url: url)
            .trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    @Test("one run at a time: a second run is told who holds the store's run lock; it is free again when released")
    func runLock() async throws {
        let url = try await server.newDatabase("lock")
        let a = try await PostgresStore.open(try PostgresLocation.parse(url))
        let b = try await PostgresStore.open(try PostgresLocation.parse(url))
        let held = try await a.lockRun()
        do throws(StoreError) {
            _ = try await b.lockRun()
            Issue.record("the lock is held")
        } catch {
            #expect(error.code == .locked)
            #expect(error.message.contains("another feedsync run holds the run lock of the PostgreSQL store"), "\(error.message)")
            #expect(error.message.contains("feedsync pid \(getpid()) on "), "\(error.message)")
        }
        await held.release()
        let again = try await b.lockRun()
        await again.release()
        await a.close()
        await b.close()
    }

    @Test("snapshots added by a run are written in the transaction of its batch, older generations deleted there")
    func snapshotsInTheBatch() async throws {
        let url = try await server.newDatabase("snapbatch")
        let store = try await PostgresStore.open(try PostgresLocation.parse(url))
        let table = store.snapshotTable
        let run = try await store.beginRun(mode: .full, startedAt: 100, now: 100)
        try await table.add([1, 2, 3], feedID: "f", generation: 1)
        try await table.add([9], feedID: "g", generation: 1)
        #expect(try await server.psql("SELECT count(*) FROM snapshots", url: url).trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        // g failed: its snapshot is dropped; f's lands with its rows.
        var failed = update([record("z", hash: 1)])
        failed.feedID = "g"
        failed.status = .failed
        try await store.apply([update([record("a", hash: 1)]), failed], runID: run, at: 200)
        #expect(try await server.psql("SELECT feed_id, generation, encode(bytes, 'hex') FROM snapshots", url: url)
            .trimmingCharacters(in: .whitespacesAndNewlines) == "f|1|010203")
        try await table.add([4], feedID: "f", generation: 2)
        try await store.apply([update([], updated: [record("a", hash: 2)], generation: 2)], runID: run, at: 300)
        #expect(try await server.psql("SELECT feed_id, generation FROM snapshots", url: url)
            .trimmingCharacters(in: .whitespacesAndNewlines) == "f|2")
        #expect(try await store.feedStates()["f"]?.snapshotGeneration == 2)
        await store.close()
    }
}
