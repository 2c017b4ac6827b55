import FeedModel
import FeedHash
import FeedSources
import Logging
import Snapshots
import Stores

/// The one result of a feed in a run. The report line and the store update are both derived from
/// it, so they cannot disagree (a failed feed reports no snapshot generation and no counts).
struct FeedResult: Sendable {
    var feedID: String
    var url: String
    var property: String?
    var status: FeedStatus = .unchanged
    var syncType: SyncType = .none
    var reason = ""
    var error: String?
    var http: HTTPFacts?
    var warnings: [String] = []
    /// Records the feed holds now (nil when it was not parsed).
    var records: Int?
    /// The plan, once the feed was planned.
    var plan: ChangeSet?
    /// The body's fingerprint and validators, once a body was read (nil: keep the stored ones).
    var fingerprint: String?
    var validators = Validators.none
    /// The generation the store points at after this run (a new one, or the kept one).
    var snapshotGeneration: UInt64?
    var fullSync = false
    var durationMs = 0.0
    /// For a parent: the child feeds of its future records (run after it), and how many it has.
    var children: [FeedConfig] = []
    var future: Int?
    /// For a child: its parent's id.
    var parent: String?
    /// Events that could not be read and whose stored state was kept (`on_bad_event: keep`).
    var badEvents: [BadRecord] = []
    /// What the sync does to the feed's rows of the `occurrences` table (nil: nothing).
    var occurrences: OccurrenceUpdate?

    init(feed: FeedConfig) {
        feedID = feed.id
        url = redactURL(feed.url)
        property = feed.property
        parent = feed.parent
    }

    /// Why it failed (nil unless `status` is failed).
    var errorCode: FeedError.Code?

    /// The feed failed: nothing it found counts.
    mutating func fail(_ failure: FeedError) {
        status = .failed
        syncType = .none
        error = failure.message
        errorCode = failure.code
        plan = nil
        fingerprint = nil
        validators = .none
        snapshotGeneration = nil
        fullSync = false
        children = []
        badEvents = []
        occurrences = nil
    }

    var report: FeedReport {
        var r = FeedReport(id: feedID, url: url, status: status, syncType: syncType, reason: reason)
        if let plan {
            r.added = plan.added.count
            r.updated = plan.updated.count
            r.removed = plan.removed.count
            r.unchanged = plan.unchanged
            r.pastSkipped = plan.pastSkipped
        }
        r.records = records
        r.future = future
        r.parent = parent
        r.snapshotGeneration = snapshotGeneration
        r.error = error
        r.errorCode = errorCode?.name
        r.warnings = warnings
        r.durationMs = durationMs
        r.http = http
        r.badEvents = badEvents.isEmpty ? nil : badEvents
        return r
    }

    var update: FeedUpdate {
        guard status != .failed else {
            return FeedUpdate(feedID: feedID, urlRedacted: url, property: property, status: .failed, error: error)
        }
        return FeedUpdate(feedID: feedID, urlRedacted: url, property: property, status: status,
                          fingerprint: fingerprint, etag: validators.etag, lastModified: validators.lastModified,
                          snapshotGeneration: snapshotGeneration, fullSync: fullSync,
                          added: plan?.added ?? [], updated: plan?.updated ?? [], removed: plan?.removed ?? [],
                          occurrences: occurrences)
    }
}

/// What the runner collects of one feed.
struct FeedOutcome: Sendable {
    var report: FeedReport
    var update: FeedUpdate
    /// For a parent: the child feeds to run after it.
    var children: [FeedConfig]
    var phases: PhaseTimes
    /// The generation the store pointed at before this run (retired once the new one is committed).
    var previousGeneration: UInt64?
    /// In a shared night: the lease this process holds on the feed.
    var lease: Int64?

    init(result: FeedResult, phases: PhaseTimes, previousGeneration: UInt64?) {
        self.children = result.children
        self.report = result.report
        self.update = result.update
        self.phases = phases
        self.previousGeneration = previousGeneration
    }
}

