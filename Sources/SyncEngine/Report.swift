public import FeedModel
public import FeedSources

/// What happened to one feed in a run. Field names are the JSON report's (docs/report.md).
public struct FeedReport: Sendable, Codable, Equatable {
    public typealias Status = FeedStatus

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
    /// For a parent of children: how many of its records are future (the ones with children).
    public var future: Int?
    /// For a child feed: its parent's id.
    public var parent: String?
    /// For a parent: how its children were synced this run.
    public var children: ChildrenCounts?
    public var snapshotGeneration: UInt64?
    public var error: String?
    /// What kind of failure (`fetch`, `format`, `suspicious`, `snapshot`, `store`, `config`).
    public var errorCode: String?
    public var warnings: [String] = []
    public var durationMs: Double = 0
    /// HTTP facts (status, bytes, attempts, time) for an HTTP feed; absent for files.
    public var http: HTTPFacts?
    /// The process that handled the feed (`host:pid`).
    public var worker: String?
    /// Events that could not be read, whose stored state was kept (`on_bad_event: keep`).
    public var badEvents: [BadRecord]?

    public init(id: String, url: String, status: Status, syncType: SyncType, reason: String) {
        self.id = id
        self.url = url
        self.status = status
        self.syncType = syncType
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case id, url, status, reason, added, updated, removed, unchanged, records, error, warnings, http
        case future, parent, children, worker
        case syncType = "sync_type"
        case errorCode = "error_code"
        case pastSkipped = "past_skipped"
        case snapshotGeneration = "snapshot_generation"
        case durationMs = "duration_ms"
        case badEvents = "bad_events"
    }
}

/// How a parent's children were synced in a run (the parent's `children` in the report).
public struct ChildrenCounts: Sendable, Codable, Equatable {
    public var total = 0
    public var incremental = 0
    public var full = 0
    public var fullFallback = 0
    /// Skipped as unchanged (fingerprint or 304) without a diff.
    public var unchanged = 0
    public var failed = 0
    /// Not reached: the run was stopped.
    public var skipped = 0

    public init() {}

    mutating func count(_ child: FeedReport) {
        total += 1
        switch (child.status, child.syncType) {
        case (.failed, _): failed += 1
        case (.skipped, _): skipped += 1
        case (_, .incremental): incremental += 1
        case (_, .full): full += 1
        case (_, .fullFallback): fullFallback += 1
        case (_, .none): unchanged += 1
        }
    }

    enum CodingKeys: String, CodingKey {
        case total, incremental, full, unchanged, failed, skipped
        case fullFallback = "full_fallback"
    }
}

/// HTTP requests by response status and body bytes received, summed over a run's feeds.
public struct HTTPTotals: Sendable, Equatable {
    public var bytesWire = 0
    public var responses: [String: Int] = [:]
    public init() {}

