import Foundation
import GRDB
import Testing

/// Exit codes, lock, dry run, feed selection, damaged snapshots and crash leftovers.
@Suite("Operations, end to end", .serialized)
struct OperationalTests {
    static let config = """
        feeds:
          - id: airbnb
            url: feeds/airbnb.ics
          - id: booking
            url: feeds/booking.ics
        """

    func setUp(_ name: String) throws -> Harness {
        let h = try Harness(name)
        try h.write("feedsync.yml", Self.config)
        try h.write("feeds/airbnb.ics", NightlyScenarioTests.airbnb().text())
        try h.write("feeds/booking.ics", NightlyScenarioTests.booking().text())
        return h
    }

    @Test("small things: --version, run --help's exit codes, one default per option, FEEDSYNC_CONFIG, a missing snapshot file exits 1, one feed is not \"all 1 feeds\", report times to the millisecond")
    func smallThings() throws {
        let h = try setUp("small")
        defer { h.cleanUp() }
        let version = try h.run(["--version"])
        #expect(version.status == 0 && version.stdout.range(of: #"^\d+\.\d+\.\d+ \(time zone rules 20\d\d[a-z]\)\n$"#, options: .regularExpression) != nil, "\(version.stdout)")
        let runHelp = try h.run(["run", "--help"]).stdout
        #expect(runHelp.contains("Exit status: 0 every feed synced; 1 some feed failed") && runHelp.contains("130 or 143"))
        for command in [["run"], ["parse"], ["status"], ["worker"], ["snapshot", "list"], ["snapshot", "inspect"], ["snapshot", "verify"]] {
            let help = try h.run(command + ["--help"]).stdout.replacingOccurrences(of: "\n", with: " ")
            for option in help.components(separatedBy: "  --").dropFirst() {
                #expect(option.components(separatedBy: "default").count <= 2, "\(command): --\(option)")
            }
        }
        // FEEDSYNC_CONFIG: the configuration when --config is not given, from any folder.
        try h.write("elsewhere/.keep", "")
        try h.write("conf/night.yml", "snapshots: \(h.dir.path)/snapshots\nstore: sqlite:\(h.dir.path)/feedsync.sqlite\nfeeds:\n  - id: only\n    url: \(h.dir.path)/feeds/airbnb.ics\n")
        let env = ["FEEDSYNC_CONFIG": h.dir.appendingPathComponent("conf/night.yml").path]
        var r = try h.run(["/bin/sh", "-c", "cd elsewhere && \"\(Harness.binary.path)\" run --now 2026-11-01T02:00:00Z --report ../report.json"],
                          direct: true, environment: env)
        #expect(r.status == 0 && r.stdout.contains("only: changed"), "\(r.stdout) \(r.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: h.dir.appendingPathComponent("report.json"))) as! [String: Any]
        func millis(_ v: Any?) -> Bool { let d = (v as! NSNumber).doubleValue; return abs(d * 1000 - (d * 1000).rounded()) < 1e-6 }
        #expect(millis(report["seconds"]) && (report["phases"] as! [String: Any]).values.allSatisfy(millis))
        #expect((report["feeds"] as! [[String: Any]]).allSatisfy { let ms = ($0["duration_ms"] as! NSNumber).doubleValue; return ms == ms.rounded() })
        r = try h.run(["/bin/sh", "-c", "cd elsewhere && \"\(Harness.binary.path)\" run --now 2026-11-01T02:00:00Z"], direct: true, environment: env)
        #expect(r.stdout.contains("nothing changed: the feed is unchanged") && !r.stdout.contains("all 1 feeds"), "\(r.stdout)")
        #expect(try h.run(["snapshot", "inspect", "snapshots/missing.1.fsnap"]).status == 1)
        // A run that age makes full (--incremental-days 0) is recorded as a full one.
        r = try h.run(["/bin/sh", "-c", "cd elsewhere && \"\(Harness.binary.path)\" run --now 2026-11-02T02:00:00Z --incremental-days 0"],
                      direct: true, environment: env)
        #expect(r.stdout.contains("only: unchanged, full"), "\(r.stdout)")
        #expect(try h.rows("SELECT mode FROM runs ORDER BY id").map { $0["mode"] as String } == ["incremental", "incremental", "full"])
    }

