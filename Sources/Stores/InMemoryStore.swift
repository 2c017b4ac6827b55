public import FeedModel

/// A store that keeps everything in memory, with the SQLite store's semantics (it passes the same
/// store suite): the twin the engine's unit tests run on, and `store: memory:`.
public actor InMemoryStore: FeedStore {
    struct Row: Sendable {
        var record: FeedRecord
        var removed: Bool
        var firstSeenAt: Int64
        var updatedAt: Int64
    }

    private var feeds: [String: FeedState] = [:]
    private var rows: [String: [String: Row]] = [:]
    private var runs: [Int64: StoredRun] = [:]
    private var log: [Int64: [RecordChange]] = [:]
    private var nextRunID: Int64 = 1
    private let identity = (0..<4).map { _ in String(UInt32.random(in: 0...UInt32.max), radix: 16) }.joined()

    public init() {}

    public func feedStates() throws(StoreError) -> [String: FeedState] { feeds }

    public func priorRecords(feedID: String) throws(StoreError) -> [PriorRecord] {
        (rows[feedID] ?? [:]).values.map {
            PriorRecord(key: $0.record.key, hash: $0.record.hash, lastEnd: $0.record.lastEnd, removed: $0.removed)
        }
    }

    public func beginRun(mode: SyncMode, startedAt: Int64, now: Int64) throws(StoreError) -> Int64 {
        let id = nextRunID
        nextRunID += 1
        for (other, run) in runs where run.status == .running { runs[other]?.status = .aborted }
        runs[id] = StoredRun(id: id, mode: mode, now: now, startedAt: startedAt, finishedAt: nil,
                             status: .running, counts: RunCounts())
        return id
    }

    public func finishRun(id: Int64, finishedAt: Int64, status: RunStatus, counts: RunCounts) throws(StoreError) {
        runs[id]?.finishedAt = finishedAt
        runs[id]?.status = status
        runs[id]?.counts = counts
    }

    public func run(id: Int64) throws(StoreError) -> StoredRun? { runs[id] }

    public func changes(runID: Int64) throws(StoreError) -> [RecordChange] { log[runID] ?? [] }

    public func storeID() throws(StoreError) -> String? { identity }

    public func prune(feedIDs: [String], at: Int64) throws(StoreError) -> [String: Int] {
        var removed: [String: Int] = [:]
        for id in feedIDs {
            var n = 0
            for (key, row) in rows[id] ?? [:] where !row.removed {
                rows[id]?[key]?.removed = true
                rows[id]?[key]?.updatedAt = at
                n += 1
            }
            removed[id] = n
            feeds[id]?.snapshotGeneration = nil
            feeds[id]?.fingerprint = nil
            feeds[id]?.etag = nil
            feeds[id]?.lastModified = nil
        }
        return removed
    }

    public func liveRecordCounts() throws(StoreError) -> [String: Int] {
        rows.compactMapValues { feed in
            let n = feed.values.filter { !$0.removed }.count
            return n > 0 ? n : nil
        }
    }

    /// The rows of a feed (removed ones included), by key: for tests.
    public func records(feedID: String) -> [String: (record: FeedRecord, removed: Bool)] {
        (rows[feedID] ?? [:]).mapValues { ($0.record, $0.removed) }
    }

    /// Applies the batch as one transaction: the batch is checked first and applied whole.
    public func apply(_ batch: [FeedUpdate], runID: Int64, at: Int64) throws(StoreError) {
        guard runs[runID] != nil else {
            throw StoreError(.write, "in-memory store: cannot apply a batch of \(batch.count) feeds: no run \(runID)")
        }
        for u in batch {
            var state = feeds[u.feedID] ?? FeedState(id: u.feedID)
            state.lastStatus = u.status
            state.lastError = u.error
            defer { feeds[u.feedID] = state }
            guard u.status != .failed else { continue }
            state.fingerprint = u.fingerprint ?? state.fingerprint
            state.etag = u.etag ?? state.etag
            state.lastModified = u.lastModified ?? state.lastModified
            state.snapshotGeneration = u.snapshotGeneration ?? state.snapshotGeneration
            state.lastSuccessAt = at
            if u.fullSync { state.lastFullSyncAt = at }
            var feedRows = rows[u.feedID] ?? [:]
            for (kind, records) in [(RecordChange.Kind.added, u.added), (.updated, u.updated)] {
                for r in records {
                    let first = feedRows[r.key]?.firstSeenAt ?? at
                    feedRows[r.key] = Row(record: r, removed: r.isCancelledOccurrence, firstSeenAt: first, updatedAt: at)
                    log[runID, default: []].append(RecordChange(feedID: u.feedID, key: r.key, kind: kind, at: at))
                }
            }
            for key in u.removed {
                guard var row = feedRows[key], !row.removed else { continue }
                row.removed = true
                row.updatedAt = at
                feedRows[key] = row
                log[runID, default: []].append(RecordChange(feedID: u.feedID, key: key, kind: .removed, at: at))
            }
            rows[u.feedID] = feedRows
        }
    }
}
