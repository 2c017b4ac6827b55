import Foundation
import GRDB
import Testing

/// HTTP feeds from a server on loopback: validators, 304, redaction, errors.
@Suite("HTTP feeds, end to end", .serialized)
struct HTTPFeedTests {
    func withServer(_ h: Harness, _ body: (Int, URL) throws -> Void) throws {
        try FeedServer.with(h, body)
    }

    func requests(_ log: URL) throws -> [[String: String?]] {
        try FeedServer.requests(log).map { r in r.mapValues { $0 as? String } }
    }

    @Test("ETag round trip: 200, then 304 (unchanged, not parsed), then a change; secrets redacted")
    func conditionalGet() throws {
        let h = try Harness("http")
        defer { h.cleanUp() }
        try h.write("served/cal.ics", NightlyScenarioTests.airbnb().text())
        try withServer(h) { port, log in
            try h.write("feedsync.yml", """
                feeds:
                  - id: web
                    url: http://127.0.0.1:\(port)/cal.ics?s=TOPSECRET
                  - id: gone
                    url: http://127.0.0.1:\(port)/missing.ics
                """)
            var (r, rep) = try h.night("2026-11-01T02:00:00Z")
            #expect(r.status == 1)
            #expect(rep["web"].status == "changed" && rep["web"].added == 5)
            #expect(rep["gone"].status == "failed")
            #expect(rep["gone"].error?.contains("HTTP 404") == true)
            #expect(try requests(log).first?["if_none_match"] == .some(nil))

            (r, rep) = try h.night("2026-11-02T02:00:00Z")
            #expect(rep["web"].status == "unchanged" && rep["web"].reason == "HTTP 304 Not Modified")
            let second = try requests(log).filter { $0["path"] == "/cal.ics?s=TOPSECRET" }
            #expect(second.count == 2)
            #expect(second[1]["if_none_match"]??.hasPrefix("\"") == true)

            try h.write("served/cal.ics", NightlyScenarioTests.airbnb(withA6: true).text())
            (r, rep) = try h.night("2026-11-03T02:00:00Z")
            #expect(rep["web"].status == "changed" && rep["web"].sync_type == "incremental" && rep["web"].added == 1)

            // --force-full-sync sends no validators.
            (r, rep) = try h.night("2026-11-04T02:00:00Z", ["--force-full-sync"])
            #expect(try requests(log).filter { $0["path"] == "/cal.ics?s=TOPSECRET" }.last?["if_none_match"] == .some(nil))
            #expect(rep["web"].sync_type == "full")

            // The secret is nowhere: report, stdout, database.
            let reportText = try String(contentsOf: h.dir.appendingPathComponent("report.json"), encoding: .utf8)
            #expect(!reportText.contains("TOPSECRET"))
            #expect(reportText.contains("/cal.ics?s=…"))
            #expect(!r.stdout.contains("TOPSECRET") && !r.stderr.contains("TOPSECRET"))
            let urls = try h.rows("SELECT url_redacted FROM feeds").map { $0["url_redacted"] as String }
            #expect(urls.allSatisfy { !$0.contains("TOPSECRET") })
        }
    }

