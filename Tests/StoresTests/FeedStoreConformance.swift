import FeedModel
import Foundation
import PostgresTestSupport
import Testing
@testable import Stores

/// The store suite every `FeedStore` must pass (as swift-configuration's `ProviderCompatTest`):
/// it speaks to a store only through the protocol, so a new store is added by writing one type and
/// listing it in `StoreKind`.
enum StoreKind: String, CaseIterable, CustomStringConvertible, Sendable {
    case memory, sqlite
    /// A real server the tests start themselves (PostgresTestServer), a new database per test.
    case postgres

    var description: String { rawValue }

    func make() async throws -> any FeedStore {
        switch self {
        case .memory:
            return InMemoryStore()
        case .sqlite:
            return try SQLiteStore(path: TestFiles.sqlite("conformance"))
        case .postgres:
            let url = try await PostgresTestServer.shared.newDatabase("conformance")
            return try await PostgresStore.open(try PostgresLocation.parse(url))
        }
    }
}

@Suite("Store suite, every store")
struct FeedStoreConformance {
    static let now: Int64 = 1_800_000_000

    func record(_ key: String, hash: UInt64, lastEnd: Int64? = 1_900_000_000) -> FeedRecord {
        FeedRecord(key: key, uid: key, recurrenceID: nil, hash: hash, start: 1_850_000_000, end: 1_850_003_600,
                   lastEnd: lastEnd, allDay: false, summary: "S \(key)", body: [])
    }

    func update(_ feed: String = "f", _ status: FeedStatus = .changed, generation: UInt64? = 1, full: Bool = false,
                fingerprint: String? = "aa", etag: String? = nil, error: String? = nil,
                added: [FeedRecord] = [], updated: [FeedRecord] = [], removed: [String] = []) -> FeedUpdate {
        FeedUpdate(feedID: feed, urlRedacted: "https://h/\(feed).ics?s=…", property: nil, status: status, error: error,
                   fingerprint: fingerprint, etag: etag, snapshotGeneration: generation, fullSync: full,
                   added: added, updated: updated, removed: removed)
    }

    func prior(_ store: any FeedStore, _ feed: String = "f") async throws -> [PriorRecord] {
        try await store.priorRecords(feedID: feed).sorted { $0.key < $1.key }
    }

    @Test("a new store knows no feed, no row and no run", arguments: StoreKind.allCases)
    func empty(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        #expect(try await store.feedStates().isEmpty)
        #expect(try await store.priorRecords(feedID: "f").isEmpty)
        #expect(try await store.run(id: 42) == nil)
    }

    @Test("a run is recorded running, then with its status, counts and end", arguments: StoreKind.allCases)
    func runs(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let a = try await store.beginRun(mode: .full, startedAt: Self.now + 5, now: Self.now)
        let open = try #require(try await store.run(id: a))
        #expect(open.status == .running && open.mode == .full && open.finishedAt == nil)
        #expect(open.now == Self.now && open.startedAt == Self.now + 5)
        var counts = RunCounts()
        counts.count(status: .changed, added: 3, updated: 1, removed: 2, pastSkipped: 4)
        counts.count(status: .failed, added: 0, updated: 0, removed: 0, pastSkipped: 0)
        try await store.finishRun(id: a, finishedAt: Self.now + 60, status: .partial, counts: counts)
        let done = try #require(try await store.run(id: a))
        #expect(done.status == .partial && done.finishedAt == Self.now + 60 && done.counts == counts)
        // A run begins holding the run lock: one still `running` then was killed before its end.
        let b = try await store.beginRun(mode: .incremental, startedAt: Self.now + 70, now: Self.now)
        let openB = try await store.run(id: b)
        #expect(a != b && openB?.status == .running)
        let c = try await store.beginRun(mode: .incremental, startedAt: Self.now + 80, now: Self.now)
        let (runA, runB, runC) = (try await store.run(id: a), try await store.run(id: b), try await store.run(id: c))
        #expect(runB?.status == .aborted && runB?.finishedAt == nil)
        #expect(runC?.status == .running && runA?.status == .partial)
    }

