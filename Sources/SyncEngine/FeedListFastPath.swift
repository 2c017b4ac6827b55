/// The common shape of a long `feeds:` list, read without a YAML node per scalar.
///
/// Yams builds and checks a node tree of the whole document (a class instance per scalar, a
/// dictionary per mapping to find duplicate keys): 175–200 ms of a 10,000-feed configuration, a
/// quarter of a quiet night. Most lists are plain block YAML — `- id: …` then `url:`, `property:`,
/// `timezone:` on lines of their own — so that shape is read here, line by line, into the same
/// cells a `feeds_file` row gives, and the rest of the document (with the list's lines left blank,
/// so every line keeps its number) goes to Yams.
///
/// It never decides anything it is unsure of: any line it does not fully understand (a flow list,
/// an anchor, a tag, a multi-line or escaped scalar, a tab, a key it does not take, a key given
/// twice, a document marker) makes `split` return nil and the whole document is read by Yams,
/// as before, errors included. The loader also falls back when Yams does not find the `feeds`
/// key where this found it, or when a feed read here fails a check (so every error message is
/// the one the node path gives).
enum FeedListFastPath {
    /// One feed of the list: its settings as text, and the line of its `-`.
    struct Item {
        var cells: [String: String]
        var line: Int
    }

    /// The document with the list's lines blank and `feeds:` made `feeds: []`; the list's items;
    /// the line of `feeds:` (1-based).
    struct Split {
        var rest: String
        var items: [Item]
        var feedsLine: Int
    }

    /// The settings a feed of the fast path may have (others, such as `http` or `mapping`, send the
    /// document to Yams), with their bytes for matching a line without making a string first.
    static let keys: [String] = ["id", "url", "property", "timezone", "format", "on_bad_event"]
    private static let keyBytes: [[UInt8]] = keys.map { Array($0.utf8) }

    static func split(_ text: String) -> Split? {
        let utf8 = Array(text.utf8)
        // Lines as [start, end) without the line break (a CR before the LF is left out too).
        var lines: [(start: Int, end: Int)] = []
        lines.reserveCapacity(utf8.count / 24)
        var s = 0
        for i in utf8.indices where utf8[i] == 0x0A {
            lines.append((s, i > s && utf8[i - 1] == 0x0D ? i - 1 : i))
            s = i + 1
        }
        if s < utf8.count { lines.append((s, utf8.count)) }

        // `feeds:` at the start of a line, once; no document markers or directives anywhere.
        var feedsIndex: Int? = nil
        for (n, l) in lines.enumerated() {
            guard l.end > l.start else { continue }
            let c = utf8[l.start]
            if c == UInt8(ascii: "%") || startsWith(utf8, l, "---") || startsWith(utf8, l, "...") { return nil }
            if startsWith(utf8, l, "feeds:") {
                guard feedsIndex == nil else { return nil }
                guard restIsBlankOrComment(utf8, l.start + 6, l.end, needsSpace: true) else { return nil }
                feedsIndex = n
            }
        }
        guard let feedsIndex else { return nil }

        var items: [Item] = []
        var current: [String: String]? = nil
        var currentLine = 0
        var dashColumn: Int? = nil
        var keyColumn = 0
        var n = feedsIndex + 1
        var blockEnd = lines.count
        while n < lines.count {
            let l = lines[n]
            var i = l.start
            while i < l.end, utf8[i] == 0x20 { i += 1 }
            if i < l.end, utf8[i] == 0x09 { return nil }
            if i == l.end || utf8[i] == UInt8(ascii: "#") { n += 1; continue }   // blank or comment
            let column = i - l.start
            if utf8[i] == UInt8(ascii: "-"), i + 1 < l.end, utf8[i + 1] == 0x20, dashColumn == nil || column == dashColumn {
                // `- key: value`: a new item.
                if let current { items.append(Item(cells: current, line: currentLine)) }
                dashColumn = column
                var k = i + 1
                while k < l.end, utf8[k] == 0x20 { k += 1 }
                keyColumn = k - l.start
                var cells: [String: String] = [:]
                guard readSetting(utf8, k, l.end, into: &cells) else { return nil }
                current = cells
                currentLine = n + 1
            } else if column == 0 {
                // The next top-level setting: the list is over.
                guard utf8[i] != UInt8(ascii: "-") else { return nil }
                blockEnd = n
                break
            } else if current != nil, column == keyColumn {
                guard readSetting(utf8, i, l.end, into: &current!) else { return nil }
            } else {
                return nil
            }
            n += 1
        }
        if let current { items.append(Item(cells: current, line: currentLine)) }
        guard !items.isEmpty else { return nil }

        // The document without the list: `feeds: []`, then blank lines where the items were.
        let f = lines[feedsIndex]
        var rest: [UInt8] = []
        rest.reserveCapacity(f.start + 16 + (utf8.count - (blockEnd < lines.count ? lines[blockEnd].start : utf8.count)) + (blockEnd - feedsIndex))
        rest.append(contentsOf: utf8[..<f.start])
        rest.append(contentsOf: "feeds: []\n".utf8)
        rest.append(contentsOf: repeatElement(0x0A, count: blockEnd - feedsIndex - 1))
        if blockEnd < lines.count { rest.append(contentsOf: utf8[lines[blockEnd].start...]) }
        return Split(rest: String(decoding: rest, as: UTF8.self), items: items, feedsLine: feedsIndex + 1)
    }

