import ArgumentParser
import SnapshotTools

struct SnapshotDiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two snapshots: records added, removed and changed, with the changed properties.",
        discussion: """
            Each argument is a path (it contains / or ends in .fsnap) or a feed id (its current \
            snapshot, as for inspect). Exit status: 0 compared (whether or not they differ), \
            1 a snapshot is damaged or missing, 2 usage or configuration error, 3 the store cannot be read.
            """)

    @Argument(help: "The older snapshot: a feed id or a path.")
    var a: String

    @Argument(help: "The newer snapshot: a feed id or a path.")
    var b: String

    @Flag(name: .long, help: "Print JSON (fields in docs/snapshot-tools.md).")
    var json = false

    @Option(name: .long, help: "The configuration, used to resolve a feed id.")
    var config = "feedsync.yml"

    @Option(name: .long, help: "The instant that divides past from future records, ISO-8601 (default: the clock).")
    var now: String?

    func validate() throws { try SnapshotCLI.validateNow(now) }

    func run() throws {
        let t = SnapshotCLI.parseNow(now)
        let old = try SnapshotCLI.load(try SnapshotCLI.locate(a, configPath: config),
                                       explicitPath: SnapshotLocator.isPath(a), now: t)
        let new = try SnapshotCLI.load(try SnapshotCLI.locate(b, configPath: config),
                                       explicitPath: SnapshotLocator.isPath(b), now: t)
        let diff = SnapshotDiff(old, new)
        if json {
            SnapshotCLI.printJSON(diff.json())
        } else {
            for line in diff.textLines() { print(line) }
        }
    }
}