    @Test("a snapshot folder serves one store: another configuration's database pointed at it is refused (exit 3) and nothing is touched; a folder from before owners were recorded is adopted")
    func folderOwner() throws {
        let h = try setUp("owner")
        defer { h.cleanUp() }
        #expect(try h.night("2026-11-01T02:00:00Z").0.status == 0)
        let marker = h.text("snapshots/.feedsync-store")
        #expect(marker.hasPrefix("id ") && marker.contains("store sqlite:"), "\(marker)")
        let files = try h.snapshotFiles()
        try h.write("other.yml", "store: sqlite:other.sqlite\n" + Self.config)
        let other = try h.run(["run", "--config", "other.yml", "--now", "2026-11-02T02:00:00Z"])
        #expect(other.status == 3)
        #expect(other.stderr.contains("the snapshot folder \(h.dir.path)/snapshots holds the snapshots of another store (sqlite:\(h.dir.path)/feedsync.sqlite)"), "\(other.stderr)")
        #expect(other.stderr.contains("each configuration needs a snapshot folder of its own"))
        #expect(try h.snapshotFiles() == files && h.text("snapshots/.feedsync-store") == marker)
        #expect(try h.run(["run", "--config", "other.yml", "--dry-run"]).status == 3)
        // The owner goes on; a folder that records no owner (written before) is adopted, by its own store.
        #expect(try h.night("2026-11-02T02:00:00Z").0.status == 0)
        try h.remove("snapshots/.feedsync-store")
        #expect(try h.night("2026-11-03T02:00:00Z").0.status == 0)
        #expect(h.text("snapshots/.feedsync-store") == marker)
        // The database deleted to start over, at the same place: taken over, with a warning.
        for file in ["feedsync.sqlite", "feedsync.sqlite-wal", "feedsync.sqlite-shm"] { try? h.remove(file) }
        let (anew, rep) = try h.night("2026-11-04T02:00:00Z")
        #expect(anew.status == 0 && rep.feeds.allSatisfy { $0.reason == "first sync" })
        #expect(anew.stderr.contains("warning: the store sqlite:\(h.dir.path)/feedsync.sqlite was created anew"), "\(anew.stderr)")
        #expect(h.text("snapshots/.feedsync-store") != marker && h.text("snapshots/.feedsync-store").hasPrefix("id "))
    }

    @Test("a feed removed from the configuration is reported as an orphan; prune --dry-run lists it, prune marks its events removed and deletes its snapshots")
    func orphansAndPrune() throws {
        let h = try setUp("prune")
        defer { h.cleanUp() }
        #expect(try h.night("2026-11-01T02:00:00Z").0.status == 0)
        let bookingLive = try h.rows("SELECT count(*) AS n FROM events WHERE feed_id = 'booking' AND removed_at IS NULL")[0]["n"] as Int
        #expect(bookingLive > 0)
        try h.write("feedsync.yml", "feeds:\n  - id: airbnb\n    url: feeds/airbnb.ics\n")
        let (r, _) = try h.night("2026-11-02T02:00:00Z")
        #expect(r.status == 0 && r.stdout.contains("orphans: 1 feed in the store is not in the configuration (booking); `feedsync prune` marks their events removed"), "\(r.stdout)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: h.dir.appendingPathComponent("report.json"))) as! [String: Any]
        #expect(report["orphans"] as? [String] == ["booking"])

        let dry = try h.run(["prune", "--dry-run"])
        #expect(dry.status == 0 && dry.stdout.contains("booking: \(bookingLive) live events would be marked removed"), "\(dry.stdout)")
        #expect(try h.rows("SELECT count(*) AS n FROM events WHERE feed_id = 'booking' AND removed_at IS NULL")[0]["n"] as Int == bookingLive)
        #expect(try h.snapshotFiles().contains { $0.hasPrefix("booking.") })

        let pruned = try h.run(["prune", "--now", "2026-11-02T09:00:00Z"])
        #expect(pruned.status == 0 && pruned.stdout.contains("pruned 1 feed: \(bookingLive) events marked removed, 1 snapshot deleted"), "\(pruned.stdout) \(pruned.stderr)")
        #expect(try h.rows("SELECT count(*) AS n FROM events WHERE feed_id = 'booking' AND removed_at = '2026-11-02T09:00:00Z'")[0]["n"] as Int == bookingLive)
        #expect(try !h.snapshotFiles().contains { $0.hasPrefix("booking.") })
        #expect(try h.run(["prune"]).stdout.contains("no orphans"))
        let (r3, _) = try h.night("2026-11-03T02:00:00Z")
        #expect(r3.status == 0 && !r3.stdout.contains("orphans"))
        // Configured again, it starts afresh: a first sync that brings its events back.
        try h.write("feedsync.yml", Self.config)
        let (_, rep4) = try h.night("2026-11-04T02:00:00Z")
        #expect(rep4["booking"].reason == "first sync" && rep4["booking"].added == bookingLive)
    }

