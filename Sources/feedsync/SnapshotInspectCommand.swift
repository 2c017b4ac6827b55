import ArgumentParser
import SnapshotTools

struct SnapshotInspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a snapshot's header and, with --records, its records.",
        discussion: """
            The argument is a path (it contains / or ends in .fsnap) or a feed id, resolved through \
            the configuration: its snapshot folder and the store's current generation for the feed \
            (the store is opened read-only). Exit status: 0 sound, 1 damaged or missing, 2 usage or \
            configuration error, 3 the store cannot be read.
            """)

    @Argument(help: "A feed id or the path of a .fsnap file.")
    var target: String

    @Flag(name: .long, help: "Also list every record: key, hash, start, last end, summary.")
    var records = false

    @OptionGroup var options: SnapshotReadOptions

    func run() async throws {
        let located = try await SnapshotCLI.locate(target, configPath: options.config)
        let inspection = try SnapshotCLI.load(located, explicitPath: SnapshotLocator.isPath(target),
                                              now: CLI.instant(options.now))
        if options.json {
            SnapshotCLI.printJSON(inspection.json(records: records))
        } else {
            for line in inspection.textLines(records: records) { print(line) }
        }
    }
}
