import FeedHash
import FeedModel
import FeedFormats

/// A format that exists only in the tests, to show that a format is one type: a body is a `TOY`
/// line, then one record per line, `key;start;end;title` (Unix seconds; end `-` never ends).
/// Lines starting with `#` are volatile (left out of the fingerprint). Records hash their line.
struct ToyFormat: FeedFormat {
    static let registry: FormatRegistry = {
        var r = FormatRegistry.standard
        r.register("toy") { _ in ToyFormat() }
        return r
    }()

    var name: String { "toy" }
    var describedAs: String { "a toy feed" }
    var parserVersion: UInt32 { 1 }
    var accept: String { "text/x-toy" }

    func sniff(_ body: [UInt8]) -> Bool { body.starts(with: Array("TOY".utf8)) }

    func fingerprint(_ body: [UInt8]) -> Fingerprint128 {
        var kept: [UInt8] = []
        for line in body.split(separator: 0x0A, omittingEmptySubsequences: false) where line.first != UInt8(ascii: "#") {
            kept.append(contentsOf: line)
            kept.append(0x0A)
        }
        return kept.withUnsafeBytes { XXH3.hash128($0) }
    }

    func parse(_ body: [UInt8]) throws(FeedFormatError) -> ParsedFeed {
        let lines = String(decoding: body, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first.map({ $0.hasPrefix("TOY") }) == true else {
            throw FeedFormatError(line: 1, message: "not a toy feed")
        }
        var records: [FeedRecord] = []
        var seen: Set<String> = []
        for (i, line) in lines.enumerated().dropFirst() where !line.isEmpty && !line.hasPrefix("#") {
            let f = line.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 4, !f[0].isEmpty, let start = Int64(f[1]), f[2] == "-" || Int64(f[2]) != nil else {
                throw FeedFormatError(line: i + 1, message: "expected key;start;end;title")
            }
            guard seen.insert(f[0]).inserted else { throw FeedFormatError(line: i + 1, message: "key \(f[0]) twice") }
            let end = Int64(f[2])
            let canonical = Array("\(line)\n".utf8)
            records.append(FeedRecord(key: f[0], uid: f[0], recurrenceID: nil, hash: XXH3.hash64(canonical),
                                      start: start, end: end ?? start, lastEnd: end, allDay: false,
                                      summary: f[3], body: canonical))
        }
        return ParsedFeed(records: records)
    }

    func properties(ofCanonicalBody body: [UInt8]) -> [CanonicalProperty] {
        let f = String(decoding: body, as: UTF8.self).dropLast().split(separator: ";", omittingEmptySubsequences: false)
        return zip(["KEY", "START", "END", "TITLE"], f).map { CanonicalProperty(name: $0, rest: ":" + $1) }
    }

    func summary(ofCanonicalBody body: [UInt8]) -> String? {
        properties(ofCanonicalBody: body).first { $0.name == "TITLE" }?.shown
    }
}
