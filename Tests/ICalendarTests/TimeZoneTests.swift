import Testing
@testable import ICalendar

@Suite struct TimeZoneTests {
    let empty = ICalComponent(name: "VCALENDAR")

    @Test func ianaGapAndOverlap() {
        let r = TimeZoneResolver(calendar: empty, defaultTimeZone: "UTC")
        let ny = "America/New_York"
        // DST gap: 02:30 does not exist → shifted forward by the gap (03:30 EDT = 07:30Z)
        #expect(isoUTC(r.instant(local: CivilDateTime(year: 2026, month: 3, day: 8, hour: 2, minute: 30), tzid: ny)) == "2026-03-08T07:30:00Z")
        // overlap: 01:30 happens twice → the first (EDT) = 05:30Z
        #expect(isoUTC(r.instant(local: CivilDateTime(year: 2026, month: 11, day: 1, hour: 1, minute: 30), tzid: ny)) == "2026-11-01T05:30:00Z")
        #expect(isoUTC(r.instant(local: CivilDateTime(year: 2026, month: 7, day: 1, hour: 12), tzid: ny)) == "2026-07-01T16:00:00Z")
        #expect(isoUTC(r.instant(local: CivilDateTime(year: 2026, month: 1, day: 1, hour: 12), tzid: ny)) == "2026-01-01T17:00:00Z")
        #expect(isoUTC(r.instant(.utc(CivilDateTime(year: 2026, month: 1, day: 1, hour: 12)))) == "2026-01-01T12:00:00Z")
        #expect(r.warnings.isEmpty)
    }

    @Test func floatingAndDatesUseDefaultZone() {
        let r = TimeZoneResolver(calendar: empty, defaultTimeZone: "Europe/Berlin")
        #expect(isoUTC(r.instant(.local(CivilDateTime(year: 2026, month: 7, day: 1, hour: 12), tzid: nil))) == "2026-07-01T10:00:00Z")
        #expect(isoUTC(r.instant(.date(CivilDate(year: 2026, month: 1, day: 1)))) == "2025-12-31T23:00:00Z")
    }

    @Test func windowsNames() {
        let r = TimeZoneResolver(calendar: empty, defaultTimeZone: "UTC")
        let summer = CivilDateTime(year: 2026, month: 7, day: 1, hour: 12)
        #expect(isoUTC(r.instant(local: summer, tzid: "W. Europe Standard Time")) == "2026-07-01T10:00:00Z")
        #expect(isoUTC(r.instant(local: summer, tzid: "Eastern Standard Time")) == "2026-07-01T16:00:00Z")
        #expect(isoUTC(r.instant(local: summer, tzid: "Pacific Standard Time")) == "2026-07-01T19:00:00Z")
        #expect(isoUTC(r.instant(local: summer, tzid: "GMT Standard Time")) == "2026-07-01T11:00:00Z")
        #expect(isoUTC(r.instant(local: summer, tzid: "Tokyo Standard Time")) == "2026-07-01T03:00:00Z")
        #expect(isoUTC(r.instant(local: summer, tzid: "AUS Eastern Standard Time")) == "2026-07-01T02:00:00Z")
        #expect(isoUTC(r.instant(local: summer, tzid: "/mozilla.org/20050126_1/Europe/Paris")) == "2026-07-01T10:00:00Z")
        #expect(r.warnings.isEmpty)
    }

