import Foundation
import PostgresTestSupport
import Testing

/// Many processes, one night: `feedsync run` and three `feedsync worker --once` share nights of
/// 2,000 feeds (and a parent with children) on a real PostgreSQL server, and leave exactly the
/// rows a single process leaves — also when one worker is killed (SIGKILL) in the middle.
@Suite("Many workers share one night, end to end", .serialized)
struct WorkerNightTests {
    let server = PostgresTestServer.shared
    static let feedCount = 2_000
    static let races = 24

    /// A small calendar: three stays, the second night edits some feeds, drops or adds a stay.
    static func calendar(_ i: Int, night: Int) -> String {
        var events: [(Int, String)] = (1...3).map { ($0, "Stay \(i)-\($0)") }
        if night == 2 {
            if i % 7 == 0 { events[0].1 += " (edited)" }
            if i % 11 == 0 { events.removeLast() }
            if i % 13 == 0 { events.append((4, "Stay \(i)-4 (new)")) }
        }
        var s = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//feedsync tests//workers//EN\r\n"
        for (j, summary) in events {
            let day = 1 + (i + j) % 27
            s += "BEGIN:VEVENT\r\nUID:f\(i)-e\(j)@workers.test\r\nDTSTAMP:2026120\(night)T020000Z\r\n"
            s += String(format: "DTSTART:202612%02dT150000Z\r\nDTEND:202612%02dT100000Z\r\n", day, day + 1)
            s += "SUMMARY:\(summary)\r\nEND:VEVENT\r\n"
        }
        return s + "END:VCALENDAR\r\n"
    }

    static func config(_ url: String) -> String {
        var s = """
            store: \(url)
            lease_seconds: 5
            concurrency: 4
            feeds:
              - id: races
                url: feeds/races.json
                format: json
                records: /events
                key: event_id
                start: start
                end: end
                summary: name
                children:
                  name: entries
                  url: feeds/entries/{event_id}.json
                  records: /entries
                  key: id
                  summary: name

            """
        for i in 1...feedCount {
            s += "  - id: f\(String(format: "%04d", i))\n    url: feeds/f\(String(format: "%04d", i)).ics\n"
        }
        return s
    }

    func writeFeeds(_ h: Harness, night: Int) throws {
        for i in 1...Self.feedCount {
            try h.write("feeds/f\(String(format: "%04d", i)).ics", Self.calendar(i, night: night))
        }
        var events: [String] = []
        for e in 1...Self.races where !(night == 2 && e == 5) {
            let name = night == 2 && e % 4 == 0 ? "Race \(e) (renamed)" : "Race \(e)"
            events.append("{\"event_id\": \(100 + e), \"name\": \"\(name)\", \"start\": \"2026-12-\(String(format: "%02d", 1 + e))T09:00:00Z\", \"end\": \"2026-12-\(String(format: "%02d", 1 + e))T12:00:00Z\"}")
            var entries = (1...3).map { "{\"id\": \(e * 10 + $0), \"name\": \"Runner \(e)-\($0)\"}" }
            if night == 2 && e % 3 == 0 { entries.append("{\"id\": \(e * 10 + 9), \"name\": \"Late entry \(e)\"}") }
            try h.write("feeds/entries/\(100 + e).json", "{\"entries\": [\(entries.joined(separator: ","))]}")
        }
        try h.write("feeds/races.json", "{\"events\": [\(events.joined(separator: ",\n"))]}")
    }

    func spawn(_ h: Harness, _ args: [String], log: String, environment: [String: String] = [:]) throws -> Process {
        try h.spawn(args, log: log, environment: environment)
    }

    func text(_ h: Harness, _ log: String) -> String { h.text(log) }

    /// What a night leaves in the store, as text: the same for one process and for many.
    func dump(_ url: String) async throws -> [String: [String]] {
        func lines(_ sql: String) async throws -> [String] {
            try await server.rows(sql, url: url).map { $0.map { $0 ?? "∅" }.joined(separator: " | ") }
        }
        var out: [String: [String]] = [:]
        out["events"] = try await lines("""
            SELECT feed_id, record_key, uid, recurrence_id, start, "end", last_end, all_day, summary, status, record_hash,
              data::text, first_seen_at, updated_at, removed_at FROM events ORDER BY feed_id COLLATE "C", record_key COLLATE "C"
            """)
        out["changes"] = try await lines("""
            SELECT run_id, feed_id, record_key, uid, recurrence_id, kind, at FROM changes
            ORDER BY run_id, feed_id COLLATE "C", record_key COLLATE "C", kind COLLATE "C"
            """)
        out["feeds"] = try await lines("""
            SELECT id, url_redacted, fingerprint, snapshot_generation, last_success_at, last_full_sync_at, last_status, last_error
            FROM feeds ORDER BY id COLLATE "C"
            """)
        out["runs"] = try await lines("""
            SELECT id, mode, now, status, feeds_total, feeds_unchanged, feeds_changed, feeds_failed,
              events_added, events_updated, events_removed, events_past_skipped FROM runs ORDER BY id
            """)
        out["snapshots"] = try await lines("SELECT feed_id, generation, md5(bytes) FROM snapshots ORDER BY feed_id COLLATE \"C\", generation")
        return out
    }

