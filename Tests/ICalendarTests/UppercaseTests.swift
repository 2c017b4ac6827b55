import Testing
import ICalendar

@Suite("Upper-casing names and enumerated values")
struct UppercaseTests {
    @Test("asciiUppercased agrees with String.uppercased, ASCII or not")
    func agrees() {
        let pieces = ["a", "Z", "status", "Cancelled", "-", "x-wr", "é", "ß", "ﬁ", "ı", "i", "日", "😀", " ", "\t", "9"]
        var state: UInt64 = 3
        for _ in 0..<20_000 {
            var s = ""
            for _ in 0..<Int(state % 6) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                s += pieces[Int((state >> 33) % UInt64(pieces.count))]
            }
            state = state &* 6364136223846793005 &+ 1442695040888963407
            #expect(asciiUppercased(s) == s.uppercased(), "\(s)")
        }
        #expect(asciiUppercased("cancelled") == "CANCELLED")
        #expect(asciiUppercased("straße") == "STRASSE")
    }
}
