import ArgumentParser
import FeedModel
import FeedSources
import Foundation
import Logging
import Stores
import SyncEngine

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Work on the nights `feedsync run` opens on a PostgreSQL store (another process, another machine).",
        discussion: """
            Waits for a night (one running, or the next one opened), claims its feeds in small \
            batches with leases, processes them as the run does, and waits for the next night. \
            Exit status: 0 after its night with --once (the run reports feed failures), \
            2 usage or configuration error, 3 it cannot work (store, a configuration that is not the run's).
            """)

    @Option(name: .long, help: "The configuration file (the same as the run's).", completion: .file(extensions: ["yml", "yaml"]))
    var config = CLI.defaultConfig

    @Flag(name: .long, help: "Exit once the night it joined is complete.")
    var once = false

    @OptionGroup var process: ProcessOptions

    func run() async throws {
        Output.startTicker()
        let logger = process.logger()
        let cfg = try CLI.loadConfig(config)
        guard case .postgres = cfg.store else {
            printError("feedsync: a worker shares the nights of a PostgreSQL store, and \(config) has store: \(cfg.store)")
            throw Exit.couldNotRun
        }
        guard cfg.snapshotsInStore else {
            printError("feedsync: a worker needs the snapshots in the PostgreSQL store, and \(config) keeps them in the folder \(cfg.snapshots) (remove `snapshots:`)")
            throw Exit.couldNotRun
        }
        let store: any FeedStore
        do {
            store = try await StoreFactory.open(cfg.store, busyTimeout: cfg.busyTimeoutSeconds,
                                                connections: (process.concurrency ?? cfg.concurrency) + 2)
        } catch {
            printError("feedsync: \(error)")
            throw Exit.couldNotRun
        }
        guard let pg = store as? PostgresStore else {
            await store.close()
            printError("feedsync: the store of \(config) cannot share a night")
            throw Exit.couldNotRun
        }
        let http: HTTPSource? = cfg.feeds.anyHTTP ? HTTPSource(settings: cfg.limits, logger: logger) : nil
        var worker = NightWorker(config: cfg, store: pg, snapshots: pg.snapshotTable, httpSource: http, logger: logger)
        worker.concurrency = process.concurrency
        let stop = StopRequest()
        worker.stop = stop
        Signals.install(stop, grace: process.graceSeconds, say: printError)
        let name = worker.name
        printOut("worker \(name): waiting for a night of \(cfg.store)" + "\n")
        do {
            try await worker.run(once: once, onNight: { night in
                printOut("worker \(name): joined run \(night.runID) (\(night.mode.rawValue), now \(ISOTime.format(night.now)))" + "\n")
            }, onFeed: { feed in
                printOut(RunCommand.line(for: feed) + "\n")
                for w in feed.warnings { printError("feedsync: \(feed.id): warning: \(w)") }
            }, onDone: { s in
                var line = "worker \(name): run \(s.runID) done: \(s.feeds) feeds (\(s.changed) changed, \(s.failed) failed)"
                if s.lost > 0 { line += ", \(s.lost) taken over by other processes" }
                if s.stopped { line += ", stopped by a signal (its claimed feeds not started given back)" }
                line += String(format: " in %.3f s", s.seconds)
                printOut(line + "\n")
            })
        } catch {
            await http?.shutdown()
            await pg.close()
            printError("feedsync: worker \(name) cannot work: \(error)")
            throw Exit.couldNotRun
        }
        await http?.shutdown()
        await pg.close()
        if let signal = stop.signalNumber { throw ExitCode(128 + signal) }
    }
}
