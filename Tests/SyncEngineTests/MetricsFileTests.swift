import FeedModel
import Foundation
import Testing
@testable import SyncEngine

/// The metrics text, as a pure function of a run's figures and the previous file.
@Suite("Metrics file text")
struct MetricsFileTests {
    func health(_ id: String, lastSuccess: Int64?) -> FeedHealth {
        FeedHealth(id: id, parent: nil, verdict: lastSuccess == nil ? .stale : .healthy, why: "",
                   lastSuccess: lastSuccess.map(ISOTime.format), ageDays: nil, lastStatus: nil, lastError: nil,
                   snapshotGeneration: nil, records: 0)
    }

    func samples(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for s in MetricsText.parse(text) {
            let labels = s.labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
            out[s.name + (labels.isEmpty ? "" : "{\(labels)}")] = s.value
        }
        return out
    }

    @Test("a feed id with a quote, a backslash or a line feed is escaped, and reads back as itself")
    func escaping() {
        let odd = "a\"b\\c\nd"
        let m = RunMetrics(finishedAt: 10, seconds: 1, exitCode: 0, report: nil, health: [health(odd, lastSuccess: 1_000)])
        let text = MetricsFile.render(m, previous: nil)
        #expect(text.contains(#"feedsync_feed_last_success_timestamp_seconds{feed="a\"b\\c\nd"} 1000.0"#))
        #expect(samples(text)["feedsync_feed_last_success_timestamp_seconds{feed=\(odd)}"] == 1000)
    }

    @Test("families sorted by name, series by label; HELP and TYPE once per family")
    func order() {
        var report = RunReport(mode: .incremental, now: "2026-11-01T02:00:00Z", startedAt: "2026-11-01T02:00:00Z", dryRun: false)
        report.feeds = [FeedReport(id: "a", url: "a", status: .changed, syncType: .full, reason: "")]
        report.counts.count(status: .changed, added: 0, updated: 0, removed: 0, pastSkipped: 0)
        let text = MetricsFile.render(RunMetrics(finishedAt: 10, seconds: 1, exitCode: 0, report: report, health: []), previous: nil)
        let names = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        #expect(names == names.sorted() && Set(names).count == names.count && names.count == 12)  // no HTTP feed: no request counter yet
        let feeds = text.split(separator: "\n").filter { $0.hasPrefix("feedsync_feeds{") }
        #expect(feeds == ["feedsync_feeds{status=\"changed\"} 1.0", "feedsync_feeds{status=\"failed\"} 0.0",
                          "feedsync_feeds{status=\"skipped\"} 0.0", "feedsync_feeds{status=\"unchanged\"} 0.0"])
    }

    @Test("100,000 feeds: one series each, counters carried from a previous file of the same size")
    func manyFeeds() {
        let feeds = (0..<100_000).map { health("feed-\($0)", lastSuccess: $0 % 10 == 0 ? nil : 1_800_000_000 + Int64($0)) }
        let first = MetricsFile.render(RunMetrics(finishedAt: 10, seconds: 1, exitCode: 0, report: nil, health: feeds), previous: nil)
        let second = MetricsFile.render(RunMetrics(finishedAt: 20, seconds: 1, exitCode: 3, report: nil, health: nil), previous: first)
        let s = samples(second)
        #expect(s.keys.count { $0.hasPrefix("feedsync_feed_last_success_timestamp_seconds{") } == 90_000)
        #expect(s["feedsync_feed_last_success_timestamp_seconds{feed=feed-99999}"] == 1_800_099_999)
        #expect(s["feedsync_runs_total"] == 2 && s["feedsync_last_run_exit_code"] == 3 && s["feedsync_stale_feeds"] == 10_000)
    }
}
