import ArgumentParser
import FeedModel
import FeedSources
import Foundation
import Logging
import Snapshots
import Stores
import SyncEngine
import Synchronization

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Sync every configured feed (the nightly job).",
        discussion: """
            Exit status: 0 every feed synced; 1 some feed failed (the others were synced); 2 usage or \
            configuration error; 3 the run could not happen at all (another run holds the lock, the \
            store cannot be opened or written); 130 or 143 stopped by SIGINT or SIGTERM (the feeds it \
            reached are committed, the rest are skipped). --config defaults to $FEEDSYNC_CONFIG, else \
            feedsync.yml.
            """)

    @Option(name: .long, help: "The configuration file.", completion: .file(extensions: ["yml", "yaml"]))
    var config = CLI.defaultConfig

    @Flag(name: .long, help: "Read every feed and reconcile every record against the store.")
    var forceFullSync = false

    @Option(name: .long, help: "Sync a feed in full when its last success or snapshot is older than N days (default: the config's incremental_days).")
    var incrementalDays: Int?

    @Option(name: .customLong("feed"), help: "Only this feed (repeatable).", completion: CLI.feedIDCompletion)
    var feeds: [String] = []

    @Flag(name: .long, help: "Plan and report, but write nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Only the first configured feed (and its children): a quick look at a new setup.")
    var test = false

    @Flag(name: .long, help: "Apply changes even when a feed would lose most of its future events.")
    var allowMassRemoval = false

    @Option(name: .long, help: "The instant that divides past from future, ISO-8601 (default: the current time).")
    var now: String?

    @Option(name: .long, help: "Write the JSON run report to this path (`-`: to stdout, the feed lines then go to stderr).",
            completion: .file())
    var report: String?

    @Option(name: .long, help: "Write Prometheus metrics to this file at the end of the run (atomically; for node_exporter's textfile collector).",
            completion: .file())
    var metricsFile: String?

    @OptionGroup var process: ProcessOptions

    @Flag(name: .long, help: "Show the live progress line on stderr even when it is not a terminal.")
    var progress = false

    @Flag(name: .long, help: "Print only failures and the summary (no line per synced feed, no progress).")
    var quiet = false

    func validate() throws {
        if let incrementalDays, incrementalDays < 0 { throw ValidationError("--incremental-days must be 0 or more") }
        try CLI.validateNow(now)
    }

    /// What the run learnt, for the metrics file.
    final class Outcome {
        var report: RunReport?
        var health: [FeedHealth]?
    }

    func run() async throws {
        let started = Date()
        let outcome = Outcome()
        do {
            try await sync(outcome)
        } catch {
            writeMetrics(outcome, started: started, exitCode: (error as? ExitCode)?.rawValue ?? 1)
            throw error
        }
        writeMetrics(outcome, started: started, exitCode: 0)
    }

    /// `--metrics-file`: at the end of every run but a dry one, whatever its exit status. Like the
    /// report, it never decides the night's status.
    func writeMetrics(_ outcome: Outcome, started: Date, exitCode: Int32) {
        guard let metricsFile, !dryRun else { return }
        let end = Date()
        let metrics = RunMetrics(finishedAt: end.timeIntervalSince1970, seconds: end.timeIntervalSince(started),
                                 exitCode: exitCode, report: outcome.report, health: outcome.health)
        do {
            try MetricsFile.write(metrics, to: metricsFile)
        } catch {
            printError("feedsync: cannot write the metrics file \(metricsFile): \(error.localizedDescription)")
        }
    }

    func sync(_ outcome: Outcome) async throws {
        let logger = process.logger()
        Output.startTicker()

        let cfg = try CLI.loadConfig(config)
        let nowInstant = CLI.instant(now)
        var options = SyncOptions(now: nowInstant)
        options.forceFull = forceFullSync
        options.incrementalDays = incrementalDays
        options.feedIDs = test ? Array(cfg.feeds.prefix(1).map(\.id)) + feeds : feeds
        options.dryRun = dryRun
        options.allowMassRemoval = allowMassRemoval
        options.concurrency = process.concurrency

        // One run at a time: the snapshot folder's lock, and a PostgreSQL store's own. A dry run
        // writes nothing, so it takes none (and creates no folder or lock file).
        let lock = try CLI.folderLock(cfg, dryRun: dryRun)
        defer { withExtendedLifetime(lock) {} }
        // A report left by an earlier night must not look like this night's if this run dies.
        if let report, report != "-", !dryRun { ReportWriter.removeStale(at: report) }
        // The feeds' entries go to a spool file beside the report as they come (memory stays flat
        // in the number of feeds); without `--report`, only the counts are kept. A report that
        // cannot be written does not stop the night (it never decides its status).
        var spool: ReportSpool? = nil
        if let report {
            let folder = report == "-" ? (ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp")
                : URL(fileURLWithPath: report).deletingLastPathComponent().path
            do {
                spool = try ReportSpool(folder: folder)
            } catch {
                printError("feedsync: cannot write the report to \(report): \(error.localizedDescription)")
            }
        }
        // With `--report -`, stdout carries the report alone.
        let toStderr = report == "-"
        let bar: ProgressLine? = ProgressLine.wanted(force: progress, quiet: quiet)
            ? ProgressLine(configured: options.feedIDs.isEmpty ? cfg.feeds.count : Set(options.feedIDs).count) : nil
        let say: @Sendable (String) -> Void = { line in
            let write = { if toStderr { printError(line) } else { printOut(line + "\n") } }
            if let bar { bar.above(write) } else { write() }
        }
        let quiet = self.quiet

        let store: any FeedStore
        var storeLock: PostgresRunLock? = nil
        var snapshots: (any SnapshotStorage)? = nil
        do {
            if dryRun {
                // A dry run creates, migrates and writes nothing: a store that is not there yet
                // plans every feed as a first sync.
                store = try await StoreFactory.openReadOnly(cfg.store, busyTimeout: cfg.busyTimeoutSeconds) ?? InMemoryStore()
                if cfg.snapshotsInStore, !(store is PostgresStore) { snapshots = InMemorySnapshotStorage() }
            } else {
                store = try await StoreFactory.open(cfg.store, busyTimeout: cfg.busyTimeoutSeconds,
                                                    connections: (process.concurrency ?? cfg.concurrency) + 2)
            }
            if let pg = store as? PostgresStore {
                do {
                    storeLock = try await pg.lockRun()
                } catch {
                    await store.close()
                    throw error
                }
                if cfg.snapshotsInStore { snapshots = pg.snapshotTable }
            }
            // A snapshot folder serves one store: refuse one that records another.
            if !cfg.snapshotsInStore {
                do {
                    if let id = try await store.storeID(),
                       let warning = try FolderOwner.claim(cfg.snapshots, storeID: id, store: cfg.store.description, write: !dryRun) {
                        printError("feedsync: warning: \(warning)")
                    }
                } catch {
                    await storeLock?.release()
                    await store.close()
                    throw error
                }
            }
        } catch {
            printError("feedsync: \(error)")
            throw Exit.couldNotRun
        }

        let http: HTTPSource? = cfg.feeds.anyHTTP ? HTTPSource(settings: cfg.limits, logger: logger) : nil
        var runner = SyncRunner(config: cfg, options: options, store: store, httpSource: http, snapshots: snapshots, logger: logger)
        runner.keeping = spool.map { .spool($0) } ?? .none
        let stop = StopRequest()
        runner.stop = stop
        Signals.install(stop, grace: process.graceSeconds, say: printError)
        // With its snapshots in a PostgreSQL store, a night is shared: `feedsync worker`s may join it.
        runner.shareNight = cfg.snapshotsInStore && store is any SharedNightStore && !dryRun
        func closeStore() async {
            await storeLock?.release()
            await store.close()
        }
        let result: RunReport
        do {
            result = try await runner.run { feed in
                if !quiet || feed.status == .failed { say(Self.line(for: feed)) }
                for w in feed.warnings where !quiet {
                    let warn = { printError("feedsync: \(feed.id): warning: \(w)") }
                    if let bar { bar.above(warn) } else { warn() }
                }
                bar?.count(feed)
            }
            bar?.finish()
            outcome.report = result
            if metricsFile != nil, !dryRun, let states = try? await store.feedStates() {
                outcome.health = HealthCheck.assess(cfg, states: states, counts: [:], now: nowInstant)
            }
        } catch let error as UsageError {
            bar?.finish()
            await http?.shutdown()
            await closeStore()
            printError("feedsync: \(error)")
            throw Exit.usage
        } catch {
            bar?.finish()
            await http?.shutdown()
            await closeStore()
            printError("feedsync: the run could not complete: \(error)")
            throw Exit.couldNotRun
        }
        await http?.shutdown()
        await closeStore()

        for line in Self.summary(result) { say(line) }
        if let report, let spool {
            // The report never decides the night's status: what was synced stays synced.
            do {
                if report == "-" { Output.flush() }
                try spool.write(result, to: report)
            } catch {
                printError("feedsync: cannot write the report to \(report): \(error.localizedDescription)")
            }
        }
        if result.interrupted, let signal = stop.signalNumber { throw ExitCode(128 + signal) }
        if result.feedsFailed > 0 { throw Exit.feedFailed }
    }

    static func line(for f: FeedReport) -> String {
        let ms = "\(f.durationMs.isFinite ? Int(f.durationMs.rounded()) : 0) ms"
        switch f.status {
        case .failed:
            return "\(f.id): failed — \(f.error ?? "unknown error") (\(ms))"
        case .unchanged where f.syncType == .none:
            return "\(f.id): unchanged — \(f.reason) (\(ms))"
        default:
            var s = "\(f.id): \(f.status.rawValue), \(f.syncType.rawValue) (\(f.reason)): "
            s += "+\(f.added) added, ~\(f.updated) updated, -\(f.removed) removed"
            if f.pastSkipped > 0 { s += ", \(f.pastSkipped) past skipped" }
            s += " (\(ms))"
            return s
        }
    }

    static func summary(_ r: RunReport) -> [String] {
        var lines: [String] = []
        // One line per parent of children: its records, the future ones, how its children ran.
        for f in r.parents {
            guard let c = f.children else { continue }
            var s = "\(f.id): "
            if let records = f.records { s += "\(records) records, " }
            if let future = f.future { s += "\(future) future, " }
            s += "\(c.total) children: \(c.incremental) incremental, \(c.full) full, \(c.fullFallback) full_fallback, "
            s += "\(c.unchanged) unchanged, \(c.failed) failed"
            lines.append(s)
        }
        if !r.orphans.isEmpty {
            let shown = r.orphans.prefix(5).joined(separator: ", ") + (r.orphans.count > 5 ? ", …" : "")
            lines.append("orphans: \(r.orphans.count) feed\(r.orphans.count == 1 ? "" : "s") in the store \(r.orphans.count == 1 ? "is" : "are") not in the configuration (\(shown)); `feedsync prune` marks their events removed")
        }
        if r.dryRun { lines.append("dry run: nothing was written") }
        if r.interrupted {
            lines.append("interrupted: \(r.feedsSkipped) feeds not reached (skipped); the others were synced and committed")
        }
        if r.feedsTotal > 0 && r.feedsUnchanged == r.feedsTotal {
            lines.append(r.feedsTotal == 1 ? "nothing changed: the feed is unchanged" : "nothing changed: all \(r.feedsTotal) feeds unchanged")
        }
        lines.append("feeds: \(r.feedsTotal) total, \(r.feedsUnchanged) unchanged, \(r.feedsChanged) changed, \(r.feedsFailed) failed"
                     + (r.feedsSkipped > 0 ? ", \(r.feedsSkipped) skipped" : ""))
        lines.append("events: \(r.eventsAdded) added, \(r.eventsUpdated) updated, \(r.eventsRemoved) removed, \(r.eventsPastSkipped) past skipped")
        let p = r.phases
        lines.append(String(format: "time: %.3f s (fetch %.3f, fingerprint %.3f, parse %.3f, plan %.3f, snapshot %.3f, store %.3f)",
                            r.seconds, p.fetch, p.fingerprint, p.parse, p.plan, p.snapshot, p.store))
        return lines
    }
}

