import FeedHash
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Encoder and decoder for snapshot files. The format is specified in `docs/snapshot-format.md`.
public enum SnapshotCodec {
    /// The version this encoder writes. Readers also accept major 1 (see `readableMajors`).
    public static let formatMajor: UInt16 = 2
    public static let formatMinor: UInt16 = 0
    /// The minor that adds the `format` header field; written only for a format other than `ics`,
    /// so that an iCalendar feed's file stays a 2.0 file, byte for byte.
    public static let formatMinorWithFeedFormat: UInt16 = 1
    /// Majors the decoder knows: 1.x (stored record hash, fixed-width times) stays readable so that
    /// snapshots written by earlier versions keep working until they are next rewritten as 2.x.
    static let readableMajors: ClosedRange<UInt16> = 1...2

    /// `89 46 53 4E 0D 0A 1A 0A` = "\x89FSN\r\n\x1a\n" (PNG-style: high bit, name, CRLF, ^Z, LF).
    static let magic: [UInt8] = [0x89, 0x46, 0x53, 0x4E, 0x0D, 0x0A, 0x1A, 0x0A]
    /// magic (8) + major (2) + minor (2) + flags (4) + header length (4).
    static let prefixSize = 20
    static let trailerSize = 8
    /// Fixed-width header fields: generation 8, created-at 8, parser version 4, fingerprint 16,
    /// record count 8, raw length 8, compressed length 8.
    static let fixedHeaderSize = 60
    /// Fixed fields plus three 4-byte string length fields (feed id, ETag, Last-Modified).
    static let minimumHeaderSize = fixedHeaderSize + 12
    /// No sound snapshot is shorter.
    public static let minimumFileSize = prefixSize + minimumHeaderSize + trailerSize
    static let absentString: UInt32 = 0xFFFF_FFFF
    /// Largest accepted uncompressed payload (1 GiB).
    static let maxRawPayload: UInt64 = 1 << 30
    /// Largest accepted header (1 MiB); far above any real header, it only bounds damage.
    static let maxHeaderSize: UInt32 = 1 << 20
    /// Smallest possible 1.x record: key length 1, hash 8, start 8, last end 8, flags 1, body length 1.
    static let minimumRecordSizeV1 = 27
    /// Smallest possible 2.x record: flags 1, body length 1, key length 1, start 1 (a never-ending
    /// record has no end field).
    static let minimumRecordSizeV2 = 4
    static func minimumRecordSize(major: UInt16) -> Int {
        major == 1 ? minimumRecordSizeV1 : minimumRecordSizeV2
    }
    static let recordFlagAllDay: UInt8 = 0x01
    /// 2.x: the record never ends; it has no end field.
    static let recordFlagNeverEnds: UInt8 = 0x02
    /// 2.x: bits 2-3 select the unit of the start delta and the duration (`timeUnits`; 3 is invalid).
    static let recordFlagUnitMask: UInt8 = 0x0C
    static let recordFlagUnitShift: UInt8 = 2
    static let timeUnits: [Int64] = [1, 60, 86_400]
    /// `lastEnd` that means "never ends": the on-disk sentinel in 1.x, reserved in every version so a
    /// record means the same whatever the file's version.
    static let neverEnds = Int64.max

    // MARK: - Encoding

    /// The zlib level feedsync writes snapshots at. Level 3 deflates in about 60% of level 6's CPU
    /// for files about 7% larger (the benchmark corpus, 1,000 snapshots' payloads: 0.223 against
    /// 0.381 s; 19.4% of the feed bytes against 18.2%); a first night deflates every feed's
    /// records. Level 1 saves little more time (0.194 s) and comes within 0.2 points of the 20%
    /// target for snapshot size (19.85%).
    public static let writeLevel: Int32 = 3

