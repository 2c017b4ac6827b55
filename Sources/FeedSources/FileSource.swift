import CSysShims
public import FeedModel
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads `file://` feeds (and plain absolute paths) with POSIX calls: one read into one buffer.
public struct FileSource: FeedSource {
    public init() {}

    public func fetch(_ url: String, validators: Validators, limits: FetchLimits, format: any FeedFormat) async throws(FetchError) -> Fetched {
        Fetched(try Self.read(path: Self.path(of: url), limit: limits.maxBodyBytes))
    }

    static func path(of url: String) -> String {
        guard url.hasPrefix("file://") else { return url }
        let rest = url.dropFirst("file://".count)
        let path = rest.hasPrefix("/") ? String(rest) : String(rest.drop { $0 != "/" })
        return path.removingPercentEncodingSimple()
    }

    public static func read(path: String, limit: Int) throws(FetchError) -> FetchResult {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            throw FetchError(e == ENOENT ? .notFound : .io, "cannot open \(path): \(String(cString: strerror(e)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw FetchError(.io, "cannot stat \(path): \(String(cString: strerror(errno)))")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw FetchError(.io, "\(path) is a folder, not a feed file")
        }
        let size = Int(st.st_size)
        if size > limit {
            throw FetchError(.tooLarge, "\(path) is \(size) bytes, more than the limit of \(limit)")
        }
        // Read straight into uninitialised storage: no zeroing of a buffer about to be overwritten.
        var failure: Int32? = nil
        let buffer = [UInt8](unsafeUninitializedCapacity: size) { raw, count in
            let n = size == 0 ? 0 : CSysShims_read_full(fd, raw.baseAddress, UInt(size))
            if n < 0 { failure = errno }
            count = max(0, n)
        }
        if let failure {
            throw FetchError(.io, "cannot read \(path): \(String(cString: strerror(failure)))")
        }
        return .body(buffer, .none)
    }
}

extension String {
    /// Decodes `%XX` escapes in a file URL's path.
    func removingPercentEncodingSimple() -> String {
        guard utf8.contains(UInt8(ascii: "%")) else { return self }   // (bytes: Foundation's `contains` searched as text)
        var out: [UInt8] = []
        var bytes = Array(utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "%"), bytes.count >= 2,
               let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) {
                out.append(v)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
