import JSONOutput
import Testing
import TestSupport
@testable import Records

/// The canonical form's fast paths held to their definitions on random input: a change here would
/// change every record hash, so every stored record would read as updated.
@Suite("Canonical JSON fast paths")
struct CanonicalFastPathTests {
    static let pieces: [String] = ["a", "Z", " ", "\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1}", "\u{1F}", "\u{7F}",
                                   "é", "e\u{301}", "€", "日本", "😀", "\u{FEFF}", "/", "abc def", "\u{2028}"]

    static func string(_ r: inout SplitMix) -> String {
        var s = ""
        for _ in 0..<r.below(12) { s += pieces[r.below(pieces.count)] }
        return s
    }

    @Test("JSONText.append escapes exactly as one scalar at a time does")
    func escapes() {
        var r = SplitMix(seed: 7)
        for _ in 0..<20_000 {
            let s = Self.string(&r)
            var fast = "[", slow = "["
            JSONText.append(s, to: &fast)
            JSONText.appendScalarByScalar(s, to: &slow)
            #expect(fast == slow, "\(Array(s.unicodeScalars))")
            if fast != slow { return }
        }
    }

    @Test("an integer keeps its spelling exactly when the digit-by-digit reading gives it back")
    func integers() {
        var r = SplitMix(seed: 11)
        for _ in 0..<20_000 {
            var t = r.below(4) == 0 ? "-" : ""
            for _ in 0..<(1 + r.below(24)) { t += String(r.below(3) == 0 ? 0 : r.below(10)) }
            #expect(CanonicalJSON.canonicalNumber(t) == CanonicalJSON.spelledOut(t), "\(t)")
        }
        #expect(CanonicalJSON.canonicalNumber("-0") == "0")
        #expect(CanonicalJSON.canonicalNumber("007") == "7")
        #expect(CanonicalJSON.canonicalNumber("123456789012345678901") == "123456789012345678901")
        #expect(CanonicalJSON.canonicalNumber("1234567890123456789012") == "1.234567890123456789012e21")
    }

    /// The definition: the last member of each name by `String` equality, volatile names out,
    /// sorted by the names' UTF-8 bytes.
    static func reference(_ members: [(String, JSONNode)], _ volatile: Set<String>) -> [(String, Int)] {
        var last: [String: Int] = [:]
        for (k, m) in members.enumerated() { last[m.0] = k }
        return last.filter { !volatile.contains($0.key) }
            .sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            .map { ($0.key, $0.value) }
    }

    @Test("members: sorted by bytes, the last of a repeated name, volatile names out (ASCII and beyond)")
    func members() {
        var r = SplitMix(seed: 13)
        let names = ["a", "b", "B", "ab", "a b", "last_modified", "id", "é", "e\u{301}", "z", "_", "ä"]
        for _ in 0..<20_000 {
            let members = (0..<r.below(9)).map { k in (names[r.below(names.count)], JSONNode.number(String(k))) }
            let volatile: Set<String> = r.below(2) == 0 ? [] : ["last_modified", names[r.below(names.count)]]
            let fast = CanonicalJSON.memberOrder(members, dropping: volatile)
            let slow = Self.reference(members, volatile)
            #expect(fast.map(\.1) == slow.map(\.1) && fast.map(\.0) == slow.map(\.0), "\(members.map(\.0)) \(volatile)")
        }
    }
}
