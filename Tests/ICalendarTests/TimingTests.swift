import Testing
@testable import ICalendar

@Suite struct TimingTests {
    func timing(_ lines: [String], tz: String = "UTC", extra: [String] = [], max: Int = 100_000) throws -> EventTiming {
        let cal = try parse(calendar(["BEGIN:VEVENT", "UID:x"] + lines + ["END:VEVENT"], extra: extra))
        let r = TimeZoneResolver(calendar: cal, defaultTimeZone: tz)
        return try EventTiming.compute(event: try #require(cal.events.first), resolver: r, maxOccurrences: max)
    }

    @Test func dtendDurationMissing() throws {
        let a = try timing(["DTSTART:20260101T100000Z", "DTEND:20260101T113000Z"])
        #expect(a.start == instant("20260101T100000Z") && a.end == instant("20260101T113000Z"))
        #expect(a.lastEnd == a.end && !a.isRecurring && !a.allDay)
        let b = try timing(["DTSTART:20260101T100000Z", "DURATION:PT45M"])
        #expect(b.end == instant("20260101T104500Z"))
        #expect(b.endValue == nil)
        let c = try timing(["DTSTART:20260101T100000Z"])
        #expect(c.end == c.start)
        // nominal day across DST in the event's zone: wall clock preserved
        let d = try timing(["DTSTART;TZID=Europe/Berlin:20260328T120000", "DURATION:P1D"])
        #expect(isoUTC(d.start) == "2026-03-28T11:00:00Z")
        #expect(isoUTC(d.end) == "2026-03-29T10:00:00Z")
        let e = try timing(["DTSTART;TZID=Europe/Berlin:20260328T120000", "DURATION:PT24H"])
        #expect(isoUTC(e.end) == "2026-03-29T11:00:00Z")
    }

    @Test func allDay() throws {
        let a = try timing(["DTSTART;VALUE=DATE:20260101"], tz: "Europe/Berlin")
        #expect(a.allDay)
        #expect(isoUTC(a.start) == "2025-12-31T23:00:00Z")
        #expect(isoUTC(a.end) == "2026-01-01T23:00:00Z")
        let b = try timing(["DTSTART;VALUE=DATE:20260101", "DTEND;VALUE=DATE:20260104"])
        #expect(isoUTC(b.end) == "2026-01-04T00:00:00Z")
        #expect(b.endValue == .date(CivilDate(year: 2026, month: 1, day: 4)))
    }

    @Test func missingDtstartIsError() throws {
        let cal = try parse(calendar(["BEGIN:VEVENT", "UID:x", "SUMMARY:none", "END:VEVENT"]))
        let r = TimeZoneResolver(calendar: cal, defaultTimeZone: "UTC")
        do {
            _ = try EventTiming.compute(event: cal.events[0], resolver: r)
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 4)
            #expect(error.message == "VEVENT has no DTSTART")
        }
    }

    @Test func rruleCount() throws {
        // Mon 2026-01-05: MO,WE x5 → Jan 5, 7, 12, 14, 19
        let t = try timing(["DTSTART;TZID=America/New_York:20260105T090000", "DTEND;TZID=America/New_York:20260105T100000",
                            "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=5"])
        #expect(t.isRecurring)
        #expect(isoUTC(try #require(t.lastEnd)) == "2026-01-19T15:00:00Z")
        #expect(t.warnings.isEmpty)
    }

    @Test func rruleUntilDateAndDateTime() throws {
        let a = try timing(["DTSTART:20260101T100000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;UNTIL=20260110T100000Z"])
        #expect(isoUTC(try #require(a.lastEnd)) == "2026-01-10T11:00:00Z")
        let b = try timing(["DTSTART:20260101T100000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;UNTIL=20260110T095959Z"])
        #expect(isoUTC(try #require(b.lastEnd)) == "2026-01-09T11:00:00Z")
        let c = try timing(["DTSTART;VALUE=DATE:20260101", "RRULE:FREQ=WEEKLY;UNTIL=20260129"])
        #expect(isoUTC(try #require(c.lastEnd)) == "2026-01-30T00:00:00Z")
        // DST: local wall time kept across the spring change
        let d = try timing(["DTSTART;TZID=Europe/Berlin:20260320T090000", "DTEND;TZID=Europe/Berlin:20260320T100000",
                            "RRULE:FREQ=WEEKLY;UNTIL=20260403T070000Z"])
        #expect(isoUTC(try #require(d.lastEnd)) == "2026-04-03T08:00:00Z")
    }

