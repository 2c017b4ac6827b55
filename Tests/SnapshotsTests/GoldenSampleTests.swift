import Foundation
import Testing
import FeedHash
@testable import Snapshots

/// The inputs of `Fixtures/sample-v1.fsnap`. Changing them (or the format) requires regenerating
/// the fixture with `FSNAP_REGENERATE_FIXTURES=1 swift test --filter GoldenSample` and reviewing why.
enum GoldenSample {
    static let bodies = [
        "BEGIN:VEVENT\r\nUID:brunch-2026@example.com\r\nSUMMARY:New Year brunch\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:holiday-2026-01-01@example.com\r\nSUMMARY:New Year's Day\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:standup@example.com\r\nRRULE:FREQ=WEEKLY;BYDAY=MO\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:zürich-meetup@example.com\r\nSUMMARY:Zürich meetup ☕\r\nEND:VEVENT\r\n",
    ]

    static var header: SnapshotHeader {
        SnapshotHeader(feedID: "sample-feed", generation: 42, createdAt: 1_767_312_000, parserVersion: 3,
                       bodyFingerprint: Array("BEGIN:VCALENDAR sample".utf8).withUnsafeBytes { XXH3.hash128($0) },
                       etag: "\"abc123\"", lastModified: "Thu, 01 Jan 2026 00:00:00 GMT")
    }

    /// Deliberately unsorted: the encoder sorts.
    static var records: [SnapshotRecord] {
        func make(_ key: String, _ i: Int, start: Int64, lastEnd: Int64?, allDay: Bool) -> SnapshotRecord {
            let body = Array(bodies[i].utf8)
            return SnapshotRecord(key: key, hash: XXH3.hash64(body), start: start, lastEnd: lastEnd,
                                  allDay: allDay, body: body)
        }
        return [
            make("zürich-meetup@example.com", 3, start: 1_767_805_200, lastEnd: 1_767_812_400, allDay: false),
            make("standup@example.com", 2, start: 1_767_597_300, lastEnd: nil, allDay: false),
            make("brunch-2026@example.com", 0, start: 1_767_261_600, lastEnd: 1_767_270_600, allDay: false),
            make("holiday-2026-01-01@example.com", 1, start: 1_767_225_600, lastEnd: 1_767_312_000, allDay: true),
        ]
    }

    static func encode() throws -> [UInt8] {
        try SnapshotCodec.encode(header: header, records: records, level: 9)
    }

    static var fixtureURL: URL {
        get throws {
            try #require(Bundle.module.url(forResource: "sample-v1", withExtension: "fsnap", subdirectory: "Fixtures"))
        }
    }

    static var sourceFixturePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/sample-v1.fsnap").path
    }
}

@Suite struct GoldenSampleTests {
    /// Generator: writes the fixture into the source tree when FSNAP_REGENERATE_FIXTURES=1.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["FSNAP_REGENERATE_FIXTURES"] == "1"))
    func regenerateFixture() throws {
        let bytes = try GoldenSample.encode()
        try Data(bytes).write(to: URL(fileURLWithPath: GoldenSample.sourceFixturePath))
    }

    @Test func generatorIsDeterministic() throws {
        let a = try GoldenSample.encode()
        let b = try GoldenSample.encode()
        #expect(a == b)
    }

