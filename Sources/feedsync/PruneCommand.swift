import ArgumentParser
import FeedModel
import Foundation
import Snapshots
import Stores
import SyncEngine

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Retire the feeds the store holds that the configuration no longer names.",
        discussion: """
            A feed renamed or removed from the configuration leaves its rows live in the store. For \
            each such orphan (runs list them), prune marks its live events removed and deletes its \
            snapshots; its rows stay, as history. --dry-run lists what it would do. Exit status: 0 \
            done (or nothing to do), 2 usage or configuration error, 3 the store cannot be used \
            (another run holds the lock).
            """)

    @Option(name: .long, help: "The configuration file.", completion: .file(extensions: ["yml", "yaml"]))
    var config = CLI.defaultConfig

    @Flag(name: .long, help: "List the orphans and what would be removed; change nothing.")
    var dryRun = false

    @Option(name: .long, help: "The instant the events are marked removed at, ISO-8601 (default: the current time).")
    var now: String?

    func validate() throws {
        try CLI.validateNow(now)
    }

    func run() async throws {
        let cfg = try CLI.loadConfig(config)
        let at = CLI.instant(now)
        // Pruning changes the store and the snapshots: one run at a time, as for `run`.
        let lock = try CLI.folderLock(cfg, dryRun: dryRun)
        defer { withExtendedLifetime(lock) {} }
        let store: any FeedStore
        var storeLock: PostgresRunLock? = nil
        do {
            if dryRun {
                guard let opened = try await StoreFactory.openReadOnly(cfg.store, busyTimeout: cfg.busyTimeoutSeconds) else {
                    printOut("no orphans: the store does not exist yet\n")
                    return
                }
                store = opened
            } else {
                store = try await StoreFactory.open(cfg.store, busyTimeout: cfg.busyTimeoutSeconds, connections: 2)
                if let pg = store as? PostgresStore { storeLock = try await pg.lockRun() }
            }
        } catch {
            printError("feedsync: \(error)")
            throw Exit.couldNotRun
        }
        func close() async {
            await storeLock?.release()
            await store.close()
        }
        do {
            let orphans = Orphans.find(cfg, states: try await store.feedStates())
            guard !orphans.isEmpty else {
                await close()
                printOut("no orphans: every feed in the store is in \(config)\n")
                return
            }
            let live = try await store.liveRecordCounts()
            for id in orphans {
                printOut("\(id): \(live[id] ?? 0) live events\(dryRun ? " would be" : "") marked removed, its snapshots deleted\n")
            }
            if dryRun {
                await close()
                printOut("dry run: \(orphans.count) orphan\(orphans.count == 1 ? "" : "s"), nothing was changed\n")
                return
            }
            let snapshots: any SnapshotStorage = cfg.snapshotsInStore
                ? (store as! PostgresStore).snapshotTable : SnapshotDirectory(path: cfg.snapshots)
            let removed = try await store.prune(feedIDs: orphans, at: at)
            // The rows first (they no longer point at a snapshot), then the files or rows of the snapshots.
            let deleted = try await snapshots.removeLeftovers(current: Dictionary(uniqueKeysWithValues: orphans.map { ($0, nil) }))
            await close()
            printOut("pruned \(orphans.count) feed\(orphans.count == 1 ? "" : "s"): \(removed.values.reduce(0, +)) events marked removed, \(deleted.count) snapshot\(deleted.count == 1 ? "" : "s") deleted\n")
        } catch {
            await close()
            printError("feedsync: prune could not complete: \(error)")
            throw Exit.couldNotRun
        }
    }
}
