import Foundation
import GRDB
import Testing

/// A race API on loopback (race_api.py): events as JSON, each event's participants with
/// `last_modified`, `modified_after_timestamp` honoured, paginated. Several nights through the
/// real binary: children only for future events, deltas with `{since}`, fallbacks and full syncs.
@Suite("Children from a race API, end to end", .serialized)
struct RaceAPITests {
    static let night1: Int64 = 1_795_399_200   // 2026-11-23T02:00:00Z

    struct API {
        var events: [[String: Any]]
        var participants: [String: [[String: Any]]]
        var failIncremental: [Int] = []

        func write(_ h: Harness) throws {
            let obj: [String: Any] = ["events": events, "participants": participants, "fail_incremental": failIncremental]
            try JSONSerialization.data(withJSONObject: obj).write(to: h.dir.appendingPathComponent("api.json"))
        }
    }

    static func person(_ id: Int, _ name: String, modified: Int64 = night1 - 86_400) -> [String: Any] {
        ["registration_id": id, "name": name, "last_modified": modified]
    }

    static func event(_ id: Int, _ name: String, _ start: String, _ end: String) -> [String: Any] {
        ["event_id": id, "name": name, "start_time": start, "end_time": end, "last_modified": 1]
    }

    static var initial: API {
        API(events: [event(101, "Marathon 2025", "7/12/2025 07:00", "7/12/2025 13:00"),
                     event(102, "10K", "12/5/2026 09:00", "12/5/2026 11:00"),
                     event(103, "5K", "12/6/2026 09:00", "12/6/2026 10:00")],
            participants: ["101": [person(1, "Old One"), person(2, "Old Two")],
                           "102": (1...5).map { person(10 + $0, "Runner \($0)") },
                           "103": [person(21, "Walker")]])
    }

    func config(_ port: Int) -> String {
        """
        incremental_days: 7
        http: {retries: 0}
        mappings:
          race-events:
            records: /race/events
            key: event_id
            start: start_time
            end: end_time
            time_format: "%m/%d/%Y %H:%M"
            summary: name
            volatile: [last_modified]
        feeds:
          - id: race
            url: http://127.0.0.1:\(port)/race/1?format=json
            format: json
            mapping: race-events
            timezone: America/New_York
            children:
              name: participants
              url: "http://127.0.0.1:\(port)/race/1/participants?event_id={event_id}&format=json&modified_after_timestamp={since}"
              records: /*/participants
              key: registration_id
              summary: name
              volatile: [last_modified]
              since: {format: unix, overlap_seconds: 300}
              pagination: {param: page, first: 1, size_param: results_per_page, size: 2}
          - id: calendar
            url: feeds/calendar.ics
        """
    }

    /// Starts race_api.py over `<harness>/api.json`; stops it at the end of `body`.
    static func withAPI(_ h: Harness, _ body: (Int, URL) throws -> Void) throws {
        let log = h.dir.appendingPathComponent("api.log")
        try FeedServer.launch("race_api.py", [h.dir.appendingPathComponent("api.json").path, log.path]) { port in
            try body(port, log)
        }
    }

