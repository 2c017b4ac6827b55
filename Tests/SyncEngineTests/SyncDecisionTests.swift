import FeedModel
import FeedSources
import Snapshots
import Stores
import Testing
@testable import SyncEngine

/// The sync decision, cell by cell (SyncDecision's steps 1–5).
@Suite("Sync decision")
struct SyncDecisionTests {
    static let now: Int64 = 1_800_000_000
    static let day: Int64 = 86_400

    static func state(generation: UInt64? = 3, lastSuccessDaysAgo: Int64? = 1) -> FeedState {
        FeedState(id: "f", fingerprint: "ff", etag: "\"e\"", lastModified: "Mon, 30 Nov 2026 02:00:00 GMT",
                  snapshotGeneration: generation, lastSuccessAt: lastSuccessDaysAgo.map { now - $0 * day })
    }

    // MARK: 1. fullReason

    @Test("full reason: forced wins, then a first sync, then a last success past the threshold", arguments: [
        // (forced, state, expected)
        (true, Optional<FeedState>.none, "--force-full-sync"),
        (true, state(), "--force-full-sync"),
        (false, nil, "first sync"),
        (false, state(generation: nil), "first sync"),
        (false, state(lastSuccessDaysAgo: 8), "last successful sync 8 days ago (threshold 7)"),
        (false, state(lastSuccessDaysAgo: 7), nil),
        (false, state(lastSuccessDaysAgo: 0), nil),
        (false, state(lastSuccessDaysAgo: nil), nil),
    ] as [(Bool, FeedState?, String?)])
    func fullReason(_ forced: Bool, _ state: FeedState?, _ expected: String?) {
        #expect(SyncDecision.fullReason(state: state, forceFull: forced, now: Self.now, incrementalDays: 7) == expected)
    }

