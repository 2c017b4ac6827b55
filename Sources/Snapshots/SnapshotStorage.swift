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
    /// Adds a new generation (an encoded snapshot); it is durable only after `makeDurable()`.
    func add(_ bytes: [UInt8], feedID: String, generation: UInt64) async throws(SnapshotError)
    /// Makes every earlier `add` durable.
    func makeDurable() async throws(SnapshotError)
    /// Deletes a generation the store no longer points at (a missing one is no error).
    func retire(feedID: String, generation: UInt64) async throws(SnapshotError)
    /// Deletes what an interrupted run can leave for these feeds: temporary files, and every
    /// generation but the one the store points at (`current[feed]`, nil: none). Returns what it removed.
    func removeLeftovers(current: [String: UInt64?]) async throws(SnapshotError) -> [StoredSnapshot]
    /// Every snapshot, sorted by feed id then generation.
    func list() async throws(SnapshotError) -> [StoredSnapshot]
}

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

    public func add(_ bytes: [UInt8], feedID: String, generation: UInt64) throws(SnapshotError) {
        // Made durable by one flush per batch, before the store points at it.
        _ = try write(bytes, feedID: feedID, generation: generation, durability: .deferred)
    }

    public func makeDurable() throws(SnapshotError) { try flush() }

    public func retire(feedID: String, generation: UInt64) throws(SnapshotError) {
        try unlinkIfPresent(path(feedID: feedID, generation: generation))
    }

    public func removeLeftovers(current: [String: UInt64?]) throws(SnapshotError) -> [StoredSnapshot] {
        try removeTemporaryFiles()
        var removed: [StoredSnapshot] = []
        var feedsToClean: [String: UInt64?] = [:]
        for file in try list() {
            guard let entry = current[file.feedID] else { continue }
            if file.generation != entry {
                removed.append(file)
                feedsToClean[file.feedID] = entry
            }
        }
        for (feedID, keep) in feedsToClean.sorted(by: { $0.key < $1.key }) {
            try remove(feedID: feedID, keepingGeneration: keep)
        }
        return removed
    }

    public func list() throws(SnapshotError) -> [StoredSnapshot] {
        try files().map { StoredSnapshot(feedID: $0.feedID, generation: $0.generation, path: $0.path) }
    }
}