    func expectSame(_ a: [String: [String]], _ b: [String: [String]], _ what: String,
                    sourceLocation: SourceLocation = #_sourceLocation) {
        for table in a.keys.sorted() {
            let x = a[table] ?? [], y = b[table] ?? []
            let onlyA = Set(x).subtracting(y), onlyB = Set(y).subtracting(x)
            #expect(x == y, "\(what): table \(table) differs (\(x.count) vs \(y.count) rows)\nonly one process: \(onlyA.sorted().prefix(5))\nonly many: \(onlyB.sorted().prefix(5))",
                    sourceLocation: sourceLocation)
        }
    }

    func scalar(_ sql: String, _ url: String) async throws -> String {
        try await server.psql(sql, url: url).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// One night with a run and three workers; `kill` kills the first worker once it holds leases
    /// and has done some feeds. Returns the run's report (JSON) and the killed worker's name.
    func sharedNight(_ h: Harness, config: String, url: String, now: String, night: Int,
                     kill: Bool) async throws -> ([String: Any], String?) {
        let host = ProcessInfo.processInfo.hostName
        var workers: [Process] = []
        for w in 0..<3 {
            // The first worker of a `kill` night dies (SIGKILL) just after its first claim, its
            // leases held: the others must take them over when they expire.
            workers.append(try spawn(h, ["worker", "--config", config, "--once"], log: "worker\(w)-\(night).log",
                                     environment: kill && w == 0 ? ["FEEDSYNC_CRASH_AT": "claim-1"] : [:]))
        }
        defer { for w in workers where w.isRunning { Foundation.kill(w.processIdentifier, SIGKILL); w.waitUntilExit() } }
        // Every worker waits for the night before the run opens it.
        for (w, p) in workers.enumerated() {
            var ready = false
            for _ in 0..<600 where !ready {
                ready = text(h, "worker\(w)-\(night).log").contains("waiting for a night")
                if !ready { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(ready, "worker \(w) (pid \(p.processIdentifier)) did not start: \(text(h, "worker\(w)-\(night).log"))")
        }
        let report = h.dir.appendingPathComponent("report-\(night).json").path
        // The run one feed at a time: its claims grow while feeds go fast, and a quiet night of
        // 2,000 feeds could otherwise be all claimed before a worker's first poll.
        let run = try spawn(h, ["run", "--config", config, "--now", now, "--report", report, "--concurrency", "1"],
                            log: "run-\(night).log")
        var victim: String? = nil
        if kill {
            let p = workers[0]
            p.waitUntilExit()
            #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL,
                    "the first worker was killed: \(text(h, "worker0-\(night).log").suffix(1_000))")
            victim = "\(host):\(p.processIdentifier)"
        }
        run.waitUntilExit()
        #expect(run.terminationStatus == 0, "run: \(text(h, "run-\(night).log").suffix(2_000))")
        for (w, p) in workers.enumerated() where !(kill && w == 0) {
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "worker \(w): \(text(h, "worker\(w)-\(night).log").suffix(2_000))")
            #expect(text(h, "worker\(w)-\(night).log").contains("done: "), "worker \(w) says what it did")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: report))
        return (try JSONSerialization.jsonObject(with: data) as! [String: Any], victim)
    }

    @Test("a run and three workers over 2,000 feeds leave the rows of a single process; also with a worker killed")
    func sharedNights() async throws {
        let h = try Harness("workers")
        defer { h.cleanUp() }
        let single = try await server.newDatabase("w_single")
        let many = try await server.newDatabase("w_many")
        let killed = try await server.newDatabase("w_killed")
        try h.write("single.yml", Self.config(single))
        try h.write("many.yml", Self.config(many))
        try h.write("killed.yml", Self.config(killed))
        for night in 1...2 {
            // Night 2 drops one race: it has no entries feed that night.
            let total = 1 + Self.feedCount + Self.races - (night == 2 ? 1 : 0)
            try writeFeeds(h, night: night)
            let now = "2026-11-2\(night)T02:00:00Z"
            let alone = try h.run(["run", "--config", "single.yml", "--now", now])
            #expect(alone.status == 0, "\(alone.stderr)")
            let reference = try await dump(single)
            #expect(reference["events"]?.count ?? 0 >= Self.feedCount * 3)

            for (url, config, kill) in [(many, "many.yml", false), (killed, "killed.yml", true)] {
                let (report, victim) = try await sharedNight(h, config: config, url: url, now: now, night: night, kill: kill)
                let what = "night \(night), \(kill ? "a worker killed" : "three workers")"
                expectSame(reference, try await dump(url), what)
                let feeds = report["feeds"] as? [[String: Any]] ?? []
                #expect(feeds.count == total, "\(what): every feed in the report once")
                #expect(Set(feeds.compactMap { $0["id"] as? String }).count == total)
                #expect(report["feeds_failed"] as? Int == 0, "\(what)")
                let workers = Set(feeds.compactMap { $0["worker"] as? String })
                #expect(workers.count >= 2, "\(what): the work was shared: \(workers)")
                #expect(try await scalar("SELECT count(*) - count(DISTINCT (run_id, feed_id, record_key, kind)) FROM changes", url) == "0",
                        "\(what): no change logged twice")
                #expect(try await scalar("SELECT count(*) FROM night_feeds WHERE state <> 'done'", url) == "0")
                if let victim {
                    // The feeds it held were taken over and done by the others.
                    let taken = try await scalar("SELECT count(*) FROM night_feeds WHERE attempts > 1", url)
                    #expect((Int(taken) ?? 0) > 0, "\(what): its leases were taken over")
                    #expect(try await scalar("SELECT count(*) FROM night_feeds WHERE attempts > 1 AND worker = '\(victim)'", url) == "0")
                    #expect(!workers.contains(victim) || feeds.filter { $0["worker"] as? String == victim }.count < total)
                } else {
                    #expect(try await scalar("SELECT max(attempts) FROM night_feeds", url) == "1", "\(what): every feed processed once")
                }
            }
        }
    }

    @Test("a worker stopped by SIGTERM commits what it has in flight, gives back the rest at once, exits 143; the run finishes the night")
    func workerSigterm() async throws {
        let h = try Harness("worker-sigterm")
        defer { h.cleanUp() }
        let url = try await server.newDatabase("w_sigterm")
        try h.write("feedsync.yml", Self.config(url).replacingOccurrences(of: "lease_seconds: 5", with: "lease_seconds: 600"))
        try writeFeeds(h, night: 1)
        // The worker holds still just after its third claim, its leases held (a test-only stall
        // point): the signal then comes mid-night for it, however fast the machine does the rest.
        let worker = try spawn(h, ["worker", "--config", "feedsync.yml", "--once", "--concurrency", "1"], log: "worker.log",
                               environment: ["FEEDSYNC_STALL_AT": "claim-3"])
        defer { if worker.isRunning { Foundation.kill(worker.processIdentifier, SIGKILL) } }
        for _ in 0..<600 where !text(h, "worker.log").contains("waiting for a night") { try await Task.sleep(for: .milliseconds(20)) }
        // One feed at a time in the run too, so that the night lasts while the worker joins it.
        let run = try spawn(h, ["run", "--config", "feedsync.yml", "--now", "2026-11-21T02:00:00Z", "--report", "report.json",
                                "--concurrency", "1"], log: "run.log")
        // The night's table shows the worker holding claimed feeds (its log lines reach the file
        // late, stdout being buffered).
        var working = false
        for _ in 0..<3_000 where !working && worker.isRunning {
            let held = try await scalar("""
                SELECT count(*) FROM night_feeds WHERE state = 'leased' AND lease_owner LIKE '%:\(worker.processIdentifier)'
                """, url)
            working = (Int(held) ?? 0) > 0
            if !working { try await Task.sleep(for: .milliseconds(5)) }
        }
        #expect(working, "the worker took part: \(text(h, "worker.log").suffix(500))")
        Foundation.kill(worker.processIdentifier, SIGTERM)
        worker.waitUntilExit()
        #expect(worker.terminationStatus == 143, "\(text(h, "worker.log").suffix(1_000))")
        #expect(text(h, "worker.log").contains("stopped by a signal"))
        run.waitUntilExit()
        // With 600-second leases, the run could only finish this soon because the worker gave its
        // claimed feeds back: none waited for a lease to expire, none was claimed twice.
        #expect(run.terminationStatus == 0, "\(text(h, "run.log").suffix(1_000))")
        #expect(try await scalar("SELECT count(*) FROM night_feeds WHERE state <> 'done'", url) == "0")
        #expect(try await scalar("SELECT max(attempts) FROM night_feeds", url) == "1")
        #expect(try await scalar("SELECT count(*) - count(DISTINCT (run_id, feed_id, record_key, kind)) FROM changes", url) == "0")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: h.dir.appendingPathComponent("report.json"))) as! [String: Any]
        #expect(report["feeds_failed"] as? Int == 0 && report["interrupted"] as? Bool == false)
        #expect((report["feeds"] as? [[String: Any]])?.count == 1 + Self.feedCount + Self.races)
    }
}