    /// The participant requests logged since the last call (the log is emptied).
    static func requests(_ log: URL) throws -> [[String: Any]] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: log)
        return try text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }.filter { ($0["path"] as? String) == "/race/1/participants" }
    }

    static func summary(_ r: [[String: Any]]) -> [String] {
        r.map { "\($0["event_id"] as? String ?? "?") since=\($0["since"] as? String ?? "-") page=\($0["page"] as? String ?? "-")" }.sorted()
    }

    func live(_ h: Harness, _ feed: String) throws -> [String] {
        try h.rows("SELECT summary FROM events WHERE feed_id = ? AND removed_at IS NULL ORDER BY summary", [feed])
            .map { $0["summary"] as String }
    }

    @Test("future events only, deltas with {since}, volatile-only changes, new events, fallbacks, forced and stale nights")
    func nights() throws {
        let h = try Harness("race-api")
        defer { h.cleanUp() }
        try h.write("feeds/calendar.ics", NightlyScenarioTests.airbnb().text())
        var api = Self.initial
        try api.write(h)
        try Self.withAPI(h) { port, log in
            try h.write("feedsync.yml", config(port))

            // Night 1: first sync, every child in full, pages of 2; the past event is never asked for.
            let (r1, rep1) = try h.night("2026-11-23T02:00:00Z")
            #expect(r1.status == 0)
            #expect(Self.summary(try Self.requests(log)) == ["102 since=- page=1", "102 since=- page=2", "102 since=- page=3",
                                                            "103 since=- page=1"])
            let c102 = rep1["race/participants/102"]
            #expect(c102.sync_type == "full" && c102.added == 5 && c102.parent == "race")
            #expect(rep1["race"].children?.total == 2 && rep1["race"].children?.full == 2 && rep1["race"].future == 2)
            #expect(r1.stdout.contains("race: 3 records, 2 future, 2 children: 0 incremental, 2 full, 0 full_fallback, 0 unchanged, 0 failed"))
            #expect(try live(h, "race/participants/102") == (1...5).map { "Runner \($0)" })
            #expect(try h.snapshotFiles().contains("race~2Fparticipants~2F102.1.fsnap"))

            // Night 2: runner 3 renamed, runner 4 only re-saved (last_modified), a new event 104.
            api.participants["102"]![2] = Self.person(13, "Runner Three", modified: Self.night1 + 3_600)
            api.participants["102"]![3] = Self.person(14, "Runner 4", modified: Self.night1 + 3_600)
            api.events.append(Self.event(104, "Relay", "12/7/2026 09:00", "12/7/2026 12:00"))
            api.participants["104"] = [Self.person(31, "Leg A"), Self.person(32, "Leg B")]
            try api.write(h)
            let (r2, rep2) = try h.night("2026-11-24T02:00:00Z")
            #expect(r2.status == 0)
            let since = String(Self.night1 - 300)
            let requests2 = Self.summary(try Self.requests(log))
            // 102's delta fills a page of 2, so page 2 is asked for (and is empty).
            #expect(requests2 == ["102 since=\(since) page=1", "102 since=\(since) page=2", "103 since=\(since) page=1",
                                                            "104 since=- page=1", "104 since=- page=2"])
            let d102 = rep2["race/participants/102"]
            #expect(d102.sync_type == "incremental" && d102.reason == "records modified since \(since)")
            #expect(d102.updated == 1 && d102.added == 0 && d102.removed == 0)
            #expect(rep2["race/participants/103"].status == "unchanged")
            #expect(rep2["race/participants/104"].sync_type == "full" && rep2["race/participants/104"].added == 2)
            #expect(try live(h, "race/participants/102") == ["Runner 1", "Runner 2", "Runner 4", "Runner 5", "Runner Three"])
            #expect(try h.rows("SELECT * FROM changes WHERE run_id = 2 AND feed_id = 'race/participants/102'").count == 1)

            // Night 3: an incremental request answered with 500 is fetched again in full, at once.
            api.failIncremental = [103]
            try api.write(h)
            let (_, rep3) = try h.night("2026-11-25T02:00:00Z")
            let f103 = rep3["race/participants/103"]
            #expect(f103.sync_type == "full_fallback" && f103.status == "unchanged")
            // Query values are redacted in messages, as in every feed URL.
            #expect(f103.reason.hasPrefix("incremental request failed (GET http://127.0.0.1:\(port)/race/1/participants?event_id=…"))
            #expect(f103.reason.hasSuffix("HTTP 500 Internal Server Error); fetched in full"))
            #expect(rep3["race"].children?.full_fallback == 1)
            let requests3 = Self.summary(try Self.requests(log))
            #expect(requests3.contains("103 since=\(String(1_795_485_600 - 300)) page=1") && requests3.contains("103 since=- page=1"))
            api.failIncremental = []

            // Night 4: 102 (ends 2026-12-05 16:00Z) is past: its participants are no longer asked
            // for. The last success is 10 days old (more than incremental_days): the others in full.
            try api.write(h)
            let (_, rep4) = try h.night("2026-12-05T20:00:00Z")
            let requests4 = Self.summary(try Self.requests(log))
            #expect(requests4 == ["103 since=- page=1", "104 since=- page=1", "104 since=- page=2"])
            #expect(rep4["race/participants/103"].sync_type == "full"
                    && rep4["race/participants/103"].reason == "last successful sync 10 days ago (threshold 7)")
            #expect(rep4["race"].future == 2 && rep4.feeds.filter { $0.parent == "race" }.count == 2)
            #expect(try live(h, "race/participants/102").count == 5)   // history stays

            // Night 5: --force-full-sync asks every child in full and removes the participant deleted upstream.
            api.participants["104"] = [Self.person(31, "Leg A")]
            try api.write(h)
            let (_, rep5) = try h.night("2026-12-05T21:00:00Z", ["--force-full-sync", "--allow-mass-removal"])
            #expect(Self.summary(try Self.requests(log)) == ["103 since=- page=1", "104 since=- page=1"])
            #expect(rep5["race/participants/104"].sync_type == "full" && rep5["race/participants/104"].removed == 1)
            #expect(try live(h, "race/participants/104") == ["Leg A"])

            // Night 6: more than incremental_days after the last success: in full again.
            let (_, rep6) = try h.night("2026-12-06T12:00:00Z")
            #expect(rep6["race/participants/104"].status == "unchanged")
            _ = try Self.requests(log)
            let (_, rep7) = try h.night("2026-12-14T12:00:00Z")
            #expect(rep7["race"].future == 0)   // every event is past now: no child runs at all
            #expect(try Self.requests(log).isEmpty)
        }
    }

    @Test("--test runs only the first feed and its children")
    func testFlag() throws {
        let h = try Harness("race-test")
        defer { h.cleanUp() }
        try h.write("feeds/calendar.ics", NightlyScenarioTests.airbnb().text())
        try Self.initial.write(h)
        try Self.withAPI(h) { port, _ in
            try h.write("feedsync.yml", config(port))
            let (r, rep) = try h.night("2026-11-23T02:00:00Z", ["--test"])
            #expect(r.status == 0)
            #expect(rep.feeds.map(\.id) == ["race", "race/participants/102", "race/participants/103"])
            #expect(try h.rows("SELECT * FROM feeds WHERE id = 'calendar'").isEmpty)
        }
    }
}
