import FeedModel
import ICalendar
import Testing
@testable import ICalendarFeeds

/// `on_bad_event: keep`: one VEVENT that cannot be read, its key known, is set aside.
@Suite("Bad events")
struct BadEventTests {
    static func calendar(_ events: String...) -> [UInt8] {
        Array(("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" + events.joined() + "END:VCALENDAR\r\n").utf8)
    }
    static func event(_ uid: String?, end: String = "20270101T110000Z", rid: String? = nil) -> String {
        var s = "BEGIN:VEVENT\r\n"
        if let uid { s += "UID:\(uid)\r\n" }
        if let rid { s += "RECURRENCE-ID:\(rid)\r\n" }
        return s + "DTSTART:20270101T100000Z\r\nDTEND:\(end)\r\nSUMMARY:x\r\nEND:VEVENT\r\n"
    }

    func parser(keep: Bool) -> FeedParser {
        var p = FeedParser(timeZone: "UTC", volatileProperties: ["DTSTAMP"])
        p.keepBadEvents = keep
        return p
    }

    @Test("kept aside with its key, line and cause; the others are read; without keep, the feed fails as before")
    func keptAside() throws {
        let body = Self.calendar(Self.event("good"), Self.event("bad", end: "19970701T1100000Z"))
        let parsed = try parser(keep: true).parse(body)
        #expect(parsed.records.map(\.key) == ["good"])
        #expect(parsed.badRecords.count == 1 && parsed.badRecords[0].key == "bad")
        #expect(parsed.badRecords[0].line == 13 && parsed.badRecords[0].error.contains("19970701T1100000Z"))
        #expect(parsed.warnings.contains { $0.contains("event bad cannot be read") && $0.contains("its stored state is kept") })
        #expect(throws: ICalParseError.self) { try parser(keep: false).parse(body) }
        // The format takes the policy from its settings.
        var settings = FormatSettings()
        settings.onBadRecord = .keep
        #expect(try ICalendarFormat(settings: settings).parse(body).badRecords.map(\.key) == ["bad"])
        #expect(throws: FeedFormatError.self) { try ICalendarFormat().parse(body) }
    }

    @Test("no key, no keeping: an event without UID, or with a RECURRENCE-ID that does not parse, fails the feed")
    func noKey() {
        let noUID = Self.calendar(Self.event("good"), Self.event(nil, end: "nonsense"))
        #expect(throws: ICalParseError.self) { try parser(keep: true).parse(noUID) }
        let badRID = Self.calendar(Self.event("good"), Self.event("s", rid: "2027-01-01"))
        #expect(throws: ICalParseError.self) { try parser(keep: true).parse(badRID) }
    }

    @Test("an override with a bad value is set aside under its own key (UID + RECURRENCE-ID)")
    func override() throws {
        let body = Self.calendar(Self.event("s"), Self.event("s", end: "bad", rid: "20270101T100000Z"))
        let parsed = try parser(keep: true).parse(body)
        #expect(parsed.records.map(\.key) == ["s"])
        #expect(parsed.badRecords.map(\.key) == [RecordKey.make(uid: "s", recurrenceID: "20270101T100000Z")])
    }
}