/// Does everything for one feed short of the store write: fetch, fingerprint, parse, plan, guard,
/// and write the new snapshot under its new generation. The decisions are `SyncDecision`'s; this
/// type does the I/O between them. Any failure becomes a failed result that changes nothing.
struct FeedWorker: Sendable {
    let config: SyncConfig
    let options: SyncOptions
    let store: any FeedStore
    let snapshots: any SnapshotStorage
    let fileSource: any FeedSource
    let httpSource: (any FeedSource)?
    let logger: Logger
    let formats: FormatRegistry
    /// The formats of feeds without a mapping, made once per format and zone: most feeds of a
    /// night share a handful (one per time zone), and a format costs allocations to make.
    private let shared: [String: any FeedFormat]
    /// The occurrences this night materialises: from `now` to `occurrence_horizon_days` ahead and
    /// `occurrenceMarginDays` more, so that a feed is read again to extend them about once a
    /// month rather than every night. nil when the table is off.
    let occurrenceWindow: OccurrenceWindow?
    static let occurrenceMarginDays: Int64 = 30

    init(config: SyncConfig, options: SyncOptions, store: any FeedStore, snapshots: any SnapshotStorage,
         fileSource: any FeedSource, httpSource: (any FeedSource)?, formats: FormatRegistry, logger: Logger) {
        self.config = config
        self.options = options
        self.store = store
        self.snapshots = snapshots
        self.fileSource = fileSource
        self.httpSource = httpSource
        self.logger = logger
        self.formats = formats
        let horizon = Int64(config.occurrenceHorizonDays)
        let window = horizon > 0
            ? OccurrenceWindow(from: options.now, to: options.now + (horizon + Self.occurrenceMarginDays) * 86_400) : nil
        self.occurrenceWindow = window
        var shared: [String: any FeedFormat] = [:]
        for feed in config.feeds where feed.mapping == nil {
            let key = Self.sharedKey(feed)
            if shared[key] == nil, let f = formats.make(feed.format, settings: Self.settings(feed, config, nil)) { shared[key] = f }
            if window != nil, shared[key + "|w"] == nil, let f = formats.make(feed.format, settings: Self.settings(feed, config, window)) {
                shared[key + "|w"] = f
            }
        }
        self.shared = shared
    }

    private static func sharedKey(_ feed: FeedConfig) -> String {
        feed.format + "|" + (feed.timeZone ?? "") + "|" + (feed.onBadEvent?.rawValue ?? "")
    }

    private static func settings(_ feed: FeedConfig, _ config: SyncConfig, _ window: OccurrenceWindow?) -> FormatSettings {
        var s = FormatSettings(timeZone: config.timeZone, feedTimeZone: feed.timeZone, volatileProperties: config.volatileProperties,
                               mapping: feed.mapping, maxRecords: config.maxRecords)
        s.onBadRecord = feed.onBadEvent ?? config.onBadEvent
        s.occurrenceWindow = window
        return s
    }


    func process(_ feed: FeedConfig, state: FeedState?) async -> FeedOutcome {
        let clock = ContinuousClock()
        let t0 = clock.now
        var phases = PhaseTimes()
        var result = FeedResult(feed: feed)
        do {
            try await run(feed, state: state, result: &result, phases: &phases, clock: clock)
            if occurrenceWindow == nil, result.occurrences == nil, state?.occurrencesUntil != nil {
                // The table was turned off: this feed's future occurrences go, and it is marked
                // not materialised (so that turning it on again rebuilds them).
                result.occurrences = OccurrenceUpdate(uids: nil, from: options.now, rows: [], until: nil)
            }
        } catch {
            result.fail(error)
            logger.info("feed failed", metadata: ["feed.id": "\(feed.id)", "feed.error.code": "\(error.code)",
                                                  "feed.error": "\(error.message)"])
        }
        result.durationMs = seconds(clock.now - t0) * 1000
        logger.debug("feed done", metadata: [
            "feed.id": "\(feed.id)", "feed.status": "\(result.status.rawValue)", "feed.sync_type": "\(result.syncType.rawValue)",
            "feed.reason": "\(result.reason)", "feed.records": "\(result.records.map(String.init) ?? "-")",
            "feed.added": "\(result.plan?.added.count ?? 0)", "feed.updated": "\(result.plan?.updated.count ?? 0)",
            "feed.removed": "\(result.plan?.removed.count ?? 0)",
            "feed.ms": "\(Int(result.durationMs.rounded()))",
            // Where this feed's time went, phase by phase (milliseconds).
            "feed.ms.fetch": "\(Self.ms(phases.fetch))", "feed.ms.fingerprint": "\(Self.ms(phases.fingerprint))",
            "feed.ms.parse": "\(Self.ms(phases.parse))", "feed.ms.plan": "\(Self.ms(phases.plan))",
            "feed.ms.snapshot": "\(Self.ms(phases.snapshot))"])
        return FeedOutcome(result: result, phases: phases, previousGeneration: state?.snapshotGeneration)
    }

