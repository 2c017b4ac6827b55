import Testing
import ICalendar
import TestSupport

@Suite("Upper-casing names and enumerated values")
struct UppercaseTests {
    @Test("asciiUppercased agrees with String.uppercased, ASCII or not")
    func agrees() {
        let pieces = ["a", "Z", "status", "Cancelled", "-", "x-wr", "é", "ß", "ﬁ", "ı", "i", "日", "😀", " ", "\t", "9"]
        var r = SplitMix(seed: 3)
        for _ in 0..<20_000 {
            var s = ""
            for _ in 0..<r.below(6) { s += pieces[r.below(pieces.count)] }
            #expect(asciiUppercased(s) == s.uppercased(), "\(s)")
        }
        #expect(asciiUppercased("cancelled") == "CANCELLED")
        #expect(asciiUppercased("straße") == "STRASSE")
    }
}
