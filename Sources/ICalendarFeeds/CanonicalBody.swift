import ICalendar
import FeedModel

/// Reads a record's canonical body (see `FeedModel.CanonicalForm`): one `NAME;PARAMS:value` line per
/// property, sub-components as `BEGIN:X` … `END:X` blocks. Lines may end in `\n` or `\r\n`. A
/// leading `BEGIN:VEVENT` (as in hand-made bodies) is the record itself, not a sub-component.
package enum CanonicalBody {
    package static func properties(_ body: [UInt8]) -> [CanonicalProperty] {
        var result: [CanonicalProperty] = []
        var path: [String] = []
        var sawRoot = false
        for raw in body.split(separator: 0x0A, omittingEmptySubsequences: true) {
            var line = String(decoding: raw, as: UTF8.self)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.isEmpty { continue }
            if line.hasPrefix("BEGIN:") {
                let name = String(line.dropFirst(6))
                if !sawRoot && result.isEmpty && path.isEmpty && name == "VEVENT" { sawRoot = true } else { path.append(name) }
                continue
            }
            if line.hasPrefix("END:") {
                if !path.isEmpty { path.removeLast() }
                continue
            }
            let nameEnd = line.firstIndex(where: { $0 == ";" || $0 == ":" }) ?? line.endIndex
            let name = String(line[..<nameEnd])
            let full = (path + [name]).joined(separator: "/")
            result.append(CanonicalProperty(name: full, rest: String(line[nameEnd...])))
        }
        return result
    }

    /// The value of the first top-level `SUMMARY`, unescaped (`\,` → `,`, `\n` → newline); nil if none.
    package static func summary(_ body: [UInt8]) -> String? {
        guard let p = properties(body).first(where: { $0.name == "SUMMARY" }) else { return nil }
        return ICalText.unescape(value(of: p.rest))
    }

    /// The value part of `;PARAMS:value` or `:value`: after the first `:` outside double quotes.
    static func value(of rest: String) -> String {
        var quoted = false
        for i in rest.indices {
            let c = rest[i]
            if c == "\"" { quoted.toggle() } else if c == ":" && !quoted { return String(rest[rest.index(after: i)...]) }
        }
        return ""
    }
}
