// RFC 5545 content-line lexer and component tree builder.
// Byte level: physical lines are never turned into Strings; only names,
// parameter values and property values that are returned become Strings.

public struct ICalParameter: Sendable, Hashable {
    public var name: String
    public var values: [String]
    public init(name: String, values: [String]) {
        self.name = name
        self.values = values
    }
}

public struct ICalProperty: Sendable, Hashable {
    public var name: String { didSet { nameKey = ICalName.key(name) } }
    /// `ICalName.key(name)`: lookups compare it before the name, so a property of another name
    /// costs one integer comparison instead of a string comparison.
    public private(set) var nameKey: UInt64
    public var parameters: [ICalParameter]
    /// Unfolded value, NOT unescaped (use `ICalText.unescape` for TEXT values).
    public var value: String
    /// 1-based number of the first physical line of this content line.
    public var line: Int

    public init(name: String, parameters: [ICalParameter] = [], value: String, line: Int = 0) {
        self.name = name
        self.nameKey = ICalName.key(name)
        self.parameters = parameters
        self.value = value
        self.line = line
    }

    /// First value of the first parameter with this name (case-insensitive).
    public func parameter(_ name: String) -> String? {
        // Most properties have none (DTSTART, UID, SUMMARY…): no upper-casing of the name asked for.
        if parameters.isEmpty { return nil }
        let upper = asciiUppercased(name)
        for p in parameters where p.name == upper {
            return p.values.first
        }
        return nil
    }

    /// All values of all parameters with this name (case-insensitive).
    public func parameterValues(_ name: String) -> [String] {
        if parameters.isEmpty { return [] }
        let upper = asciiUppercased(name)
        var out: [String] = []
        for p in parameters where p.name == upper { out.append(contentsOf: p.values) }
        return out
    }
}

/// Property names as keys that are cheap to compare.
public enum ICalName {
    /// The name's length and its first seven bytes in one integer: names of other lengths, or that
    /// differ in their first seven bytes, have different keys (equal keys still need the names
    /// compared). Case-sensitive, as the names are compared.
    @inline(__always)
    public static func key(_ name: String) -> UInt64 {
        var name = name
        return name.withUTF8 { b in
            var k = UInt64(truncatingIfNeeded: b.count)
            let n = min(b.count, 7)
            for i in 0..<n { k |= UInt64(b[i]) << (8 * UInt64(i + 1)) }
            return k
        }
    }
}

/// A few property names (volatile ones, single-valued TEXT ones), asked about for every property:
/// matched by key first, so most properties are told apart without hashing or comparing strings.
public struct ICalNameSet: Sendable {
    private var entries: [(key: UInt64, name: String)]

    /// `names` as given (property names of a parsed body are upper-case).
    public init(_ names: some Sequence<String>) {
        var seen: Set<String> = []
        entries = names.filter { seen.insert($0).inserted }.map { (ICalName.key($0), $0) }
    }

    @inline(__always)
    public func contains(_ p: ICalProperty) -> Bool {
        for e in entries where e.key == p.nameKey && e.name == p.name { return true }
        return false
    }
}

/// `s.uppercased()`, byte by byte when `s` is ASCII (names and enumerated values such as STATUS
/// almost always are; already upper-case, they come back as they are, with no allocation);
/// Unicode's rules only beyond ASCII.
public func asciiUppercased(_ s: String) -> String {
    // One pass over the bytes in place (a native string's own storage: no copy).
    var lower = false, ascii = true
    var bytes = s
    bytes.withUTF8 { b in
        for c in b {
            if c >= 0x80 { ascii = false; return }
            if c &- 0x61 < 26 { lower = true }
        }
    }
    guard ascii else { return s.uppercased() }
    guard lower else { return s }
    return bytes.withUTF8 { b in
        String(unsafeUninitializedCapacity: b.count) { out in
            for (i, c) in b.enumerated() { out[i] = c &- 0x61 < 26 ? c - 0x20 : c }
            return b.count
        }
    }
}

public struct ICalComponent: Sendable, Hashable {
    public var name: String
    public var properties: [ICalProperty]
    public var components: [ICalComponent]
    /// Line of the BEGIN line.
    public var line: Int
    /// Line of the END line.
    public var endLine: Int

    public init(name: String, properties: [ICalProperty] = [], components: [ICalComponent] = [], line: Int = 0, endLine: Int = 0) {
        self.name = name
        self.properties = properties
        self.components = components
        self.line = line
        self.endLine = endLine
    }

