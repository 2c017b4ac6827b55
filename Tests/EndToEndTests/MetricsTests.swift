import Foundation
import Testing

/// `--metrics-file`: the Prometheus text file, read back by a real parser (Python's
/// prometheus-client, installed into .build/py by tools/python-env), its values held against the
/// run reports and `feedsync status`.
@Suite("Metrics file, end to end", .serialized)
struct MetricsTests {
    struct Sample: Hashable {
        var name: String
        var labels: [String: String]
    }

    /// The venv tools/test prepares (tools/python-env).
    static var python: URL { root.appendingPathComponent(".build/py/bin/python") }

    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Prometheus's promtool (tools/promtool unpacks it; tools/test does), with `arguments`, the
    /// file `stdin` on its standard input; its exit status and output.
    static func promtool(_ h: Harness, _ arguments: [String], stdin: String? = nil) throws -> Harness.Result? {
        let tool = root.appendingPathComponent(".build/promtool/usr/bin/promtool")
        guard FileManager.default.isExecutableFile(atPath: tool.path) else {
            Issue.record("no \(tool.path): run tools/promtool (tools/test does)")
            return nil
        }
        var command = "\"\(tool.path)\" " + arguments.map { "'\($0)'" }.joined(separator: " ")
        if let stdin { command += " < '\(h.dir.appendingPathComponent(stdin).path)'" }
        return try h.run(["/bin/sh", "-c", command + " 2>&1"], direct: true)
    }

