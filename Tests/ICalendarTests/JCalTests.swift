import Foundation
import Testing
@testable import ICalendar

/// ical.js parser cases: each `.ics` must produce the properties and values of its jCal `.json`
/// (compared as JSON values, not as text).
@Test func icaljsParserCases() throws {
    let root = try #require(corpusRoot()).appendingPathComponent("icaljs/test/parser")
    let files = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasSuffix(".ics") }.sorted()
    #expect(files.count >= 20)
    var passed: [String] = []
    var failed: [String] = []
    for f in files {
        let ics = try String(contentsOf: root.appendingPathComponent(f), encoding: .utf8)
        let expectedURL = root.appendingPathComponent(String(f.dropLast(4)) + ".json")
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: expectedURL), options: [.fragmentsAllowed])
        // several VCALENDARs in one file: ical.js returns a list of them; feedsync merges them for
        // syncing, so each one is parsed on its own here
        var chunks: [String] = []
        if let list = expected as? [Any], list.first is [Any] {
            var cur = ""
            for line in ics.split(separator: "\n", omittingEmptySubsequences: false) {
                cur += line + "\n"
                if line.trimmingCharacters(in: .whitespacesAndNewlines).uppercased() == "END:VCALENDAR" {
                    chunks.append(cur); cur = ""
                }
            }
        } else {
            chunks = [ics]
        }
        var jsonText: [String] = []
        for c in chunks { jsonText.append(JCal.json(of: try ICalParser.parse(Array(c.utf8)))) }
        let text = chunks.count == 1 && !(expected is [Any] && (expected as! [Any]).first is [Any]) ? jsonText[0] : "[" + jsonText.joined(separator: ",") + "]"
        let got = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        if jsonEqual(got, expected) {
            passed.append(f)
        } else {
            failed.append("\(f)\n  got  \(text)\n  want \(String(data: try JSONSerialization.data(withJSONObject: expected), encoding: .utf8) ?? "")")
        }
    }
    print("ical.js parser cases: \(passed.count) of \(files.count) match their jCal")
    for f in failed { print("JCAL MISMATCH: \(f)") }
    #expect(failed.isEmpty)
}

/// JSON values equal as values: objects ignore key order, numbers compare numerically.
func jsonEqual(_ a: Any, _ b: Any) -> Bool {
    if let x = a as? [String: Any], let y = b as? [String: Any] {
        return x.count == y.count && x.allSatisfy { k, v in y[k].map { jsonEqual(v, $0) } ?? false }
    }
    if let x = a as? [Any], let y = b as? [Any] {
        return x.count == y.count && zip(x, y).allSatisfy { jsonEqual($0, $1) }
    }
    if let x = a as? String, let y = b as? String { return x == y }
    if let x = a as? NSNumber, let y = b as? NSNumber {
        return x.doubleValue == y.doubleValue
    }
    return a is NSNull && b is NSNull
}