    /// Sorts the records by key (throws `recordOrder` on a duplicate key), compresses, checksums.
    ///
    /// The file is written as the current format (2.0) whatever `header.formatMajor` says; the
    /// header's counts and sizes are computed here. `level` is the zlib level, 0...9 or -1 (zlib's
    /// default, 6).
    ///
    /// Each record's `hash` must be `XXH3.hash64(body)`: 2.x files do not store it (the decoder
    /// recomputes it), so a different value could not survive the round trip. An inconsistent
    /// hash throws `malformed` rather than trapping, like the other invalid inputs: a caller's bug
    /// then fails one snapshot write, not the whole process.
    public static func encode(header: SnapshotHeader, records: [SnapshotRecord], level: Int32 = 6) throws(SnapshotError) -> [UInt8] {
        guard !header.feedID.isEmpty else { throw SnapshotError(.malformed, "empty feed id") }
        guard header.flags == 0 else {
            throw SnapshotError(.malformed, "file flags \(header.flags) set; format \(formatMajor).\(formatMinor) defines none")
        }
        let raw = try encodePayload(records)
        if header.feedFormat != SnapshotHeader.defaultFeedFormat {
            let name = Array(header.feedFormat.utf8)
            guard !name.isEmpty, name.count < 256 else { throw SnapshotError(.malformed, "invalid feed format name") }
            var field: [UInt8] = []
            field.appendBE(UInt32(name.count))
            field.append(contentsOf: name)
            return try assemble(header: header, recordCount: UInt64(records.count), raw: raw, level: level,
                                minor: formatMinorWithFeedFormat, extraHeaderBytes: field)
        }
        return try assemble(header: header, recordCount: UInt64(records.count), raw: raw, level: level)
    }

    /// Builds a file from an already encoded payload (no record validation; tests use it to craft
    /// damage, and `major: 1` to craft 1.x files).
    static func assemble(header: SnapshotHeader, recordCount: UInt64, raw: [UInt8], level: Int32,
                         major: UInt16 = formatMajor, minor: UInt16 = formatMinor,
                         extraHeaderBytes: [UInt8] = []) throws(SnapshotError) -> [UInt8] {
        let compressed = try Zlib.deflate(raw, level: level)

        let feedID = Array(header.feedID.utf8)
        let etag = header.etag.map { Array($0.utf8) }
        let lastModified = header.lastModified.map { Array($0.utf8) }
        for s in [feedID, etag, lastModified] {
            if let s, s.count >= Int(absentString) { throw SnapshotError(.malformed, "header string too long") }
        }
        let headerSize = fixedHeaderSize + 12 + feedID.count + (etag?.count ?? 0) + (lastModified?.count ?? 0)
            + extraHeaderBytes.count
        guard headerSize <= Int(maxHeaderSize) else {
            throw SnapshotError(.malformed, "header of \(headerSize) bytes exceeds \(maxHeaderSize)")
        }

        var out = [UInt8]()
        out.reserveCapacity(prefixSize + headerSize + compressed.count + trailerSize)
        out.append(contentsOf: magic)
        out.appendBE(major)
        out.appendBE(minor)
        out.appendBE(header.flags)
        out.appendBE(UInt32(headerSize))
        out.appendBE(header.generation)
        out.appendBE(header.createdAt)
        out.appendBE(header.parserVersion)
        out.appendBE(header.bodyFingerprint.high)
        out.appendBE(header.bodyFingerprint.low)
        out.appendBE(recordCount)
        out.appendBE(UInt64(raw.count))
        out.appendBE(UInt64(compressed.count))
        func appendString(_ s: [UInt8]?) {
            guard let s else { out.appendBE(absentString); return }
            out.appendBE(UInt32(s.count))
            out.append(contentsOf: s)
        }
        appendString(feedID)
        appendString(etag)
        appendString(lastModified)
        out.append(contentsOf: extraHeaderBytes)
        assert(out.count == prefixSize + headerSize)
        out.append(contentsOf: compressed)
        let checksum = XXH3.hash64(out)
        out.appendBE(checksum)
        return out
    }

