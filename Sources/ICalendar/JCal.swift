import Foundation
import JSONOutput

// jCal (RFC 7265): a component as JSON, with typed values. Used to check the parser against the
// ical.js parser cases; also handy for debugging (`JCal.json(of:)`).

public enum JCal {
    /// Default value types of the RFC 5545 properties (others: "unknown" unless VALUE= says).
    static let defaultTypes: [String: String] = [
        "DTSTART": "date-time", "DTEND": "date-time", "DUE": "date-time", "RECURRENCE-ID": "date-time",
        "EXDATE": "date-time", "RDATE": "date-time", "DTSTAMP": "date-time", "CREATED": "date-time",
        "LAST-MODIFIED": "date-time", "COMPLETED": "date-time",
        "ATTENDEE": "cal-address", "ORGANIZER": "cal-address",
        "URL": "uri", "TZURL": "uri", "ATTACH": "uri", "SOURCE": "uri",
        "PRIORITY": "integer", "SEQUENCE": "integer", "PERCENT-COMPLETE": "integer", "REPEAT": "integer",
        "GEO": "float", "RRULE": "recur", "EXRULE": "recur", "DURATION": "duration", "TRIGGER": "duration",
        "TZOFFSETFROM": "utc-offset", "TZOFFSETTO": "utc-offset", "FREEBUSY": "period",
        "SUMMARY": "text", "DESCRIPTION": "text", "LOCATION": "text", "CATEGORIES": "text", "COMMENT": "text",
        "CONTACT": "text", "RESOURCES": "text", "TZID": "text", "TZNAME": "text", "UID": "text", "STATUS": "text",
        "CLASS": "text", "TRANSP": "text", "ACTION": "text", "PRODID": "text", "VERSION": "text", "METHOD": "text",
        "CALSCALE": "text", "REQUEST-STATUS": "text", "RELATED-TO": "text", "NAME": "text", "COLOR": "text",
    ]
    /// Properties whose value is a comma-separated list.
    static let multiValued: Set<String> = ["CATEGORIES", "RESOURCES", "RDATE", "EXDATE", "FREEBUSY"]
    /// Properties whose value is `;`-structured.
    static let structured: Set<String> = ["GEO", "REQUEST-STATUS"]

    /// The component as jCal text.
    public static func json(of c: ICalComponent) -> String {
        var out = ""
        component(c, &out)
        return out
    }

    static func component(_ c: ICalComponent, _ out: inout String) {
        out += "[" + quote(c.name.lowercased()) + ",["
        for (i, p) in c.properties.enumerated() {
            if i > 0 { out += "," }
            property(p, &out)
        }
        out += "],["
        for (i, sub) in c.components.enumerated() {
            if i > 0 { out += "," }
            component(sub, &out)
        }
        out += "]]"
    }

    static func property(_ p: ICalProperty, _ out: inout String) {
        let baseName = p.name.split(separator: ".").last.map(String.init) ?? p.name
        let explicitType = p.parameter("VALUE")?.lowercased()
        var type = explicitType ?? defaultTypes[baseName] ?? "unknown"
        out += "[" + quote(p.name.lowercased()) + ",{"
        var first = true
        for param in p.parameters where param.name != "VALUE" {
            if !first { out += "," }
            first = false
            out += quote(param.name.lowercased()) + ":"
            let vs = param.values.map(caretDecode)
            out += vs.count == 1 ? quote(vs[0]) : "[" + vs.map(quote).joined(separator: ",") + "]"
        }
        out += "},"
        // date / date-time detection by shape (ical.js does the same for its date-typed properties)
        var values: [String]
        if multiValued.contains(baseName) {
            values = splitUnescaped(p.value, ",")
        } else {
            values = [p.value]
        }
        if explicitType == nil, type == "date-time", let v = values.first, !v.contains("T"), v.count == 8 { type = "date" }
        if explicitType == nil, (baseName == "RDATE" || baseName == "EXDATE"), let v = values.first, v.contains("/") { type = "period" }
        out += quote(type)
        if structured.contains(baseName) {
            let parts = splitUnescaped(p.value, ";")
            out += ",[" + parts.map { encode($0, type) }.joined(separator: ",") + "]]"
            return
        }
        for v in values { out += "," + encode(v, type) }
        out += "]"
    }

