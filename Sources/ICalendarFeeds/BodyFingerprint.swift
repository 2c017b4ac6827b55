public import FeedHash
import CLineScan

/// Computes the body fingerprint of a feed: XXH3-128 over the body with volatile content lines
/// (and their folded continuation lines) left out.
///
/// The scan is a single pass over the bytes as they are; it copies nothing, and stops only at the
/// lines whose first byte can begin a volatile name (found 16 bytes at a time by CLineScan, not by
/// a call per line: the per-line calls cost twice the hash itself). Runs of bytes between
/// volatile lines are fed to one streaming XXH3-128 state, so a body without volatile lines costs
/// one `update` call. A line is volatile when its property name (the bytes before the first `:` or
/// `;`, compared ASCII case-insensitively) is one of `volatileNames`. A continuation line (one that
/// starts with a space or a tab) belongs to the line before it.
public struct BodyFingerprinter: Sendable {
    /// Upper-cased property names, as bytes.
    private let names: [[UInt8]]
    /// The first bytes a volatile line can start with (both cases): the scan stops only at lines
    /// that start with one of them.
    private let firstBytes: [UInt8]

    public init(volatileProperties: [String]) {
        names = volatileProperties.map { Array($0.uppercased().utf8) }.filter { !$0.isEmpty }
        var table = [UInt8](repeating: 0, count: 256)
        for name in names {
            let c = name[0]
            table[Int(c)] = 1
            if c >= 0x41 && c <= 0x5A { table[Int(c + 0x20)] = 1 }
        }
        firstBytes = table
    }

    public func fingerprint(_ body: UnsafeRawBufferPointer) -> Fingerprint128 {
        var stream = XXH3Stream128()
        guard let base = body.baseAddress, body.count > 0 else { return stream.finish() }
        if names.isEmpty {
            stream.update(body)
            return stream.finish()
        }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        let count = body.count
        var runStart = 0          // start of the run of bytes still to hash
        var from = 0              // a line start: where the search for a candidate goes on
        firstBytes.withUnsafeBufferPointer { wanted in
            while true {
                // The next line that starts like a volatile name (found in C, 16 bytes at a time).
                let lineStart = CLineScan_next_line_start(bytes, count, from, wanted.baseAddress!)
                guard lineStart < count else { break }
                let lineEnd = memchrIndex(bytes, from: lineStart, count: count).map { $0 + 1 } ?? count
                guard isVolatile(bytes + lineStart, lineEnd - lineStart) else {
                    from = lineEnd
                    continue
                }
                // Leave out the volatile line and its continuation lines (a space or a tab first).
                stream.update(UnsafeRawBufferPointer(start: bytes + runStart, count: lineStart - runStart))
                var next = lineEnd
                while next < count, bytes[next] == 0x20 || bytes[next] == 0x09 {
                    next = memchrIndex(bytes, from: next, count: count).map { $0 + 1 } ?? count
                }
                runStart = next
                from = next
            }
        }
        stream.update(UnsafeRawBufferPointer(start: bytes + runStart, count: count - runStart))
        return stream.finish()
    }

    public func fingerprint(_ body: [UInt8]) -> Fingerprint128 {
        body.withUnsafeBytes { fingerprint($0) }
    }

    @inline(__always)
    private func isVolatile(_ line: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        for name in names where length > name.count {
            let after = line[name.count]
            guard after == UInt8(ascii: ":") || after == UInt8(ascii: ";") else { continue }
            var equal = true
            for i in 0..<name.count {
                var c = line[i]
                if c >= 0x61 && c <= 0x7A { c -= 0x20 }
                if c != name[i] { equal = false; break }
            }
            if equal { return true }
        }
        return false
    }
}

@inline(__always)
private func memchrIndex(_ bytes: UnsafePointer<UInt8>, from: Int, count: Int) -> Int? {
    guard let p = memchr(bytes + from, 0x0A, count - from) else { return nil }
    return bytes.distance(to: p.assumingMemoryBound(to: UInt8.self))
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
