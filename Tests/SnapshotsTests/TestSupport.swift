import Foundation
import Testing
import FeedHash
@testable import Snapshots
#if canImport(Glibc)
import Glibc
#endif

/// A fresh empty folder under the system temp folder; removed by `cleanup()`.
struct TempFolder {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/fsnap-test-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw SnapshotError(.io, "mkdtemp failed")
        }
        path = String(cString: made)
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: path)
    }

    func names() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    func touch(_ name: String, _ contents: [UInt8] = Array("leftover".utf8)) throws {
        try Data(contents).write(to: URL(fileURLWithPath: path + "/" + name))
    }
}

func record(_ key: String, start: Int64 = 1_767_225_600, lastEnd: Int64? = 1_767_229_200,
            allDay: Bool = false, body: String? = nil) -> SnapshotRecord {
    let bytes = Array((body ?? "BEGIN:VEVENT\r\nUID:\(key)\r\nEND:VEVENT\r\n").utf8)
    return SnapshotRecord(key: key, hash: XXH3.hash64(bytes), start: start, lastEnd: lastEnd,
                          allDay: allDay, body: bytes)
}

func header(_ feedID: String = "feed-a", generation: UInt64 = 1) -> SnapshotHeader {
    SnapshotHeader(feedID: feedID, generation: generation, createdAt: 1_767_312_000, parserVersion: 1,
                   bodyFingerprint: Fingerprint128(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210),
                   etag: "\"e1\"", lastModified: nil)
}

/// Three records whose times take every 2.x form: days and never ends ("a"), minutes ("b"), and
/// seconds with a negative start delta and a last end before the start ("c").
let smallRecords = [
    record("b", body: "B"),
    record("a", lastEnd: nil, body: "A"),
    record("c", start: 1_767_225_599, lastEnd: 1_767_139_200, allDay: true, body: "C"),
]

/// A small valid 2.0 snapshot (3 records) for the exhaustive damage tests.
func smallSnapshot() throws -> [UInt8] {
    try SnapshotCodec.encode(header: header(), records: smallRecords)
}

/// The same records in a 1.0 file.
func smallSnapshotV1() throws -> [UInt8] {
    try v1Snapshot(smallRecords)
}

/// A 1.x payload, written as the 1.0 spec says (key, stored hash, fixed-width times, flags, body),
/// sorted by key bytes. The library only writes 2.x; tests use this to craft 1.x files.
func encodePayloadV1(_ records: [SnapshotRecord]) -> [UInt8] {
    var raw = [UInt8]()
    for r in records.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
        raw.appendVarint(UInt64(r.key.utf8.count))
        raw.append(contentsOf: r.key.utf8)
        raw.appendBE(r.hash)
        raw.appendBE(r.start)
        raw.appendBE(r.lastEnd ?? .max)
        raw.append(r.allDay ? 1 : 0)
        raw.appendVarint(UInt64(r.body.count))
        raw.append(contentsOf: r.body)
    }
    return raw
}

/// A 1.0 file holding `records`, as an earlier feedsync wrote it.
func v1Snapshot(_ records: [SnapshotRecord], header h: SnapshotHeader = header(), level: Int32 = 6) throws -> [UInt8] {
    try SnapshotCodec.assemble(header: h, recordCount: UInt64(records.count), raw: encodePayloadV1(records),
                               level: level, major: 1, minor: 0)
}

/// One 2.x record spelled out field by field (no validation), to craft payloads the encoder
/// would never write.
func v2Record(flags: UInt8, body: String = "B", key: String, start: UInt64, end: UInt64?) -> [UInt8] {
    var raw: [UInt8] = [flags]
    raw.appendVarint(UInt64(body.utf8.count))
    raw.append(contentsOf: body.utf8)
    raw.appendVarint(UInt64(key.utf8.count))
    raw.append(contentsOf: key.utf8)
    raw.appendVarint(start)
    if let end { raw.appendVarint(end) }
    return raw
}

/// A 2.0 file around a hand-made payload of `count` records.
func v2File(_ raw: [UInt8], count: UInt64, minor: UInt16 = 0) throws -> [UInt8] {
    try SnapshotCodec.assemble(header: header(), recordCount: count, raw: raw, level: 6, minor: minor)
}

/// Rewrites the trailer so the checksum matches the (modified) contents.
func resealed(_ bytes: [UInt8]) -> [UInt8] {
    var out = Array(bytes.dropLast(8))
    out.appendBE(XXH3.hash64(out))
    return out
}

func putBE16(_ bytes: inout [UInt8], at offset: Int, _ value: UInt16) {
    bytes[offset] = UInt8(value >> 8)
    bytes[offset + 1] = UInt8(value & 0xFF)
}

func putBE64(_ bytes: inout [UInt8], at offset: Int, _ value: UInt64) {
    for i in 0..<8 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64(i))) }
}

/// The code of the `SnapshotError` that `body` throws; nil when it does not throw.
func errorCode(_ body: () throws -> Void) -> SnapshotError.Code? {
    do { try body() } catch let error as SnapshotError { return error.code } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
    return nil
}

func hexString(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}
