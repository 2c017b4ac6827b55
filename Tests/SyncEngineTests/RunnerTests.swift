import FeedModel
import FeedSources
import Foundation
import Logging
import Snapshots
import Stores
import Synchronization
import Testing
@testable import SyncEngine

/// Feeds served from memory, by URL: what each fetch returns, and how often each URL was asked.
final class MemorySource: FeedSource {
    private let state = Mutex<(bodies: [String: [UInt8]], fetches: [String: Int], validators: [String: Validators])>(([:], [:], [:]))

    func set(_ url: String, _ text: String) { state.withLock { $0.bodies[url] = Array(text.utf8) } }
    func remove(_ url: String) { _ = state.withLock { $0.bodies.removeValue(forKey: url) } }
    func fetches(_ url: String) -> Int { state.withLock { $0.fetches[url] ?? 0 } }
    func lastValidators(_ url: String) -> Validators? { state.withLock { $0.validators[url] } }

    func fetch(_ url: String, validators: Validators, limits: FetchLimits, format: any FeedFormat) async throws(FetchError) -> Fetched {
        let body = state.withLock { s -> [UInt8]? in
            s.fetches[url, default: 0] += 1
            s.validators[url] = validators
            return s.bodies[url]
        }
        guard let body else { throw FetchError(.notFound, "cannot open \(url): No such file or directory") }
        return Fetched(.body(body, Validators(etag: "\"\(body.count)\"")))
    }
}

/// The runner on the in-memory store and snapshot storage: nights in a row, no file, no database.
@Suite("Runner, in memory")
struct RunnerTests {
    static let night1: Int64 = 1_800_000_000   // 2027-01-15T08:00:00Z
    static let day: Int64 = 86_400

    let store = InMemoryStore()
    let snapshots = InMemorySnapshotStorage()
    let source = MemorySource()

    func toy(_ lines: [String], stamp: String = "1") -> String {
        (["TOY", "# made \(stamp)"] + lines).joined(separator: "\n") + "\n"
    }

    func config(_ ids: [String]) -> SyncConfig {
        SyncConfig(path: "/mem/feedsync.yml", store: .memory, snapshots: "/mem/snapshots",
                   feeds: ids.map { FeedConfig(id: $0, url: "mem://\($0)", format: "toy") })
    }

    func night(_ now: Int64, feeds: [String] = ["a", "b"], _ configure: (inout SyncOptions) -> Void = { _ in }) async throws -> RunReport {
        var options = SyncOptions(now: now)
        configure(&options)
        let runner = SyncRunner(config: config(feeds), options: options, store: store, fileSource: source, httpSource: nil,
                                formats: ToyFormat.registry, snapshots: snapshots,
                                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                                wallClock: { now + 30 })
        return try await runner.run()
    }

    func feed(_ r: RunReport, _ id: String) throws -> FeedReport { try #require(r.feeds.first { $0.id == id }) }

    func live(_ feed: String) async -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in await store.records(feedID: feed) where !v.removed { out[k] = v.record.summary }
        return out
    }

    @Test("first night full, a quiet night skipped, a changed night incremental (future only), then a failure alone")
    func nights() async throws {
        let t = Self.night1
        source.set("mem://a", toy(["k1;\(t + 9 * Self.day);\(t + 10 * Self.day);Stay", "k2;\(t - 9 * Self.day);\(t - 8 * Self.day);Past",
                                   "k3;\(t + Self.day);-;Weekly"]))
        source.set("mem://b", toy(["x;\(t + 100);\(t + 200);One"]))

        // Night 1: every feed is new.
        let r1 = try await night(t)
        #expect(r1.feedsChanged == 2 && r1.feedsFailed == 0)
        #expect(try feed(r1, "a").syncType == .full && feed(r1, "a").reason == "first sync")
        #expect(try feed(r1, "a").added == 3 && feed(r1, "a").snapshotGeneration == 1)
        #expect(await live("a") == ["k1": "Stay", "k2": "Past", "k3": "Weekly"])
        #expect(try snapshots.list().map { "\($0.feedID).\($0.generation)" } == ["a.1", "b.1"])
        #expect(snapshots.durableCalls == 1)
        let run1 = try #require(try await store.run(id: 1))
        #expect(run1.status == .ok && run1.mode == .incremental && run1.counts == r1.counts)

        // Night 2: only the volatile line moved: skipped, nothing written.
        source.set("mem://a", toy(["k1;\(t + 9 * Self.day);\(t + 10 * Self.day);Stay", "k2;\(t - 9 * Self.day);\(t - 8 * Self.day);Past",
                                   "k3;\(t + Self.day);-;Weekly"], stamp: "2"))
        let r2 = try await night(t + Self.day)
        #expect(r2.feedsUnchanged == 2)
        #expect(try feed(r2, "a").reason == "body fingerprint unchanged" && feed(r2, "a").syncType == .none)
        #expect(try snapshots.list().count == 2)

        // Night 3: k1 edited, k2 (past) and k3 (future) dropped, k4 added.
        source.set("mem://a", toy(["k1;\(t + 9 * Self.day);\(t + 10 * Self.day);Stay, extended", "k4;\(t + 5 * Self.day);\(t + 6 * Self.day);New"]))
        let r3 = try await night(t + 2 * Self.day)
        let a3 = try feed(r3, "a")
        #expect(a3.syncType == .incremental && a3.reason == "body changed")
        #expect(a3.added == 1 && a3.updated == 1 && a3.removed == 1 && a3.pastSkipped == 1 && a3.snapshotGeneration == 2)
        #expect(await live("a") == ["k1": "Stay, extended", "k2": "Past", "k4": "New"])   // the past row stays
        #expect(try snapshots.list().map { "\($0.feedID).\($0.generation)" } == ["a.2", "b.1"])   // a.1 retired
        #expect(try await store.changes(runID: 3).map { "\($0.kind.rawValue) \($0.key)" }.sorted()
                == ["added k4", "removed k3", "updated k1"])

