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
    /// Occurrence rows by feed, then by record key and start.
    private var occurrenceRows: [String: [OccurrenceKey: OccurrenceRow]] = [:]
    struct OccurrenceKey: Hashable { var key: String; var start: Int64 }
    private var nextRunID: Int64 = 1
    private let identity = (0..<4).map { _ in String(UInt32.random(in: 0...UInt32.max), radix: 16) }.joined()

    public init() {}

    public func feedStates() throws(StoreError) -> [String: FeedState] { feeds }

    public func feedStates(ids: [String]) throws(StoreError) -> [String: FeedState] {
        var out: [String: FeedState] = [:]
        for id in ids { if let s = feeds[id] { out[id] = s } }
        return out
    }

    public func feedIDsWithSnapshots() throws(StoreError) -> [String] {
        feeds.values.filter { $0.snapshotGeneration != nil }.map(\.id)
    }

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

    public func occurrences(feedID: String, after: Int64) throws(StoreError) -> [OccurrenceRow] {
        (occurrenceRows[feedID] ?? [:]).values.filter { $0.end > after }
            .sorted { ($0.start, $0.recordKey) < ($1.start, $1.recordKey) }
    }

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
            occurrenceRows[id] = occurrenceRows[id]?.filter { $0.value.end <= at }
            feeds[id]?.occurrencesUntil = nil
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
                    let previous = feedRows[r.key]
                    let old = kind == .updated ? previous.flatMap { $0.removed ? nil : ChangeFields($0.record) } : nil
                    // An addition logs no values: its row holds them.
                    let values = old.map { ChangeValues.updated(from: $0, to: ChangeFields(r)) }
                    feedRows[r.key] = Row(record: r, removed: r.isCancelledOccurrence, firstSeenAt: previous?.firstSeenAt ?? at,
                                          updatedAt: at)
                    log[runID, default: []].append(RecordChange(feedID: u.feedID, key: r.key, kind: kind, at: at,
                                                                oldValues: values?.old, newValues: values?.new))
                }
            }
            var occ = occurrenceRows[u.feedID] ?? [:]
            for key in u.removed {
                occ = occ.filter { $0.key.key != key || $0.value.end <= (u.occurrences?.from ?? at) }
                guard var row = feedRows[key], !row.removed else { continue }
                row.removed = true
                row.updatedAt = at
                feedRows[key] = row
                log[runID, default: []].append(RecordChange(feedID: u.feedID, key: key, kind: .removed, at: at,
                                                            oldValues: ChangeValues.removed(ChangeFields(row.record))))
            }
            if let o = u.occurrences {
                if let uids = o.uids.map(Set.init) {
                    occ = occ.filter { !uids.contains($0.value.uid) || $0.value.end <= o.from }
                } else {
                    let keep = Set(o.keep)
                    occ = occ.filter { keep.contains($0.key.key) || $0.value.end <= o.from }
                }
                for row in o.rows { occ[OccurrenceKey(key: row.recordKey, start: row.start)] = row }
                state.occurrencesUntil = o.until
                for r in o.refresh where feedRows[r.key] != nil {
                    // Only the derived columns: the rest of the row stays as it was written.
                    feedRows[r.key]?.record.startDay = r.startDay
                    feedRows[r.key]?.record.endDay = r.endDay
                    feedRows[r.key]?.record.end = r.end
                }
            }
            occurrenceRows[u.feedID] = occ
            rows[u.feedID] = feedRows
        }
    }
}
