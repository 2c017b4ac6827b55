import Synchronization
import Foundation
import PostgresTestSupport
import Stores
import Testing
@testable import Snapshots

/// The storage suite every `SnapshotStorage` must pass: names, generations, soundness, retiring
/// and leftovers, seen only through the protocol.
enum StorageKind: String, CaseIterable, CustomStringConvertible, Sendable {
    case folder, memory
    /// The PostgreSQL store's table, on a server the tests start (a database per test).
    case postgres
    var description: String { rawValue }

    /// A fresh storage, and how to damage a stored generation behind its back.
    func make() async throws -> (storage: any SnapshotStorage, damage: (String, UInt64, [UInt8]) async throws -> Void, cleanup: () -> Void) {
        switch self {
        case .folder:
            let tmp = try TempFolder()
            let dir = SnapshotDirectory(path: tmp.path + "/snapshots")
            return (dir, { feed, gen, bytes in try Data(bytes).write(to: URL(fileURLWithPath: dir.path(feedID: feed, generation: gen))) },
                    { tmp.cleanup() })
        case .memory:
            let m = InMemorySnapshotStorage()
            return (m, { feed, gen, bytes in m.overwrite(feedID: feed, generation: gen, with: bytes) }, {})
        case .postgres:
            let url = try await PostgresTestServer.shared.newDatabase("snapshots")
            let store = try await PostgresStore.open(try PostgresLocation.parse(url))
            let table = store.snapshotTable
            return (table, { feed, gen, bytes in
                // What was added is committed first, then damaged behind the store's back.
                try await table.commitAdded()
                let hex = bytes.map { String(format: "%02x", $0) }.joined()
                try await PostgresTestServer.shared.psql(
                    "UPDATE snapshots SET bytes = '\\x\(hex)'::bytea WHERE feed_id = '\(feed)' AND generation = \(gen)", url: url)
            }, { _ = store })
        }
    }
}

@Suite("Snapshot storage suite, every storage")
struct SnapshotStorageConformance {
    func snapshot(_ feed: String, _ generation: UInt64, keys: [String] = ["a", "b"]) throws -> [UInt8] {
        try SnapshotCodec.encode(header: header(feed, generation: generation), records: keys.map { record($0) })
    }

    @Test("a generation added reads back whole, is sound, and is listed", arguments: StorageKind.allCases)
    func addReadList(_ kind: StorageKind) async throws {
        let (s, _, cleanup) = try await kind.make()
        defer { cleanup() }
        #expect(try await s.list().isEmpty)
        #expect(await !s.isSound(feedID: "feed-a", generation: 1))
        try await s.add(try snapshot("feed-a", 1), feedID: "feed-a", generation: 1)
        try await s.add(try snapshot("feed-a", 2, keys: ["c"]), feedID: "feed-a", generation: 2)
        try await s.add(try snapshot("b.x", 7), feedID: "b.x", generation: 7)
        try await s.makeDurable()
        #expect(try await s.read(feedID: "feed-a", generation: 1).records.map(\.key) == ["a", "b"])
        #expect(try await s.read(feedID: "feed-a", generation: 2).records.map(\.key) == ["c"])
        #expect(await s.isSound(feedID: "feed-a", generation: 2))
        #expect(await s.isSound(feedID: "b.x", generation: 7))
        #expect(try await s.list().map { "\($0.feedID).\($0.generation)" } == ["b.x.7", "feed-a.1", "feed-a.2"])
        await #expect(throws: SnapshotError.self) { try await s.add([1], feedID: "", generation: 1) }
        await #expect(throws: SnapshotError.self) { try await s.add([1], feedID: String(repeating: "/", count: 70), generation: 1) }
        // A child feed's id, `/` and all, is stored and listed under its own name.
        try await s.add(try snapshot("race/participants/A|1", 1), feedID: "race/participants/A|1", generation: 1)
        #expect(try await s.read(feedID: "race/participants/A|1", generation: 1).header.feedID == "race/participants/A|1")
        #expect(try await s.list().contains { $0.feedID == "race/participants/A|1" })
    }

