import Foundation
import GRDB
import Testing

/// A cancelled occurrence of a series, over nights with the real binary.
@Suite("A cancelled occurrence, end to end", .serialized)
struct CancelledOccurrenceTests {
    static func calendar(overrideStatus: String) -> String {
        """
        BEGIN:VCALENDAR\r
        VERSION:2.0\r
        PRODID:-//t//t//EN\r
        BEGIN:VEVENT\r
        UID:clean\r
        DTSTART:20270104T100000Z\r
        DTEND:20270104T120000Z\r
        RRULE:FREQ=WEEKLY;COUNT=6\r
        SUMMARY:Cleaning\r
        END:VEVENT\r
        BEGIN:VEVENT\r
        UID:clean\r
        RECURRENCE-ID:20270111T100000Z\r
        DTSTART:20270111T100000Z\r
        DTEND:20270111T120000Z\r
        STATUS:\(overrideStatus)\r
        SUMMARY:Cleaning\r
        END:VEVENT\r
        END:VCALENDAR\r

        """
    }

    @Test("stored removed, so `WHERE removed_at IS NULL` does not show it; a full sync leaves it; confirmed again, it is live")
    func cancelled() throws {
        let h = try Harness("cancelled")
        defer { h.cleanUp() }
        try h.write("feedsync.yml", "feeds:\n  - id: cal\n    url: feeds/cal.ics\n")
        try h.write("feeds/cal.ics", Self.calendar(overrideStatus: "CANCELLED"))
        let (r, rep) = try h.night("2026-11-01T02:00:00Z")
        #expect(r.status == 0 && rep["cal"].added == 2)
        let live = try h.rows("SELECT record_key FROM events WHERE removed_at IS NULL").map { $0["record_key"] as String }
        #expect(live == ["clean"])
        #expect(try h.rows("SELECT removed_at FROM events WHERE recurrence_id IS NOT NULL")[0]["removed_at"] as String? == "2026-11-01T02:00:00Z")
        let (_, full) = try h.night("2026-11-02T02:00:00Z", ["--force-full-sync"])
        #expect(full["cal"].added == 0 && full["cal"].updated == 0 && full["cal"].removed == 0)
        try h.write("feeds/cal.ics", Self.calendar(overrideStatus: "CONFIRMED"))
        let (_, again) = try h.night("2026-11-03T02:00:00Z")
        #expect(again["cal"].updated == 1)
        #expect(try h.rows("SELECT count(*) AS n FROM events WHERE removed_at IS NULL")[0]["n"] as Int == 2)
    }
}
