import Testing
@testable import ICalendar

@Suite struct ValueTests {
    @Test func civilDates() {
        #expect(CivilDate(year: 1970, month: 1, day: 1).daysSinceEpoch == 0)
        #expect(CivilDate(year: 2000, month: 3, day: 1).daysSinceEpoch == 11017)
        #expect(CivilDate(daysSinceEpoch: -1) == CivilDate(year: 1969, month: 12, day: 31))
        #expect(CivilDate(year: 1970, month: 1, day: 1).weekday == 4)  // Thursday
        #expect(CivilDate(year: 2026, month: 3, day: 8).weekday == 0)  // Sunday
        #expect(CivilDate(year: 2024, month: 1, day: 31).adding(months: 1) == CivilDate(year: 2024, month: 2, day: 29))
        #expect(CivilDate(year: 2024, month: 2, day: 29).adding(years: 1) == CivilDate(year: 2025, month: 2, day: 28))
        #expect(CivilDate(year: 2024, month: 11, day: 30).adding(months: -12) == CivilDate(year: 2023, month: 11, day: 30))
        #expect(CivilDate(year: 2024, month: 1, day: 1) < CivilDate(year: 2024, month: 1, day: 2))
        #expect(CivilDate(year: 2026, month: 12, day: 1).iso == "2026-12-01")
        for d in stride(from: -800_000, to: 800_000, by: 997) {
            #expect(CivilDate(daysSinceEpoch: CivilDate(daysSinceEpoch: d).daysSinceEpoch).daysSinceEpoch == d)
        }
        let dt = CivilDateTime(year: 2026, month: 3, day: 8, hour: 7, minute: 30)
        #expect(dt.secondsSinceEpochAsUTC == 1772955000)
        #expect(CivilDateTime(secondsSinceEpoch: 1772955000) == dt)
        #expect(isoUTC(1772955000) == "2026-03-08T07:30:00Z")
        #expect(isoUTC(-1) == "1969-12-31T23:59:59Z")
    }

