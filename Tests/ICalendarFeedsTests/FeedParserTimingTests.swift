import Foundation
import Testing
import FeedModel
@testable import ICalendarFeeds
import ICalendar

@Suite("FeedParser: zones, overrides, damaged feeds, corpus")
struct FeedParserTimingTests {
    func feed(_ lines: [String], header: [String] = []) -> [UInt8] {
        Array((["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN"] + header + lines + ["END:VCALENDAR"]).joined(separator: "\r\n").utf8)
    }
    let floating = ["BEGIN:VEVENT", "UID:f", "DTSTART:20260701T120000", "DTEND:20260701T130000", "END:VEVENT"]

    @Test("feed timezone wins, then X-WR-TIMEZONE, then the top-level timezone")
    func zonePrecedence() throws {
        let body = feed(floating, header: ["X-WR-TIMEZONE:America/New_York"])
        let top = FeedParser(timeZone: "Europe/Berlin", volatileProperties: [])
        #expect(ISOTime.format(try top.parse(body).records[0].start) == "2026-07-01T16:00:00Z")
        let own = FeedParser(timeZone: "Europe/Berlin", feedTimeZone: "Asia/Tokyo", volatileProperties: [])
        #expect(ISOTime.format(try own.parse(body).records[0].start) == "2026-07-01T03:00:00Z")
        let none = try top.parse(feed(floating))
        #expect(ISOTime.format(none.records[0].start) == "2026-07-01T10:00:00Z")
        let bad = try top.parse(feed(floating, header: ["X-WR-TIMEZONE:Mars/Base"]))
        #expect(ISOTime.format(bad.records[0].start) == "2026-07-01T10:00:00Z")
        #expect(bad.warnings.contains { $0.contains("X-WR-TIMEZONE") })
    }

    @Test("a misspelt END closes its component: the feed's events are read and the warning is the feed's")
    func misspeltEnd() throws {
        let body = feed(["BEGIN:VTODO", "UID:t", "END:VTOOD", "BEGIN:VEVENT", "UID:e", "DTSTART:20270101T100000Z",
                         "DTEND:20270101T110000Z", "END:VEVNT"])
        let parsed = try FeedParser(timeZone: "UTC", volatileProperties: []).parse(body)
        #expect(parsed.records.map(\.key) == ["e"])
        #expect(parsed.warnings.first == "line 6: END:VTOOD does not match BEGIN:VTODO (line 4); taken as END:VTODO")
        #expect(parsed.warnings.contains("line 11: END:VEVNT does not match BEGIN:VEVENT (line 7); taken as END:VEVENT"))
    }

    @Test("an override of one occurrence with a rule of its own stands for that occurrence: the rule is ignored, with a warning; with THISANDFUTURE it counts")
    func overrideWithItsOwnRule() throws {
        let master = ["BEGIN:VEVENT", "UID:s", "DTSTART:20270104T100000Z", "DTEND:20270104T110000Z", "RRULE:FREQ=WEEKLY;COUNT=4", "END:VEVENT"]
        func override(_ range: String) -> [String] {
            ["BEGIN:VEVENT", "UID:s", "RECURRENCE-ID\(range):20270111T100000Z", "DTSTART:20270112T100000Z", "DTEND:20270112T110000Z",
             "RRULE:FREQ=DAILY;COUNT=30", "SUMMARY:moved", "END:VEVENT"]
        }
        var p = FeedParser(timeZone: "UTC", volatileProperties: [])
        p.occurrenceWindow = OccurrenceWindow(from: 1_798_000_000, to: 1_830_000_000)
        let single = try p.parse(feed(master + override("")))
        let o = try #require(single.records.first { $0.recurrenceID != nil })
        #expect(ISOTime.format(try #require(o.lastEnd)) == "2027-01-12T11:00:00Z" && !o.isSeries)
        #expect(o.occurrences(in: try #require(p.occurrenceWindow)).map { ISOTime.format($0.start) } == ["2027-01-12T10:00:00Z"])
        #expect(single.warnings.contains { $0.contains("RRULE of an override (RECURRENCE-ID without RANGE=THISANDFUTURE) ignored") })
        // The series: its other three occurrences, the 11th given to the override.
        let m = try #require(single.records.first { $0.recurrenceID == nil })
        #expect(m.occurrences?.map { ISOTime.format($0.start) } == ["2027-01-04T10:00:00Z", "2027-01-18T10:00:00Z", "2027-01-25T10:00:00Z"])
        let future = try p.parse(feed(master + override(";RANGE=THISANDFUTURE")))
        let f = try #require(future.records.first { $0.recurrenceID != nil })
        #expect(ISOTime.format(try #require(f.lastEnd)) == "2027-02-10T11:00:00Z")
        #expect(!future.warnings.contains { $0.contains("ignored: it stands for its one occurrence") })
    }

