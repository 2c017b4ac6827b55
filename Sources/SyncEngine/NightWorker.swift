public import FeedModel
import FeedFormats
import Foundation
public import FeedSources
public import Logging
public import Snapshots
public import Stores

/// `feedsync worker`: a process that joins the nights `feedsync run` opens on a shared store
/// (PostgreSQL with its snapshots in the database) and processes feeds of them exactly as the
/// run does, claiming them with leases. The run reports the whole night; a worker reports what
/// it did.
public struct NightWorker: Sendable {
    public var config: SyncConfig
    public var store: any SharedNightStore
    public var snapshots: any SnapshotStorage
    public var fileSource: any FeedSource
    public var httpSource: (any FeedSource)?
    public var formats: FormatRegistry
    public var logger: Logger
    /// Feeds fetched and parsed at once (nil: the configuration's `concurrency`).
    public var concurrency: Int?
    /// This process, in reports and leases (`host:pid`).
    public var name = SyncRunner.defaultWorkerName
    /// How often it looks for a night to join, and for feeds others free.
    public var pollInterval: Duration = .milliseconds(250)
    /// Set by a signal: claim nothing more, finish and commit the feeds in flight, give back the
    /// claimed ones not started, return.
    public var stop: StopRequest?

    public init(config: SyncConfig, store: any SharedNightStore, snapshots: any SnapshotStorage,
                fileSource: any FeedSource = FileSource(), httpSource: (any FeedSource)?,
                formats: FormatRegistry = .standard, logger: Logger) {
        self.config = config
        self.store = store
        self.snapshots = snapshots
        self.fileSource = fileSource
        self.httpSource = httpSource
        self.formats = formats
        self.logger = logger
    }

    /// What a worker did of one night.
    public struct NightSummary: Sendable, Equatable {
        public var runID: Int64
        public var feeds = 0
        public var changed = 0
        public var failed = 0
        /// Feeds it worked on that another process took over (its work on them is not applied).
        public var lost = 0
        public var seconds = 0.0
        /// Stopped by a signal before the night was done.
        public var stopped = false
    }

    /// Waits for a night (one still running, or one opened after the worker started), works on
    /// it until every feed of it is done, and does the same for the next; with `once`, returns
    /// after the first. Throws when it cannot work at all (the store, or a configuration that is
    /// not the run's).
    public func run(once: Bool, onNight: (NightSettings) -> Void = { _ in }, onFeed: (FeedReport) -> Void = { _ in },
                    onDone: (NightSummary) -> Void = { _ in }) async throws {
        var seen: Int64 = 0
        var above = try await store.lastRunID()
        while stop?.isRequested != true {
            guard let night = try await store.nextNight(after: seen, orAbove: above) else {
                try await Task.sleep(for: pollInterval)
                continue
            }
            guard night.configDigest == config.digest else {
                throw WorkerError("run \(night.runID) was started with another configuration than \(config.path) (digest \(night.configDigest), this one \(config.digest)): every process of a night must read the same configuration file")
            }
            onNight(night)
            let summary = try await join(night, onFeed: onFeed)
            onDone(summary)
            seen = night.runID
            above = max(above, seen)
            if once || summary.stopped { return }
        }
    }

    /// Works on one night until it is complete.
    public func join(_ night: NightSettings, onFeed: (FeedReport) -> Void = { _ in }) async throws -> NightSummary {
        let clock = ContinuousClock()
        let t0 = clock.now
        var options = SyncOptions(now: night.now)
        options.forceFull = night.mode == .full
        options.incrementalDays = night.incrementalDays
        options.allowMassRemoval = night.allowMassRemoval
        options.concurrency = concurrency
        var runner = SyncRunner(config: config, options: options, store: store, fileSource: fileSource,
                                httpSource: httpSource, formats: formats, snapshots: snapshots, logger: logger)
        runner.workerName = name
        runner.pollInterval = pollInterval
        runner.stop = stop
        logger.info("joined a night", metadata: ["night.run_id": "\(night.runID)", "worker": "\(name)"])
        let queue = SharedQueue(store: store, runID: night.runID, owner: name, leaseSeconds: config.leaseSeconds,
                                config: config, logger: logger, stop: stop)
        let work = try await runner.work(queue, runID: night.runID, keepReports: true, onFeed: onFeed)
        var summary = NightSummary(runID: night.runID)
        for r in work.reports.values where !work.lost.contains(r.id) {
            summary.feeds += 1
            if r.status == .changed { summary.changed += 1 }
            if r.status == .failed { summary.failed += 1 }
        }
        summary.lost = work.lost.count
        summary.stopped = work.stopped
        summary.seconds = (clock.now - t0).inSeconds
        return summary
    }
}

/// A worker cannot work (exit 3): its configuration is not the run's, or its store cannot share.
public struct WorkerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
