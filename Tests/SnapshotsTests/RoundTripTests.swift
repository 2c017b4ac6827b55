import Testing
import FeedHash
@testable import Snapshots

@Suite struct RoundTripTests {
    @Test func emptyRecordList() throws {
        let bytes = try SnapshotCodec.encode(header: header(), records: [])
        let decoded = try SnapshotCodec.decode(bytes)
        #expect(decoded.records.isEmpty)
        #expect(decoded.header.recordCount == 0)
        #expect(decoded.header.rawPayloadBytes == 0)
        #expect(decoded.header.compressedPayloadBytes > 0)
        #expect(decoded.header.feedID == "feed-a")
        #expect(decoded.header.etag == "\"e1\"")
        #expect(decoded.header.lastModified == nil)
        #expect(decoded.header.formatMajor == SnapshotCodec.formatMajor)
        #expect(decoded.header.formatMinor == SnapshotCodec.formatMinor)
    }

    @Test func variedRecordsRoundTripAndSort() throws {
        var big = [UInt8](repeating: 0, count: 3_000_000)
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in big.indices { x = x &* 6364136223846793005 &+ 1442695040888963407; big[i] = UInt8(truncatingIfNeeded: x >> 33) }
        let input = [
            record("zeta", start: -86_400, lastEnd: nil),
            record("日本語-キー", allDay: true),
            record("émoji-🎉", lastEnd: 0, body: ""),
            SnapshotRecord(key: "big", hash: XXH3.hash64(big), start: .min, lastEnd: Int64.max - 1, allDay: false, body: big),
            record("Alpha", start: .max),
            record("", body: "empty key"),
            record("e\u{301}", body: "decomposed é"),   // distinct bytes from "é"
            record("é", body: "precomposed é"),
        ]
        var h = header("feed.x_y-z", generation: .max)
        h.etag = nil
        h.lastModified = "Wed, 21 Oct 2015 07:28:00 GMT"
        for level: Int32 in [0, 1, 6, 9, -1] {
            let bytes = try SnapshotCodec.encode(header: h, records: input, level: level)
            let decoded = try SnapshotCodec.decode(bytes)
            let expectedOrder = input.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            #expect(decoded.records.map(\.key.utf8).map(Array.init) == expectedOrder.map(\.key.utf8).map(Array.init))
            #expect(decoded.records == expectedOrder)
            #expect(decoded.records.first?.key == "")
            #expect(decoded.records.first(where: { $0.key == "zeta" })?.lastEnd == nil)
            #expect(decoded.records.first(where: { $0.key == "日本語-キー" })?.allDay == true)
            #expect(decoded.records.first(where: { $0.key == "big" })?.body == big)
            #expect(decoded.header.recordCount == UInt64(input.count))
            #expect(decoded.header.compressedPayloadBytes + 8 + 20 < UInt64(bytes.count))
            #expect(decoded.header.generation == .max)
            #expect(decoded.header.etag == nil)
            #expect(decoded.header.lastModified == "Wed, 21 Oct 2015 07:28:00 GMT")
            #expect(try SnapshotCodec.decodeHeader(bytes) == decoded.header)
        }
    }

    @Test func alreadySortedAndReversedGiveSameBytes() throws {
        let records = (0..<200).map { record(String(format: "key-%04d", $0), start: Int64($0)) }
        let a = try SnapshotCodec.encode(header: header(), records: records)
        let b = try SnapshotCodec.encode(header: header(), records: records.reversed())
        #expect(a == b)
        #expect(try SnapshotCodec.decode(a).records == records)
    }

    @Test func duplicateKeyThrowsRecordOrder() {
        let code = errorCode {
            _ = try SnapshotCodec.encode(header: header(), records: [record("a"), record("b"), record("a", body: "x")])
        }
        #expect(code == .recordOrder)
    }

    @Test func invalidEncoderInputIsRejected() {
        #expect(errorCode { _ = try SnapshotCodec.encode(header: header(), records: [record("a", lastEnd: .max)]) } == .malformed)
        // 2.x does not store the hash: one that is not the body's XXH3-64 could not round-trip.
        var inconsistent = record("b")
        inconsistent.hash ^= 1
        #expect(errorCode { _ = try SnapshotCodec.encode(header: header(), records: [record("a"), inconsistent]) } == .malformed)
        #expect(errorCode { _ = try SnapshotCodec.encode(header: header(""), records: []) } == .malformed)
        #expect(errorCode { _ = try SnapshotCodec.encode(header: header(), records: [], level: 10) } == .malformed)
        var flagged = header()
        flagged.flags = 1
        #expect(errorCode { _ = try SnapshotCodec.encode(header: flagged, records: []) } == .malformed)
    }

