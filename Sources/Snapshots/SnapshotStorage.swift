#if canImport(Glibc)
import Glibc
#endif
/// Where snapshots live: a folder (`SnapshotDirectory`) or a database table (the PostgreSQL
/// store's `snapshots`, in module Stores), async so that a network database fits. It owns
/// naming, generations, soundness checks and the deletion of old generations, so the engine only
/// asks for a feed's generation, writes the next one, and retires the previous one.
///
/// The commit protocol the engine follows (docs/snapshot-format.md, *Commit protocol*):
/// `add` the new generations of a batch, `makeDurable()`, commit the store transaction that
/// points the feeds at them, then `retire` the old generations. At the start of a run, with no
/// writer active, `removeLeftovers` deletes what an interrupted run left.
public protocol SnapshotStorage: Sendable {
    /// Where the snapshots are, for messages (`snapshot folder /srv/feedsync/snapshots`).
    var location: String { get }
    /// Reads and fully decodes a feed's generation; a snapshot that does not hold that feed and
    /// generation is `.feedMismatch`.
    func read(feedID: String, generation: UInt64) async throws(SnapshotError) -> Snapshot
    /// True when the generation exists, its checksum and header are sound and it holds that feed
    /// and generation. Cheaper than `read`: the payload is not inflated.
    func isSound(feedID: String, generation: UInt64) async -> Bool
    /// The nightly check of an unchanged feed's snapshot on the nights it is not checked in full
    /// (`SyncDecision.checksSnapshotInFull`): the generation exists and is not shorter than the
    /// smallest snapshot. Damage inside it is found by `isSound` on the feed's night of the
    /// rotation, or as soon as the feed changes (its snapshot is then read in full).
    func isPresent(feedID: String, generation: UInt64) async -> Bool
    /// Adds a new generation (an encoded snapshot); it is durable only after `makeDurable()`.
    func add(_ bytes: [UInt8], feedID: String, generation: UInt64) async throws(SnapshotError)
    /// Makes every earlier `add` durable.
    func makeDurable() async throws(SnapshotError)
    /// Deletes a generation the store no longer points at (a missing one is no error).
    func retire(feedID: String, generation: UInt64) async throws(SnapshotError)
    /// Deletes what an interrupted run can leave for these feeds: temporary files, and every
    /// generation but the one the store points at (`current[feed]`, nil: none). Returns what it removed.
    func removeLeftovers(current: [String: UInt64?]) async throws(SnapshotError) -> [StoredSnapshot]
    /// The same for a night of any size: the snapshots are looked at a batch of feeds at a time,
    /// and `currentOf` answers for the feeds of each batch (a feed it leaves out is not touched).
    func removeLeftovers(currentOf: @Sendable ([String]) async throws -> [String: UInt64?]) async throws(SnapshotError) -> [StoredSnapshot]
    /// Every snapshot, sorted by feed id then generation.
    func list() async throws(SnapshotError) -> [StoredSnapshot]
    /// The mark the last writer left when it ended with nothing to clean (`putCleanMark`), taken
    /// away for good (durably) before this writer adds anything; nil when there is none. A writer
    /// that then stops half-way leaves no mark, so the next one cleans.
    func takeCleanMark() async -> CleanMark?
    /// Says that every generation but the current ones has been deleted, as of the run `mark`
    /// names. Best effort: a mark that is lost only costs the next run its check.
    func putCleanMark(_ mark: CleanMark) async
}

/// What a writer leaves when it ends with nothing to clean: the store it wrote for and its run.
public struct CleanMark: Sendable, Equatable {
    public var storeID: String
    public var runID: Int64

    public init(storeID: String, runID: Int64) {
        self.storeID = storeID
        self.runID = runID
    }

    /// `storeID`, a newline, the run id, a newline.
    public var text: String { "\(storeID)\n\(runID)\n" }

    public init?(text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 3, lines[2].isEmpty, !lines[0].isEmpty, let run = Int64(lines[1]) else { return nil }
        self.init(storeID: String(lines[0]), runID: run)
    }
}

