import Foundation
import Testing
import FeedHash
@testable import Snapshots

/// The inputs of `Fixtures/sample-v1.fsnap` and `Fixtures/sample-v2.fsnap` (the same header and
/// records in both formats). The v1 file was written by feedsync's 1.0 encoder and must never
/// change: it stands for the snapshots existing installations have. Changing these inputs or the
/// 2.x layout requires regenerating the v2 file with
/// `FSNAP_REGENERATE_FIXTURES=1 swift test --filter GoldenSample` and reviewing why.
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

    /// The records both fixtures decode to, written out by hand (not recomputed): key, hash, start,
    /// last end, all-day, body length.
    static let expected: [(String, UInt64, Int64, Int64?, Bool, Int)] = [
        ("brunch-2026@example.com", 0x5ea5_2734_6860_2727, 1_767_261_600, 1_767_270_600, false, 80),
        ("holiday-2026-01-01@example.com", 0x1708_10fb_7192_0919, 1_767_225_600, 1_767_312_000, true, 86),
        ("standup@example.com", 0x0c4e_1364_50ff_2634, 1_767_597_300, nil, false, 79),
        ("zürich-meetup@example.com", 0xaa9b_d90c_736d_db07, 1_767_805_200, 1_767_812_400, false, 86),
    ]

    /// The current (2.x) encoding of the sample, as the v2 fixture was made.
    static func encode() throws -> [UInt8] {
        try SnapshotCodec.encode(header: header, records: records, level: 9)
    }

    static var v1URL: URL { get throws { try url("sample-v1") } }
    static var v2URL: URL { get throws { try url("sample-v2") } }

    static func url(_ name: String) throws -> URL {
        try #require(Bundle.module.url(forResource: name, withExtension: "fsnap", subdirectory: "Fixtures"))
    }

    static func bytes(_ url: URL) throws -> [UInt8] { try Array(Data(contentsOf: url)) }

    static var v2SourcePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/sample-v2.fsnap").path
    }

    /// The raw payload of a fixture (between the 140-byte prefix+header and the trailer).
    static func inflated(_ file: [UInt8], rawSize: Int) throws -> [UInt8] {
        try file.withUnsafeBytes { buf in
            try Zlib.inflate(UnsafeRawBufferPointer(rebasing: buf[140..<(file.count - 8)]), expectedSize: rawSize)
        }
    }

    /// The 140 bytes before the zlib stream, as the spec's worked example spells them out.
    static func headerHex(major: String, raw: String, compressed: String) -> String {
        "89" + "46534e" + "0d0a1a0a"                  // magic
            + major + "0000" + "00000000"             // version major.0, flags
            + "00000078"                              // header length 120
            + "000000000000002a"                      // generation 42
            + "0000000069570a80"                      // created-at 1767312000
            + "00000003"                              // parser version 3
            + "e6e99eb92c8577fd" + "e34995261a782120" // fingerprint high, low
            + "0000000000000004"                      // record count
            + raw + compressed                        // raw and compressed payload lengths
            + "0000000b" + hexString("sample-feed".utf8)
            + "00000008" + hexString("\"abc123\"".utf8)
            + "0000001d" + hexString("Thu, 01 Jan 2026 00:00:00 GMT".utf8)
    }

    /// Checks the header and records every version of the sample must decode to.
    static func expectSampleContents(_ snapshot: Snapshot) throws {
        let h = snapshot.header
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
        #expect(snapshot.records[3].body == Array(bodies[3].utf8))
    }
}

@Suite struct GoldenSampleTests {
    /// Generator: writes the v2 fixture into the source tree when FSNAP_REGENERATE_FIXTURES=1.
    /// (The v1 fixture is never regenerated: no 1.x encoder is left.)
    @Test(.enabled(if: ProcessInfo.processInfo.environment["FSNAP_REGENERATE_FIXTURES"] == "1"))
    func regenerateFixture() throws {
        let bytes = try GoldenSample.encode()
        try Data(bytes).write(to: URL(fileURLWithPath: GoldenSample.v2SourcePath))
    }

    @Test func generatorIsDeterministic() throws {
        let a = try GoldenSample.encode()
        let b = try GoldenSample.encode()
        #expect(a == b)
    }

    // MARK: 2.0

