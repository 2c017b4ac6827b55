import Foundation
public import FeedModel
import FeedFormats
import FeedHash
public import FeedSources
public import Logging
public import Snapshots
public import Stores
#if canImport(Glibc)
import Glibc
#endif

/// Options of one run (the CLI's flags).
public struct SyncOptions: Sendable {
    /// `--force-full-sync`: read every feed whatever its validators and fingerprint; reconcile all.
    public var forceFull = false
    /// `--incremental-days N`: overrides the config's `incremental_days`.
    public var incrementalDays: Int?
    /// `--feed ID`…: only these feeds (empty: all).
    public var feedIDs: [String] = []
    /// `--dry-run`: plan and report, write nothing.
    public var dryRun = false
    /// `--allow-mass-removal`: apply plans the mass-removal guard would refuse.
    public var allowMassRemoval = false
    /// `--now`: the instant that divides past from future (Unix seconds).
    public var now: Int64
    /// `--concurrency N`: overrides the config.
    public var concurrency: Int?

    public init(now: Int64) { self.now = now }
}

/// A store transaction closes after this many changed feeds, this many changed records, or this
/// many feeds in all. Unchanged and failed feeds write one small row each, so a quiet night commits
/// (and syncs) once per 4,096 feeds rather than once per 256.
let batchChangedFeeds = 256
let batchEvents = 20_000
let batchFeeds = 4_096

/// Runs one sync: fetch and parse feeds concurrently (bounded), plan each one, write its new
/// snapshot, and hand the store one transaction per batch of feeds from a single writer.
public struct SyncRunner: Sendable {
    public var config: SyncConfig
    public var options: SyncOptions
    public var store: any FeedStore
    public var fileSource: any FeedSource
    public var httpSource: (any FeedSource)?
    public var logger: Logger
    /// The formats feeds may have (`format:`); default: the formats feedsync knows.
    public var formats: FormatRegistry
    /// Where the snapshots are (default: the folder `snapshots:` names).
    public var snapshots: any SnapshotStorage
    /// Wall clock for started/finished times (injected so tests control it).
    public var wallClock: @Sendable () -> Int64
    /// This process, in reports and leases (`host:pid`).
    public var workerName = SyncRunner.defaultWorkerName
    /// Share the night through the store (a `SharedNightStore`), so that `feedsync worker`
    /// processes can join it; the run still works on it itself and reports all of it.
    public var shareNight = false
    /// How long a process with nothing to do waits before asking a shared night again.
    public var pollInterval: Duration = .milliseconds(200)
    /// Set by a signal: start no new feed, finish and commit the ones in flight, report.
    public var stop: StopRequest?
    /// Where the feeds' report entries go (default: `RunReport.feeds`). `.none` or `.spool` keep
    /// a night's memory flat in its number of feeds.
    public var keeping: FeedReportKeeping = .inMemory

    public static var defaultWorkerName: String {
        "\(ProcessInfo.processInfo.hostName):\(getpid())"
    }

    public init(config: SyncConfig, options: SyncOptions, store: any FeedStore,
                fileSource: any FeedSource = FileSource(), httpSource: (any FeedSource)?,
                formats: FormatRegistry = .standard, snapshots: (any SnapshotStorage)? = nil, logger: Logger,
                wallClock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.config = config
        self.options = options
        self.store = store
        self.fileSource = fileSource
        self.httpSource = httpSource
        self.logger = logger
        self.formats = formats
        self.snapshots = snapshots ?? SnapshotDirectory(path: config.snapshots)
        self.wallClock = wallClock
    }