    @Test("a missing, damaged or misnamed generation is not sound and does not read", arguments: StorageKind.allCases)
    func soundness(_ kind: StorageKind) async throws {
        let (s, damage, cleanup) = try await kind.make()
        defer { cleanup() }
        let error = await #expect(throws: SnapshotError.self) { try await s.read(feedID: "feed-a", generation: 1) }
        #expect(error?.code == .io)
        // Another feed's snapshot under this feed's name, and another generation's.
        try await s.add(try snapshot("feed-b", 1), feedID: "feed-a", generation: 1)
        try await s.add(try snapshot("feed-a", 5), feedID: "feed-a", generation: 2)
        #expect(await !s.isSound(feedID: "feed-a", generation: 1))
        #expect(await !s.isSound(feedID: "feed-a", generation: 2))
        #expect((await #expect(throws: SnapshotError.self) { try await s.read(feedID: "feed-a", generation: 1) })?.reason
                == "feed mismatch: file holds feed \"feed-b\", expected \"feed-a\"")
        #expect((await #expect(throws: SnapshotError.self) { try await s.read(feedID: "feed-a", generation: 2) })?.code == .feedMismatch)
        // A flipped bit.
        var bytes = try snapshot("feed-a", 3)
        try await s.add(bytes, feedID: "feed-a", generation: 3)
        #expect(await s.isSound(feedID: "feed-a", generation: 3))
        bytes[bytes.count / 2] ^= 0x10
        try await damage("feed-a", 3, bytes)
        #expect(await !s.isSound(feedID: "feed-a", generation: 3))
        #expect((await #expect(throws: SnapshotError.self) { try await s.read(feedID: "feed-a", generation: 3) })?.code == .checksumMismatch)
    }

    @Test("presence: a missing or cut-short generation is not present; a sound one is (damage inside is isSound's to find)",
          arguments: StorageKind.allCases)
    func presence(_ kind: StorageKind) async throws {
        let (s, damage, cleanup) = try await kind.make()
        defer { cleanup() }
        #expect(await !s.isPresent(feedID: "feed-a", generation: 1))
        var bytes = try snapshot("feed-a", 1)
        try await s.add(bytes, feedID: "feed-a", generation: 1)
        #expect(await s.isPresent(feedID: "feed-a", generation: 1))
        #expect(await !s.isPresent(feedID: "feed-a", generation: 2))
        try await damage("feed-a", 1, Array(bytes.prefix(SnapshotCodec.minimumFileSize - 1)))
        #expect(await !s.isPresent(feedID: "feed-a", generation: 1))
        try await damage("feed-a", 1, [])
        #expect(await !s.isPresent(feedID: "feed-a", generation: 1))
        // A sound snapshot is present wherever it is kept.
        bytes = try snapshot("feed-a", 3)
        try await s.add(bytes, feedID: "feed-a", generation: 3)
        let present = await s.isPresent(feedID: "feed-a", generation: 3)
        let sound = await s.isSound(feedID: "feed-a", generation: 3)
        #expect(present && sound)
    }

    @Test("retire deletes one generation; leftovers are every generation but the current of the feeds named",
          arguments: StorageKind.allCases)
    func retireAndLeftovers(_ kind: StorageKind) async throws {
        let (s, _, cleanup) = try await kind.make()
        defer { cleanup() }
        for (feed, gen) in [("feed-a", UInt64(1)), ("feed-a", 2), ("feed-a", 3), ("feed-b", 1), ("feed-c", 4), ("other", 9)] {
            try await s.add(try snapshot(feed, gen), feedID: feed, generation: gen)
        }
        try await s.retire(feedID: "feed-a", generation: 1)
        try await s.retire(feedID: "feed-a", generation: 1)   // already gone: no error
        #expect(try await s.list().filter { $0.feedID == "feed-a" }.map(\.generation) == [2, 3])
        // feed-a points at 2 (3 was written by a run that died), feed-b at none, feed-c at 4;
        // `other` is not configured: not touched.
        let current: [String: UInt64?] = ["feed-a": 2, "feed-b": Optional<UInt64>.none, "feed-c": 4]
        let removed = try await s.removeLeftovers(current: current)
        #expect(removed.map { "\($0.feedID).\($0.generation)" }.sorted() == ["feed-a.3", "feed-b.1"])
        #expect(try await s.list().map { "\($0.feedID).\($0.generation)" } == ["feed-a.2", "feed-c.4", "other.9"])
    }

    @Test("leftovers by batches of feeds: every feed asked for, the feeds the answer leaves out untouched",
          arguments: StorageKind.allCases)
    func leftoversByBatches(_ kind: StorageKind) async throws {
        let (s, _, cleanup) = try await kind.make()
        defer { cleanup() }
        // More feeds than one batch holds, two generations each (the second written by a run that died).
        let ids = (0..<2_500).map { String(format: "feed-%05d", $0) }
        for id in ids {
            try await s.add(try snapshot(id, 1), feedID: id, generation: 1)
            try await s.add(try snapshot(id, 2), feedID: id, generation: 2)
        }
        try await s.add(try snapshot("other", 9), feedID: "other", generation: 9)
        let asked = Mutex<[String]>([])
        let removed = try await s.removeLeftovers(currentOf: { batch in
            asked.withLock { $0 += batch }
            return Dictionary(uniqueKeysWithValues: batch.filter { $0 != "other" }.map { ($0, Optional(UInt64(1))) })
        })
        // Every feed is asked for (a feed whose files fall in two batches of the folder, twice).
        let askedSet = asked.withLock { Set($0) }
        #expect(askedSet == Set(ids + ["other"]))
        #expect(removed.count == ids.count && removed.allSatisfy { $0.generation == 2 })
        let left = try await s.list()
        #expect(left.count == ids.count + 1)
        #expect(left.filter { $0.feedID != "other" }.allSatisfy { $0.generation == 1 })
        #expect(left.contains { $0.feedID == "other" && $0.generation == 9 })
    }
}