    static func encode(_ v: String, _ type: String) -> String {
        switch type {
        case "text": return quote(ICalText.unescape(v))
        case "date": return quote(date(v))
        case "date-time": return quote(dateTime(v))
        case "time": return quote(time(v))
        case "utc-offset":
            let u = Array(v)
            guard u.count >= 5 else { return quote(v) }
            var s = String(u[0...2]) + ":" + String(u[3...4])
            if u.count >= 7 { s += ":" + String(u[5...6]) }
            return quote(s)
        case "integer":
            return String(Int(v.trimmingCharacters(in: .whitespaces)) ?? 0)
        case "float":
            let d = Double(v.trimmingCharacters(in: .whitespaces)) ?? 0
            return d.isFinite ? "\(d)" : "0"
        case "boolean": return v.uppercased() == "TRUE" ? "true" : "false"
        case "period":
            let parts = v.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return quote(v) }
            let second = parts[1].first == "P" || parts[1].first == "+" || parts[1].first == "-" ? parts[1] : dateTime(parts[1])
            return "[" + quote(dateTime(parts[0])) + "," + quote(second) + "]"
        case "recur": return recur(v)
        default: return quote(v)
        }
    }

    static func date(_ v: String) -> String {
        let u = Array(v)
        guard u.count >= 8 else { return v }
        return String(u[0..<4]) + "-" + String(u[4..<6]) + "-" + String(u[6..<8])
    }

    static func dateTime(_ v: String) -> String {
        let u = Array(v)
        guard u.count >= 15, u[8] == "T" else { return u.count == 8 ? date(v) : v }
        return date(String(u[0..<8])) + "T" + time(String(u[9...]))
    }

    static func time(_ v: String) -> String {
        let u = Array(v)
        guard u.count >= 6 else { return v }
        return String(u[0..<2]) + ":" + String(u[2..<4]) + ":" + String(u[4..<6]) + String(u[6...])
    }

    static func recur(_ v: String) -> String {
        var out = "{"
        var first = true
        for part in v.split(separator: ";", omittingEmptySubsequences: true) {
            guard let eq = part.firstIndex(of: "=") else { continue }
            let key = part[..<eq].lowercased()
            let val = String(part[part.index(after: eq)...])
            if !first { out += "," }
            first = false
            out += quote(key) + ":"
            if key == "until" {
                out += quote(val.contains("T") ? dateTime(val) : date(val))
                continue
            }
            let items = val.split(separator: ",").map(String.init)
            let enc = items.map { Int($0).map(String.init) ?? quote($0) }
            out += enc.count == 1 ? enc[0] : "[" + enc.joined(separator: ",") + "]"
        }
        return out + "}"
    }

    /// RFC 6868: `^^` → `^`, `^'` → `"`, `^n` → newline in parameter values.
    static func caretDecode(_ s: String) -> String {
        guard s.contains("^") else { return s }
        var out = ""
        var it = s.makeIterator()
        while let c = it.next() {
            if c == "^" {
                guard let n = it.next() else { out.append(c); break }
                switch n {
                case "^": out.append("^")
                case "'": out.append("\"")
                case "n", "N": out.append("\n")
                default: out.append(c); out.append(n)
                }
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// Splits on `sep` not preceded by a backslash escape.
    static func splitUnescaped(_ s: String, _ sep: Character) -> [String] {
        var parts: [String] = []
        var cur = ""
        var escaped = false
        for c in s {
            if escaped { cur.append(c); escaped = false; continue }
            if c == "\\" { cur.append(c); escaped = true; continue }
            if c == sep { parts.append(cur); cur = ""; continue }
            cur.append(c)
        }
        parts.append(cur)
        return parts
    }

    static func quote(_ s: String) -> String { JSONText.quoted(s) }
}