    /// Runs the sync. `onFeed` is called once per feed, in completion order, as each feed is collected.
    /// Throws only when the run cannot go on at all (store unreadable or unwritable).
    public func run(onFeed: @Sendable (FeedReport) -> Void = { _ in }) async throws -> RunReport {
        let clock = ContinuousClock()
        let t0 = clock.now
        let startedAt = wallClock()
        // `--incremental-days 0` syncs every feed in full by age: the run is a full one, and says so.
        let mode: SyncMode = options.forceFull || (options.incrementalDays ?? config.incrementalDays) == 0 ? .full : .incremental
        var report = RunReport(mode: mode,
                               now: ISOTime.format(options.now), startedAt: ISOTime.format(startedAt),
                               dryRun: options.dryRun)
        let feeds = try selectedFeeds()
        // Nothing here holds every feed's state: they are read a batch at a time.
        let index = FeedIndex(feeds)
        let withSnapshots = try await store.feedIDsWithSnapshots()
        report.orphans = feeds.count == config.feeds.count
            ? Orphans.find(config, ids: withSnapshots, isConfigured: { index.position(of: $0) != nil })
            : Orphans.find(config, ids: withSnapshots)
        let snapshots = self.snapshots
        // What an interrupted run left is looked for unless the last run said it left nothing
        // (its clean mark, taken away now: this run leaves its own only if it ends cleanly).
        // `folderClean`: nothing is left of an earlier run (the mark said so, or this run looked
        // at every configured feed's files), so a clean end of this run may say so in turn.
        var storeID: String? = nil
        var folderClean = false
        if !options.dryRun {
            let mark = await snapshots.takeCleanMark()
            storeID = try? await store.storeID()
            var markRunKnown = false
            if let mark, mark.storeID == storeID { markRunKnown = (try? await store.run(id: mark.runID)) != nil }
            if SyncDecision.skipsLeftoverCheck(mark: mark, storeID: storeID, markRunKnown: markRunKnown, forceFull: options.forceFull) {
                folderClean = true
            } else {
                let cleaned = await removeLeftovers(snapshots, index: index)
                folderClean = cleaned && feeds.count == config.feeds.count
            }
        }
        let runID: Int64? = options.dryRun ? nil
            : try await store.beginRun(mode: mode, startedAt: startedAt, now: options.now)
        logger.info("run started", metadata: ["run.mode": "\(mode.rawValue)", "run.feeds": "\(feeds.count)",
                                              "run.now": "\(report.now)"])

        let collector = ReportCollector(index, keeping: keeping)
        var leftBehind = true
        do {
            var shared: (any SharedNightStore)? = nil
            let queue: any NightQueue
            if shareNight, let runID, let night = store as? any SharedNightStore {
                try await night.openNight(NightSettings(runID: runID, mode: mode, now: options.now,
                                                        incrementalDays: options.incrementalDays,
                                                        allowMassRemoval: options.allowMassRemoval,
                                                        configDigest: config.digest), feeds: feeds.map(\.id))
                queue = SharedQueue(store: night, runID: runID, owner: workerName, leaseSeconds: config.leaseSeconds,
                                    config: config, logger: logger, recordsOutcomes: false, stop: stop)
                shared = night
            } else {
                queue = LocalQueue(feeds, store: store)
            }
            // A shared night's own entries wait for the end: a feed this process lost to another is
            // the other's to report.
            let mine = try await work(queue, runID: runID, keepReports: shared != nil,
                                      onFeed: onFeed, collect: shared == nil ? collector.add : { _ in })
            report.interrupted = mine.stopped
            leftBehind = mine.leftBehind
            if mine.stopped, let shared, let runID {
                // No process claims more of a stopped night; the feeds they have in flight are
                // waited for (a while), so that the report says what was committed.
                try await store.finishRun(id: runID, finishedAt: wallClock(), status: .interrupted, counts: RunCounts())
                for _ in 0..<50 {
                    guard try await shared.nightProgress(runID: runID).leased > 0 else { break }
                    try await Task.sleep(for: pollInterval)
                }
            }
            if let shared, let runID {
                // The whole night, whoever processed each feed: this process's own feeds, and
                // what the workers recorded of theirs (a feed this process lost is theirs).
                var phases = mine.phases
                for (id, r) in mine.reports where !mine.lost.contains(id) { collector.add(r) }
                let decoder = JSONDecoder()
                let me = workerName
                try await shared.nightOutcomes(runID: runID) { id, worker, bytes in
                    guard let o = try? decoder.decode(NightOutcome.self, from: Data(bytes)) else {
                        var r = FeedReport(id: id, url: "", status: .failed, syncType: .none, reason: "")
                        r.error = "its outcome in the night's table cannot be read"
                        r.worker = worker
                        collector.add(r)
                        return
                    }
                    phases.add(o.phases)
                    collector.add(o.report)
                    if worker != me { onFeed(o.report) }
                }
                report.phases = phases
            } else {
                report.phases = mine.phases
            }
        } catch {
            // Leave no run marked `running` forever; what was committed stays committed.
            if let runID {
                try? await store.finishRun(id: runID, finishedAt: wallClock(), status: .failed, counts: RunCounts())
            }
            throw error
        }

        // Each configured feed, then its children by id; a parent counts how they were synced.
        (report.feeds, report.parents) = collector.finish(interrupted: report.interrupted)
        report.counts = collector.counts
        report.http = collector.http
        let finishedAt = wallClock()
        report.finishedAt = ISOTime.format(finishedAt)
        report.seconds = seconds(clock.now - t0)
        report.roundToMilliseconds()
        if let runID {
            let status: RunStatus = report.interrupted ? .interrupted : report.feedsFailed == 0 ? .ok : .partial
            try await store.finishRun(id: runID, finishedAt: finishedAt, status: status, counts: report.counts)
            // Every batch is written and its old generations deleted: the next run need not look.
            if folderClean, !report.interrupted, !leftBehind, let storeID {
                await snapshots.putCleanMark(CleanMark(storeID: storeID, runID: runID))
            }
        }
        logger.info("run finished", metadata: ["run.feeds.failed": "\(report.feedsFailed)",
                                               "run.seconds": "\(report.seconds)"])
        return report
    }

