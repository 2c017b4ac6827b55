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
    public var lastStatus: FeedStatus?
    public var lastError: String?
    /// How far the feed's occurrences are in the `occurrences` table (Unix seconds; `OccurrenceUpdate.complete`
    /// when all of them are); nil when they are not (a new feed, a store from before the table,
    /// or the table turned off).
    public var occurrencesUntil: Int64?

    public init(id: String, fingerprint: String? = nil, etag: String? = nil, lastModified: String? = nil,
                snapshotGeneration: UInt64? = nil, lastSuccessAt: Int64? = nil, lastFullSyncAt: Int64? = nil,
                lastStatus: FeedStatus? = nil, lastError: String? = nil, occurrencesUntil: Int64? = nil) {
        self.id = id
        self.fingerprint = fingerprint
        self.etag = etag
        self.lastModified = lastModified
        self.snapshotGeneration = snapshotGeneration
        self.lastSuccessAt = lastSuccessAt
        self.lastFullSyncAt = lastFullSyncAt
        self.lastStatus = lastStatus
        self.lastError = lastError
        self.occurrencesUntil = occurrencesUntil
    }
}

/// One row of the `occurrences` table.
public struct OccurrenceRow: Sendable, Equatable {
    public var recordKey: String
    public var uid: String
    public var start: Int64
    public var end: Int64
    /// Local days, half-open (days since 1970-01-01): `start_date`, `end_date`.
    public var startDay: Int64
    public var endDay: Int64
    public var allDay: Bool
    public var cancelled: Bool

    public init(recordKey: String, uid: String, start: Int64, end: Int64, startDay: Int64, endDay: Int64,
                allDay: Bool, cancelled: Bool) {
        self.recordKey = recordKey
        self.uid = uid
        self.start = start
        self.end = end
        self.startDay = startDay
        self.endDay = endDay
        self.allDay = allDay
        self.cancelled = cancelled
    }

    /// The occurrences of a record in the window, as rows.
    public static func rows(of r: FeedRecord, in window: OccurrenceWindow) -> [OccurrenceRow] {
        r.occurrences(in: window).map {
            OccurrenceRow(recordKey: r.key, uid: r.uid, start: $0.start, end: $0.end, startDay: $0.startDay,
                          endDay: $0.endDay, allDay: r.allDay, cancelled: $0.cancelled)
        }
    }
}

/// What a feed's sync does to its rows of the `occurrences` table (docs/store.md): the future
/// occurrences (ending after `from`) of some series, or of the whole feed, are replaced; the past
/// ones stay, as history. The rows of a removed event's key go with it (whatever this says).
public struct OccurrenceUpdate: Sendable {
    /// The uids whose future occurrences `rows` replace; nil: all of the feed's.
    public var uids: [String]?
    public var from: Int64
    public var rows: [OccurrenceRow]
    /// With `uids` nil: keys whose rows stay as they are (events that could not be read).
    public var keep: [String]
    /// The feed's `occurrences_until` afterwards (nil: not materialised).
    public var until: Int64?
    /// Events rows whose derived columns (`end_ts`, `start_date`, `end_date`) are rewritten where
    /// they differ, without a change: rows written before those columns existed.
    public var refresh: [FeedRecord]

    /// `occurrences_until` of a feed whose every occurrence is in the table (9999-12-31T23:59:59Z).
    public static let complete: Int64 = 253_402_300_799

    public init(uids: [String]?, from: Int64, rows: [OccurrenceRow], keep: [String] = [], until: Int64?,
                refresh: [FeedRecord] = []) {
        self.uids = uids
        self.from = from
        self.rows = rows
        self.keep = keep
        self.until = until
        self.refresh = refresh
    }
}

/// The result of one feed in one run, as the store records it.
public struct FeedUpdate: Sendable {
    public var feedID: String
    public var urlRedacted: String
    public var property: String?
    public var status: FeedStatus
    public var error: String?
    /// Validators and fingerprint of the body just read (nil: keep the stored ones).
    public var fingerprint: String?
    public var etag: String?
    public var lastModified: String?
    /// The snapshot generation the rows now match (nil: keep the stored one).
    public var snapshotGeneration: UInt64?
    public var fullSync: Bool
    /// Records to insert (new or reappearing) and to update.
    public var added: [FeedRecord]
    public var updated: [FeedRecord]
    /// Keys of rows to mark removed.
    public var removed: [String]
    /// The feed's occurrences to rewrite; nil: leave them (and `occurrences_until`) as they are.
    public var occurrences: OccurrenceUpdate?

    public init(feedID: String, urlRedacted: String, property: String?, status: FeedStatus, error: String? = nil,
                fingerprint: String? = nil, etag: String? = nil, lastModified: String? = nil,
                snapshotGeneration: UInt64? = nil, fullSync: Bool = false,
                added: [FeedRecord] = [], updated: [FeedRecord] = [], removed: [String] = [],
                occurrences: OccurrenceUpdate? = nil) {
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
        self.occurrences = occurrences
    }

    public var eventCount: Int { added.count + updated.count + removed.count }
}