    @Test("exactly incremental_days ago is still incremental; a second more is full")
    func thresholdEdge() {
        var s = Self.state()
        s.lastSuccessAt = Self.now - 7 * Self.day
        #expect(SyncDecision.fullReason(state: s, forceFull: false, now: Self.now, incrementalDays: 7) == nil)
        s.lastSuccessAt = Self.now - 7 * Self.day - 1
        #expect(SyncDecision.fullReason(state: s, forceFull: false, now: Self.now, incrementalDays: 7) != nil)
        #expect(SyncDecision.fullReason(state: Self.state(lastSuccessDaysAgo: 1), forceFull: false, now: Self.now,
                                        incrementalDays: 0) == "last successful sync 1 days ago (threshold 0)")
    }

    // MARK: 2. validators

    @Test("validators are sent only when a skip is possible", arguments: [
        (nil, true, true, true),
        (nil, false, true, false),
        ("first sync", true, true, false),
        (nil, true, false, false),
    ] as [(String?, Bool, Bool, Bool)])
    func validators(_ fullReason: String?, _ sound: Bool, _ hasState: Bool, _ sent: Bool) {
        let v = SyncDecision.validators(fullReason: fullReason, state: hasState ? Self.state() : nil, snapshotSound: sound)
        #expect(v == (sent ? Validators(etag: "\"e\"", lastModified: "Mon, 30 Nov 2026 02:00:00 GMT") : .none))
    }

    // MARK: 3. afterFetch

    @Test("skip or parse, every cell", arguments: [
        // (fetch, full reason?, snapshot sound, expected)
        (SyncDecision.Fetch.notModified, false, true, SyncDecision.AfterFetch.skip(reason: "HTTP 304 Not Modified")),
        (.body(fingerprintUnchanged: true), false, true, .skip(reason: "body fingerprint unchanged")),
        (.body(fingerprintUnchanged: true), false, false, .parse),   // damaged or missing snapshot: full_fallback
        (.body(fingerprintUnchanged: true), true, true, .parse),     // forced / first / stale
        (.body(fingerprintUnchanged: false), false, true, .parse),
        (.body(fingerprintUnchanged: false), true, false, .parse),
    ] as [(SyncDecision.Fetch, Bool, Bool, SyncDecision.AfterFetch)])
    func afterFetch(_ fetch: SyncDecision.Fetch, _ full: Bool, _ sound: Bool, _ expected: SyncDecision.AfterFetch) {
        #expect(SyncDecision.afterFetch(fetch, fullReason: full ? "--force-full-sync" : nil, snapshotSound: sound) == expected)
    }

    @Test("the snapshot's soundness is asked only when the fingerprint matched and no full reason holds")
    func soundnessAskedOnlyWhenItMatters() {
        var asked = 0
        func sound() -> Bool { asked += 1; return true }
        _ = SyncDecision.afterFetch(.body(fingerprintUnchanged: false), fullReason: nil, snapshotSound: sound())
        _ = SyncDecision.afterFetch(.body(fingerprintUnchanged: true), fullReason: "first sync", snapshotSound: sound())
        _ = SyncDecision.afterFetch(.notModified, fullReason: nil, snapshotSound: sound())
        #expect(asked == 0)
        _ = SyncDecision.afterFetch(.body(fingerprintUnchanged: true), fullReason: nil, snapshotSound: sound())
        #expect(asked == 1)
    }

    // MARK: 4. syncType

    static let young = now - 2 * day
    static let old = now - 8 * day

    @Test("the sync type of a parsed feed, every cell", arguments: [
        (Optional<String>.none, SyncDecision.SnapshotFinding.sound(format: "ics", parserVersion: 2, createdAt: young),
         SyncDecision.Choice(.incremental, "body changed")),
        ("--force-full-sync", .sound(format: "ics", parserVersion: 2, createdAt: young), .init(.full, "--force-full-sync")),
        ("first sync", SyncDecision.SnapshotFinding.none, .init(.full, "first sync")),
        (nil, SyncDecision.SnapshotFinding.none, .init(.full, "first sync")),
        (nil, .unusable("snapshot x.3.fsnap: checksum mismatch: …"),
         .init(.fullFallback, "snapshot unusable: snapshot x.3.fsnap: checksum mismatch: …")),
        (nil, .sound(format: "ics", parserVersion: 1, createdAt: young),
         .init(.fullFallback, "snapshot written by parser version 1, this is 2")),
        (nil, .sound(format: "json", parserVersion: 2, createdAt: young),
         .init(.fullFallback, "snapshot holds a json feed, this feed is ics")),
        (nil, .sound(format: "ics", parserVersion: 2, createdAt: old), .init(.full, "snapshot is 8 days old (threshold 7)")),
        // Another format or version is not trusted, however old: the fallback says why.
        (nil, .sound(format: "json", parserVersion: 1, createdAt: old),
         .init(.fullFallback, "snapshot holds a json feed, this feed is ics")),
        (nil, .sound(format: "ics", parserVersion: 1, createdAt: old),
         .init(.fullFallback, "snapshot written by parser version 1, this is 2")),
    ] as [(String?, SyncDecision.SnapshotFinding, SyncDecision.Choice)])
    func syncType(_ fullReason: String?, _ finding: SyncDecision.SnapshotFinding, _ expected: SyncDecision.Choice) {
        let c = SyncDecision.syncType(fullReason: fullReason, snapshot: finding, format: "ics", parserVersion: 2,
                                      now: Self.now, incrementalDays: 7)
        #expect(c == expected)
        #expect(c.diffsAgainstSnapshot == (c.syncType == .incremental))
    }

    // MARK: Occurrences

    @Test("a feed is read to materialise its occurrences when they are not in the table or reach less than the horizon")
    func materialises() {
        let now: Int64 = 1_800_000_000, day: Int64 = 86_400
        func state(_ until: Int64?, generation: UInt64? = 1) -> FeedState {
            FeedState(id: "f", snapshotGeneration: generation, occurrencesUntil: until)
        }
        #expect(SyncDecision.materialisesOccurrences(state: state(nil), now: now, horizonDays: 400))
        #expect(SyncDecision.materialisesOccurrences(state: state(now + 399 * day), now: now, horizonDays: 400))
        #expect(!SyncDecision.materialisesOccurrences(state: state(now + 400 * day), now: now, horizonDays: 400))
        #expect(!SyncDecision.materialisesOccurrences(state: state(OccurrenceUpdate.complete), now: now, horizonDays: 400))
        // The table off; a first sync (no generation, no state) is read anyway.
        #expect(!SyncDecision.materialisesOccurrences(state: state(nil), now: now, horizonDays: 0))
        #expect(!SyncDecision.materialisesOccurrences(state: state(nil, generation: nil), now: now, horizonDays: 400))
        #expect(!SyncDecision.materialisesOccurrences(state: nil, now: now, horizonDays: 400))
        // It is never skipped then: no validators, and an unchanged body is parsed.
        #expect(SyncDecision.validators(fullReason: nil, state: FeedState(id: "f", etag: "e"), snapshotSound: true, materialises: true) == .none)
        #expect(SyncDecision.afterFetch(.body(fingerprintUnchanged: true), fullReason: nil, materialises: true, snapshotSound: true) == .parse)
    }

    @Test("how far occurrences reach after a rewrite: a partial one never claims more than was there")
    func occurrencesUntil() {
        let end: Int64 = 2_000_000_000, complete = OccurrenceUpdate.complete
        #expect(SyncDecision.occurrencesUntil(replacedAll: true, stored: nil, windowEnd: end, reachesBeyond: true) == end)
        #expect(SyncDecision.occurrencesUntil(replacedAll: true, stored: 5, windowEnd: end, reachesBeyond: false) == complete)
        #expect(SyncDecision.occurrencesUntil(replacedAll: false, stored: complete, windowEnd: end, reachesBeyond: true) == end)
        #expect(SyncDecision.occurrencesUntil(replacedAll: false, stored: end - 10, windowEnd: end, reachesBeyond: false) == end - 10)
        #expect(SyncDecision.occurrencesUntil(replacedAll: false, stored: nil, windowEnd: end, reachesBeyond: false) == nil)
    }

    // MARK: 5. keepsSnapshot

    @Test("a full sync keeps its snapshot only when nothing changed at all; an incremental one of the same body that changed nothing too",
          arguments: [SyncType.incremental, .full, .fullFallback])
    func keepsSnapshot(_ type: SyncType) {
        for planEmpty in [false, true] {
            for sameBody in [false, true] {
                for hasGeneration in [false, true] {
                    for matches in [false, true] {
                        let keeps = SyncDecision.keepsSnapshot(syncType: type, planIsEmpty: planEmpty, fingerprintUnchanged: sameBody,
                                                              hasGeneration: hasGeneration, snapshotMatches: matches)
                        let incremental = type == .incremental && planEmpty && sameBody && hasGeneration
                        #expect(keeps == (type == .full && planEmpty && sameBody && hasGeneration && matches || incremental))
                    }
                }
            }
        }
    }
}