    /// First property with this name (case-insensitive).
    public func first(_ name: String) -> ICalProperty? {
        let key = ICalName.key(name)
        for i in properties.indices where properties[i].nameKey == key && properties[i].name == name { return properties[i] }
        let upper = asciiUppercased(name)
        if upper == name { return nil }
        let upperKey = ICalName.key(upper)
        for i in properties.indices where properties[i].nameKey == upperKey && properties[i].name == upper { return properties[i] }
        return nil
    }

    /// All properties with this name (case-insensitive).
    public func all(_ name: String) -> [ICalProperty] {
        let upper = asciiUppercased(name)
        let key = ICalName.key(upper)
        return properties.filter { $0.nameKey == key && $0.name == upper }
    }

    /// Direct child components with this name (case-insensitive).
    public func children(_ name: String) -> [ICalComponent] {
        let upper = asciiUppercased(name)
        return components.filter { $0.name == upper }
    }

    /// VEVENT children of this component (a VCALENDAR).
    public var events: [ICalComponent] { children("VEVENT") }
}

public struct ICalParseError: Error, Sendable, CustomStringConvertible, Equatable {
    public var line: Int?
    public var message: String
    public init(line: Int?, message: String) {
        self.line = line
        self.message = message
    }
    public var description: String {
        if let line { return "line \(line): \(message)" }
        return message
    }
}

/// Parser entry points.
///
/// Several VCALENDAR objects in one body are accepted: the children (and the
/// properties not already present) of the 2nd, 3rd, ... VCALENDAR are merged
/// into the first one, which is returned.
public enum ICalParser {
    /// The deepest component nesting a feed may have, VCALENDAR counting as level 1 (real calendars
    /// go three deep: VCALENDAR > VEVENT > VALARM). A deeper BEGIN fails the feed: every walk of
    /// the tree (canonical form, time zones, jCal, even freeing it) recurses once per level, so
    /// the depth a stranger's feed may reach must be bounded. docs/limits.md lists this and the
    /// other limits.
    public static let maxNestingDepth = 64
    /// The longest content line, unfolded: far above any real one (a long DESCRIPTION is a few KB).
    public static let maxLineBytes = 1 << 20
    /// The most properties one component may have.
    public static let maxPropertiesPerComponent = 10_000

    /// What one body may hold at most (docs/limits.md): each bound fails the feed when passed.
    public struct Limits: Sendable, Equatable {
        /// VEVENTs in the calendar (the feed's records); the config's `max_records`.
        public var maxEvents: Int
        public init(maxEvents: Int = 100_000) { self.maxEvents = maxEvents }
    }

    public static func parse(_ bytes: [UInt8], limits: Limits = Limits()) throws(ICalParseError) -> ICalComponent {
        var warnings: [String] = []
        return try parse(bytes, limits: limits, warnings: &warnings)
    }

    /// Also says what was repaired on the way (an END that names another component).
    public static func parse(_ bytes: [UInt8], limits: Limits = Limits(), warnings: inout [String]) throws(ICalParseError) -> ICalComponent {
        var found: [String] = []
        let r: Result<ICalComponent, ICalParseError> = bytes.withUnsafeBytes { buf in
            do throws(ICalParseError) {
                return .success(try parse(buf, limits: limits, warnings: &found))
            } catch {
                return .failure(error)
            }
        }
        warnings += found
        return try r.get()
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer, limits: Limits = Limits()) throws(ICalParseError) -> ICalComponent {
        var warnings: [String] = []
        return try parse(bytes, limits: limits, warnings: &warnings)
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer, limits: Limits = Limits(),
                             warnings: inout [String]) throws(ICalParseError) -> ICalComponent {
        var builder = TreeBuilder()
        defer { warnings += builder.warnings }
        builder.maxEvents = limits.maxEvents
        var lexer = ContentLineLexer(bytes)
        // Freed however the parse ends (an error used to leak the buffer of folded lines; the
        // fuzzer found it).
        defer { lexer.release() }
        var first = true
        while let cl = lexer.nextLogicalLine() {
            if first {
                first = false
                try checkFirstLine(cl.bytes, line: cl.line)
            }
            if cl.bytes.count > maxLineBytes {
                throw ICalParseError(line: cl.line, message: "a content line of \(cl.bytes.count) bytes; the limit is \(maxLineBytes) (1 MiB)")
            }
            let prop = try parseContentLine(cl.bytes, line: cl.line)
            try builder.add(prop)
        }
        return try builder.finish(lastLine: lexer.lastLine)
    }