    /// The uncompressed 2.x payload: records sorted by the UTF-8 bytes of their keys, each as
    /// flags, body, key, start delta and duration (see `TimeFields` and the spec's *Record encoding*).
    static func encodePayload(_ records: [SnapshotRecord]) throws(SnapshotError) -> [UInt8] {
        // Sort indices by key bytes (String's own `<` is not byte order).
        let keys = records.map { Array($0.key.utf8) }
        let less = { (a: Int, b: Int) -> Bool in
            keys[a].withUnsafeBytes { x in keys[b].withUnsafeBytes { y in compareBytes(x, y) < 0 } }
        }
        // Records usually come in key order already (a merged snapshot, a child's delta): one pass
        // finds that, and the sort is skipped.
        var inOrder = true
        for i in keys.indices.dropFirst() where !less(i - 1, i) {
            inOrder = false
            break
        }
        let order = inOrder ? Array(keys.indices) : keys.indices.sorted(by: less)
        var times = [TimeFields]()
        times.reserveCapacity(records.count)
        var size = 0
        var previousStart: Int64 = 0
        for i in order.indices {
            let r = records[order[i]]
            let key = keys[order[i]]
            if i > 0 && keys[order[i - 1]] == key {
                throw SnapshotError(.recordOrder, "duplicate record key \"\(r.key)\"")
            }
            if r.lastEnd == neverEnds {
                throw SnapshotError(.malformed,
                                    "record \"\(r.key)\": lastEnd Int64.max is reserved for \"never ends\" (use nil)")
            }
            let bodyHash = XXH3.hash64(r.body)
            if r.hash != bodyHash {
                throw SnapshotError(.malformed,
                                    "record \"\(r.key)\": hash \(hex64(r.hash)) is not the XXH3-64 of its body (\(hex64(bodyHash)))")
            }
            let t = TimeFields(start: r.start, lastEnd: r.lastEnd, previousStart: previousStart)
            times.append(t)
            previousStart = r.start
            size += 1 + varintSize(UInt64(r.body.count)) + r.body.count + varintSize(UInt64(key.count)) + key.count
                + varintSize(t.start) + (t.end.map(varintSize) ?? 0)
        }
        guard UInt64(size) <= maxRawPayload else {
            throw SnapshotError(.malformed, "payload of \(size) bytes exceeds the 1 GiB limit")
        }
        var raw = [UInt8]()
        raw.reserveCapacity(size)
        for (i, t) in zip(order, times) {
            let r = records[i]
            raw.append((r.allDay ? recordFlagAllDay : 0) | t.flags)
            raw.appendVarint(UInt64(r.body.count))
            raw.append(contentsOf: r.body)
            // The key follows the body: its usual copy there (the UID line, near the body's end) is
            // then a short deflate distance back, which compresses better than a key before the body.
            raw.appendVarint(UInt64(keys[i].count))
            raw.append(contentsOf: keys[i])
            raw.appendVarint(t.start)
            if let end = t.end { raw.appendVarint(end) }
        }
        assert(raw.count == size)
        return raw
    }

    // MARK: - Decoding

    /// Decodes and fully validates a snapshot (2.x, or 1.x written by earlier versions): magic,
    /// version, checksum, header, decompression, sizes, record count and strict key order.
    public static func decode(_ bytes: [UInt8]) throws(SnapshotError) -> Snapshot {
        let header = try decodeHeader(bytes)
        let payloadStart = prefixSize + Int(UInt32(bigEndian: bytes.withUnsafeBytes {
            $0.loadUnaligned(fromByteOffset: 16, as: UInt32.self)
        }))
        let payloadEnd = payloadStart + Int(header.compressedPayloadBytes)
        let raw = try withBytes(bytes) { (all: UnsafeRawBufferPointer) throws(SnapshotError) -> [UInt8] in
                try Zlib.inflate(UnsafeRawBufferPointer(rebasing: all[payloadStart..<payloadEnd]),
                                 expectedSize: Int(header.rawPayloadBytes))
        }
        let records = try withBytes(raw) { (buf: UnsafeRawBufferPointer) throws(SnapshotError) -> [SnapshotRecord] in
            header.formatMajor == 1
                ? try decodePayloadV1(buf, count: header.recordCount, minor: header.formatMinor)
                : try decodePayload(buf, count: header.recordCount, minor: header.formatMinor)
        }
        return Snapshot(header: header, records: records)
    }

    /// Decodes the header only; still verifies magic, version, the trailer checksum (over the whole
    /// file) and that the declared sizes match the file size. Does not inflate the payload.
    public static func decodeHeader(_ bytes: [UInt8]) throws(SnapshotError) -> SnapshotHeader {
        try withBytes(bytes) { (buf: UnsafeRawBufferPointer) throws(SnapshotError) -> SnapshotHeader in
            try decodeHeader(buf)
        }
    }