    @Test func dateValues() throws {
        func prop(_ line: String) throws -> ICalProperty {
            let cal = try parse(calendar(["BEGIN:VEVENT", line, "END:VEVENT"]))
            return try #require(cal.events.first?.properties.first)
        }
        #expect(try ICalDateValue.parse(prop("DTSTART;VALUE=DATE:20261201")) == .date(CivilDate(year: 2026, month: 12, day: 1)))
        #expect(try ICalDateValue.parse(prop("DTSTART:20261201")) == .date(CivilDate(year: 2026, month: 12, day: 1)))
        #expect(try ICalDateValue.parse(prop("DTSTART:20261201T100000Z")) == .utc(CivilDateTime(year: 2026, month: 12, day: 1, hour: 10)))
        #expect(try ICalDateValue.parse(prop("DTSTART:20261201T100000")) == .local(CivilDateTime(year: 2026, month: 12, day: 1, hour: 10), tzid: nil))
        #expect(try ICalDateValue.parse(prop("DTSTART;TZID=Europe/Berlin:20261201T100000")) == .local(CivilDateTime(year: 2026, month: 12, day: 1, hour: 10), tzid: "Europe/Berlin"))
        #expect(try ICalDateValue.parse(prop("DTSTART;TZID=\"/Europe/Berlin\":20261201T100000")) == .local(CivilDateTime(year: 2026, month: 12, day: 1, hour: 10), tzid: "Europe/Berlin"))
        #expect(try ICalDateValue.parse(prop("DTSTART:20261201T100000Z")).icalText == "20261201T100000Z")
        #expect(try ICalDateValue.parse(prop("DTSTART:20261201T100000")).icalText == "20261201T100000")
        #expect(try ICalDateValue.parse(prop("DTSTART:20261201")).icalText == "20261201")
        let bad = try prop("DTSTART:2026-12-01")
        #expect(throws: ICalParseError.self) { try ICalDateValue.parse(bad) }
        do {
            _ = try ICalDateValue.parse(bad)
        } catch {
            #expect(error.line == 5)
        }
        #expect(throws: ICalParseError.self) { try ICalDateValue.parse(prop("DTSTART:20260230")) }
        let ex = try ICalDateValue.parseList(prop("EXDATE;TZID=Europe/Paris:20260101T100000,20260108T100000"))
        #expect(ex == [.local(CivilDateTime(year: 2026, month: 1, day: 1, hour: 10), tzid: "Europe/Paris"),
                       .local(CivilDateTime(year: 2026, month: 1, day: 8, hour: 10), tzid: "Europe/Paris")])
        let periods = try ICalDateValue.parsePeriods(prop("RDATE;VALUE=PERIOD:19960403T020000Z/19960403T040000Z,19960404T010000Z/PT3H"))
        #expect(periods.count == 2)
        #expect(periods[0].end == .utc(CivilDateTime(year: 1996, month: 4, day: 3, hour: 4)))
        #expect(periods[1].duration == ICalDuration(days: 0, seconds: 3 * 3600))
        #expect(try ICalDateValue.parseList(prop("RDATE;VALUE=PERIOD:19960403T020000Z/PT1H")) == [.utc(CivilDateTime(year: 1996, month: 4, day: 3, hour: 2))])
    }

    @Test func durations() {
        #expect(ICalDuration.parse("P1W") == ICalDuration(days: 7, seconds: 0))
        #expect(ICalDuration.parse("P15DT5H0M20S") == ICalDuration(days: 15, seconds: 5 * 3600 + 20))
        #expect(ICalDuration.parse("-PT15M") == ICalDuration(days: 0, seconds: -900))
        #expect(ICalDuration.parse("+P1D") == ICalDuration(days: 1, seconds: 0))
        #expect(ICalDuration.parse("PT1H30M") == ICalDuration(days: 0, seconds: 5400))
        #expect(ICalDuration.parse("-P2DT1H")?.isNegative == true)
        #expect(ICalDuration.parse("-P2DT1H") == ICalDuration(days: -2, seconds: -3600))
        for bad in ["", "P", "PT", "1D", "P1H", "PT1D", "P1DT", "Pfoo", "P1"] {
            #expect(ICalDuration.parse(bad) == nil, "\(bad)")
        }
        #expect(ICalDuration(days: 1, seconds: 3600).description == "P1DT1H")
        #expect(ICalDuration(days: 14, seconds: 0).description == "P2W")
    }

    @Test func rruleParsing() throws {
        let r = try RecurrenceRule.parse("freq=monthly;interval=2;byday=-1su,2MO,+3tu,FR;bymonthday=1,-1;wkst=su;until=20261231;x-foo=bar")
        #expect(r.frequency == .monthly)
        #expect(r.interval == 2)
        #expect(r.byDay == [.init(ordinal: -1, weekday: 0), .init(ordinal: 2, weekday: 1), .init(ordinal: 3, weekday: 2), .init(ordinal: 0, weekday: 5)])
        #expect(r.byMonthDay == [1, -1])
        #expect(r.weekStart == 0)
        #expect(r.until == .date(CivilDate(year: 2026, month: 12, day: 31)))
        #expect(r.unknownParts == ["X-FOO": "bar"])
        let r2 = try RecurrenceRule.parse("FREQ=YEARLY;COUNT=3;BYMONTH=3;BYSETPOS=-1;BYWEEKNO=20;BYYEARDAY=-1,100;BYHOUR=9;BYMINUTE=30;BYSECOND=0;UNTIL=20260101T000000Z")
        #expect(r2.count == 3 && r2.byMonth == [3] && r2.bySetPos == [-1] && r2.byWeekNo == [20] && r2.byYearDay == [-1, 100])
        #expect(r2.byHour == [9] && r2.byMinute == [30] && r2.bySecond == [0])
        #expect(r2.until == .utc(CivilDateTime(year: 2026, month: 1, day: 1)))
        #expect(throws: ICalParseError.self) { try RecurrenceRule.parse("INTERVAL=2;COUNT=3") }
        #expect(throws: ICalParseError.self) { try RecurrenceRule.parse("FREQ=FORTNIGHTLY") }
        #expect(throws: ICalParseError.self) { try RecurrenceRule.parse("FREQ=DAILY;BYMONTH=13") }
    }

    @Test func iteratorTerminatesOnImpossibleRule() {
        let r = try! RecurrenceRule.parse("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30")
        var it = RecurrenceIterator(rule: r, start: CivilDateTime(year: 2026, month: 1, day: 1, hour: 9), maxCandidates: 5_000)
        #expect(it.next() == nil)
        #expect(it.hitBound || it.emitted == 0)
        let r2 = try! RecurrenceRule.parse("FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30")
        var it2 = RecurrenceIterator(rule: r2, start: CivilDateTime(year: 2026, month: 1, day: 1), maxCandidates: 10_000)
        #expect(it2.next() == nil)
    }
}

