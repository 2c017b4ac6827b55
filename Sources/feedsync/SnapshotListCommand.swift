import ArgumentParser
import SnapshotTools
import Snapshots

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

    @Option(name: .long, help: "The configuration.")
    var config = "feedsync.yml"

    @Option(name: .long, help: "The instant ages are measured from, ISO-8601 (default: the clock).")
    var now: String?

    @Option(name: .long, help: "Override incremental_days for the stale flag.")
    var incrementalDays: Int?

    func validate() throws {
        try SnapshotCLI.validateNow(now)
        if let incrementalDays, incrementalDays < 0 { throw ValidationError("--incremental-days must be 0 or more") }
    }

    func run() async throws {
        let cfg = try CLI.loadConfig(config)
        try CLI.requireSnapshotFolder(cfg, command: "snapshot list")
        let states = try await SnapshotCLI.readStates(cfg) ?? [:]
        let listing: FeedListing
        do {
            listing = try FeedListing(feeds: cfg.feeds.map(\.id), states: states, folder: cfg.snapshots,
                                      incrementalDays: incrementalDays ?? cfg.incrementalDays,
                                      now: SnapshotCLI.parseNow(now))
        } catch {
            printError("feedsync: \(error)")
            throw Exit.couldNotRun
        }
        for line in listing.textLines() { print(line) }
        if listing.needsAttention { throw Exit.feedFailed }
    }
}
