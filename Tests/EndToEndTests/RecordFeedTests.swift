import Foundation
import GRDB
import Testing

/// JSON and CSV file feeds over several nights, through the real binary.
@Suite("JSON and CSV feeds, end to end", .serialized)
struct RecordFeedTests {
    static let config = """
        timezone: UTC
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
          - id: races
            url: feeds/races.json
            format: json
            mapping: race-events
            timezone: America/New_York
          - id: members
            url: feeds/members.csv
            format: csv
            key: [club, member_id]
            summary: name
          - id: calendar
            url: feeds/calendar.ics
        """

    static func races(_ events: [(Int, String, String, String)], stamp: Int = 1, indent: Bool = false) -> String {
        let items = events.map { e in
            indent
                ? "    {\n      \"name\" : \"\(e.1)\", \"last_modified\": \(stamp),\n      \"end_time\": \"\(e.3)\", \"start_time\": \"\(e.2)\", \"event_id\": \(e.0)\n    }"
                : "{\"event_id\":\(e.0),\"name\":\"\(e.1)\",\"start_time\":\"\(e.2)\",\"end_time\":\"\(e.3)\",\"last_modified\":\(stamp)}"
        }
        return "{\"race\": {\"name\": \"City Run\", \"events\": [\n" + items.joined(separator: ",\n") + "\n]}}\n"
    }

    static let night1Events = [
        (101, "Marathon", "7/12/2025 07:00", "7/12/2025 13:00"),   // past
        (102, "10K", "12/5/2026 09:00", "12/5/2026 11:00"),
        (103, "5K", "12/6/2026 09:00", "12/6/2026 10:00"),
    ]

    func setUp(_ name: String) throws -> Harness {
        let h = try Harness(name)
        try h.write("feedsync.yml", Self.config)
        try h.write("feeds/races.json", Self.races(Self.night1Events))
        try h.write("feeds/members.csv", "club,member_id,name,joined\r\nA,1,\"Smith, Ann\",2020\r\nA,2,Bob,2021\r\nB,1,Cleo,2022\r\n")
        try h.write("feeds/calendar.ics", NightlyScenarioTests.airbnb().text())
        return h
    }

    @Test("adds, edits and removals; reordering, whitespace and volatile fields are not changes; the data column")
    func nights() throws {
        let h = try setUp("records")
        defer { h.cleanUp() }
        let (r1, rep1) = try h.night("2026-11-23T02:00:00Z")
        #expect(r1.status == 0)
        // A first sync is full: the past event is stored too.
        #expect(rep1["races"].status == "changed" && rep1["races"].added == 3 && rep1["races"].sync_type == "full")
        #expect(rep1["members"].added == 3)
        let row = try #require(try h.rows("SELECT * FROM events WHERE feed_id = 'races' AND record_key = '102'").first)
        #expect(row["start"] == "2026-12-05T14:00:00Z" && row["summary"] == "10K")
        #expect(row["data"] == #"{"end_time":"12/5/2026 11:00","event_id":102,"name":"10K","start_time":"12/5/2026 09:00"}"#)
        let member = try #require(try h.rows("SELECT * FROM events WHERE feed_id = 'members' AND record_key = 'A|1'").first)
        #expect(member["start"] == nil as String? && member["summary"] == "Smith, Ann")
        #expect(try h.snapshotFiles().contains("races.1.fsnap"))

        // Night 2: only the volatile last_modified moved: skipped without parsing.
        try h.write("feeds/races.json", Self.races(Self.night1Events, stamp: 2))
        let (r2, rep2) = try h.night("2026-11-23T14:00:00Z")
        #expect(r2.status == 0 && rep2.feeds_changed == 0)
        #expect(rep2["races"].reason == "body fingerprint unchanged" && rep2["races"].sync_type == "none")

        // Night 2b: the same records, reindented, reordered, keys in another order, members reordered:
        // parsed (the body changed) but nothing is a change.
        try h.write("feeds/races.json", Self.races(Self.night1Events.reversed(), stamp: 3, indent: true))
        try h.write("feeds/members.csv", "club,member_id,name,joined\nB,1,Cleo,2022\nA,2,Bob,2021\nA,1,\"Smith, Ann\",2020\n")
        let (r2b, rep2b) = try h.night("2026-11-24T02:00:00Z")
        #expect(r2b.status == 0 && rep2b.feeds_changed == 0)
        #expect(rep2b["races"].sync_type == "incremental" && rep2b["races"].status == "unchanged" && rep2b["races"].updated == 0)
        #expect(rep2b["members"].status == "unchanged" && rep2b["members"].sync_type == "incremental")

        // Night 3: 102 renamed, 103 dropped (future: removed), 101 dropped (past: kept), 104 added.
        try h.write("feeds/races.json", Self.races([(102, "10K Classic", "12/5/2026 09:00", "12/5/2026 11:00"),
                                                   (104, "Relay", "12/7/2026 09:00", "12/7/2026 12:00")]))
        try h.write("feeds/members.csv", "club,member_id,name,joined\nA,1,\"Smith, Ann\",2020\nA,2,Bob,2023\nB,1,Cleo,2022\n")
        let (r3, rep3) = try h.night("2026-11-25T02:00:00Z")
        #expect(r3.status == 0)
        let races = rep3["races"]
        #expect(races.sync_type == "incremental" && races.added == 1 && races.updated == 1 && races.removed == 1)
        #expect(rep3["members"].updated == 1)
        let live = try h.rows("SELECT record_key, summary FROM events WHERE feed_id = 'races' AND removed_at IS NULL ORDER BY record_key")
        #expect(live.map { $0["record_key"] as String } == ["101", "102", "104"])
        #expect(live.map { $0["summary"] as String } == ["Marathon", "10K Classic", "Relay"])
        let changes = try h.rows("SELECT kind, record_key FROM changes WHERE feed_id = 'races' AND run_id = 4 ORDER BY record_key")
        #expect(changes.map { "\($0["kind"] as String) \($0["record_key"] as String)" } == ["updated 102", "removed 103", "added 104"])
    }