    @Test("a bad configuration exits 2 naming the file and line, and touches nothing")
    func badConfig() throws {
        let h = try Harness("badconfig")
        defer { h.cleanUp() }
        try h.write("feedsync.yml", "feeds:\n  - id: a\n    url: a.ics\n  - id: a\n    url: b.ics\n")
        let r = try h.run(["run", "--config", "feedsync.yml"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("feedsync.yml:4: feed id `a` is used twice"))
        #expect(!FileManager.default.fileExists(atPath: h.dir.appendingPathComponent("feedsync.sqlite").path))
        let missing = try h.run(["run", "--config", "nope.yml"])
        #expect(missing.status == 2 && missing.stderr.contains("nope.yml"))
        let badNow = try h.run(["run", "--now", "tomorrow"])
        #expect(badNow.status == 2)
    }

    @Test("a second run while one holds the lock exits 3 naming the holder")
    func lock() throws {
        let h = try setUp("lock")
        defer { h.cleanUp() }
        try h.write("snapshots/.feedsync.lock", "pid 4242 on testhost, started 2026-11-23T02:00:00Z\n")
        // Hold the lock from this process, as a running feedsync would.
        let fd = open(h.dir.appendingPathComponent("snapshots/.feedsync.lock").path, O_RDWR)
        #expect(fd >= 0)
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        defer { close(fd) }
        let r = try h.run(["run", "--config", "feedsync.yml"])
        #expect(r.status == 3)
        #expect(r.stderr.contains("another feedsync run holds the lock"))
        #expect(r.stderr.contains("pid 4242 on testhost"))
    }

    @Test("a lock file deleted during a run does not let a second run in: the folder is locked too")
    func deletedLockFile() throws {
        let h = try setUp("lock-deleted")
        defer { h.cleanUp() }
        #expect(try h.run(["run", "--config", "feedsync.yml"]).status == 0)
        // A run holds the folder; its lock file was deleted by a clean-up script.
        let folder = h.dir.appendingPathComponent("snapshots").path
        let fd = open(folder, O_RDONLY | O_DIRECTORY)
        #expect(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
        defer { close(fd) }
        try h.remove("snapshots/.feedsync.lock")
        let r = try h.run(["run", "--config", "feedsync.yml"])
        #expect(r.status == 3)
        #expect(r.stderr.contains("another feedsync run holds the lock"))
        #expect(r.stderr.contains("a run whose lock file was deleted; it still holds the folder"))
    }

    @Test("--report: its folder is made, `-` is stdout, a report that cannot be written never changes the exit status, last night's is not left looking current")
    func reportPaths() throws {
        let h = try setUp("report-paths")
        defer { h.cleanUp() }
        let nested = h.dir.appendingPathComponent("out/nightly/report.json").path
        let r = try h.run(["run", "--config", "feedsync.yml", "--now", "2026-11-01T02:00:00Z", "--report", nested])
        #expect(r.status == 0 && FileManager.default.fileExists(atPath: nested))

        let toStdout = try h.run(["run", "--config", "feedsync.yml", "--now", "2026-11-02T02:00:00Z", "--report", "-"])
        #expect(toStdout.status == 0)
        let parsed = try JSONDecoder().decode(Report.self, from: Data(toStdout.stdout.utf8))
        #expect(parsed.feeds_total == 2 && toStdout.stderr.contains("airbnb: unchanged"))

        // A folder where the report should go: the night's own status stands (0), the problem is said.
        try FileManager.default.createDirectory(at: h.dir.appendingPathComponent("taken.json"), withIntermediateDirectories: true)
        try h.write("taken.json/keep", "x")
        let blocked = try h.run(["run", "--config", "feedsync.yml", "--now", "2026-11-03T02:00:00Z", "--report", "taken.json"])
        #expect(blocked.status == 0 && blocked.stderr.contains("feedsync: cannot write the report to taken.json"))
        // A report whose folder cannot even be made (a file is in its way): the night still runs.
        try h.write("plain-file", "x")
        let noFolder = try h.run(["run", "--config", "feedsync.yml", "--now", "2026-11-03T03:00:00Z", "--report", "plain-file/report.json"])
        #expect(noFolder.status == 0 && noFolder.stderr.contains("feedsync: cannot write the report to plain-file/report.json"))
        #expect(noFolder.stdout.contains("feeds: 2 total"))

        // A run that cannot happen leaves no report of an earlier night at the path.
        try h.write("feedsync.yml", "store: sqlite:nope/feedsync.sqlite\n" + Self.config)
        let dead = try h.run(["run", "--config", "feedsync.yml", "--report", nested])
        #expect(dead.status == 3 && !FileManager.default.fileExists(atPath: nested))
    }

    @Test("--dry-run plans and reports but writes no snapshot and no row")
    func dryRun() throws {
        let h = try setUp("dryrun")
        defer { h.cleanUp() }
        let (r, rep) = try h.night("2026-11-01T02:00:00Z", ["--dry-run"])
        #expect(r.status == 0)
        #expect(rep.events_added == 8)
        #expect(r.stdout.contains("dry run: nothing was written"))
        #expect(!FileManager.default.fileExists(atPath: h.dir.appendingPathComponent("feedsync.sqlite").path),
                "a dry run creates no store")
        #expect(!FileManager.default.fileExists(atPath: h.dir.appendingPathComponent("snapshots").path),
                "a dry run creates no snapshot folder and no lock file")
        // The real run afterwards does the same work; a dry run then reads the store and writes nothing.
        let (r2, rep2) = try h.night("2026-11-01T02:00:00Z")
        #expect(r2.status == 0 && rep2.events_added == 8)
        try h.write("feeds/airbnb.ics", NightlyScenarioTests.airbnb(a3Summary: "Reserved (edited)").text())
        let runs = try h.rows("SELECT count(*) AS n FROM runs")[0]["n"] as Int
        let (r3, rep3) = try h.night("2026-11-02T02:00:00Z", ["--dry-run"])
        #expect(r3.status == 0 && rep3.events_updated == 1 && rep3.events_added == 0)
        #expect(try h.rows("SELECT count(*) AS n FROM runs")[0]["n"] as Int == runs)
        #expect(try h.rows("SELECT count(*) AS n FROM events WHERE summary LIKE '%(edited)%'")[0]["n"] as Int == 0)
    }

    @Test("--feed limits the run; an unknown id is a usage error")
    func feedSelection() throws {
        let h = try setUp("select")
        defer { h.cleanUp() }
        let (r, rep) = try h.night("2026-11-01T02:00:00Z", ["--feed", "booking"])
        #expect(r.status == 0)
        #expect(rep.feeds.map(\.id) == ["booking"])
        #expect(try h.snapshotFiles() == ["booking.1.fsnap"])
        let bad = try h.run(["run", "--feed", "nosuch"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("unknown feed id: nosuch"))
    }

    @Test("a damaged or missing snapshot makes that feed full_fallback and is replaced by a sound one")
    func damagedSnapshot() throws {
        let h = try setUp("damaged")
        defer { h.cleanUp() }
        #expect(try h.night("2026-11-01T02:00:00Z").0.status == 0)
        // Flip a byte in the middle of airbnb's snapshot; delete booking's.
        let snap = h.dir.appendingPathComponent("snapshots/airbnb.1.fsnap")
        var bytes = [UInt8](try Data(contentsOf: snap))
        bytes[bytes.count / 2] ^= 0x10
        try Data(bytes).write(to: snap)
        try h.remove("snapshots/booking.1.fsnap")
        // airbnb changed upstream (so it is parsed); booking did not (but has no snapshot).
        try h.write("feeds/airbnb.ics", NightlyScenarioTests.airbnb(withA6: true).text())
        let (r, rep) = try h.night("2026-11-02T02:00:00Z")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(rep["airbnb"].sync_type == "full_fallback")
        #expect(rep["airbnb"].reason.contains("snapshot unusable"))
        #expect(rep["airbnb"].added == 1)
        #expect(rep["booking"].sync_type == "full_fallback")
        #expect(rep["booking"].status == "unchanged")
        #expect(try h.snapshotFiles() == ["airbnb.2.fsnap", "booking.2.fsnap"])
        // And the night after is a plain incremental one again.
        let (_, rep3) = try h.night("2026-11-03T02:00:00Z")
        #expect(rep3.feeds_unchanged == 2)
    }

    @Test("leftovers of an interrupted run are cleaned and the next run repairs the state")
    func crashLeftovers() throws {
        let h = try setUp("crash")
        defer { h.cleanUp() }
        #expect(try h.night("2026-11-01T02:00:00Z").0.status == 0)
        let snaps = h.dir.appendingPathComponent("snapshots")
        // An interrupted run took the last run's clean mark away when it started.
        let mark = snaps.appendingPathComponent(".feedsync-clean")
        try FileManager.default.removeItem(at: mark)
        // Crash before the store commit: a new generation and a temp file exist, the store points at 1.
        try FileManager.default.copyItem(at: snaps.appendingPathComponent("airbnb.1.fsnap"),
                                         to: snaps.appendingPathComponent("airbnb.2.fsnap"))
        try h.write("snapshots/.tmp-booking-0123456789abcdef", "partial")
        try h.write("feeds/airbnb.ics", NightlyScenarioTests.airbnb(withA6: true).text())
        let (r, rep) = try h.night("2026-11-02T02:00:00Z")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(rep["airbnb"].sync_type == "incremental" && rep["airbnb"].added == 1)
        #expect(try h.snapshotFiles() == ["airbnb.2.fsnap", "booking.1.fsnap"])
        #expect(!FileManager.default.fileExists(atPath: snaps.appendingPathComponent(".tmp-booking-0123456789abcdef").path))
        #expect(try h.rows("SELECT snapshot_generation FROM feeds WHERE id = 'airbnb'").first?["snapshot_generation"] == 2)
        // Crash after the commit but before the old file was deleted: an old generation lingers.
        try FileManager.default.removeItem(at: mark)
        try FileManager.default.copyItem(at: snaps.appendingPathComponent("airbnb.2.fsnap"),
                                         to: snaps.appendingPathComponent("airbnb.1.fsnap"))
        let (r2, rep2) = try h.night("2026-11-03T02:00:00Z")
        #expect(r2.status == 0 && rep2.feeds_unchanged == 2)
        #expect(try h.snapshotFiles() == ["airbnb.2.fsnap", "booking.1.fsnap"])
    }

    @Test("a night after a clean one does not look for leftovers; one after a crash, a new store, a restored database or --force-full-sync does")
    func cleanMark() throws {
        let h = try setUp("clean-mark")
        defer { h.cleanUp() }
        #expect(try h.night("2026-11-01T02:00:00Z").0.status == 0)
        let snaps = h.dir.appendingPathComponent("snapshots")
        let mark = snaps.appendingPathComponent(".feedsync-clean")
        let storeID: String = try #require(try h.rows("SELECT value FROM store_info WHERE key = 'id'").first?["value"])
        #expect(try String(contentsOf: mark, encoding: .utf8) == "\(storeID)\n1\n")
        // A stray old generation (not something a run leaves: a copy by hand) is not looked for
        // after a clean night, and the night puts its own mark back.
        func stray() throws {
            try FileManager.default.copyItem(at: snaps.appendingPathComponent("airbnb.1.fsnap"),
                                             to: snaps.appendingPathComponent("airbnb.0.fsnap"))
        }
        try stray()
        #expect(try h.night("2026-11-02T02:00:00Z").0.status == 0)
        #expect(try h.snapshotFiles() == ["airbnb.0.fsnap", "airbnb.1.fsnap", "booking.1.fsnap"])
        #expect(try String(contentsOf: mark, encoding: .utf8) == "\(storeID)\n2\n")
        // The maintenance run looks whatever the mark says.
        #expect(try h.night("2026-11-03T02:00:00Z", ["--force-full-sync"]).0.status == 0)
        #expect(try h.snapshotFiles() == ["airbnb.1.fsnap", "booking.1.fsnap"])
        // A mark of another store, of a run the store does not have (a database restored from
        // before it), or torn: the night looks.
        for text in ["another-store\n3\n", "\(storeID)\n99\n", "\(storeID)\n"] {
            try stray()
            try text.write(to: mark, atomically: true, encoding: .utf8)
            #expect(try h.night("2026-11-04T02:00:00Z").0.status == 0)
            #expect(try h.snapshotFiles() == ["airbnb.1.fsnap", "booking.1.fsnap"], "\(text)")
        }
        // A run of some feeds looks for their leftovers only: it takes the mark and leaves none,
        // and the next night looks again.
        try FileManager.default.removeItem(at: mark)
        try stray()
        #expect(try h.night("2026-11-05T01:00:00Z", ["--feed", "booking"]).0.status == 0)
        #expect(!FileManager.default.fileExists(atPath: mark.path))
        #expect(try h.snapshotFiles() == ["airbnb.0.fsnap", "airbnb.1.fsnap", "booking.1.fsnap"])
        #expect(try h.night("2026-11-05T01:30:00Z").0.status == 0)
        #expect(try h.snapshotFiles() == ["airbnb.1.fsnap", "booking.1.fsnap"])
        #expect(FileManager.default.fileExists(atPath: mark.path))
        // A dry run neither takes the mark nor leaves one.
        let before = try String(contentsOf: mark, encoding: .utf8)
        #expect(try h.night("2026-11-05T02:00:00Z", ["--dry-run"]).0.status == 0)
        #expect(try String(contentsOf: mark, encoding: .utf8) == before)
    }

    @Test("a feed not synced successfully for more than incremental_days is synced in full")
    func incrementalDays() throws {
        let h = try setUp("days")
        defer { h.cleanUp() }
        #expect(try h.night("2026-11-01T02:00:00Z").0.status == 0)
        let (_, rep) = try h.night("2026-11-09T02:00:00Z")
        #expect(rep["airbnb"].sync_type == "full")
        #expect(rep["airbnb"].reason.contains("8 days ago"))
        let (_, rep2) = try h.night("2026-11-10T02:00:00Z", ["--incremental-days", "30"])
        #expect(rep2["airbnb"].sync_type == "none")
    }

    @Test("--force-full-sync over unchanged feeds reconciles them but keeps their sound snapshots")
    func forceFullKeepsSnapshots() throws {
        let h = try setUp("forcefull")
        defer { h.cleanUp() }
        #expect(try h.night("2026-11-01T02:00:00Z").0.status == 0)
        try h.write("feeds/airbnb.ics", NightlyScenarioTests.airbnb(withA6: true).text())
        let (r, rep) = try h.night("2026-11-02T02:00:00Z", ["--force-full-sync"])
        #expect(r.status == 0)
        #expect(rep["airbnb"].sync_type == "full" && rep["airbnb"].added == 1)
        #expect(rep["booking"].sync_type == "full" && rep["booking"].status == "unchanged")
        #expect(try h.snapshotFiles() == ["airbnb.2.fsnap", "booking.1.fsnap"])
        // A row edited behind feedsync's back is put right by the full sync, and a new snapshot written.
        try h.db().write { try $0.execute(sql: "UPDATE events SET record_hash = '0000000000000000' WHERE feed_id = 'booking' AND uid = 'b1@booking.com'") }
        let (_, rep2) = try h.night("2026-11-03T02:00:00Z", ["--force-full-sync"])
        #expect(rep2["booking"].updated == 1)
        #expect(try h.snapshotFiles() == ["airbnb.2.fsnap", "booking.2.fsnap"])
    }

    @Test("status: healthy, stale and failing feeds with their facts; exit 0 only when all are healthy; --json")
    func status() throws {
        let h = try Harness("status")
        defer { h.cleanUp() }
        try h.write("feedsync.yml", Self.config + "\n  - id: vrbo\n    url: feeds/vrbo.ics\n")
        try h.write("feeds/airbnb.ics", NightlyScenarioTests.airbnb().text())
        try h.write("feeds/booking.ics", NightlyScenarioTests.booking().text())
        try h.write("feeds/vrbo.ics", NightlyScenarioTests.vrbo().text())
        var s = try h.run(["status", "--now", "2026-11-01T01:00:00Z"])
        #expect(s.status == 1 && s.stdout.contains("airbnb: stale — never synced (0 records)"), "\(s.stdout)\(s.stderr)")
        #expect(try h.night("2026-11-01T02:00:00Z").0.status == 0)
        s = try h.run(["status", "--now", "2026-11-01T05:00:00Z"])
        #expect(s.status == 0, "\(s.stdout)")
        #expect(s.stdout.contains("airbnb: healthy — synced "))
        #expect(s.stdout.contains("3 feeds: 3 healthy, 0 stale, 0 failing (stale after 2 days, as of 2026-11-01T05:00:00Z)"), "\(s.stdout)")
        // Three days on: booking was not run since, vrbo's file is gone.
        try h.remove("feeds/vrbo.ics")
        #expect(try h.night("2026-11-04T02:00:00Z", ["--feed", "airbnb", "--feed", "vrbo"]).0.status == 1)
        s = try h.run(["status", "--now", "2026-11-04T03:00:00Z"])
        #expect(s.status == 1)
        #expect(s.stdout.contains("booking: stale — last success 3 days ago, more than stale_after_days (2)"), "\(s.stdout)")
        #expect(s.stdout.contains("vrbo: failing — the last run failed it: cannot open"), "\(s.stdout)")
        #expect(s.stdout.contains("; last success 3 days ago"))
        let j = try h.run(["status", "--now", "2026-11-04T03:00:00Z", "--json"])
        #expect(j.status == 1)
        let doc = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as! [String: Any]
        #expect(doc["healthy"] as? Int == 1 && doc["stale"] as? Int == 1 && doc["failing"] as? Int == 1)
        let feeds = doc["feeds"] as! [[String: Any]]
        let airbnb = try #require(feeds.first { $0["id"] as? String == "airbnb" })
        #expect(airbnb["verdict"] as? String == "healthy" && airbnb["records"] as? Int == 5 && airbnb["snapshot_generation"] as? Int == 1)
        #expect(airbnb["last_success"] as? String == "2026-11-04T02:00:00Z" && airbnb["age_days"] as? Double == 0.04)
        // A setting of its own.
        try h.write("feedsync.yml", "stale_after_days: 5\n" + Self.config + "\n  - id: vrbo\n    url: feeds/vrbo.ics\n")
        s = try h.run(["status", "--now", "2026-11-04T03:00:00Z"])
        #expect(s.stdout.contains("booking: healthy"), "\(s.stdout)")
        #expect(try h.run(["status", "--now", "yesterday"]).status == 2)
    }

    @Test("the progress line: drawn and erased on a terminal (a pseudo-terminal), absent through a pipe unless --progress; --quiet prints failures and the summary only")
    func progressAndQuiet() throws {
        let h = try Harness("progress")
        defer { h.cleanUp() }
        var config = "feeds:\n  - id: broken\n    url: feeds/nosuch.ics\n"
        for i in 1...400 {
            config += "  - id: f\(i)\n    url: feeds/f\(i).ics\n"
            try h.write("feeds/f\(i).ics", NightlyScenarioTests.booking(withB4: i % 2 == 0).text())
        }
        try h.write("feedsync.yml", config)
        // script(1) gives the run a pseudo-terminal for stdin, stdout and stderr.
        let command = "'\(Harness.binary.path)' run --now 2026-11-01T02:00:00Z --concurrency 1"
        let tty = try h.run(["/usr/bin/script", "-qefc", command, "/dev/null"], direct: true)
        #expect(tty.status == 1)
        let erase = "\r\u{1B}[K"
        #expect(tty.stdout.contains(erase + "feeds "), "\(tty.stdout.suffix(500))")
        #expect(tty.stdout.contains("records/s") && tty.stdout.contains("elapsed") && tty.stdout.contains("ETA"))
        // Erased before the summary: the summary lines are clean.
        let summary = try #require(tty.stdout.range(of: "feeds: 401 total"))
        #expect(!tty.stdout[summary.lowerBound...].contains("changed, 1 failed, "), "no progress after the end")
        #expect(tty.stdout.contains("broken: failed — "))

        // Through pipes (cron): no progress line, unless asked.
        try h.remove("feedsync.sqlite")
        let piped = try h.run(["run", "--now", "2026-11-02T02:00:00Z", "--concurrency", "1"])
        #expect(!piped.stderr.contains("\u{1B}[K") && !piped.stdout.contains("\u{1B}[K"))
        let forced = try h.run(["run", "--now", "2026-11-02T02:00:00Z", "--progress"])
        #expect(forced.stderr.contains(erase + "feeds "))

        let quiet = try h.run(["run", "--now", "2026-11-03T02:00:00Z", "--quiet"])
        #expect(quiet.status == 1)
        let lines = quiet.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("broken: failed — ") == true, "\(quiet.stdout)")
        #expect(!quiet.stdout.contains("f1: ") && !quiet.stderr.contains("\u{1B}[K"))
        #expect(quiet.stdout.contains("feeds: 401 total, 400 unchanged, 0 changed, 1 failed"))
    }
}