    @Test func customVTimezone() throws {
        let cal = try parse(calendar([], extra: [
            "BEGIN:VTIMEZONE", "TZID:My Office Zone",
            "BEGIN:STANDARD", "DTSTART:19701025T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "END:STANDARD",
            "BEGIN:DAYLIGHT", "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "END:DAYLIGHT",
            "END:VTIMEZONE",
        ]))
        let r = TimeZoneResolver(calendar: cal, defaultTimeZone: "UTC")
        let z = "My Office Zone"
        #expect(isoUTC(r.instant(local: CivilDateTime(year: 2026, month: 7, day: 1, hour: 12), tzid: z)) == "2026-07-01T10:00:00Z")
        #expect(isoUTC(r.instant(local: CivilDateTime(year: 2026, month: 1, day: 15, hour: 12), tzid: z)) == "2026-01-15T11:00:00Z")
        // 2026-03-29 02:30 does not exist → 03:30 CEST = 01:30Z
        #expect(isoUTC(r.instant(local: CivilDateTime(year: 2026, month: 3, day: 29, hour: 2, minute: 30), tzid: z)) == "2026-03-29T01:30:00Z")
        // 2026-10-25 02:30 happens twice → first (CEST) = 00:30Z
        #expect(isoUTC(r.instant(local: CivilDateTime(year: 2026, month: 10, day: 25, hour: 2, minute: 30), tzid: z)) == "2026-10-25T00:30:00Z")
        #expect(r.offset(atUTC: instant("20260329T005959Z"), tzid: z) == 3600)
        #expect(r.offset(atUTC: instant("20260329T010000Z"), tzid: z) == 7200)
        #expect(r.warnings.isEmpty)
    }

    /// A VTIMEZONE whose standard offset is `standard` hours, named `tzid`.
    func zoneLines(_ tzid: String, standard: Int) -> [String] {
        let std = String(format: "%+03d00", standard), dst = String(format: "%+03d00", standard + 1)
        return ["BEGIN:VTIMEZONE", "TZID:\(tzid)",
                "BEGIN:STANDARD", "DTSTART:19701025T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "TZOFFSETFROM:\(dst)", "TZOFFSETTO:\(std)", "END:STANDARD",
                "BEGIN:DAYLIGHT", "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "TZOFFSETFROM:\(std)", "TZOFFSETTO:\(dst)", "END:DAYLIGHT",
                "END:VTIMEZONE"]
    }

    @Test("calendars repeating a VTIMEZONE share its rules; different definitions never do")
    func sharedVTimezoneRules() throws {
        // Same definition at other lines (an extra property first), then one an hour apart under
        // the same TZID, and a definition disagreeing with tzdata for a known name.
        let a = try parse(calendar([], extra: zoneLines("Office", standard: 1)))
        let b = try parse(calendar([], extra: ["X-WR-CALNAME:other"] + zoneLines("Office", standard: 1)))
        let c = try parse(calendar([], extra: zoneLines("Office", standard: 2)))
        let ra = TimeZoneResolver(calendar: a, defaultTimeZone: "UTC")
        let rb = TimeZoneResolver(calendar: b, defaultTimeZone: "UTC")
        let rc = TimeZoneResolver(calendar: c, defaultTimeZone: "UTC")
        #expect(ra.vtimezones["Office"] === rb.vtimezones["Office"])
        #expect(ra.vtimezones["Office"] !== rc.vtimezones["Office"])
        let july = instant("20260701T120000Z")
        #expect(ra.offset(atUTC: july, tzid: "Office") == 7200)
        #expect(rb.offset(atUTC: july, tzid: "Office") == 7200)
        #expect(rc.offset(atUTC: july, tzid: "Office") == 10800)
        // A known zone name: its own VTIMEZONE wins only where it disagrees, per definition.
        let berlin = try parse(calendar([], extra: zoneLines("Europe/Berlin", standard: 1)))
        let wrong = try parse(calendar([], extra: zoneLines("Europe/Berlin", standard: 3)))
        #expect(TimeZoneResolver(calendar: berlin, defaultTimeZone: "UTC").offset(atUTC: july, tzid: "Europe/Berlin") == 7200)
        #expect(TimeZoneResolver(calendar: wrong, defaultTimeZone: "UTC").offset(atUTC: july, tzid: "Europe/Berlin") == 14400)
        #expect(TimeZoneResolver(calendar: berlin, defaultTimeZone: "UTC").offset(atUTC: july, tzid: "Europe/Berlin") == 7200)
    }

    @Test func unknownTzidFallsBackWithWarning() {
        let r = TimeZoneResolver(calendar: empty, defaultTimeZone: "Europe/London")
        let t = r.instant(local: CivilDateTime(year: 2026, month: 7, day: 1, hour: 12), tzid: "Mars/Olympus_Mons")
        #expect(isoUTC(t) == "2026-07-01T11:00:00Z")
        #expect(r.warnings.count == 1)
        #expect(r.warnings.first?.contains("Mars/Olympus_Mons") == true)
    }
}