    @Test func unboundedIsNil() throws {
        let t = try timing(["DTSTART:20260101T100000Z", "RRULE:FREQ=MONTHLY;BYMONTHDAY=-1"])
        #expect(t.isRecurring)
        #expect(t.lastEnd == nil)
    }

    @Test func exdateRemovesLast() throws {
        let t = try timing(["DTSTART:20260101T100000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=3",
                            "EXDATE:20260103T100000Z"])
        #expect(isoUTC(try #require(t.lastEnd)) == "2026-01-02T11:00:00Z")
        let t2 = try timing(["DTSTART;TZID=Europe/Paris:20260101T100000", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=3",
                             "EXDATE;TZID=Europe/Paris:20260102T100000,20260103T100000"])
        #expect(isoUTC(try #require(t2.lastEnd)) == "2026-01-01T10:00:00Z")
    }

    @Test func rdateExtends() throws {
        let t = try timing(["DTSTART:20260101T100000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=2", "RDATE:20260301T100000Z"])
        #expect(isoUTC(try #require(t.lastEnd)) == "2026-03-01T11:00:00Z")
        let p = try timing(["DTSTART:20260101T100000Z", "DURATION:PT1H", "RDATE;VALUE=PERIOD:20260401T100000Z/PT5H"])
        #expect(p.isRecurring)
        #expect(isoUTC(try #require(p.lastEnd)) == "2026-04-01T15:00:00Z")
    }

    @Test func impossibleRuleTerminates() throws {
        // yearly: runs out of years (9999) quickly → only the DTSTART instance
        let y = try timing(["DTSTART:20260101T100000Z", "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=3"], max: 20_000)
        #expect(y.lastEnd == y.end)
        // daily: hits the candidate bound → lastEnd unknown (nil) with a warning
        let t = try timing(["DTSTART:20260101T100000Z", "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=3"], max: 20_000)
        #expect(t.lastEnd == nil)
        #expect(t.warnings.contains { $0.contains("stopped") })
        let u = try timing(["DTSTART:20260101T100000Z", "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;UNTIL=20300101T000000Z"])
        #expect(u.lastEnd == u.end)  // only the DTSTART instance
    }

    @Test func invalidRuleIsReported() throws {
        let t = try timing(["DTSTART:20260101T100000Z", "RRULE:INTERVAL=2;COUNT=3"])
        #expect(!t.isRecurring)
        #expect(t.lastEnd == t.end)
        #expect(t.warnings.contains { $0.contains("missing FREQ") })
    }

    @Test func unknownTzidWarning() throws {
        let t = try timing(["DTSTART;TZID=Nowhere/Special:20260101T100000"], tz: "Europe/Berlin")
        #expect(isoUTC(t.start) == "2026-01-01T09:00:00Z")
        #expect(t.warnings.contains { $0.contains("Nowhere/Special") })
    }

    @Test func occurrencesWindow() throws {
        let cal = try parse(calendar(["BEGIN:VEVENT", "UID:x", "DTSTART:20260105T090000Z", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;BYDAY=MO,WE", "EXDATE:20260114T090000Z", "END:VEVENT"]))
        let r = TimeZoneResolver(calendar: cal, defaultTimeZone: "UTC")
        let occ = try EventTiming.occurrences(event: cal.events[0], resolver: r, between: instant("20260110T000000Z"), and: instant("20260122T000000Z"), limit: 10)
        #expect(occ.map { isoUTC($0.start) } == ["2026-01-12T09:00:00Z", "2026-01-19T09:00:00Z", "2026-01-21T09:00:00Z"])
        #expect(occ.allSatisfy { $0.end - $0.start == 3600 })
    }
}