extension SnapshotStorage {
    /// A storage where the full check is as cheap as any other: `isSound`.
    public func isPresent(feedID: String, generation: UInt64) async -> Bool {
        await isSound(feedID: feedID, generation: generation)
    }

    /// A storage without a mark: every run checks for leftovers (a table written in the store's
    /// own transactions has none to speak of, and checking it costs one query).
    public func takeCleanMark() async -> CleanMark? { nil }
    public func putCleanMark(_ mark: CleanMark) async {}

    public func removeLeftovers(currentOf: @Sendable ([String]) async throws -> [String: UInt64?]) async throws(SnapshotError) -> [StoredSnapshot] {
        var ids: [String] = []
        for s in try await list() where ids.last != s.feedID { ids.append(s.feedID) }
        var current: [String: UInt64?] = [:]
        var start = 0
        while start < ids.count {
            let chunk = Array(ids[start..<min(ids.count, start + leftoverBatch)])
            start += chunk.count
            do {
                current.merge(try await currentOf(chunk)) { a, _ in a }
            } catch {
                throw SnapshotError(.io, "cannot tell which snapshots are current: \(error)", path: location)
            }
        }
        return try await removeLeftovers(current: current)
    }
}

/// Feeds looked at together when leftovers are removed.
let leftoverBatch = 2_048

/// One stored snapshot: a feed's generation and where it is.
public struct StoredSnapshot: Sendable, Equatable {
    public var feedID: String
    public var generation: UInt64
    /// The file (or row) it is in, for messages.
    public var path: String

    public init(feedID: String, generation: UInt64, path: String) {
        self.feedID = feedID
        self.generation = generation
        self.path = path
    }
}

extension SnapshotHeader {
    /// Throws `.feedMismatch` unless this header holds `feedID` at `generation`: the one check that
    /// a snapshot is the one it was asked for (or that its name says, with `claim: "its name says"`).
    public func checkIdentity(feedID: String, generation: UInt64, claim: String = "expected",
                              path: String? = nil) throws(SnapshotError) {
        if self.feedID != feedID {
            throw SnapshotError(.feedMismatch, "file holds feed \"\(self.feedID)\", \(claim) \"\(feedID)\"", path: path)
        }
        if self.generation != generation {
            throw SnapshotError(.feedMismatch, "file holds generation \(self.generation), \(claim) \(generation)", path: path)
        }
    }
}

extension SnapshotCodec {
    /// Decodes a stored snapshot in full and checks that it holds `feedID` at `generation`, as
    /// every storage's `read` does; errors carry `path`, the name shown for it.
    public static func decode(_ bytes: [UInt8], feedID: String, generation: UInt64,
                              path: String) throws(SnapshotError) -> Snapshot {
        let snapshot: Snapshot
        do throws(SnapshotError) {
            snapshot = try decode(bytes)
        } catch {
            throw error.with(path: path)
        }
        try snapshot.header.checkIdentity(feedID: feedID, generation: generation, path: path)
        return snapshot
    }

    /// True when the checksum and header of `bytes` are sound and name `feedID` at `generation`
    /// (the payload is not inflated), as every storage's `isSound` asks.
    public static func isSound(_ bytes: [UInt8], feedID: String, generation: UInt64) -> Bool {
        guard let header = try? decodeHeader(bytes) else { return false }
        return (try? header.checkIdentity(feedID: feedID, generation: generation)) != nil
    }
}

extension SnapshotDirectory: SnapshotStorage {
    public var location: String { "snapshot folder \(path)" }

    public func read(feedID: String, generation: UInt64) throws(SnapshotError) -> Snapshot {
        try read(feedID: feedID, generation: generation, expectedFeedID: true)
    }

    public func isSound(feedID: String, generation: UInt64) -> Bool {
        guard let bytes = try? Self.readFile(path(feedID: feedID, generation: generation)) else { return false }
        return SnapshotCodec.isSound(bytes, feedID: feedID, generation: generation)
    }

