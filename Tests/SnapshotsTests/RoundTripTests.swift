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
            SnapshotRecord(key: "big", hash: 7, start: .min, lastEnd: Int64.max - 1, allDay: false, body: big),
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