    mutating func add(_ facts: HTTPFacts) {
        bytesWire += facts.bytesWire
        for (code, n) in facts.responses { responses[code, default: 0] += n }
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

    public init(fetch: Double, fingerprint: Double, parse: Double, plan: Double, snapshot: Double, store: Double) {
        (self.fetch, self.fingerprint, self.parse, self.plan, self.snapshot, self.store) = (fetch, fingerprint, parse, plan, snapshot, store)
    }

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
    public var mode: SyncMode
    public var now: String
    public var startedAt: String
    public var finishedAt: String
    public var dryRun: Bool
    /// Stopped by SIGTERM or SIGINT: the feeds not reached are listed as `skipped`.
    public var interrupted = false
    /// Feeds by status and events by kind of change (also what the store's `runs` row keeps).
    public var counts = RunCounts()
    public var seconds = 0.0
    public var phases = PhaseTimes()
    public var feeds: [FeedReport] = []
    /// Feeds the store holds that the configuration does not name (`feedsync prune` removes them).
    public var orphans: [String] = []
    /// The parents of children, with their children's counts (also in `feeds` when those are
    /// kept): the summary's lines. Not part of the JSON (the entries are in `feeds`).
    public var parents: [FeedReport] = []
    /// HTTP requests and bytes over every feed, for the metrics file. Not part of the JSON.
    public var http = HTTPTotals()

    public init(mode: SyncMode, now: String, startedAt: String, dryRun: Bool) {
        self.mode = mode
        self.now = now
        self.startedAt = startedAt
        self.finishedAt = startedAt
        self.dryRun = dryRun
    }

    public var feedsTotal: Int { counts.feedsTotal }
    public var feedsUnchanged: Int { counts.feedsUnchanged }
    public var feedsChanged: Int { counts.feedsChanged }
    public var feedsFailed: Int { counts.feedsFailed }
    public var feedsSkipped: Int { counts.feedsSkipped }
    public var eventsAdded: Int { counts.eventsAdded }
    public var eventsUpdated: Int { counts.eventsUpdated }
    public var eventsRemoved: Int { counts.eventsRemoved }
    public var eventsPastSkipped: Int { counts.eventsPastSkipped }

    enum CodingKeys: String, CodingKey {
        case mode, now, seconds, phases, feeds, interrupted, orphans
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case dryRun = "dry_run"
        case feedsTotal = "feeds_total"
        case feedsUnchanged = "feeds_unchanged"
        case feedsChanged = "feeds_changed"
        case feedsFailed = "feeds_failed"
        case feedsSkipped = "feeds_skipped"
        case eventsAdded = "events_added"
        case eventsUpdated = "events_updated"
        case eventsRemoved = "events_removed"
        case eventsPastSkipped = "events_past_skipped"
    }

    /// Times in the report to the millisecond (`0.012` s, `3` ms): what a reader can use, not the
    /// clock's nanoseconds.
    mutating func roundToMilliseconds() {
        func s(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
        seconds = s(seconds)
        phases = PhaseTimes(fetch: s(phases.fetch), fingerprint: s(phases.fingerprint), parse: s(phases.parse),
                            plan: s(phases.plan), snapshot: s(phases.snapshot), store: s(phases.store))
    }

    // The counts are flat members of the report's JSON object (docs/report.md).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mode = try c.decode(SyncMode.self, forKey: .mode)
        now = try c.decode(String.self, forKey: .now)
        startedAt = try c.decode(String.self, forKey: .startedAt)
        finishedAt = try c.decode(String.self, forKey: .finishedAt)
        dryRun = try c.decode(Bool.self, forKey: .dryRun)
        seconds = try c.decode(Double.self, forKey: .seconds)
        phases = try c.decode(PhaseTimes.self, forKey: .phases)
        feeds = try c.decode([FeedReport].self, forKey: .feeds)
        counts.feedsTotal = try c.decode(Int.self, forKey: .feedsTotal)
        counts.feedsUnchanged = try c.decode(Int.self, forKey: .feedsUnchanged)
        counts.feedsChanged = try c.decode(Int.self, forKey: .feedsChanged)
        counts.feedsFailed = try c.decode(Int.self, forKey: .feedsFailed)
        counts.feedsSkipped = try c.decodeIfPresent(Int.self, forKey: .feedsSkipped) ?? 0
        interrupted = try c.decodeIfPresent(Bool.self, forKey: .interrupted) ?? false
        orphans = try c.decodeIfPresent([String].self, forKey: .orphans) ?? []
        counts.eventsAdded = try c.decode(Int.self, forKey: .eventsAdded)
        counts.eventsUpdated = try c.decode(Int.self, forKey: .eventsUpdated)
        counts.eventsRemoved = try c.decode(Int.self, forKey: .eventsRemoved)
        counts.eventsPastSkipped = try c.decode(Int.self, forKey: .eventsPastSkipped)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mode, forKey: .mode)
        try c.encode(now, forKey: .now)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
        try c.encode(dryRun, forKey: .dryRun)
        try c.encode(seconds, forKey: .seconds)
        try c.encode(phases, forKey: .phases)
        try c.encode(feeds, forKey: .feeds)
        try c.encode(counts.feedsTotal, forKey: .feedsTotal)
        try c.encode(counts.feedsUnchanged, forKey: .feedsUnchanged)
        try c.encode(counts.feedsChanged, forKey: .feedsChanged)
        try c.encode(counts.feedsFailed, forKey: .feedsFailed)
        try c.encode(counts.feedsSkipped, forKey: .feedsSkipped)
        try c.encode(interrupted, forKey: .interrupted)
        try c.encode(orphans, forKey: .orphans)
        try c.encode(counts.eventsAdded, forKey: .eventsAdded)
        try c.encode(counts.eventsUpdated, forKey: .eventsUpdated)
        try c.encode(counts.eventsRemoved, forKey: .eventsRemoved)
        try c.encode(counts.eventsPastSkipped, forKey: .eventsPastSkipped)
    }
}
