import Foundation
import Testing
import FeedHash
@testable import Snapshots

@Suite struct DamageTests {
    @Test func zeroLengthFile() {
        #expect(errorCode { _ = try SnapshotCodec.decode([]) } == .empty)
        #expect(errorCode { _ = try SnapshotCodec.decodeHeader([]) } == .empty)
    }

    /// Every proper prefix of a valid file must be refused, by both decoders.
    @Test func truncatedAtEveryLength() throws {
        let bytes = try smallSnapshot()
        #expect(try SnapshotCodec.decode(bytes).records.count == 3)
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
    @Test func everySingleBitFlipIsDetected() throws {
        let bytes = try smallSnapshot()
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

    /// The same over the committed sample (a real 419-byte snapshot with four records): every one
    /// of its 3,352 single-bit flips is refused by both decoders and by `SnapshotDirectory.read`,
    /// with the reason the spec gives for the region it hit.
    @Test func everySingleBitFlipOfTheSampleIsDetected() throws {
        let bytes = try Array(Data(contentsOf: GoldenSample.fixtureURL))
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
    /// from the original, unless it hit the unused padding bits of the last deflate byte.
    @Test func resealedBitFlipsNeverCrash() throws {
        let bytes = try smallSnapshot()
        let original = try SnapshotCodec.decode(bytes)
        let lastDeflateByte = bytes.count - 8 - 4 - 1   // before the Adler-32 and the trailer
        var structuralRejections = 0
        for index in 0..<(bytes.count - 8) {
            for bit in 0..<8 {
                var damaged = bytes
                damaged[index] ^= UInt8(1 << bit)
                damaged = resealed(damaged)
                if let decoded = try? SnapshotCodec.decode(damaged) {
                    if decoded == original {
                        #expect(index == lastDeflateByte, "resealed flip at \(index).\(bit) decoded to the original")
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
        putBE16(&bytes, at: 8, 2)
        bytes = resealed(bytes)
        var message = ""
        do { _ = try SnapshotCodec.decode(bytes) } catch { message = error.message; #expect(error.code == .unsupportedVersion) }
        #expect(message.contains("2.0"))
        #expect(errorCode { _ = try SnapshotCodec.decodeHeader(bytes) } == .unsupportedVersion)
        putBE16(&bytes, at: 8, 0)
        #expect(errorCode { _ = try SnapshotCodec.decode(resealed(bytes)) } == .unsupportedVersion)
    }

    /// A later minor may append header fields and set flag bits; a 1.0 reader skips them.
    @Test func higherMinorWithAppendedHeaderFieldIsAccepted() throws {
        let records = [record("a"), record("b", allDay: true)]
        var raw = try SnapshotCodec.encodePayload(records)
        raw[raw.count - records[1].body.count - 2] |= 0x80   // unknown record flag bit on "b"
        let bytes = try SnapshotCodec.assemble(header: header(), recordCount: 2, raw: raw, level: 6,
                                               minor: 7, extraHeaderBytes: [1, 2, 3, 4, 5])
        let decoded = try SnapshotCodec.decode(bytes)
        #expect(decoded.header.formatMinor == 7)
        #expect(decoded.records == records)

        // The same extras in a 1.0 file are malformed.
        let strict = try SnapshotCodec.assemble(header: header(), recordCount: 2, raw: raw, level: 6,
                                                minor: 0, extraHeaderBytes: [])
        #expect(errorCode { _ = try SnapshotCodec.decode(strict) } == .malformed)
        let extra = try SnapshotCodec.assemble(header: header(), recordCount: 2,
                                               raw: try SnapshotCodec.encodePayload(records), level: 6,
                                               minor: 0, extraHeaderBytes: [1])
        #expect(errorCode { _ = try SnapshotCodec.decode(extra) } == .malformed)
    }

    @Test func outOfOrderAndDuplicatePayloadsAreRefused() throws {
        let a = try SnapshotCodec.encodePayload([record("a")])
        let b = try SnapshotCodec.encodePayload([record("b")])
        let swapped = try SnapshotCodec.assemble(header: header(), recordCount: 2, raw: b + a, level: 6)
        #expect(errorCode { _ = try SnapshotCodec.decode(swapped) } == .recordOrder)
        let duplicated = try SnapshotCodec.assemble(header: header(), recordCount: 2, raw: a + a, level: 6)
        #expect(errorCode { _ = try SnapshotCodec.decode(duplicated) } == .recordOrder)
        // Header passes; only the full decode sees the order.
        #expect(try SnapshotCodec.decodeHeader(swapped).recordCount == 2)
    }

    @Test func countAndLengthMismatchesAreRefused() throws {
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
