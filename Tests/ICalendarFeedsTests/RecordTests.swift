import Testing
import FeedModel
@testable import ICalendarFeeds

@Suite("Records and canonical hashes")
struct RecordTests {
    let parser = FeedParser(timeZone: "Europe/Berlin", volatileProperties: ["DTSTAMP"])

    func records(_ lines: [String], eol: String = "\r\n") throws -> [FeedRecord] {
        let text = (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN"] + lines + ["END:VCALENDAR"]).joined(separator: eol) + eol
        return try parser.parse(Array(text.utf8)).records
    }

    let event = ["BEGIN:VEVENT", "UID:e1@x", "DTSTAMP:20261101T000000Z", "DTSTART:20261201T100000Z",
                 "DTEND:20261201T110000Z", "SUMMARY:Stay\\, two nights", "DESCRIPTION:Line 1\\nLine 2", "END:VEVENT"]

    @Test("reordering, refolding, CRLF↔LF, DTSTAMP and escape variants change no hash")
    func hashInvariance() throws {
        let base = try records(event)[0]
        let reordered = try records(["BEGIN:VEVENT", "DESCRIPTION:Line 1\\NLine 2", "SUMMARY:Stay\\, two nights",
                                     "DTEND:20261201T110000Z", "DTSTART:20261201T100000Z", "DTSTAMP:20261122T000000Z",
                                     "UID:e1@x", "END:VEVENT"], eol: "\n")[0]
        let refolded = try records(["BEGIN:VEVENT", "UID:e1@x", "DTSTAMP:20261101T000000Z", "DTSTART:20261201T100000Z",
                                    "DTEND:20261201T110000Z", "SUMMARY:Stay\\, t", " wo nights", "DESCRIPTION:Line 1\\nLi", "\tne 2", "END:VEVENT"])[0]
        #expect(base.hash == reordered.hash)
        #expect(base.hash == refolded.hash)
        #expect(base.body == reordered.body)
        #expect(base.summary == "Stay, two nights")
        #expect(base.description == "Line 1\nLine 2")
    }

    @Test("a change of meaning changes the hash", arguments: [
        ("SUMMARY:Stay\\, two nights", "SUMMARY:Stay\\, three nights"),
        ("DTEND:20261201T110000Z", "DTEND:20261201T120000Z"),
        ("DTSTART:20261201T100000Z", "DTSTART;TZID=Europe/Berlin:20261201T100000"),
    ])
    func hashChanges(from: String, to: String) throws {
        let a = try records(event)[0]
        let b = try records(event.map { $0 == from ? to : $0 })[0]
        #expect(a.hash != b.hash)
    }

    @Test("parameter order and case of names do not matter")
    func parameters() throws {
        let a = try records(["BEGIN:VEVENT", "UID:p", "DTSTART;VALUE=DATE:20261201", "ATTENDEE;ROLE=CHAIR;CN=\"Doe, J\":mailto:j@x", "END:VEVENT"])[0]
        let b = try records(["begin:vevent", "uid:p", "dtstart;value=DATE:20261201", "attendee;cn=\"Doe, J\";role=CHAIR:mailto:j@x", "end:vevent"])[0]
        #expect(a.hash == b.hash)
    }

    @Test("keys: UID, and UID with the normalised RECURRENCE-ID for an override")
    func keys() throws {
        let r = try records([
            "BEGIN:VEVENT", "UID:s1", "DTSTART;TZID=Europe/Berlin:20260907T100000", "DTEND;TZID=Europe/Berlin:20260907T110000",
            "RRULE:FREQ=WEEKLY;COUNT=3", "END:VEVENT",
            "BEGIN:VEVENT", "UID:s1", "RECURRENCE-ID;TZID=Europe/Berlin:20260914T100000",
            "DTSTART;TZID=Europe/Berlin:20260914T120000", "DTEND;TZID=Europe/Berlin:20260914T130000", "END:VEVENT",
            "BEGIN:VEVENT", "UID:d1", "RECURRENCE-ID;VALUE=DATE:20261224", "DTSTART;VALUE=DATE:20261225", "END:VEVENT",
        ])
        #expect(r.map(\.key) == ["s1", "s1|RID:20260914T080000Z", "d1|RID:20261224"])
        #expect(r[0].recurrenceID == nil)
        #expect(r[0].lastEnd == r[0].end + 14 * 86_400)            // third weekly occurrence
        #expect(r[1].recurrenceID == "20260914T080000Z")
        #expect(r[2].allDay && r[2].startDate == "2026-12-25" && r[2].endDate == "2026-12-26")
    }

    @Test("an unbounded series never ends")
    func unbounded() throws {
        let r = try records(["BEGIN:VEVENT", "UID:u", "DTSTART:20200101T100000Z", "RRULE:FREQ=YEARLY", "END:VEVENT"])[0]
        #expect(r.lastEnd == nil)
        #expect(r.isFuture(now: 4_000_000_000))
    }

    @Test("two different events with one key are both kept under deterministic keys, identical copies once")
    func duplicates() throws {
        let a = ["BEGIN:VEVENT", "UID:dup", "DTSTART:20261201T100000Z", "SUMMARY:A", "END:VEVENT"]
        let b = ["BEGIN:VEVENT", "UID:dup", "DTSTART:20261201T100000Z", "SUMMARY:B", "END:VEVENT"]
        let result1 = try parser.parse(Array((["BEGIN:VCALENDAR"] + a + b + a + ["END:VCALENDAR"]).joined(separator: "\n").utf8))
        let result2 = try parser.parse(Array((["BEGIN:VCALENDAR"] + b + a + ["END:VCALENDAR"]).joined(separator: "\n").utf8))
        #expect(result1.records.count == 2)
        #expect(Set(result1.records.map(\.key)) == Set(result2.records.map(\.key)))
        #expect(result1.records.contains { $0.key == "dup" })
        #expect(result1.records.contains { $0.key.hasPrefix("dup|DUP:") })
        #expect(result1.warnings.contains { $0.contains("2 events share") || $0.contains("3 events share") })
        #expect(result1.warnings.contains { $0.contains("identical") })
    }

    @Test("an event without UID gets a stable key from its content")
    func noUID() throws {
        let lines = ["BEGIN:VEVENT", "DTSTART:20261201T100000Z", "SUMMARY:Anonymous", "DTSTAMP:20261101T000000Z", "END:VEVENT"]
        let a = try parser.parse(Array((["BEGIN:VCALENDAR"] + lines + ["END:VCALENDAR"]).joined(separator: "\n").utf8))
        let b = try parser.parse(Array((["BEGIN:VCALENDAR"] + lines.map { $0.hasPrefix("DTSTAMP") ? "DTSTAMP:20261122T000000Z" : $0 } + ["END:VCALENDAR"]).joined(separator: "\n").utf8))
        #expect(a.records[0].key.hasPrefix("nouid-"))
        #expect(a.records[0].key == b.records[0].key)
        #expect(a.warnings.contains { $0.contains("no UID") })
    }

    @Test("a body that is not a complete calendar fails with its line")
    func broken() {
        #expect(throws: (any Error).self) { try parser.parse(Array("<html><body>Login</body></html>".utf8)) }
        do {
            _ = try parser.parse(Array("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:1\nDTSTART:20261201T100000Z\n".utf8))
            Issue.record("a truncated calendar parsed")
        } catch {
            #expect(error.line != nil)
        }
    }
}