    static func decodeHeader(_ buf: UnsafeRawBufferPointer) throws(SnapshotError) -> SnapshotHeader {
        let count = buf.count
        if count == 0 { throw SnapshotError(.empty, "file is empty") }
        if count < magic.count {
            if magic.starts(with: buf) { throw SnapshotError(.truncated, "file is \(count) bytes, shorter than the magic") }
            throw SnapshotError(.badMagic, "not a feedsync snapshot (wrong magic)")
        }
        if !buf.prefix(magic.count).elementsEqual(magic) {
            throw SnapshotError(.badMagic, "not a feedsync snapshot (wrong magic)")
        }
        if count < 12 { throw SnapshotError(.truncated, "file is \(count) bytes, ends inside the version") }
        var r = ByteReader(buf, from: 8, context: "header")
        let major = try r.u16("major version")
        let minor = try r.u16("minor version")
        guard readableMajors.contains(major) else {
            throw SnapshotError(.unsupportedVersion,
                                "format version \(major).\(minor) is not supported (this reader knows 1.x and 2.x)")
        }
        if count < prefixSize + minimumHeaderSize + trailerSize {
            throw SnapshotError(.truncated, "file is \(count) bytes, shorter than the smallest possible snapshot")
        }
        let flags = try r.u32("flags")
        let headerSize = try r.u32("header length")

        // Checksum before trusting anything else.
        let stored = UInt64(bigEndian: buf.loadUnaligned(fromByteOffset: count - trailerSize, as: UInt64.self))
        let computed = XXH3.hash64(UnsafeRawBufferPointer(rebasing: buf[0..<(count - trailerSize)]))
        if stored != computed {
            // Tell a short file apart from a damaged one where the header allows it.
            if headerSize >= UInt32(minimumHeaderSize), headerSize <= maxHeaderSize {
                let compressed = UInt64(bigEndian: buf.loadUnaligned(fromByteOffset: prefixSize + 52, as: UInt64.self))
                let declared = UInt64(prefixSize) + UInt64(headerSize) &+ compressed &+ UInt64(trailerSize)
                // Plausible sizes only (a zlib stream of at most 1 GiB of payload is below 2^31 bytes).
                if declared > UInt64(count) && compressed < (1 << 31) {
                    throw SnapshotError(.truncated,
                                        "file is \(count) bytes but its header declares \(declared) (truncated or damaged)")
                }
            }
            throw SnapshotError(.checksumMismatch,
                                "checksum mismatch: trailer says \(hex64(stored)), contents hash to \(hex64(computed))")
        }

        if flags != 0 && minor == 0 {
            throw SnapshotError(.malformed, "reserved file flags set (\(flags)) in a \(major).0 file")
        }
        guard headerSize >= UInt32(minimumHeaderSize), headerSize <= maxHeaderSize,
              prefixSize + Int(headerSize) + trailerSize <= count else {
            throw SnapshotError(.malformed, "invalid header length \(headerSize)")
        }
        let headerEnd = prefixSize + Int(headerSize)
        var h = ByteReader(buf, from: prefixSize, to: headerEnd, context: "header")
        let generation = try h.u64("generation")
        let createdAt = try h.i64("created-at")
        let parserVersion = try h.u32("parser version")
        let fpHigh = try h.u64("fingerprint")
        let fpLow = try h.u64("fingerprint")
        let recordCount = try h.u64("record count")
        let rawSize = try h.u64("raw payload length")
        let compressedSize = try h.u64("compressed payload length")
        func string(_ what: String, optional: Bool) throws(SnapshotError) -> String? {
            let n = try h.u32("\(what) length")
            if n == absentString {
                if optional { return nil }
                throw h.fail("\(what) is absent")
            }
            guard n <= UInt32(h.remaining) else { throw h.fail("\(what) length \(n) runs past the header") }
            guard let s = decodeUTF8(try h.bytes(Int(n), what)) else { throw h.fail("\(what) is not valid UTF-8") }
            return s
        }
        let feedID = try string("feed id", optional: false)!
        let etag = try string("ETag", optional: true)
        let lastModified = try string("Last-Modified", optional: true)
        if feedID.isEmpty { throw SnapshotError(.malformed, "empty feed id") }
        if h.remaining > 0 && minor == 0 {
            throw SnapshotError(.malformed, "\(h.remaining) unexpected bytes at the end of a \(major).0 header")
        }
        // 2.1 appends the feed format; 2.0 and 1.x files hold iCalendar records.
        var feedFormat = SnapshotHeader.defaultFeedFormat
        if major >= 2 && minor >= formatMinorWithFeedFormat {
            guard let f = try string("format", optional: false), !f.isEmpty else { throw h.fail("empty format") }
            feedFormat = f
        }
        // Later minors may append more fields; they are skipped.

        let available = UInt64(count - headerEnd - trailerSize)
        if compressedSize != available {
            throw SnapshotError(compressedSize > available ? .truncated : .malformed,
                                "header declares \(compressedSize) compressed payload bytes, file holds \(available)")
        }
        if rawSize > maxRawPayload {
            throw SnapshotError(.malformed, "declared payload of \(rawSize) bytes exceeds the 1 GiB limit")
        }
        if recordCount > rawSize / UInt64(minimumRecordSize(major: major)) {
            throw SnapshotError(.malformed, "\(recordCount) records cannot fit in \(rawSize) payload bytes")
        }
        if compressedSize == 0 {
            throw SnapshotError(.malformed, "missing zlib stream")
        }

        var header = SnapshotHeader(feedID: feedID, generation: generation, createdAt: createdAt,
                                    parserVersion: parserVersion,
                                    bodyFingerprint: Fingerprint128(high: fpHigh, low: fpLow),
                                    etag: etag, lastModified: lastModified, feedFormat: feedFormat)
        header.formatMajor = major
        header.formatMinor = minor
        header.flags = flags
        header.recordCount = recordCount
        header.rawPayloadBytes = rawSize
        header.compressedPayloadBytes = compressedSize
        return header
    }

