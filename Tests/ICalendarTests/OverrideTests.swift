import Foundation
import Testing
@testable import ICalendar

@Suite struct OverrideTests {
    func timing(_ master: [String], _ overrides: [[String]], tz: String = "UTC") throws -> (EventTiming, [(start: Int64, end: Int64)]) {
        var lines = ["BEGIN:VEVENT", "UID:s"] + master + ["END:VEVENT"]
        for o in overrides { lines += ["BEGIN:VEVENT", "UID:s"] + o + ["END:VEVENT"] }
        let cal = try parse(calendar(lines))
        let r = TimeZoneResolver(calendar: cal, defaultTimeZone: tz)
        let evs = cal.events
        let t = try EventTiming.compute(event: evs[0], resolver: r, overrides: Array(evs.dropFirst()))
        let occ = try EventTiming.occurrences(event: evs[0], resolver: r, overrides: Array(evs.dropFirst()),
                                              between: instant("20200101T000000Z"), and: instant("20300101T000000Z"))
        return (t, occ)
    }

    let series = ["DTSTART:20260105T090000Z", "DTEND:20260105T100000Z", "RRULE:FREQ=DAILY;COUNT=3"]

    @Test func movedLaterExtendsLastEnd() throws {
        let (t, occ) = try timing(series, [["RECURRENCE-ID:20260107T090000Z", "DTSTART:20260120T090000Z", "DTEND:20260120T110000Z"]])
        #expect(isoUTC(try #require(t.lastEnd)) == "2026-01-20T11:00:00Z")
        // the master lists the two it still owns; the moved one belongs to the override record
        #expect(occ.map { isoUTC($0.start) } == ["2026-01-05T09:00:00Z", "2026-01-06T09:00:00Z"])
    }

    @Test func cancelledLastDoesNotCount() throws {
        let (t, occ) = try timing(series, [["RECURRENCE-ID:20260107T090000Z", "DTSTART:20260107T090000Z", "STATUS:CANCELLED"]])
        #expect(isoUTC(try #require(t.lastEnd)) == "2026-01-06T10:00:00Z")
        #expect(occ.count == 2)
    }

    @Test func movedEarlierShrinksLastEnd() throws {
        let (t, _) = try timing(series, [["RECURRENCE-ID:20260107T090000Z", "DTSTART:20260104T090000Z", "DTEND:20260104T100000Z"]])
        #expect(isoUTC(try #require(t.lastEnd)) == "2026-01-06T10:00:00Z")
    }

    @Test func thisAndFutureShiftsLaterOccurrences() throws {
        let (t, occ) = try timing(series, [["RECURRENCE-ID;RANGE=THISANDFUTURE:20260106T090000Z", "DTSTART:20260106T150000Z", "DTEND:20260106T170000Z"]])
        #expect(isoUTC(try #require(t.lastEnd)) == "2026-01-07T17:00:00Z")
        #expect(occ.map { isoUTC($0.start) } == ["2026-01-05T09:00:00Z", "2026-01-07T15:00:00Z"])
    }

    @Test func overrideInZoneAndAllDay() throws {
        let (t, _) = try timing(["DTSTART;TZID=Europe/Berlin:20260105T090000", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;COUNT=2"],
                                [["RECURRENCE-ID;TZID=Europe/Berlin:20260112T090000", "DTSTART;TZID=Europe/Berlin:20260113T180000", "DURATION:PT1H"]])
        #expect(isoUTC(try #require(t.lastEnd)) == "2026-01-13T18:00:00Z")
        let (d, _) = try timing(["DTSTART;VALUE=DATE:20260105", "RRULE:FREQ=DAILY;COUNT=2"],
                                [["RECURRENCE-ID;VALUE=DATE:20260106", "DTSTART;VALUE=DATE:20260110", "DTEND;VALUE=DATE:20260112"]])
        #expect(isoUTC(try #require(d.lastEnd)) == "2026-01-12T00:00:00Z")
    }

    @Test func unboundedStaysNil() throws {
        let (t, _) = try timing(["DTSTART:20260105T090000Z", "RRULE:FREQ=DAILY"], [["RECURRENCE-ID:20260107T090000Z", "STATUS:CANCELLED", "DTSTART:20260107T090000Z"]])
        #expect(t.lastEnd == nil)
    }
}

@Suite struct ZoneTableTests {
    /// The transition table answers exactly what Foundation answers.
    @Test func tableMatchesFoundation() throws {
        for name in ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/Sao_Paulo", "Africa/Casablanca", "Pacific/Apia"] {
            let tz = try #require(TimeZone(identifier: name))
            let table = try #require(ZoneTable.named(name))
            var t: Int64 = -86_400 * 400
            while t < 4_200_000_000 {
                #expect(table.offset(atUTC: t) == tz.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t))), "\(name) at \(t)")
                t += 86_400 * 3 + 3_917
            }
        }
    }

    /// DST gap: shifted forward by the gap; overlap: the first of the two instants (RFC 5545 §3.3.5).
    @Test func gapAndOverlap() {
        let r = TimeZoneResolver(calendar: ICalComponent(name: "VCALENDAR"), defaultTimeZone: "America/New_York")
        #expect(isoUTC(r.instant(local: CivilDateTime(year: 2026, month: 3, day: 8, hour: 2, minute: 30), tzid: nil)) == "2026-03-08T07:30:00Z")
        #expect(isoUTC(r.instant(local: CivilDateTime(year: 2026, month: 11, day: 1, hour: 1, minute: 30), tzid: nil)) == "2026-11-01T05:30:00Z")
    }

    /// A VTIMEZONE under a known name that disagrees with tzdata is taken from the feed.
    @Test func feedVTimezoneWinsWhenItDiffers() throws {
        let vt = ["BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "BEGIN:STANDARD", "DTSTART:19700101T000000",
                  "TZOFFSETFROM:+0300", "TZOFFSETTO:+0300", "END:STANDARD", "END:VTIMEZONE"]
        let cal = try parse(calendar([], extra: vt))
        let r = TimeZoneResolver(calendar: cal, defaultTimeZone: "UTC")
        #expect(isoUTC(r.instant(local: CivilDateTime(year: 2026, month: 7, day: 1, hour: 12), tzid: "Europe/Berlin")) == "2026-07-01T09:00:00Z")
        let same = ["BEGIN:VTIMEZONE", "TZID:Europe/Berlin",
                    "BEGIN:DAYLIGHT", "DTSTART:19810329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "END:DAYLIGHT",
                    "BEGIN:STANDARD", "DTSTART:19961027T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "END:STANDARD",
                    "END:VTIMEZONE"]
        let r2 = TimeZoneResolver(calendar: try parse(calendar([], extra: same)), defaultTimeZone: "UTC")
        guard case .table = r2.zone("Europe/Berlin").0 else { Issue.record("agreeing VTIMEZONE should use tzdata"); return }
    }
}