    /// Seconds as whole milliseconds, for log lines.
    static func ms(_ seconds: Double) -> Int { Int((seconds * 1000).rounded()) }

    /// What one feed's processing needs at every stage.
    private struct Context {
        var feed: FeedConfig
        var state: FeedState?
        var format: any FeedFormat
        var now: Int64
        var days: Int64
        var generation: UInt64? { state?.snapshotGeneration }
    }

    /// The feed's format, with the occurrence window or without.
    private func makeFormat(_ feed: FeedConfig, windowed: Bool) -> (any FeedFormat)? {
        let window = windowed ? occurrenceWindow : nil
        if feed.mapping == nil, let f = shared[Self.sharedKey(feed) + (window != nil ? "|w" : "")] { return f }
        return formats.make(feed.format, settings: Self.settings(feed, config, window))
    }

    private func run(_ feed: FeedConfig, state: FeedState?, result: inout FeedResult,
                     phases: inout PhaseTimes, clock: ContinuousClock) async throws(FeedError) {
        let now = options.now
        let days = Int64(options.incrementalDays ?? config.incrementalDays)
        // 1. Why this feed might have to be synced in full, known before reading it; and whether
        //    it must be read to materialise its occurrences (even unchanged).
        let fullReason = SyncDecision.fullReason(state: state, forceFull: options.forceFull, now: now, incrementalDays: days)
        let materialises = SyncDecision.materialisesOccurrences(state: state, now: now, horizonDays: config.occurrenceHorizonDays)
        // A series' occurrences cost an expansion to the horizon: the body is parsed with the
        // window when they will surely be written (a first sync, a feed to materialise), else
        // without, and parsed again with it only when a changed series needs them.
        let upfront = occurrenceWindow != nil && (state?.snapshotGeneration == nil || materialises)
        guard let format = makeFormat(feed, windowed: upfront) else {
            throw FeedError(.config, "unknown feed format `\(feed.format)`")
        }
        let ctx = Context(feed: feed, state: state, format: format, now: now, days: days)
        let generation = ctx.generation

        // A child with `since`, synced recently, with a sound snapshot: ask only for what changed
        // since its last success; when that request fails, fetch it in full (full_fallback).
        var fallback: String? = nil
        // (The snapshot is read, and so checked, once; an unusable one is reported by the full sync.)
        if feed.parent != nil, let since = feed.since, fullReason == nil, !materialises, let generation, let last = state?.lastSuccessAt,
           let previous = try? await snapshots.read(feedID: feed.id, generation: generation) {
            let sinceText = since.text(last - since.overlapSeconds)
            do throws(FeedError) {
                let got = try await fetchParsed(ctx, url: ChildFeeds.fill(feed.url, since: sinceText), result: &result,
                                                phases: &phases, clock: clock)
                try await applyDelta(ctx, got, to: previous, since: sinceText, result: &result, phases: &phases, clock: clock)
                return
            } catch {
                fallback = "incremental request failed (\(error.message)); fetched in full"
                result.http = nil
                result.warnings = []
            }
        }
        let url = feed.parent != nil ? ChildFeeds.fill(feed.url, since: nil) : feed.url

        // 2. Fetch. A skip (304 or equal fingerprint) needs a sound snapshot: on the feed's night
        //    of the rotation (one in `incremental_days`, SyncDecision.checksSnapshotInFull) checksum
        //    and name checked, payload not inflated; on the other nights its presence and size.
        //    Checked once, and only where a skip is possible: before the fetch for HTTP (validators
        //    are sent only then), after the fingerprint matched for files — so a changed feed reads
        //    its snapshot once, to decode it.
        func snapshotSound() async -> Bool {
            guard fallback == nil, fullReason == nil, let generation else { return false }
            if SyncDecision.checksSnapshotInFull(feedID: feed.id, now: now, incrementalDays: Int(days)) {
                return await snapshots.isSound(feedID: feed.id, generation: generation)
            }
            return await snapshots.isPresent(feedID: feed.id, generation: generation)
        }
        let fetched: FetchedBody
        if feed.pagination != nil {
            fetched = try await fetchParsed(ctx, url: url, result: &result, phases: &phases, clock: clock)
        } else {
            let soundBeforeFetch: Bool? = feed.isHTTP ? await snapshotSound() : nil
            let validators = SyncDecision.validators(fullReason: fullReason, state: state, snapshotSound: soundBeforeFetch == true,
                                                     materialises: materialises)
            fetched = try await fetchBody(ctx, url: url, validators: validators, result: &result, phases: &phases, clock: clock)
        }

        // 3. An unchanged body (304, or the same fingerprint) is not parsed.
        let fetch: SyncDecision.Fetch = fetched.fingerprint.map { .body(fingerprintUnchanged: $0 == state?.fingerprint) } ?? .notModified
        // (Soundness is asked only when it can decide: an unchanged body and no reason for a full sync.)
        var soundAfterFetch = false
        if case .body(fingerprintUnchanged: true) = fetch, fullReason == nil { soundAfterFetch = await snapshotSound() }
        if case .skip(let reason) = SyncDecision.afterFetch(fetch, fullReason: fullReason, materialises: materialises,
                                                            snapshotSound: soundAfterFetch) {
            result.reason = reason
            if feed.children != nil, let generation {
                result.children = try await childrenFromSnapshot(ctx, generation: generation, result: &result)
            }
            return
        }

        // 4. Parse.
        var parsed = try parse(ctx, fetched, result: &result, phases: &phases, clock: clock)

        // 5. Decide the sync type and plan.
        var t = clock.now
        var previous: [PriorRecord]? = nil
        var previousSnapshot: [SnapshotRecord] = []
        // Events that could not be read (`on_bad_event: keep`): left out of the diff on both
        // sides, so that they are neither updated nor removed, and carried into the new snapshot
        // as the last one had them.
        let bad = Set(parsed.badRecords.map(\.key))
        result.badEvents = parsed.badRecords
        let finding: SyncDecision.SnapshotFinding
        if fullReason != nil {
            finding = .none
        } else if let generation {
            do {
                let snap = try await snapshots.read(feedID: feed.id, generation: generation)
                finding = .sound(format: snap.header.feedFormat, parserVersion: snap.header.parserVersion,
                                 createdAt: snap.header.createdAt)
                previous = snap.records.compactMap { bad.contains($0.key) ? nil : PriorRecord(key: $0.key, hash: $0.hash, lastEnd: $0.lastEnd) }
                if !bad.isEmpty { previousSnapshot = snap.records.filter { bad.contains($0.key) } }
            } catch {
                finding = .unusable(error.description)
            }
        } else {
            finding = .none
        }
        var choice = SyncDecision.syncType(fullReason: fullReason, snapshot: finding, format: format.name,
                                           parserVersion: format.parserVersion, now: ctx.now, incrementalDays: ctx.days)
        if let fallback, fullReason == nil { choice = SyncDecision.Choice(.fullFallback, fallback) }
        result.syncType = choice.syncType
        result.reason = choice.reason
        let plan: ChangeSet
        if choice.diffsAgainstSnapshot, let previous {
            plan = Planner.incremental(previous: previous, records: parsed.records, now: ctx.now)
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
                    throw FeedError(.store, error.description, cause: error)
                }
            }
            plan = Planner.full(stored: bad.isEmpty ? rows : rows.filter { !bad.contains($0.key) }, records: parsed.records, now: ctx.now)
        }
        phases.plan += seconds(clock.now - t)
        if !options.allowMassRemoval, let why = Planner.suspicion(of: plan, recordCount: parsed.records.count) {
            throw FeedError(.suspicious, "suspicious: \(why)")
        }
        result.plan = plan
        result.status = plan.isEmpty ? .unchanged : .changed
        result.fullSync = choice.syncType != .incremental
        let fingerprintUnchanged = fetched.fingerprint == state?.fingerprint
        if materialises, choice.syncType == .incremental, fingerprintUnchanged {
            result.reason = "read to materialise its occurrences until \(ISOTime.format(occurrenceWindow?.to ?? ctx.now))"
        }
        if materialises || !(result.fullSync && plan.isEmpty && state?.occurrencesUntil != nil) {
            // (A full sync that changed no row leaves the occurrences of a feed the table holds.)
            result.occurrences = try occurrenceUpdate(ctx, records: parsed.records, body: fetched.body, plan: plan,
                                                      replacesAll: materialises || result.fullSync, bad: bad, phases: &phases, clock: clock)
        }
        if feed.children != nil {
            result.children = children(of: feed, records: parsed.records, result: &result)
        }

        // 6. Write the new snapshot under a new generation; the store will point at it. A full
        //    sync that found the same body and the same records keeps the sound snapshot it has.
        // (The snapshot is read to compare only when nothing else already decided.)
        var matches = false
        if let generation, choice.syncType != .incremental, SyncDecision.keepsSnapshot(syncType: choice.syncType, planIsEmpty: plan.isEmpty,
                                                     fingerprintUnchanged: fingerprintUnchanged, hasGeneration: true,
                                                     snapshotMatches: true) {
            matches = await snapshotMatches(feed.id, generation: generation, format: format, records: parsed.records)
        }
        if let generation, SyncDecision.keepsSnapshot(
            syncType: choice.syncType, planIsEmpty: plan.isEmpty, fingerprintUnchanged: fingerprintUnchanged,
            hasGeneration: true, snapshotMatches: matches) {
            result.snapshotGeneration = generation
            return
        }
        t = clock.now
        var records = parsed.records.map {
            SnapshotRecord(key: $0.key, hash: $0.hash, start: $0.start, lastEnd: $0.lastEnd, allDay: $0.allDay, body: $0.body)
        }
        if !previousSnapshot.isEmpty {
            // (A bad event the last snapshot did not have — new, or the snapshot was unusable —
            // is in neither: its stored row, if any, stays as it is.)
            let present = Set(records.map(\.key))
            records += previousSnapshot.filter { !present.contains($0.key) }
        }
        parsed.records.removeAll()
        try await writeSnapshot(ctx, records: records, fingerprint: fetched.fingerprint, result: &result)
        phases.snapshot += seconds(clock.now - t)
    }

    /// A body as fetched: its fingerprint (nil after a 304) and, for a paged child, its records.
    private struct FetchedBody {
        var body: [UInt8] = []
        var fingerprint: String?
        var parsed: ParsedFeed?
    }

    /// One request (a 304 leaves the fingerprint nil). `fingerprint: false` when the body will be
    /// parsed anyway and fingerprinted from its records (`fetchParsed`): a JSON body with volatile
    /// fields would otherwise be parsed twice.
    private func fetchBody(_ ctx: Context, url: String, validators: Validators, fingerprint wanted: Bool = true,
                           result: inout FeedResult, phases: inout PhaseTimes,
                           clock: ContinuousClock) async throws(FeedError) -> FetchedBody {
        let feed = ctx.feed
        let source: any FeedSource
        if feed.isHTTP {
            guard let httpSource else { throw FeedError(.config, "no HTTP source available") }
            source = httpSource
        } else {
            source = fileSource
        }
        var t = clock.now
        let fetched: FetchResult
        do {
            let got = try await source.fetch(url, validators: validators, limits: feed.limits ?? config.limits, format: ctx.format)
            result.http = got.http
            fetched = got.result
        } catch {
            // Time spent on a host that failed is fetch time too (the summary's time line says
            // where a night went, waits on dead hosts included).
            phases.fetch += seconds(clock.now - t)
            result.http = error.http
            throw FeedError(.fetch, error.message, cause: error)
        }
        phases.fetch += seconds(clock.now - t)
        switch fetched {
        case .notModified:
            return FetchedBody()
        case .body(let b, let next):
            result.validators = next
            guard wanted else { return FetchedBody(body: b) }
            t = clock.now
            let fingerprint = ctx.format.fingerprint(b).description
            phases.fingerprint += seconds(clock.now - t)
            result.fingerprint = fingerprint
            return FetchedBody(body: b, fingerprint: fingerprint)
        }
    }

    /// The body's records: fetched and parsed page by page for a paged child (until a page holds
    /// fewer than the page size), else one body parsed. The fingerprint is taken over the records'
    /// keys and hashes, in the order received (volatile fields are already out of the hashes), so
    /// no body is parsed twice and every page counts.
    private func fetchParsed(_ ctx: Context, url: String, result: inout FeedResult,
                             phases: inout PhaseTimes, clock: ContinuousClock) async throws(FeedError) -> FetchedBody {
        var all = ParsedFeed(records: [])
        let pages = ctx.feed.pagination
        var page = pages?.first ?? 0
        var fetchedPages = 0
        while true {
            var pageURL = url
            if let pages {
                pageURL = ChildFeeds.setQuery(url, pages.param, String(page))
                if let sizeParam = pages.sizeParam { pageURL = ChildFeeds.setQuery(pageURL, sizeParam, String(pages.size)) }
            }
            let got = try await fetchBody(ctx, url: pageURL, validators: .none, fingerprint: false, result: &result,
                                          phases: &phases, clock: clock)
            let parsed = try parse(ctx, got, result: &result, phases: &phases, clock: clock)
            all.records += parsed.records
            all.warnings += parsed.warnings
            all.timeZone = parsed.timeZone
            fetchedPages += 1
            if all.records.count > config.maxRecords {
                throw FeedError(.format, "more than \(config.maxRecords) records over \(fetchedPages) pages; the limit is \(config.maxRecords) (`max_records`)")
            }
            guard let pages, parsed.records.count >= pages.size else { break }
            page += 1
        }
        let t = clock.now
        var stream = XXH3Stream128()
        for r in all.records {
            var bytes = Array(r.key.utf8)
            bytes.append(0)
            withUnsafeBytes(of: r.hash.bigEndian) { bytes.append(contentsOf: $0) }
            bytes.withUnsafeBytes { stream.update($0) }
        }
        let fingerprint = stream.finish().description
        phases.fingerprint += seconds(clock.now - t)
        result.fingerprint = fingerprint
        result.records = all.records.count
        result.warnings = all.warnings
        return FetchedBody(fingerprint: fingerprint, parsed: all)
    }

    private func parse(_ ctx: Context, _ fetched: FetchedBody, result: inout FeedResult,
                       phases: inout PhaseTimes, clock: ContinuousClock) throws(FeedError) -> ParsedFeed {
        if let parsed = fetched.parsed { return parsed }
        let t = clock.now
        let parsed = try Self.parse(fetched.body, with: ctx.format)
        phases.parse += seconds(clock.now - t)
        result.records = parsed.records.count
        result.warnings = parsed.warnings
        for w in parsed.warnings {
            logger.debug("parser warning", metadata: ["feed.id": "\(ctx.feed.id)", "feed.warning": "\(w)"])
        }
        return parsed
    }

    /// A body's records, or the feed's failure to parse it.
    private static func parse(_ body: [UInt8], with format: any FeedFormat) throws(FeedError) -> ParsedFeed {
        do {
            return try format.parse(body)
        } catch {
            throw FeedError(.format, "cannot parse the feed: \(error.description)", cause: error)
        }
    }

    /// Writes `records` as the feed's next generation (nothing in a dry run); the store will point at it.
    private func writeSnapshot(_ ctx: Context, records: [SnapshotRecord], fingerprint: String?,
                               result: inout FeedResult) async throws(FeedError) {
        let newGeneration = (ctx.generation ?? 0) + 1
        result.snapshotGeneration = newGeneration
        guard !options.dryRun else { return }
        // A feed is parsed only after a body was read, so it has a fingerprint.
        guard let bodyFingerprint = fingerprint.flatMap(Fingerprint128.init(hex:)) else {
            throw FeedError(.snapshot, "cannot write the snapshot: the body has no fingerprint")
        }
        let header = SnapshotHeader(
            feedID: ctx.feed.id, generation: newGeneration, createdAt: ctx.now, parserVersion: ctx.format.parserVersion,
            bodyFingerprint: bodyFingerprint, etag: result.validators.etag,
            lastModified: result.validators.lastModified, feedFormat: ctx.format.name)
        do {
            let bytes = try SnapshotCodec.encode(header: header, records: records, level: SnapshotCodec.writeLevel)
            try await snapshots.add(bytes, feedID: ctx.feed.id, generation: newGeneration)
            CrashPoints.hit("snapshot-written")
        } catch {
            throw FeedError(.snapshot, "cannot write the snapshot: \(error.description)", cause: error)
        }
    }

    /// A child's answer to `{since}`: only records modified since then, which are added or updated
    /// (nothing is removed from a delta); the new snapshot is the old one with the delta applied.
    private func applyDelta(_ ctx: Context, _ got: FetchedBody, to snap: Snapshot, since: String, result: inout FeedResult,
                            phases: inout PhaseTimes, clock: ContinuousClock) async throws(FeedError) {
        guard let generation = ctx.generation, let parsed = got.parsed else { return }
        let t = clock.now
        let previous = snap.records.map { PriorRecord(key: $0.key, hash: $0.hash, lastEnd: $0.lastEnd) }
        let plan = Planner.delta(previous: previous, records: parsed.records, now: ctx.now)
        phases.plan += seconds(clock.now - t)
        result.syncType = .incremental
        result.reason = "records modified since \(since)"
        result.plan = plan
        result.status = plan.isEmpty ? .unchanged : .changed
        result.records = nil
        result.occurrences = try occurrenceUpdate(ctx, records: parsed.records, body: [], plan: plan, replacesAll: false, bad: [],
                                                  phases: &phases, clock: clock)
        if plan.isEmpty {
            result.snapshotGeneration = generation
            return
        }
        var merged: [String: SnapshotRecord] = [:]
        merged.reserveCapacity(snap.records.count + parsed.records.count)
        for r in snap.records { merged[r.key] = r }
        for r in parsed.records {
            merged[r.key] = SnapshotRecord(key: r.key, hash: r.hash, start: r.start, lastEnd: r.lastEnd, allDay: r.allDay, body: r.body)
        }
        result.records = merged.count
        let w = clock.now
        try await writeSnapshot(ctx, records: Array(merged.values), fingerprint: got.fingerprint, result: &result)
        phases.snapshot += seconds(clock.now - w)
    }

    // MARK: Occurrences

    /// What a parsed feed's sync does to its occurrences: all of them rewritten (a full sync, or
    /// the horizon to extend), or those of the series the plan touches (an incremental change:
    /// the uids of its added and updated records, and the masters of removed overrides), or
    /// nothing.
    private func occurrenceUpdate(_ ctx: Context, records parsedRecords: [FeedRecord], body: [UInt8], plan: ChangeSet,
                                  replacesAll: Bool, bad: Set<String>, phases: inout PhaseTimes,
                                  clock: ContinuousClock) throws(FeedError) -> OccurrenceUpdate? {
        // (With the table off, `process` clears a feed's occurrences, parsed or not.)
        guard let w = occurrenceWindow, replacesAll || !plan.isEmpty else { return nil }
        var records = parsedRecords
        // The series whose occurrences change: every one for a full rewrite, else those of the
        // uids the plan touches (its added and updated records, and the masters of removed
        // overrides: a removed override gives its instance back to its series).
        var uids = Set<String>()
        if !replacesAll {
            for r in plan.added { uids.insert(r.uid) }
            for r in plan.updated { uids.insert(r.uid) }
            if !plan.removed.isEmpty {
                var masters = Set<String>()
                for key in plan.removed {
                    if let r = key.range(of: "|RID:", options: .backwards) { masters.insert(String(key[..<r.lowerBound])) }
                }
                if !masters.isEmpty {
                    for r in records where r.recurrenceID == nil && masters.contains(r.key) { uids.insert(r.uid) }
                }
            }
        }
        // Series parsed without the window get their occurrences from a second parse (the body
        // parsed the same way a moment ago; only a changed series costs it).
        if records.contains(where: { $0.isSeries && $0.occurrences == nil && (replacesAll || uids.contains($0.uid)) }),
           !body.isEmpty, let windowed = makeFormat(ctx.feed, windowed: true) {
            let t = clock.now
            records = try Self.parse(body, with: windowed).records
            phases.parse += seconds(clock.now - t)
        }
        let stored = ctx.state?.occurrencesUntil
        if replacesAll {
            var rows: [OccurrenceRow] = []
            for r in records { rows += OccurrenceRow.rows(of: r, in: w) }
            let until = SyncDecision.occurrencesUntil(replacedAll: true, stored: stored, windowEnd: w.to,
                                                      reachesBeyond: records.contains { reachesBeyond($0, w) })
            // Rows written before the derived columns existed get them (a store that has rows
            // but no occurrences yet for this feed).
            let refresh = ctx.state != nil && stored == nil ? records : []
            return OccurrenceUpdate(uids: nil, from: ctx.now, rows: rows, keep: bad.sorted(), until: until, refresh: refresh)
        }
        var rows: [OccurrenceRow] = []
        var beyond = false
        for r in records where uids.contains(r.uid) {
            rows += OccurrenceRow.rows(of: r, in: w)
            if reachesBeyond(r, w) { beyond = true }
        }
        let until = SyncDecision.occurrencesUntil(replacedAll: false, stored: stored, windowEnd: w.to, reachesBeyond: beyond)
        return OccurrenceUpdate(uids: uids.sorted(), from: ctx.now, rows: rows, until: until)
    }

    /// True when a record may have an occurrence that starts at or after the window's end.
    private func reachesBeyond(_ r: FeedRecord, _ w: OccurrenceWindow) -> Bool {
        guard r.hasTimes else { return false }
        if r.isSeries || r.occurrences != nil { return r.lastEnd.map { $0 > w.to } ?? true }
        return r.start >= w.to
    }

    /// The children of a parent's future records (`children:`), from the records just parsed.
    private func children(of feed: FeedConfig, records: [FeedRecord], result: inout FeedResult) -> [FeedConfig] {
        guard let spec = feed.children else { return [] }
        let future = records.filter { $0.isFuture(now: options.now) }.map { (key: $0.key, body: $0.body) }
        result.future = future.count
        return ChildFeeds.make(spec, parent: feed, records: future, warnings: &result.warnings)
    }

    /// The children of an unchanged parent: its future records, from its sound snapshot.
    private func childrenFromSnapshot(_ ctx: Context, generation: UInt64, result: inout FeedResult) async throws(FeedError) -> [FeedConfig] {
        guard let spec = ctx.feed.children else { return [] }
        let snap: Snapshot
        do {
            snap = try await snapshots.read(feedID: ctx.feed.id, generation: generation)
        } catch {
            throw FeedError(.snapshot, "cannot read the snapshot for the children's parent records: \(error.description)", cause: error)
        }
        let future = snap.records.filter { endsAfter($0.lastEnd, now: options.now) }.map { (key: $0.key, body: $0.body) }
        result.records = snap.records.count
        result.future = future.count
        return ChildFeeds.make(spec, parent: ctx.feed, records: future, warnings: &result.warnings)
    }

    /// True when the snapshot of `generation` is sound and holds exactly these records (keys,
    /// hashes and ends), so rewriting it would change nothing.
    func snapshotMatches(_ feedID: String, generation: UInt64, format: any FeedFormat, records: [FeedRecord]) async -> Bool {
        guard let snap = try? await snapshots.read(feedID: feedID, generation: generation),
              snap.header.parserVersion == format.parserVersion, snap.header.feedFormat == format.name,
              snap.records.count == records.count else { return false }
        var byKey: [String: (UInt64, Int64?)] = [:]
        byKey.reserveCapacity(records.count)
        for r in records { byKey[r.key] = (r.hash, r.lastEnd) }
        return snap.records.allSatisfy { s in
            guard let (hash, lastEnd) = byKey[s.key] else { return false }
            return hash == s.hash && lastEnd == s.lastEnd
        }
    }
}

