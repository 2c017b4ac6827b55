import Foundation
import Testing
import FeedHash
@testable import Snapshots

@Suite struct DamageTests {
    @Test func zeroLengthFile() {
        #expect(errorCode { _ = try SnapshotCodec.decode([]) } == .empty)
        #expect(errorCode { _ = try SnapshotCodec.decodeHeader([]) } == .empty)
    }

    /// Every proper prefix of a valid file must be refused, by both decoders: a small 2.0 file, the
    /// same records as 1.0, and the committed 2.0 sample.
    @Test(arguments: ["small-v2", "small-v1", "sample-v2"])
    func truncatedAtEveryLength(_ which: String) throws {
        let bytes = try damageSubject(which)
        #expect(try SnapshotCodec.decode(bytes).records.count == (which == "sample-v2" ? 4 : 3))
        for length in 0..<bytes.count {
            let prefix = Array(bytes.prefix(length))
            let full = errorCode { _ = try SnapshotCodec.decode(prefix) }
            let head = errorCode { _ = try SnapshotCodec.decodeHeader(prefix) }
            #expect(full != nil, "decode accepted a \(length)-byte prefix")
            #expect(head != nil, "decodeHeader accepted a \(length)-byte prefix")
            if length == 0 { #expect(full == .empty) }
            if length > 0 && length < 20 { #expect(full == .truncated) }
            if length >= 8 { #expect(full != .badMagic) }
        }
    }

    /// Flipping any single bit must make decoding throw: never crash, never silently decode.
    @Test(arguments: ["small-v2", "small-v1"])
    func everySingleBitFlipIsDetected(_ which: String) throws {
        let bytes = try damageSubject(which)
        var codes: [SnapshotError.Code: Int] = [:]
        for index in bytes.indices {
            for bit in 0..<8 {
                var damaged = bytes
                damaged[index] ^= UInt8(1 << bit)
                let full = errorCode { _ = try SnapshotCodec.decode(damaged) }
                let head = errorCode { _ = try SnapshotCodec.decodeHeader(damaged) }
                #expect(full != nil, "bit \(bit) of byte \(index) flipped and decode still succeeded")
                #expect(head != nil, "bit \(bit) of byte \(index) flipped and decodeHeader still succeeded")
                if let full { codes[full, default: 0] += 1 }
                if index < 8 { #expect(full == .badMagic) }
                if index == 8 || index == 9 { #expect(full == .unsupportedVersion) }
                if index >= bytes.count - 8 { #expect(full == .checksumMismatch) }
            }
        }
        #expect(codes.values.reduce(0, +) == bytes.count * 8)
    }

    /// The same over the committed samples (real snapshots of four records, 359 bytes in 2.0, 419 in
    /// 1.0): every single-bit flip is refused by both decoders and by `SnapshotDirectory.read`, with
    /// the reason the spec gives for the region it hit.
    @Test(arguments: ["sample-v2", "sample-v1"])
    func everySingleBitFlipOfTheSampleIsDetected(_ which: String) throws {
        let bytes = try damageSubject(which)
        let tmp = try TempFolder()
        defer { tmp.cleanup() }
        let dir = SnapshotDirectory(path: tmp.path)
        let file = dir.path(feedID: "sample-feed", generation: 42)
        for index in bytes.indices {
            for bit in 0..<8 {
                var damaged = bytes
                damaged[index] ^= UInt8(1 << bit)
                let full = errorCode { _ = try SnapshotCodec.decode(damaged) }
                #expect(full != nil, "bit \(bit) of byte \(index) flipped and decode still succeeded")
                #expect(errorCode { _ = try SnapshotCodec.decodeHeader(damaged) } != nil)
                switch index {
                case 0..<8: #expect(full == .badMagic)
                case 8..<10: #expect(full == .unsupportedVersion)
                case 16..<20, 72..<80:   // header length N, compressed length C: may declare a longer file
                    #expect(full == .checksumMismatch || full == .truncated)
                default: #expect(full == .checksumMismatch, "byte \(index) bit \(bit): \(String(describing: full))")
                }
                if index % 37 == 0 {   // through the file system too (a sample of positions, to stay fast)
                    try Data(damaged).write(to: URL(fileURLWithPath: file))
                    #expect(errorCode { _ = try dir.read(feedID: "sample-feed", generation: 42) } == full)
                }
            }
        }
    }

    /// Bit flips that are re-sealed with a correct checksum exercise the structural checks behind the
    /// checksum: they must never crash. A flip may decode (e.g. a fingerprint bit) but then must differ
    /// from the original, unless it hit the zlib stream in a place where deflate has slack: the
    /// unused padding bits of its last byte, or a match distance changed to one that copies equal
    /// bytes (inside a run of zeros, say), which inflates to the very same payload.
    @Test(arguments: ["small-v2", "small-v1", "sample-v2"])
    func resealedBitFlipsNeverCrash(_ which: String) throws {
        let bytes = try damageSubject(which)
        let original = try SnapshotCodec.decode(bytes)
        let streamStart = bytes.count - 8 - Int(original.header.compressedPayloadBytes)
        let adler = bytes.count - 8 - 4   // the Adler-32 ends the zlib stream
        var structuralRejections = 0
        for index in 0..<(bytes.count - 8) {
            for bit in 0..<8 {
                var damaged = bytes
                damaged[index] ^= UInt8(1 << bit)
                damaged = resealed(damaged)
                if let decoded = try? SnapshotCodec.decode(damaged) {
                    if decoded == original {
                        #expect(index >= streamStart + 2 && index < adler, "resealed flip at \(index).\(bit) decoded to the original")
                        #expect(try SnapshotCodec.decodeHeader(damaged) == original.header)
                    }
                } else {
                    structuralRejections += 1
                }
            }
        }
        #expect(structuralRejections > (bytes.count - 8) * 4)
    }

    @Test func foreignFiles() throws {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52]
            + [UInt8](repeating: 0, count: 100)
        let text = Array("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n".utf8)
        let gzip: [UInt8] = [0x1F, 0x8B, 0x08, 0x00] + [UInt8](repeating: 0, count: 40)
        for foreign in [png, text, gzip, [0x50], [0x89, 0x46, 0x53, 0x4F]] {
            #expect(errorCode { _ = try SnapshotCodec.decode(foreign) } == .badMagic)
            #expect(errorCode { _ = try SnapshotCodec.decodeHeader(foreign) } == .badMagic)
        }
        #expect(errorCode { _ = try SnapshotCodec.decode([0x89]) } == .truncated)
        #expect(errorCode { _ = try SnapshotCodec.decode([0x89, 0x46, 0x53]) } == .truncated)
    }

    @Test func futureMajorVersionIsRefused() throws {
        var bytes = try smallSnapshot()
        putBE16(&bytes, at: 8, 3)
        bytes = resealed(bytes)
        var message = ""
        do { _ = try SnapshotCodec.decode(bytes) } catch { message = error.message; #expect(error.code == .unsupportedVersion) }
        #expect(message.contains("format version 3.0 is not supported (this reader knows 1.x and 2.x)"))
        #expect(errorCode { _ = try SnapshotCodec.decodeHeader(bytes) } == .unsupportedVersion)
        for major: UInt16 in [0, 0xFFFF] {
            putBE16(&bytes, at: 8, major)
            #expect(errorCode { _ = try SnapshotCodec.decode(resealed(bytes)) } == .unsupportedVersion)
        }
    }

    /// A 2.0 payload under a 1.0 label (or the reverse), checksum fixed up, is refused, not misread.
    @Test func payloadUnderTheOtherMajorIsRefused() throws {
        var v2 = try smallSnapshot()
        putBE16(&v2, at: 8, 1)
        #expect(errorCode { _ = try SnapshotCodec.decode(resealed(v2)) } != nil)
        var v1 = try smallSnapshotV1()
        putBE16(&v1, at: 8, 2)
        #expect(errorCode { _ = try SnapshotCodec.decode(resealed(v1)) } != nil)
    }

    /// A later minor may append header fields (after 2.1's format field) and set reserved flag bits;
    /// a 2.1 reader skips them.
    @Test func higherMinorWithAppendedHeaderFieldIsAccepted() throws {
        let records = [record("a"), record("b", allDay: true)]
        var raw = try SnapshotCodec.encodePayload(records)
        let second = try SnapshotCodec.encodePayload([records[0]]).count   // where "b" starts: its flags
        for bit: UInt8 in [0x10, 0x20, 0x40, 0x80] {   // every reserved record flag bit
            raw[second] |= bit
            let bytes = try SnapshotCodec.assemble(header: header(), recordCount: 2, raw: raw, level: 6,
                                                   minor: 7, extraHeaderBytes: [0, 0, 0, 3] + Array("ics".utf8) + [1, 2, 3, 4, 5])
            let decoded = try SnapshotCodec.decode(bytes)
            #expect(decoded.header.formatMinor == 7)
            #expect(decoded.records == records)
            // The same bit in a 2.0 file is malformed.
            #expect(errorCode { _ = try SnapshotCodec.decode(v2File(raw, count: 2)) } == .malformed)
        }

        // The same extras in a 2.0 file are malformed.
        let extra = try SnapshotCodec.assemble(header: header(), recordCount: 2,
                                               raw: try SnapshotCodec.encodePayload(records), level: 6,
                                               minor: 0, extraHeaderBytes: [1])
        #expect(errorCode { _ = try SnapshotCodec.decode(extra) } == .malformed)

        // Time unit 3 is invalid in every minor: no reader could scale the times.
        var unit3 = try SnapshotCodec.encodePayload(records)
        unit3[second] |= 0x0C
        #expect(errorCode { _ = try SnapshotCodec.decode(v2File(unit3, count: 2)) } == .malformed)
        #expect(errorCode { _ = try SnapshotCodec.decode(v2File(unit3, count: 2, minor: 7)) } == .malformed)
    }

    /// The 1.x rules for later minors still hold for 1.x files.
    @Test func v1HigherMinorAndReservedBits() throws {
        let records = [record("a"), record("b", allDay: true)]
        var raw = encodePayloadV1(records)
        raw[raw.count - records[1].body.count - 2] |= 0x80   // unknown record flag bit on "b"
        let bytes = try SnapshotCodec.assemble(header: header(), recordCount: 2, raw: raw, level: 6,
                                               major: 1, minor: 3, extraHeaderBytes: [9, 9])
        #expect(try SnapshotCodec.decode(bytes).records == records)
        let strict = try SnapshotCodec.assemble(header: header(), recordCount: 2, raw: raw, level: 6, major: 1, minor: 0)
        #expect(errorCode { _ = try SnapshotCodec.decode(strict) } == .malformed)
        let extra = try SnapshotCodec.assemble(header: header(), recordCount: 2, raw: encodePayloadV1(records),
                                               level: 6, major: 1, minor: 0, extraHeaderBytes: [1])
        #expect(errorCode { _ = try SnapshotCodec.decode(extra) } == .malformed)
        var flagged = try v1Snapshot(records)
        flagged[15] = 1   // file flags
        #expect(errorCode { _ = try SnapshotCodec.decode(resealed(flagged)) } == .malformed)
    }

    @Test(arguments: [1, 2] as [UInt16])
    func outOfOrderAndDuplicatePayloadsAreRefused(_ major: UInt16) throws {
        func payload(_ r: SnapshotRecord) throws -> [UInt8] {
            major == 1 ? encodePayloadV1([r]) : try SnapshotCodec.encodePayload([r])
        }
        let a = try payload(record("a")), b = try payload(record("b")), empty = try payload(record(""))
        for (raw, count) in [(b + a, 2), (a + a, 2), (empty + empty, 2), (a + empty, 2), (a + b + a, 3)] as [([UInt8], UInt64)] {
            let bytes = try SnapshotCodec.assemble(header: header(), recordCount: count, raw: raw, level: 6, major: major)
            #expect(errorCode { _ = try SnapshotCodec.decode(bytes) } == .recordOrder)
            // Header passes; only the full decode sees the order.
            #expect(try SnapshotCodec.decodeHeader(bytes).recordCount == count)
        }
        let fine = try SnapshotCodec.assemble(header: header(), recordCount: 2, raw: empty + a, level: 6, major: major)
        #expect(try SnapshotCodec.decode(fine).records.map(\.key) == ["", "a"])
    }

    /// Damage behind a valid checksum in the 2.x record fields (a buggy writer): each is refused.
    @Test func v2StructuralDamageIsRefused() throws {
        let day: UInt64 = 2 * 20_454   // zigzag(1767225600 / 86400): 2026-01-01 in days
        func decodes(_ raw: [UInt8], _ count: UInt64 = 1) -> SnapshotError.Code? {
            errorCode { _ = try SnapshotCodec.decode(v2File(raw, count: count)) }
        }
        // Sound hand-made records, to show the cases below fail for the reason they name.
        #expect(decodes(v2Record(flags: 0x08, key: "a", start: day, end: 2)) == nil)                 // days, 1 day long
        #expect(decodes(v2Record(flags: 0x0A, key: "a", start: day, end: nil)) == nil)               // days, never ends
        #expect(decodes(v2Record(flags: 0x04, key: "a", start: day * 1440 + 2, end: 1)) == nil)      // minutes, -1 min
        #expect(decodes(v2Record(flags: 0x00, key: "a", start: 1, end: 0)) == nil)                   // seconds, start -1

        // Not the largest unit: the same times in minutes or seconds instead of days.
        #expect(decodes(v2Record(flags: 0x04, key: "a", start: day * 1440, end: 2 * 1440)) == .malformed)
        #expect(decodes(v2Record(flags: 0x00, key: "a", start: day * 86_400, end: nil)) == .malformed)
        #expect(decodes(v2Record(flags: 0x00, key: "a", start: 120, end: 120)) == .malformed)   // 60 s, 60 s in seconds
        // Unit 3; a scaled value that overflows 64 bits; a last end equal to the reserved Int64.max.
        #expect(decodes(v2Record(flags: 0x0C, key: "a", start: day, end: 2)) == .malformed)
        #expect(decodes(v2Record(flags: 0x08, key: "a", start: UInt64.max, end: 2)) == .malformed)
        #expect(decodes(v2Record(flags: 0x08, key: "a", start: day, end: UInt64.max - 1)) == .malformed)
        #expect(decodes(v2Record(flags: 0x00, key: "a", start: 0, end: zigzag(.max))) == .malformed)
        #expect(decodes(v2Record(flags: 0x00, key: "a", start: 0, end: zigzag(.max - 1))) == nil)
        // Non-minimal and overlong varints in each field; lengths that run past the payload.
        let good = v2Record(flags: 0x08, key: "a", start: day, end: 2)
        #expect(decodes([0x08, 0x81, 0x00] + good.dropFirst(2)) == .malformed)                 // body length 1 as 81 00
        #expect(decodes(Array(good.prefix(3)) + [0x81, 0x00] + good.dropFirst(4)) == .malformed)   // key length
        #expect(decodes(Array(good.dropLast(1)) + [0x82, 0x00]) == .malformed)                    // end 2 as 82 00
        #expect(decodes([0x08, 0x7F, 0x42]) == .malformed)                                        // body runs past
        #expect(decodes([0x08, 0x01, 0x42, 0x05, 0x61]) == .malformed)                            // key runs past
        #expect(decodes(Array(good.dropLast(1))) == .malformed)                                   // end missing
        #expect(decodes(good.dropLast(1) + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02]) == .malformed)
        // Bytes after the last record; a record count that does not match.
        #expect(decodes(good + [0x00]) == .malformed)
        #expect(decodes(good + good, 1) == .malformed)
        #expect(decodes(good, 2) == .malformed)
        // A key that is not UTF-8.
        #expect(decodes([0x08, 0x01, 0x42, 0x01, 0xFF] + good.suffix(4)) == .malformed)
    }

    @Test func countAndLengthMismatchesAreRefused() throws {
        // 2.x records take at least 4 bytes: more records than raw length / 4 fail the header check.
        let fourBytes = v2Record(flags: 0x0A, body: "", key: "", start: 0, end: nil)
        #expect(fourBytes.count == 4)
        #expect(try SnapshotCodec.decode(v2File(fourBytes, count: 1)).records.first?.lastEnd == nil)
        #expect(errorCode { _ = try SnapshotCodec.decodeHeader(v2File(fourBytes, count: 2)) } == .malformed)

        let raw = try SnapshotCodec.encodePayload([record("a"), record("b")])
        let tooFew = try SnapshotCodec.assemble(header: header(), recordCount: 1, raw: raw, level: 6)
        #expect(errorCode { _ = try SnapshotCodec.decode(tooFew) } == .malformed)
        let tooMany = try SnapshotCodec.assemble(header: header(), recordCount: 3, raw: raw, level: 6)
        #expect(errorCode { _ = try SnapshotCodec.decode(tooMany) } == .malformed)

        // Raw length in the header smaller / larger than the real payload (checksum fixed up).
        let good = try SnapshotCodec.encode(header: header(), records: [record("a"), record("b")])
        for delta: Int64 in [-1, 1, -Int64(raw.count)] {
            var bytes = good
            putBE64(&bytes, at: 64, UInt64(Int64(raw.count) + delta))
            #expect(errorCode { _ = try SnapshotCodec.decode(resealed(bytes)) } != nil)
        }
        var shrunk = good
        putBE64(&shrunk, at: 64, UInt64(raw.count - 10))
        #expect(errorCode { _ = try SnapshotCodec.decode(resealed(shrunk)) } == .decompressionFailed)
        var grown = good
        putBE64(&grown, at: 64, UInt64(raw.count + 10_000))
        #expect(errorCode { _ = try SnapshotCodec.decode(resealed(grown)) } == .decompressionFailed)

        // An absurd raw length is refused before any allocation.
        var huge = good
        putBE64(&huge, at: 64, UInt64.max)
        #expect(errorCode { _ = try SnapshotCodec.decodeHeader(resealed(huge)) } == .malformed)
        putBE64(&huge, at: 64, (1 << 30) + 1)
        #expect(errorCode { _ = try SnapshotCodec.decode(resealed(huge)) } == .malformed)

        // Compressed length that disagrees with the file size.
        var comp = good
        putBE64(&comp, at: 72, UInt64(good.count))
        #expect(errorCode { _ = try SnapshotCodec.decode(resealed(comp)) } == .truncated)
        putBE64(&comp, at: 72, 1)
        #expect(errorCode { _ = try SnapshotCodec.decode(resealed(comp)) } == .malformed)

        // Trailing bytes after the file / garbage appended.
        #expect(errorCode { _ = try SnapshotCodec.decode(good + [0]) } != nil)
    }

    @Test func payloadThatIsNotZlibIsRefused() throws {
        var bytes = try SnapshotCodec.encode(header: header(), records: [record("a")])
        let h = try SnapshotCodec.decodeHeader(bytes)
        let start = bytes.count - 8 - Int(h.compressedPayloadBytes)
        for i in start..<(bytes.count - 8) { bytes[i] = 0x55 }
        #expect(errorCode { _ = try SnapshotCodec.decode(resealed(bytes)) } == .decompressionFailed)
        #expect(try SnapshotCodec.decodeHeader(resealed(bytes)).recordCount == 1)
    }

    @Test func truncatedFileReportsTruncated() throws {
        let bytes = try SnapshotCodec.encode(header: header(), records: [record("a"), record("b")])
        let error = #expect(throws: SnapshotError.self) { try SnapshotCodec.decode(Array(bytes.dropLast(20))) }
        #expect(error?.code == .truncated)
        #expect(error?.description.contains("truncated") == true)
    }
}

/// The files the exhaustive damage tests run over.
func damageSubject(_ which: String) throws -> [UInt8] {
    switch which {
    case "small-v2": try smallSnapshot()
    case "small-v1": try smallSnapshotV1()
    case "sample-v2": try GoldenSample.bytes(GoldenSample.v2URL)
    case "sample-v1": try GoldenSample.bytes(GoldenSample.v1URL)
    default: throw SnapshotError(.io, "no damage subject \(which)")
    }
}
