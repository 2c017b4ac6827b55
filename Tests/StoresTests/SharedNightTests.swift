import FeedModel
import Foundation
import PostgresTestSupport
import Testing
@testable import Stores

/// The shared night's rules on a real PostgreSQL server: claims in order and never twice,
/// leases that expire and are taken over, renewal, completion fenced by the lease, children only
/// from a parent whose lease holds, and which night a worker joins.
@Suite("A night shared through PostgreSQL: claims, leases, fencing")
struct SharedNightTests {
    let server = PostgresTestServer.shared

    func open(_ name: String) async throws -> (PostgresStore, String) {
        let url = try await server.newDatabase(name)
        return (try await PostgresStore.open(try PostgresLocation.parse(url)), url)
    }

    func night(_ store: PostgresStore, feeds: [String]) async throws -> Int64 {
        let run = try await store.beginRun(mode: .incremental, startedAt: 1_800_000_000, now: 1_800_000_000)
        try await store.openNight(NightSettings(runID: run, mode: .incremental, now: 1_800_000_000, incrementalDays: 3,
                                                allowMassRemoval: false, configDigest: "abc"), feeds: feeds)
        return run
    }

    func entries(_ claim: NightClaim) -> [NightEntry] {
        if case .feeds(let e) = claim { return e }
        return []
    }

    func changed(_ id: String, key: String) -> FeedUpdate {
        let r = FeedRecord(key: key, uid: key, recurrenceID: nil, hash: 7, start: 1_850_000_000, end: 1_850_086_400,
                           lastEnd: 1_850_086_400, allDay: false, summary: "S", body: [])
        return FeedUpdate(feedID: id, urlRedacted: "file:///\(id)", property: nil, status: .changed, added: [r])
    }

    func done(_ e: NightEntry, by worker: String) -> NightCompletion {
        NightCompletion(feedID: e.feedID, token: e.token, worker: worker, outcome: Array("{\"by\": \"\(worker)\"}".utf8))
    }

    @Test("claims come in order, never the same feed twice, then wait while others hold feeds, then complete")
    func claims() async throws {
        let (store, _) = try await open("night_claims")
        defer { Task { await store.close() } }
        let run = try await night(store, feeds: (1...10).map { "f\($0)" })
        let a = entries(try await store.claim(runID: run, owner: "a:1", limit: 4, leaseSeconds: 60))
        let b = entries(try await store.claim(runID: run, owner: "b:2", limit: 4, leaseSeconds: 60))
        let c = entries(try await store.claim(runID: run, owner: "c:3", limit: 4, leaseSeconds: 60))
        #expect(a.map(\.feedID) == ["f1", "f2", "f3", "f4"])
        #expect(b.map(\.feedID) == ["f5", "f6", "f7", "f8"])
        #expect(c.map(\.feedID) == ["f9", "f10"])
        #expect(Set((a + b + c).map(\.token)).count == 10 && (a + b + c).allSatisfy { $0.attempts == 1 && $0.previousOwner == nil })
        #expect(try await store.claim(runID: run, owner: "a:1", limit: 4, leaseSeconds: 60) == .wait)
        let lost = try await store.apply([], completing: (a + b + c).map { done($0, by: "x") }, runID: run, at: 1_800_000_000)
        #expect(lost.isEmpty)
        #expect(try await store.claim(runID: run, owner: "a:1", limit: 4, leaseSeconds: 60) == .complete)
        let progress = try await store.nightProgress(runID: run)
        #expect(progress.total == 10 && progress.done == 10)
        var seen: [String] = []
        try await store.nightOutcomes(runID: run) { id, worker, outcome in
            seen.append(id)
            #expect(worker == "x" && String(decoding: outcome, as: UTF8.self).contains("\"by\""))
        }
        #expect(seen == (1...10).map { "f\($0)" })
    }

