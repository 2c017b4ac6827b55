import FeedHash
import Foundation
import NIOCore
import PostgresNIO
public import Snapshots

/// Snapshots in the PostgreSQL store's `snapshots` table: the same bytes as a snapshot file
/// (docs/snapshot-format.md), one row per feed and generation.
///
/// `add` keeps the new generation in memory; the store's `apply` writes it in the same transaction
/// as the rows it describes and the feed's pointer to it, and deletes the feed's older
/// generations there too. The commit protocol is one transaction: after a crash the store and its
/// snapshots agree, and nothing is left to clean. A generation added and not yet committed reads
/// back from memory in this process, as a written-but-unflushed file does.
public final class PostgresSnapshotTable: SnapshotStorage {
    let store: PostgresStore

    init(store: PostgresStore) { self.store = store }

    public var location: String { "snapshot table of \(store.location)" }

    func name(_ feedID: String, _ generation: UInt64) -> String {
        "snapshots(\(feedID), \(generation))"
    }

    /// A generation's bytes as stored (not decoded): for the snapshot tools.
    package func storedBytes(feedID: String, generation: UInt64) async throws(SnapshotError) -> [UInt8] {
        try await bytes(feedID, generation)
    }

    private func bytes(_ feedID: String, _ generation: UInt64) async throws(SnapshotError) -> [UInt8] {
        if let staged = store.staged(feedID: feedID, generation: generation) { return staged }
        do {
            let rows = try await store.client.query("""
                SELECT bytes FROM snapshots WHERE feed_id = \(feedID) AND generation = \(Int64(generation))
                """, logger: store.logger)
            for try await buffer in rows.decode(ByteBuffer.self) {
                return Array(buffer.readableBytesView)
            }
        } catch {
            throw SnapshotError(.io, "cannot read it: \(PostgresFaults.explain(error, at: store.location, doing: "read a snapshot", code: .read).message)",
                                path: name(feedID, generation))
        }
        throw SnapshotError(.io, "no such snapshot", path: name(feedID, generation))
    }

    public func read(feedID: String, generation: UInt64) async throws(SnapshotError) -> Snapshot {
        try SnapshotCodec.decode(try await bytes(feedID, generation), feedID: feedID, generation: generation,
                                 path: name(feedID, generation))
    }

    /// The row exists, its checksum holds and it names this feed and generation (the payload is
    /// not inflated), as for a file.
    ///
    /// A night asks this of nearly every feed: the first call checks every row in one streamed
    /// query and remembers which are sound (keys only), so a quiet night makes one round trip, not
    /// one per feed. A row is written once per feed and generation, so what was sound stays sound
    /// until it is retired (which forgets it); a generation not seen then is asked for alone.
    public func isSound(feedID: String, generation: UInt64) async -> Bool {
        let key = PostgresStore.SnapshotKey(feedID: feedID, generation: generation)
        if store.staged(feedID: feedID, generation: generation) == nil, await store.isKnownSound(key) == true { return true }
        guard let b = try? await bytes(feedID, generation) else { return false }
        return SnapshotCodec.isSound(b, feedID: feedID, generation: generation)
    }

    public func add(_ bytes: [UInt8], feedID: String, generation: UInt64) async throws(SnapshotError) {
        // The folder's rule, so that a configuration can move between the two.
        guard SnapshotDirectory.isStorableFeedID(feedID) else {
            throw SnapshotError(.malformed, "invalid feed id \"\(feedID.prefix(80))\" (empty, a NUL byte, or too long for a file name)")
        }
        store.stage(bytes, feedID: feedID, generation: generation)
    }

    /// Nothing to do: a generation is durable with the store transaction that points at it.
    public func makeDurable() async throws(SnapshotError) {}

    public func retire(feedID: String, generation: UInt64) async throws(SnapshotError) {
        store.unstage(feedID: feedID, generation: generation)
        store.forgetSound(feedID: feedID, generation: generation)
        do {
            try await store.client.query("""
                DELETE FROM snapshots WHERE feed_id = \(feedID) AND generation = \(Int64(generation))
                """, logger: store.logger)
        } catch {
            throw SnapshotError(.io, "cannot delete it: \(PostgresFaults.explain(error, at: store.location, doing: "delete a snapshot", code: .write).message)",
                                path: name(feedID, generation))
        }
    }

