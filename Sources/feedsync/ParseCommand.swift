import ArgumentParser
import FeedModel
import Foundation
import ICalendar
import SyncEngine

struct ParseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "List the records of one feed as feedsync sees them.",
        discussion: "Exit status: 0 read, 1 the feed cannot be read (the reason on stderr), 2 usage error.")

    @Argument(help: "A feed file, file:// or http(s):// URL (several: each is read on its own, records one after the other).")
    var feeds: [String]

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

    func validate() throws {
        if feeds.isEmpty { throw ValidationError("give a feed file or URL") }
        if let now, ISOTime.parse(now) == nil {
            throw ValidationError("--now must be an ISO-8601 instant such as 2026-11-23T02:00:00Z (got \(now))")
        }
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
        let nowInstant = now.flatMap(ISOTime.parse) ?? Int64(Date().timeIntervalSince1970)
        var window: (from: Int64, to: Int64)? = nil
        if between.count == 2, let a = ISOTime.parse(between[0]), let b = ISOTime.parse(between[1]) { window = (a, b) }
        let inspection = FeedInspection(now: nowInstant, window: window, timeZone: timezone)
        var failed = false
        for feed in feeds {
            do {
                let out = try await ParseTool.run(location: feed, inspection: inspection, json: json)
                if !quiet { for w in out.warnings { printError("warning: \(feeds.count > 1 ? feed + ": " : "")\(w)") } }
                var text = out.lines.joined(separator: "\n")
                if !text.isEmpty { text += "\n" }
                FileHandle.standardOutput.write(Data(text.utf8))
            } catch {
                printError("feedsync: \(error.description)")
                failed = true
            }
        }
        if failed { throw Exit.feedFailed }
    }
}