    @Test func encoderFillsCountsAndSizes() throws {
        var h = header()
        h.recordCount = 99
        h.rawPayloadBytes = 99
        h.compressedPayloadBytes = 99
        let records = [record("a"), record("b")]
        let bytes = try SnapshotCodec.encode(header: h, records: records)
        let decoded = try SnapshotCodec.decodeHeader(bytes)
        #expect(decoded.recordCount == 2)
        #expect(decoded.rawPayloadBytes == UInt64(try SnapshotCodec.encodePayload(records).count))
        #expect(Int(decoded.compressedPayloadBytes) == bytes.count - 20 - 8 - Int(decoded.headerLengthForTests))
    }

    /// Extreme and unordered times round-trip exactly: every pair of Int64 (except the reserved
    /// last end Int64.max), in any order of records, without an overflow trap.
    @Test func extremeTimesRoundTrip() throws {
        let edges: [Int64] = [.min, .min + 1, -86_400, -60, -1, 0, 1, 59, 60, 86_400, 1_767_225_600,
                              .max - 86_400, .max - 60, .max - 1, .max]
        var records = [SnapshotRecord]()
        for (i, start) in edges.enumerated() {
            for (j, end) in edges.enumerated() {
                let lastEnd: Int64? = end == .max ? nil : end   // .max stands for "never ends"
                records.append(record(String(format: "k%02d-%02d", i, j), start: start, lastEnd: lastEnd, allDay: (i + j) % 2 == 0))
            }
        }
        // Keys sorted so consecutive starts jump between the extremes (deltas of ±2^64 - 1 wrap).
        records.append(record("k99", start: .min, lastEnd: .max - 1))
        let decoded = try SnapshotCodec.decode(SnapshotCodec.encode(header: header(), records: records))
        #expect(decoded.records == records)

        // A pseudo-random sweep: random starts (in any unit) and last ends before or after them.
        var x: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> UInt64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x }
        var random = [SnapshotRecord]()
        for i in 0..<2_000 {
            let unit: Int64 = [1, 60, 86_400, 3_600][Int(next() % 4)]
            let any = Int64(bitPattern: next())
            let start = next() % 2 == 0 ? any : any / unit * unit
            let end: Int64? = next() % 7 == 0 ? nil : start &+ Int64(truncatingIfNeeded: Int32(truncatingIfNeeded: next())) * unit
            random.append(record(String(format: "r%05d", i), start: start, lastEnd: end == .max ? nil : end))
        }
        #expect(try SnapshotCodec.decode(SnapshotCodec.encode(header: header(), records: random)).records == random)
    }

    /// The time fields of single records, byte for byte (see *Times* in the spec).
    @Test func timeFields() {
        func fields(_ start: Int64, _ lastEnd: Int64?, after previous: Int64 = 0) -> String {
            let t = TimeFields(start: start, lastEnd: lastEnd, previousStart: previous)
            var out: [UInt8] = [t.flags]
            out.appendVarint(t.start)
            if let end = t.end { out.appendVarint(end) }
            return hexString(out)
        }
        #expect(fields(0, 0) == "080000")                          // days (0 divides by anything)
        #expect(fields(86_400, nil) == "0a02")                     // days, never ends
        #expect(fields(86_400, 0) == "080201")                     // last end 1 day before the start
        #expect(fields(1_767_225_600, 1_767_229_200) == "04" + "80b78b1c" + "78")   // minutes: 29453760, 60
        #expect(fields(61, 60) == "00" + "7a" + "01")              // seconds: 61, -1
        #expect(fields(100, 40, after: 160) == "04" + "01" + "01") // minutes: -1, -1
        #expect(fields(.min, .max - 1) == "00" + "ffffffffffffffffff01" + "03")   // -2^63; 2^64 - 2 wraps to -2
        #expect(fields(.max - 1, .min, after: .min) == "00" + "03" + "04")       // -2 and 2 after wrapping
    }

    @Test func zigzagMapping() {
        for (value, mapped) in [(Int64(0), UInt64(0)), (-1, 1), (1, 2), (-2, 3), (2, 4), (.max, .max - 1), (.min, .max)] {
            #expect(zigzag(value) == mapped)
            #expect(unzigzag(mapped, times: 1) == value)
        }
        #expect(unzigzag(4, times: 86_400) == 172_800)
        #expect(unzigzag(.max, times: 60) == nil)       // Int64.min × 60 overflows
        #expect(unzigzag(.max - 1, times: 2) == nil)    // Int64.max × 2 overflows
    }

    /// 1.x files written by earlier versions decode to what they hold (hash as stored).
    @Test func v1FilesRoundTrip() throws {
        let records = [record("b"), record("a", start: .min, lastEnd: nil), record("", start: .max, lastEnd: .min, allDay: true)]
        let decoded = try SnapshotCodec.decode(v1Snapshot(records))
        #expect(decoded.header.formatMajor == 1 && decoded.header.formatMinor == 0)
        #expect(decoded.records.map(\.key) == ["", "a", "b"])
        #expect(Set(decoded.records.map(\.key)) == Set(records.map(\.key)))
        for r in records { #expect(decoded.records.contains(r)) }
    }

    @Test func varintEncoding() throws {
        for (value, hex) in [(UInt64(0), "00"), (1, "01"), (127, "7f"), (128, "8001"), (300, "ac02"),
                             (16_383, "ff7f"), (16_384, "808001"), (.max, "ffffffffffffffffff01")] {
            var out = [UInt8]()
            out.appendVarint(value)
            #expect(hexString(out) == hex)
            #expect(varintSize(value) == out.count)
            let back = try out.withUnsafeBytes { buf in
                var r = ByteReader(buf, context: "test")
                return try r.varint("v")
            }
            #expect(back == value)
        }
        for bad: [UInt8] in [[0x80, 0x00], [0x80], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]] {
            let code = errorCode {
                _ = try withBytes(bad) { (buf) throws(SnapshotError) -> UInt64 in
                    var r = ByteReader(buf, context: "test")
                    return try r.varint("v")
                }
            }
            #expect(code == .malformed)
        }
    }
}

