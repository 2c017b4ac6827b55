import FeedHash
import Testing
import FeedModel
@testable import ICalendarFeeds

@Suite("Body fingerprint")
struct FingerprintTests {
    let fp = BodyFingerprinter(volatileProperties: ["DTSTAMP"])

    func f(_ s: String) -> Fingerprint128 { fp.fingerprint(Array(s.utf8)) }

    @Test("DTSTAMP lines, with parameters, lower case and folded continuations, do not count")
    func volatileLinesIgnored() {
        let a = "BEGIN:VEVENT\r\nDTSTAMP:20261101T000000Z\r\nUID:1\r\nEND:VEVENT\r\n"
        let b = "BEGIN:VEVENT\r\nDTSTAMP:20261102T000000Z\r\nUID:1\r\nEND:VEVENT\r\n"
        let c = "BEGIN:VEVENT\r\ndtstamp;X-A=1:20261103T000000Z\r\nUID:1\r\nEND:VEVENT\r\n"
        let d = "BEGIN:VEVENT\r\nDTSTAMP:2026110\r\n 4T000000Z\r\nUID:1\r\nEND:VEVENT\r\n"
        #expect(f(a) == f(b))
        #expect(f(a) == f(c))
        #expect(f(a) == f(d))
    }

    @Test("a real change changes the fingerprint")
    func realChange() {
        let a = "BEGIN:VEVENT\r\nDTSTAMP:1\r\nUID:1\r\nSUMMARY:A\r\nEND:VEVENT\r\n"
        let b = "BEGIN:VEVENT\r\nDTSTAMP:1\r\nUID:1\r\nSUMMARY:B\r\nEND:VEVENT\r\n"
        #expect(f(a) != f(b))
    }

    @Test("a property whose name only starts with DTSTAMP is not volatile")
    func prefixIsNotEnough() {
        let a = "X:1\nDTSTAMPX:1\n"
        let b = "X:1\nDTSTAMPX:2\n"
        #expect(f(a) != f(b))
    }

    @Test("a continuation of a non-volatile line that looks like DTSTAMP still counts")
    func continuationOfOther() {
        let a = "DESCRIPTION:abc\n DTSTAMP:1\n"
        let b = "DESCRIPTION:abc\n DTSTAMP:2\n"
        #expect(f(a) != f(b))
    }

    @Test("without volatile lines it is plain XXH3-128 of the body (xxhsum -H2 agrees)")
    func plainHash() {
        let body = Array("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".utf8)
        let expected = body.withUnsafeBytes { XXH3.hash128($0) }
        #expect(fp.fingerprint(body) == expected)
        #expect(BodyFingerprinter(volatileProperties: []).fingerprint(body) == expected)
        #expect(fp.fingerprint([]) == [UInt8]().withUnsafeBytes { XXH3.hash128($0) })
    }

    @Test("a body that ends inside a volatile line, or without a newline")
    func edges() {
        #expect(f("UID:1\nDTSTAMP:1") == f("UID:1\nDTSTAMP:2"))
        #expect(f("UID:1") != f("UID:2"))
    }
}

@Suite("Redaction")
struct RedactionTests {
    @Test("query values, user info and fragments are redacted", arguments: [
        ("https://www.airbnb.com/calendar/ical/123.ics?s=abcdef", "https://www.airbnb.com/calendar/ical/123.ics?s=…"),
        ("https://user:pw@host.example/cal.ics", "https://…@host.example/cal.ics"),
        ("http://h/x.ics?a=1&b=2#frag", "http://h/x.ics?a=…&b=…"),
        ("http://h/x.ics?token", "http://h/x.ics?…"),
        ("file:///srv/feeds/a.ics", "file:///srv/feeds/a.ics"),
    ])
    func redact(url: String, shown: String) {
        #expect(redactURL(url) == shown)
    }
}

