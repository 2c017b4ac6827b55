import Foundation
import GRDB
import Testing

/// `on_bad_event`, over three nights with the real binary.
@Suite("One bad event, end to end", .serialized)
struct BadEventNightTests {
    static func calendar(stayEnd: String, goodSummary: String, extra: Bool) -> String {
        var s = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
        s += "BEGIN:VEVENT\r\nUID:stay\r\nDTSTART:20270101T150000Z\r\nDTEND:\(stayEnd)\r\nSUMMARY:Reserved\r\nEND:VEVENT\r\n"
        s += "BEGIN:VEVENT\r\nUID:good\r\nDTSTART:20270201T150000Z\r\nDTEND:20270203T110000Z\r\nSUMMARY:\(goodSummary)\r\nEND:VEVENT\r\n"
        if extra { s += "BEGIN:VEVENT\r\nUID:new\r\nDTSTART:20270301T150000Z\r\nDTEND:20270302T110000Z\r\nSUMMARY:Reserved\r\nEND:VEVENT\r\n" }
        return s + "END:VCALENDAR\r\n"
    }

    func stayRow(_ h: Harness) throws -> [String: String?] {
        let row = try #require(try h.rows("SELECT record_hash, \"end\", removed_at FROM events WHERE uid = 'stay'").first)
        return ["hash": row["record_hash"], "end": row["end"], "removed": row["removed_at"]]
    }

    @Test("keep (default): the bad event's stored row is untouched, the rest syncs, the report lists it; fixed, it is unchanged")
    func keep() throws {
        let h = try Harness("bad-event")
        defer { h.cleanUp() }
        try h.write("feedsync.yml", "feeds:\n  - id: cal\n    url: feeds/cal.ics\n")
        try h.write("feeds/cal.ics", Self.calendar(stayEnd: "20270105T110000Z", goodSummary: "Reserved", extra: false))
        #expect(try h.night("2026-11-01T02:00:00Z").0.status == 0)
        let before = try stayRow(h)

        // Night 2: the stay's DTEND is broken, the other event changed and a new one came.
        try h.write("feeds/cal.ics", Self.calendar(stayEnd: "20270105T1100000Z", goodSummary: "Reserved - Alice", extra: true))
        let (r, rep) = try h.night("2026-11-02T02:00:00Z")
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(rep["cal"].status == "changed" && rep["cal"].added == 1 && rep["cal"].updated == 1 && rep["cal"].removed == 0)
        #expect(try stayRow(h) == before, "the bad event's row is kept as it was")
        #expect(try h.rows("SELECT uid FROM changes WHERE run_id = 2 ORDER BY uid").map { $0["uid"] as String } == ["good", "new"])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: h.dir.appendingPathComponent("report.json"))) as! [String: Any]
        let bad = try #require(((json["feeds"] as! [[String: Any]])[0]["bad_events"] as? [[String: Any]]))
        #expect(bad.count == 1 && bad[0]["key"] as? String == "stay" && bad[0]["line"] as? Int == 7)
        #expect((bad[0]["error"] as? String)?.contains("20270105T1100000Z") == true)
        #expect(r.stderr.contains("cal: warning: line 7: event stay cannot be read"), "\(r.stderr)")

        // Night 3: fixed as it was: nothing to do for it (the snapshot kept its old version).
        try h.write("feeds/cal.ics", Self.calendar(stayEnd: "20270105T110000Z", goodSummary: "Reserved - Alice", extra: true))
        let (r3, rep3) = try h.night("2026-11-03T02:00:00Z")
        #expect(r3.status == 0 && rep3["cal"].status == "unchanged" && rep3["cal"].updated == 0, "\(r3.stdout)")
        #expect(try stayRow(h) == before)
        // Night 4: fixed with a new end: an ordinary update.
        try h.write("feeds/cal.ics", Self.calendar(stayEnd: "20270106T110000Z", goodSummary: "Reserved - Alice", extra: true))
        let (_, rep4) = try h.night("2026-11-04T02:00:00Z")
        let after = try stayRow(h)
        #expect(rep4["cal"].updated == 1 && after["end"] != before["end"])
    }

    @Test("fail_feed: the feed fails as a whole and nothing of it changes; an event without a UID fails the feed under keep too")
    func failFeed() throws {
        let h = try Harness("bad-event-fail")
        defer { h.cleanUp() }
        try h.write("feedsync.yml", "feeds:\n  - id: cal\n    url: feeds/cal.ics\n    on_bad_event: fail_feed\n")
        try h.write("feeds/cal.ics", Self.calendar(stayEnd: "20270105T110000Z", goodSummary: "Reserved", extra: false))
        #expect(try h.night("2026-11-01T02:00:00Z").0.status == 0)
        let rows = try h.rows("SELECT uid, record_hash FROM events ORDER BY uid").map { "\($0["uid"] as String)=\($0["record_hash"] as String)" }
        try h.write("feeds/cal.ics", Self.calendar(stayEnd: "20270105T1100000Z", goodSummary: "Reserved - Alice", extra: true))
        let (r, rep) = try h.night("2026-11-02T02:00:00Z")
        #expect(r.status == 1 && rep["cal"].status == "failed" && rep["cal"].error?.contains("line 7") == true)
        #expect(try h.rows("SELECT uid, record_hash FROM events ORDER BY uid").map { "\($0["uid"] as String)=\($0["record_hash"] as String)" } == rows)

        try h.write("feedsync.yml", "feeds:\n  - id: cal\n    url: feeds/cal.ics\n")
        try h.write("feeds/cal.ics", Self.calendar(stayEnd: "20270105T110000Z", goodSummary: "Reserved", extra: false)
            .replacingOccurrences(of: "UID:stay\r\nDTSTART:20270101T150000Z\r\nDTEND:20270105T110000Z", with: "DTSTART:20270101T150000Z\r\nDTEND:nonsense"))
        let (r2, rep2) = try h.night("2026-11-03T02:00:00Z")
        #expect(r2.status == 1 && rep2["cal"].status == "failed", "\(r2.stdout)")
        #expect(try h.run(["run", "--now", "2026-11-03T02:00:00Z"]).status == 1)
        try h.write("bad.yml", "on_bad_event: skip\nfeeds:\n  - id: cal\n    url: feeds/cal.ics\n")
        let usage = try h.run(["run", "--config", "bad.yml"])
        #expect(usage.status == 2 && usage.stderr.contains("`on_bad_event` must be `keep` or `fail_feed`"))
    }
}