    @Test("--log-format json: every log line is one JSON object with time, level, message and the feed's metadata; no secret")
    func jsonLogs() throws {
        let h = try Harness("jsonlogs")
        defer { h.cleanUp() }
        try h.write("served/cal.ics", NightlyScenarioTests.airbnb().text())
        try withServer(h) { port, _ in
            try h.write("feedsync.yml", """
                feeds:
                  - id: web
                    url: http://127.0.0.1:\(port)/cal.ics?s=TOPSECRET
                  - id: gone
                    url: http://127.0.0.1:\(port)/missing.ics?token=HUSH
                """)
            let r = try h.run(["run", "--now", "2026-11-01T02:00:00Z", "--log-level", "debug", "--log-format", "json"])
            #expect(r.status == 1)
            #expect(!r.stderr.contains("TOPSECRET") && !r.stderr.contains("HUSH"))
            let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("{") }
            #expect(lines.count >= 4, "\(r.stderr)")
            var feedLines = 0
            for line in lines {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object != nil, "not one JSON object: \(line)")
                guard let object else { continue }
                #expect(object["level"] is String && object["message"] is String && object["label"] as? String == "feedsync")
                #expect((object["time"] as? String)?.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil)
                if object["message"] as? String == "feed done" {
                    feedLines += 1
                    #expect(object["feed.id"] is String && object["feed.status"] is String && object["feed.sync_type"] is String)
                    #expect(object["feed.ms"] is String)
                    for phase in ["fetch", "fingerprint", "parse", "plan", "snapshot"] {
                        #expect((object["feed.ms.\(phase)"] as? String).flatMap(Int.init) != nil, "feed.ms.\(phase)")
                    }
                }
            }
            #expect(feedLines == 2)
            // Whatever is not a log line is feedsync's own one-line message.
            #expect(r.stderr.split(separator: "\n").allSatisfy { $0.hasPrefix("{") || $0.hasPrefix("feedsync: ") })
            #expect(try h.run(["run", "--log-format", "xml"]).status == 2)
        }
    }

    /// A port on loopback where nothing listens (bound, then closed).
    func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    @Test("a refused connection: one retry, one clean sentence, and host_failure_limit stops the host's other feeds; the time line counts the wait")
    func refusedConnections() throws {
        let h = try Harness("refused")
        defer { h.cleanUp() }
        let port = try closedPort()
        var config = "http: {retries: 3, backoff_base_ms: 100, host_failure_limit: 3}\nfeeds:\n"
        for i in 1...12 { config += "  - id: r\(i)\n    url: http://127.0.0.1:\(port)/cal\(i).ics?token=HUSH\n" }
        try h.write("feedsync.yml", config)
        let (r, _) = try h.night("2026-11-01T02:00:00Z")
        #expect(r.status == 1)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: h.dir.appendingPathComponent("report.json"))) as! [String: Any]
        let feeds = json["feeds"] as! [[String: Any]]
        let refused = feeds.filter { ($0["error"] as? String)?.contains("connection refused by 127.0.0.1:\(port) (nothing listens there) (after 2 attempts)") == true }
        let notTried = feeds.filter { ($0["error"] as? String)?.contains("not tried: 127.0.0.1 did not answer the last") == true }
        #expect(refused.count >= 3 && !notTried.isEmpty && refused.count + notTried.count == 12, "\(feeds.map { $0["error"] ?? "" })")
        // Two attempts each (not retries + 1): a refused connection is retried once.
        #expect(refused.allSatisfy { ($0["http"] as? [String: Any])?["attempts"] as? Int == 2 })
        #expect(refused.allSatisfy { (($0["http"] as? [String: Any])?["responses"] as? [String: Int]) == ["none": 2] })
        #expect(!r.stdout.contains("errno") && !r.stdout.contains("error set") && !r.stdout.contains("HUSH"))
        // The summary's time line says the night went on fetching.
        let phases = json["phases"] as! [String: Double]
        #expect(phases["fetch"]! > 0)
    }

    @Test("TLS: a self-signed certificate fails the feed with one clean sentence, not retried")
    func selfSignedTLS() throws {
        let h = try Harness("tls")
        defer { h.cleanUp() }
        let key = h.dir.appendingPathComponent("key.pem").path, cert = h.dir.appendingPathComponent("cert.pem").path
        let made = try h.run(["/usr/bin/env", "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                              "-days", "1", "-keyout", key, "-out", cert], direct: true)
        #expect(made.status == 0, "\(made.stderr)")
        let server = try FeedServer.start("tls_server.py", [cert, key])
        defer { server.stop() }
        try h.write("feedsync.yml", "feeds:\n  - id: tls\n    url: https://127.0.0.1:\(server.port)/cal.ics\n")
        let (r, rep) = try h.night("2026-11-01T02:00:00Z")
        #expect(r.status == 1)
        #expect(rep["tls"].error == "GET https://127.0.0.1:\(server.port)/cal.ics: TLS handshake with 127.0.0.1:\(server.port) failed: certificate verify failed")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: h.dir.appendingPathComponent("report.json"))) as! [String: Any]
        let http = (json["feeds"] as! [[String: Any]])[0]["http"] as! [String: Any]
        #expect(http["attempts"] as? Int == 1)
    }

    /// Feeds from one slow host, one request at a time (20 ms each): 3 s or more in all.
    static let slowFeeds = 150

    func slowConfig(_ port: Int, hang: Bool = false) -> String {
        var c = "http: {per_host_concurrency: 1, per_host_rate: 1000, retries: 0, timeout_seconds: 60}\nfeeds:\n"
        if hang { c += "  - id: hanging\n    url: http://127.0.0.2:\(port)/hang\n" }
        for i in 1...Self.slowFeeds { c += "  - id: s\(i)\n    url: http://127.0.0.1:\(port)/slow/cal.ics?n=\(i)\n" }
        return c
    }

    func waitForLines(_ h: Harness, _ log: String, _ n: Int) async throws {
        for _ in 0..<1_000 where h.text(log).components(separatedBy: "first sync").count <= n {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test("SIGTERM mid-run over a slow host: exit 143, report interrupted with the rest skipped, the next run completes; SIGINT exits 130")
    func sigtermSlowHost() async throws {
        let h = try Harness("sigterm-http")
        defer { h.cleanUp() }
        try h.write("served/cal.ics", NightlyScenarioTests.airbnb().text())
        let server = try FeedServer.start("feed_server.py", [h.dir.appendingPathComponent("served").path, h.dir.appendingPathComponent("requests.log").path])
        defer { server.stop() }
        try h.write("feedsync.yml", slowConfig(server.port))
        for (signal, code) in [(SIGTERM, Int32(143)), (SIGINT, Int32(130))] {
            for file in ["feedsync.sqlite", "feedsync.sqlite-wal", "feedsync.sqlite-shm", "snapshots"] { try? h.remove(file) }
            let run = try h.spawn(["run", "--now", "2026-11-01T02:00:00Z", "--report", "report.json", "--metrics-file", "m.prom"],
                                  log: "run-\(signal).log")
            try await waitForLines(h, "run-\(signal).log", 5)
            kill(run.processIdentifier, signal)
            run.waitUntilExit()
            #expect(run.terminationStatus == code, "\(h.text("run-\(signal).log").suffix(800))")
            let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: h.dir.appendingPathComponent("report.json")))
            let skipped = report.feeds.filter { $0.status == "skipped" }.map(\.id)
            #expect(!skipped.isEmpty && skipped.count < Self.slowFeeds)
            #expect(Set(try h.rows("SELECT id FROM feeds").map { $0["id"] as String }) == Set(report.feeds.filter { $0.status != "skipped" }.map(\.id)))
            #expect(try h.rows("SELECT status FROM runs").map { $0["status"] as String } == ["interrupted"])
            let log = h.text("run-\(signal).log")
            #expect(log.contains("starting no new feed") && log.contains("feeds not reached (skipped); the others were synced and committed"))
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: h.dir.appendingPathComponent("report.json"))) as! [String: Any]
            #expect(json["interrupted"] as? Bool == true && json["feeds_skipped"] as? Int == skipped.count)
            #expect(report.feeds.filter { $0.status == "skipped" }.allSatisfy { $0.reason == "not reached: the run was stopped" })
            // The metrics file says so too.
            let m = try MetricsTests().parse(h, "m.prom")
            #expect(m[MetricsTests.g("feedsync_last_run_interrupted")] == 1)
            #expect(m[MetricsTests.g("feedsync_last_run_exit_code")] == Double(code))
            #expect(m[MetricsTests.g("feedsync_feeds", ["status": "skipped"])] == Double(skipped.count))
            let (next, rep) = try h.night("2026-11-01T02:00:00Z")
            #expect(next.status == 0)
            #expect(Set(rep.feeds.filter { $0.reason == "first sync" }.map(\.id)) == Set(skipped))
            #expect(try h.rows("SELECT count(*) AS n FROM events")[0]["n"] as Int == Self.slowFeeds * 5)
        }
    }

    @Test("a second signal, or the end of --grace-seconds with a host that never answers, stops at once; the next run repairs")
    func secondSignalAndGrace() async throws {
        let h = try Harness("sigterm-twice")
        defer { h.cleanUp() }
        try h.write("served/cal.ics", NightlyScenarioTests.airbnb().text())
        let server = try FeedServer.start("feed_server.py", [h.dir.appendingPathComponent("served").path, h.dir.appendingPathComponent("requests.log").path])
        defer { server.stop() }
        try h.write("feedsync.yml", slowConfig(server.port))
        var run = try h.spawn(["run", "--now", "2026-11-01T02:00:00Z"], log: "twice.log")
        try await waitForLines(h, "twice.log", 5)
        kill(run.processIdentifier, SIGTERM)
        kill(run.processIdentifier, SIGTERM)
        let clock = ContinuousClock()
        var t0 = clock.now
        run.waitUntilExit()
        #expect(run.terminationStatus == 143 && clock.now - t0 < .seconds(5), "\(h.text("twice.log").suffix(800))")
        var (next, _) = try h.night("2026-11-01T02:00:00Z")
        #expect(next.status == 0)
        #expect(try h.rows("SELECT count(*) AS n FROM events")[0]["n"] as Int == Self.slowFeeds * 5)

        // A feed whose host never answers is in flight: the grace period ends the run.
        try h.write("feedsync.yml", slowConfig(server.port, hang: true))
        for file in ["feedsync.sqlite", "feedsync.sqlite-wal", "feedsync.sqlite-shm", "snapshots"] { try? h.remove(file) }
        run = try h.spawn(["run", "--now", "2026-11-01T02:00:00Z", "--grace-seconds", "1"], log: "grace.log")
        try await waitForLines(h, "grace.log", 3)
        kill(run.processIdentifier, SIGTERM)
        t0 = clock.now
        run.waitUntilExit()
        #expect(run.terminationStatus == 143 && clock.now - t0 < .seconds(10), "\(h.text("grace.log").suffix(800))")
        #expect(h.text("grace.log").contains("the grace period of 1 s is over: stopping now"))
        try h.write("feedsync.yml", slowConfig(server.port))
        (next, _) = try h.night("2026-11-01T02:00:00Z")
        #expect(next.status == 0)
        #expect(try h.rows("SELECT count(*) AS n FROM events")[0]["n"] as Int == Self.slowFeeds * 5)
    }
}