@Suite("ISO time")
struct ISOTimeTests {
    @Test func roundTrip() {
        for t: Int64 in [0, 1_800_000_000, -86_400, 951_782_400 /* 2000-02-29 */, 4_102_444_799] {
            #expect(ISOTime.parse(ISOTime.format(t)) == t)
        }
        #expect(ISOTime.format(1_795_399_200) == "2026-11-23T02:00:00Z")
        #expect(ISOTime.parse("2026-11-23T03:00:00+01:00") == 1_795_399_200)
        #expect(ISOTime.parse("2026-11-23T02:00:00.250Z") == 1_795_399_200)
        #expect(ISOTime.parse("2026-11-23") == 1_795_392_000)
        #expect(ISOTime.parse("2026-11-23T02:00:00") == nil)
        #expect(ISOTime.parse("yesterday") == nil)
        #expect(ISOTime.parse("2026-13-01") == nil)
    }

    @Test("the fixed-width formatter agrees with the general one at the edges of its range")
    func fixedWidthEdges() {
        #expect(ISOTime.format(0) == "1970-01-01T00:00:00Z")
        #expect(ISOTime.format(-1) == "1969-12-31T23:59:59Z")
        #expect(ISOTime.format(-62_167_219_200) == "0000-01-01T00:00:00Z")
        #expect(ISOTime.format(253_402_300_799) == "9999-12-31T23:59:59Z")
        #expect(ISOTime.format(253_402_300_800) == "10000-01-01T00:00:00Z")  // past four digits: the general path
        // Every second of a day and every day of a leap year round-trip through the parser.
        for t in stride(from: Int64(951_782_400), to: 951_782_400 + 86_400, by: 7) { #expect(ISOTime.parse(ISOTime.format(t)) == t) }
        for day in Int64(0)..<366 { #expect(ISOTime.parse(ISOTime.format(946_684_800 + day * 86_400 + 45_296)) == 946_684_800 + day * 86_400 + 45_296) }
    }
}

/// The scan against the plain definition, line by line, over bodies made to trip it.
@Suite("Body fingerprint against its definition")
struct FingerprintDefinitionTests {
    /// The definition: every physical line, in order; a volatile line (its name before `:` or `;`,
    /// any case, is one of `names`) and the continuation lines after it are left out.
    static func reference(_ body: [UInt8], names: [String]) -> Fingerprint128 {
        let upper = names.map { Array($0.uppercased().utf8) }
        var kept: [UInt8] = []
        var skipping = false
        var start = 0
        while start < body.count {
            var end = start
            while end < body.count, body[end] != 0x0A { end += 1 }
            if end < body.count { end += 1 }
            let line = Array(body[start..<end])
            let continuation = line.first == 0x20 || line.first == 0x09
            let volatile = !continuation && upper.contains { name in
                line.count > name.count && (line[name.count] == UInt8(ascii: ":") || line[name.count] == UInt8(ascii: ";"))
                    && zip(line, name).allSatisfy { ($0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0) == $1 }
            }
            if volatile { skipping = true } else if !(skipping && continuation) { skipping = false; kept += line }
            start = end
        }
        return kept.withUnsafeBytes { XXH3.hash128($0) }
    }

    @Test("random bodies: volatile lines in any case, with parameters, folded, at the start, at the end, without a last newline")
    func randomBodies() {
        var rng = SystemRandomNumberGenerator()
        let pieces = ["DTSTAMP:20261101T000000Z", "dtstamp;X=1:2026", "DtStAmP:x", "DTSTAMPX:no", "DTSTAMP", "DTSTART:2026",
                      "DESCRIPTION:a\\, b", " folded", "\tfolded", "", "UID:1", "LAST-MODIFIED:2026", "last-modified:x",
                      "X-SEQ:1", "D", "d:", "SUMMARY:DTSTAMP:not at the start", "BEGIN:VEVENT", "END:VEVENT", "ü:é"]
        for names in [["DTSTAMP"], ["DTSTAMP", "LAST-MODIFIED"], ["dtstamp", "X-SEQ"], ["D"]] {
            let fp = BodyFingerprinter(volatileProperties: names)
            for _ in 0..<400 {
                var text = ""
                for _ in 0..<Int.random(in: 0...60, using: &rng) {
                    text += pieces.randomElement(using: &rng)! + (Bool.random(using: &rng) ? "\r\n" : "\n")
                }
                if Bool.random(using: &rng) { text += pieces.randomElement(using: &rng)! }
                let body = Array(text.utf8)
                #expect(fp.fingerprint(body) == Self.reference(body, names: names), "\(names): \(text.debugDescription)")
            }
        }
    }
}
