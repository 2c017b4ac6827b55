public import FeedModel
public import FeedSources
public import Stores
public import Snapshots
import FeedHash

/// The sync decision for one feed, as pure functions of what is known at each step (the feed's
/// state, the options, the fetch, the snapshot): no I/O, no clock but `now`. `FeedWorker` does the
/// I/O between the steps; Tests/SyncEngineTests/SyncDecisionTests.swift checks every cell.
///
/// 1. `fullReason` — before anything is read: must the feed be synced in full?
/// 2. `validators` — what to send with an HTTP request (only when a skip is possible);
/// 3. `afterFetch` — skip the feed (304, same fingerprint with a sound snapshot) or parse it;
/// 4. `syncType` — once the snapshot's header is known: incremental against it, full, or
///    full_fallback when it cannot be trusted;
/// 5. `keepsSnapshot` — after planning a full sync: keep the sound snapshot instead of writing one.
public enum SyncDecision {
    /// Why the feed must be synced in full whatever its body says, or nil when it may be skipped or
    /// diffed incrementally: `--force-full-sync`, a first sync (no snapshot generation), or a last
    /// success older than `incrementalDays`.
    public static func fullReason(state: FeedState?, forceFull: Bool, now: Int64, incrementalDays: Int64) -> String? {
        if forceFull { return "--force-full-sync" }
        guard let state, state.snapshotGeneration != nil else { return "first sync" }
        if let last = state.lastSuccessAt, now - last > incrementalDays * 86_400 {
            return "last successful sync \((now - last) / 86_400) days ago (threshold \(incrementalDays))"
        }
        return nil
    }

    /// True when the feed's occurrences must be materialised anew tonight, so that it is read
    /// (not skipped) even when unchanged: the `occurrences` table is on (`horizonDays` > 0) and
    /// the feed's occurrences are not in it (a store from before the table, or the table was off)
    /// or reach less than `horizonDays` ahead of `now`. (A new feed is read anyway.)
    public static func materialisesOccurrences(state: FeedState?, now: Int64, horizonDays: Int) -> Bool {
        guard horizonDays > 0, let state, state.snapshotGeneration != nil else { return false }
        guard let until = state.occurrencesUntil else { return true }
        return until < now + Int64(horizonDays) * 86_400
    }

    /// The validators to send: the stored ones when a skip is possible (no full reason, a sound
    /// snapshot to fall back on and no occurrences to materialise), none otherwise, so the server
    /// sends the body.
    public static func validators(fullReason: String?, state: FeedState?, snapshotSound: Bool,
                                  materialises: Bool = false) -> Validators {
        guard fullReason == nil, snapshotSound, !materialises, let state else { return .none }
        return Validators(etag: state.etag, lastModified: state.lastModified)
    }

    /// What the fetch brought, as the decision needs it.
    public enum Fetch: Sendable, Equatable {
        /// HTTP 304 to the validators sent.
        case notModified
        /// A body whose fingerprint equals the stored one, or not.
        case body(fingerprintUnchanged: Bool)
    }

    public enum AfterFetch: Sendable, Equatable {
        /// The feed is unchanged: nothing is parsed or written but its state.
        case skip(reason: String)
        /// The feed is parsed and planned.
        case parse
    }

    /// Skip or parse. A skip needs a sound snapshot: a missing or damaged one is found here, and
    /// the feed goes on to a full_fallback sync (`snapshotSound` is asked only when it matters).
    /// A feed whose occurrences are to be materialised is parsed even when unchanged.
    public static func afterFetch(_ fetch: Fetch, fullReason: String?, materialises: Bool = false,
                                  snapshotSound: @autoclosure () -> Bool) -> AfterFetch {
        switch fetch {
        case .notModified:
            return .skip(reason: "HTTP 304 Not Modified")
        case .body(let unchanged):
            if fullReason == nil, unchanged, !materialises, snapshotSound() { return .skip(reason: "body fingerprint unchanged") }
            return .parse
        }
    }

    /// What reading the feed's current snapshot found.
    public enum SnapshotFinding: Sendable, Equatable {
        /// The store points at no generation (first sync).
        case none
        /// The snapshot cannot be read or trusted (missing, damaged, another feed's); the message says why.
        case unusable(String)
        /// A sound snapshot: its format, parser version and age.
        case sound(format: String, parserVersion: UInt32, createdAt: Int64)
    }