    /// What one process did of a night: its feeds' reports and the phase times.
    struct Work {
        var reports: [String: FeedReport] = [:]
        var phases = PhaseTimes()
        var lost: Set<String> = []
        /// Stopped by `stop` before the queue was done.
        var stopped = false
        /// A snapshot may have been left that the store does not point at: an old generation
        /// that could not be deleted, or a new one whose feed then failed to write it.
        var leftBehind = false
    }

    /// Processes the queue's feeds: fetched and planned concurrently (at most `limit` at once),
    /// each outcome collected on this task, the single writer, and committed in batches. One batch
    /// is written (snapshots made durable, the store transaction, old generations deleted) while
    /// the next one is collected and its feeds are parsed, so the store and the parsers use both
    /// cores; a store that takes concurrent transactions (`concurrentBatches`, PostgreSQL) has that
    /// many batches in flight, each of other feeds.
    /// Each done feed's entry goes to `onFeed` (the live line), then to `collect`, and is also
    /// kept in `Work.reports` when `keepReports` is set.
    func work(_ queue: any NightQueue, runID: Int64?, keepReports: Bool,
              onFeed: (FeedReport) -> Void, collect: (FeedReport) -> Void = { _ in }) async throws -> Work {
        let worker = FeedWorker(config: config, options: options, store: store, snapshots: snapshots,
                                fileSource: fileSource, httpSource: httpSource, formats: formats, logger: logger)
        let limit = max(1, options.concurrency ?? config.concurrency)
        var done = Work()
        var pending: [FeedOutcome] = []
        var pendingEvents = 0
        var pendingChanged = 0
        var writing: [Task<(Double, Set<String>, Bool), any Error>] = []
        let inFlight = max(1, store.concurrentBatches)
        let logger = self.logger, now = options.now, snapshots = self.snapshots
        let me = workerName
        func collectWrite(_ task: Task<(Double, Set<String>, Bool), any Error>) async throws {
            let (seconds, lost, retireFailed) = try await task.value
            done.phases.store += seconds
            done.lost.formUnion(lost)
            // (A feed another process took over had its snapshot added and not committed.)
            if retireFailed || !lost.isEmpty { done.leftBehind = true }
        }
        func flush(final: Bool) async throws {
            while writing.count >= inFlight {
                try await collectWrite(writing.removeFirst())
            }
            if !pending.isEmpty {
                let batch = pending
                pending.removeAll(keepingCapacity: true)
                pendingEvents = 0
                pendingChanged = 0
                writing.append(Task.detached {
                    try await Self.write(batch, runID: runID, at: now, queue: queue, snapshots: snapshots, logger: logger)
                })
            }
            while final, !writing.isEmpty {
                try await collectWrite(writing.removeFirst())
            }
        }

        do {
            try await withThrowingTaskGroup(of: FeedOutcome.self) { group in
                var buffer: [Job] = []
                var head = 0
                var running = 0
                // The queue had nothing the last time it was asked (and whether the night goes on).
                var idle = false, waiting = false
                while true {
                    while running < limit {
                        if stop?.isRequested == true {
                            done.stopped = true
                            break
                        }
                        if head == buffer.count {
                            if idle { break }
                            buffer.removeAll(keepingCapacity: true)
                            head = 0
                            switch try await queue.next(limit) {
                            case .jobs(let jobs): buffer = jobs
                            case .wait: idle = true; waiting = true
                            case .complete: idle = true; waiting = false
                            }
                            if idle { break }
                        }
                        let job = buffer[head]
                        head += 1
                        running += 1
                        let state = job.state
                        group.addTask {
                            var outcome = if let refusal = job.refusal {
                                FeedOutcome.failed(job.feed, refusal, state: state)
                            } else {
                                await worker.process(job.feed, state: state)
                            }
                            outcome.lease = job.lease
                            return outcome
                        }
                    }
                    if running > 0 {
                        guard var outcome = try await group.next() else { break }
                        running -= 1
                        // Its children (or the feeds other processes free) may be there now.
                        idle = false
                        outcome.report.worker = me
                        if !outcome.children.isEmpty { try await queue.add(children: outcome.children, of: outcome) }
                        onFeed(outcome.report)
                        if outcome.report.errorCode == ErrorCode<FeedError>.snapshot.name { done.leftBehind = true }
                        done.phases.add(outcome.phases)
                        if keepReports { done.reports[outcome.report.id] = outcome.report }
                        collect(outcome.report)
                        pending.append(outcome)
                        pendingEvents += outcome.update.eventCount
                        if outcome.update.status == .changed { pendingChanged += 1 }
                        if pendingChanged >= batchChangedFeeds || pendingEvents >= batchEvents || pending.count >= batchFeeds {
                            try await flush(final: false)
                        }
                        continue
                    }
                    guard waiting, !done.stopped else { break }
                    // Others hold the rest of a shared night: commit what this process has done
                    // (they may be waiting for it), then look again shortly.
                    try await flush(final: true)
                    try await Task.sleep(for: pollInterval)
                    idle = false
                }
                try await flush(final: true)
                if head < buffer.count { await queue.release(Array(buffer[head...])) }
            }
        } catch {
            // A batch still being written finishes (or fails) before the caller closes the run.
            for task in writing { _ = try? await task.value }
            await queue.finish()
            throw error
        }
        await queue.finish()
        return done
    }

