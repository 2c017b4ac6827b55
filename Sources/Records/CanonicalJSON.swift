import JSONOutput

/// The canonical form of a JSON value, the one record hashes are taken over and the `data` column
/// holds: no whitespace, object members sorted by the UTF-8 bytes of their names (a name written
/// twice keeps its last value), strings escaped one way (`JSONText`), numbers in one spelling per
/// value (`canonicalNumber`). So key order, whitespace, escapes and number spelling change nothing.
package enum CanonicalJSON {
    package static func bytes(_ node: JSONNode, dropping volatile: Set<String> = []) -> [UInt8] {
        var out = ""
        append(node, dropping: volatile, to: &out)
        return Array(out.utf8)
    }

    package static func text(_ node: JSONNode, dropping volatile: Set<String> = []) -> String {
        var out = ""
        append(node, dropping: volatile, to: &out)
        return out
    }

    /// `volatile` members are left out of objects at every depth.
    package static func append(_ node: JSONNode, dropping volatile: Set<String>, to out: inout String) {
        switch node {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += canonicalNumber(n)
        case .string(let s): JSONText.append(s, to: &out)
        case .array(let items):
            out += "["
            for (k, item) in items.enumerated() {
                if k > 0 { out += "," }
                append(item, dropping: volatile, to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            var first = true
            for (name, index) in memberOrder(members, dropping: volatile) {
                if !first { out += "," }
                first = false
                JSONText.append(name, to: &out)
                out += ":"
                append(members[index].1, dropping: volatile, to: &out)
            }
            out += "}"
        }
    }

    /// The positions of the members an object keeps, in canonical order: sorted by the UTF-8
    /// bytes of their names, the last of a repeated name, no volatile name. Names are the same
    /// when they are equal `String`s (canonically equivalent); the name written is the first
    /// spelling met.
    static func memberOrder(_ members: [(String, JSONNode)], dropping volatile: Set<String>) -> [(String, Int)] {
        guard members.allSatisfy({ $0.0.utf8.allSatisfy { $0 < 0x80 } }) else {
            // Names beyond ASCII: equal names may differ in bytes, so they are matched by hashing.
            var last: [String: Int] = [:]
            for (k, m) in members.enumerated() { last[m.0] = k }
            return last.filter { !volatile.contains($0.key) }
                .sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                .map { ($0.key, $0.value) }
        }
        // ASCII names are equal exactly when their bytes are: sorted by bytes, then by position,
        // the last of each run of one name is the one kept.
        let sorted = members.indices.sorted { a, b in
            let x = members[a].0.utf8, y = members[b].0.utf8
            if x.elementsEqual(y) { return a < b }
            return x.lexicographicallyPrecedes(y)
        }
        var order: [(String, Int)] = []
        order.reserveCapacity(sorted.count)
        for (k, index) in sorted.enumerated() {
            if k + 1 < sorted.count && members[sorted[k + 1]].0.utf8.elementsEqual(members[index].0.utf8) { continue }
            if !volatile.isEmpty && volatile.contains(members[index].0) { continue }
            order.append((members[index].0, index))
        }
        return order
    }

    /// One spelling per numeric value: no sign on zero, no leading or trailing zeros, no exponent
    /// while the plain form has at most 21 digits before the point or 6 zeros after it
    /// (`200.0` → `200`, `2e2` → `200`, `1.50` → `1.5`, `-0.0` → `0`, `1e30` → `1e30`). Exact: the
    /// digits are never converted to a binary floating point number. `text` must be a JSON number.
    package static func canonicalNumber(_ text: String) -> String {
        // An integer already in its one spelling (no leading zero, not "-0"): the usual case.
        let u = text.utf8
        if let f = u.first, u.count <= 21 {
            let digitsStart = f == UInt8(ascii: "-") ? u.index(after: u.startIndex) : u.startIndex
            if digitsStart != u.endIndex, u[digitsStart] != UInt8(ascii: "0"),
               u[digitsStart...].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
                return text
            }
        }
        return spelledOut(text)
    }

    /// `canonicalNumber` for any JSON number, digit by digit.
    static func spelledOut(_ text: String) -> String {
        var negative = false
        var digits: [UInt8] = []
        var exponent = 0
        var seenPoint = false
        var expText: Substring? = nil
        var idx = text.utf8.startIndex
        let u = text.utf8
        while idx < u.endIndex {
            let c = u[idx]
            switch c {
            case UInt8(ascii: "-"): negative = true
            case UInt8(ascii: "."): seenPoint = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                expText = Substring(text[u.index(after: idx)...])
                idx = u.endIndex
                continue
            default:
                if digits.isEmpty && c == 0x30 {
                    if seenPoint { exponent -= 1 }
                } else {
                    digits.append(c)
                    if seenPoint { exponent -= 1 }
                }
            }
            idx = u.index(after: idx)
        }
        if let expText, let e = Int(expText.hasPrefix("+") ? expText.dropFirst() : expText) { exponent += e }
        while let last = digits.last, last == 0x30 { digits.removeLast(); exponent += 1 }
        if digits.isEmpty { return "0" }
        let n = digits.count
        var out = negative ? "-" : ""
        let d = String(decoding: digits, as: UTF8.self)
        if exponent >= 0 && n + exponent <= 21 {
            out += d + String(repeating: "0", count: exponent)
        } else if exponent < 0 && -exponent < n {
            let cut = d.index(d.startIndex, offsetBy: n + exponent)
            out += d[..<cut] + "." + d[cut...]
        } else if exponent < 0 && -exponent - n <= 6 {
            out += "0." + String(repeating: "0", count: -exponent - n) + d
        } else {
            let first = d.prefix(1), rest = d.dropFirst()
            out += first + (rest.isEmpty ? "" : "." + rest) + "e" + String(n - 1 + exponent)
        }
        return out
    }
}
