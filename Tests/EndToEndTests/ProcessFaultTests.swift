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

        let p = Process()
        p.executableURL = Harness.binary
        let report = h.dir.appendingPathComponent("report.json").path
        p.arguments = ["run", "--config", "feedsync.yml", "--now", "2026-11-23T02:00:00Z", "--report", report]
        p.currentDirectoryURL = h.dir
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        // The reader is gone before the first line is written.
        try out.fileHandleForReading.close()
        try p.run()
        p.waitUntilExit()
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
        #expect(p.terminationReason == .exit && p.terminationStatus == 0)
    }
}