        // Night 4: b's body is broken; a is unchanged; b's rows and snapshot stay.
        source.set("mem://b", "TOY\nx;never;-;One\n")
        let r4 = try await night(t + 3 * Self.day)
        let b4 = try feed(r4, "b")
        #expect(r4.feedsFailed == 1 && r4.feedsUnchanged == 1)
        #expect(b4.status == .failed && b4.error == "cannot parse the feed: line 2: expected key;start;end;title")
        #expect(b4.snapshotGeneration == nil && b4.added == 0)
        #expect(await live("b") == ["x": "One"])
        let state = try #require(try await store.feedStates()["b"])
        #expect(state.lastStatus == .failed && state.snapshotGeneration == 1 && state.lastSuccessAt == t + 2 * Self.day)
        #expect(try await store.run(id: 4)?.status == .partial)
    }

    @Test("--force-full-sync reconciles against the store and keeps unchanged snapshots; a damaged one is full_fallback")
    func fullAndFallback() async throws {
        let t = Self.night1
        source.set("mem://a", toy(["k1;\(t + 3600);\(t + 7200);Stay"]))
        source.set("mem://b", toy(["x;\(t + 100);\(t + 200);One"]))
        _ = try await night(t)
        let forced = try await night(t + 60) { $0.forceFull = true }
        #expect(try feed(forced, "a").syncType == .full && feed(forced, "a").reason == "--force-full-sync")
        #expect(try feed(forced, "a").snapshotGeneration == 1 && feed(forced, "a").status == .unchanged)
        #expect(try await store.run(id: 2)?.mode == .full)

        snapshots.overwrite(feedID: "a", generation: 1, with: Array("not a snapshot".utf8))
        source.set("mem://a", toy(["k1;\(t + 3600);\(t + 7200);Stay"], stamp: "later"))
        let r = try await night(t + 120)
        let a = try feed(r, "a")
        #expect(a.syncType == .fullFallback && a.reason.hasPrefix("snapshot unusable: snapshot a.1.fsnap: bad magic"))
        #expect(a.added == 0 && a.updated == 0 && a.snapshotGeneration == 2)
        #expect(try snapshots.read(feedID: "a", generation: 2).header.feedFormat == "toy")
    }

    @Test("the mass-removal guard fails a feed that lost most of its future events and changes nothing")
    func guardFails() async throws {
        let t = Self.night1
        source.set("mem://a", toy((1...6).map { "k\($0);\(t + 3600);\(t + 7200);S" }))
        _ = try await night(t, feeds: ["a"])
        source.set("mem://a", toy(["k1;\(t + 3600);\(t + 7200);S"]))
        let r = try await night(t + 60, feeds: ["a"])
        #expect(try feed(r, "a").status == .failed && feed(r, "a").error?.hasPrefix("suspicious: the feed would lose 5 of its 6") == true)
        #expect(await live("a").count == 6)
        let allowed = try await night(t + 120, feeds: ["a"]) { $0.allowMassRemoval = true }
        #expect(try feed(allowed, "a").removed == 5)
    }

    @Test("--dry-run plans and reports but the store and the snapshots see nothing")
    func dryRun() async throws {
        source.set("mem://a", toy(["k1;\(Self.night1 + 3600);\(Self.night1 + 7200);Stay"]))
        let r = try await night(Self.night1, feeds: ["a"]) { $0.dryRun = true }
        #expect(r.dryRun && r.eventsAdded == 1)
        #expect(try await store.feedStates().isEmpty)
        #expect(try await store.run(id: 1) == nil)
        #expect(try snapshots.list().isEmpty)
    }
}

