import Foundation
import PostgresTestSupport
import Testing

/// The binary against a real PostgreSQL server the tests start: the run lock, a server that is
/// not there, the password never shown, and crashes at each commit point with snapshots in the
/// store's table.
@Suite("PostgreSQL operations, end to end", .serialized)
struct PostgresOperationsTests {
    let server = PostgresTestServer.shared

    func setUp(_ name: String, url: String) throws -> Harness {
        let h = try Harness(name)
        try h.write("feedsync.yml", "store: \(url)\n" + OperationalTests.config)
        try h.write("feeds/airbnb.ics", NightlyScenarioTests.airbnb().text())
        try h.write("feeds/booking.ics", NightlyScenarioTests.booking().text())
        return h
    }

    @Test("a second run is refused (exit 3) naming the session that holds the store's run lock")
    func runLock() async throws {
        let url = try await server.newDatabase("e2elock")
        let h = try setUp("pg-lock", url: url)
        defer { h.cleanUp() }
        #expect(try h.night("2026-11-01T02:00:00Z").0.status == 0)
        // Another session holds the lock the way a run does, for a while.
        let port = try await server.port()
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: try PostgresTestServer.binaries() + "/psql")
        holder.arguments = ["-X", "-q", "-h", "127.0.0.1", "-p", "\(port)", "-U", "feedsync", "-d", String(url.split(separator: "/").last!),
                            "-c", "SELECT pg_advisory_lock(1717921124, 2)", "-c", "SELECT pg_sleep(30)"]
        holder.standardOutput = FileHandle.nullDevice
        // What psql says, should it never take the lock (the test then says why).
        let holderErrors = Pipe()
        holder.standardError = holderErrors
        var env = ProcessInfo.processInfo.environment
        env["PGAPPNAME"] = "nightly-import on host-b"
        holder.environment = env
        try holder.run()
        defer { kill(holder.processIdentifier, SIGKILL); holder.waitUntilExit() }
        var held = false
        // Up to 20 s: on a loaded machine psql itself may take a while to start.
        let deadline = ContinuousClock.now + .seconds(20)
        while !held && ContinuousClock.now < deadline && holder.isRunning {
            held = try await server.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = 2 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())", url: url)
                .trimmingCharacters(in: .whitespacesAndNewlines) == "1"
            if !held { try await Task.sleep(for: .milliseconds(50)) }
        }
        if !held {
            if holder.isRunning { kill(holder.processIdentifier, SIGKILL) }
            holder.waitUntilExit()
            let said = String(decoding: holderErrors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            Issue.record("the lock holder (psql) never held the lock; it exited \(holder.terminationStatus) saying: \(said)")
            return
        }
        let r = try h.run(["run", "--config", "feedsync.yml", "--now", "2026-11-02T02:00:00Z"])
        #expect(r.status == 3)
        #expect(r.stderr.contains("another feedsync run holds the run lock of the PostgreSQL store postgres://feedsync@127.0.0.1:\(port)/"), "\(r.stderr)")
        #expect(r.stderr.contains("(nightly-import on host-b, connected since 20"), "\(r.stderr)")
        #expect(try await server.psql("SELECT count(*) FROM runs", url: url).trimmingCharacters(in: .whitespacesAndNewlines) == "1",
                "the refused run wrote nothing")
    }

    @Test("a server that is not there stops the run at once (exit 3) in one sentence, the password never shown")
    func noServer() async throws {
        let port = PostgresTestServer.freePort()
        let h = try setUp("pg-none", url: "postgres://feedsync:hunter2@127.0.0.1:\(port)/nosuch")
        defer { h.cleanUp() }
        let r = try h.run(["run", "--config", "feedsync.yml", "--log-level", "debug"])
        #expect(r.status == 3)
        #expect(r.stderr.contains("feedsync: cannot connect to the PostgreSQL server postgres://feedsync:…@127.0.0.1:\(port)/nosuch: connection refused"),
                "\(r.stderr)")
        #expect(!(r.stdout + r.stderr).contains("hunter2"))
    }

    @Test("the password in the URL appears in no output, log or report")
    func secret() async throws {
        let url = try await server.newDatabase("e2esecret")
        let h = try setUp("pg-secret", url: url.replacingOccurrences(of: "feedsync@", with: "feedsync:hunter2@"))
        defer { h.cleanUp() }
        let report = h.dir.appendingPathComponent("report.json").path
        let r = try h.run(["run", "--config", "feedsync.yml", "--log-level", "trace", "--report", report])
        #expect(r.status == 0, "\(r.stderr)")
        let text = r.stdout + r.stderr + ((try? String(contentsOfFile: report, encoding: .utf8)) ?? "")
        #expect(!text.contains("hunter2"))
        // `snapshot verify` checks every row of the table and the store's pointers into it.
        let verify = try h.run(["snapshot", "verify", "--config", "feedsync.yml"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("checked 2 snapshots of the snapshot table of postgres://feedsync:…@127.0.0.1:"), "\(verify.stdout)")
        #expect(verify.stdout.contains("2 sound, 0 problems; store pointers of 2 feeds checked"), "\(verify.stdout)")
        #expect(!verify.stdout.contains("hunter2"))
        // `list` reads each feed's current row of the table.
        let list = try h.run(["snapshot", "list", "--config", "feedsync.yml"])
        #expect(list.status == 0, "\(list.stdout)\(list.stderr)")
        let airbnb = try #require(list.stdout.split(separator: "\n").first { $0.hasPrefix("airbnb ") })
        #expect(airbnb.split(separator: " ", omittingEmptySubsequences: true)[1] == "1", "\(airbnb)")
        #expect(list.stdout.contains("feeds: 2 configured, 0 need attention; orphan files: 0"), "\(list.stdout)")
        // `inspect` and `diff` read a feed's row of the table.
        let inspect = try h.run(["snapshot", "inspect", "airbnb", "--config", "feedsync.yml", "--json"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        #expect((json["path"] as? String)?.hasPrefix("snapshots(airbnb, 1) in postgres://feedsync:…@127.0.0.1:") == true, "\(json["path"] ?? "")")
        #expect(!inspect.stdout.contains("hunter2"))
        let diff = try h.run(["snapshot", "diff", "airbnb", "airbnb", "--config", "feedsync.yml"])
        #expect(diff.status == 0, "\(diff.stderr)")
        let missing = try h.run(["snapshot", "inspect", "nosuch", "--config", "feedsync.yml"])
        #expect(missing.status == 2 && missing.stderr.contains("unknown feed id nosuch"))
        try await server.psql("UPDATE snapshots SET bytes = overlay(bytes placing '\\x00'::bytea from 40) WHERE feed_id = 'airbnb'", url: url)
        try await server.psql("INSERT INTO snapshots (feed_id, generation, bytes) SELECT feed_id, 7, bytes FROM snapshots WHERE feed_id = 'booking'", url: url)
        let damaged = try h.run(["snapshot", "verify", "--config", "feedsync.yml"])
        #expect(damaged.status == 1)
        #expect(damaged.stdout.contains("snapshots(airbnb, 1): "), "\(damaged.stdout)")
        #expect(damaged.stdout.contains("snapshots(booking, 7): feed mismatch: file holds generation 1, its row says 7"), "\(damaged.stdout)")
        #expect(damaged.stdout.contains("snapshots(booking, 7): stale generation: the store points at generation 1"), "\(damaged.stdout)")
    }

    /// What must not depend on a crash (as CrashPointTests, with the snapshots in the table).
    func state(_ url: String) async throws -> [String] {
        var out: [String] = []
        for sql in [
            "SELECT feed_id, record_key, record_hash, summary, removed_at, updated_at, first_seen_at FROM events ORDER BY 1, 2",
            "SELECT feed_id, record_key, kind, at FROM changes ORDER BY 1, 2, 3, 4",
            "SELECT id, fingerprint, snapshot_generation, last_success_at, last_full_sync_at FROM feeds ORDER BY 1",
            "SELECT feed_id, generation, md5(bytes) FROM snapshots ORDER BY 1, 2",
        ] {
            out += try await server.rows(sql, url: url).map { $0.map { $0 ?? "∅" }.joined(separator: "|") }
        }
        return out
    }

    @Test("killed at each commit point, then run again: the same rows and snapshot rows as an uninterrupted night")
    func crashPoints() async throws {
        let night2 = CrashPointTests.changeFeeds
        let baseURL = try await server.newDatabase("crashbase")
        let base = try setUp("pg-crash-base", url: baseURL)
        defer { base.cleanUp() }
        #expect(try base.night(CrashPointTests.night1).0.status == 0)
        try night2(base)
        #expect(try base.night(CrashPointTests.night2).0.status == 0)
        let expected = try await state(baseURL)
        #expect(expected.contains { $0.hasPrefix("airbnb|2|") }, "the baseline wrote a second generation")

        for point in CrashPointTests.points {
            let url = try await server.newDatabase("crash")
            let h = try setUp("pg-crash-\(point)", url: url)
            defer { h.cleanUp() }
            #expect(try h.night(CrashPointTests.night1).0.status == 0)
            try night2(h)
            let crashed = try h.run(["run", "--config", "feedsync.yml", "--now", CrashPointTests.night2],
                                    environment: ["FEEDSYNC_CRASH_AT": point])
            #expect(crashed.killed && crashed.status == SIGKILL, "\(point)")
            let (again, _) = try h.night(CrashPointTests.night2)
            #expect(again.status == 0, "\(point): \(again.stderr)")
            #expect(try await state(url) == expected, "\(point)")
        }
    }

    @Test("a worker that cannot work exits 3 in one sentence: no PostgreSQL store, snapshots in a folder, no server, another configuration")
    func workerRefusals() async throws {
        let h = try Harness("pg-worker-refusals")
        defer { h.cleanUp() }
        try h.write("sqlite.yml", "store: sqlite:feedsync.sqlite\n" + OperationalTests.config)
        var r = try h.run(["worker", "--config", "sqlite.yml", "--once"])
        #expect(r.status == 3 && r.stderr.contains("a worker shares the nights of a PostgreSQL store, and sqlite.yml has store: sqlite:"), "\(r.stderr)")

        let url = try await server.newDatabase("e2eworker")
        try h.write("folder.yml", "store: \(url)\nsnapshots: snapshots\n" + OperationalTests.config)
        r = try h.run(["worker", "--config", "folder.yml", "--once"])
        #expect(r.status == 3 && r.stderr.contains("a worker needs the snapshots in the PostgreSQL store"), "\(r.stderr)")

        try h.write("gone.yml", "store: postgres://feedsync:hunter2@127.0.0.1:\(PostgresTestServer.freePort())/x\n" + OperationalTests.config)
        r = try h.run(["worker", "--config", "gone.yml", "--once"])
        #expect(r.status == 3 && r.stderr.contains("connection refused") && !r.stderr.contains("hunter2"), "\(r.stderr)")

        // A worker whose configuration differs from the run's (one comment more) refuses the night.
        try h.write("feedsync.yml", "store: \(url)\n" + OperationalTests.config)
        try h.write("other.yml", "store: \(url)\n" + OperationalTests.config + "\n# edited on this machine\n")
        try h.write("feeds/airbnb.ics", NightlyScenarioTests.airbnb().text())
        try h.write("feeds/booking.ics", NightlyScenarioTests.booking().text())
        let worker = Process()
        worker.executableURL = Harness.binary
        worker.arguments = ["worker", "--config", "other.yml", "--once"]
        worker.currentDirectoryURL = h.dir
        let err = Pipe()
        worker.standardError = err
        worker.standardOutput = FileHandle.nullDevice
        try worker.run()
        defer { if worker.isRunning { kill(worker.processIdentifier, SIGKILL) } }
        try await Task.sleep(for: .milliseconds(1_500))
        let night = try h.run(["run", "--config", "feedsync.yml", "--now", "2026-11-01T02:00:00Z"])
        #expect(night.status == 0, "the run does the night alone: \(night.stderr)")
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        worker.waitUntilExit()
        #expect(worker.terminationStatus == 3)
        #expect(stderr.contains("was started with another configuration than"), "\(stderr)")
        #expect(stderr.contains("every process of a night must read the same configuration file"), "\(stderr)")
    }

    @Test("--dry-run on a new PostgreSQL database creates no table; on a used one it writes no row")
    func dryRun() async throws {
        let url = try await server.newDatabase("e2edry")
        let h = try setUp("pg-dry", url: url)
        defer { h.cleanUp() }
        let (r, rep) = try h.night("2026-11-01T02:00:00Z", ["--dry-run"])
        #expect(r.status == 0 && rep.events_added == 8, "\(r.stderr)")
        #expect(try await server.psql("SELECT to_regclass('feedsync_migrations') IS NULL AND to_regclass('events') IS NULL", url: url) == "t\n")
        #expect(try h.night("2026-11-01T02:00:00Z").0.status == 0)
        try h.write("feeds/airbnb.ics", NightlyScenarioTests.airbnb(a3Summary: "Reserved (edited)").text())
        let before = try await server.psql("SELECT count(*), max(id) FROM runs; SELECT count(*) FROM changes; SELECT count(*) FROM snapshots", url: url)
        let (r2, rep2) = try h.night("2026-11-02T02:00:00Z", ["--dry-run"])
        #expect(r2.status == 0 && rep2.events_updated == 1, "\(r2.stderr)")
        #expect(try await server.psql("SELECT count(*), max(id) FROM runs; SELECT count(*) FROM changes; SELECT count(*) FROM snapshots", url: url) == before)
    }

    @Test("the server's refusals in one sentence each, provoked: wrong password, no rights, a lock held beyond busy_timeout_seconds, a read-only database")
    func provokedFaults() async throws {
        let url = try await server.newDatabase("e2efaults")
        let h = try setUp("pg-faults", url: url)
        defer { h.cleanUp() }
        #expect(try h.night("2026-11-01T02:00:00Z").0.status == 0)
        let port = try await server.port()
        let db = String(url.split(separator: "/").last!)
        let before = try await server.psql("SELECT count(*) FROM events; SELECT count(*) FROM runs", url: url)

        try h.write("wrong.yml", "store: postgres://secretive:wrong-one@127.0.0.1:\(port)/\(db)?sslmode=disable\n" + OperationalTests.config)
        var r = try h.run(["run", "--config", "wrong.yml", "--now", "2026-11-02T02:00:00Z"])
        #expect(r.status == 3)
        #expect(r.stderr.contains("refused user `secretive`: password authentication failed for user \"secretive\"; give the password in the URL, in a `password_file:` or in PGPASSWORD"), "\(r.stderr)")
        #expect(!r.stderr.contains("wrong-one"))

        try h.write("nopriv.yml", "store: postgres://nopriv@127.0.0.1:\(port)/\(db)?sslmode=disable\n" + OperationalTests.config)
        r = try h.run(["run", "--config", "nopriv.yml", "--now", "2026-11-02T02:00:00Z"])
        #expect(r.status == 3)
        #expect(r.stderr.contains("user `nopriv` may not") && r.stderr.contains("permission denied") && r.stderr.contains("grant it the rights on feedsync's tables"), "\(r.stderr)")

        // Another session holds `feeds` locked for longer than busy_timeout_seconds (1 s here).
        try h.write("busy.yml", "store: \(url)\nbusy_timeout_seconds: 1\n" + OperationalTests.config)
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: try PostgresTestServer.binaries() + "/psql")
        holder.arguments = ["-X", "-q", "-h", "127.0.0.1", "-p", "\(port)", "-U", "feedsync", "-d", db,
                            "-c", "BEGIN; LOCK TABLE feeds IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(30); COMMIT"]
        holder.standardOutput = FileHandle.nullDevice
        holder.standardError = FileHandle.nullDevice
        try holder.run()
        defer { kill(holder.processIdentifier, SIGKILL); holder.waitUntilExit() }
        var locked = false
        for _ in 0..<100 where !locked {
            locked = try await server.psql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'feeds' AND l.mode = 'AccessExclusiveLock' AND l.granted", url: url) == "1\n"
            if !locked { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(locked)
        r = try h.run(["run", "--config", "busy.yml", "--now", "2026-11-02T02:00:00Z"])
        #expect(r.status == 3)
        #expect(r.stderr.contains("stayed locked by another session beyond `busy_timeout_seconds`"), "\(r.stderr)")
        try await server.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%LOCK TABLE feeds%' AND pid <> pg_backend_pid()")
        holder.waitUntilExit()

        try await server.psql("ALTER DATABASE \(db) SET default_transaction_read_only = on")
        r = try h.run(["run", "--config", "feedsync.yml", "--now", "2026-11-02T02:00:00Z"])
        #expect(r.status == 3)
        #expect(r.stderr.contains("is read-only (a standby, or default_transaction_read_only): point `store:` at the primary"), "\(r.stderr)")
        try await server.psql("ALTER DATABASE \(db) RESET default_transaction_read_only")
        // Nothing already stored was lost, and the store works again.
        #expect(try await server.psql("SELECT count(*) FROM events; SELECT count(*) FROM runs", url: url) == before)
        #expect(try h.night("2026-11-02T02:00:00Z").0.status == 0)
    }
}
