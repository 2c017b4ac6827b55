import Foundation
import Testing

/// A feed's bytes come from a stranger: nothing in them may stop the run for the other feeds.
@Suite("Hostile input, end to end", .serialized)
struct HostileInputTests {
    /// The reproduction of the stack overflow: ~40,000 components nested inside one VEVENT (640 KB).
    static func deep(_ depth: Int = 40_000) -> String {
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261201T100000Z\r\n"
            + String(repeating: "BEGIN:X\r\n", count: depth) + String(repeating: "END:X\r\n", count: depth)
            + "END:VEVENT\r\nEND:VCALENDAR\r\n"
    }

    @Test("a 40,000-deep feed fails alone: exit 1, the other feed synced, the report written")
    func deepNestingFailsOnlyThatFeed() throws {
        let h = try Harness("deep")
        defer { h.cleanUp() }
        try h.write("feedsync.yml", """
            feeds:
              - id: airbnb
                url: feeds/airbnb.ics
              - id: hostile
                url: feeds/deep.ics
            """)
        try h.write("feeds/airbnb.ics", NightlyScenarioTests.airbnb().text())
        try h.write("feeds/deep.ics", Self.deep())
        let (r, rep) = try h.night("2026-11-01T02:00:00Z")
        #expect(r.status == 1)
        #expect(rep.feeds_failed == 1 && rep.feeds_changed == 1)
        #expect(rep["airbnb"].status == "changed" && rep["airbnb"].added > 0)
        #expect(rep["hostile"].status == "failed")
        #expect(rep["hostile"].error?.contains("line 67: components nested more than 64 deep") == true)
        #expect(r.stdout.contains("hostile: failed"))
        #expect(try h.rows("SELECT * FROM events WHERE feed_id = 'airbnb'").count == rep["airbnb"].added)
        #expect(try h.rows("SELECT * FROM events WHERE feed_id = 'hostile'").isEmpty)
        #expect(try h.snapshotFiles() == ["airbnb.1.fsnap"])
    }

    @Test("feedsync parse on the reproduction exits 1 with the reason, not a crash")
    func parseCommand() throws {
        let h = try Harness("deep-parse")
        defer { h.cleanUp() }
        try h.write("deep.ics", Self.deep())
        let r = try h.run(["parse", "deep.ics", "--json"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot parse deep.ics: line 67: components nested more than 64 deep"))
    }
}
