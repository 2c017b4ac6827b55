import FeedModel
import FeedHash
import FeedSources
import Logging
import Snapshots
import Stores

/// The result of one feed: what to tell the user and what to write.
struct FeedOutcome: Sendable {
    var report: FeedReport
    var update: FeedUpdate
    var phases: PhaseTimes
    /// The generation the store pointed at before this run (deleted once the new one is committed).
    var previousGeneration: UInt64?
}

/// Does everything for one feed short of the store write: fetch, fingerprint, parse, plan, guard,
/// and write the new snapshot under its new generation. Any failure becomes a failed outcome that
/// changes nothing.
struct FeedWorker: Sendable {
    let config: SyncConfig
    let options: SyncOptions
    let store: any FeedStore
    let snapshots: SnapshotDirectory
    let fileSource: any FeedSource
    let httpSource: (any FeedSource)?
    let logger: Logger
    let formats: FormatRegistry

    init(config: SyncConfig, options: SyncOptions, store: any FeedStore, snapshots: SnapshotDirectory,
         fileSource: any FeedSource, httpSource: (any FeedSource)?, formats: FormatRegistry, logger: Logger) {
        self.config = config
        self.options = options
        self.store = store
        self.snapshots = snapshots
        self.fileSource = fileSource
        self.httpSource = httpSource
        self.logger = logger
        self.formats = formats
    }

    struct Failure: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    func process(_ feed: FeedConfig, state: FeedState?) async -> FeedOutcome {
        let clock = ContinuousClock()
        let t0 = clock.now
        var phases = PhaseTimes()
        let shownURL = redactURL(feed.url)
        var report = FeedReport(id: feed.id, url: shownURL, status: .unchanged, syncType: .none, reason: "")
        var update = FeedUpdate(feedID: feed.id, urlRedacted: shownURL, property: feed.property, status: .unchanged)
        do {
            try await run(feed, state: state, report: &report, update: &update, phases: &phases, clock: clock)
        } catch {
            report.status = .failed
            report.syncType = .none
            report.added = 0
            report.updated = 0
            report.removed = 0
            report.error = error.message
            update = FeedUpdate(feedID: feed.id, urlRedacted: shownURL, property: feed.property,
                                status: .failed, error: error.message)
            logger.error("feed failed", metadata: ["feed.id": "\(feed.id)", "feed.error": "\(error.message)"])
        }
        report.durationMs = seconds(clock.now - t0) * 1000
        return FeedOutcome(report: report, update: update, phases: phases, previousGeneration: state?.snapshotGeneration)
    }

