import CZlib

/// zlib (RFC 1950) compression of the snapshot payload.
enum Zlib {
    static func message(_ stream: z_stream, _ rc: Int32) -> String {
        if let msg = stream.msg { return "\(String(cString: msg)) (zlib rc \(rc))" }
        return "zlib rc \(rc)"
    }

    /// Deflates `input` into a zlib stream (header + deflate + Adler-32) at `level` (0...9, or -1 = zlib default).
    static func deflate(_ input: [UInt8], level: Int32) throws(SnapshotError) -> [UInt8] {
        guard (-1...9).contains(level) else {
            throw SnapshotError(.malformed, "invalid compression level \(level) (expected -1...9)")
        }
        var stream = z_stream()
        let initRC = CZlib_deflateInit(&stream, level)
        guard initRC == Z_OK else {
            throw SnapshotError(.decompressionFailed, "deflateInit failed: \(message(stream, initRC))")
        }
        defer { deflateEnd(&stream) }

        var capacity = Int(deflateBound(&stream, uLong(input.count)))
        var output = [UInt8](repeating: 0, count: capacity)
        var produced = 0
        var rc: Int32 = Z_OK
        input.withUnsafeBufferPointer { inBuf in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = uInt(inBuf.count)  // input is capped at 1 GiB by the caller
            while true {
                if produced == capacity {
                    capacity = Swift.max(capacity * 2, 64)
                    output.append(contentsOf: repeatElement(0, count: capacity - output.count))
                }
                output.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress! + produced
                    stream.avail_out = uInt(capacity - produced)
                    rc = CZlib.deflate(&stream, Z_FINISH)
                    produced = capacity - Int(stream.avail_out)
                }
                if rc == Z_STREAM_END || (rc != Z_OK && rc != Z_BUF_ERROR) { break }
            }
            stream.next_in = nil
        }
        guard rc == Z_STREAM_END else {
            throw SnapshotError(.decompressionFailed, "deflate failed: \(message(stream, rc))")
        }
        output.removeSubrange(produced...)
        return output
    }

    /// Inflates exactly one zlib stream that must fill `input` completely and decompress to exactly
    /// `expectedSize` bytes. Output grows geometrically but never beyond `expectedSize + 1` bytes.
    static func inflate(_ input: UnsafeRawBufferPointer, expectedSize: Int) throws(SnapshotError) -> [UInt8] {
        var stream = z_stream()
        let initRC = CZlib_inflateInit(&stream)
        guard initRC == Z_OK else {
            throw SnapshotError(.decompressionFailed, "inflateInit failed: \(message(stream, initRC))")
        }
        defer { inflateEnd(&stream) }

        let limit = expectedSize + 1  // one spare byte detects "more data than declared"
        var capacity = Swift.min(limit, Swift.max(64 * 1024, input.count * 4))
        var output = [UInt8](repeating: 0, count: capacity)
        var produced = 0
        var consumed = 0
        var rc: Int32 = Z_OK
        let inBase = input.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self)) }

        while true {
            if stream.avail_in == 0 && consumed < input.count, let inBase {
                let chunk = Swift.min(input.count - consumed, Int(UInt32.max))
                stream.next_in = inBase + consumed
                stream.avail_in = uInt(chunk)
                consumed += chunk
            }
            if produced == capacity {
                if capacity == limit {
                    throw SnapshotError(.decompressionFailed,
                                        "payload inflates to more than the declared \(expectedSize) bytes")
                }
                capacity = Swift.min(limit, capacity * 2)
                output.append(contentsOf: repeatElement(0, count: capacity - output.count))
            }
            let before = stream.total_in
            let beforeOut = produced
            output.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress! + produced
                stream.avail_out = uInt(capacity - produced)
                rc = CZlib.inflate(&stream, Z_NO_FLUSH)
                produced = capacity - Int(stream.avail_out)
            }
            stream.next_out = nil
            switch rc {
            case Z_STREAM_END:
                break
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: either the output is full (grow and retry) or the input ran out.
                if produced == capacity { continue }
                if stream.avail_in == 0 && consumed == input.count {
                    throw SnapshotError(.decompressionFailed, "compressed payload ends before the zlib stream does")
                }
                if stream.total_in == before && produced == beforeOut {
                    throw SnapshotError(.decompressionFailed, "inflate made no progress: \(message(stream, rc))")
                }
                continue
            default:
                throw SnapshotError(.decompressionFailed, "inflate failed: \(message(stream, rc))")
            }
            break
        }
        if stream.avail_in != 0 || consumed != input.count {
            throw SnapshotError(.decompressionFailed,
                                "\(Int(stream.avail_in) + input.count - consumed) bytes follow the end of the zlib stream")
        }
        guard produced == expectedSize else {
            throw SnapshotError(.decompressionFailed,
                                "payload inflates to \(produced) bytes, header declares \(expectedSize)")
        }
        output.removeSubrange(produced...)
        return output
    }
}
