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
                }
            }
            #expect(feedLines == 2)
            // Whatever is not a log line is feedsync's own one-line message.
            #expect(r.stderr.split(separator: "\n").allSatisfy { $0.hasPrefix("{") || $0.hasPrefix("feedsync: ") })
            #expect(try h.run(["run", "--log-format", "xml"]).status == 2)
        }
    }
}