    private func run(_ feed: FeedConfig, state: FeedState?, report: inout FeedReport, update: inout FeedUpdate,
                     phases: inout PhaseTimes, clock: ContinuousClock) async throws(Failure) {
        let now = options.now
        let days = Int64(options.incrementalDays ?? config.incrementalDays)
        let generation = state?.snapshotGeneration
        let staleSince: Int64? = state?.lastSuccessAt.flatMap { now - $0 > days * 86_400 ? $0 : nil }
        let settings = FormatSettings(timeZone: config.timeZone, feedTimeZone: feed.timeZone,
                                      volatileProperties: config.volatileProperties)
        guard let format = formats.make(feed.format, settings: settings) else {
            throw Failure("unknown feed format `\(feed.format)`")
        }

        // 1. Why this feed might have to be synced in full, known before reading it.
        var fullReason: String? = nil
        if options.forceFull {
            fullReason = "--force-full-sync"
        } else if generation == nil {
            fullReason = "first sync"
        } else if let staleSince {
            fullReason = "last successful sync \((now - staleSince) / 86_400) days ago (threshold \(days))"
        }

        // 2. Fetch.
        var t = clock.now
        // A skip (304 or equal fingerprint) needs a sound snapshot: checksum and name checked,
        // payload not inflated. Checked once, and only where a skip is possible: before the fetch
        // for HTTP (validators are sent only then), after the fingerprint matched for files — so a
        // changed feed reads its snapshot once, to decode it.
        func soundSnapshot() -> Bool {
            fullReason == nil && (generation.map { snapshots.isSound(feedID: feed.id, generation: $0) } ?? false)
        }
        let soundBeforeFetch: Bool? = feed.isHTTP ? soundSnapshot() : nil
        let validators = soundBeforeFetch == true
            ? Validators(etag: state?.etag, lastModified: state?.lastModified) : .none
        let source: any FeedSource
        if feed.isHTTP {
            guard let httpSource else { throw Failure("no HTTP source available") }
            source = httpSource
        } else {
            source = fileSource
        }
        let fetched: FetchResult
        do {
            let got = try await source.fetch(feed.url, validators: validators, limits: feed.limits ?? config.limits, format: format)
            report.http = got.http
            fetched = got.result
        } catch {
            report.http = error.http
            throw Failure(error.message)
        }
        phases.fetch += seconds(clock.now - t)
        let body: [UInt8]
        var next: Validators
        switch fetched {
        case .notModified:
            report.reason = "HTTP 304 Not Modified"
            update.status = .unchanged
            return
        case .body(let b, let v):
            body = b
            next = v
        }

        // 3. Fingerprint; an unchanged body is not parsed.
        t = clock.now
        let fingerprint = format.fingerprint(body).description
        phases.fingerprint += seconds(clock.now - t)
        update.etag = next.etag
        update.lastModified = next.lastModified
        // A missing or damaged snapshot is found here, and the feed goes on to a full_fallback sync.
        if fullReason == nil, fingerprint == state?.fingerprint, soundBeforeFetch ?? soundSnapshot() {
            report.reason = "body fingerprint unchanged"
            update.fingerprint = fingerprint
            return
        }

        // 4. Parse.
        t = clock.now
        var parsed: ParsedFeed
        do {
            parsed = try format.parse(body)
        } catch {
            throw Failure("cannot parse the feed: \(error.description)")
        }
        phases.parse += seconds(clock.now - t)
        report.records = parsed.records.count
        report.warnings = parsed.warnings
        for w in parsed.warnings {
            logger.warning("\(w)", metadata: ["feed.id": "\(feed.id)"])
        }

        // 5. Decide the sync type and plan.
        t = clock.now
        var syncType: SyncType = .full
        var previous: [PriorRecord]? = nil
        if let fullReason {
            report.reason = fullReason
        } else if let generation {
            do {
                let snap = try snapshots.read(feedID: feed.id, generation: generation)
                if snap.header.feedFormat != format.name {
                    syncType = .fullFallback
                    report.reason = "snapshot holds a \(snap.header.feedFormat) feed, this feed is \(format.name)"
                } else if snap.header.parserVersion != format.parserVersion {
                    syncType = .fullFallback
                    report.reason = "snapshot written by parser version \(snap.header.parserVersion), this is \(format.parserVersion)"
                } else if now - snap.header.createdAt > days * 86_400 {
                    report.reason = "snapshot is \((now - snap.header.createdAt) / 86_400) days old (threshold \(days))"
                } else {
                    syncType = .incremental
                    report.reason = "body changed"
                    previous = snap.records.map {
                        PriorRecord(key: $0.key, hash: $0.hash, lastEnd: $0.lastEnd)
                    }
                }
            } catch {
                syncType = .fullFallback
                report.reason = "snapshot unusable: \(error.description)"
            }
        }
        let plan: ChangeSet
        if let previous {
            plan = Planner.incremental(previous: previous, records: parsed.records, now: now)
        } else {
            let rows: [PriorRecord]
            if state == nil {
                // The store has no row for this feed, hence no events (they reference it): a
                // first sync needs no query.
                rows = []
            } else {
                do {
                    rows = try await store.priorRecords(feedID: feed.id)
                } catch {
                    throw Failure("\(error)")
                }
            }
            plan = Planner.full(stored: rows, records: parsed.records, now: now)
        }
        phases.plan += seconds(clock.now - t)
        if !options.allowMassRemoval, let why = Planner.suspicion(of: plan, recordCount: parsed.records.count) {
            throw Failure("suspicious: \(why)")
        }
        report.syncType = syncType
        report.added = plan.added.count
        report.updated = plan.updated.count
        report.removed = plan.removed.count
        report.unchanged = plan.unchanged
        report.pastSkipped = plan.pastSkipped
        report.status = plan.isEmpty ? .unchanged : .changed

        // 6. Write the new snapshot under a new generation; the store will point at it. A full
        //    sync that found the same body and the same records keeps the sound snapshot it has.
        if syncType == .full, plan.isEmpty, fingerprint == state?.fingerprint, let generation,
           snapshotMatches(feed.id, generation: generation, format: format, records: parsed.records) {
            report.snapshotGeneration = generation
            update.status = .unchanged
            update.fingerprint = fingerprint
            update.snapshotGeneration = generation
            update.fullSync = true
            return
        }
        let newGeneration = (generation ?? 0) + 1
        report.snapshotGeneration = newGeneration
        if !options.dryRun {
            t = clock.now
            let header = SnapshotHeader(
                feedID: feed.id, generation: newGeneration, createdAt: now, parserVersion: format.parserVersion,
                bodyFingerprint: Fingerprint128(hex: fingerprint)!, etag: next.etag, lastModified: next.lastModified,
                feedFormat: format.name)
            let records = parsed.records.map {
                SnapshotRecord(key: $0.key, hash: $0.hash, start: $0.start, lastEnd: $0.lastEnd, allDay: $0.allDay, body: $0.body)
            }
            parsed.records.removeAll()
            do {
                let bytes = try SnapshotCodec.encode(header: header, records: records)
                // Made durable by one flush per batch, before the store points at it.
                _ = try snapshots.write(bytes, feedID: feed.id, generation: newGeneration, durability: .deferred)
            } catch {
                throw Failure("cannot write the snapshot: \(error.description)")
            }
            phases.snapshot += seconds(clock.now - t)
        }
        update.status = plan.isEmpty ? .unchanged : .changed
        update.fingerprint = fingerprint
        update.snapshotGeneration = newGeneration
        update.fullSync = syncType != .incremental
        update.added = plan.added
        update.updated = plan.updated
        update.removed = plan.removed
    }
}

