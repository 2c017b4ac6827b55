import ArgumentParser
import FeedModel
import Foundation
import Logging
import SyncEngine
#if canImport(Glibc)
import Glibc
#endif

@main
struct Feedsync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feedsync",
        abstract: "Incremental nightly sync of static calendar feeds into a database.",
        discussion: """
            Exit status: 0 all feeds synced, 1 some feed failed, 2 usage or configuration error, \
            3 the run could not happen at all (store, lock, I/O), 130 or 143 stopped by SIGINT or SIGTERM.
            """,
        // The time zone rules are the ICU data built into Foundation (docs/icalendar-support.md).
        version: "\(FeedsyncVersion.current) (time zone rules \(TimeZone.timeZoneDataVersion))",
        subcommands: [RunCommand.self, WorkerCommand.self, StatusCommand.self, PruneCommand.self, ParseCommand.self, SnapshotCommand.self],
        defaultSubcommand: nil)

    /// Like ArgumentParser's own `main`, but usage errors exit 2 (as documented), not 64.
    static func main() async {
        // A reader that goes away (`feedsync run … | head -1`) must not kill a run half-way: with
        // SIGPIPE ignored, writes to the closed pipe fail quietly and the run goes on to commit,
        // write its report and exit with its own status.
        signal(SIGPIPE, SIG_IGN)
        do {
            // `feedsync parse` over thousands of files: ArgumentParser gathers an array operand
            // in time quadratic in its length (4 s for 10,000 paths), so the operands after the
            // first are set aside here and handed to the command once it is parsed.
            var arguments = Array(CommandLine.arguments.dropFirst())
            var laterOperands: [String] = []
            if let lifted = OperandLift.lift(arguments, subcommand: "parse", options: ParseCommand.optionShapes) {
                arguments = lifted.arguments
                laterOperands = lifted.laterOperands
            }
            var command = try parseAsRoot(arguments)
            if !laterOperands.isEmpty, var parse = command as? ParseCommand {
                parse.feeds += laterOperands
                command = parse
            }
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Output.flush()
        } catch {
            Output.flush()
            let code = exitCode(for: error)
            if code == .validationFailure {
                printError(fullMessage(for: error))
                Foundation.exit(Exit.usage.rawValue)
            }
            exit(withError: error)
        }
    }
}

/// What the commands share.
enum CLI {
    /// The run's logger: stderr, as text (swift-log's) or JSON lines (`--log-format json`).
    static func logger(level: String, format: String) -> Logger {
        var logger = format == "json"
            ? Logger(label: "feedsync") { JSONLogHandler(label: $0) }
            : Logger(label: "feedsync") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Logger.Level(rawValue: level) ?? .warning
        return logger
    }

    static let logFormats = ["text", "json"]

    /// `--now`, when given, must be an ISO-8601 instant (a usage error otherwise).
    static func validateNow(_ now: String?) throws {
        if let now, ISOTime.parse(now) == nil {
            throw ValidationError("--now must be an ISO-8601 instant such as 2026-11-23T02:00:00Z (got \(now))")
        }
    }

    /// The instant `--now` names (validated), else the clock's.
    static func instant(_ now: String?) -> Int64 {
        now.flatMap(ISOTime.parse) ?? Int64(Date().timeIntervalSince1970)
    }

    /// One process at a time on a snapshot folder (`run`, `prune`): its lock, held until released;
    /// none with snapshots in the store (the store's own lock serves) or for a dry run (it writes
    /// nothing and creates no folder or lock file). Exit 3 when another run holds it.
    static func folderLock(_ cfg: SyncConfig, dryRun: Bool) throws -> RunLock? {
        guard !cfg.snapshotsInStore && !dryRun else { return nil }
        do {
            return try RunLock(folder: cfg.snapshots, startedAt: ISOTime.format(Int64(Date().timeIntervalSince1970)))
        } catch {
            printError("feedsync: \(error)")
            throw Exit.couldNotRun
        }
    }

    /// The configuration when `--config` is not given: `$FEEDSYNC_CONFIG`, else `feedsync.yml`.
    static var defaultConfig: String {
        guard let path = ProcessInfo.processInfo.environment["FEEDSYNC_CONFIG"], !path.isEmpty else { return "feedsync.yml" }
        return path
    }

    /// Shell completion of `--feed`: the ids of the configuration on the command line (`--config`,
    /// else feedsync.yml), those starting with what is typed; none when it cannot be read.
    static let feedIDCompletion: CompletionKind = .custom { words, _, prefix in
        var path = CLI.defaultConfig
        for (i, word) in words.enumerated() {
            if word == "--config", i + 1 < words.count { path = words[i + 1] }
            if word.hasPrefix("--config=") { path = String(word.dropFirst("--config=".count)) }
        }
        guard let config = try? ConfigLoader.load(path: path) else { return [] }
        return config.feeds.map(\.id).filter { $0.hasPrefix(prefix) }
    }

    /// The configuration, or exit 2 naming the file and the problem.
    static func loadConfig(_ path: String) throws -> SyncConfig {
        do {
            return try ConfigLoader.load(path: path)
        } catch {
            printError("feedsync: configuration error: \(error)")
            throw Exit.usage
        }
    }

}

/// The options of a process that syncs feeds (`run`, `worker`).
struct ProcessOptions: ParsableArguments {
    @Option(name: .long, help: "Feeds fetched and parsed at once (default: the config's concurrency).")
    var concurrency: Int?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.",
            completion: .list(["trace", "debug", "info", "notice", "warning", "error", "critical"]))
    var logLevel = "warning"

    @Option(name: .long, help: "Log lines as `text` or `json` (one object per line, for log shippers).",
            completion: .list(["text", "json"]))
    var logFormat = "text"

    @Option(name: .customLong("grace-seconds"), help: "After SIGTERM or SIGINT, how long the feeds in flight may take to finish and commit (default 30).")
    var grace: Double?

    var graceSeconds: Double { grace ?? 30 }

    func validate() throws {
        if let grace, grace < 0 { throw ValidationError("--grace-seconds must be 0 or more") }
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("unknown --log-level \(logLevel)") }
        if !CLI.logFormats.contains(logFormat) { throw ValidationError("--log-format must be text or json (got \(logFormat))") }
    }

    func logger() -> Logger { CLI.logger(level: logLevel, format: logFormat) }
}

/// Exit codes, as documented in README.md.
enum Exit {
    static let feedFailed = ExitCode(1)
    static let usage = ExitCode(2)
    static let couldNotRun = ExitCode(3)
}