/// Why one feed failed: a code to act on (alerts, retries), the message the report and the
/// feed's line show, and the underlying error. A feed error fails that feed only.
public struct FeedError: CodedError {
    public typealias Code = ErrorCode<FeedError>
    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The message alone: it already says what the cause said (the report's `error`).
    public var description: String { message }
}

extension ErrorCode where Kind == FeedError {
    /// The feed could not be fetched (file or HTTP; the HTTP facts are in the report).
    public static let fetch = Self("fetch")
    /// The body is not what its format says (parse error, HTML page, a limit of docs/limits.md).
    public static let format = Self("format")
    /// The mass-removal guard refused the plan.
    public static let suspicious = Self("suspicious")
    /// The new snapshot could not be written.
    public static let snapshot = Self("snapshot")
    /// The store could not be read for this feed.
    public static let store = Self("store")
    /// The feed's configuration cannot be used (an unknown format).
    public static let config = Self("config")
    /// In a shared night: the processes that claimed the feed stopped before finishing it, or
    /// this process cannot rebuild it.
    public static let worker = Self("worker")
}

extension FeedOutcome {
    /// A feed that is not processed at all: it fails with `error`, and nothing of it changes.
    static func failed(_ feed: FeedConfig, _ error: FeedError, state: FeedState?) -> FeedOutcome {
        var result = FeedResult(feed: feed)
        result.fail(error)
        return FeedOutcome(result: result, phases: PhaseTimes(), previousGeneration: state?.snapshotGeneration)
    }
}