    /// Every sample of the file as prometheus-client parses it; the parser's error fails the test.
    func parse(_ h: Harness, _ relative: String) throws -> [Sample: Double] {
        guard FileManager.default.isExecutableFile(atPath: Self.python.path) else {
            Issue.record("no \(Self.python.path): run tools/python-env (tools/test does) to install prometheus-client")
            return [:]
        }
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = []
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                assert family.type in ("gauge", "counter"), family.type
                for s in family.samples:
                    out.append({"name": s.name, "labels": s.labels, "value": s.value, "type": family.type})
            print(json.dumps(out))
            """
        let r = try h.run([Self.python.path, "-c", script, h.dir.appendingPathComponent(relative).path], direct: true)
        #expect(r.status == 0, "prometheus-client could not parse the file: \(r.stderr)\n\(h.text(relative))")
        guard r.status == 0, let list = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] else { return [:] }
        var out: [Sample: Double] = [:]
        for item in list {
            let sample = Sample(name: item["name"] as! String, labels: item["labels"] as! [String: String])
            #expect(out[sample] == nil, "\(sample) twice")
            out[sample] = (item["value"] as! NSNumber).doubleValue
        }
        return out
    }

    func report(_ h: Harness) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: h.dir.appendingPathComponent("report.json"))) as! [String: Any]
    }

    /// HTTP requests by status and wire bytes, from a report's feeds.
    func http(_ report: [String: Any]) -> (codes: [String: Double], bytes: Double) {
        var codes: [String: Double] = [:]
        var bytes = 0.0
        for feed in report["feeds"] as! [[String: Any]] {
            guard let http = feed["http"] as? [String: Any] else { continue }
            bytes += (http["bytes_wire"] as! NSNumber).doubleValue
            for (code, n) in http["responses"] as! [String: NSNumber] { codes[code, default: 0] += n.doubleValue }
        }
        return (codes, bytes)
    }

    static func g(_ name: String, _ labels: [String: String] = [:]) -> Sample { Sample(name: name, labels: labels) }

    @Test("Counters add up over nights, gauges match each report and `status`; a run that cannot sync keeps the figures and says its exit code")
    func metricsOverNights() throws {
        let h = try Harness("metrics")
        defer { h.cleanUp() }
        try h.write("served/cal.ics", NightlyScenarioTests.airbnb().text())
        try h.write("feeds/local.ics", NightlyScenarioTests.airbnb().text())
        try FeedServer.with(h) { port, _ in
            try h.write("feedsync.yml", """
                http: {backoff_base_ms: 10}
                feeds:
                  - id: web
                    url: http://127.0.0.1:\(port)/cal.ics?s=TOPSECRET
                  - id: flaky
                    url: http://127.0.0.1:\(port)/flaky/cal.ics
                  - id: gone
                    url: http://127.0.0.1:\(port)/missing.ics
                  - id: local
                    url: feeds/local.ics
                """)
            let file = "metrics/feedsync.prom"  // its folder does not exist yet
            let (r1, _) = try h.night("2026-11-01T02:00:00Z", ["--metrics-file", file])
            #expect(r1.status == 1)
            let rep1 = try report(h)
            var m = try parse(h, file)
            func g(_ name: String, _ labels: [String: String] = [:]) -> Sample { Self.g(name, labels) }
            #expect(m[g("feedsync_runs_total")] == 1)
            #expect(m[g("feedsync_last_run_exit_code")] == 1)
            #expect(m[g("feedsync_last_run_interrupted")] == 0)
            for status in ["unchanged", "changed", "failed", "skipped"] {
                let n = (rep1["feeds"] as! [[String: Any]]).count { $0["status"] as? String == status }
                #expect(m[g("feedsync_feeds", ["status": status])] == Double(n), "\(status)")
            }
            #expect(m[g("feedsync_feeds", ["status": "changed"])] == 3 && m[g("feedsync_feeds", ["status": "failed"])] == 1)
            for kind in ["added", "updated", "removed"] {
                let n = (rep1["events_\(kind)"] as! NSNumber).doubleValue
                #expect(m[g("feedsync_events_changed_total", ["kind": kind])] == n)
                #expect(m[g("feedsync_last_run_events_changed", ["kind": kind])] == n)
            }
            #expect(m[g("feedsync_events_changed_total", ["kind": "added"])] == 15)
            let phases = rep1["phases"] as! [String: NSNumber]
            for (phase, seconds) in phases {
                #expect(abs((m[g("feedsync_phase_seconds", ["phase": phase])] ?? -1) - seconds.doubleValue) < 1e-6, "\(phase)")
            }
            let (codes1, bytes1) = http(rep1)
            // web 200, flaky 500 then 200, gone 404; the file feed sends no request.
            #expect(codes1 == ["200": 2, "500": 1, "404": 1])
            for (code, n) in codes1 { #expect(m[g("feedsync_http_requests_total", ["code": code])] == n) }
            #expect(m[g("feedsync_bytes_fetched_total")] == bytes1 && bytes1 > 0)
            let night1 = 1_793_498_400.0  // 2026-11-01T02:00:00Z
            for feed in ["web", "flaky", "local"] {
                #expect(m[g("feedsync_feed_last_success_timestamp_seconds", ["feed": feed])] == night1, "\(feed)")
            }
            #expect(m[g("feedsync_feed_last_success_timestamp_seconds", ["feed": "gone"])] == nil)
            #expect(m[g("feedsync_failing_feeds")] == 1 && m[g("feedsync_stale_feeds")] == 0)
            let ended = m[g("feedsync_last_run_timestamp_seconds")] ?? 0
            #expect(abs(ended - Date().timeIntervalSince1970) < 120)
            #expect((m[g("feedsync_last_run_duration_seconds")] ?? -1) >= 0)
            #expect(!h.text(file).contains("TOPSECRET"))
            // Prometheus's own linter: names, types, units, help.
            if let lint = try Self.promtool(h, ["check", "metrics"], stdin: file) {
                #expect(lint.status == 0 && lint.stdout.isEmpty, "promtool check metrics: \(lint.stdout)")
            }

            // Night 2: web answers 304, nothing changes. Counters add this night to the first.
            let (r2, _) = try h.night("2026-11-02T02:00:00Z", ["--metrics-file", file])
            #expect(r2.status == 1)
            let rep2 = try report(h)
            m = try parse(h, file)
            #expect(m[g("feedsync_runs_total")] == 2)
            let (codes2, bytes2) = http(rep2)
            #expect(codes2["304"] == 2)  // web and flaky
            for code in Set(codes1.keys).union(codes2.keys) {
                #expect(m[g("feedsync_http_requests_total", ["code": code])] == (codes1[code] ?? 0) + (codes2[code] ?? 0), "\(code)")
            }
            #expect(m[g("feedsync_bytes_fetched_total")] == bytes1 + bytes2)
            #expect(m[g("feedsync_events_changed_total", ["kind": "added"])] == 15)
            #expect(m[g("feedsync_last_run_events_changed", ["kind": "added"])] == 0)
            #expect(m[g("feedsync_feeds", ["status": "unchanged"])] == 3)

            // Four days later only `gone` is run: the others' last success is four days old.
            let (r3, _) = try h.night("2026-11-06T02:00:00Z", ["--metrics-file", file, "--feed", "gone"])
            #expect(r3.status == 1)
            m = try parse(h, file)
            let status = try h.run(["status", "--json", "--now", "2026-11-06T02:00:00Z"])
            let health = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as! [String: Any]
            #expect(m[g("feedsync_stale_feeds")] == (health["stale"] as! NSNumber).doubleValue)
            #expect(m[g("feedsync_failing_feeds")] == (health["failing"] as! NSNumber).doubleValue)
            #expect(m[g("feedsync_stale_feeds")] == 3 && m[g("feedsync_failing_feeds")] == 1)
            #expect(m[g("feedsync_feed_last_success_timestamp_seconds", ["feed": "web"])] == night1 + 86_400)
            let before = m

            // A broken configuration: exit 2, written as such; counters kept, the feed figures too.
            try h.write("broken.yml", "feeds: [")
            let broken = try h.run(["run", "--config", "broken.yml", "--metrics-file", file])
            #expect(broken.status == 2)
            m = try parse(h, file)
            #expect(m[g("feedsync_last_run_exit_code")] == 2)
            #expect(m[g("feedsync_runs_total")] == 4)
            for (sample, value) in before where !sample.name.hasPrefix("feedsync_last_run_") || sample.name == "feedsync_last_run_events_changed"
                                             || sample.name == "feedsync_last_run_interrupted" {
                guard sample.name != "feedsync_runs_total" else { continue }
                #expect(m[sample] == value, "\(sample) kept")
            }
            // A dry run writes no metrics; no temp file is left beside the file.
            let text = h.text(file)
            try h.run(["run", "--config", "feedsync.yml", "--now", "2026-11-07T02:00:00Z", "--dry-run", "--metrics-file", file])
            #expect(h.text(file) == text)
            #expect(try FileManager.default.contentsOfDirectory(atPath: h.dir.appendingPathComponent("metrics").path) == ["feedsync.prom"])
        }
    }

    @Test("examples/prometheus: the alert rules are valid PromQL and fire as their unit tests say (promtool)")
    func alertRules() throws {
        let h = try Harness("alert-rules")
        defer { h.cleanUp() }
        let folder = Self.root.appendingPathComponent("examples/prometheus").path
        guard let check = try Self.promtool(h, ["check", "rules", folder + "/feedsync-alerts.yml"]),
              let test = try Self.promtool(h, ["test", "rules", folder + "/feedsync-alerts.test.yml"]) else { return }
        #expect(check.status == 0 && check.stdout.contains("SUCCESS: 5 rules found"), "\(check.stdout)")
        #expect(test.status == 0 && test.stdout.contains("SUCCESS"), "\(test.stdout)")
        // Every metric the rules use is one the file has.
        let rules = try String(contentsOfFile: folder + "/feedsync-alerts.yml", encoding: .utf8)
        let used = Set(rules.matches(of: /feedsync_[a-z_]+/).map { String($0.output) })
        let written = Set(["feedsync_stale_feeds", "feedsync_failing_feeds", "feedsync_last_run_exit_code",
                           "feedsync_last_run_timestamp_seconds"])
        #expect(used == written, "\(used)")
    }

    @Test("A damaged or foreign file at the path costs its counters, never the run")
    func damagedPrevious() throws {
        let h = try Harness("metrics-damaged")
        defer { h.cleanUp() }
        try h.write("feeds/local.ics", NightlyScenarioTests.airbnb().text())
        try h.write("feedsync.yml", "feeds:\n  - id: local\n    url: feeds/local.ics\n  - id: \"q\"\n    url: feeds/local.ics\n")
        try h.write("m.prom", """
            garbage without a value
            feedsync_runs_total{unexpected="label"} 5
            feedsync_events_changed_total 7
            feedsync_events_changed_total{kind="added"} NaN
            feedsync_http_requests_total{code="200"} 41
            feedsync_feeds{status="changed",extra="x"} 3
            feedsync_bytes_fetched_total{kind="x\\"y"} 9
            """)
        let (r, _) = try h.night("2026-11-01T02:00:00Z", ["--metrics-file", "m.prom"])
        #expect(r.status == 0)
        let m = try parse(h, "m.prom")
        func g(_ name: String, _ labels: [String: String] = [:]) -> Sample { Self.g(name, labels) }
        #expect(m[g("feedsync_runs_total")] == 1)
        #expect(m[g("feedsync_events_changed_total", ["kind": "added"])] == 10)
        #expect(m[g("feedsync_http_requests_total", ["code": "200"])] == 41)
        #expect(m[g("feedsync_feeds", ["status": "changed"])] == 2)
        #expect(m[g("feedsync_bytes_fetched_total")] == 0)
        // A path that cannot be written: said on stderr, the night's status stands.
        try h.write("blocker", "a file where a folder should be")
        let (r2, _) = try h.night("2026-11-02T02:00:00Z", ["--metrics-file", "blocker/m.prom"])
        #expect(r2.status == 0)
        #expect(r2.stderr.contains("cannot write the metrics file blocker/m.prom"))
    }
}
