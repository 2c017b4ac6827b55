import CSysShims
import FeedHash
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The folder holding the snapshot files, one `<feedID>.<generation>.fsnap` per feed generation.
///
/// Writes are atomic (temp file, fsync, rename, fsync folder). Callers must not run two writers
/// for the same feed at once, and should call `removeTemporaryFiles()` only when no writer runs.
public struct SnapshotDirectory: Sendable {
    public let path: String

    static let fileExtension = ".fsnap"
    static let tempPrefix = ".tmp-"
    static let tempRandomLength = 16

    public init(path: String) {
        self.path = path
    }

    /// `"<feedID>.<generation>.fsnap"`, generation in decimal without leading zeros. A feed id with
    /// bytes outside `[A-Za-z0-9._-]` (a child feed's `race/participants/101`) is written with each
    /// such byte as `~HH` (upper-case hex): `race~2Fparticipants~2F101`, one name per id.
    public static func fileName(feedID: String, generation: UInt64) -> String {
        "\(escaped(feedID)).\(generation)\(fileExtension)"
    }

    /// The feed id as it stands in file names (see `fileName`).
    public static func escaped(_ feedID: String) -> String {
        if feedID.utf8.allSatisfy(isFeedIDByte) { return feedID }
        var out = ""
        for b in feedID.utf8 {
            if isFeedIDByte(b) {
                out.unicodeScalars.append(UnicodeScalar(b))
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                out += "~" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
            }
        }
        return out
    }

    /// The feed id of an escaped name; nil unless it is the one name `escaped` gives.
    static func unescaped(_ stem: some Collection<UInt8>) -> String? {
        var bytes: [UInt8] = []
        var i = stem.startIndex
        func hexValue(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x41...0x46: c - 0x41 + 10
            default: nil
            }
        }
        while i < stem.endIndex {
            let c = stem[i]
            if c == UInt8(ascii: "~") {
                let h = stem.index(after: i)
                guard h < stem.endIndex, stem.index(after: h) < stem.endIndex,
                      let hi = hexValue(stem[h]), let lo = hexValue(stem[stem.index(after: h)]) else { return nil }
                let b = hi << 4 | lo
                guard !isFeedIDByte(b) else { return nil }   // canonical: plain bytes are never escaped
                bytes.append(b)
                i = stem.index(h, offsetBy: 2)
            } else {
                guard isFeedIDByte(c) else { return nil }
                bytes.append(c)
                i = stem.index(after: i)
            }
        }
        guard !bytes.isEmpty else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    /// True for an id a snapshot may be stored under: non-empty UTF-8 without NUL whose file name
    /// stays within file-system limits (a configured id, or a child feed's `PARENT/NAME/KEY`).
    public static func isStorableFeedID(_ feedID: String) -> Bool {
        !feedID.isEmpty && !feedID.utf8.contains(0) && escaped(feedID).utf8.count <= 200
    }

    public func path(feedID: String, generation: UInt64) -> String {
        join(Self.fileName(feedID: feedID, generation: generation))
    }

    /// True for a non-empty id made only of `[A-Za-z0-9._-]`.
    public static func isValidFeedID(_ feedID: String) -> Bool {
        !feedID.isEmpty && feedID.utf8.allSatisfy(isFeedIDByte)
    }

