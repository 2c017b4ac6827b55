import FeedModel

/// A JSON value as read from a feed. Numbers keep the text they were written with (a key is
/// stored as written: `12345`, and an integer beyond 2^53 is never rounded through a Double);
/// `canonicalNumber` gives the form hashes are taken over, so `200` and `200.0` hash alike.
package indirect enum JSONNode: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONNode])
    /// Members in the order written; a name given twice keeps its last value.
    case object([(String, JSONNode)])

    package static func == (a: JSONNode, b: JSONNode) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// The member `name` of an object (the last one, if written twice); nil otherwise.
    package subscript(member name: String) -> JSONNode? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.0 == name }?.1
    }

    /// What kind of value this is, for messages.
    package var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A strict RFC 8259 reader over bytes, bounded for input from strangers: nesting at most
/// `maxDepth` arrays and objects (the reader recurses once per level, and so does every walk of
/// the tree), numbers with an exponent of at most 9 digits, strings of valid UTF-8 only. An error
/// names the line and what was expected.
package struct JSONReader {
    /// The deepest nesting of arrays and objects (docs/limits.md).
    package static let maxDepth = 128

    private let bytes: UnsafeBufferPointer<UInt8>
    private var i = 0
    private var depth = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Reads one JSON text (a UTF-8 BOM and surrounding whitespace allowed).
    package static func read(_ body: [UInt8]) throws(FeedFormatError) -> JSONNode {
        let result: Result<JSONNode, FeedFormatError> = body.withUnsafeBufferPointer { buf in
            var r = JSONReader(buf)
            do throws(FeedFormatError) {
                if buf.count >= 3, buf[0] == 0xEF, buf[1] == 0xBB, buf[2] == 0xBF { r.i = 3 }
                r.skipSpace()
                guard r.i < buf.count else { throw r.fail("empty body: expected a JSON value") }
                let v = try r.value()
                r.skipSpace()
                if r.i < buf.count { throw r.fail("unexpected \(r.shown()) after the JSON value") }
                return .success(v)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private func line(at offset: Int) -> Int {
        var n = 1
        var k = 0
        while k < offset && k < bytes.count {
            if bytes[k] == 0x0A { n += 1 }
            k += 1
        }
        return n
    }

    private func fail(_ message: String) -> FeedFormatError {
        FeedFormatError(line: line(at: i), message: "JSON: \(message)")
    }

    private func shown() -> String {
        guard i < bytes.count else { return "end of input" }
        let b = bytes[i]
        if b >= 0x21 && b <= 0x7E { return "`\(Character(UnicodeScalar(b)))`" }
        return "byte 0x" + String(b, radix: 16, uppercase: true)
    }

    private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    private mutating func value() throws(FeedFormatError) -> JSONNode {
        guard i < bytes.count else { throw fail("unexpected end of input: expected a value") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default:
            if bytes[i] == UInt8(ascii: "<") { throw fail("the body is not JSON (it looks like HTML or XML)") }
            throw fail("unexpected \(shown()): expected a value")
        }
    }

    private mutating func literal(_ word: StaticString) throws(FeedFormatError) {
        let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard bytes.count - i >= w.count, (0..<w.count).allSatisfy({ bytes[i + $0] == w[$0] }) else {
            throw fail("unexpected \(shown()): expected a value")
        }
        i += w.count
    }

    private mutating func enter() throws(FeedFormatError) {
        depth += 1
        if depth > Self.maxDepth {
            throw fail("arrays and objects nested more than \(Self.maxDepth) deep; the limit is \(Self.maxDepth) levels")
        }
    }

    private mutating func object() throws(FeedFormatError) -> JSONNode {
        try enter()
        defer { depth -= 1 }
        i += 1
        var members: [(String, JSONNode)] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("unexpected \(shown()): expected a member name in quotes") }
            let name = try string()
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("unexpected \(shown()): expected `:` after member \"\(name.prefix(40))\"") }
            i += 1
            skipSpace()
            members.append((name, try value()))
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end of input: expected `,` or `}`") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            throw fail("unexpected \(shown()): expected `,` or `}`")
        }
    }

    private mutating func array() throws(FeedFormatError) -> JSONNode {
        try enter()
        defer { depth -= 1 }
        i += 1
        var items: [JSONNode] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipSpace()
            items.append(try value())
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end of input: expected `,` or `]`") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw fail("unexpected \(shown()): expected `,` or `]`")
        }
    }

    /// The number's text, checked against the JSON grammar.
    private mutating func number() throws(FeedFormatError) -> String {
        let start = i
        func digit(_ k: Int) -> Bool { k < bytes.count && bytes[k] >= 0x30 && bytes[k] <= 0x39 }
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard digit(i) else { throw fail("invalid number: a digit must follow `-`") }
        if bytes[i] == 0x30 {
            i += 1
            if digit(i) { throw fail("invalid number: leading zero") }
        } else {
            while digit(i) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digit(i) else { throw fail("invalid number: a digit must follow `.`") }
            while digit(i) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            let e = i
            guard digit(i) else { throw fail("invalid number: a digit must follow the exponent") }
            while digit(i) { i += 1 }
            var significant = e
            while significant < i - 1, bytes[significant] == 0x30 { significant += 1 }
            if i - significant > 9 { throw fail("number out of range: exponent of more than 9 digits") }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
    }

    private mutating func string() throws(FeedFormatError) -> String {
        i += 1
        let start = i
        // The common case: no escapes; validated as UTF-8 in one go.
        while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\"), bytes[i] >= 0x20 { i += 1 }
        guard i < bytes.count else { throw fail("unterminated string") }
        if bytes[i] == UInt8(ascii: "\"") {
            let slice = UnsafeBufferPointer(rebasing: bytes[start..<i])
            guard let s = String(validating: slice, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
            i += 1
            return s
        }
        var out: [UInt8] = Array(UnsafeBufferPointer(rebasing: bytes[start..<i]))
        while true {
            guard i < bytes.count else { throw fail("unterminated string") }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; break }
            if b < 0x20 { throw fail("control character 0x\(String(b, radix: 16)) in a string (it must be escaped)") }
            if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
            i += 1
            guard i < bytes.count else { throw fail("unterminated string") }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard bytes.count - i >= 6, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw fail("lone UTF-16 surrogate in a \\u escape")
                    }
                    i += 2
                    let low = try hex4()
                    guard low >= 0xDC00 && low < 0xE000 else { throw fail("lone UTF-16 surrogate in a \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw fail("lone UTF-16 surrogate in a \\u escape")
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
            default:
                i -= 1
                throw fail("invalid escape \\\(shown()) in a string")
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
        return s
    }

    private mutating func hex4() throws(FeedFormatError) -> UInt32 {
        guard bytes.count - i >= 4 else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }
}
