import Testing
import TestSupport
@testable import ICalendar

@Suite("Trimming ASCII around values")
struct TrimTests {
    static let blank: @Sendable (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
    static let quoteOrSpace: @Sendable (UInt8) -> Bool = { $0 == 0x22 || $0 == 0x20 || $0 == 0x27 }
    static let blankOrCR: @Sendable (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }

    @Test("known cases, among them whitespace next to characters it could join")
    func known() {
        let cases: [(String, String)] = [
            ("", ""), ("  ", ""), (" \t20260101\t ", "20260101"), ("VEVENT", "VEVENT"),
            (" é ", "é"), (" \u{301}x", " \u{301}x"), ("x\u{600} ", "x\u{600} "), ("\u{600} ", "\u{600} "),
            ("\r\n", "\r\n"), (" a\r", "a\r"), ("👍🏽 ", "👍🏽"),
        ]
        for (input, expected) in cases {
            #expect(String(trimmingASCII(Substring(input), leading: Self.blank, trailing: Self.blank)) == expected, "\(input.debugDescription)")
            #expect(String(trimmingCharacters(Substring(input), Self.blank, Self.blank)) == expected, "\(input.debugDescription)")
        }
        #expect(String(trimmingASCII(Substring(" a\r"), leading: Self.blank, trailing: Self.blankOrCR)) == "a")
    }

    @Test("on random strings of spaces, tabs, CR, LF, ASCII and joining characters, bytes and Characters agree")
    func randomAgree() {
        var rng = SplitMix(seed: 0x7417)
        let pieces = [" ", "\t", "\r", "\n", "\r\n", "a", "Z", "1", "é", "\u{301}", "\u{600}", "\u{200D}", "👍", "🏽", "\"", "'", "/"]
        for _ in 0..<20_000 {
            var s = ""
            for _ in 0..<Int(rng.next() % 8) { s += pieces[Int(rng.next() % UInt64(pieces.count))] }
            let sub = Substring(s)
            for (leading, trailing) in [(Self.blank, Self.blank), (Self.blank, Self.blankOrCR), (Self.quoteOrSpace, Self.quoteOrSpace)] {
                let fast = trimmingASCII(sub, leading: leading, trailing: trailing)
                let slow = trimmingCharacters(sub, leading, trailing)
                #expect(fast == slow, "\(s.debugDescription)")
            }
        }
    }
}
