public import ICalendar
import FeedModel
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

    /// Buffers a caller reuses from one component to the next (`FeedParser`: one per feed), so a
    /// component's canonical form allocates only its result.
    public struct Scratch {
        var text: [UInt8] = []
        var lines: [Range<Int>] = []
        public init() {}
    }

    /// The volatile names are a set made once per feed (`FeedParser`).
    public static func bytes(of component: ICalComponent, excluding volatile: ICalNameSet, scratch: inout Scratch) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        append(component, excluding: volatile, to: &out, scratch: &scratch)
        return out
    }

    private static func append(_ component: ICalComponent, excluding volatile: ICalNameSet, to out: inout [UInt8],
                               scratch: inout Scratch) {
        // The lines are written one after another into one buffer and sorted as ranges of it:
        // no array per line. The buffers are free again once the lines are out, before any
        // sub-component uses them.
        scratch.text.removeAll(keepingCapacity: true)
        scratch.lines.removeAll(keepingCapacity: true)
        for p in component.properties where !volatile.contains(p) {
            let start = scratch.text.count
            appendLine(p, to: &scratch.text)
            scratch.lines.append(start..<scratch.text.count)
        }
        scratch.text.withUnsafeBufferPointer { bytes in
            scratch.lines.sort { precedes(bytes, $0, $1) }
            for l in scratch.lines { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[l])) }
        }
        if !component.components.isEmpty {
            var blocks: [[UInt8]] = component.components.map { sub in
                var b: [UInt8] = Array("BEGIN:\(sub.name)\n".utf8)
                append(sub, excluding: volatile, to: &b, scratch: &scratch)
                b.append(contentsOf: "END:\(sub.name)\n".utf8)
                return b
            }
            blocks.sort { $0.lexicographicallyPrecedes($1) }
            for b in blocks { out.append(contentsOf: b) }
        }
    }

    /// `[UInt8].lexicographicallyPrecedes` of two ranges of `bytes`: by bytes, then the shorter first.
    @inline(__always)
    static func precedes(_ bytes: UnsafeBufferPointer<UInt8>, _ a: Range<Int>, _ b: Range<Int>) -> Bool {
        let n = min(a.count, b.count)
        if n > 0, let base = bytes.baseAddress {
            let c = memcmp(base + a.lowerBound, base + b.lowerBound, n)
            if c != 0 { return c < 0 }
        }
        return a.count < b.count
    }

    /// One canonical line, `\n` included.
    static func appendLine(_ p: ICalProperty, to out: inout [UInt8]) {
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