    @Test("an expired lease is taken over with a new token; the old holder's batch applies and logs nothing of it")
    func takeOverAndFence() async throws {
        let (store, url) = try await open("night_fence")
        defer { Task { await store.close() } }
        let run = try await night(store, feeds: ["f1", "f2"])
        let old = entries(try await store.claim(runID: run, owner: "dead:1", limit: 2, leaseSeconds: 1))
        #expect(old.count == 2)
        try await Task.sleep(for: .milliseconds(1_300))
        let taken = entries(try await store.claim(runID: run, owner: "alive:2", limit: 1, leaseSeconds: 60))
        #expect(taken.map(\.feedID) == ["f1"])
        #expect(taken.first?.attempts == 2 && taken.first?.previousOwner == "dead:1")
        #expect(taken.first?.token != old.first?.token)
        // The old holder comes back and commits both: f1 is fenced off, f2 (not taken) goes in.
        let lost = try await store.apply([changed("f1", key: "old"), changed("f2", key: "k2")],
                                         completing: old.map { done($0, by: "dead:1") }, runID: run, at: 1_800_000_000)
        #expect(lost == ["f1"])
        #expect(try await server.psql("SELECT count(*) FROM events WHERE feed_id = 'f1'", url: url) == "0\n")
        #expect(try await server.psql("SELECT count(*) FROM changes WHERE feed_id = 'f1'", url: url) == "0\n")
        #expect(try await server.psql("SELECT count(*) FROM feeds WHERE id = 'f1'", url: url) == "0\n")
        #expect(try await server.psql("SELECT count(*) FROM changes WHERE feed_id = 'f2'", url: url) == "1\n")
        // The new holder's commit counts; a second commit of the same lease does nothing.
        #expect(try await store.apply([changed("f1", key: "new")], completing: taken.map { done($0, by: "alive:2") },
                                      runID: run, at: 1_800_000_000).isEmpty)
        #expect(try await store.apply([changed("f1", key: "again")], completing: taken.map { done($0, by: "alive:2") },
                                      runID: run, at: 1_800_000_000) == ["f1"])
        #expect(try await server.psql("SELECT string_agg(record_key, ',') FROM events WHERE feed_id = 'f1'", url: url) == "new\n")
        #expect(try await store.claim(runID: run, owner: "alive:2", limit: 4, leaseSeconds: 60) == .complete)
    }

    @Test("renewed leases are not taken over; children join only while the parent's lease holds")
    func renewAndChildren() async throws {
        let (store, _) = try await open("night_renew")
        defer { Task { await store.close() } }
        let run = try await night(store, feeds: ["parent", "other"])
        let mine = entries(try await store.claim(runID: run, owner: "a:1", limit: 2, leaseSeconds: 1))
        try await store.renew(runID: run, leases: mine.map { ($0.feedID, $0.token) }, leaseSeconds: 30)
        try await Task.sleep(for: .milliseconds(1_300))
        #expect(try await store.claim(runID: run, owner: "b:2", limit: 4, leaseSeconds: 30) == .wait)
        let parent = try #require(mine.first { $0.feedID == "parent" })
        let added = try await store.addChildren(runID: run, parentID: "parent", token: parent.token,
                                                children: [("parent/kids/1", ["event_id": "1"]), ("parent/kids/2", ["event_id": "2"])])
        #expect(added == 2)
        // Again (the parent processed twice): nothing new. With a stale token: nothing at all.
        #expect(try await store.addChildren(runID: run, parentID: "parent", token: parent.token,
                                            children: [("parent/kids/1", ["event_id": "1"])]) == 0)
        #expect(try await store.addChildren(runID: run, parentID: "parent", token: parent.token + 1_000,
                                            children: [("parent/kids/3", ["event_id": "3"])]) == 0)
        let kids = entries(try await store.claim(runID: run, owner: "b:2", limit: 4, leaseSeconds: 30))
        #expect(kids.map(\.feedID) == ["parent/kids/1", "parent/kids/2"])
        #expect(kids.map(\.parentID) == ["parent", "parent"] && kids.first?.childValues == ["event_id": "1"])
    }

    @Test("a worker joins a running night, or one opened since it looked even if already over; not older ones")
    func whichNight() async throws {
        let (store, url) = try await open("night_which")
        defer { Task { await store.close() } }
        let first = try await night(store, feeds: ["f1"])
        try await store.finishRun(id: first, finishedAt: 1_800_000_100, status: .ok, counts: RunCounts())
        let before = try await store.lastRunID()
        #expect(try await store.nextNight(after: 0, orAbove: before) == nil, "a night over before the worker looked is not joined")
        let second = try await night(store, feeds: ["f1"])
        try await store.finishRun(id: second, finishedAt: 1_800_000_200, status: .ok, counts: RunCounts())
        let joined = try #require(try await store.nextNight(after: 0, orAbove: before))
        #expect(joined.runID == second && joined.status == .ok && joined.configDigest == "abc" && joined.incrementalDays == 3)
        #expect(try await store.claim(runID: second, owner: "w:1", limit: 4, leaseSeconds: 30) == .complete)
        let third = try await night(store, feeds: ["f1"])
        #expect(try await store.nextNight(after: second, orAbove: second)?.runID == third)
        // A new night closes a shared night its dead run left running (the new run's start marks
        // it aborted), and forgets older rows.
        let fourth = try await night(store, feeds: ["f2"])
        #expect(try await store.run(id: third)?.status == .aborted)
        #expect(try await store.claim(runID: third, owner: "w:1", limit: 4, leaseSeconds: 30) == .complete)
        #expect(try await server.psql("SELECT DISTINCT run_id FROM night_feeds", url: url) == "\(fourth)\n")
    }
}