    static func checkFirstLine(_ b: UnsafeBufferPointer<UInt8>, line: Int) throws(ICalParseError) {
        var e = b.count
        while e > 0, b[e - 1] == 0x20 || b[e - 1] == 0x09 { e -= 1 }
        let expected = Array("BEGIN:VCALENDAR".utf8)
        if e == expected.count {
            var ok = true
            for k in 0..<e where (b[k] >= 0x61 && b[k] <= 0x7A ? b[k] - 0x20 : b[k]) != expected[k] { ok = false; break }
            if ok { return }
        }
        var s = 0
        while s < b.count, b[s] == 0x20 || b[s] == 0x09 { s += 1 }
        let pv = preview(UnsafeBufferPointer(rebasing: b[s...]))
        if s < b.count, b[s] == UInt8(ascii: "<") {
            throw ICalParseError(line: line, message: "body is not iCalendar (looks like HTML/XML): first line is \"\(pv)\", expected BEGIN:VCALENDAR")
        }
        throw ICalParseError(line: line, message: "body is not iCalendar: first line is \"\(pv)\", expected BEGIN:VCALENDAR")
    }

    /// Parses a single unfolded content line (bytes without CR/LF).
    static func parseContentLine(_ b: UnsafeBufferPointer<UInt8>, line: Int) throws(ICalParseError) -> ICalProperty {
        let n = b.count
        var i = 0
        // name
        while i < n, b[i] != UInt8(ascii: ";"), b[i] != UInt8(ascii: ":") { i += 1 }
        if i >= n {
            throw ICalParseError(line: line, message: "content line has no colon: \"\(preview(b))\"")
        }
        let name = makeUpperName(b, 0, i)
        if name.isEmpty {
            throw ICalParseError(line: line, message: "content line has an empty property name: \"\(preview(b))\"")
        }
        var params: [ICalParameter] = []
        while i < n, b[i] == UInt8(ascii: ";") {
            i += 1
            let ps = i
            while i < n, b[i] != UInt8(ascii: "="), b[i] != UInt8(ascii: ";"), b[i] != UInt8(ascii: ":") { i += 1 }
            if i >= n {
                throw ICalParseError(line: line, message: "content line has no colon: \"\(preview(b))\"")
            }
            let pname = makeUpperName(b, ps, i)
            var values: [String] = []
            if b[i] == UInt8(ascii: "=") {
                i += 1
                while true {
                    if i < n, b[i] == UInt8(ascii: "\"") {
                        let vs = i + 1
                        var j = vs
                        while j < n, b[j] != UInt8(ascii: "\"") { j += 1 }
                        if j >= n {
                            throw ICalParseError(line: line, message: "unterminated quoted value of parameter \(pname)")
                        }
                        values.append(makeString(b, vs, j))
                        i = j + 1
                        // tolerate junk between closing quote and the delimiter
                        while i < n, b[i] != UInt8(ascii: ","), b[i] != UInt8(ascii: ";"), b[i] != UInt8(ascii: ":") { i += 1 }
                    } else {
                        let vs = i
                        while i < n, b[i] != UInt8(ascii: ","), b[i] != UInt8(ascii: ";"), b[i] != UInt8(ascii: ":") { i += 1 }
                        values.append(makeString(b, vs, i))
                    }
                    if i < n, b[i] == UInt8(ascii: ",") { i += 1; continue }
                    break
                }
            }
            if i >= n {
                throw ICalParseError(line: line, message: "content line has no colon: \"\(preview(b))\"")
            }
            params.append(ICalParameter(name: pname, values: values))
        }
        // b[i] == ':'
        let value = makeString(b, i + 1, n)
        return ICalProperty(name: name, parameters: params, value: value, line: line)
    }

