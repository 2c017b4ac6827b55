public import ICalendar
import FeedModel

/// The canonical form of an event: what its record hash is computed over.
///
/// One line per property, `NAME;PARAM=v1,v2;…:value` and a `\n`, where names are upper-cased,
/// parameters are sorted by name, single-valued TEXT values are unescaped and escaped again in one
/// normal way, the lines are sorted, and volatile properties are left out. Sub-components (VALARM)
/// follow as `BEGIN:NAME` … `END:NAME` blocks in canonical form, sorted. So refolding, CRLF↔LF,
/// property order and escaping variants change no hash; any change of meaning does.
public enum CanonicalForm {
    /// TEXT properties that hold a single value; their escapes are normalised.
    static let singleText = ICalNameSet(["SUMMARY", "DESCRIPTION", "LOCATION", "COMMENT", "CONTACT", "UID"])

    /// The volatile names are a set made once per feed (`FeedParser`).
    public static func bytes(of component: ICalComponent, excluding volatile: ICalNameSet) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        append(component, excluding: volatile, to: &out)
        return out
    }

    private static func append(_ component: ICalComponent, excluding volatile: ICalNameSet, to out: inout [UInt8]) {
        var lines: [[UInt8]] = []
        lines.reserveCapacity(component.properties.count)
        for p in component.properties where !volatile.contains(p) {
            lines.append(line(p))
        }
        lines.sort { $0.lexicographicallyPrecedes($1) }
        for l in lines { out.append(contentsOf: l) }
        if !component.components.isEmpty {
            var blocks: [[UInt8]] = component.components.map { sub in
                var b: [UInt8] = Array("BEGIN:\(sub.name)\n".utf8)
                append(sub, excluding: volatile, to: &b)
                b.append(contentsOf: "END:\(sub.name)\n".utf8)
                return b
            }
            blocks.sort { $0.lexicographicallyPrecedes($1) }
            for b in blocks { out.append(contentsOf: b) }
        }
    }

    static func line(_ p: ICalProperty) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(p.name.utf8.count + p.value.utf8.count + 16)
        out.append(contentsOf: p.name.utf8)
        if !p.parameters.isEmpty {
            let params = p.parameters.count == 1 ? p.parameters : p.parameters.sorted(by: { $0.name < $1.name })
            for param in params {
                out.append(UInt8(ascii: ";"))
                out.append(contentsOf: param.name.utf8)
                out.append(UInt8(ascii: "="))
                for (k, v) in param.values.enumerated() {
                    if k > 0 { out.append(UInt8(ascii: ",")) }
                    appendQuotedIfNeeded(v, to: &out)
                }
            }
        }
        out.append(UInt8(ascii: ":"))
        if singleText.contains(p) {
            ICalText.appendNormalized(p.value, to: &out)
        } else {
            out.append(contentsOf: p.value.utf8)
        }
        out.append(0x0A)
        return out
    }

    private static func appendQuotedIfNeeded(_ v: String, to out: inout [UInt8]) {
        if v.utf8.contains(where: { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: ",") }) {
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: v.utf8)
            out.append(UInt8(ascii: "\""))
        } else {
            out.append(contentsOf: v.utf8)
        }
    }
}
