import Foundation
import Testing

/// The command lines of examples/systemd and examples/cron are ones feedsync takes: each is run
/// (under /bin/sh, as cron would) with its paths moved into a scratch folder.
@Suite("Deployment examples, end to end", .serialized)
struct ExampleDeploymentTests {
    static var examples: URL { MetricsTests.root.appendingPathComponent("examples") }

    /// `ExecStart=` of a unit file, its `\` continuations joined.
    func execStart(_ unit: String) throws -> String {
        let text = try String(contentsOf: Self.examples.appendingPathComponent(unit), encoding: .utf8)
            .replacingOccurrences(of: "\\\n", with: " ")
        let line = text.split(separator: "\n").first { $0.hasPrefix("ExecStart=") }
        return String(try #require(line).dropFirst("ExecStart=".count))
    }

    /// The commands of a cron.d file (after the five time fields and the user).
    func cronCommands(_ file: String) throws -> [String] {
        let text = try String(contentsOf: Self.examples.appendingPathComponent(file), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line -> String? in
            guard !line.hasPrefix("#") else { return nil }  // a variable line (MAILTO=…) has one field
            let fields = line.split(separator: " ", maxSplits: 6, omittingEmptySubsequences: true)
            return fields.count == 7 ? String(fields[6]) : nil
        }
    }

    func localized(_ command: String, _ h: Harness) -> String {
        command
            .replacingOccurrences(of: "/usr/local/bin/feedsync", with: Harness.binary.path)
            .replacingOccurrences(of: "/etc/feedsync/feedsync.yml", with: h.dir.appendingPathComponent("feedsync.yml").path)
            .replacingOccurrences(of: "/var/lib/node_exporter/textfile_collector", with: h.dir.appendingPathComponent("textfile").path)
            .replacingOccurrences(of: "/var/lib/feedsync", with: h.dir.appendingPathComponent("state").path)
            .replacingOccurrences(of: "/tmp/feedsync-status.txt", with: h.dir.appendingPathComponent("status.txt").path)
    }

    func sh(_ command: String, _ h: Harness) throws -> Harness.Result {
        try h.run(["/bin/sh", "-c", localized(command, h)], direct: true)
    }

    @Test("systemd: the run service syncs, writes its report and metrics; the worker service's command parses (and wants PostgreSQL)")
    func systemdUnits() throws {
        let h = try Harness("examples-systemd")
        defer { h.cleanUp() }
        try h.write("feeds/a.ics", NightlyScenarioTests.airbnb().text())
        try h.write("feedsync.yml", "feeds:\n  - id: a\n    url: feeds/a.ics\n")
        let run = try sh(try execStart("systemd/feedsync-run.service"), h)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(h.text("state/report.json").contains("\"feeds_changed\" : 1"))
        #expect(h.text("textfile/feedsync.prom").contains("feedsync_last_run_exit_code 0"))
        let worker = try sh(try execStart("systemd/feedsync-worker.service"), h)
        #expect(worker.status == 3 && worker.stderr.contains("PostgreSQL"), "\(worker.status) \(worker.stderr)")
    }

    @Test("cron: the nightly line syncs quietly with report and metrics; the health check prints only when a feed is not healthy")
    func cronLines() throws {
        let h = try Harness("examples-cron")
        defer { h.cleanUp() }
        try h.write("feeds/a.ics", NightlyScenarioTests.airbnb().text())
        try h.write("feedsync.yml", "feeds:\n  - id: a\n    url: feeds/a.ics\n")
        let commands = try cronCommands("cron/feedsync")
        #expect(commands.count == 2, "\(commands)")
        guard commands.count == 2 else { return }
        let night = try sh(commands[0], h)
        #expect(night.status == 0, "\(night.stderr)")
        #expect(!night.stdout.contains("a: changed"), "--quiet prints no line per synced feed")
        #expect(night.stdout.contains("feeds: 1 total"))
        #expect(h.text("textfile/feedsync.prom").contains("feedsync_feeds{status=\"changed\"} 1"))
        #expect(!h.text("state/report.json").isEmpty)
        let healthy = try sh(commands[1], h)
        #expect(healthy.status == 0 && healthy.stdout.isEmpty, "\(healthy.stdout)")
        try h.write("feedsync.yml", "feeds:\n  - id: a\n    url: feeds/a.ics\n  - id: new\n    url: feeds/a.ics\n")
        let unhealthy = try sh(commands[1], h)
        #expect(unhealthy.stdout.contains("new: stale — never synced"), "\(unhealthy.stdout)")
    }
}
