import FeedModel
import Testing
@testable import ICalendarFeeds
import FeedFormats

@Suite struct ICalendarFormatTests {
    @Test("a calendar starts with BEGIN:VCALENDAR after a BOM and blanks, in any case")
    func sniff() {
        let f = ICalendarFormat()
        #expect(f.sniff(Array("BEGIN:VCALENDAR\r\n".utf8)))
        #expect(f.sniff([0xEF, 0xBB, 0xBF] + Array(" \r\n\tbegin:vcalendar\n".utf8)))
        #expect(!f.sniff([]))
        #expect(!f.sniff(Array("<!DOCTYPE html>".utf8)))
        #expect(!f.sniff(Array("{\"error\":1}".utf8)))
        #expect(!f.sniff(Array("BEGIN:VCAL".utf8)))
    }

    @Test("parse errors keep their line; the registry makes the format by name with the feed's settings")
    func errorsAndRegistry() throws {
        let f = try #require(FormatRegistry.standard.make("ics", settings: FormatSettings(timeZone: "Europe/Lisbon")))
        #expect(f.name == "ics" && f.parserVersion == ICalendarFormat.parserVersion)
        #expect(FormatRegistry.standard.make("xml") == nil && FormatRegistry.standard.names == ["ics", "json", "csv"])
        #expect(throws: FeedFormatError(line: 3, message: "unexpected end of input: missing END:VEVENT; still open: VCALENDAR (line 1) > VEVENT (line 2)")) {
            try f.parse(Array("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n".utf8))
        }
        let parsed = try f.parse(Array("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART;VALUE=DATE:20261201\r\nSUMMARY:Stay\\, long\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".utf8))
        #expect(parsed.timeZone == "Europe/Lisbon")
        let body = try #require(parsed.records.first?.body)
        #expect(f.summary(ofCanonicalBody: body) == "Stay, long")
        #expect(f.properties(ofCanonicalBody: body).map(\.name) == ["DTSTART", "SUMMARY", "UID"])
    }
}
