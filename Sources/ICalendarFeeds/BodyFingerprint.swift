public import FeedHash

/// Computes the body fingerprint of a feed: XXH3-128 over the body with volatile content lines
/// (and their folded continuation lines) left out.
///
/// The scan is a single pass over the bytes as they are; it copies nothing. Runs of bytes between
/// volatile lines are fed to one streaming XXH3-128 state, so a body without volatile lines costs
/// one `update` call. A line is volatile when its property name (the bytes before the first `:` or
/// `;`, compared ASCII case-insensitively) is one of `volatileNames`. A continuation line (one that
/// starts with a space or a tab) belongs to the line before it.
public struct BodyFingerprinter: Sendable {
    /// Upper-cased property names, as bytes.
    private let names: [[UInt8]]

    public init(volatileProperties: [String]) {
        names = volatileProperties.map { Array($0.uppercased().utf8) }.filter { !$0.isEmpty }
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
        var lineStart = 0
        var skipping = false      // inside a volatile line and its continuations
        while lineStart < count {
            // find the end of this physical line (index just past its "\n", or count)
            var lineEnd: Int
            if let nl = memchrIndex(bytes, from: lineStart, count: count) {
                lineEnd = nl + 1
            } else {
                lineEnd = count
            }
            let first = bytes[lineStart]
            let isContinuation = first == 0x20 || first == 0x09
            if skipping && isContinuation {
                // still inside the volatile property: keep skipping
            } else if !isContinuation && isVolatile(bytes + lineStart, lineEnd - lineStart) {
                if !skipping {
                    stream.update(UnsafeRawBufferPointer(start: bytes + runStart, count: lineStart - runStart))
                    skipping = true
                }
            } else if skipping {
                skipping = false
                runStart = lineStart
            }
            lineStart = lineEnd
        }
        if !skipping {
            stream.update(UnsafeRawBufferPointer(start: bytes + runStart, count: count - runStart))
        }
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