    @Test("a series whose every occurrence is excluded, or whose UNTIL is before its DTSTART, has no occurrence: kept, never future, with a warning")
    func seriesWithoutOccurrence() throws {
        var p = FeedParser(timeZone: "UTC", volatileProperties: [])
        p.occurrenceWindow = OccurrenceWindow(from: 1_790_000_000, to: 1_830_000_000)
        let now: Int64 = 1_790_000_000  // 2026-09-21, before every DTSTART below
        let excluded = try p.parse(feed(["BEGIN:VEVENT", "UID:x", "DTSTART:20270104T100000Z", "DTEND:20270104T110000Z",
                                         "RRULE:FREQ=WEEKLY;COUNT=2", "EXDATE:20270104T100000Z,20270111T100000Z", "END:VEVENT"]))
        let until = try p.parse(feed(["BEGIN:VEVENT", "UID:u", "DTSTART:20270104T100000Z", "DTEND:20270104T110000Z",
                                      "RRULE:FREQ=WEEKLY;UNTIL=20270101T000000Z", "END:VEVENT"]))
        for parsed in [excluded, until] {
            let r = try #require(parsed.records.first)
            #expect(r.lastEnd == EventTiming.noOccurrence && !r.isFuture(now: now))
            #expect(r.occurrences == [])
            #expect(parsed.warnings.contains { $0.contains("the series has no occurrence") && $0.contains("it is not future") })
        }
        // An RDATE still counts when the rule ends before DTSTART.
        let rdate = try p.parse(feed(["BEGIN:VEVENT", "UID:r", "DTSTART:20270104T100000Z", "DTEND:20270104T110000Z",
                                      "RRULE:FREQ=WEEKLY;UNTIL=20270101T000000Z", "RDATE:20270201T100000Z", "END:VEVENT"]))
        #expect(rdate.records[0].occurrences?.map { ISOTime.format($0.start) } == ["2027-02-01T10:00:00Z"])
        #expect(rdate.records[0].isFuture(now: now))
    }

    @Test("a master's last end follows its overrides")
    func masterLastEndWithOverrides() throws {
        let p = FeedParser(timeZone: "UTC", volatileProperties: [])
        let body = feed(["BEGIN:VEVENT", "UID:s", "DTSTART:20260105T090000Z", "DTEND:20260105T100000Z", "RRULE:FREQ=DAILY;COUNT=3", "END:VEVENT",
                         "BEGIN:VEVENT", "UID:s", "RECURRENCE-ID:20260107T090000Z", "DTSTART:20260301T090000Z", "DTEND:20260301T100000Z", "END:VEVENT"])
        let recs = try p.parse(body).records
        let master = try #require(recs.first { $0.recurrenceID == nil })
        #expect(ISOTime.format(try #require(master.lastEnd)) == "2026-03-01T10:00:00Z")
        #expect(master.isFuture(now: ISOTime.parse("2026-02-01T00:00:00Z")!))
        let cancelled = feed(["BEGIN:VEVENT", "UID:s", "DTSTART:20260105T090000Z", "DTEND:20260105T100000Z", "RRULE:FREQ=DAILY;COUNT=3", "END:VEVENT",
                              "BEGIN:VEVENT", "UID:s", "RECURRENCE-ID:20260107T090000Z", "DTSTART:20260107T090000Z", "STATUS:CANCELLED", "END:VEVENT"])
        let m2 = try #require(try p.parse(cancelled).records.first { $0.recurrenceID == nil })
        #expect(ISOTime.format(try #require(m2.lastEnd)) == "2026-01-06T10:00:00Z")
    }

    @Test("real-world damage is read with warnings")
    func damage() throws {
        var bytes: [UInt8] = [0xEF, 0xBB, 0xBF]
        bytes += Array("begin:vcalendar\n\nbegin:vevent  \nuid:a\nsummary:Caf".utf8) + [0xE9]
        bytes += Array("\nsummary:dup\ndtstart:20260101T100000Z\nend:vevent\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260102\nEND:VEVENT\nend:vcalendar\n".utf8)
        let parsed = try FeedParser(timeZone: "UTC", volatileProperties: []).parse(bytes)
        #expect(parsed.records.count == 2)
        #expect(parsed.records[0].summary == "Café")
        #expect(parsed.records[1].uid.hasPrefix("nouid-"))
    }

    @Test("every corpus file is read or rejected with a line-numbered reason, through FeedParser")
    func corpusThroughFeedParser() throws {
        let root = try #require(sharedCorpus())
        let en = try #require(FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil))
        var read = 0, rejected = 0, records = 0
        let parser = FeedParser(timeZone: "Europe/Lisbon", volatileProperties: ["DTSTAMP"])
        let t0 = Date()
        for case let url as URL in en {
            let ext = url.pathExtension.lowercased()
            guard ext == "ics" || ext.isEmpty, (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
            let bytes = try [UInt8](Data(contentsOf: url))
            do {
                let p = try parser.parse(bytes)
                read += 1
                records += p.records.count
                for r in p.records { if let le = r.lastEnd { #expect(le >= r.start || r.recurrenceID != nil, "\(url.lastPathComponent) \(r.key)") } }
            } catch {
                rejected += 1
                #expect(!error.message.isEmpty)
            }
        }
        print("corpus through FeedParser: \(read) read, \(rejected) rejected, \(records) records, \(String(format: "%.2f", Date().timeIntervalSince(t0))) s")
        #expect(read > 200)
    }
}

func sharedCorpus(file: String = #filePath) -> URL? {
    let pkg = URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    for c in [pkg.deletingLastPathComponent().appendingPathComponent("shared/corpus"), URL(fileURLWithPath: "/work/shared/corpus")]
    where FileManager.default.fileExists(atPath: c.path) { return c }
    return nil
}
