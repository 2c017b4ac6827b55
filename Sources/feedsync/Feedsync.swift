import ArgumentParser

@main
struct Feedsync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feedsync",
        abstract: "Incremental nightly sync of static calendar feeds into a database.",
        discussion: """
            Exit status: 0 all feeds synced, 1 some feed failed, 2 usage or configuration error, \
            3 the run could not happen at all (store, lock, I/O).
            """,
        subcommands: [RunCommand.self],
        defaultSubcommand: nil)
}

/// Exit codes, as documented in README.md.
enum Exit {
    static let feedFailed = ExitCode(1)
    static let usage = ExitCode(2)
    static let couldNotRun = ExitCode(3)
}
