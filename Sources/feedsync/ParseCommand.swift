import ArgumentParser
import FeedModel
import Foundation
import ICalendar
import FeedFormats
import ICalendarFeeds
import SyncEngine

struct ParseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "List the records of one feed as feedsync sees them.",
        discussion: "Exit status: 0 read, 1 the feed cannot be read (the reason on stderr), 2 usage error.")

    @Argument(help: "An iCalendar feed file, file:// or http(s):// URL (several: each is read on its own, records one after the other).")
    var feeds: [String] = []

    @Option(name: .customLong("feed"), help: "A feed of the configuration, read with its own format and mapping (repeatable).",
            completion: CLI.feedIDCompletion)
    var configuredFeeds: [String] = []

    @Option(name: .long, help: "The configuration --feed names feeds of.", completion: .file(extensions: ["yml", "yaml"]))
    var config = CLI.defaultConfig

    @Option(name: .long, help: "The instant dividing past from future, ISO-8601 (default: the current time).")
    var now: String?

    @Option(name: .long, parsing: .upToNextOption, help: "List occurrences overlapping [A, B): two ISO-8601 instants or dates.")
    var between: [String] = []

    @Option(name: .long, help: "Zone for floating times and all-day dates (default: the feed's X-WR-TIMEZONE, else UTC).")
    var timezone: String?

    @Flag(name: .long, help: "One JSON object per record and line.")
    var json = false

    @Flag(name: .long, help: "Do not print parser warnings on stderr.")
    var quiet = false

    @Flag(name: .long, help: "One line per feed: its records and how many are future, instead of the records.")
    var summary = false

    @Option(name: .long, help: "Feeds parsed at once (default: the number of cores). Output keeps the order of the arguments.")
    var jobs: Int?

    func validate() throws {
        if feeds.isEmpty && configuredFeeds.isEmpty { throw ValidationError("give a feed file or URL, or --feed ID") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if summary && json { throw ValidationError("--summary and --json cannot be combined") }
        try CLI.validateNow(now)
        if !between.isEmpty {
            guard between.count == 2, let a = ISOTime.parse(between[0]), let b = ISOTime.parse(between[1]) else {
                throw ValidationError("--between needs two ISO-8601 instants or dates, A B")
            }
            if b < a { throw ValidationError("--between: B is before A") }
        }
        if let timezone, !TimeZoneResolver.isKnownZone(timezone) {
            throw ValidationError("--timezone: unknown zone \(timezone)")
        }
    }

    func run() async throws {
        let nowInstant = CLI.instant(now)
        var window: (from: Int64, to: Int64)? = nil
        if between.count == 2, let a = ISOTime.parse(between[0]), let b = ISOTime.parse(between[1]) { window = (a, b) }
        let base = FeedInspection(now: nowInstant, window: window, timeZone: timezone)
        // What to read: the files and URLs given, as iCalendar; then each --feed with its format.
        var items: [(label: String, location: String, inspection: FeedInspection)] = feeds.map { ($0, $0, base) }
        if !configuredFeeds.isEmpty {
            let cfg = try CLI.loadConfig(config)
            for id in configuredFeeds {
                guard let feed = cfg.feeds.first(where: { $0.id == id }) else {
                    printError("feedsync: unknown feed id \(id) (not in \(config))")
                    throw Exit.usage
                }
                var inspection = base
                var settings = FormatSettings(
                    timeZone: cfg.timeZone, feedTimeZone: timezone ?? feed.timeZone,
                    volatileProperties: cfg.volatileProperties, mapping: feed.mapping, maxRecords: cfg.maxRecords)
                settings.onBadRecord = feed.onBadEvent ?? cfg.onBadEvent  // as a run would read it
                inspection.format = FormatRegistry.standard.make(feed.format, settings: settings)
                items.append((id, feed.url, inspection))
            }
        }
        let json = self.json, summary = self.summary
        let work = items
        let feeds = items.map(\.label)
        let several = feeds.count > 1
        // Each feed is read and parsed on its own task, `jobs` at a time; results are printed in
        // the order of the arguments as soon as every earlier one is out.
        let jobs = self.jobs ?? ProcessInfo.processInfo.activeProcessorCount
        let ahead = max(jobs * 4, 8)  // results held back for an earlier, slower feed, at most
        var failed = false
        await withTaskGroup(of: (Int, Rendered).self) { group in
            var submitted = 0, printed = 0
            var done: [Int: Rendered] = [:]
            func submit() {
                let i = submitted
                submitted += 1
                group.addTask {
                    do throws(ParseTool.Failure) {
                        if summary {
                            let s = try await ParseTool.summary(location: work[i].location, inspection: work[i].inspection)
                            let line = "\(feeds[i]): \(s.records) records, \(s.future) future, \(s.records - s.future) past, \(s.warnings.count) warnings"
                            return (i, .ok(lines: [line], warnings: s.warnings))
                        }
                        let out = try await ParseTool.run(location: work[i].location, inspection: work[i].inspection, json: json)
                        return (i, .ok(lines: out.lines, warnings: out.warnings))
                    } catch {
                        return (i, .failed(error.description))
                    }
                }
            }
            while submitted < min(jobs, feeds.count) { submit() }
            while let (i, result) = await group.next() {
                done[i] = result
                while let r = done.removeValue(forKey: printed) {
                    switch r {
                    case .ok(let lines, let warnings):
                        if !quiet { for w in warnings { printError("warning: \(several ? feeds[printed] + ": " : "")\(w)") } }
                        var text = lines.joined(separator: "\n")
                        if !text.isEmpty { text += "\n" }
                        printOut(text)
                    case .failed(let why):
                        printError("feedsync: \(why)")
                        failed = true
                    }
                    printed += 1
                }
                while submitted < feeds.count && submitted - printed - done.count < jobs && submitted - printed < ahead {
                    submit()
                }
            }
        }
        if failed { throw Exit.feedFailed }
    }
}

extension ParseCommand {
    /// The shape of `parse`'s options, for `OperandLift` (ArgumentParser gathers an array operand in
    /// time quadratic in its length). Kept in step with the declarations above by ParseCommandTests:
    /// every option `parse --help` lists is here.
    static let optionShapes = OperandLift.Options(
        singleValue: ["--feed", "--config", "--now", "--timezone", "--jobs"],
        upToNextOption: ["--between"],
        flags: ["--json", "--quiet", "--summary"])
}

/// One feed's outcome in `feedsync parse`.
private enum Rendered: Sendable {
    case ok(lines: [String], warnings: [String])
    case failed(String)
}
