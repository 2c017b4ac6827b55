import CXXHash

/// A 128-bit XXH3 digest, as used for body fingerprints.
///
/// Printed and stored as 32 lowercase hex digits, high half first (the same text `xxhsum -H2` prints).
public struct Fingerprint128: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses 32 hex digits (high half first); nil for anything else.
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 32,
              let h = UInt64(String(decoding: utf8[0..<16], as: UTF8.self), radix: 16),
              let l = UInt64(String(decoding: utf8[16..<32], as: UTF8.self), radix: 16)
        else { return nil }
        self.init(high: h, low: l)
    }

    public var description: String { hex64(high) + hex64(low) }
}

/// Formats a 64-bit value as 16 lowercase hex digits.
public func hex64(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}

/// One-shot and streaming XXH3 hashing over libxxhash.
public enum XXH3 {
    /// XXH3-64 of a byte buffer (seed 0).
    @inlinable
    public static func hash64(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        XXH3_64bits(bytes.baseAddress, bytes.count)
    }

    /// XXH3-64 of any contiguous byte collection.
    public static func hash64<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        if let h = bytes.withContiguousStorageIfAvailable({ XXH3_64bits($0.baseAddress, $0.count) }) {
            return h
        }
        return Array(bytes).withUnsafeBytes { XXH3_64bits($0.baseAddress, $0.count) }
    }

    /// XXH3-128 of a byte buffer (seed 0).
    public static func hash128(_ bytes: UnsafeRawBufferPointer) -> Fingerprint128 {
        let h = XXH3_128bits(bytes.baseAddress, bytes.count)
        return Fingerprint128(high: h.high64, low: h.low64)
    }
}

/// A streaming XXH3-128 state: feed slices with `update`, read the digest with `finish`.
///
/// Not copyable: it owns a libxxhash state.
public struct XXH3Stream128: ~Copyable {
    private let state: OpaquePointer

    public init() {
        guard let s = XXH3_createState() else { fatalError("XXH3_createState: out of memory") }
        state = s
        XXH3_128bits_reset(state)
    }

    deinit { XXH3_freeState(state) }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        XXH3_128bits_update(state, bytes.baseAddress, bytes.count)
    }

    public func finish() -> Fingerprint128 {
        let h = XXH3_128bits_digest(state)
        return Fingerprint128(high: h.high64, low: h.low64)
    }
}

/// A streaming XXH3-64 state.
public struct XXH3Stream64: ~Copyable {
    private let state: OpaquePointer

    public init() {
        guard let s = XXH3_createState() else { fatalError("XXH3_createState: out of memory") }
        state = s
        XXH3_64bits_reset(state)
    }

    deinit { XXH3_freeState(state) }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        XXH3_64bits_update(state, bytes.baseAddress, bytes.count)
    }

    public func finish() -> UInt64 { XXH3_64bits_digest(state) }
}
