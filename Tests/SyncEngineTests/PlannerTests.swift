import FeedModel
import Testing
@testable import SyncEngine

/// The decision table of DESIGN.md §5, checked cell by cell.
@Suite("Planner")
struct PlannerTests {
    static let now: Int64 = 1_800_000_000

    enum End: CaseIterable, CustomStringConvertible {
        case past, future, forever
        var lastEnd: Int64? {
            switch self {
            case .past: PlannerTests.now - 3600
            case .future: PlannerTests.now + 3600
            case .forever: nil
            }
        }
        var isFuture: Bool { self != .past }
        var description: String { "\(self == .past ? "past" : self == .future ? "future" : "forever")" }
    }

    enum Outcome: Equatable { case added, updated, removed, unchanged, pastSkipped, nothing }

    static func record(_ key: String, hash: UInt64, end: End) -> FeedRecord {
        FeedRecord(key: key, uid: key, recurrenceID: nil, hash: hash, start: now - 7200,
                   end: end.lastEnd ?? now + 3600, lastEnd: end.lastEnd, allDay: false, body: [])
    }

    static func outcome(of plan: ChangeSet) -> Outcome {
        if !plan.added.isEmpty { return .added }
        if !plan.updated.isEmpty { return .updated }
        if !plan.removed.isEmpty { return .removed }
        if plan.unchanged > 0 { return .unchanged }
        if plan.pastSkipped > 0 { return .pastSkipped }
        return .nothing
    }

    /// Every (old, new, same hash?) cell of the incremental table.
    @Test("incremental: every cell of the decision table", arguments: [End?.none] + End.allCases.map(Optional.some))
    func incrementalTable(old: End?) {
        for new in [End?.none] + End.allCases.map(Optional.some) {
            for sameHash in [true, false] {
                if old == nil && new == nil { continue }
                if (old == nil || new == nil) && !sameHash { continue }
                let previous = old.map { [PriorRecord(key: "k", hash: 1, lastEnd: $0.lastEnd)] } ?? []
                let records = new.map { [Self.record("k", hash: sameHash ? 1 : 2, end: $0)] } ?? []
                let plan = Planner.incremental(previous: previous, records: records, now: Self.now)
                let expected: Outcome
                switch (old, new) {
                case (nil, let n?): expected = n.isFuture ? .added : .pastSkipped
                case (let o?, nil): expected = o.isFuture ? .removed : .pastSkipped
                case (let o?, let n?):
                    expected = sameHash ? .unchanged : (o.isFuture || n.isFuture ? .updated : .pastSkipped)
                default: expected = .nothing
                }
                #expect(Self.outcome(of: plan) == expected, "old \(String(describing: old)) new \(String(describing: new)) same hash \(sameHash)")
                let total = plan.added.count + plan.updated.count + plan.removed.count + plan.unchanged + plan.pastSkipped
                #expect(total == 1, "each record lands in exactly one bucket")
            }
        }
    }

    enum Row: CaseIterable { case activePast, activeFuture, removedPast, removedFuture
        var end: End { self == .activePast || self == .removedPast ? .past : .future }
        var removed: Bool { self == .removedPast || self == .removedFuture }
    }

    @Test("full: every cell of the reconcile table", arguments: [Row?.none] + Row.allCases.map(Optional.some))
    func fullTable(row: Row?) {
        for new in [End?.none] + End.allCases.map(Optional.some) {
            for sameHash in [true, false] {
                if row == nil && new == nil { continue }
                if (row == nil || new == nil) && !sameHash { continue }
                let stored = row.map { [PriorRecord(key: "k", hash: 1, lastEnd: $0.end.lastEnd, removed: $0.removed)] } ?? []
                let records = new.map { [Self.record("k", hash: sameHash ? 1 : 2, end: $0)] } ?? []
                let plan = Planner.full(stored: stored, records: records, now: Self.now)
                let expected: Outcome
                switch (row, new) {
                case (nil, _?): expected = .added                      // past records count in a full sync
                case (let r?, nil): expected = r.removed ? .nothing : (r.end.isFuture ? .removed : .pastSkipped)
                case (let r?, _?): expected = r.removed ? .added : (sameHash ? .unchanged : .updated)
                default: expected = .nothing
                }
                #expect(Self.outcome(of: plan) == expected, "row \(String(describing: row)) new \(String(describing: new)) same hash \(sameHash)")
            }
        }
    }

    @Test("incremental counts previous future records for the guard")
    func previousFutureCount() {
        let previous = [PriorRecord(key: "a", hash: 1, lastEnd: Self.now - 1),
                        PriorRecord(key: "b", hash: 1, lastEnd: Self.now + 1),
                        PriorRecord(key: "c", hash: 1, lastEnd: nil)]
        let plan = Planner.incremental(previous: previous, records: [], now: Self.now)
        #expect(plan.previousFuture == 2)
        #expect(plan.removed == ["b", "c"])
        #expect(plan.pastSkipped == 1)
    }

    @Test("an end exactly at now is past")
    func boundary() {
        let plan = Planner.incremental(previous: [], records: [Self.record("a", hash: 1, end: .past)].map {
            var r = $0; r.lastEnd = Self.now; return r
        }, now: Self.now)
        #expect(plan.added.isEmpty)
        #expect(plan.pastSkipped == 1)
    }

    @Test("guard: an empty feed that had future events is suspicious")
    func guardEmpty() {
        var plan = ChangeSet()
        plan.previousFuture = 3
        plan.removed = ["a", "b", "c"]
        let why = Planner.suspicion(of: plan, recordCount: 0)
        #expect(why?.contains("no events") == true)
    }

    @Test("guard: losing more than half of the future events is suspicious, half is not")
    func guardHalf() {
        var plan = ChangeSet()
        plan.previousFuture = 4
        plan.removed = ["a", "b"]
        #expect(Planner.suspicion(of: plan, recordCount: 10) == nil)
        plan.removed = ["a", "b", "c"]
        #expect(Planner.suspicion(of: plan, recordCount: 10)?.contains("3 of its 4") == true)
    }

    @Test("guard: an empty feed with only past history is fine")
    func guardEmptyPast() {
        var plan = ChangeSet()
        plan.previousFuture = 0
        plan.pastSkipped = 5
        #expect(Planner.suspicion(of: plan, recordCount: 0) == nil)
    }

    @Test("full: a cancelled occurrence stored removed is unchanged while its hash holds; any other removed row that reappears is added")
    func cancelledOccurrenceFull() {
        var cancelled = FeedRecord(key: "s|RID:x", uid: "s", recurrenceID: "x", hash: 5, start: Self.now + 10, end: Self.now + 20,
                                   lastEnd: Self.now + 20, allDay: false, body: [])
        cancelled.status = "CANCELLED"
        let stored = [PriorRecord(key: "s|RID:x", hash: 5, lastEnd: Self.now + 20, removed: true)]
        #expect(Self.outcome(of: Planner.full(stored: stored, records: [cancelled], now: Self.now)) == .unchanged)
        var changed = cancelled
        changed.hash = 6
        #expect(Self.outcome(of: Planner.full(stored: stored, records: [changed], now: Self.now)) == .added)
        var confirmed = cancelled
        confirmed.status = "CONFIRMED"
        #expect(Self.outcome(of: Planner.full(stored: stored, records: [confirmed], now: Self.now)) == .added)
    }
}
