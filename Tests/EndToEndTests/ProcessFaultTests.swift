import Foundation
import GRDB
import Testing

/// Faults of the process around a run, not of a feed.
@Suite("Process faults, end to end", .serialized)
struct ProcessFaultTests {
    @Test("a closed stdout (`run | head -1`) does not stop the run: it commits, reports and exits as if stdout were fine")
    func closedStdout() throws {
        let h = try Harness("sigpipe")
        defer { h.cleanUp() }
        var config = "feeds:\n"
        for i in 0..<300 {
            var ics = ICS(prodid: "-//test//EN")
            ics.event(["UID:e\(i)@test", "DTSTAMP:$STAMP", "DTSTART:20261201T100000Z", "DTEND:20261201T110000Z", "SUMMARY:Stay \(i)"])
            try h.write("feeds/f\(i).ics", ics.text())
            config += "  - id: f\(i)\n    url: feeds/f\(i).ics\n"
        }
        try h.write("feedsync.yml", config)

        let report = h.dir.appendingPathComponent("report.json").path
        let p = try Self.runIntoClosedPipe(h, ["run", "--config", "feedsync.yml", "--now", "2026-11-23T02:00:00Z", "--report", report])
        #expect(p.terminationReason == .exit && p.terminationStatus == 0)
        #expect(try h.rows("SELECT count(*) AS n FROM events").first?["n"] == 300)
        #expect(try h.rows("SELECT status FROM runs").first?["status"] == "ok")
        let data = try Data(contentsOf: URL(fileURLWithPath: report))
        #expect(try JSONDecoder().decode(Report.self, from: data).feeds_changed == 300)
    }
}

extension ProcessFaultTests {
    @Test("feedsync parse into a closed pipe exits with its own status, not a crash")
    func parseClosedStdout() throws {
        let h = try Harness("sigpipe-parse")
        defer { h.cleanUp() }
        var args = ["parse", "--now", "2026-11-23T00:00:00Z"]
        for i in 0..<40 {
            try h.write("feeds/f\(i).ics", ParseCommandTests.feed(i, events: 50))
            args.append("feeds/f\(i).ics")
        }
        let p = try Self.runIntoClosedPipe(h, args)
        #expect(p.terminationReason == .exit && p.terminationStatus == 0)
    }

    /// Runs the binary with its stdout a pipe whose reader is gone before the first line is written.
    static func runIntoClosedPipe(_ h: Harness, _ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = Harness.binary
        p.arguments = args
        p.currentDirectoryURL = h.dir
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try out.fileHandleForReading.close()
        try p.run()
        p.waitUntilExit()
        return p
    }
}

extension ProcessFaultTests {
    @Test("snapshot verify during a run: what the run is writing is said, not reported as damage")
    func verifyDuringRun() throws {
        let h = try Harness("verify-running")
        defer { h.cleanUp() }
        try h.write("feedsync.yml", OperationalTests.config)
        try h.write("feeds/airbnb.ics", NightlyScenarioTests.airbnb().text())
        try h.write("feeds/booking.ics", NightlyScenarioTests.booking().text())
        #expect(try h.night("2026-11-01T02:00:00Z").0.status == 0)
        // What a run writes before it commits: the next generation of a feed, and a temp file.
        let snaps = h.dir.appendingPathComponent("snapshots")
        let copy = try Harness("verify-running-copy")
        defer { copy.cleanUp() }
        try FileManager.default.removeItem(at: copy.dir)
        try FileManager.default.copyItem(at: h.dir, to: copy.dir)
        var changed = NightlyScenarioTests.airbnb()
        changed.event(["UID:new@airbnb.com", "DTSTAMP:$STAMP", "DTSTART;VALUE=DATE:20270301", "DTEND;VALUE=DATE:20270305", "SUMMARY:Reserved"])
        try copy.write("feeds/airbnb.ics", changed.text())
        #expect(try copy.night("2026-11-02T02:00:00Z").0.status == 0)
        try FileManager.default.copyItem(at: copy.dir.appendingPathComponent("snapshots/airbnb.2.fsnap"),
                                         to: snaps.appendingPathComponent("airbnb.2.fsnap"))
        try h.write("snapshots/.tmp-booking-0123456789abcdef", "half written")

        // No run holds the lock: leftovers of an interrupted run (exit 1), as before.
        let idle = try h.run(["snapshot", "verify", "--config", "feedsync.yml"])
        #expect(idle.status == 1 && idle.stdout.contains("airbnb.2.fsnap: stale generation"))

        // A run holds the lock: the same files are what it is writing (exit 0).
        let fd = open(snaps.appendingPathComponent(".feedsync.lock").path, O_RDWR)
        #expect(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
        defer { close(fd) }
        let busy = try h.run(["snapshot", "verify", "--config", "feedsync.yml"])
        #expect(busy.status == 0)
        #expect(busy.stdout.contains("a run is in progress"))
        #expect(busy.stdout.contains("airbnb.2.fsnap: note: being written by the run in progress (the store points at generation 1)"))
        #expect(busy.stdout.contains(".tmp-booking-0123456789abcdef: note: being written by the run in progress"))
        #expect(busy.stdout.contains("0 problems"))
    }
}