/// The toy format through the real parts: a file feed, the snapshot folder, the SQLite store and
/// the JSON report. A new format needs nothing but its type.
@Suite("A new format, end to end through the runner")
struct ToyFormatEndToEndTests {
    @Test("fetch, skip, plan, snapshot (a 2.1 file naming the format), store and report")
    func toyFeedNights() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("feedsync-toy-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t: Int64 = 1_800_000_000
        func write(_ text: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/races.toy")) }
        let cfg = SyncConfig(path: dir + "/feedsync.yml", store: .sqlite(path: dir + "/feedsync.sqlite"), snapshots: dir + "/snapshots",
                             feeds: [FeedConfig(id: "races", url: "file://" + dir + "/races.toy", format: "toy")])
        let store = try await StoreFactory.open(cfg.store)
        func night(_ now: Int64) async throws -> RunReport {
            try await SyncRunner(config: cfg, options: SyncOptions(now: now), store: store, httpSource: nil,
                                 formats: ToyFormat.registry, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                                 wallClock: { now }).run()
        }

        try write("TOY\n# 1\nmarathon;\(t + 86_400);\(t + 100_000);Marathon\n10k;\(t + 200_000);\(t + 210_000);10K\n")
        let r1 = try await night(t)
        #expect(r1.eventsAdded == 2 && r1.feeds.first?.syncType == .full)
        try write("TOY\n# 2\nmarathon;\(t + 86_400);\(t + 100_000);Marathon\n10k;\(t + 200_000);\(t + 210_000);10K\n")
        let r2 = try await night(t + 60)
        #expect(r2.feeds.first?.reason == "body fingerprint unchanged")
        try write("TOY\n# 3\nmarathon;\(t + 86_400);\(t + 100_000);City Marathon\n")
        let r3 = try await night(t + 120)
        let f = try #require(r3.feeds.first)
        #expect(f.syncType == .incremental && f.updated == 1 && f.removed == 1 && f.snapshotGeneration == 2)

        let snap = try SnapshotDirectory(path: cfg.snapshots).read(feedID: "races", generation: 2)
        #expect(snap.header.feedFormat == "toy" && snap.header.formatMinor == 1 && snap.records.map(\.key) == ["marathon"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: cfg.snapshots).filter { $0.hasSuffix(".fsnap") } == ["races.2.fsnap"])
        let rows = try await store.priorRecords(feedID: "races").sorted { $0.key < $1.key }
        #expect(rows.map(\.key) == ["10k", "marathon"] && rows.map(\.removed) == [true, false])
        let json = String(decoding: try ReportWriter.encode(r3), as: UTF8.self)
        #expect(json.contains("\"sync_type\" : \"incremental\"") && json.contains("\"events_removed\" : 1"))
    }
}

extension RunnerTests {
    /// The in-memory store, declared able to take two batches at once (as PostgreSQL is).
    struct TwoAtOnce: FeedStore {
        let base: InMemoryStore
        var concurrentBatches: Int { 2 }
        func prune(feedIDs: [String], at: Int64) async throws(StoreError) -> [String: Int] { try await base.prune(feedIDs: feedIDs, at: at) }
        func storeID() async throws(StoreError) -> String? { try await base.storeID() }
        func feedStates() async throws(StoreError) -> [String: FeedState] { try await base.feedStates() }
        func feedStates(ids: [String]) async throws(StoreError) -> [String: FeedState] { try await base.feedStates(ids: ids) }
        func feedIDsWithSnapshots() async throws(StoreError) -> [String] { try await base.feedIDsWithSnapshots() }
        func priorRecords(feedID: String) async throws(StoreError) -> [PriorRecord] { try await base.priorRecords(feedID: feedID) }
        func beginRun(mode: SyncMode, startedAt: Int64, now: Int64) async throws(StoreError) -> Int64 {
            try await base.beginRun(mode: mode, startedAt: startedAt, now: now)
        }
        func apply(_ batch: [FeedUpdate], runID: Int64, at: Int64) async throws(StoreError) {
            try await base.apply(batch, runID: runID, at: at)
        }
        func finishRun(id: Int64, finishedAt: Int64, status: RunStatus, counts: RunCounts) async throws(StoreError) {
            try await base.finishRun(id: id, finishedAt: finishedAt, status: status, counts: counts)
        }
        func run(id: Int64) async throws(StoreError) -> StoredRun? { try await base.run(id: id) }
        func changes(runID: Int64) async throws(StoreError) -> [RecordChange] { try await base.changes(runID: runID) }
        func occurrences(feedID: String, after: Int64) async throws(StoreError) -> [OccurrenceRow] { try await base.occurrences(feedID: feedID, after: after) }
        func liveRecordCounts() async throws(StoreError) -> [String: Int] { try await base.liveRecordCounts() }
    }

