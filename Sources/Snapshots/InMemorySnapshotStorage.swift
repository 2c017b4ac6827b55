import FeedHash
import Synchronization

/// Snapshots kept in memory, with the folder's semantics (it passes the same storage suite): the
/// twin the engine's unit tests run on. Nothing is durable; `makeDurable()` only counts the calls.
public final class InMemorySnapshotStorage: SnapshotStorage {
    private struct State {
        var files: [String: [UInt64: [UInt8]]] = [:]
        var durableCalls = 0
    }
    private let state = Mutex(State())

    public init() {}

    public var location: String { "in-memory snapshots" }

    private func name(_ feedID: String, _ generation: UInt64) -> String {
        SnapshotDirectory.fileName(feedID: feedID, generation: generation)
    }

    private func bytes(_ feedID: String, _ generation: UInt64) throws(SnapshotError) -> [UInt8] {
        guard let b = state.withLock({ $0.files[feedID]?[generation] }) else {
            throw SnapshotError(.io, "no such snapshot", path: name(feedID, generation))
        }
        return b
    }

    public func read(feedID: String, generation: UInt64) throws(SnapshotError) -> Snapshot {
        try SnapshotCodec.decode(try bytes(feedID, generation), feedID: feedID, generation: generation,
                                 path: name(feedID, generation))
    }

    public func isSound(feedID: String, generation: UInt64) -> Bool {
        guard let b = try? bytes(feedID, generation) else { return false }
        return SnapshotCodec.isSound(b, feedID: feedID, generation: generation)
    }

    public func add(_ bytes: [UInt8], feedID: String, generation: UInt64) throws(SnapshotError) {
        guard SnapshotDirectory.isStorableFeedID(feedID) else {
            throw SnapshotError(.malformed, "invalid feed id \"\(feedID.prefix(80))\" (empty, a NUL byte, or too long for a file name)")
        }
        state.withLock { $0.files[feedID, default: [:]][generation] = bytes }
    }

    public func makeDurable() throws(SnapshotError) {
        state.withLock { $0.durableCalls += 1 }
    }

    public func retire(feedID: String, generation: UInt64) throws(SnapshotError) {
        _ = state.withLock { $0.files[feedID]?.removeValue(forKey: generation) }
    }

    public func removeLeftovers(current: [String: UInt64?]) throws(SnapshotError) -> [StoredSnapshot] {
        var removed: [StoredSnapshot] = []
        for s in try list() {
            guard let keep = current[s.feedID], s.generation != keep else { continue }
            try retire(feedID: s.feedID, generation: s.generation)
            removed.append(s)
        }
        return removed
    }

    public func list() throws(SnapshotError) -> [StoredSnapshot] {
        let all = state.withLock { s in s.files.flatMap { feed, gens in gens.keys.map { (feed, $0) } } }
        return all.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) || ($0.0 == $1.0 && $0.1 < $1.1) }
            .map { StoredSnapshot(feedID: $0.0, generation: $0.1, path: name($0.0, $0.1)) }
    }

    /// How many times `makeDurable()` was called: for tests of the commit protocol.
    public var durableCalls: Int { state.withLock { $0.durableCalls } }

    /// Replaces a stored generation's bytes (to damage it): for tests.
    public func overwrite(feedID: String, generation: UInt64, with bytes: [UInt8]) {
        state.withLock { $0.files[feedID, default: [:]][generation] = bytes }
    }
}