    public func removeLeftovers(current: [String: UInt64?]) async throws(SnapshotError) -> [StoredSnapshot] {
        var removed: [StoredSnapshot] = []
        for s in try await list() {
            guard let entry = current[s.feedID], s.generation != entry else { continue }
            removed.append(s)
            store.unstage(feedID: s.feedID, generation: s.generation)
            store.forgetSound(feedID: s.feedID, generation: s.generation)
        }
        guard !removed.isEmpty else { return [] }
        var feeds = PostgresColumn(.text), gens = PostgresColumn(.int8)
        for s in removed {
            feeds.append(s.feedID)
            gens.append(Int64(s.generation))
        }
        var q = PostgresQuery(unsafeSQL: """
            DELETE FROM snapshots s USING unnest($1::text[], $2::int8[]) AS d(feed_id, generation)
            WHERE s.feed_id = d.feed_id AND s.generation = d.generation
            """)
        q.binds.append(feeds)
        q.binds.append(gens)
        do {
            try await store.client.query(q, logger: store.logger)
        } catch {
            throw SnapshotError(.io, "cannot delete leftover snapshots: \(PostgresFaults.explain(error, at: store.location, doing: "delete snapshots", code: .write).message)",
                                path: location)
        }
        return removed
    }

    public func list() async throws(SnapshotError) -> [StoredSnapshot] {
        do {
            let rows = try await store.client.query("""
                SELECT feed_id, generation FROM snapshots ORDER BY feed_id COLLATE "C", generation
                """, logger: store.logger)
            var keys = Set(store.stagedKeys())
            for try await (feed, gen) in rows.decode((String, Int64).self) {
                keys.insert(PostgresStore.SnapshotKey(feedID: feed, generation: UInt64(gen)))
            }
            // Those added and not yet committed too, as a folder lists a file not yet flushed.
            return keys.sorted { a, b in
                a.feedID == b.feedID ? a.generation < b.generation : a.feedID.utf8.lexicographicallyPrecedes(b.feedID.utf8)
            }
                .map { StoredSnapshot(feedID: $0.feedID, generation: $0.generation, path: name($0.feedID, $0.generation)) }
        } catch {
            throw SnapshotError(.io, "cannot list the snapshots: \(PostgresFaults.explain(error, at: store.location, doing: "list snapshots", code: .read).message)",
                                path: location)
        }
    }

    /// Writes the generations added and not yet committed, in a transaction of their own: for
    /// tools and tests that add snapshots outside a run (a run commits them with its rows).
    package func commitAdded() async throws {
        let staged = store.takeStaged { _ in true }
        try await store.client.withTransaction(logger: store.logger) { c in
            try await PostgresStore.writeSnapshots(staged, on: c, logger: store.logger)
        }
    }

    /// Every row (sorted by feed and generation) with its bytes, and every feed's generation
    /// pointer, read in one repeatable-read transaction so that they agree: for `snapshot verify`.
    package func everyRow(_ body: (StoredSnapshot, [UInt8]) -> Void) async throws(SnapshotError) -> [String: UInt64?] {
        do {
            return try await store.client.withTransaction(logger: store.logger) { c in
                try await c.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: store.logger)
                var pointers: [String: UInt64?] = [:]
                for try await (id, gen) in try await c.query("SELECT id, snapshot_generation FROM feeds", logger: store.logger)
                    .decode((String, Int64?).self) {
                    pointers[id] = .some(gen.map { UInt64($0) })
                }
                let rows = try await c.query("""
                    SELECT feed_id, generation, bytes FROM snapshots ORDER BY feed_id COLLATE "C", generation
                    """, logger: store.logger)
                for try await (feed, gen, buffer) in rows.decode((String, Int64, ByteBuffer).self) {
                    body(StoredSnapshot(feedID: feed, generation: UInt64(gen), path: name(feed, UInt64(gen))),
                         Array(buffer.readableBytesView))
                }
                return pointers
            }
        } catch {
            throw SnapshotError(.io, "cannot read the snapshots: \(PostgresFaults.explain(error, at: store.location, doing: "read the snapshots", code: .read).message)",
                                path: location)
        }
    }
}