    /// The committed 2.0 fixture decodes to exactly the hand-written values.
    @Test func v2FixtureDecodes() throws {
        let bytes = try GoldenSample.bytes(GoldenSample.v2URL)
        #expect(bytes.count == 359)
        let snapshot = try SnapshotCodec.decode(bytes)
        #expect(snapshot.header.formatMajor == 2)
        #expect(snapshot.header.rawPayloadBytes == 457)
        #expect(snapshot.header.compressedPayloadBytes == 211)
        try GoldenSample.expectSampleContents(snapshot)
        #expect(Array(bytes.suffix(8)) == [0x18, 0x93, 0x87, 0x6a, 0x43, 0xa0, 0xa7, 0xe8])
        #expect(try SnapshotCodec.decodeHeader(bytes) == snapshot.header)
        #expect(hexString(bytes.prefix(140))
                == GoldenSample.headerHex(major: "0002", raw: "00000000000001c9", compressed: "00000000000000d3"))
        #expect(bytes[140] == 0x78)  // zlib header (CMF: deflate, 32K window)
    }

    /// Encoding the sample's values reproduces the fixture's header and uncompressed payload.
    /// (Compressed bytes are not compared: they may differ between zlib builds.)
    @Test func v2EncoderReproducesFixturePayload() throws {
        let fixture = try GoldenSample.bytes(GoldenSample.v2URL)
        let fresh = try GoldenSample.encode()
        #expect(try SnapshotCodec.decode(fresh) == SnapshotCodec.decode(fixture))
        #expect(fresh.prefix(72) == fixture.prefix(72))          // everything up to the compressed length
        #expect(fresh[80..<140] == fixture[80..<140])            // strings
        let raw = try SnapshotCodec.encodePayload(GoldenSample.records)
        #expect(try GoldenSample.inflated(fixture, rawSize: 457) == raw)
        // The first record byte by byte, as in the spec's worked example: flags (minutes, timed),
        // body length 80 and body, key length 23 and key, start delta from 0 and duration in minutes.
        let first = "0450" + hexString(GoldenSample.bodies[0].utf8)
            + "17" + hexString("brunch-2026@example.com".utf8)
            + "b0c08b1c"     // zigzag(1767261600 / 60 = 29454360) = 58908720
            + "ac02"         // zigzag((1767270600 - 1767261600) / 60 = 150) = 300
        #expect(hexString(raw.prefix(first.count / 2)) == first)
    }

    // MARK: 1.0

    /// A 1.0 file, as earlier versions wrote it, still decodes to the same values.
    @Test func v1FileStillDecodes() throws {
        let bytes = try GoldenSample.bytes(GoldenSample.v1URL)
        #expect(bytes.count == 419)
        let snapshot = try SnapshotCodec.decode(bytes)
        #expect(snapshot.header.formatMajor == 1)
        #expect(snapshot.header.rawPayloadBytes == 537)
        #expect(snapshot.header.compressedPayloadBytes == 271)
        try GoldenSample.expectSampleContents(snapshot)
        #expect(Array(bytes.suffix(8)) == [0x1c, 0x0c, 0x07, 0x6d, 0xde, 0xca, 0x9b, 0xda])
        #expect(try SnapshotCodec.decodeHeader(bytes) == snapshot.header)
        #expect(hexString(bytes.prefix(140))
                == GoldenSample.headerHex(major: "0001", raw: "0000000000000219", compressed: "000000000000010f"))

        // Both versions hold the same records; only the version and sizes of the header differ.
        let v2 = try SnapshotCodec.decode(GoldenSample.bytes(GoldenSample.v2URL))
        #expect(v2.records == snapshot.records)
    }

    /// The tests' 1.x writer (used to craft 1.x damage) reproduces the v1 fixture's payload, so what
    /// it writes is what earlier versions wrote.
    @Test func v1TestWriterMatchesFixture() throws {
        let fixture = try GoldenSample.bytes(GoldenSample.v1URL)
        let raw = encodePayloadV1(GoldenSample.records)
        #expect(try GoldenSample.inflated(fixture, rawSize: 537) == raw)
        // First record: varint key length 23, key bytes, hash big-endian.
        #expect(hexString(raw.prefix(32)) == "17" + hexString("brunch-2026@example.com".utf8) + "5ea5273468602727")
        let rewritten = try v1Snapshot(GoldenSample.records, header: GoldenSample.header, level: 9)
        #expect(rewritten.prefix(140) == fixture.prefix(140))
    }
}