/// One result per feed: the report line and the store update cannot disagree.
@Suite("Feed result")
struct FeedResultTests {
    func record(_ key: String) -> FeedRecord {
        FeedRecord(key: key, uid: key, recurrenceID: nil, hash: 1, start: 0, end: 1, lastEnd: 1, allDay: false, body: [])
    }

    func planned() -> FeedResult {
        var r = FeedResult(feed: FeedConfig(id: "f", url: "https://h/x.ics?s=SECRET", property: "Flat"))
        r.status = .changed
        r.syncType = .incremental
        r.reason = "body changed"
        var plan = ChangeSet()
        plan.added = [record("a")]
        plan.removed = ["b"]
        plan.pastSkipped = 4
        plan.unchanged = 2
        r.plan = plan
        r.fingerprint = "00"
        r.validators = Validators(etag: "\"e\"")
        r.snapshotGeneration = 5
        r.records = 3
        return r
    }

    @Test("a planned feed: the report's counts and the update's rows come from the same plan")
    func success() {
        let r = planned()
        let report = r.report, update = r.update
        #expect(report.url == "https://h/x.ics?s=…" && update.urlRedacted == report.url)
        #expect(report.added == update.added.count && report.removed == update.removed.count)
        #expect(report.pastSkipped == 4 && report.unchanged == 2 && report.records == 3)
        #expect(report.snapshotGeneration == 5 && update.snapshotGeneration == 5)
        #expect(update.status == .changed && update.etag == "\"e\"" && update.property == "Flat")
    }