    /// A 2.x payload: flags, body, key, start delta, duration (see `TimeFields`). The hash is
    /// recomputed from the body, so it always matches it.
    static func decodePayload(_ buf: UnsafeRawBufferPointer, count: UInt64, minor: UInt16) throws(SnapshotError) -> [SnapshotRecord] {
        var records = [SnapshotRecord]()
        records.reserveCapacity(Int(count))  // bounded by rawSize / minimumRecordSizeV2 in decodeHeader
        var r = ByteReader(buf, context: "payload")
        var previousKey: UnsafeRawBufferPointer? = nil
        var previousStart: Int64 = 0
        let reservedFlags: UInt8 = ~(recordFlagAllDay | recordFlagNeverEnds | recordFlagUnitMask)
        for index in 0..<count {
            let flags = try r.u8("record \(index) flags")
            if flags & reservedFlags != 0 && minor == 0 {
                throw r.fail("record \(index) has reserved flag bits set (\(flags))")
            }
            // Unit 3 is invalid in every 2.x: a reader could not scale the times, so it cannot be ignored.
            let unitCode = (flags & recordFlagUnitMask) >> recordFlagUnitShift
            guard Int(unitCode) < timeUnits.count else { throw r.fail("record \(index) has an invalid time unit (3)") }
            let unit = timeUnits[Int(unitCode)]
            let bodyLength = try r.varintLength("record \(index) body")
            let bodyBytes = try r.bytes(bodyLength, "record \(index) body")
            let key = try readKey(&r, record: index, after: &previousKey)
            guard let delta = unzigzag(try r.varint("record \(index) start"), times: unit) else {
                throw r.fail("record \(index) start delta overflows 64 bits")
            }
            // Wrapping, as in the encoder: every Int64 start round-trips, whatever the previous one.
            let start = previousStart &+ delta
            var duration: Int64? = nil
            if flags & recordFlagNeverEnds == 0 {
                guard let d = unzigzag(try r.varint("record \(index) end"), times: unit) else {
                    throw r.fail("record \(index) duration overflows 64 bits")
                }
                if start &+ d == neverEnds { throw r.fail("record \(index) last end is the reserved Int64.max") }
                duration = d
            }
            // One encoding per value: the unit must be the largest that divides both.
            if canonicalUnitCode(delta: delta, duration: duration) != unitCode {
                throw r.fail("record \(index) time unit \(unit) s is not the largest that divides its times")
            }
            records.append(SnapshotRecord(key: key, hash: XXH3.hash64(bodyBytes), start: start,
                                          lastEnd: duration.map { start &+ $0 },
                                          allDay: flags & recordFlagAllDay != 0, body: [UInt8](bodyBytes)))
            previousStart = start
        }
        if r.remaining != 0 {
            throw r.fail("\(r.remaining) bytes after the last of \(count) records")
        }
        return records
    }

