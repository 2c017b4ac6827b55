public import FeedModel

/// The changes one feed needs, decided before anything is written.
public struct ChangeSet: Sendable, Equatable {
    /// New records, and (full sync) removed rows that reappeared.
    public var added: [FeedRecord] = []
    public var updated: [FeedRecord] = []
    /// Keys of rows to mark removed.
    public var removed: [String] = []
    /// Records whose content did not change.
    public var unchanged = 0
    /// Records left alone because they (and their previous version) are past.
    public var pastSkipped = 0
    /// Future records the last run knew of (for the mass-removal guard).
    public var previousFuture = 0

    public init() {}

    public var isEmpty: Bool { added.isEmpty && updated.isEmpty && removed.isEmpty }
}

/// The pure decision table: no I/O, no clock but `now`.
public enum Planner {
    /// Incremental diff against the snapshot of the last run. Only the future counts:
    /// - added: key new and its (last) end is after `now`;
    /// - updated: hash differs and the old or the new end is after `now`;
    /// - removed: key gone and its old end is after `now`;
    /// - everything else is unchanged, or past and not touched.
    public static func incremental(previous: [PriorRecord], records: [FeedRecord], now: Int64) -> ChangeSet {
        diff(previous: previous, records: records, now: now, removeMissing: true)
    }

    /// A delta (a child's records modified since its last sync) against the snapshot of the last
    /// run: new future records are added, changed ones updated as in `incremental`; nothing is
    /// removed, since a delta does not list what did not change.
    public static func delta(previous: [PriorRecord], records: [FeedRecord], now: Int64) -> ChangeSet {
        diff(previous: previous, records: records, now: now, removeMissing: false)
    }

    private static func diff(previous: [PriorRecord], records: [FeedRecord], now: Int64, removeMissing: Bool) -> ChangeSet {
        var plan = ChangeSet()
        var old: [String: PriorRecord] = [:]
        old.reserveCapacity(previous.count)
        for p in previous {
            old[p.key] = p
            if endsAfter(p.lastEnd, now: now) { plan.previousFuture += 1 }
        }
        for r in records {
            if let p = old.removeValue(forKey: r.key) {
                if p.hash == r.hash {
                    plan.unchanged += 1
                } else if endsAfter(p.lastEnd, now: now) || r.isFuture(now: now) {
                    plan.updated.append(r)
                } else {
                    plan.pastSkipped += 1
                }
            } else if r.isFuture(now: now) {
                plan.added.append(r)
            } else {
                plan.pastSkipped += 1
            }
        }
        guard removeMissing else { return plan }
        for p in old.values.sorted(by: { $0.key < $1.key }) {
            if endsAfter(p.lastEnd, now: now) {
                plan.removed.append(p.key)
            } else {
                plan.pastSkipped += 1
            }
        }
        return plan
    }

    /// Full reconcile against the store's rows for the feed. Past edits count; a row missing from
    /// the feed is marked removed only when it is future (past rows are history); a removed row
    /// that reappears comes back (as added).
    public static func full(stored: [PriorRecord], records: [FeedRecord], now: Int64) -> ChangeSet {
        var plan = ChangeSet()
        var rows: [String: PriorRecord] = [:]
        rows.reserveCapacity(stored.count)
        for s in stored {
            rows[s.key] = s
            if !s.removed && endsAfter(s.lastEnd, now: now) { plan.previousFuture += 1 }
        }
        for r in records {
            if let s = rows.removeValue(forKey: r.key) {
                if s.removed && r.isCancelledOccurrence && s.hash == r.hash {
                    plan.unchanged += 1  // a cancelled occurrence is stored removed
                } else if s.removed {
                    plan.added.append(r)
                } else if s.hash != r.hash {
                    plan.updated.append(r)
                } else {
                    plan.unchanged += 1
                }
            } else {
                plan.added.append(r)
            }
        }
        for s in rows.values.sorted(by: { $0.key < $1.key }) where !s.removed {
            if endsAfter(s.lastEnd, now: now) {
                plan.removed.append(s.key)
            } else {
                plan.pastSkipped += 1
            }
        }
        return plan
    }

    /// The mass-removal guard: a feed that suddenly has no events while future ones were known,
    /// or that would lose more than half of its future events at once, is suspicious. Returns the
    /// reason, or nil when the plan may be applied.
    public static func suspicion(of plan: ChangeSet, recordCount: Int) -> String? {
        if recordCount == 0 && plan.previousFuture > 0 {
            return "the feed has no events, but the last sync knew \(plan.previousFuture) future event\(plan.previousFuture == 1 ? "" : "s"); nothing was changed (use --allow-mass-removal if this is real)"
        }
        if plan.removed.count > 0 && plan.removed.count * 2 > plan.previousFuture {
            return "the feed would lose \(plan.removed.count) of its \(plan.previousFuture) future events in one run; nothing was changed (use --allow-mass-removal if this is real)"
        }
        return nil
    }
}
