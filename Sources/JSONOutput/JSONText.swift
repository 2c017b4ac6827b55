/// JSON string literals, shared by every JSON writer of the package (jCal, `feedsync parse --json`,
/// the snapshot tools).
package enum JSONText {
    /// `s` as a JSON string literal, quotes included; control characters as `\uXXXX`.
    package static func quoted(_ s: String) -> String {
        var out = ""
        append(s, to: &out)
        return out
    }

    /// Appends `s` as a JSON string literal. Runs of bytes that need no escape are copied whole
    /// (a byte of a multi-byte UTF-8 sequence is never one that needs it).
    package static func append(_ s: String, to out: inout String) {
        out += "\""
        let utf8 = s.utf8
        var runStart = utf8.startIndex
        var i = runStart
        while i != utf8.endIndex {
            let b = utf8[i]
            guard b < 0x20 || b == 0x22 || b == 0x5C else {
                utf8.formIndex(after: &i)
                continue
            }
            if runStart != i { out += s[runStart..<i] }
            switch b {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            default:
                let h = String(b, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            }
            utf8.formIndex(after: &i)
            runStart = i
        }
        if runStart != utf8.endIndex { out += s[runStart..<utf8.endIndex] }
        out += "\""
    }

    /// The definition `append` is held to: one Unicode scalar at a time.
    package static func appendScalarByScalar(_ s: String, to out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}