/// One line of the change log: what a run did to one record.
public struct RecordChange: Sendable, Equatable {
    public enum Kind: String, Sendable { case added, updated, removed }
    public var feedID: String
    public var key: String
    public var kind: Kind
    /// When it was applied (Unix seconds).
    public var at: Int64
    /// The changed fields' values before and after, as JSON objects (`ChangeValues`): nil before
    /// an addition and after a removal.
    public var oldValues: String?
    public var newValues: String?

    public init(feedID: String, key: String, kind: Kind, at: Int64, oldValues: String? = nil, newValues: String? = nil) {
        self.feedID = feedID
        self.key = key
        self.kind = kind
        self.at = at
        self.oldValues = oldValues
        self.newValues = newValues
    }
}

/// A run as the store keeps it.
public struct StoredRun: Sendable, Equatable {
    public var id: Int64
    public var mode: SyncMode
    public var now: Int64
    public var startedAt: Int64
    public var finishedAt: Int64?
    public var status: RunStatus
    /// Zero until the run is finished.
    public var counts: RunCounts

    public init(id: Int64, mode: SyncMode, now: Int64, startedAt: Int64, finishedAt: Int64?, status: RunStatus,
                counts: RunCounts) {
        self.id = id
        self.mode = mode
        self.now = now
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.status = status
        self.counts = counts
    }
}

/// The database behind feedsync: the truth about every feed and event.
///
/// Every implementation passes the shared store suite (`FeedStoreConformance` in
/// Tests/StoresTests): applying a batch is one transaction; applying the same update twice leaves
/// the same rows (upserts keyed by feed and record key); a removal sets a flag, a sync never
/// deletes a row; a removed row that comes back is live again. Async, so that a network database
/// fits behind it.
public protocol FeedStore: Sendable {
    /// Every feed the store has seen, by id.
    func feedStates() async throws(StoreError) -> [String: FeedState]
    /// The states of these feeds (those the store has seen), by id: a night asks for them a batch
    /// at a time, so that its memory does not grow with the number of feeds.
    func feedStates(ids: [String]) async throws(StoreError) -> [String: FeedState]
    /// The ids of the feeds that have a snapshot (what a run checks for orphans).
    func feedIDsWithSnapshots() async throws(StoreError) -> [String]
    /// The rows of one feed, removed ones included, as the full reconcile compares them.
    func priorRecords(feedID: String) async throws(StoreError) -> [PriorRecord]
    /// Records the start of a run; returns its id.
    func beginRun(mode: SyncMode, startedAt: Int64, now: Int64) async throws(StoreError) -> Int64
    /// Applies a batch of feed results in one transaction, logging each change under `runID`.
    func apply(_ batch: [FeedUpdate], runID: Int64, at: Int64) async throws(StoreError)
    /// Records the end of a run.
    func finishRun(id: Int64, finishedAt: Int64, status: RunStatus, counts: RunCounts) async throws(StoreError)
    /// A run, nil for an unknown id.
    func run(id: Int64) async throws(StoreError) -> StoredRun?
    /// The change log of a run, in the order the changes were applied, with the values.
    func changes(runID: Int64) async throws(StoreError) -> [RecordChange]
    /// The future occurrences of a feed (ending after `after`), by start: for tests and tools.
    func occurrences(feedID: String, after: Int64) async throws(StoreError) -> [OccurrenceRow]
    /// How many live (not removed) rows each feed has.
    func liveRecordCounts() async throws(StoreError) -> [String: Int]
    /// `feedsync prune`: marks every live event of these feeds removed at `at` and forgets their
    /// snapshot generation and validators (their rows stay, as history). Returns the events
    /// marked removed, by feed.
    func prune(feedIDs: [String], at: Int64) async throws(StoreError) -> [String: Int]
    /// The store's identity (made once, when it is created), which its snapshot folder records;
    /// nil for a store read-only whose schema predates it.
    func storeID() async throws(StoreError) -> String?
    /// Lets go of connections (a network store's pool); the store is not used afterwards.
    func close() async
    /// How many batches (of different feeds) may be applied at once: 1 for a store with a single
    /// writer (SQLite), more for one that takes concurrent transactions.
    var concurrentBatches: Int { get }
}

extension FeedStore {
    public func close() async {}
    public var concurrentBatches: Int { 1 }
}

/// A store failure: a code to act on, a message for people (what went wrong and where), and the
/// underlying error.
public struct StoreError: CodedError {
    public typealias Code = ErrorCode<StoreError>
    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }
}

extension ErrorCode where Kind == StoreError {
    /// The store cannot be opened or created (missing folder, permissions, not a database).
    public static let cannotOpen = Self("cannotOpen")
    /// The store exists but is not a feedsync store (no `feeds` table).
    public static let notAStore = Self("notAStore")
    /// A read failed.
    public static let read = Self("read")
    /// A write failed (read-only, disk full, locked beyond the wait).
    public static let write = Self("write")
    /// Another run holds the store's run lock.
    public static let locked = Self("locked")
    /// The store URL is not one this build knows.
    public static let unsupported = Self("unsupported")
}
