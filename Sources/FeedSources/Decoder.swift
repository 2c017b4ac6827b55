import CZlib

/// Streaming `Content-Encoding` decoder (gzip, deflate) with a cap on the decoded size: a gzip
/// bomb stops at `limit + 1` decoded bytes instead of exhausting memory.
final class BodyDecoder {
    enum Encoding: Equatable { case identity, gzip, deflate }

    struct Failure: Error { var message: String; var tooLarge: Bool }

    let encoding: Encoding
    let limit: Int
    private(set) var output: [UInt8] = []
    private var stream = z_stream()
    private var started = false
    private var finished = false
    /// `deflate` is meant to be zlib-wrapped, but some servers send raw deflate: decided on the first bytes.
    private var pending: [UInt8] = []

    init(contentEncoding: String?, limit: Int) throws(Failure) {
        self.limit = limit
        switch contentEncoding?.lowercased().trimmed(" \t") ?? "" {
        case "", "identity": encoding = .identity
        case "gzip", "x-gzip": encoding = .gzip
        case "deflate": encoding = .deflate
        case let other: throw Failure(message: "unsupported Content-Encoding `\(other)`", tooLarge: false)
        }
    }

    deinit {
        if started { inflateEnd(&stream) }
    }

    func feed(_ bytes: UnsafeRawBufferPointer) throws {
        if encoding == .identity {
            if output.count + bytes.count > limit { throw tooLarge() }
            output.append(contentsOf: bytes)
            return
        }
        if finished { return }  // trailing garbage after the stream end is ignored
        if !started {
            pending.append(contentsOf: bytes)
            if encoding == .deflate && pending.count < 2 { return }
            var window: Int32 = 15 + 32
            if encoding == .deflate {
                // zlib header: CMF/FLG with CM = 8 and a multiple-of-31 check.
                let cmf = pending[0], flg = pending[1]
                let zlibWrapped = cmf & 0x0F == 8 && (UInt16(cmf) << 8 | UInt16(flg)) % 31 == 0
                window = zlibWrapped ? 15 : -15
            }
            let rc = CZlib_inflateInit2(&stream, window)
            guard rc == Z_OK else { throw Failure(message: "cannot start decompression (zlib rc \(rc))", tooLarge: false) }
            started = true
            let first = pending
            pending = []
            try first.withUnsafeBytes { raw in try inflate(raw) }
            return
        }
        try inflate(bytes)
    }

    /// Call at the end of the body: a truncated compressed stream is an error.
    func finish() throws {
        if encoding == .identity { return }
        if !started && pending.isEmpty { return }  // empty body
        if !finished {
            throw Failure(message: "the \(encoding) body ended before the end of its compressed stream", tooLarge: false)
        }
    }

    private func tooLarge() -> Failure {
        Failure(message: "body over the limit of \(limit) bytes" + (encoding == .identity ? "" : " once decompressed"), tooLarge: true)
    }

    private func inflate(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
        stream.avail_in = uInt(bytes.count)
        defer { stream.next_in = nil; stream.avail_in = 0 }
        while true {
            var rc: Int32 = Z_OK
            var produced = 0
            chunk.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress!
                stream.avail_out = uInt(out.count)
                rc = CZlib.inflate(&stream, Z_NO_FLUSH)
                produced = out.count - Int(stream.avail_out)
                stream.next_out = nil
            }
            if output.count + produced > limit { throw tooLarge() }
            output.append(contentsOf: chunk[0..<produced])
            if rc == Z_STREAM_END { finished = true; return }
            if rc == Z_BUF_ERROR || (rc == Z_OK && stream.avail_in == 0 && produced < chunk.count) { return }
            if rc != Z_OK {
                let why = stream.msg.map { String(cString: $0) } ?? "zlib rc \(rc)"
                throw Failure(message: "cannot decompress the \(encoding) body: \(why)", tooLarge: false)
            }
        }
    }
}

extension String {
    func trimmed(_ set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s = s.dropFirst() }
        while let l = s.last, chars.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
