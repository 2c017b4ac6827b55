import Testing
@testable import ICalendar

/// A feed comes from a stranger: how deep its components nest is bounded (docs/limits.md).
@Suite struct NestingLimitTests {
    /// A calendar whose one VEVENT holds `depth` nested X components.
    static func nested(_ depth: Int) -> String {
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261201T100000Z\r\n"
            + String(repeating: "BEGIN:X\r\n", count: depth) + String(repeating: "END:X\r\n", count: depth)
            + "END:VEVENT\r\nEND:VCALENDAR\r\n"
    }

    @Test("exactly the limit parses: VCALENDAR > VEVENT > 62 X components is 64 levels")
    func atTheLimit() throws {
        let cal = try parse(Self.nested(ICalParser.maxNestingDepth - 2))
        var depth = 1
        var c = cal
        while let sub = c.components.first { depth += 1; c = sub }
        #expect(depth == ICalParser.maxNestingDepth)
    }

    @Test("one level deeper fails with the line of the BEGIN and the limit")
    func pastTheLimit() throws {
        let e = try #require(parseError(Self.nested(ICalParser.maxNestingDepth - 1)))
        // Line 1 VCALENDAR, 2 VEVENT, 3 UID, 4 DTSTART, 5… the X components: the 63rd X is level 65.
        #expect(e.line == 4 + ICalParser.maxNestingDepth - 1)
        #expect(e.message.contains("nested more than 64 deep"))
        #expect(e.message.contains("BEGIN:X inside VEVENT of line 2"))
    }

    @Test("100,000 levels (the stack-overflow reproduction and more) fail at once, not by a crash")
    func hostileDepth() throws {
        let e = try #require(parseError(Self.nested(100_000)))
        #expect(e.message.contains("nested more than 64 deep"))
        // An unclosed tower fails the same way, before its missing END is ever noticed.
        let open = "BEGIN:VCALENDAR\r\n" + String(repeating: "BEGIN:VEVENT\r\n", count: 100_000)
        #expect(parseError(open)?.message.contains("nested more than 64 deep") == true)
    }

    @Test("a content line over 1 MiB, a component with more than 10,000 properties, more VEVENTs than the limit")
    func otherLimits() throws {
        let long = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:" + String(repeating: "x", count: ICalParser.maxLineBytes) + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        #expect(parseError(long)?.message == "a content line of \(ICalParser.maxLineBytes + 8) bytes; the limit is 1048576 (1 MiB)")
        // Folding does not hide a long line: the limit is on the unfolded line.
        let folded = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:" + String(repeating: "x\r\n ", count: ICalParser.maxLineBytes) + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        #expect(parseError(folded)?.message.hasPrefix("a content line of") == true)
        let props = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n" + String(repeating: "X-P:1\r\n", count: 10_001) + "END:VEVENT\r\nEND:VCALENDAR\r\n"
        #expect(parseError(props)?.message == "VEVENT of line 2 has more than 10000 properties; the limit is 10000")
        let atLimit = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n" + String(repeating: "X-P:1\r\n", count: 10_000) + "END:VEVENT\r\nEND:VCALENDAR\r\n"
        _ = try parse(atLimit)
        let events = "BEGIN:VCALENDAR\r\n" + String(repeating: "BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n", count: 4) + "END:VCALENDAR\r\n"
        #expect(throws: ICalParseError(line: 11, message: "more than 3 events; the limit is 3 (`max_records`)")) {
            _ = try ICalParser.parse(Array(events.utf8), limits: ICalParser.Limits(maxEvents: 3))
        }
        _ = try ICalParser.parse(Array(events.utf8), limits: ICalParser.Limits(maxEvents: 4))
    }
}