/// Writes a line to stderr, after what stdout holds (so that `2>&1` keeps the order). A closed
/// stderr is not an error worth dying for (SIGPIPE is ignored).
func printError(_ s: String) {
    Output.flush()
    printErrorNow(s)
}

/// Writes a line to stderr at once, leaving stdout's buffer alone (the paths that end the process).
func printErrorNow(_ s: String) {
    try? FileHandle.standardError.write(contentsOf: Data((s + "\n").utf8))
}

/// Writes text to stdout as it is; a reader that went away is ignored (the run's status stands).
func printOut(_ s: String) {
    Output.write(s)
}

/// stdout through a buffer of its own, written out on a terminal at once and otherwise when it
/// holds 32 KB or at least every half second: the feed lines of a night stay live for `tail -f`
/// and the journal, without one write(2) per feed (a 1,000-feed night spent ~10% of its time on
/// them). `Feedsync.main` flushes what is left before the process exits.
enum Output {
    static let interactive = isatty(STDOUT_FILENO) == 1
    private struct State {
        var bytes: [UInt8] = []
        var lastFlush: UInt64 = 0
    }
    private static let state = Mutex(State())

    static func write(_ s: String) {
        state.withLock { st in
            st.bytes.append(contentsOf: s.utf8)
            let now = DispatchTime.now().uptimeNanoseconds
            if interactive || st.bytes.count >= 32_768 || now &- st.lastFlush > 500_000_000 {
                drain(&st.bytes)
                st.lastFlush = now
            }
        }
    }

    /// Flushes what waits every half second, so that the last lines of a burst are not held
    /// until the next write (a worker between nights, a run waiting on a slow host).
    static func startTicker() {
        guard !interactive else { return }
        Task.detached(priority: .background) {
            while true {
                try? await Task.sleep(for: .milliseconds(500))
                flush()
            }
        }
    }

    static func flush() {
        state.withLock { st in
            drain(&st.bytes)
            st.lastFlush = DispatchTime.now().uptimeNanoseconds
        }
    }

    /// Writes everything out; a reader that went away (EPIPE, SIGPIPE ignored) drops the rest.
    private static func drain(_ bytes: inout [UInt8]) {
        var done = 0
        bytes.withUnsafeBytes { raw in
            while done < raw.count {
                let n = Glibc.write(STDOUT_FILENO, raw.baseAddress! + done, raw.count - done)
                if n > 0 { done += n } else if n < 0 && errno == EINTR { continue } else { break }
            }
        }
        bytes.removeAll(keepingCapacity: true)
    }
}