    static func isFeedIDByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
            || c == 0x2E || c == 0x5F || c == 0x2D
    }

    /// Parses `<feedID>.<generation>.fsnap`; nil for any other name.
    public static func parseFileName(_ name: String) -> (feedID: String, generation: UInt64)? {
        guard name.hasSuffix(fileExtension), !name.hasPrefix(tempPrefix) else { return nil }
        let stem = name.utf8.dropLast(fileExtension.utf8.count)
        guard let dot = stem.lastIndex(of: 0x2E) else { return nil }
        let digits = stem[stem.index(after: dot)...]
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              digits.count == 1 || digits.first != 0x30,   // canonical decimal only
              let generation = UInt64(String(decoding: digits, as: UTF8.self)),
              let id = unescaped(stem[..<dot]) else { return nil }
        return (id, generation)
    }

    /// Parses `.tmp-<feedID>-<16 lowercase hex>`; returns the feed id, nil for any other name.
    package static func parseTempName(_ name: String) -> String? {
        guard name.hasPrefix(tempPrefix) else { return nil }
        let rest = name.utf8.dropFirst(tempPrefix.utf8.count)
        guard let dash = rest.lastIndex(of: 0x2D) else { return nil }
        let random = rest[rest.index(after: dash)...]
        guard random.count == tempRandomLength,
              random.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        return unescaped(rest[..<dash])
    }

    // MARK: - Writing

    /// Writes `bytes` atomically as this feed's snapshot for `generation` and returns its path:
    /// temp file `.tmp-<feedID>-<random>` in the same folder, write, fsync, rename into place,
    /// fsync the folder. Creates the folder if missing. An existing file of that generation is replaced.
    ///
    /// With `durability: .deferred` the file is neither fsynced nor is the folder: the caller
    /// writes many snapshots and then calls `flush()` once, before anything relies on them (the
    /// sync engine does so before the store transaction that points at them). A crash before
    /// `flush()` can leave a renamed but incomplete file; it belongs to no committed generation,
    /// so readers never trust it and the next run deletes it.
    @discardableResult
    public func write(_ bytes: [UInt8], feedID: String, generation: UInt64,
                      durability: Durability = .synced) throws(SnapshotError) -> String {
        guard Self.isStorableFeedID(feedID) else {
            throw SnapshotError(.malformed, "invalid feed id \"\(feedID.prefix(80))\" (empty, a NUL byte, or too long for a file name)")
        }
        try makeDirectory(path)
        let final = self.path(feedID: feedID, generation: generation)
        let temp = join("\(Self.tempPrefix)\(Self.escaped(feedID))-\(hex64(UInt64.random(in: .min ... .max)))")

        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.posixError("open", temp) }
        var ok = false
        defer {
            if !ok { unlink(temp) }
        }
        do throws(SnapshotError) {
            let failure = bytes.withUnsafeBytes { buf -> SnapshotError? in
                var offset = 0
                while offset < buf.count {
                    let n = systemWrite(fd, buf.baseAddress! + offset, buf.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        return Self.posixError("write", temp)
                    }
                    offset += n
                }
                return nil
            }
            if let failure { throw failure }
            if durability == .synced {
                guard fsync(fd) == 0 else { throw Self.posixError("fsync", temp) }
            }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw Self.posixError("close", temp) }
        guard rename(temp, final) == 0 else { throw Self.posixError("rename to \(final)", temp) }
        ok = true
        if durability == .synced { try syncDirectory() }
        return final
    }

    /// How `write` makes a snapshot durable.
    public enum Durability: Sendable {
        /// fsync the file before the rename and the folder after it.
        case synced
        /// Nothing yet: call `flush()` before relying on the file.
        case deferred
    }

    /// Makes every earlier `.deferred` write durable: one `syncfs(2)` of the file system that
    /// holds the folder (data, renames and all), instead of two fsyncs per file.
    public func flush() throws(SnapshotError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.posixError("open", path) }
        defer { close(fd) }
        guard CSysShims_syncfs(fd) == 0 else { throw Self.posixError("syncfs", path) }
    }

    // MARK: - Reading

    /// Reads and fully decodes a snapshot. With `check` (the default) the header's feed id and
    /// generation must match the name asked for, else `.feedMismatch`.
    public func read(feedID: String, generation: UInt64, expectedFeedID check: Bool = true) throws(SnapshotError) -> Snapshot {
        let file = path(feedID: feedID, generation: generation)
        let bytes = try Self.readFile(file)
        let snapshot: Snapshot
        do throws(SnapshotError) {
            snapshot = try SnapshotCodec.decode(bytes)
        } catch {
            throw error.with(path: file)
        }
        if check {
            try snapshot.header.checkIdentity(feedID: feedID, generation: generation, path: file)
        }
        return snapshot
    }

    /// Reads a whole file.
    public static func readFile(_ file: String) throws(SnapshotError) -> [UInt8] {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw posixError("open", file) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw posixError("fstat", file) }
        // One read into uninitialised storage of the file's size; a file that grew meanwhile is
        // read on in chunks (it will then fail its checksum, as it should).
        let size = Int(st.st_size)
        var failed = false
        var bytes = [UInt8](unsafeUninitializedCapacity: size) { raw, count in
            let n = size == 0 ? 0 : CSysShims_read_full(fd, raw.baseAddress, UInt(size))
            failed = n < 0
            count = max(0, n)
        }
        if failed { throw posixError("read", file) }
        if bytes.count == size {
            let readFailed: Bool = withUnsafeTemporaryAllocation(byteCount: 64 * 1024, alignment: 8) { chunk in
                while true {
                    let n = CSysShims_read_full(fd, chunk.baseAddress, UInt(chunk.count))
                    if n < 0 { return true }
                    bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
                    if n < chunk.count { return false }
                }
            }
            if readFailed { throw posixError("read", file) }
        }
        return bytes
    }

    // MARK: - Listing and cleanup

    /// Snapshot files in the folder, sorted by feed id then generation. Names that are not
    /// `<feedID>.<generation>.fsnap` (temp files, foreign files) are ignored. A missing folder lists nothing.
    public func files() throws(SnapshotError) -> [(feedID: String, generation: UInt64, path: String)] {
        var result: [(feedID: String, generation: UInt64, path: String)] = []
        for name in try entries() {
            if let (id, gen) = Self.parseFileName(name) { result.append((id, gen, join(name))) }
        }
        result.sort { ($0.feedID.utf8.lexicographicallyPrecedes($1.feedID.utf8))
            || ($0.feedID == $1.feedID && $0.generation < $1.generation) }
        return result
    }

    /// Deletes every leftover temp file (`.tmp-<feedID>-<random>`), e.g. after a crash.
    /// Call when no writer is running.
    public func removeTemporaryFiles() throws(SnapshotError) {
        let temps = try entries { Self.parseTempName($0) != nil }
        for name in temps { try unlinkIfPresent(join(name)) }
        if !temps.isEmpty { try syncDirectory() }
    }

    // MARK: - POSIX helpers

    package func join(_ name: String) -> String {
        path.hasSuffix("/") ? path + name : path + "/" + name
    }

    static func posixError(_ op: String, _ file: String, _ code: Int32 = errno) -> SnapshotError {
        SnapshotError(.io, "\(op) failed: \(String(cString: strerror(code))) (errno \(code))", path: file)
    }

    /// Names in the folder (without "." and ".."); empty when the folder does not exist. Only the
    /// names `keep` accepts are held (a folder of 100,000 snapshots is read, not listed).
    package func entries(where keep: (String) -> Bool = { _ in true }) throws(SnapshotError) -> [String] {
        guard let dir = try openFolder() else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let name = try nextEntry(dir) { if keep(name) { names.append(name) } }
        return names
    }

    /// The folder open for reading, nil when it does not exist.
    package func openFolder() throws(SnapshotError) -> OpaquePointer? {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return nil }
            throw Self.posixError("opendir", path)
        }
        return dir
    }

    /// The next name in the folder (not "." or ".."), nil at the end.
    package func nextEntry(_ dir: OpaquePointer) throws(SnapshotError) -> String? {
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw Self.posixError("readdir", path) }
                return nil
            }
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
                    String(cString: $0)
                }
            }
            if name != "." && name != ".." { return name }
        }
    }

    func unlinkIfPresent(_ file: String) throws(SnapshotError) {
        if unlink(file) != 0 && errno != ENOENT { throw Self.posixError("unlink", file) }
    }

    func syncDirectory() throws(SnapshotError) {
        try Self.syncDirectory(path)
    }

    static func syncDirectory(_ dir: String) throws(SnapshotError) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw posixError("open directory", dir) }
        defer { close(fd) }
        if fsync(fd) != 0 && errno != EINVAL { throw posixError("fsync directory", dir) }
    }

    /// mkdir -p; fsyncs the parent of every folder it creates.
    func makeDirectory(_ dir: String) throws(SnapshotError) {
        var st = stat()
        if stat(dir, &st) == 0 {
            if st.st_mode & S_IFMT == S_IFDIR { return }
            throw SnapshotError(.io, "exists and is not a directory", path: dir)
        }
        let trimmed = dir.hasSuffix("/") && dir.count > 1 ? String(dir.dropLast()) : dir
        let parent: String
        if let slash = trimmed.lastIndex(of: "/") {
            parent = slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
        } else {
            parent = "."
        }
        if parent != trimmed { try makeDirectory(parent) }
        if mkdir(trimmed, 0o755) != 0 && errno != EEXIST { throw Self.posixError("mkdir", trimmed) }
        try Self.syncDirectory(parent)
    }
}

@inline(__always)
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, buffer, count)
    #else
    Darwin.write(fd, buffer, count)
    #endif
}