    public struct Choice: Sendable, Equatable {
        public var syncType: SyncType
        /// Why (the report's `reason`).
        public var reason: String
        /// True when the records are diffed against the snapshot (incremental).
        public var diffsAgainstSnapshot: Bool { syncType == .incremental }

        public init(_ syncType: SyncType, _ reason: String) {
            self.syncType = syncType
            self.reason = reason
        }
    }

    /// The sync type of a feed that is parsed. A full reason wins; else the snapshot decides:
    /// sound, of this format and parser version and younger than `incrementalDays` → incremental;
    /// too old → full; unusable, another format or parser version → full_fallback.
    public static func syncType(fullReason: String?, snapshot: SnapshotFinding, format: String, parserVersion: UInt32,
                                now: Int64, incrementalDays: Int64) -> Choice {
        if let fullReason { return Choice(.full, fullReason) }
        switch snapshot {
        case .none:
            return Choice(.full, "first sync")
        case .unusable(let why):
            return Choice(.fullFallback, "snapshot unusable: \(why)")
        case .sound(let f, _, _) where f != format:
            return Choice(.fullFallback, "snapshot holds a \(f) feed, this feed is \(format)")
        case .sound(_, let v, _) where v != parserVersion:
            return Choice(.fullFallback, "snapshot written by parser version \(v), this is \(parserVersion)")
        case .sound(_, _, let createdAt) where now - createdAt > incrementalDays * 86_400:
            return Choice(.full, "snapshot is \((now - createdAt) / 86_400) days old (threshold \(incrementalDays))")
        case .sound:
            return Choice(.incremental, "body changed")
        }
    }

    /// A full sync that changes nothing, of the same body, keeps the sound snapshot it has when that
    /// snapshot holds exactly the new records, rather than rewriting it.
    /// An incremental sync of the same body (read only to materialise occurrences) that changes
    /// nothing keeps its snapshot too: the body, hence every record, is the one it was made from.
    public static func keepsSnapshot(syncType: SyncType, planIsEmpty: Bool, fingerprintUnchanged: Bool,
                                     hasGeneration: Bool, snapshotMatches: @autoclosure () -> Bool) -> Bool {
        if syncType == .incremental { return planIsEmpty && fingerprintUnchanged && hasGeneration }
        return syncType == .full && planIsEmpty && fingerprintUnchanged && hasGeneration && snapshotMatches()
    }

    /// How far a feed's occurrences are materialised after a sync that rewrote `replacedAll` (all
    /// of them) or some series: to `windowEnd` when some record may have occurrences beyond it, else
    /// `OccurrenceUpdate.complete`; a partial rewrite never claims more than was there before.
    public static func occurrencesUntil(replacedAll: Bool, stored: Int64?, windowEnd: Int64, reachesBeyond: Bool) -> Int64? {
        let mine = reachesBeyond ? windowEnd : OccurrenceUpdate.complete
        if replacedAll { return mine }
        guard let stored else { return nil }
        return min(stored, mine)
    }

    /// Whether a run may leave out the check for what an interrupted run left in the snapshot
    /// folder: only when the last run that wrote to it ended cleanly and said so (its clean mark),
    /// for this store (not one made anew at the same place), with its run in the store (not a
    /// database restored from before it), and this is not a `--force-full-sync` maintenance run.
    public static func skipsLeftoverCheck(mark: CleanMark?, storeID: String?, markRunKnown: Bool, forceFull: Bool) -> Bool {
        guard let mark, let storeID, !forceFull else { return false }
        return mark.storeID == storeID && markRunKnown
    }

    /// Whether an unchanged feed's snapshot is checked in full tonight (checksum, header, name)
    /// rather than for its presence and size: one night in `incrementalDays`, the night chosen by
    /// the feed id, so every snapshot is checked in full at least once in any `incrementalDays`
    /// consecutive nights and about one in `incrementalDays` is read each night. (Damage found
    /// later costs nothing stored: the feed falls back to a full sync against the store the night
    /// it changes, when its snapshot is read in full anyway.)
    public static func checksSnapshotInFull(feedID: String, now: Int64, incrementalDays: Int) -> Bool {
        let days = UInt64(max(1, incrementalDays))
        guard days > 1 else { return true }
        let day = UInt64(bitPattern: now >= 0 ? now / 86_400 : (now - 86_399) / 86_400)
        return day % days == XXH3.hash64(feedID.utf8) % days
    }
}