    @Test("with two batches in flight every feed is written once, and the next night finds them all unchanged")
    func batchesInFlight() async throws {
        let t = Self.night1
        let ids = (0..<700).map { "f\($0)" }
        for id in ids { source.set("mem://\(id)", toy(["k;\(t + Self.day);\(t + 2 * Self.day);\(id)"])) }
        let twice = TwoAtOnce(base: store)
        func night(_ now: Int64) async throws -> RunReport {
            let runner = SyncRunner(config: config(ids), options: SyncOptions(now: now), store: twice, fileSource: source,
                                    httpSource: nil, formats: ToyFormat.registry, snapshots: snapshots,
                                    logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), wallClock: { now + 30 })
            return try await runner.run()
        }
        // 700 changed feeds: three batches (256 changed feeds each at most), two at a time.
        let r1 = try await night(t)
        #expect(r1.feedsChanged == 700 && r1.eventsAdded == 700)
        #expect(try await store.changes(runID: 1).count == 700)
        #expect(Set(try await store.changes(runID: 1).map(\.feedID)) == Set(ids))
        #expect(try await store.feedStates().values.allSatisfy { $0.snapshotGeneration == 1 })
        #expect(try snapshots.list().count == 700)
        let r2 = try await night(t + 60)
        #expect(r2.feedsUnchanged == 700)
    }
}

extension RunnerTests {
    @Test("a night's entries spooled to a file come out as the in-memory report, in the list's order; without keeping, only counts")
    func spooledReport() async throws {
        let t = Self.night1
        // More feeds than one read of states holds (1,024), listed out of id order.
        let ids = (0..<2_100).map { "f\(($0 * 7_919) % 2_100)" }
        for id in ids { source.set("mem://\(id)", toy(["k;\(t + Self.day);\(t + 2 * Self.day);\(id)"])) }
        func night(_ now: Int64, _ keeping: FeedReportKeeping) async throws -> RunReport {
            var runner = SyncRunner(config: config(ids), options: SyncOptions(now: now), store: store, fileSource: source,
                                    httpSource: nil, formats: ToyFormat.registry, snapshots: snapshots,
                                    logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), wallClock: { now + 30 })
            runner.keeping = keeping
            return try await runner.run()
        }
        let r1 = try await night(t, .inMemory)
        #expect(r1.feedsChanged == ids.count)
        source.set("mem://f5", "not a toy feed")
        source.set("mem://f9", toy(["k;\(t + Self.day);\(t + 2 * Self.day);renamed"]))

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let spool = try ReportSpool(folder: folder)
        let r2 = try await night(t + Self.day, .spool(spool))
        #expect(r2.feeds.isEmpty && spool.count == ids.count)
        try spool.write(r2, to: folder + "/report.json")
        let written = try JSONDecoder().decode(RunReport.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/report.json")))
        // Every feed's state was found, a batch at a time: the quiet ones are skipped as unchanged.
        #expect(written.feeds.map(\.id) == ids)
        #expect(written.feedsTotal == ids.count && written.feedsUnchanged == ids.count - 2)
        #expect(written.feedsFailed == 1 && written.feedsChanged == 1)
        #expect(try #require(written.feeds.first { $0.id == "f5" }).status == .failed)
        #expect(try #require(written.feeds.first { $0.id == "f9" }).updated == 1)
        #expect(written.counts == r2.counts)
        // No temp file is left beside the report.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["report.json"])

        // The same night again, kept in memory: the same entries in the same order (times aside;
        // f9's change is applied by now, so it is unchanged this time).
        let r3 = try await night(t + Self.day, .inMemory)
        func essence(_ r: RunReport) -> [String] {
            r.feeds.filter { $0.id != "f9" }.map { "\($0.id) \($0.status) \($0.reason) \($0.error ?? "")" }
        }
        #expect(r3.feeds.map(\.id) == ids)
        #expect(essence(r3) == essence(written))
        let r4 = try await night(t + 2 * Self.day, .none)
        #expect(r4.feeds.isEmpty && r4.feedsTotal == ids.count && r4.feedsFailed == 1)
    }
}
