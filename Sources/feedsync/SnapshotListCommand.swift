import ArgumentParser
import SnapshotTools
import Stores
import Snapshots
import SyncEngine
import FeedModel

struct SnapshotListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the configured feeds with their snapshot and last status, and orphan files.",
        discussion: """
            One row per configured feed: current generation, snapshot age, records, size, last status \
            and last success (from the store, read-only); NOTES flags stale feeds (last success older \
            than incremental_days, or never), a missing or damaged snapshot, and the last error. \
            Orphan files are snapshot or temp files of feeds the configuration does not name. \
            Exit status: 0 nothing flagged, 1 some feed flagged, 2 configuration error, 3 cannot read \
            the store or the folder.
            """)

    @Option(name: .long, help: "The configuration.", completion: .file(extensions: ["yml", "yaml"]))
    var config = CLI.defaultConfig

    @Option(name: .long, help: "The instant ages are measured from, ISO-8601 (default: the clock).")
    var now: String?

    @Option(name: .long, help: "Override incremental_days for the stale flag.")
    var incrementalDays: Int?

    func validate() throws {
        try CLI.validateNow(now)
        if let incrementalDays, incrementalDays < 0 { throw ValidationError("--incremental-days must be 0 or more") }
    }

    func run() async throws {
        let cfg = try CLI.loadConfig(config)
        let states = try await SnapshotCLI.readStates(cfg) ?? [:]
        let listing: FeedListing
        if cfg.snapshotsInStore, case .postgres(let location) = cfg.store {
            listing = try await Self.listTable(cfg, location: location, states: states,
                                               incrementalDays: incrementalDays ?? cfg.incrementalDays, now: CLI.instant(now))
        } else { do {
            listing = try FeedListing(feeds: cfg.feeds.map(\.id), states: states, folder: cfg.snapshots,
                                      incrementalDays: incrementalDays ?? cfg.incrementalDays,
                                      now: CLI.instant(now))
        } catch {
            printError("feedsync: \(error)")
            throw Exit.couldNotRun
        } }
        for line in listing.textLines() { print(line) }
        if listing.needsAttention { throw Exit.feedFailed }
    }

    /// The listing of a PostgreSQL store's snapshot table: the current generation of each
    /// configured feed read from its row, every other row's feed for the orphans.
    static func listTable(_ cfg: SyncConfig, location: PostgresLocation, states: [String: FeedState],
                          incrementalDays: Int, now: Int64) async throws -> FeedListing {
        var stored: [StoredSnapshot] = []
        var current: [String: Result<[UInt8], SnapshotError>] = [:]
        do {
            if let store = try await PostgresStore.openReadOnly(location, busyTimeout: cfg.busyTimeoutSeconds) {
                let table = store.snapshotTable
                stored = try await table.list()
                for feed in cfg.feeds {
                    guard let g = states[feed.id]?.snapshotGeneration else { continue }
                    do throws(SnapshotError) {
                        current[feed.id] = .success(try await table.storedBytes(feedID: feed.id, generation: g))
                    } catch {
                        current[feed.id] = .failure(error)
                    }
                }
                await store.close()
            }
        } catch {
            printError("feedsync: \(error)")
            throw Exit.couldNotRun
        }
        return FeedListing(feeds: cfg.feeds.map(\.id), states: states, incrementalDays: incrementalDays, now: now,
                           stored: stored.map { (owner: $0.feedID, name: "snapshots(\($0.feedID), \($0.generation))") },
                           name: { "snapshots(\($0), \($1))" },
                           read: { _, feed, _ throws(SnapshotError) in
                               guard let r = current[feed] else { throw SnapshotError(.io, "no such snapshot") }
                               return try r.get()
                           })
    }
}