    /// One `stat`: a regular file at least as long as the smallest snapshot.
    public func isPresent(feedID: String, generation: UInt64) -> Bool {
        var st = stat()
        guard stat(path(feedID: feedID, generation: generation), &st) == 0 else { return false }
        return (st.st_mode & S_IFMT) == S_IFREG && Int(st.st_size) >= SnapshotCodec.minimumFileSize
    }

    public func add(_ bytes: [UInt8], feedID: String, generation: UInt64) throws(SnapshotError) {
        // Made durable by one flush per batch, before the store points at it.
        _ = try write(bytes, feedID: feedID, generation: generation, durability: .deferred)
    }

    public func makeDurable() throws(SnapshotError) { try flush() }

    public func retire(feedID: String, generation: UInt64) throws(SnapshotError) {
        try unlinkIfPresent(path(feedID: feedID, generation: generation))
    }

    /// One pass over the folder, a batch of files at a time (a folder of 100,000 snapshots is never
    /// listed whole): each batch's feeds are asked for, the generations not current are deleted.
    public func removeLeftovers(currentOf: @Sendable ([String]) async throws -> [String: UInt64?]) async throws(SnapshotError) -> [StoredSnapshot] {
        try removeTemporaryFiles()
        var removed: [StoredSnapshot] = []
        var batch: [(feedID: String, generation: UInt64, name: String)] = []
        var doomed: [String] = []
        func decide() async throws(SnapshotError) {
            guard !batch.isEmpty else { return }
            var ids: [String] = []
            var seen = Set<String>()
            for f in batch where seen.insert(f.feedID).inserted { ids.append(f.feedID) }
            let current: [String: UInt64?]
            do {
                current = try await currentOf(ids)
            } catch {
                throw SnapshotError(.io, "cannot tell which snapshots are current: \(error)", path: path)
            }
            for f in batch {
                guard let entry = current[f.feedID], f.generation != entry else { continue }
                removed.append(StoredSnapshot(feedID: f.feedID, generation: f.generation, path: join(f.name)))
                doomed.append(f.name)
            }
            batch.removeAll(keepingCapacity: true)
        }
        let dir = try openFolder()
        guard let dir else { return [] }
        defer { closedir(dir) }
        while let name = try nextEntry(dir) {
            guard let (id, gen) = Self.parseFileName(name) else { continue }
            batch.append((id, gen, name))
            if batch.count >= leftoverBatch { try await decide() }
        }
        try await decide()
        // Deleted after the pass (not while the folder is being read).
        for name in doomed { try unlinkIfPresent(join(name)) }
        if !doomed.isEmpty { try syncDirectory() }
        removed.sort { ($0.feedID.utf8.lexicographicallyPrecedes($1.feedID.utf8)) || ($0.feedID == $1.feedID && $0.generation < $1.generation) }
        return removed
    }

    /// The same pass, with every current generation given.
    public func removeLeftovers(current: [String: UInt64?]) async throws(SnapshotError) -> [StoredSnapshot] {
        try await removeLeftovers(currentOf: { ids in
            var out: [String: UInt64?] = [:]
            for id in ids { if let entry = current[id] { out[id] = entry } }
            return out
        })
    }

    public func list() throws(SnapshotError) -> [StoredSnapshot] {
        try files().map { StoredSnapshot(feedID: $0.feedID, generation: $0.generation, path: $0.path) }
    }

    /// `.feedsync-clean` in the folder. Read, then unlinked and the folder synced, so that no
    /// crash of this run can leave the mark standing over files this run adds.
    public func takeCleanMark() -> CleanMark? {
        let file = join(Self.cleanMarkName)
        guard let bytes = try? Self.readFile(file) else { return nil }
        guard (try? unlinkIfPresent(file)) != nil, (try? syncDirectory()) != nil else { return nil }
        return CleanMark(text: String(decoding: bytes, as: UTF8.self))
    }

    public func putCleanMark(_ mark: CleanMark) {
        let file = join(Self.cleanMarkName)
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(mark.text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if written != bytes.count { _ = unlink(file) }
    }
}

extension SnapshotDirectory {
    /// The clean mark's file name (not a snapshot's: it starts with a dot).
    public static let cleanMarkName = ".feedsync-clean"
}