    @inline(__always)
    static func makeUpperName(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> String {
        var s = s, e = e
        while s < e, b[s] == 0x20 || b[s] == 0x09 { s += 1 }
        while e > s, b[e - 1] == 0x20 || b[e - 1] == 0x09 { e -= 1 }
        var hasLower = false
        var ascii = true
        for k in s..<e {
            let c = b[k]
            if c >= 0x61 && c <= 0x7A { hasLower = true }
            if c >= 0x80 { ascii = false }
        }
        if !ascii { return makeString(b, s, e).uppercased() }
        if !hasLower { return makeString(b, s, e) }
        return String(unsafeUninitializedCapacity: e - s) { out in
            for k in s..<e {
                let c = b[k]
                out[k - s] = (c >= 0x61 && c <= 0x7A) ? c - 0x20 : c
            }
            return e - s
        }
    }

    /// UTF-8 decoding; invalid UTF-8 (e.g. a Latin-1 file) is decoded as Latin-1.
    @inline(__always)
    static func makeString(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> String {
        if s >= e { return "" }
        let slice = UnsafeBufferPointer(rebasing: b[s..<e])
        var ascii = true
        for c in slice where c >= 0x80 { ascii = false; break }
        if ascii { return String(decoding: slice, as: UTF8.self) }
        if let v = String(validating: slice, as: UTF8.self) { return v }
        return String(String.UnicodeScalarView(slice.map { Unicode.Scalar($0) }))
    }

    static func preview(_ b: UnsafeBufferPointer<UInt8>) -> String {
        let e = min(b.count, 60)
        return makeString(b, 0, e) + (b.count > 60 ? "…" : "")
    }
}

/// Splits a byte buffer into logical (unfolded) content lines.
struct ContentLineLexer {
    let base: UnsafePointer<UInt8>?
    let count: Int
    var pos: Int = 0
    var lineNo: Int = 0          // number of the physical line last consumed
    var lastLine: Int = 0        // last non-empty physical line
    var scratch: UnsafeMutablePointer<UInt8>? = nil
    var scratchCap: Int = 0

    init(_ raw: UnsafeRawBufferPointer) {
        let p = raw.baseAddress?.assumingMemoryBound(to: UInt8.self)
        base = p.map { UnsafePointer($0) }
        count = raw.count
        // UTF-8 BOM
        if count >= 3, let p, p[0] == 0xEF, p[1] == 0xBB, p[2] == 0xBF { pos = 3 }
    }

    mutating func release() {
        scratch?.deallocate()
        scratch = nil
    }

    /// Reads one physical line at `pos`; returns [start, end) without CR/LF and advances.
    @inline(__always)
    mutating func physical() -> (Int, Int) {
        let b = base!
        let s = pos
        var i = s
        while i < count, b[i] != 0x0A { i += 1 }
        var e = i
        if e > s, b[e - 1] == 0x0D { e -= 1 }
        pos = i < count ? i + 1 : count
        lineNo += 1
        return (s, e)
    }

    mutating func nextLogicalLine() -> (bytes: UnsafeBufferPointer<UInt8>, line: Int)? {
        guard let b = base else { return nil }
        while pos < count {
            let (s, e) = physical()
            if s == e { continue }  // blank line
            // a continuation with no preceding line, or a whitespace-only line: skip
            if b[s] == 0x20 || b[s] == 0x09 {
                var k = s
                while k < e, b[k] == 0x20 || b[k] == 0x09 || b[k] == 0x0D { k += 1 }
                if k == e { continue }
                // orphan continuation: treat its content as a line of its own
            }
            let first = lineNo
            lastLine = lineNo
            // Does a continuation follow?
            if pos >= count || (b[pos] != 0x20 && b[pos] != 0x09) {
                return (UnsafeBufferPointer(start: b + s, count: e - s), first)
            }
            // Folded: copy into scratch.
            var len = 0
            append(b + s, e - s, &len)
            while pos < count, b[pos] == 0x20 || b[pos] == 0x09 {
                let (cs, ce) = physical()
                lastLine = lineNo
                if ce > cs + 1 { append(b + cs + 1, ce - cs - 1, &len) }
            }
            return (UnsafeBufferPointer(start: scratch!, count: len), first)
        }
        return nil
    }

    @inline(__always)
    mutating func append(_ p: UnsafePointer<UInt8>, _ n: Int, _ len: inout Int) {
        if len + n > scratchCap {
            let newCap = max(256, (len + n) * 2)
            let ns = UnsafeMutablePointer<UInt8>.allocate(capacity: newCap)
            if let old = scratch {
                ns.update(from: old, count: len)
                old.deallocate()
            }
            scratch = ns
            scratchCap = newCap
        }
        (scratch! + len).update(from: p, count: n)
        len += n
    }
}

struct TreeBuilder {
    var stack: [ICalComponent] = []
    /// What was repaired: an END naming another component than the innermost open one.
    var warnings: [String] = []
    var maxEvents = Int.max
    var events = 0
    var root: ICalComponent? = nil
    var sawAnything = false
    var firstLine: Int? = nil

    static func trimmedValue(_ v: String) -> String {
        let s = trimmingASCII(Substring(v), leading: isBlank, trailing: { isBlank($0) || $0 == 0x0D })
        return asciiUppercased(s.utf8.count == v.utf8.count ? v : String(s))
    }

    mutating func add(_ prop: ICalProperty) throws(ICalParseError) {
        let isBegin = prop.name == "BEGIN"
        let isEnd = prop.name == "END"
        if !sawAnything {
            sawAnything = true
            firstLine = prop.line
            if !(isBegin && Self.trimmedValue(prop.value) == "VCALENDAR") {
                var what = "\(prop.name)"
                if !prop.value.isEmpty || !prop.parameters.isEmpty { what = "\(prop.name):\(prop.value.prefix(40))" }
                throw ICalParseError(line: prop.line, message: "body is not iCalendar: first line is \"\(what)\", expected BEGIN:VCALENDAR")
            }
        }
        if isBegin {
            let name = Self.trimmedValue(prop.value)
            if name.isEmpty { throw ICalParseError(line: prop.line, message: "BEGIN without a component name") }
            if stack.isEmpty {
                if root != nil && name != "VCALENDAR" {
                    throw ICalParseError(line: prop.line, message: "content after END:VCALENDAR: BEGIN:\(name)")
                }
            }
            if stack.count >= ICalParser.maxNestingDepth {
                let outer = stack.count > 1 ? stack[1] : stack[0]
                throw ICalParseError(
                    line: prop.line,
                    message: "components nested more than \(ICalParser.maxNestingDepth) deep (BEGIN:\(name.prefix(40)) inside \(outer.name) of line \(outer.line)); the limit is \(ICalParser.maxNestingDepth) levels")
            }
            if name == "VEVENT" && stack.count == 1 {
                events += 1
                if events > maxEvents {
                    throw ICalParseError(line: prop.line, message: "more than \(maxEvents) events; the limit is \(maxEvents) (`max_records`)")
                }
            }
            var component = ICalComponent(name: name, line: prop.line)
            // One allocation for a component's properties instead of one per doubling (an event
            // has ten or so; this was four allocations an event).
            component.properties.reserveCapacity(16)
            stack.append(component)
            return
        }
        if isEnd {
            let name = Self.trimmedValue(prop.value)
            guard let top = stack.popLast() else {
                throw ICalParseError(line: prop.line, message: root == nil || name != "VCALENDAR" ? "END:\(name) without BEGIN:\(name)" : "END:\(name) without BEGIN:\(name) (content after END:VCALENDAR)")
            }
            if top.name != name {
                if stack.contains(where: { $0.name == name }) {
                    // The END of an outer component while this one is open: its END is missing,
                    // and the properties after its BEGIN may belong to the outer one. Which do
                    // cannot be told: the feed fails.
                    throw ICalParseError(line: prop.line, message: "END:\(name) does not match BEGIN:\(top.name) (line \(top.line)): END:\(top.name) is missing")
                }
                // A misspelt END (END:VTOOD for BEGIN:VTODO) names no open component: it ends the
                // innermost one. (A body cut short has no END:VCALENDAR, and fails in `finish`.)
                warnings.append("line \(prop.line): END:\(name.prefix(40)) does not match BEGIN:\(top.name) (line \(top.line)); taken as END:\(top.name)")
            }
            var done = top
            done.endLine = prop.line
            if stack.isEmpty {
                if root == nil {
                    root = done
                } else {
                    // merge subsequent VCALENDARs into the first
                    root!.components.append(contentsOf: done.components)
                    for p in done.properties where root!.first(p.name) == nil {
                        root!.properties.append(p)
                    }
                    root!.endLine = done.endLine
                }
            } else {
                stack[stack.count - 1].components.append(done)
            }
            return
        }
        if stack.isEmpty {
            throw ICalParseError(line: prop.line, message: "content after END:VCALENDAR: \"\(prop.name)\"")
        }
        if stack[stack.count - 1].properties.count >= ICalParser.maxPropertiesPerComponent {
            let c = stack[stack.count - 1]
            throw ICalParseError(line: prop.line, message: "\(c.name) of line \(c.line) has more than \(ICalParser.maxPropertiesPerComponent) properties; the limit is \(ICalParser.maxPropertiesPerComponent)")
        }
        stack[stack.count - 1].properties.append(prop)
    }

    func finish(lastLine: Int) throws(ICalParseError) -> ICalComponent {
        if !sawAnything {
            throw ICalParseError(line: nil, message: "empty body")
        }
        if !stack.isEmpty {
            let chain = stack.map { "\($0.name) (line \($0.line))" }.joined(separator: " > ")
            let innermost = stack.last!.name
            throw ICalParseError(line: lastLine, message: "unexpected end of input: missing END:\(innermost); still open: \(chain)")
        }
        return root!
    }
}
