import FeedModel
import Testing
@testable import Records

@Suite("JSON reader")
struct JSONReaderTests {
    func read(_ s: String) throws(FeedFormatError) -> JSONNode { try JSONReader.read(Array(s.utf8)) }
    func error(_ s: String) -> FeedFormatError? {
        do { _ = try read(s); return nil } catch { return error }
    }

    @Test("values, escapes, surrogate pairs and numbers as written")
    func values() throws {
        let v = try read(#"\#u{FEFF} {"a": [1, -2.50e+3, true, false, null], "s": "x\"\\\/\n\u00e9\ud83d\ude00", "big": 12345678901234567} "#)
        #expect(v[member: "a"] == .array([.number("1"), .number("-2.50e+3"), .bool(true), .bool(false), .null]))
        #expect(v[member: "s"] == .string("x\"\\/\né😀"))
        #expect(v[member: "big"] == .number("12345678901234567"))
        #expect(try read("[]") == .array([]) && read("{}") == .object([]))
        #expect(try read(#"{"k":1,"k":2}"#)[member: "k"] == .number("2"))
    }

    @Test("malformed bodies fail with the line and what was expected", arguments: [
        ("", "JSON: empty body: expected a JSON value"),
        ("{\n\"a\": 1,\n}", "JSON: unexpected `}`: expected a member name in quotes"),
        ("[1 2]", "JSON: unexpected `2`: expected `,` or `]`"),
        ("[01]", "JSON: invalid number: leading zero"),
        ("[1.]", "JSON: invalid number: a digit must follow `.`"),
        ("[1e999999999999]", "JSON: number out of range: exponent of more than 9 digits"),
        ("\"abc", "JSON: unterminated string"),
        ("[\"a\tb\"]", "JSON: control character 0x9 in a string (it must be escaped)"),
        ("[\"\\x\"]", "JSON: invalid escape \\`x` in a string"),
        ("[\"\\ud800\"]", "JSON: lone UTF-16 surrogate in a \\u escape"),
        ("<!DOCTYPE html>", "JSON: the body is not JSON (it looks like HTML or XML)"),
        ("[1] x", "JSON: unexpected `x` after the JSON value"),
        ("[tru]", "JSON: unexpected `t`: expected a value"),
    ])
    func malformed(_ body: String, _ message: String) {
        #expect(error(body)?.message == message)
    }

    @Test("invalid UTF-8 and NUL bytes fail; the line is counted")
    func bytes() {
        let bad: [UInt8] = Array("[\n\n\"a".utf8) + [0xC3, 0x28] + Array("\"]".utf8)
        let e = #expect(throws: FeedFormatError.self) { _ = try JSONReader.read(bad) }
        #expect(e?.message == "JSON: string is not valid UTF-8" && e?.line == 3)
        #expect(error("[\"a\u{0}\"]")?.message == "JSON: control character 0x0 in a string (it must be escaped)")
    }

    @Test("nesting is bounded: 128 levels read, deeper fails at once, 100,000 levels too")
    func depth() throws {
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        _ = try read(ok)
        #expect(error(String(repeating: "[", count: 129) + String(repeating: "]", count: 129))?.message
                == "JSON: arrays and objects nested more than 128 deep; the limit is 128 levels")
        #expect(error(String(repeating: "{\"a\":", count: 100_000))?.message.contains("nested more than 128 deep") == true)
    }
}

@Suite("Canonical JSON")
struct CanonicalJSONTests {
    @Test("one spelling per number, exactly", arguments: [
        ("0", "0"), ("-0", "0"), ("-0.0e5", "0"), ("200", "200"), ("200.0", "200"), ("2e2", "200"), ("2.00E+2", "200"),
        ("1.50", "1.5"), ("0.05", "0.05"), ("-12.5e-1", "-1.25"), ("1e20", "100000000000000000000"), ("1e21", "1e21"),
        ("12345678901234567", "12345678901234567"), ("123456789012345678901234", "1.23456789012345678901234e23"),
        ("1.5e-7", "0.00000015"), ("1e-7", "0.0000001"), ("1e-8", "1e-8"), ("0.000120", "0.00012"),
    ])
    func numbers(_ written: String, _ canonical: String) {
        #expect(CanonicalJSON.canonicalNumber(written) == canonical)
    }

    @Test("members sorted by bytes, no whitespace, volatile members out at every depth, last duplicate wins")
    func text() throws {
        let a = try JSONReader.read(Array(#"{"b": 1.0, "a": {"z": [1, {"last_modified": 5, "é": "x"}], "last_modified": "t"}, "B": null, "b": 2}"#.utf8))
        #expect(CanonicalJSON.text(a, dropping: ["last_modified"]) == #"{"B":null,"a":{"z":[1,{"é":"x"}]},"b":2}"#)
        let b = try JSONReader.read(Array("{\n  \"b\" : 2.0 , \"a\":{\"last_modified\":\"u\",\"z\":[1e0,{\"\\u00e9\":\"x\"}]},\"B\":null}".utf8))
        #expect(CanonicalJSON.bytes(a, dropping: ["last_modified"]) == CanonicalJSON.bytes(b, dropping: ["last_modified"]))
    }
}