    @Test("a feed that failed after planning (its snapshot could not be written) reports no generation and no counts")
    func failure() {
        var r = planned()
        r.fail(FeedError(.snapshot, "cannot write the snapshot: disk full"))
        let report = r.report, update = r.update
        #expect(report.status == .failed && report.syncType == .none && report.error == "cannot write the snapshot: disk full")
        #expect(report.snapshotGeneration == nil && report.errorCode == "snapshot")
        #expect(report.added == 0 && report.removed == 0 && report.pastSkipped == 0 && report.unchanged == 0)
        #expect(update.status == .failed && update.error == report.error)
        #expect(update.snapshotGeneration == nil && update.fingerprint == nil && update.eventCount == 0)
    }
}

/// When a run may leave out the leftover check: every cell.
@Suite("Sync decision: the leftover check")
struct LeftoverCheckDecisionTests {
    @Test("skipped only after a clean mark of this store whose run the store has, and never for --force-full-sync")
    func cells() {
        let mark = CleanMark(storeID: "s1", runID: 7)
        #expect(SyncDecision.skipsLeftoverCheck(mark: mark, storeID: "s1", markRunKnown: true, forceFull: false))
        #expect(!SyncDecision.skipsLeftoverCheck(mark: mark, storeID: "s1", markRunKnown: true, forceFull: true))
        #expect(!SyncDecision.skipsLeftoverCheck(mark: mark, storeID: "s1", markRunKnown: false, forceFull: false))
        #expect(!SyncDecision.skipsLeftoverCheck(mark: mark, storeID: "s2", markRunKnown: true, forceFull: false))
        #expect(!SyncDecision.skipsLeftoverCheck(mark: mark, storeID: nil, markRunKnown: true, forceFull: false))
        #expect(!SyncDecision.skipsLeftoverCheck(mark: nil, storeID: "s1", markRunKnown: true, forceFull: false))
    }

    @Test("the mark's text reads back; a torn or foreign one does not")
    func markText() {
        let mark = CleanMark(storeID: "3f2a-store", runID: 42)
        #expect(CleanMark(text: mark.text) == mark)
        for torn in ["", "3f2a-store\n", "3f2a-store\n42", "3f2a-store\n4x\n", "\n42\n", "a\n1\n2\n"] {
            #expect(CleanMark(text: torn) == nil, "\(torn)")
        }
    }
}

/// The rotation of full snapshot checks over the nights.
@Suite("Sync decision: full snapshot checks in rotation")
struct SnapshotRotationTests {
    @Test("each feed once in any incremental_days consecutive nights; every night with 1 (or 0)")
    func rotation() {
        let ids = (0..<700).map { "feed-\($0)" }
        let first: Int64 = 1_795_000_000
        for days in [2, 7, 30] {
            var perNight = Array(repeating: 0, count: days)
            for id in ids {
                // Any window of `days` nights, starting anywhere.
                for start in [first, first + 86_400 * 3 + 7_200] {
                    let nights = (0..<days).filter {
                        SyncDecision.checksSnapshotInFull(feedID: id, now: start + Int64($0) * 86_400, incrementalDays: days)
                    }
                    #expect(nights.count == 1, "\(id), \(days) days")
                    if start == first, let n = nights.first { perNight[n] += 1 }
                }
                // The same night at any hour.
                let a = SyncDecision.checksSnapshotInFull(feedID: id, now: first - first % 86_400, incrementalDays: days)
                let b = SyncDecision.checksSnapshotInFull(feedID: id, now: first - first % 86_400 + 86_399, incrementalDays: days)
                #expect(a == b)
            }
            // Spread over the nights, not bunched on one.
            #expect(perNight.allSatisfy { $0 > ids.count / days / 2 }, "\(perNight)")
        }
        for days in [0, 1] {
            #expect(ids.allSatisfy { SyncDecision.checksSnapshotInFull(feedID: $0, now: first, incrementalDays: days) })
        }
    }
}
