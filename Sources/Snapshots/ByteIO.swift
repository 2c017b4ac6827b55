// Low-level byte helpers for the snapshot codec: big-endian fixed widths and LEB128 varints.

extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendBE(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    @inline(__always)
    mutating func appendBE(_ value: UInt32) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    @inline(__always)
    mutating func appendBE(_ value: UInt64) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    @inline(__always)
    mutating func appendBE(_ value: Int64) {
        appendBE(UInt64(bitPattern: value))
    }

    /// Unsigned LEB128: 7 bits per byte, least significant group first, high bit = "more follows".
    @inline(__always)
    mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        append(UInt8(truncatingIfNeeded: v))
    }
}

/// Number of bytes `appendVarint` writes for `value`.
@inline(__always)
func varintSize(_ value: UInt64) -> Int {
    // 1 + floor(bitWidth-1 / 7), with 0 taking one byte.
    let bits = 64 - value.leadingZeroBitCount
    return bits == 0 ? 1 : (bits + 6) / 7
}

/// Zigzag mapping of a signed value to an unsigned one: 0, -1, 1, -2, 2… → 0, 1, 2, 3, 4…, so that
/// values near zero of either sign become short varints. A bijection on 64 bits (no overflow).
@inline(__always)
func zigzag(_ value: Int64) -> UInt64 {
    UInt64(bitPattern: value << 1) ^ UInt64(bitPattern: value >> 63)
}

/// Inverse of `zigzag`, multiplied by `unit`; nil when the product does not fit in an Int64 (no
/// encoder writes such a value: it can only be damage).
@inline(__always)
func unzigzag(_ value: UInt64, times unit: Int64) -> Int64? {
    let v = Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    let (product, overflow) = v.multipliedReportingOverflow(by: unit)
    return overflow ? nil : product
}

/// A bounds-checked cursor over a raw buffer. Every failure is `.malformed` with `context` in the message.
struct ByteReader {
    let buffer: UnsafeRawBufferPointer
    private(set) var offset: Int
    let end: Int
    let context: String

    init(_ buffer: UnsafeRawBufferPointer, from start: Int = 0, to end: Int? = nil, context: String) {
        self.buffer = buffer
        self.offset = start
        self.end = end ?? buffer.count
        self.context = context
    }

    var remaining: Int { end - offset }

    func fail(_ what: String) -> SnapshotError {
        SnapshotError(.malformed, "\(context): \(what) at offset \(offset)")
    }

    @inline(__always)
    mutating func need(_ n: Int, _ what: @autoclosure () -> String) throws(SnapshotError) {
        if n > end - offset { throw fail("\(what()) runs past the end (needs \(n) bytes, \(end - offset) left)") }
    }

    @inline(__always)
    mutating func u8(_ what: @autoclosure () -> String) throws(SnapshotError) -> UInt8 {
        try need(1, what())
        defer { offset += 1 }
        return buffer[offset]
    }

    @inline(__always)
    mutating func u16(_ what: @autoclosure () -> String) throws(SnapshotError) -> UInt16 {
        try need(2, what())
        defer { offset += 2 }
        return UInt16(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always)
    mutating func u32(_ what: @autoclosure () -> String) throws(SnapshotError) -> UInt32 {
        try need(4, what())
        defer { offset += 4 }
        return UInt32(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always)
    mutating func u64(_ what: @autoclosure () -> String) throws(SnapshotError) -> UInt64 {
        try need(8, what())
        defer { offset += 8 }
        return UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always)
    mutating func i64(_ what: @autoclosure () -> String) throws(SnapshotError) -> Int64 {
        Int64(bitPattern: try u64(what()))
    }

    /// Unsigned LEB128, at most 10 bytes, minimal encoding only (no redundant trailing 0x80/0x00 groups).
    @inline(__always)
    mutating func varint(_ what: @autoclosure () -> String) throws(SnapshotError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var index = 0
        while true {
            guard offset < end else { throw fail("\(what()): varint runs past the end") }
            let byte = buffer[offset]
            offset += 1
            if index == 9 && byte > 1 { throw fail("\(what()): varint overflows 64 bits") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                if byte == 0 && index > 0 { throw fail("\(what()): non-minimal varint") }
                return result
            }
            shift += 7
            index += 1
        }
    }

    /// A length (varint) that must fit in what is left of the buffer.
    @inline(__always)
    mutating func varintLength(_ what: @autoclosure () -> String) throws(SnapshotError) -> Int {
        let n = try varint(what())
        guard n <= UInt64(end - offset) else {
            throw fail("\(what()) length \(n) runs past the end (\(end - offset) bytes left)")
        }
        return Int(n)
    }

    @inline(__always)
    mutating func bytes(_ count: Int, _ what: @autoclosure () -> String) throws(SnapshotError) -> UnsafeRawBufferPointer {
        try need(count, what())
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
    }

    mutating func skip(_ count: Int) throws(SnapshotError) {
        try need(count, "skipped bytes")
        offset += count
    }
}

/// Decodes UTF-8, refusing invalid sequences.
@inline(__always)
func decodeUTF8(_ bytes: UnsafeRawBufferPointer) -> String? {
    if bytes.isEmpty { return "" }
    let typed = bytes.assumingMemoryBound(to: UInt8.self)
    return String(validating: typed, as: UTF8.self)
}

/// `Array.withUnsafeBytes` with a typed-throws body (the stdlib version is untyped `rethrows`).
@inline(__always)
func withBytes<R>(_ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(SnapshotError) -> R) throws(SnapshotError) -> R {
    let result: Result<R, SnapshotError> = array.withUnsafeBytes { buf in
        do throws(SnapshotError) { return .success(try body(buf)) } catch { return .failure(error) }
    }
    return try result.get()
}