    @Test("prune marks a feed's live events removed and forgets its snapshot and validators; other feeds untouched", arguments: StoreKind.allCases)
    func prune(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let run = try await store.beginRun(mode: .full, startedAt: Self.now, now: Self.now)
        let a = FeedUpdate(feedID: "a", urlRedacted: "a", property: nil, status: .changed, fingerprint: "f", etag: "\"e\"",
                           snapshotGeneration: 1, fullSync: true, added: [record("x", hash: 1), record("y", hash: 2)])
        let b = FeedUpdate(feedID: "b", urlRedacted: "b", property: nil, status: .changed, fingerprint: "g",
                           snapshotGeneration: 1, fullSync: true, added: [record("z", hash: 3)])
        try await store.apply([a, b], runID: run, at: Self.now)
        let removed = try await store.prune(feedIDs: ["a"], at: Self.now + 100)
        #expect(removed == ["a": 2])
        let states = try await store.feedStates()
        #expect(states["a"]?.snapshotGeneration == nil && states["a"]?.fingerprint == nil && states["a"]?.etag == nil)
        #expect(states["b"]?.snapshotGeneration == 1)
        let live = try await store.liveRecordCounts()
        #expect(live["a"] == nil && live["b"] == 1)
        let again = try await store.prune(feedIDs: ["a"], at: Self.now + 200)
        #expect(again == ["a": 0])
    }

    @Test("a cancelled occurrence (override with STATUS:CANCELLED) is stored removed; confirmed again, it is live", arguments: StoreKind.allCases)
    func cancelledOccurrence(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        var cancelled = FeedRecord(key: "s|RID:20270108T100000Z", uid: "s", recurrenceID: "20270108T100000Z", hash: 7,
                                   start: 1_799_000_000, end: 1_799_003_600, lastEnd: 1_799_003_600, allDay: false,
                                   summary: "Stay", body: [])
        cancelled.status = "CANCELLED"
        let run = try await store.beginRun(mode: .full, startedAt: Self.now, now: Self.now)
        try await store.apply([update(added: [record("s", hash: 1), cancelled])], runID: run, at: Self.now)
        #expect(try await store.liveRecordCounts()["f"] == 1)
        let prior = try await store.priorRecords(feedID: "f").first { $0.key == cancelled.key }
        #expect(prior?.removed == true && prior?.hash == 7)
        var confirmed = cancelled
        confirmed.status = "CONFIRMED"
        confirmed.hash = 8
        try await store.apply([update(generation: 2, updated: [confirmed])], runID: run, at: Self.now + 10)
        #expect(try await store.liveRecordCounts()["f"] == 2)
    }

    @Test("a store has one identity from its creation", arguments: StoreKind.allCases)
    func identity(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let id = try #require(try await store.storeID())
        let again = try await store.storeID()
        #expect(id.count >= 16 && again == id)
        let other = try await kind.make().storeID()
        #expect(other != id, "another store, another identity")
    }

    @Test("apply writes rows, state and the change log; applying the same batch again leaves the same rows",
          arguments: StoreKind.allCases)
    func applyIsIdempotent(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let run = try await store.beginRun(mode: .incremental, startedAt: Self.now, now: Self.now)
        let u = update(full: true, etag: "\"e1\"", added: [record("a", hash: 1), record("b", hash: 2, lastEnd: nil)])
        try await store.apply([u], runID: run, at: Self.now + 10)
        let once = try await prior(store)
        try await store.apply([u], runID: run, at: Self.now + 20)
        #expect(try await prior(store) == once)
        #expect(once == [PriorRecord(key: "a", hash: 1, lastEnd: 1_900_000_000), PriorRecord(key: "b", hash: 2, lastEnd: nil)])
        let state = try #require(try await store.feedStates()["f"])
        #expect(state.fingerprint == "aa" && state.etag == "\"e1\"" && state.snapshotGeneration == 1)
        #expect(state.lastStatus == .changed && state.lastError == nil)
        #expect(state.lastSuccessAt == Self.now + 20 && state.lastFullSyncAt == Self.now + 20)
        let log = try await store.changes(runID: run)
        #expect(log.map(\.kind) == [.added, .added, .added, .added])
        #expect(log.map(\.key) == ["a", "b", "a", "b"] && log.first?.at == Self.now + 10)
    }