    /// Writes one batch: its new snapshots made durable (one syncfs), then the store transaction
    /// that points the feeds at them, then the old generations deleted. Returns the seconds taken,
    /// the feeds another process took over (nothing of them was written) and whether an old
    /// generation could not be deleted.
    private static func write(_ batch: [FeedOutcome], runID: Int64?, at now: Int64, queue: any NightQueue,
                              snapshots: any SnapshotStorage, logger: Logger) async throws -> (Double, Set<String>, Bool) {
        let clock = ContinuousClock()
        let t0 = clock.now
        guard let runID else { return (0, [], false) }
        var retireFailed = false
        if batch.contains(where: { $0.update.status != .failed && $0.update.snapshotGeneration != nil }) {
            do {
                try await snapshots.makeDurable()
            } catch {
                throw SyncError(.snapshots, "cannot make the new snapshots durable", cause: error)
            }
        }
        CrashPoints.hit("snapshots-durable")
        let lost = try await queue.commit(batch, runID: runID, at: now)
        CrashPoints.hit("store-committed")
        // The store now points at the new generations: the old snapshots can go.
        for o in batch where o.update.status != .failed && !lost.contains(o.update.feedID) {
            if let gen = o.update.snapshotGeneration, let old = o.previousGeneration, old != gen {
                do {
                    try await snapshots.retire(feedID: o.update.feedID, generation: old)
                } catch {
                    // Harmless: the next run deletes generations the store does not point at.
                    retireFailed = true
                    logger.info("cannot remove the old snapshot", metadata: [
                        "feed.id": "\(o.update.feedID)", "snapshot.generation": "\(old)", "error": "\(error)"])
                }
            }
        }
        CrashPoints.hit("old-retired")
        return (seconds(clock.now - t0), lost, retireFailed)
    }

    /// Repairs what an interrupted run can leave: temp files, and snapshot generations the store
    /// does not point at (written before a crash that lost the transaction, or an old generation
    /// not yet deleted after it). Only configured feeds are touched; we hold the run lock.
    /// True when the folder was looked through to the end.
    private func removeLeftovers(_ snapshots: any SnapshotStorage, index: FeedIndex) async -> Bool {
        let store = self.store
        do {
            // A batch of the folder's feeds at a time: the run's feeds (and its parents' children)
            // get the generation the store points at; other feeds' snapshots are not touched.
            let removed = try await snapshots.removeLeftovers(currentOf: { ids in
                var configured: [String] = [], children: [String] = []
                for id in ids {
                    if index.position(of: id) != nil { configured.append(id) } else if index.isChild(id) { children.append(id) }
                }
                guard !configured.isEmpty || !children.isEmpty else { return [:] }
                let states = try await store.feedStates(ids: configured + children)
                var current: [String: UInt64?] = [:]
                for id in configured { current[id] = .some(states[id]?.snapshotGeneration) }
                for id in children { if let state = states[id] { current[id] = .some(state.snapshotGeneration) } }
                return current
            })
            for file in removed {
                logger.info("removed a snapshot left by an interrupted run",
                            metadata: ["feed.id": "\(file.feedID)", "snapshot.path": "\(file.path)"])
            }
        } catch {
            logger.info("cannot clean the snapshot folder", metadata: ["error": "\(error)"])
            return false
        }
        return true
    }

    private func selectedFeeds() throws -> FeedList {
        guard !options.feedIDs.isEmpty else { return config.feeds }
        let known = Set(config.feeds.ids)
        let unknown = options.feedIDs.filter { !known.contains($0) }
        if !unknown.isEmpty {
            throw UsageError("unknown feed id\(unknown.count == 1 ? "" : "s"): \(unknown.joined(separator: ", ")) (not in \(config.path))")
        }
        let wanted = Set(options.feedIDs)
        return FeedList(config.feeds.indices.lazy.filter { wanted.contains(config.feeds.id(at: $0)) }.map { config.feeds[$0] })
    }
}

/// A usage problem found at run time (exit 2), e.g. `--feed` naming no configured feed.
public struct UsageError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

func seconds(_ d: Duration) -> Double { d.inSeconds }
