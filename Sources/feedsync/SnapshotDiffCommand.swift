import ArgumentParser
import SnapshotTools

struct SnapshotDiffCommand: AsyncParsableCommand {
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

    @OptionGroup var options: SnapshotReadOptions

    func run() async throws {
        let t = CLI.instant(options.now)
        let old = try SnapshotCLI.load(try await SnapshotCLI.locate(a, configPath: options.config),
                                       explicitPath: SnapshotLocator.isPath(a), now: t)
        let new = try SnapshotCLI.load(try await SnapshotCLI.locate(b, configPath: options.config),
                                       explicitPath: SnapshotLocator.isPath(b), now: t)
        let diff = SnapshotDiff(old, new)
        if options.json {
            SnapshotCLI.printJSON(diff.json())
        } else {
            for line in diff.textLines() { print(line) }
        }
    }
}
