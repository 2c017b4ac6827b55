/// What happened to a feed in a run (the report's and the store's `last_status`).
public enum FeedStatus: String, Sendable, Codable, CaseIterable {
    case unchanged, changed, failed
    /// Not reached: the run was stopped (SIGTERM, SIGINT) before it got to the feed. Only in
    /// reports: nothing of the feed was read or written.
    case skipped
}

/// How a feed is synced in a run.
public enum SyncType: String, Sendable, Codable, CaseIterable {
    /// Diffed against its snapshot, future records only.
    case incremental
    /// Reconciled against the store's rows (asked for, first sync, or snapshot too old).
    case full
    /// Reconciled against the store because its snapshot could not be trusted.
    case fullFallback = "full_fallback"
    /// Not diffed: unchanged or failed.
    case none
}

/// The mode of a run: `feedsync run` or `feedsync run --force-full-sync`.
public enum SyncMode: String, Sendable, Codable {
    case incremental, full
}

/// How a run ended, as the store's `runs` table keeps it.
public enum RunStatus: String, Sendable, Codable {
    /// Still going.
    case running
    /// Every feed synced.
    case ok
    /// Some feeds failed; the others were synced.
    case partial
    /// The run stopped before its end (the store or the snapshot folder failed).
    case failed
    /// Stopped by a signal: the feeds it reached were synced and committed, the others skipped.
    case interrupted
    /// Killed before it could write its end (kill -9, power lost): found `running` by the next
    /// run, which holds the run lock, so that no live run is so marked.
    case aborted
}

/// What the last run knew of one record: from the snapshot (incremental) or the store (full).
public struct PriorRecord: Sendable, Equatable {
    public var key: String
    public var hash: UInt64
    /// nil = the series never ends.
    public var lastEnd: Int64?
    /// Only store rows can be removed ones.
    public var removed: Bool

    public init(key: String, hash: UInt64, lastEnd: Int64?, removed: Bool = false) {
        self.key = key
        self.hash = hash
        self.lastEnd = lastEnd
        self.removed = removed
    }
}

/// The counts of a run: feeds by status, events by kind of change. The run report shows them and
/// the store's `runs` row keeps them.
public struct RunCounts: Sendable, Equatable {
    public var feedsTotal = 0, feedsUnchanged = 0, feedsChanged = 0, feedsFailed = 0, feedsSkipped = 0
    public var eventsAdded = 0, eventsUpdated = 0, eventsRemoved = 0, eventsPastSkipped = 0
    public init() {}

    /// Counts one feed's result.
    public mutating func count(status: FeedStatus, added: Int, updated: Int, removed: Int, pastSkipped: Int) {
        feedsTotal += 1
        switch status {
        case .unchanged: feedsUnchanged += 1
        case .changed: feedsChanged += 1
        case .failed: feedsFailed += 1
        case .skipped: feedsSkipped += 1
        }
        eventsAdded += added
        eventsUpdated += updated
        eventsRemoved += removed
        eventsPastSkipped += pastSkipped
    }
}
