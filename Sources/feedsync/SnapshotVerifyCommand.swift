import ArgumentParser
import Foundation
import SnapshotTools
import SyncEngine
import Snapshots
import Stores

struct SnapshotVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every snapshot in a folder (or one file); print one line per bad file.",
        discussion: """
            Each <feed>.<generation>.fsnap is decoded in full: magic, version, checksum, header, \
            decompression, record order, and its feed id and generation against its name. Leftover \
            temp files and .fsnap names that do not parse are reported too. With a configuration \
            (--config, or feedsync.yml when no PATH is given) whose snapshot folder is the one checked, \
            the store's generation pointers are checked as well: a configured feed whose current \
            generation file is missing, or files of a configured feed at another generation. \
            Exit status: 0 all sound, 1 some damaged, 2 usage or configuration error, 3 cannot read \
            the folder or the store.
            """)

    @Argument(help: "A snapshot folder or one .fsnap file (default: the configuration's snapshot folder).")
    var path: String?

    @Option(name: .long, help: "The configuration (default feedsync.yml when no PATH is given).", completion: .file(extensions: ["yml", "yaml"]))
    var config: String?

    @Option(name: .long, help: "Threads decoding at once (default: the number of cores).")
    var jobs: Int?

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    func run() async throws {
        let clock = ContinuousClock()
        let t0 = clock.now
        var isFolder: ObjCBool = false
        if let path, FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue {
            if let reason = SnapshotVerifier.check(path: path) {
                print("\(path): \(reason)")
                throw Exit.feedFailed
            }
            print("\(path): sound")
            return
        }
        if let path, !FileManager.default.fileExists(atPath: path) {
            printError("feedsync: no such snapshot folder or file: \(path)")
            throw Exit.usage
        }

        var folder = path
        var pointers: [String: UInt64?]? = nil
        var note: String? = nil
        if config != nil || path == nil {
            let cfg = try CLI.loadConfig(config ?? CLI.defaultConfig)
            if path == nil, cfg.snapshotsInStore, case .postgres(let location) = cfg.store {
                return try await Self.verifyTable(cfg, location: location, started: t0, clock: clock)
            }
            let sameFolder = path.map { Self.standard($0) == Self.standard(cfg.snapshots) } ?? true
            folder = folder ?? cfg.snapshots
            if sameFolder {
                if let states = try await SnapshotCLI.readStates(cfg) {
                    pointers = Dictionary(uniqueKeysWithValues: cfg.feeds.map { ($0.id, states[$0.id]?.snapshotGeneration) })
                } else {
                    note = "no store yet: generation pointers not checked"
                }
            } else {
                note = "\(folder!) is not the configuration's snapshot folder: generation pointers not checked"
            }
        }
        let running = RunLock.holder(folder: folder!)
        let result: SnapshotVerifier.Result
        do {
            result = try SnapshotVerifier.verifyFolder(folder!, pointers: pointers,
                                                       workers: jobs ?? SnapshotVerifier.defaultWorkers,
                                                       runInProgress: running != nil)
        } catch {
            printError("feedsync: \(error)")
            throw Exit.couldNotRun
        }
        if let running { print("a run is in progress (\(running)): what it is writing is not damage") }
        for p in result.inProgress { print("\(p.path): note: \(p.reason)") }
        for p in result.problems { print(p.line) }
        let seconds = (clock.now - t0).inSeconds
        var summary = "checked \(result.snapshotsChecked) snapshots in \(String(format: "%.3f", seconds)) s: "
            + "\(result.snapshotsSound) sound, \(result.problems.count) problem\(result.problems.count == 1 ? "" : "s")"
        if let pointers { summary += "; store pointers of \(pointers.count) configured feeds checked" }
        print(summary)
        if let note { printError("feedsync: note: \(note)") }
        if !result.isSound { throw Exit.feedFailed }
    }

    /// Verifies a PostgreSQL store's snapshot table and the configured feeds' pointers into it.
    static func verifyTable(_ cfg: SyncConfig, location: PostgresLocation, started t0: ContinuousClock.Instant,
                            clock: ContinuousClock) async throws {
        let configured = Set(cfg.feeds.map(\.id))
        do {
            guard let store = try await PostgresStore.openReadOnly(location, busyTimeout: cfg.busyTimeoutSeconds) else {
                print("checked 0 snapshots: the snapshot table of \(location) does not exist yet (no run has written the store)")
                return
            }
            let table = store.snapshotTable
            let (result, checked) = try await SnapshotVerifier.verifyRows { body throws(SnapshotError) in
                let all = try await table.everyRow(body)
                // The configured feeds, and the children of configured parents.
                var pointers: [String: UInt64?] = [:]
                for (id, gen) in all where configured.contains(id) || configured.contains(where: { id.hasPrefix($0 + "/") }) {
                    pointers[id] = gen
                }
                for feed in configured where pointers[feed] == nil { pointers[feed] = .some(nil) }
                return pointers
            }
            await store.close()
            let seconds = (clock.now - t0).inSeconds
            for p in result.problems { print(p.line) }
            print("checked \(result.snapshotsChecked) snapshots of the snapshot table of \(location) in \(String(format: "%.3f", seconds)) s: "
                  + "\(result.snapshotsSound) sound, \(result.problems.count) problem\(result.problems.count == 1 ? "" : "s")"
                  + "; store pointers of \(checked) feeds checked")
            if !result.isSound { throw Exit.feedFailed }
        } catch let error as SnapshotError {
            printError("feedsync: \(error)")
            throw Exit.couldNotRun
        } catch let error as StoreError {
            printError("feedsync: \(error)")
            throw Exit.couldNotRun
        }
    }

    static func standard(_ p: String) -> String {
        let absolute = p.hasPrefix("/") ? p : FileManager.default.currentDirectoryPath + "/" + p
        return (absolute as NSString).standardizingPath
    }
}
