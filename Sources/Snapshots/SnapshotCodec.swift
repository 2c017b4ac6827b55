import FeedHash
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Encoder and decoder for snapshot files. The format is specified in `docs/snapshot-format.md`.
public enum SnapshotCodec {
    public static let formatMajor: UInt16 = 1
    public static let formatMinor: UInt16 = 0

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
    static let absentString: UInt32 = 0xFFFF_FFFF
    /// Largest accepted uncompressed payload (1 GiB).
    static let maxRawPayload: UInt64 = 1 << 30
    /// Largest accepted header (1 MiB); far above any real header, it only bounds damage.
    static let maxHeaderSize: UInt32 = 1 << 20
    /// Smallest possible record: key length 1, hash 8, start 8, last end 8, flags 1, body length 1.
    static let minimumRecordSize = 27
    static let recordFlagAllDay: UInt8 = 0x01
    static let neverEnds = Int64.max

    // MARK: - Encoding

    /// Sorts the records by key (throws `recordOrder` on a duplicate key), compresses, checksums.
    ///
    /// The header's version is written as the current format (1.0); its counts and sizes are
    /// computed here. `level` is the zlib level, 0...9 or -1 (zlib's default, 6).
    public static func encode(header: SnapshotHeader, records: [SnapshotRecord], level: Int32 = 6) throws(SnapshotError) -> [UInt8] {
        guard !header.feedID.isEmpty else { throw SnapshotError(.malformed, "empty feed id") }
        guard header.flags == 0 else {
            throw SnapshotError(.malformed, "file flags \(header.flags) set; format 1.0 defines none")
        }
        let raw = try encodePayload(records)
        return try assemble(header: header, recordCount: UInt64(records.count), raw: raw, level: level)
    }

    /// Builds a file from an already encoded payload (no record validation; tests use it to craft damage).
    static func assemble(header: SnapshotHeader, recordCount: UInt64, raw: [UInt8], level: Int32,
                         minor: UInt16 = formatMinor, extraHeaderBytes: [UInt8] = []) throws(SnapshotError) -> [UInt8] {
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
        out.appendBE(formatMajor)
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

    /// The uncompressed payload: records sorted by the UTF-8 bytes of their keys.
    static func encodePayload(_ records: [SnapshotRecord]) throws(SnapshotError) -> [UInt8] {
        // Sort indices by key bytes (String's own `<` is not byte order).
        let keys = records.map { Array($0.key.utf8) }
        let order = keys.indices.sorted { a, b in
            keys[a].withUnsafeBytes { x in keys[b].withUnsafeBytes { y in compareBytes(x, y) < 0 } }
        }
        var size = 0
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
            size += varintSize(UInt64(key.count)) + key.count + 25 + varintSize(UInt64(r.body.count)) + r.body.count
        }
        guard UInt64(size) <= maxRawPayload else {
            throw SnapshotError(.malformed, "payload of \(size) bytes exceeds the 1 GiB limit")
        }
        var raw = [UInt8]()
        raw.reserveCapacity(size)
        for i in order {
            let r = records[i]
            raw.appendVarint(UInt64(keys[i].count))
            raw.append(contentsOf: keys[i])
            raw.appendBE(r.hash)
            raw.appendBE(r.start)
            raw.appendBE(r.lastEnd ?? neverEnds)
            raw.append(r.allDay ? recordFlagAllDay : 0)
            raw.appendVarint(UInt64(r.body.count))
            raw.append(contentsOf: r.body)
        }
        return raw
    }

    // MARK: - Decoding

    /// Decodes and fully validates a snapshot: magic, version, checksum, header, decompression,
    /// sizes, record count and strict key order.
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
            try decodePayload(buf, count: header.recordCount, minor: header.formatMinor)
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
        guard major == formatMajor else {
            throw SnapshotError(.unsupportedVersion,
                                "format version \(major).\(minor) is not supported (this reader knows \(formatMajor).x)")
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
            throw SnapshotError(.malformed, "reserved file flags set (\(flags)) in a 1.0 file")
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
            throw SnapshotError(.malformed, "\(h.remaining) unexpected bytes at the end of a 1.0 header")
        }
        // Later minors may append fields; they are skipped.

        let available = UInt64(count - headerEnd - trailerSize)
        if compressedSize != available {
            throw SnapshotError(compressedSize > available ? .truncated : .malformed,
                                "header declares \(compressedSize) compressed payload bytes, file holds \(available)")
        }
        if rawSize > maxRawPayload {
            throw SnapshotError(.malformed, "declared payload of \(rawSize) bytes exceeds the 1 GiB limit")
        }
        if recordCount > rawSize / UInt64(minimumRecordSize) {
            throw SnapshotError(.malformed, "\(recordCount) records cannot fit in \(rawSize) payload bytes")
        }
        if compressedSize == 0 {
            throw SnapshotError(.malformed, "missing zlib stream")
        }

        var header = SnapshotHeader(feedID: feedID, generation: generation, createdAt: createdAt,
                                    parserVersion: parserVersion,
                                    bodyFingerprint: Fingerprint128(high: fpHigh, low: fpLow),
                                    etag: etag, lastModified: lastModified)
        header.formatMajor = major
        header.formatMinor = minor
        header.flags = flags
        header.recordCount = recordCount
        header.rawPayloadBytes = rawSize
        header.compressedPayloadBytes = compressedSize
        return header
    }

    static func decodePayload(_ buf: UnsafeRawBufferPointer, count: UInt64, minor: UInt16) throws(SnapshotError) -> [SnapshotRecord] {
        var records = [SnapshotRecord]()
        records.reserveCapacity(Int(count))  // bounded by rawSize / minimumRecordSize in decodeHeader
        var r = ByteReader(buf, context: "payload")
        var previousKey: UnsafeRawBufferPointer? = nil
        let reservedFlags: UInt8 = ~recordFlagAllDay
        for index in 0..<count {
            let keyLength = try r.varintLength("record \(index) key")
            let keyBytes = try r.bytes(keyLength, "record \(index) key")
            if let previousKey, compareBytes(previousKey, keyBytes) >= 0 {
                throw SnapshotError(.recordOrder, "record \(index) key is not greater than the previous key")
            }
            previousKey = keyBytes
            guard let key = decodeUTF8(keyBytes) else { throw r.fail("record \(index) key is not valid UTF-8") }
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
