import Testing
@testable import ICalendar

@Suite struct LexerTests {
    @Test func foldingCRLFAndLFAndTab() throws {
        let crlf = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Hello\r\n  world\r\n\tagain\r\nDTSTART:20260101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        let cal = try parse(crlf)
        let ev = try #require(cal.events.first)
        #expect(ev.first("SUMMARY")?.value == "Hello worldagain")
        #expect(ev.first("SUMMARY")?.line == 3)
        #expect(ev.first("DTSTART")?.line == 6)
        let lf = crlf.replacingOccurrences(of: "\r\n", with: "\n")
        let cal2 = try parse(lf)
        #expect(cal2.events.first?.first("SUMMARY")?.value == "Hello worldagain")
        #expect(cal2.events.first?.line == 2)
        #expect(cal2.events.first?.endLine == 7)
        #expect(cal2.endLine == 8)
    }

    @Test func quotedParametersAndLowercaseNames() throws {
        let s = "begin:vcalendar\nbegin:vevent\nattendee;cn=\"Doe, John; Jr: the 2nd\";Role=REQ-PARTICIPANT;member=\"mailto:a@x\",\"mailto:b@x\":mailto:john@example.com\ndtstart;value=date:20260101\nend:vevent\nend:vcalendar\n"
        let cal = try parse(s)
        #expect(cal.name == "VCALENDAR")
        let ev = try #require(cal.events.first)
        #expect(ev.name == "VEVENT")
        let att = try #require(ev.first("attendee"))
        #expect(att.name == "ATTENDEE")
        #expect(att.parameter("CN") == "Doe, John; Jr: the 2nd")
        #expect(att.parameter("role") == "REQ-PARTICIPANT")
        #expect(att.parameterValues("MEMBER") == ["mailto:a@x", "mailto:b@x"])
        #expect(att.value == "mailto:john@example.com")
        #expect(ev.first("DTSTART")?.parameter("VALUE") == "date")
    }

    @Test func valueWithColonsAndEmptyParams() throws {
        let cal = try parse(calendar(["BEGIN:VEVENT", "URL:https://example.com:8080/a;b", "X-EMPTY;X-P=:", "END:VEVENT"]))
        let ev = try #require(cal.events.first)
        #expect(ev.first("URL")?.value == "https://example.com:8080/a;b")
        #expect(ev.first("X-EMPTY")?.value == "")
        #expect(ev.first("X-EMPTY")?.parameters == [ICalParameter(name: "X-P", values: [""])])
    }

    @Test func bomBlankLinesTrailingWhitespace() throws {
        let s = "\u{FEFF}BEGIN:VCALENDAR \r\n\r\nBEGIN:VEVENT\t\r\n\r\nUID:1\r\nEND:VEVENT  \r\n\r\nEND:VCALENDAR\r\n\r\n"
        let cal = try parse(s)
        #expect(cal.events.count == 1)
        #expect(cal.events.first?.first("UID")?.line == 5)
    }

    @Test func nestedComponents() throws {
        let cal = try parse(calendar([
            "BEGIN:VTIMEZONE", "TZID:X", "BEGIN:STANDARD", "DTSTART:19700101T000000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0100", "END:STANDARD", "END:VTIMEZONE",
            "BEGIN:VEVENT", "UID:a", "BEGIN:VALARM", "ACTION:DISPLAY", "END:VALARM", "END:VEVENT",
            "BEGIN:VTODO", "UID:t", "END:VTODO", "BEGIN:X-CUSTOM", "X-A:1", "END:X-CUSTOM",
        ]))
        #expect(cal.components.map(\.name) == ["VTIMEZONE", "VEVENT", "VTODO", "X-CUSTOM"])
        #expect(cal.events.first?.components.first?.name == "VALARM")
        #expect(cal.children("VTIMEZONE").first?.components.first?.first("TZOFFSETTO")?.value == "+0100")
    }

    @Test func multipleCalendarsAreMerged() throws {
        let one = calendar(["BEGIN:VEVENT", "UID:1", "END:VEVENT"])
        let two = calendar(["BEGIN:VEVENT", "UID:2", "END:VEVENT"])
        let cal = try parse(one + "\r\n" + two)
        #expect(cal.events.compactMap { $0.first("UID")?.value } == ["1", "2"])
    }

    @Test func errorTruncated() throws {
        let e = try #require(parseError("BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:1\n"))
        #expect(e.line == 4)
        #expect(e.message.contains("END:VEVENT"))
        #expect(e.message.contains("VCALENDAR (line 1) > VEVENT (line 3)"))
    }

