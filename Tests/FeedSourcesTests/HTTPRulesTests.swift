import Foundation
import Testing
@testable import FeedSources

@Suite("HTTP rules")
struct HTTPRulesTests {
    @Test("retry on 408, 429 and 5xx only")
    func retryable() {
        #expect([408, 429, 500, 502, 503, 504, 599].allSatisfy(HTTPRules.isRetryable))
        #expect(![200, 304, 400, 401, 403, 404, 410].contains(where: HTTPRules.isRetryable))
    }

    @Test("exponential backoff with full jitter, capped")
    func backoff() {
        #expect(HTTPRules.backoff(retry: 0, baseMs: 500, capSeconds: 60, unit: 0.999) < 0.5)
        #expect(HTTPRules.backoff(retry: 3, baseMs: 500, capSeconds: 60, unit: 0.5) == 2.0)
        #expect(HTTPRules.backoff(retry: 20, baseMs: 500, capSeconds: 60, unit: 0.5) == 30)
        #expect(HTTPRules.backoff(retry: 2, baseMs: 500, capSeconds: 60, unit: 0) == 0)
    }

    @Test("Retry-After in seconds and as an HTTP-date")
    func retryAfter() {
        let now = Date(timeIntervalSince1970: 1_784_000_000)
        #expect(HTTPRules.retryAfter("120", now: now) == 120)
        #expect(HTTPRules.retryAfter(" 0 ", now: now) == 0)
        #expect(HTTPRules.retryAfter(nil, now: now) == nil)
        #expect(HTTPRules.retryAfter("soon", now: now) == nil)
        #expect(HTTPRules.retryAfter("-3", now: now) == nil)
        // 1_784_000_000 is Tue, 14 Jul 2026 03:33:20 GMT.
        #expect(HTTPRules.retryAfter("Tue, 14 Jul 2026 03:34:20 GMT", now: now) == 60)
        #expect(HTTPRules.retryAfter("Tue, 14 Jul 2026 03:00:00 GMT", now: now) == 0)
    }

    @Test("a body's first bytes are shown printable in messages")
    func preview() {
        #expect(HTTPRules.preview(Array("<html>\r\n\u{1}".utf8)) == "\"<html>\\r\\n\\x01\"")
        #expect(HTTPRules.preview([]) == "(empty body)")
    }

    @Test("URLs inside library error text are redacted")
    func redaction() {
        let text = "HTTPClientError: bad thing for https://u:p@h.example/x.ics?s=SECRET (and http://o.example/?t=TOK)"
        let out = HTTPRules.redactURLs(in: text, known: ["https://u:p@h.example/x.ics?s=SECRET"])
        #expect(!out.contains("SECRET") && !out.contains("TOK") && !out.contains("u:p"))
        #expect(out.contains("https://…@h.example/x.ics?s=…"))
    }
}

@Suite("Body decoder")
struct BodyDecoderTests {
    func decode(_ bytes: [UInt8], _ encoding: String?, limit: Int, chunk: Int = 1000) throws -> [UInt8] {
        let d = try BodyDecoder(contentEncoding: encoding, limit: limit)
        var i = 0
        while i < bytes.count {
            let part = Array(bytes[i..<min(bytes.count, i + chunk)])
            try part.withUnsafeBytes { raw in try d.feed(raw) }
            i += chunk
        }
        try d.finish()
        return d.output
    }

    // `printf 'BEGIN:VCALENDAR\r\n' | gzip -9n | xxd -i` and zlib.compress / raw deflate of the same.
    static let text = Array("BEGIN:VCALENDAR\r\n".utf8)
    static let gzip: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x73, 0x72, 0x75, 0xf7, 0xf4,
                                0xb3, 0x0a, 0x73, 0x76, 0xf4, 0x71, 0xf5, 0x73, 0x71, 0x0c, 0xe2, 0xe5, 0x02, 0x00,
                                0x76, 0xe6, 0x76, 0xd6, 0x11, 0x00, 0x00, 0x00]

    @Test("identity, gzip, zlib and raw deflate")
    func encodings() throws {
        #expect(try decode(Self.text, nil, limit: 100) == Self.text)
        #expect(try decode(Self.gzip, "gzip", limit: 100, chunk: 3) == Self.text)
        let raw = Array(Self.gzip[10..<(Self.gzip.count - 8)])
        #expect(try decode(raw, "deflate", limit: 100, chunk: 1) == Self.text)
        // zlib wrapper: header 78 DA, the raw stream, Adler-32 of the text.
        var adlerA: UInt32 = 1, adlerB: UInt32 = 0
        for b in Self.text { adlerA = (adlerA + UInt32(b)) % 65521; adlerB = (adlerB + adlerA) % 65521 }
        let adler = adlerB << 16 | adlerA
        let zlib: [UInt8] = [0x78, 0xDA] + raw + [UInt8(adler >> 24), UInt8(adler >> 16 & 0xFF), UInt8(adler >> 8 & 0xFF), UInt8(adler & 0xFF)]
        #expect(try decode(zlib, "deflate", limit: 100) == Self.text)
    }

    @Test("the decoded size is capped; truncation and garbage are errors")
    func limits() {
        #expect(throws: BodyDecoder.Failure.self) { try decode(Self.gzip, "gzip", limit: 10) }
        #expect(throws: BodyDecoder.Failure.self) { try decode(Self.text, nil, limit: 10) }
        #expect(throws: BodyDecoder.Failure.self) { try decode(Array(Self.gzip.prefix(20)), "gzip", limit: 100) }
        #expect(throws: BodyDecoder.Failure.self) { try decode(Self.text, "gzip", limit: 100) }
        #expect(throws: BodyDecoder.Failure.self) { try decode(Self.text, "br", limit: 100) }
    }
}

@Suite("Host gates")
struct HostGateTests {
    @Test("concurrency per host, hosts independent")
    func concurrency() async {
        let gates = HostGates(concurrency: 2, rate: 0)
        let peak = Peak()
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<12 {
                group.addTask {
                    await gates.withPermit(host: i % 2 == 0 ? "a" : "A.example") {
                        await peak.enter(i % 2 == 0 ? "a" : "b")
                        try? await Task.sleep(for: .milliseconds(5))
                        await peak.leave(i % 2 == 0 ? "a" : "b")
                    }
                }
            }
        }
        let peaks = await peak.peak
        #expect(peaks["a"] == 2 && peaks["b"] == 2)
    }

    @Test("starts are spaced by 1/rate")
    func rate() async {
        let gate = HostGate(concurrency: 10, rate: 100)
        var total = Duration.zero
        for _ in 0..<5 { total = await gate.reserveStart() }
        #expect(total > .milliseconds(30) && total <= .milliseconds(40))
    }

    actor Peak {
        var now: [String: Int] = [:]
        var peak: [String: Int] = [:]
        func enter(_ k: String) { now[k, default: 0] += 1; peak[k] = max(peak[k] ?? 0, now[k]!) }
        func leave(_ k: String) { now[k, default: 0] -= 1 }
    }
}
