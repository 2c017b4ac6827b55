import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How a run keeps its feeds' report entries (`RunReport.feeds`).
public enum FeedReportKeeping: Sendable {
    /// In `RunReport.feeds`, in order (the library's default: tests, small runs).
    case inMemory
    /// Not kept: the report holds the counts, the parents of children and the HTTP totals — what
    /// the summary and the metrics file need, whatever the number of feeds.
    case none
    /// Written to a spool file as each feed is done; `ReportSpool.write` writes the report with
    /// them in `RunReport.feeds` order. Memory stays a few dozen bytes a feed (`--report` at
    /// 100,000 feeds).
    case spool(ReportSpool)
}

/// The feeds' report entries of a run, on disk while it runs: each entry's JSON appended to an
/// unlinked temp file as it comes, with its place in the report's order; at the end, the report
/// is written with the entries read back in that order. The file lives beside the report (the
/// same file system, so the report's atomic rename holds) and is never seen by name.
public final class ReportSpool: @unchecked Sendable {
    private struct Entry {
        var order: Int
        var child: String?
        var offset: Int
        var length: Int
    }
    private let fd: Int32
    private var entries: [Entry] = []
    private var size = 0
    private var buffer: [UInt8] = []
    private let encoder: JSONEncoder
    private let lock = NSLock()
    /// The first write error (the report is then not written: a partial one would mislead).
    private var failure: (any Error)?

    /// A spool in `folder` (created when missing).
    public init(folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var template = Array((folder + "/.feedsync-report-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: folder,
                                                          NSLocalizedDescriptionKey: "cannot create a temp file in \(folder): \(String(cString: strerror(errno)))"])
        }
        let name = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        unlink(name)
        self.fd = fd
        encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    }

    deinit { close(fd) }

    /// Adds a feed's entry: `order` is its configured feed's place (a child's parent's), `child`
    /// the child's id (children follow their parent, by id).
    func add(_ report: FeedReport, order: Int, child: String?) {
        lock.lock()
        defer { lock.unlock() }
        guard failure == nil else { return }
        do {
            let data = try encoder.encode(report)
            entries.append(Entry(order: order, child: child, offset: size + buffer.count, length: data.count))
            buffer.append(contentsOf: data)
            if buffer.count >= 1 << 16 { try flushBuffer() }
        } catch {
            failure = error
        }
    }

    private func flushBuffer() throws {
        try Self.writeAll(fd, buffer, what: "the report's temp file")
        size += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes every byte at the descriptor's offset (the spool is only appended to), retrying
    /// short writes and EINTR.
    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], what: String) throws {
        var done = 0
        try bytes.withUnsafeBytes { raw in
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n > 0 { done += n } else if n < 0 && errno == EINTR { continue } else {
                    throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot write \(what): \(String(cString: strerror(errno)))"])
                }
            }
        }
    }

    /// Entries added so far.
    public var count: Int { lock.withLock { entries.count } }

    /// Writes `report` (whose `feeds` are empty) with the spooled entries in their order, to
    /// `path` atomically (temp file + rename), or to stdout when `path` is `-`.
    public func write(_ report: RunReport, to path: String) throws {
        try lock.withLock {
            if let failure { throw failure }
            try flushBuffer()
            var head = try ReportWriter.encode(report)
            // Pretty-printed with sorted keys: the feeds go where the empty list is.
            let marker = Array("\"feeds\" : [".utf8)
            guard let at = head.firstRange(of: marker), let closing = head[at.upperBound...].firstIndex(of: UInt8(ascii: "]")) else {
                throw CocoaError(.coderInvalidValue, userInfo: [NSLocalizedDescriptionKey: "the report has no feeds list"])
            }
            let tail = Data(head[closing...])
            head.removeSubrange(at.upperBound...)
            let out: Int32
            var tmp = ""
            if path == "-" {
                out = STDOUT_FILENO
            } else {
                let url = URL(fileURLWithPath: path)
                let folder = url.deletingLastPathComponent().path
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                var template = Array((folder + "/." + url.lastPathComponent + ".XXXXXX").utf8CString)
                out = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
                guard out >= 0 else {
                    throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot create a temp file beside \(path): \(String(cString: strerror(errno)))"])
                }
                tmp = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                fchmod(out, 0o644)
            }
            var ok = false
            defer {
                if path != "-" {
                    close(out)
                    if !ok { unlink(tmp) }
                }
            }
            var pending: [UInt8] = []
            pending.reserveCapacity(1 << 17)
            func emit(_ bytes: some Collection<UInt8>) throws {
                pending.append(contentsOf: bytes)
                if pending.count >= 1 << 16 { try drain() }
            }
            func drain() throws {
                try Self.writeAll(out, pending, what: "the report")
                pending.removeAll(keepingCapacity: true)
            }
            try emit(head)
            // Stable: entries of the same place keep the order they came in.
            let order = entries.indices.sorted { a, b in
                let x = (entries[a].order, entries[a].child), y = (entries[b].order, entries[b].child)
                return ReportOrder.precedes(x, y) || (!ReportOrder.precedes(y, x) && a < b)
            }
            var entry: [UInt8] = []
            for (n, i) in order.enumerated() {
                let e = entries[i]
                entry = [UInt8](repeating: 0, count: e.length)
                let got = entry.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, e.length, off_t(e.offset)) }
                guard got == e.length else {
                    throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot read the report's temp file back"])
                }
                // Each entry was encoded at the top level: indent it to the list's depth.
                try emit(n == 0 ? Array("\n    ".utf8) : Array(",\n    ".utf8))
                var start = 0
                for (j, b) in entry.enumerated() where b == 0x0A {
                    try emit(entry[start...j])
                    if j + 1 < entry.count, entry[j + 1] != 0x0A { try emit(Array("    ".utf8)) }
                    start = j + 1
                }
                try emit(entry[start...])
            }
            if !order.isEmpty { try emit(Array("\n  ".utf8)) }
            try emit(tail)
            try emit([0x0A])
            try drain()
            if path != "-" {
                guard fsync(out) == 0 || errno == EINVAL else {
                    throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot write the report: \(String(cString: strerror(errno)))"])
                }
                guard rename(tmp, path) == 0 else {
                    throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot rename the report into place: \(String(cString: strerror(errno)))"])
                }
                ok = true
            }
        }
    }
}