    @Test("nil validators keep the stored ones; an incremental sync keeps the last full sync time",
          arguments: StoreKind.allCases)
    func statesCoalesce(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let run = try await store.beginRun(mode: .incremental, startedAt: Self.now, now: Self.now)
        try await store.apply([update(full: true, etag: "\"e1\"")], runID: run, at: 100)
        try await store.apply([update("f", .unchanged, generation: nil, fingerprint: nil)], runID: run, at: 200)
        let s = try #require(try await store.feedStates()["f"])
        #expect(s.fingerprint == "aa" && s.etag == "\"e1\"" && s.snapshotGeneration == 1)
        #expect(s.lastSuccessAt == 200 && s.lastFullSyncAt == 100 && s.lastStatus == .unchanged)
    }

    @Test("an update replaces the row; a removal flags it once; a row that comes back is live; nothing is deleted",
          arguments: StoreKind.allCases)
    func removalAndReturn(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let run = try await store.beginRun(mode: .incremental, startedAt: Self.now, now: Self.now)
        try await store.apply([update(added: [record("a", hash: 1), record("b", hash: 2)])], runID: run, at: 100)
        try await store.apply([update(generation: 2, updated: [record("b", hash: 3)], removed: ["a", "nosuch"])], runID: run, at: 200)
        try await store.apply([update(generation: 2, removed: ["a"])], runID: run, at: 300)
        #expect(try await prior(store) == [PriorRecord(key: "a", hash: 1, lastEnd: 1_900_000_000, removed: true),
                                           PriorRecord(key: "b", hash: 3, lastEnd: 1_900_000_000)])
        let removals = try await store.changes(runID: run).filter { $0.kind == .removed }
        #expect(removals.map { "\($0.feedID) \($0.key) \($0.at)" } == ["f a 200"])
        #expect(try await store.liveRecordCounts() == ["f": 1], "a removed row is not live")
        try await store.apply([update(generation: 3, added: [record("a", hash: 1)])], runID: run, at: 400)
        #expect(try await prior(store).map(\.removed) == [false, false])
    }

    @Test("a failed feed records its error and keeps its state and rows", arguments: StoreKind.allCases)
    func failedFeed(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let run = try await store.beginRun(mode: .incremental, startedAt: Self.now, now: Self.now)
        try await store.apply([update(generation: 4, added: [record("a", hash: 1)])], runID: run, at: 100)
        try await store.apply([update("f", .failed, generation: nil, fingerprint: nil, error: "boom",
                                      added: [record("z", hash: 9)])], runID: run, at: 200)
        let s = try #require(try await store.feedStates()["f"])
        #expect(s.lastStatus == .failed && s.lastError == "boom")
        #expect(s.snapshotGeneration == 4 && s.fingerprint == "aa" && s.lastSuccessAt == 100)
        #expect(try await prior(store).map(\.key) == ["a"])
        // A first run that fails is still a feed the store has seen.
        try await store.apply([update("g", .failed, generation: nil, error: "HTTP 500")], runID: run, at: 300)
        let g = try #require(try await store.feedStates()["g"])
        #expect(g.lastStatus == .failed && g.snapshotGeneration == nil && g.lastSuccessAt == nil)
    }

    @Test("feeds are kept apart, within one batch and across batches", arguments: StoreKind.allCases)
    func feedsApart(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let run = try await store.beginRun(mode: .incremental, startedAt: Self.now, now: Self.now)
        try await store.apply([update("f", added: [record("k", hash: 1)]), update("g", added: [record("k", hash: 2)])],
                              runID: run, at: 100)
        try await store.apply([update("g", generation: 2, removed: ["k"])], runID: run, at: 200)
        #expect(try await prior(store, "f") == [PriorRecord(key: "k", hash: 1, lastEnd: 1_900_000_000)])
        #expect(try await prior(store, "g") == [PriorRecord(key: "k", hash: 2, lastEnd: 1_900_000_000, removed: true)])
        #expect(try await Set(store.feedStates().keys) == ["f", "g"])
        #expect(try await store.liveRecordCounts() == ["f": 1])
    }

    /// A JSON object's text as a dictionary (PostgreSQL's jsonb re-spaces and reorders it).
    func object(_ text: String?) throws -> NSDictionary? {
        guard let text else { return nil }
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary
    }

    @Test("the change log holds the values: the changed fields of an update, all of a removal; none for an addition",
          arguments: StoreKind.allCases)
    func changeValues(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let run = try await store.beginRun(mode: .full, startedAt: Self.now, now: Self.now)
        var stay = record("a", hash: 1)
        stay.location = "Flat 2"
        stay.startDay = 21_412
        stay.endDay = 21_413
        try await store.apply([update(added: [stay])], runID: run, at: Self.now)
        var moved = stay
        moved.hash = 2
        moved.start += 86_400
        moved.end += 86_400
        moved.lastEnd = stay.lastEnd
        moved.summary = "S a (moved)"
        moved.startDay = 21_413
        moved.endDay = 21_414
        let run2 = try await store.beginRun(mode: .incremental, startedAt: Self.now + 100, now: Self.now + 100)
        try await store.apply([update(generation: 2, updated: [moved])], runID: run2, at: Self.now + 100)
        let run3 = try await store.beginRun(mode: .incremental, startedAt: Self.now + 200, now: Self.now + 200)
        try await store.apply([update(generation: 3, removed: ["a"])], runID: run3, at: Self.now + 200)

        let added = try #require(try await store.changes(runID: run).first)
        // An addition logs no values (its row holds them); its update logs them as old ones.
        #expect(added.oldValues == nil && added.newValues == nil)
        let updated = try #require(try await store.changes(runID: run2).first)
        #expect(updated.kind == .updated)
        #expect(try object(updated.oldValues) == [
            "start": "2028-08-16T00:53:20Z", "end": "2028-08-16T01:53:20Z", "start_date": "2028-08-16",
            "end_date": "2028-08-17", "summary": "S a",
        ] as NSDictionary)
        #expect(try object(updated.newValues) == [
            "start": "2028-08-17T00:53:20Z", "end": "2028-08-17T01:53:20Z", "start_date": "2028-08-17",
            "end_date": "2028-08-18", "summary": "S a (moved)",
        ] as NSDictionary)
        let removed = try #require(try await store.changes(runID: run3).first)
        #expect(removed.kind == .removed && removed.newValues == nil)
        #expect(try object(removed.oldValues)?["start"] as? String == "2028-08-17T00:53:20Z")
        #expect(try object(removed.oldValues) == [
            "start": "2028-08-17T00:53:20Z", "end": "2028-08-17T01:53:20Z", "start_date": "2028-08-17", "end_date": "2028-08-18",
            "all_day": false, "last_end": "2030-03-17T17:46:40Z", "summary": "S a (moved)", "location": "Flat 2",
        ] as NSDictionary)
    }

    @Test("a JSON record's data in the change log: the members that changed show in old and new", arguments: StoreKind.allCases)
    func changeValuesData(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let run = try await store.beginRun(mode: .full, startedAt: Self.now, now: Self.now)
        var r = FeedRecord(key: "7", uid: "7", recurrenceID: nil, hash: 1, start: 0, end: 0, lastEnd: nil, allDay: false,
                           body: [], hasTimes: false, data: #"{"name":"Ann","paid":false}"#)
        try await store.apply([update(added: [r])], runID: run, at: Self.now)
        r.hash = 2
        r.data = #"{"name":"Ann","paid":true}"#
        try await store.apply([update(generation: 2, updated: [r])], runID: run, at: Self.now + 1)
        let log = try await store.changes(runID: run)
        #expect(log[0].newValues == nil)
        #expect(try object(log[1].oldValues) == ["data": ["name": "Ann", "paid": false]] as NSDictionary)
        #expect(try object(log[1].newValues) == ["data": ["name": "Ann", "paid": true]] as NSDictionary)
    }

    func occurrence(_ key: String, uid: String? = nil, start: Int64, cancelled: Bool = false) -> OccurrenceRow {
        OccurrenceRow(recordKey: key, uid: uid ?? key, start: start, end: start + 3600, startDay: ISOTime.day(start),
                      endDay: ISOTime.day(start) + 1, allDay: false, cancelled: cancelled)
    }

    @Test("occurrences: a full rewrite replaces the future ones, a series rewrite only its own; past ones stay; a removed event's go",
          arguments: StoreKind.allCases)
    func occurrences(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let now = Self.now
        let run = try await store.beginRun(mode: .full, startedAt: now, now: now)
        let series = record("s", hash: 1, lastEnd: nil)
        let single = record("x", hash: 2)
        let rows = [occurrence("s", start: now - 7200), occurrence("s", start: now + 86_400), occurrence("s", start: now + 2 * 86_400),
                    occurrence("s|RID:1", uid: "s", start: now + 3 * 86_400, cancelled: true), occurrence("x", start: now + 500)]
        var u = update(added: [series, single])
        u.occurrences = OccurrenceUpdate(uids: nil, from: now - 10_000, rows: rows, until: now + 400 * 86_400)
        try await store.apply([u], runID: run, at: now)
        #expect(try await store.occurrences(feedID: "f", after: now - 10_000) == rows.sorted { $0.start < $1.start })
        #expect(try await store.feedStates()["f"]?.occurrencesUntil == now + 400 * 86_400)

        // The series changes a day later: only its future occurrences are rewritten.
        let later = now + 86_400 + 4000
        var changed = series
        changed.hash = 3
        var v = update(generation: 2, updated: [changed])
        v.occurrences = OccurrenceUpdate(uids: ["s"], from: later, rows: [occurrence("s", start: later + 100)], until: now + 400 * 86_400)
        try await store.apply([v], runID: run, at: later)
        #expect(try await store.occurrences(feedID: "f", after: now - 10_000).map { "\($0.recordKey)@\($0.start - now)" }
                == ["s@-7200", "x@500", "s@86400", "s@90500"])

        // The single event is removed: its future occurrence goes, the past ones of the series stay.
        var w = update(generation: 3, removed: ["x"])
        w.occurrences = OccurrenceUpdate(uids: ["x"], from: now + 100, rows: [], until: OccurrenceUpdate.complete)
        try await store.apply([w], runID: run, at: now + 100)
        #expect(try await store.occurrences(feedID: "f", after: now - 10_000).map(\.recordKey) == ["s", "s", "s"])
        #expect(try await store.feedStates()["f"]?.occurrencesUntil == OccurrenceUpdate.complete)

        // A full rewrite keeps the rows of an event that could not be read.
        var k = update(generation: 4)
        k.occurrences = OccurrenceUpdate(uids: nil, from: now, rows: [], keep: ["s"], until: nil)
        try await store.apply([k], runID: run, at: now)
        #expect(try await store.occurrences(feedID: "f", after: now - 10_000).count == 3)
        k.occurrences = OccurrenceUpdate(uids: nil, from: now, rows: [], until: nil)
        try await store.apply([k], runID: run, at: now)
        #expect(try await store.occurrences(feedID: "f", after: now - 10_000).map { $0.start - now } == [-7200])
        #expect(try await store.feedStates()["f"]?.occurrencesUntil == nil)

        // Prune drops a feed's future occurrences too.
        var p = update("g", added: [single])
        p.occurrences = OccurrenceUpdate(uids: nil, from: now, rows: [occurrence("x", start: now + 500)], until: OccurrenceUpdate.complete)
        try await store.apply([p], runID: run, at: now)
        _ = try await store.prune(feedIDs: ["g"], at: now)
        #expect(try await store.occurrences(feedID: "g", after: 0).isEmpty)
        #expect(try await store.feedStates()["g"]?.occurrencesUntil == nil)
    }
}