    /// Reads record `index`'s key (varint length, UTF-8 bytes), which must sort strictly after
    /// `previous` (bytewise); `previous` becomes this key. Both layouts store keys this way.
    static func readKey(_ r: inout ByteReader, record index: UInt64,
                        after previous: inout UnsafeRawBufferPointer?) throws(SnapshotError) -> String {
        let keyLength = try r.varintLength("record \(index) key")
        let keyBytes = try r.bytes(keyLength, "record \(index) key")
        if let previous, compareBytes(previous, keyBytes) >= 0 {
            throw SnapshotError(.recordOrder, "record \(index) key is not greater than the previous key")
        }
        previous = keyBytes
        guard let key = decodeUTF8(keyBytes) else { throw r.fail("record \(index) key is not valid UTF-8") }
        return key
    }

    /// A 1.x payload: key, stored hash, fixed-width times, flags, body. The stored hash is returned
    /// as it is (1.x readers were never required to verify it).
    static func decodePayloadV1(_ buf: UnsafeRawBufferPointer, count: UInt64, minor: UInt16) throws(SnapshotError) -> [SnapshotRecord] {
        var records = [SnapshotRecord]()
        records.reserveCapacity(Int(count))  // bounded by rawSize / minimumRecordSizeV1 in decodeHeader
        var r = ByteReader(buf, context: "payload")
        var previousKey: UnsafeRawBufferPointer? = nil
        let reservedFlags: UInt8 = ~recordFlagAllDay
        for index in 0..<count {
            let key = try readKey(&r, record: index, after: &previousKey)
            let hash = try r.u64("record \(index) hash")
            let start = try r.i64("record \(index) start")
            let lastEnd = try r.i64("record \(index) last end")
            let flags = try r.u8("record \(index) flags")
            if flags & reservedFlags != 0 && minor == 0 {
                throw r.fail("record \(index) has reserved flag bits set (\(flags))")
            }
            let bodyLength = try r.varintLength("record \(index) body")
            let body = [UInt8](try r.bytes(bodyLength, "record \(index) body"))
            records.append(SnapshotRecord(key: key, hash: hash, start: start,
                                          lastEnd: lastEnd == neverEnds ? nil : lastEnd,
                                          allDay: flags & recordFlagAllDay != 0, body: body))
        }
        if r.remaining != 0 {
            throw r.fail("\(r.remaining) bytes after the last of \(count) records")
        }
        return records
    }
}

/// memcmp-style lexicographic comparison of two byte strings.
@inline(__always)
func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let n = Swift.min(a.count, b.count)
    if n > 0 {
        let c = memcmp(a.baseAddress!, b.baseAddress!, n)
        if c != 0 { return Int(c) }
    }
    return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
}

/// The 2.x encoding of a record's times: the start as a delta from the previous record's start
/// (0 before the first record), the last end as a duration from the start (absent for a record
/// that never ends), both divided by the largest unit of `SnapshotCodec.timeUnits` that divides
/// both exactly, then zigzag-mapped so that small negative values stay short varints.
///
/// The subtractions wrap (modulo 2^64) and the decoder adds back with wrapping, so every pair of
/// Int64 round-trips, including extreme and decreasing values, without an overflow trap.
struct TimeFields: Equatable {
    /// The never-ends and unit bits of the record flags.
    var flags: UInt8
    /// zigzag((start - previous start) / unit).
    var start: UInt64
    /// zigzag((last end - start) / unit); nil when the record never ends.
    var end: UInt64?

    init(start: Int64, lastEnd: Int64?, previousStart: Int64) {
        let delta = start &- previousStart
        let duration = lastEnd.map { $0 &- start }
        let code = SnapshotCodec.canonicalUnitCode(delta: delta, duration: duration)
        let unit = SnapshotCodec.timeUnits[Int(code)]
        flags = code << SnapshotCodec.recordFlagUnitShift | (duration == nil ? SnapshotCodec.recordFlagNeverEnds : 0)
        self.start = zigzag(delta / unit)
        end = duration.map { zigzag($0 / unit) }
    }
}

extension SnapshotCodec {
    /// Index in `timeUnits` of the largest unit that divides `delta` and, when present, `duration`.
    @inline(__always)
    static func canonicalUnitCode(delta: Int64, duration: Int64?) -> UInt8 {
        var code = UInt8(timeUnits.count - 1)
        while code > 0 {
            let unit = timeUnits[Int(code)]
            if delta % unit == 0 && (duration.map { $0 % unit == 0 } ?? true) { break }
            code -= 1
        }
        return code
    }
}
