import ArgumentParser
import JSONOutput
import FeedModel
import Foundation
import SnapshotTools
import Snapshots
import Stores
import SyncEngine

/// `feedsync snapshot …`: look inside the snapshot files.
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Inspect, verify, compare and list snapshot files.",
        discussion: "See docs/snapshot-tools.md.",
        subcommands: [SnapshotInspectCommand.self, SnapshotVerifyCommand.self,
                      SnapshotDiffCommand.self, SnapshotListCommand.self])
}

/// What the snapshot subcommands share: loading the config and the store read-only, the clock,
/// finding a snapshot, and mapping errors to exit codes.
enum SnapshotCLI {
    /// The store's feed states, read-only (nil when the store file does not exist); exit 3 when unreadable.
    static func readStates(_ cfg: SyncConfig) async throws -> [String: FeedState]? {
        do {
            guard let store = try await StoreFactory.openReadOnly(cfg.store, busyTimeout: cfg.busyTimeoutSeconds) else { return nil }
            let states = try await store.feedStates()
            await store.close()
            return states
        } catch {
            printError("feedsync: \(error)")
            throw Exit.couldNotRun
        }
    }

    /// A PATH or FEED_ID argument → the file to read (exit 2 for an unknown feed, 1 for a feed without snapshot).
    static func locate(_ argument: String, configPath: String) async throws -> SnapshotLocator.Located {
        if SnapshotLocator.isPath(argument) {
            return SnapshotLocator.Located(path: argument, storeGeneration: nil, note: nil)
        }
        let cfg = try CLI.loadConfig(configPath)
        if cfg.snapshotsInStore, case .postgres(let location) = cfg.store {
            return try await locateInTable(argument, cfg: cfg, location: location, configPath: configPath)
        }
        let states = try await readStates(cfg)
        do {
            let located = try SnapshotLocator.locate(feedID: argument, configuredFeeds: cfg.feeds.map(\.id),
                                                     configPath: configPath, folder: cfg.snapshots, states: states)
            if let note = located.note { printError("feedsync: note: \(note)") }
            return located
        } catch SnapshotLocator.Failure.unknownFeed(let id, let config) {
            printError("feedsync: unknown feed id \(id) (not in \(config)); give a feed id or a path to a .fsnap file")
            throw Exit.usage
        } catch {
            printError("feedsync: \(error)")
            throw Exit.feedFailed
        }
    }

    /// A feed id's snapshot in a PostgreSQL store's table: the generation the store points at (else
    /// the newest row, with a note).
    static func locateInTable(_ feedID: String, cfg: SyncConfig, location: PostgresLocation,
                              configPath: String) async throws -> SnapshotLocator.Located {
        guard cfg.feeds.contains(where: { $0.id == feedID }) else {
            printError("feedsync: unknown feed id \(feedID) (not in \(configPath)); give a feed id or a path to a .fsnap file")
            throw Exit.usage
        }
        let store: PostgresStore?
        do {
            store = try await PostgresStore.openReadOnly(location, busyTimeout: cfg.busyTimeoutSeconds)
        } catch {
            printError("feedsync: \(error)")
            throw Exit.couldNotRun
        }
        guard let store else {
            printError("feedsync: feed \(feedID) has no snapshot in the snapshot table of \(location) (no run has written the store)")
            throw Exit.feedFailed
        }
        let table = store.snapshotTable
        let current: UInt64?
        let rows: [StoredSnapshot]
        do {
            current = try await store.feedStates()[feedID]?.snapshotGeneration
            rows = try await table.list().filter { $0.feedID == feedID }
        } catch {
            printError("feedsync: \(error)")
            throw Exit.couldNotRun
        }
        var note: String? = nil
        var generation = current
        if generation == nil {
            generation = rows.last?.generation
            note = "the store has no current generation for feed \(feedID); showing the newest row of its table"
        }
        guard let generation else {
            printError("feedsync: feed \(feedID) has no snapshot in the snapshot table of \(location) (never synced?)")
            throw Exit.feedFailed
        }
        if let note { printError("feedsync: note: \(note)") }
        let name = "snapshots(\(feedID), \(generation)) in \(location)"
        let bytes: [UInt8]
        do {
            bytes = try await table.storedBytes(feedID: feedID, generation: generation)
        } catch {
            printError("feedsync: snapshot \(name): missing: the store points at generation \(generation), but \(error.message)")
            throw Exit.feedFailed
        }
        await store.close()
        return SnapshotLocator.Located(path: name, storeGeneration: current, note: nil, bytes: bytes,
                                       identity: StoredSnapshot(feedID: feedID, generation: generation, path: name))
    }

    /// Loads a snapshot for inspection; a damaged or missing file exits 1, a missing PATH argument 2.
    static func load(_ located: SnapshotLocator.Located, explicitPath: Bool, now: Int64) throws -> SnapshotInspection {
        do {
            return try SnapshotInspection.load(located, now: now, checkName: !explicitPath)
        } catch {
            if error.code == .io && explicitPath && !FileManager.default.fileExists(atPath: located.path) {
                printError("feedsync: no such snapshot file: \(located.path)")
                throw Exit.feedFailed  // "1 damaged or missing", as the help says
            }
            if error.code == .io && located.storeGeneration != nil {
                printError("feedsync: snapshot \(located.path): missing: the store points at generation \(located.storeGeneration!), but \(error.message)")
                throw Exit.feedFailed
            }
            printError("feedsync: \(error)")
            throw error.code == .io ? Exit.couldNotRun : Exit.feedFailed
        }
    }

    static func printJSON(_ value: JSONValue) {
        print(value.render())
    }
}

/// Options shared by the snapshot commands that read one or two snapshots.
struct SnapshotReadOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON (fields in docs/snapshot-tools.md).")
    var json = false

    @Option(name: .long, help: "The configuration, used to resolve a feed id.", completion: .file(extensions: ["yml", "yaml"]))
    var config = CLI.defaultConfig

    @Option(name: .long, help: "The instant that divides past from future records, ISO-8601 (default: the clock).")
    var now: String?

    func validate() throws { try CLI.validateNow(now) }
}
