public import FeedModel

/// What the store knows of a feed between runs.
public struct FeedState: Sendable, Equatable {
    public var id: String
    public var fingerprint: String?
    public var etag: String?
    public var lastModified: String?
    /// The snapshot generation the store's rows match; nil before the first successful sync.
    public var snapshotGeneration: UInt64?
    public var lastSuccessAt: Int64?
    public var lastFullSyncAt: Int64?
    public var lastStatus: String?
    public var lastError: String?

    public init(id: String, fingerprint: String? = nil, etag: String? = nil, lastModified: String? = nil,
                snapshotGeneration: UInt64? = nil, lastSuccessAt: Int64? = nil, lastFullSyncAt: Int64? = nil,
                lastStatus: String? = nil, lastError: String? = nil) {
        self.id = id
        self.fingerprint = fingerprint
        self.etag = etag
        self.lastModified = lastModified
        self.snapshotGeneration = snapshotGeneration
        self.lastSuccessAt = lastSuccessAt
        self.lastFullSyncAt = lastFullSyncAt
        self.lastStatus = lastStatus
        self.lastError = lastError
    }
}

/// An event row as the full reconcile needs it.
public struct StoredEvent: Sendable, Equatable {
    public var key: String
    public var hash: UInt64
    /// nil = the series never ends.
    public var lastEnd: Int64?
    public var removed: Bool

    public init(key: String, hash: UInt64, lastEnd: Int64?, removed: Bool) {
        self.key = key
        self.hash = hash
        self.lastEnd = lastEnd
        self.removed = removed
    }
}

/// The result of one feed in one run, as the store records it.
public struct FeedUpdate: Sendable {
    public enum Status: String, Sendable { case unchanged, changed, failed }

    public var feedID: String
    public var urlRedacted: String
    public var property: String?
    public var status: Status
    public var error: String?
    /// Validators and fingerprint of the body just read (nil: keep the stored ones).
    public var fingerprint: String?
    public var etag: String?
    public var lastModified: String?
    /// The snapshot generation written for this run (changed feeds only).
    public var snapshotGeneration: UInt64?
    public var fullSync: Bool
    /// Records to insert (new or reappearing) and to update.
    public var added: [FeedRecord]
    public var updated: [FeedRecord]
    /// Keys of rows to mark removed.
    public var removed: [String]

    public init(feedID: String, urlRedacted: String, property: String?, status: Status, error: String? = nil,
                fingerprint: String? = nil, etag: String? = nil, lastModified: String? = nil,
                snapshotGeneration: UInt64? = nil, fullSync: Bool = false,
                added: [FeedRecord] = [], updated: [FeedRecord] = [], removed: [String] = []) {
        self.feedID = feedID
        self.urlRedacted = urlRedacted
        self.property = property
        self.status = status
        self.error = error
        self.fingerprint = fingerprint
        self.etag = etag
        self.lastModified = lastModified
        self.snapshotGeneration = snapshotGeneration
        self.fullSync = fullSync
        self.added = added
        self.updated = updated
        self.removed = removed
    }

    public var eventCount: Int { added.count + updated.count + removed.count }
}

/// Summary figures of a run, kept in the `runs` table.
public struct RunSummary: Sendable {
    public var feedsTotal = 0, feedsUnchanged = 0, feedsChanged = 0, feedsFailed = 0
    public var eventsAdded = 0, eventsUpdated = 0, eventsRemoved = 0, eventsPastSkipped = 0
    public init() {}
}

/// The database behind feedsync: the truth about every feed and event.
///
/// Implementations apply each batch of `FeedUpdate`s in one transaction; applying the same update
/// twice leaves the same rows (upserts keyed by feed and record key).
public protocol FeedStore: Sendable {
    func feedStates() throws -> [String: FeedState]
    func eventRows(feedID: String) throws -> [StoredEvent]
    func beginRun(mode: String, startedAt: Int64, now: Int64, dryRun: Bool) throws -> Int64
    func apply(_ batch: [FeedUpdate], runID: Int64, at: Int64) throws
    func finishRun(id: Int64, finishedAt: Int64, status: String, summary: RunSummary) throws
}

/// A store error: what went wrong, where, and the underlying cause.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