extension FeedWorker {
    /// True when the snapshot of `generation` is sound and holds exactly these records (keys,
    /// hashes and ends), so rewriting it would change nothing.
    func snapshotMatches(_ feedID: String, generation: UInt64, format: any FeedFormat, records: [FeedRecord]) -> Bool {
        guard let snap = try? snapshots.read(feedID: feedID, generation: generation),
              snap.header.parserVersion == format.parserVersion, snap.header.feedFormat == format.name, snap.records.count == records.count else { return false }
        var byKey: [String: (UInt64, Int64?)] = [:]
        byKey.reserveCapacity(records.count)
        for r in records { byKey[r.key] = (r.hash, r.lastEnd) }
        return snap.records.allSatisfy { s in
            guard let (hash, lastEnd) = byKey[s.key] else { return false }
            return hash == s.hash && lastEnd == s.lastEnd
        }
    }
}

extension SnapshotDirectory {
    /// The file exists, its checksum and header are sound and it names this feed and generation.
    func isSound(feedID: String, generation: UInt64) -> Bool {
        guard let bytes = try? Self.readFile(path(feedID: feedID, generation: generation)),
              let header = try? SnapshotCodec.decodeHeader(bytes) else { return false }
        return header.feedID == feedID && header.generation == generation
    }
}

extension Error {
    /// The message a user should read for this error.
    var message: String {
        if let e = self as? FeedWorker.Failure { return e.message }
        return String(describing: self)
    }
}

#if canImport(Glibc)
import Glibc
#endif