@Suite("TEXT normalisation")
struct TextNormalisationTests {
    /// `appendNormalized` is the one-pass form of `escape(unescape(_:))`: compare them on every
    /// string of up to four characters over an alphabet of the interesting bytes.
    @Test func appendNormalizedEqualsEscapeOfUnescape() {
        let alphabet: [String] = ["\\", ";", ",", "n", "N", "\n", "\r", "a", "é"]
        var strings: [String] = [""]
        var frontier: [String] = [""]
        for _ in 0..<4 {
            frontier = frontier.flatMap { s in alphabet.map { s + $0 } }
            strings += frontier
        }
        for s in strings {
            var out: [UInt8] = []
            ICalText.appendNormalized(s, to: &out)
            #expect(String(decoding: out, as: UTF8.self) == ICalText.escape(ICalText.unescape(s)), "\(s.debugDescription)")
        }
    }
}

/// Property lookups by name key: the key only narrows, the name decides.
@Suite("Property name keys")
struct PropertyNameKeyTests {
    @Test("names that share length and first seven bytes are told apart; case-insensitive lookups; a renamed property is found by its new name")
    func lookups() {
        var c = ICalComponent(name: "VEVENT", properties: [
            ICalProperty(name: "X-WR-CALNAME", value: "a"),
            ICalProperty(name: "X-WR-CALDESC", value: "b"),
            ICalProperty(name: "UID", value: "u"),
            ICalProperty(name: "X-WR-CALDESC", value: "c"),
        ])
        #expect(ICalName.key("X-WR-CALNAME") == ICalName.key("X-WR-CALDESC"))
        #expect(c.first("X-WR-CALDESC")?.value == "b")
        #expect(c.first("x-wr-calname")?.value == "a")
        #expect(c.all("X-WR-CALDESC").map(\.value) == ["b", "c"])
        #expect(c.first("UIDX") == nil && c.first("UI") == nil)
        c.properties[2].name = "SUMMARY"
        #expect(c.first("UID") == nil)
        #expect(c.first("SUMMARY")?.value == "u")
        #expect(c.properties[2] == ICalProperty(name: "SUMMARY", value: "u"))
    }

    @Test("a name set matches whole names only")
    func nameSet() {
        let set = ICalNameSet(["DTSTAMP", "X-WR-CALNAME", "DTSTAMP"])
        #expect(set.contains(ICalProperty(name: "DTSTAMP", value: "")))
        #expect(set.contains(ICalProperty(name: "X-WR-CALNAME", value: "")))
        #expect(!set.contains(ICalProperty(name: "X-WR-CALDESC", value: "")))
        #expect(!set.contains(ICalProperty(name: "DTSTART", value: "")))
    }

    @Test("unescape: the RFC 5545 escapes, an unknown escape loses its backslash, a trailing one stays")
    func unescapeDefinition() {
        func reference(_ s: String) -> String {
            var out: [UInt8] = []
            var it = s.utf8.makeIterator()
            while let c = it.next() {
                if c != 0x5C { out.append(c); continue }
                guard let n = it.next() else { out.append(0x5C); break }
                out.append(n == UInt8(ascii: "n") || n == UInt8(ascii: "N") ? 0x0A : n)
            }
            return String(decoding: out, as: UTF8.self)
        }
        #expect(ICalText.unescape(#"a\\b\;c\,d\ne\Nf\xg\"#) == "a\\b;c,d\ne\nfxg\\")
        var rng = SystemRandomNumberGenerator()
        let pieces = [#"\\"#, #"\"#, #"\n"#, #"\N"#, #"\,"#, #"\;"#, #"\x"#, "plain", " ", "ü", #"\ü"#, ",", ";", #"\r\n"#]
        for _ in 0..<2_000 {
            let s = (0..<Int.random(in: 0...12, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            #expect(ICalText.unescape(s) == reference(s), "\(s.debugDescription)")
        }
    }

    @Test("normalised TEXT: runs copied whole, escapes and line breaks spelt one way")
    func normalised() {
        func norm(_ s: String) -> String {
            var out: [UInt8] = []
            ICalText.appendNormalized(s, to: &out)
            return String(decoding: out, as: UTF8.self)
        }
        let cases = ["plain text", "a,b;c", "x\\Ny\\nz", "cr\r\nlf", "cr\\r\r\\nz", "end\\", "\\,\\;\\\\", "tail\r", "ü,é\nß"]
        for s in cases { #expect(norm(s) == ICalText.escape(ICalText.unescape(s)), "\(s)") }
        #expect(CivilDate(year: 2026, month: 3, day: 7).iso == "2026-03-07")
        #expect(CivilDate(year: 12, month: 11, day: 30).iso == "0012-11-30")
        #expect(CivilDate(year: -1, month: 1, day: 1).iso == "-0001-01-01")
    }
}