    /// `key: value` from `i` to `end`, a key of `keys` not yet in `cells`, the value a scalar on
    /// this line; false for anything else.
    private static func readSetting(_ b: [UInt8], _ i: Int, _ end: Int, into cells: inout [String: String]) -> Bool {
        var k = i
        while k < end, (b[k] >= 0x61 && b[k] <= 0x7A) || b[k] == UInt8(ascii: "_") { k += 1 }
        guard k > i, k + 1 < end, b[k] == UInt8(ascii: ":"), b[k + 1] == 0x20 else { return false }
        guard let n = keyBytes.firstIndex(where: { $0.elementsEqual(b[i..<k]) }) else { return false }
        let key = keys[n]
        guard cells[key] == nil, let value = scalar(b, k + 2, end) else { return false }
        cells[key] = value
        return true
    }

    /// A scalar that YAML's basic resolver reads as this text: plain (no indicator first, no
    /// `: ` inside, a ` #` comment after it), or quoted on one line without escapes.
    private static func scalar(_ b: [UInt8], _ from: Int, _ end: Int) -> String? {
        var i = from
        while i < end, b[i] == 0x20 { i += 1 }
        guard i < end else { return nil }
        let first = b[i]
        if first == UInt8(ascii: "'") || first == UInt8(ascii: "\"") {
            var out: [UInt8] = []
            var k = i + 1
            while true {
                guard k < end else { return nil }
                let c = b[k]
                if c == UInt8(ascii: "\\") && first == UInt8(ascii: "\"") { return nil }
                if c == first {
                    if first == UInt8(ascii: "'"), k + 1 < end, b[k + 1] == first { out.append(c); k += 2; continue }
                    break
                }
                if c == 0x09 { return nil }
                out.append(c)
                k += 1
            }
            guard restIsBlankOrComment(b, k + 1, end, needsSpace: true) else { return nil }
            return String(decoding: out, as: UTF8.self)
        }
        if "-?:,[]{}#&*!|>'\"%@`".utf8.contains(first) { return nil }
        var e = i
        while e < end {
            let c = b[e]
            if c == 0x09 { return nil }
            if c == UInt8(ascii: "#"), b[e - 1] == 0x20 { break }
            if c == UInt8(ascii: ":"), e + 1 == end || b[e + 1] == 0x20 { return nil }
            e += 1
        }
        while e > i, b[e - 1] == 0x20 { e -= 1 }
        return String(decoding: b[i..<e], as: UTF8.self)
    }

    /// Only spaces, then nothing or a comment (after at least one space when `needsSpace`).
    private static func restIsBlankOrComment(_ b: [UInt8], _ from: Int, _ end: Int, needsSpace: Bool) -> Bool {
        var i = from
        while i < end, b[i] == 0x20 { i += 1 }
        if i == end { return true }
        return b[i] == UInt8(ascii: "#") && (!needsSpace || i > from)
    }

    private static func startsWith(_ b: [UInt8], _ l: (start: Int, end: Int), _ prefix: String) -> Bool {
        let p = Array(prefix.utf8)
        guard l.end - l.start >= p.count else { return false }
        for k in 0..<p.count where b[l.start + k] != p[k] { return false }
        return true
    }
}