    /// The committed fixture decodes to exactly these values (written out by hand, not recomputed).
    @Test func decodesCommittedFixture() throws {
        let bytes = try Array(Data(contentsOf: GoldenSample.fixtureURL))
        #expect(bytes.count == 419)
        let snapshot = try SnapshotCodec.decode(bytes)
        let h = snapshot.header
        #expect(h.formatMajor == 1)
        #expect(h.formatMinor == 0)
        #expect(h.flags == 0)
        #expect(h.feedID == "sample-feed")
        #expect(h.generation == 42)
        #expect(h.createdAt == 1_767_312_000)
        #expect(h.parserVersion == 3)
        #expect(h.bodyFingerprint == Fingerprint128(high: 0xe6e9_9eb9_2c85_77fd, low: 0xe349_9526_1a78_2120))
        #expect(h.etag == "\"abc123\"")
        #expect(h.lastModified == "Thu, 01 Jan 2026 00:00:00 GMT")
        #expect(h.recordCount == 4)
        #expect(h.rawPayloadBytes == 537)
        #expect(h.compressedPayloadBytes == 271)

        let expected: [(String, UInt64, Int64, Int64?, Bool, Int)] = [
            ("brunch-2026@example.com", 0x5ea5_2734_6860_2727, 1_767_261_600, 1_767_270_600, false, 80),
            ("holiday-2026-01-01@example.com", 0x1708_10fb_7192_0919, 1_767_225_600, 1_767_312_000, true, 86),
            ("standup@example.com", 0x0c4e_1364_50ff_2634, 1_767_597_300, nil, false, 79),
            ("zürich-meetup@example.com", 0xaa9b_d90c_736d_db07, 1_767_805_200, 1_767_812_400, false, 86),
        ]
        try #require(snapshot.records.count == expected.count)
        for (r, e) in zip(snapshot.records, expected) {
            #expect(r.key == e.0)
            #expect(r.hash == e.1)
            #expect(r.start == e.2)
            #expect(r.lastEnd == e.3)
            #expect(r.allDay == e.4)
            #expect(r.body.count == e.5)
            #expect(XXH3.hash64(r.body) == r.hash)
        }
        #expect(snapshot.records[3].body == Array(GoldenSample.bodies[3].utf8))
        #expect(Array(bytes.suffix(8)) == [0x1c, 0x0c, 0x07, 0x6d, 0xde, 0xca, 0x9b, 0xda])
        #expect(try SnapshotCodec.decodeHeader(bytes) == h)
    }

    /// Byte layout of the fixed prefix and header, spelled out (see docs/snapshot-format.md).
    @Test func fixtureHeaderBytes() throws {
        let bytes = try Array(Data(contentsOf: GoldenSample.fixtureURL))
        let expectedHex =
            "89" + "46534e" + "0d0a1a0a"            // magic
            + "0001" + "0000" + "00000000"          // version 1.0, flags
            + "00000078"                            // header length 120
            + "000000000000002a"                    // generation 42
            + "000000006957 0a80".replacingOccurrences(of: " ", with: "")  // created-at 1767312000
            + "00000003"                            // parser version 3
            + "e6e99eb92c8577fd" + "e34995261a782120" // fingerprint high, low
            + "0000000000000004"                    // record count
            + "0000000000000219"                    // raw payload 537
            + "000000000000010f"                    // compressed payload 271
            + "0000000b" + hexString("sample-feed".utf8)
            + "00000008" + hexString("\"abc123\"".utf8)
            + "0000001d" + hexString("Thu, 01 Jan 2026 00:00:00 GMT".utf8)
        #expect(hexString(bytes.prefix(140)) == expectedHex)
        #expect(bytes[140] == 0x78)  // zlib header (CMF: deflate, 32K window)
    }

    /// The encoder still produces the same uncompressed payload and header as the fixture.
    /// (Compressed bytes are not compared: they may differ between zlib builds.)
    @Test func encoderMatchesFixture() throws {
        let fixture = try Array(Data(contentsOf: GoldenSample.fixtureURL))
        let fresh = try GoldenSample.encode()
        #expect(try SnapshotCodec.decode(fresh) == SnapshotCodec.decode(fixture))
        #expect(fresh.prefix(72) == fixture.prefix(72))          // everything up to the compressed length
        #expect(fresh[80..<140] == fixture[80..<140])            // strings
        let inflated = try fixture.withUnsafeBytes { buf in
            try Zlib.inflate(UnsafeRawBufferPointer(rebasing: buf[140..<(fixture.count - 8)]), expectedSize: 537)
        }
        let raw = try SnapshotCodec.encodePayload(GoldenSample.records)
        #expect(inflated == raw)
        // First record: varint key length 23, key bytes, hash big-endian.
        #expect(hexString(raw.prefix(32)) == "17" + hexString("brunch-2026@example.com".utf8) + "5ea5273468602727")
    }
}