    @Test("a misspelt END (naming no open component) ends the innermost one, with a warning")
    func misspeltEnd() throws {
        var warnings: [String] = []
        let cal = try ICalParser.parse(Array("BEGIN:VCALENDAR\nBEGIN:VTODO\nUID:t\nEND:VTOOD\nBEGIN:VEVENT\nUID:e\nEND:VEVENT\nEND:VCALENDAR\n".utf8),
                                       warnings: &warnings)
        #expect(cal.components.map(\.name) == ["VTODO", "VEVENT"])
        #expect(cal.components[0].first("UID")?.value == "t" && cal.components[0].endLine == 4)
        #expect(warnings == ["line 4: END:VTOOD does not match BEGIN:VTODO (line 2); taken as END:VTODO"])
        // Inside an event: the alarm is ended, the event goes on.
        warnings = []
        let nested = try ICalParser.parse(Array("BEGIN:VCALENDAR\nBEGIN:VEVENT\nBEGIN:VALARM\nACTION:DISPLAY\nEND:VALRM\nSUMMARY:S\nEND:VEVENT\nEND:VCALENDAR\n".utf8),
                                          warnings: &warnings)
        #expect(nested.components[0].first("SUMMARY")?.value == "S" && nested.components[0].components.map(\.name) == ["VALARM"])
        #expect(warnings.count == 1)
    }

    @Test("an END of an outer component while an inner one is open, a body cut short after a misspelt END, a stray END: errors")
    func errorUnbalancedEnd() throws {
        let e = try #require(parseError("BEGIN:VCALENDAR\nBEGIN:VEVENT\nBEGIN:VALARM\nEND:VEVENT\nEND:VCALENDAR\n"))
        #expect(e.line == 4)
        #expect(e.message == "END:VEVENT does not match BEGIN:VALARM (line 3): END:VALARM is missing")
        let cut = try #require(parseError("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:e\nEND:VEVNT\nBEGIN:VEVENT\nUID:f\n"))
        #expect(cut.message.hasPrefix("unexpected end of input: missing END:VEVENT"))
        let e2 = try #require(parseError("BEGIN:VCALENDAR\nEND:VCALENDAR\nEND:VEVENT\n"))
        #expect(e2.line == 3)
        #expect(e2.description.hasPrefix("line 3: END:VEVENT without BEGIN:VEVENT"))
    }

    @Test func errorHTMLAndEmpty() throws {
        let e = try #require(parseError("<!DOCTYPE html>\n<html><body>Login required</body></html>\n"))
        #expect(e.line == 1)
        #expect(e.message.contains("not iCalendar"))
        #expect(e.message.contains("HTML"))
        let e2 = try #require(parseError(""))
        #expect(e2.message == "empty body")
        #expect(e2.line == nil)
        let e3 = try #require(parseError("\r\n\r\n  \r\n"))
        #expect(e3.message == "empty body")
        let e4 = try #require(parseError("BEGIN:VEVENT\nEND:VEVENT\n"))
        #expect(e4.message.contains("not iCalendar"))
    }

    @Test func errorMissingColon() throws {
        let e = try #require(parseError("BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY\n this has no colon\nEND:VEVENT\nEND:VCALENDAR\n"))
        #expect(e.line == 3)
        #expect(e.message.contains("no colon"))
    }

    @Test func errorContentAfterEnd() throws {
        let e = try #require(parseError("BEGIN:VCALENDAR\nEND:VCALENDAR\nGARBAGE:1\n"))
        #expect(e.line == 3)
        #expect(e.message.contains("after END:VCALENDAR"))
    }

    @Test func latin1Fallback() throws {
        var bytes = Array("BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:Caf".utf8)
        bytes.append(0xE9)  // é in Latin-1, invalid UTF-8
        bytes += Array("\nEND:VEVENT\nEND:VCALENDAR\n".utf8)
        let cal = try ICalParser.parse(bytes)
        #expect(cal.events.first?.first("SUMMARY")?.value == "Café")
    }

    @Test func textEscaping() {
        #expect(ICalText.unescape(#"a\,b\;c\\d\ne\Nf"#) == "a,b;c\\d\ne\nf")
        #expect(ICalText.unescape(#"x\:y"#) == "x:y")
        #expect(ICalText.unescape("plain") == "plain")
        #expect(ICalText.escape("a,b;c\\d\ne") == #"a\,b\;c\\d\ne"#)
        for s in ["", "a,b", "semi;colon", "back\\slash\\", "multi\nline\ntext", "ünïcødé, ok; \\n"] {
            #expect(ICalText.unescape(ICalText.escape(s)) == s)
        }
    }
}
