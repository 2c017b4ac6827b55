import ArgumentParser
import FeedModel
import Foundation
import Stores
import SyncEngine

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Is every feed healthy? Last success, age, last status and error, snapshot, records, verdict.",
        discussion: """
            A feed is stale when its last success is older than `stale_after_days` (default 2) or it \
            never synced, failing when the last run that reached it failed it. Reads the store only. \
            Exit status: 0 every feed healthy, 1 some stale or failing, 2 usage or configuration \
            error, 3 the store cannot be read.
            """)

    @Option(name: .long, help: "The configuration file.", completion: .file(extensions: ["yml", "yaml"]))
    var config = CLI.defaultConfig

    @Flag(name: .long, help: "JSON instead of text.")
    var json = false

    @Option(name: .long, help: "Judge as of this instant, ISO-8601 (default: the current time).")
    var now: String?

    func validate() throws {
        try CLI.validateNow(now)
    }

    func run() async throws {
        let cfg = try CLI.loadConfig(config)
        let instant = CLI.instant(now)
        var states: [String: FeedState] = [:]
        var counts: [String: Int] = [:]
        do {
            if let store = try await StoreFactory.openReadOnly(cfg.store, busyTimeout: cfg.busyTimeoutSeconds) {
                do {
                    states = try await store.feedStates()
                    counts = try await store.liveRecordCounts()
                } catch {
                    await store.close()
                    throw error
                }
                await store.close()
            }
        } catch {
            printError("feedsync: \(error)")
            throw Exit.couldNotRun
        }
        let health = HealthCheck.assess(cfg, states: states, counts: counts, now: instant)
        let healthy = health.filter { $0.verdict == .healthy }.count
        let stale = health.filter { $0.verdict == .stale }.count
        let failing = health.filter { $0.verdict == .failing }.count
        if json {
            struct Out: Encodable {
                var now: String
                var stale_after_days: Int
                var healthy: Int, stale: Int, failing: Int
                var feeds: [FeedHealth]
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(Out(now: ISOTime.format(instant), stale_after_days: cfg.staleAfterDays,
                                              healthy: healthy, stale: stale, failing: failing, feeds: health))
            printOut(String(decoding: data, as: UTF8.self) + "\n")
        } else {
            var lines: [String] = []
            for h in health {
                var line = "\(h.id): \(h.verdict.rawValue) — \(h.why)"
                var facts: [String] = []
                if let last = h.lastSuccess { facts.append("last success \(last)") }
                if let g = h.snapshotGeneration { facts.append("snapshot \(g)") }
                facts.append("\(h.records) records")
                line += " (\(facts.joined(separator: ", ")))"
                lines.append(line)
            }
            lines.append("\(health.count) feeds: \(healthy) healthy, \(stale) stale, \(failing) failing (stale after \(cfg.staleAfterDays) days, as of \(ISOTime.format(instant)))")
            printOut(lines.joined(separator: "\n") + "\n")
        }
        if healthy < health.count { throw Exit.feedFailed }
    }
}