    @Test("a malformed JSON or CSV body fails alone, naming the feed and the line; its rows stay")
    func malformed() throws {
        let h = try setUp("records-bad")
        defer { h.cleanUp() }
        #expect(try h.night("2026-11-23T02:00:00Z").0.status == 0)
        try h.write("feeds/races.json", "{\"race\": {\"events\": [\n{\"event_id\": 102,}\n]}}")
        try h.write("feeds/members.csv", "club,member_id,name,joined\nA,1,\"Smith\n")
        let (r, rep) = try h.night("2026-11-24T02:00:00Z")
        #expect(r.status == 1 && rep.feeds_failed == 2)
        #expect(rep["races"].error == "cannot parse the feed: line 2: JSON: unexpected `}`: expected a member name in quotes")
        #expect(rep["members"].error == "cannot parse the feed: line 2: CSV: unterminated quoted field")
        #expect(rep["calendar"].status == "unchanged")
        #expect(r.stdout.contains("races: failed — cannot parse the feed: line 2: JSON"))
        #expect(try h.rows("SELECT * FROM events WHERE feed_id IN ('races', 'members') AND removed_at IS NULL").count == 6)
        #expect(try h.snapshotFiles().contains("races.1.fsnap"))

        // A body of another kind (an HTML page) and a record without its key.
        try h.write("feeds/races.json", "<!DOCTYPE html><html>Log in</html>")
        try h.write("feeds/members.csv", "club,member_id,name,joined\nA,,Nobody,2020\n")
        let (_, rep2) = try h.night("2026-11-25T02:00:00Z")
        #expect(rep2["races"].error == "cannot parse the feed: line 1: JSON: the body is not JSON (it looks like HTML or XML)")
        #expect(rep2["members"].error == "cannot parse the feed: record 1 (row 1 (line 2)) has no key `member_id`")
    }

    @Test("mapping mistakes are configuration errors (exit 2) naming the line")
    func configErrors() throws {
        let h = try Harness("records-config")
        defer { h.cleanUp() }
        try h.write("feedsync.yml", "feeds:\n  - id: a\n    url: a.json\n    format: json\n")
        let r = try h.run(["run", "--config", "feedsync.yml"])
        #expect(r.status == 2 && r.stderr.contains("feedsync.yml:2: feed `a` (format json) needs a `key`"))
        try h.write("feedsync.yml", "feeds:\n  - id: a\n    url: a.json\n    format: json\n    mapping: nope\n")
        #expect(try h.run(["run", "--config", "feedsync.yml"]).stderr.contains("feedsync.yml:5: feed `a`: unknown mapping `nope`"))
        try h.write("feedsync.yml", "feeds:\n  - id: a\n    url: a.ics\n    key: uid\n")
        #expect(try h.run(["run", "--config", "feedsync.yml"]).stderr.contains("mapping settings apply to JSON and CSV feeds"))
        try h.write("feedsync.yml", "feeds:\n  - id: a\n    url: a.json\n    format: json\n    key: id\n    time_format: \"%Q\"\n")
        #expect(try h.run(["run", "--config", "feedsync.yml"]).stderr.contains("feedsync.yml:6: time_format `%Q`: unknown field %Q"))
    }

    @Test("feedsync parse --feed reads a JSON or CSV feed with its format and mapping; snapshot inspect shows its records")
    func parseAndInspect() throws {
        let h = try setUp("records-parse")
        defer { h.cleanUp() }
        let r = try h.run(["parse", "--config", "feedsync.yml", "--feed", "races", "--feed", "members", "--json",
                           "--now", "2026-11-23T02:00:00Z"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 6)
        #expect(lines[1].hasPrefix(#"{"key":"102","uid":"102","recurrence_id":null,"start":"2026-12-05T14:00:00Z","end":"2026-12-05T16:00:00Z","all_day":false,"start_date":"2026-12-05","end_date":"2026-12-06","last_end":"2026-12-05T16:00:00Z","future":true,"hash":""#))
        #expect(lines[1].hasSuffix(#""summary":"10K","data":"{\"end_time\":\"12/5/2026 11:00\",\"event_id\":102,\"name\":\"10K\",\"start_time\":\"12/5/2026 09:00\"}"}"#))
        #expect(lines[3].hasPrefix(#"{"key":"A|1","uid":"A|1","recurrence_id":null,"start":null,"end":null,"all_day":false,"start_date":null,"end_date":null,"last_end":null,"future":true,"#))
        let summary = try h.run(["parse", "--config", "feedsync.yml", "--feed", "races", "--summary", "--now", "2026-11-23T02:00:00Z"])
        #expect(summary.stdout == "races: 3 records, 2 future, 1 past, 0 warnings\n")
        let unknown = try h.run(["parse", "--config", "feedsync.yml", "--feed", "nope"])
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown feed id nope"))

        #expect(try h.night("2026-11-23T02:00:00Z").0.status == 0)
        let inspect = try h.run(["snapshot", "inspect", "races", "--records", "--config", "feedsync.yml", "--now", "2026-11-23T02:00:00Z"])
        #expect(inspect.status == 0)
        #expect(inspect.stdout.contains("format:         2.1, parser version 1"))
        #expect(inspect.stdout.contains("feed format:    json"))
        #expect(inspect.stdout.contains("10K"))
    }
}