extension SnapshotHeader {
    /// Header length as encoded: fixed fields plus the three strings.
    var headerLengthForTests: UInt64 {
        UInt64(72 + feedID.utf8.count + (etag?.utf8.count ?? 0) + (lastModified?.utf8.count ?? 0))
    }
}

/// Format 2.1: the `format` header field names the feed format of the records.
@Suite struct FeedFormatFieldTests {
    @Test("an iCalendar snapshot stays a 2.0 file; another format writes 2.1 with its name")
    func feedFormatField() throws {
        let records = [record("a"), record("b", allDay: true)]
        let ics = try SnapshotCodec.encode(header: header(), records: records)
        let icsDecoded = try SnapshotCodec.decode(ics)
        #expect(icsDecoded.header.formatMinor == 0 && icsDecoded.header.feedFormat == "ics")

        var h = header()
        h.feedFormat = "json"
        let json = try SnapshotCodec.encode(header: h, records: records)
        let decoded = try SnapshotCodec.decode(json)
        #expect(decoded.header.formatMajor == 2 && decoded.header.formatMinor == 1)
        #expect(decoded.header.feedFormat == "json")
        #expect(decoded.records == records)
        // The field is 4 + 4 bytes longer than the 2.0 header; the rest is the same file.
        #expect(json.count == ics.count + 8)
    }

    @Test("a 2.1 header without its format field, or with an empty one, is malformed")
    func missingField() throws {
        let raw = try SnapshotCodec.encodePayload([record("a")])
        let none = try SnapshotCodec.assemble(header: header(), recordCount: 1, raw: raw, level: 6, minor: 1)
        #expect(errorCode { _ = try SnapshotCodec.decode(none) } == .malformed)
        let empty = try SnapshotCodec.assemble(header: header(), recordCount: 1, raw: raw, level: 6, minor: 1,
                                               extraHeaderBytes: [0, 0, 0, 0])
        #expect(errorCode { _ = try SnapshotCodec.decode(empty) } == .malformed)
    }
}
