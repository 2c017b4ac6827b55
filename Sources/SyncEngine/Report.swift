public import FeedSources
/// What happened to one feed in a run. Field names are the JSON report's (docs/report.md).
public struct FeedReport: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable { case unchanged, changed, failed }

    public var id: String
    public var url: String
    public var status: Status
    public var syncType: SyncType
    /// Why this sync type (e.g. "first sync", "snapshot is 9 days old", "body fingerprint unchanged").
    public var reason: String
    public var added = 0
    public var updated = 0
    public var removed = 0
    public var unchanged = 0
    public var pastSkipped = 0
    /// Records the feed holds now (nil when it was not parsed).
    public var records: Int?
    public var snapshotGeneration: UInt64?
    public var error: String?
    public var warnings: [String] = []
    public var durationMs: Double = 0
    /// HTTP facts (status, bytes, attempts, time) for an HTTP feed; absent for files.
    public var http: HTTPFacts?

    public init(id: String, url: String, status: Status, syncType: SyncType, reason: String) {
        self.id = id
        self.url = url
        self.status = status
        self.syncType = syncType
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case id, url, status, reason, added, updated, removed, unchanged, records, error, warnings, http
        case syncType = "sync_type"
        case pastSkipped = "past_skipped"
        case snapshotGeneration = "snapshot_generation"
        case durationMs = "duration_ms"
    }
}

/// Seconds spent in each phase. Fetch, fingerprint, parse, plan and snapshot are summed over
/// the feeds (they run concurrently, so they can add up to more than the wall time); store is the
/// writer's wall time.
public struct PhaseTimes: Sendable, Codable, Equatable {
    public var fetch = 0.0
    public var fingerprint = 0.0
    public var parse = 0.0
    public var plan = 0.0
    public var snapshot = 0.0
    public var store = 0.0
    public init() {}

    mutating func add(_ other: PhaseTimes) {
        fetch += other.fetch
        fingerprint += other.fingerprint
        parse += other.parse
        plan += other.plan
        snapshot += other.snapshot
        store += other.store
    }
}

/// The run report (`--report PATH`), also the source of the summary line.
public struct RunReport: Sendable, Codable, Equatable {
    public var mode: String
    public var now: String
    public var startedAt: String
    public var finishedAt: String
    public var dryRun: Bool
    public var feedsTotal = 0
    public var feedsUnchanged = 0
    public var feedsChanged = 0
    public var feedsFailed = 0
    public var eventsAdded = 0
    public var eventsUpdated = 0
    public var eventsRemoved = 0
    public var eventsPastSkipped = 0
    public var seconds = 0.0
    public var phases = PhaseTimes()
    public var feeds: [FeedReport] = []

    public init(mode: String, now: String, startedAt: String, dryRun: Bool) {
        self.mode = mode
        self.now = now
        self.startedAt = startedAt
        self.finishedAt = startedAt
        self.dryRun = dryRun
    }

    enum CodingKeys: String, CodingKey {
        case mode, now, seconds, phases, feeds
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case dryRun = "dry_run"
        case feedsTotal = "feeds_total"
        case feedsUnchanged = "feeds_unchanged"
        case feedsChanged = "feeds_changed"
        case feedsFailed = "feeds_failed"
        case eventsAdded = "events_added"
        case eventsUpdated = "events_updated"
        case eventsRemoved = "events_removed"
        case eventsPastSkipped = "events_past_skipped"
    }

    mutating func count(_ f: FeedReport) {
        feedsTotal += 1
        switch f.status {
        case .unchanged: feedsUnchanged += 1
        case .changed: feedsChanged += 1
        case .failed: feedsFailed += 1
        }
        eventsAdded += f.added
        eventsUpdated += f.updated
        eventsRemoved += f.removed
        eventsPastSkipped += f.pastSkipped
    }
}
