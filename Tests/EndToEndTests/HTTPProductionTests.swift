import Foundation
import Testing

/// HTTP the way production needs it (docs/http.md): misbehaving servers, retries, limits,
/// politeness. Tiny timeouts and backoffs keep it fast.
@Suite("HTTP in production conditions, end to end", .serialized)
struct HTTPProductionTests {
    /// Report feeds with their `http` object, read loosely.
    func feeds(_ h: Harness) throws -> [String: [String: Any]] {
        let data = try Data(contentsOf: h.dir.appendingPathComponent("report.json"))
        let obj = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let list = try #require(obj["feeds"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: list.map { ($0["id"] as! String, $0) })
    }

    func http(_ f: [String: Any]?) -> [String: Any] { (f?["http"] as? [String: Any]) ?? [:] }

    @Test("each misbehaving server fails or recovers its own feed; the good feed is not disturbed")
    func misbehaving() throws {
        let h = try Harness("http-prod")
        defer { h.cleanUp() }
        try h.write("served/cal.ics", NightlyScenarioTests.airbnb().text())
        try h.write("served/v.ics", NightlyScenarioTests.vrbo().text())
        try FeedServer.with(h) { port, log in
            let base = "http://127.0.0.1:\(port)"
            let names: [(String, String)] = [
                ("good", "/cal.ics?s=TOPSECRET"),
                ("gzip", "/gzip/cal.ics"), ("deflate", "/deflate/cal.ics"), ("rawdeflate", "/rawdeflate/v.ics"),
                ("flaky", "/flaky/cal.ics?s=TOPSECRET"), ("r429", "/429/cal.ics"), ("r429date", "/429date/v.ics"),
                ("r429long", "/429long/cal.ics"), ("drip", "/drip"), ("hang", "/hang"), ("loop", "/loop/a?s=TOPSECRET"),
                ("redirect", "/redirect/v.ics"), ("bomb", "/bomb"), ("html", "/html"), ("json", "/json"),
                ("empty", "/empty"), ("huge", "/huge"), ("hugecl", "/hugecl"), ("reset", "/reset?s=TOPSECRET"),
                ("notfound", "/nope.ics"),
            ]
            var yaml = """
                concurrency: 32
                http:
                  timeout_seconds: 1
                  read_timeout_seconds: 0.6
                  connect_timeout_seconds: 1
                  max_body_bytes: 1000000
                  retries: 2
                  backoff_base_ms: 10
                  max_retry_after_seconds: 2
                  per_host_concurrency: 32
                  per_host_rate: 1000
                  host_failure_limit: 0
                feeds:

                """
            for (id, path) in names {
                yaml += "  - id: \(id)\n    url: \(base)\(path)\n"
                if id == "hang" || id == "drip" { yaml += "    http: {retries: 0}\n" }
            }
            try h.write("feedsync.yml", yaml)
            // The drip and the hang end as "timed out" failures (below): the run is not held by them.
            // (No wall-clock assertion here: speed is a benchmark's business, not a test's.)
            let (r, rep) = try h.night("2026-11-01T02:00:00Z")
            #expect(r.status == 1)
            let f = try feeds(h)
            for id in ["good", "gzip", "deflate", "flaky", "r429"] {
                #expect(rep[id].status == "changed" && rep[id].added == 5, "\(id): \(rep[id].status) \(rep[id].error ?? "")")
            }
            for id in ["rawdeflate", "r429date", "redirect"] {
                #expect(rep[id].status == "changed" && rep[id].added == 3, "\(id): \(rep[id].status) +\(rep[id].added) \(rep[id].error ?? "")")
            }
            // Compressed: fewer bytes on the wire than decoded.
            #expect((http(f["gzip"])["bytes_wire"] as? Int ?? 0) < (http(f["gzip"])["bytes_decoded"] as? Int ?? 0))
            #expect(http(f["good"])["bytes_wire"] as? Int == http(f["good"])["bytes_decoded"] as? Int)
            #expect(http(f["good"])["status"] as? Int == 200 && http(f["good"])["attempts"] as? Int == 1)
            #expect(http(f["flaky"])["attempts"] as? Int == 2)
            #expect(http(f["r429"])["attempts"] as? Int == 2)
            #expect(http(f["redirect"])["attempts"] as? Int == 2)

            func failed(_ id: String, _ words: [String]) {
                #expect(rep[id].status == "failed", "\(id) should fail")
                let e = rep[id].error ?? ""
                for w in words { #expect(e.contains(w), "\(id): `\(e)` should say `\(w)`") }
            }
            failed("r429long", ["HTTP 429", "Retry-After 3600 s is over the ceiling"])
            #expect(http(f["r429long"])["attempts"] as? Int == 1)
            failed("drip", ["timed out"])
            failed("hang", ["timed out"])
            // Their own `http: {retries: 0}` overrides the top-level `retries: 2`.
            #expect(http(f["hang"])["attempts"] as? Int == 1 && http(f["drip"])["attempts"] as? Int == 1)
            #expect(http(f["drip"])["status"] as? Int == 200, "the drip's head came; its body never ended")
            failed("loop", ["redirect loop"])
            failed("bomb", ["over the limit of 1000000 bytes once decompressed"])
            failed("html", ["HTTP 200", "text/html", "not an iCalendar feed", "<!DOCTYPE html>"])
            failed("json", ["HTTP 200", "application/json", "not an iCalendar feed"])
            failed("empty", ["(empty body)", "not an iCalendar feed"])
            failed("huge", ["over the limit of 1000000 bytes"])
            failed("hugecl", ["3000000 bytes is over the limit"])
            failed("reset", ["after 3 attempts"])
            #expect(http(f["reset"])["attempts"] as? Int == 3)
            failed("notfound", ["HTTP 404"])
            #expect(http(f["notfound"])["attempts"] as? Int == 1, "no retry on 404")
            // Failed feeds wrote nothing.
            let failedIDs = rep.feeds.filter { $0.status == "failed" }.map(\.id)
            let rows = try h.rows("SELECT COUNT(*) AS n FROM events WHERE feed_id IN (\(failedIDs.map { "'\($0)'" }.joined(separator: ",")))")
            #expect(rows.first?["n"] as Int? == 0)

            // Secrets: redacted in stdout, stderr and the report.
            let reportText = try String(contentsOf: h.dir.appendingPathComponent("report.json"), encoding: .utf8)
            #expect(!reportText.contains("TOPSECRET") && !r.stdout.contains("TOPSECRET") && !r.stderr.contains("TOPSECRET"))
            let reqs = try FeedServer.requests(log)
            #expect(reqs.allSatisfy { ($0["accept_encoding"] as? String) == "gzip, deflate" })

            // Second night: validators give 304 for the good feed; the debug log holds no secret.
            let r2 = try h.run(["run", "--config", "feedsync.yml", "--now", "2026-11-02T02:00:00Z",
                                "--feed", "good", "--feed", "reset", "--log-level", "trace"])
            #expect(r2.stdout.contains("good: unchanged — HTTP 304 Not Modified"))
            #expect(!r2.stdout.contains("TOPSECRET") && !r2.stderr.contains("TOPSECRET"))
        }
    }

    @Test("a host that does not answer: after host_failure_limit feeds, its other feeds fail at once")
    func unreachableHost() throws {
        let h = try Harness("http-down")
        defer { h.cleanUp() }
        try h.write("feeds/local.ics", NightlyScenarioTests.airbnb().text())
        var yaml = """
            concurrency: 1
            http:
              connect_timeout_seconds: 0.3
              timeout_seconds: 1
              retries: 1
              backoff_base_ms: 10
              host_failure_limit: 2
            feeds:
              - {id: local, url: feeds/local.ics}

            """
        for i in 0..<8 { yaml += "  - {id: down\(i), url: \"http://127.0.0.1:1/cal.ics?s=TOPSECRET&n=\(i)\"}\n" }
        try h.write("feedsync.yml", yaml)
        let (r, rep) = try h.night("2026-11-01T02:00:00Z")
        #expect(r.status == 1)
        #expect(rep["local"].status == "changed")
        let down = rep.feeds.filter { $0.id.hasPrefix("down") }
        #expect(down.allSatisfy { $0.status == "failed" })
        #expect(down.filter { $0.error?.contains("not tried: 127.0.0.1 did not answer the last 2 feeds") == true }.count == 6)
        #expect(!r.stdout.contains("TOPSECRET"))
    }

    @Test("per-host limits hold while 200 feeds are fetched from three hosts")
    func perHostLimits() throws {
        let h = try Harness("http-hosts")
        defer { h.cleanUp() }
        try h.write("served/cal.ics", NightlyScenarioTests.airbnb().text())
        try FeedServer.with(h) { port, log in
            let hosts = ["127.0.0.1", "127.0.0.2", "localhost"]
            var yaml = """
                concurrency: 64
                http:
                  per_host_concurrency: 3
                  per_host_rate: 40
                  timeout_seconds: 10
                feeds:

                """
            for i in 0..<200 {
                yaml += "  - id: f\(i)\n    url: http://\(hosts[i % 3]):\(port)/slow/cal.ics?n=\(i)\n"
            }
            try h.write("feedsync.yml", yaml)
            let (r, rep) = try h.night("2026-11-01T02:00:00Z")
            #expect(r.status == 0, "\(r.stderr)")
            #expect(rep.feeds_changed == 200)

            let reqs = try FeedServer.requests(log)
            #expect(reqs.count == 200)
            var byHost: [String: [(Double, Double)]] = [:]
            for q in reqs {
                byHost[q["host"] as! String, default: []].append((q["t0"] as! Double, q["t1"] as! Double))
            }
            #expect(Set(byHost.keys) == Set(hosts))
            for (host, spans) in byHost {
                // Peak requests in flight.
                var events: [(Double, Int)] = spans.flatMap { [($0.0, 1), ($0.1, -1)] }
                events.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
                var now = 0, peak = 0
                for e in events { now += e.1; peak = max(peak, now) }
                #expect(peak <= 3, "\(host): \(peak) requests at once")
                // Rate: the client starts at most rate × w + 1 requests in any window of w seconds. The
                // server sees arrivals, which scheduling jitter on a loaded machine can bunch (seen:
                // 43 in a second while other suites ran beside this one); 100 ms of it are allowed,
                // 4 more starts at 40 a second. Unlimited, the 67 requests of a host would all arrive
                // within a fraction of a second.
                let starts = spans.map(\.0).sorted()
                var worst = 0
                var lo = 0
                for hi in starts.indices {
                    while starts[hi] - starts[lo] >= 1.0 { lo += 1 }
                    worst = max(worst, hi - lo + 1)
                }
                #expect(worst <= 46, "\(host): \(worst) requests started within one second")
            }
            // Connections: peak open connections per host, from the server's connection log.
            Thread.sleep(forTimeInterval: 0.3)  // the server logs a connection when it sees it close
            let conns = try FeedServer.lines(log).filter { $0["conn"] != nil && $0["host"] is String }
            for host in hosts {
                let spans = conns.filter { $0["host"] as? String == host }.map { ($0["open"] as! Double, $0["close"] as! Double) }
                var events: [(Double, Int)] = spans.flatMap { [($0.0, 1), ($0.1, -1)] }
                events.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
                var now = 0, peak = 0
                for e in events { now += e.1; peak = max(peak, now) }
                #expect(peak <= 3, "\(host): \(peak) connections open at once")
            }
        }
    }
}
