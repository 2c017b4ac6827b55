/// The one JSON value writer of the package (the run report alone is `Codable`): the snapshot
/// tools print it pretty, `feedsync parse --json` one line per record.
///
/// A JSON value with object keys in a fixed order (so the output reads like the documentation)
/// and explicit nulls. `render()` gives pretty-printed JSON that `jq` reads.
package indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    /// Written with the given number of decimals.
    case decimal(Double, places: Int)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    package static func == (a: JSONValue, b: JSONValue) -> Bool { a.render() == b.render() }

    package static func optional(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
    package static func optional(_ v: Int64?) -> JSONValue { v.map(JSONValue.int) ?? .null }
    package static func optional(_ v: UInt64?) -> JSONValue { v.map(JSONValue.uint) ?? .null }

    /// Pretty-printed (two-space indent), ending without a newline.
    package func render() -> String {
        var out = ""
        write(to: &out, indent: "")
        return out
    }

    /// On one line, without spaces (JSON Lines).
    package func renderCompact() -> String {
        var out = ""
        writeCompact(to: &out)
        return out
    }

    private func writeCompact(to out: inout String) {
        switch self {
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.writeCompact(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += "," }
                JSONText.append(key, to: &out)
                out += ":"
                value.writeCompact(to: &out)
            }
            out += "}"
        default:
            write(to: &out, indent: "")
        }
    }

    private func write(to out: inout String, indent: String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .uint(let u): out += String(u)
        case .decimal(let d, let places):
            if d.isFinite {
                out += formatFixed(d, places: places)
            } else {
                out += "null"
            }
        case .string(let s): JSONValue.escape(s, to: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "[\n"
            let inner = indent + "  "
            for (i, item) in items.enumerated() {
                out += inner
                item.write(to: &out, indent: inner)
                out += i + 1 < items.count ? ",\n" : "\n"
            }
            out += indent + "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{\n"
            let inner = indent + "  "
            for (i, (key, value)) in members.enumerated() {
                out += inner
                JSONValue.escape(key, to: &out)
                out += ": "
                value.write(to: &out, indent: inner)
                out += i + 1 < members.count ? ",\n" : "\n"
            }
            out += indent + "}"
        }
    }

    static func escape(_ s: String, to out: inout String) {
        JSONText.append(s, to: &out)
    }
}

/// `d` with exactly `places` decimals, without Foundation.
package func formatFixed(_ d: Double, places: Int) -> String {
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let scaled = (abs(d) * scale).rounded()
    let whole = Int64(scaled / scale)
    var frac = String(Int64(scaled) - whole * Int64(scale))
    while frac.count < places { frac = "0" + frac }
    return (d < 0 && scaled != 0 ? "-" : "") + String(whole) + (places > 0 ? "." + frac : "")
}
