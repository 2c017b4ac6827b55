import Foundation
import Testing

/// A feed's bytes come from a stranger: nothing in them may stop the run for the other feeds.
@Suite("Hostile input, end to end", .serialized)
struct HostileInputTests {
    /// The reproduction of the stack overflow: ~40,000 components nested inside one VEVENT (640 KB).
    static func deep(_ depth: Int = 40_000) -> String {
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261201T100000Z\r\n"
            + String(repeating: "BEGIN:X\r\n", count: depth) + String(repeating: "END:X\r\n", count: depth)
            + "END:VEVENT\r\nEND:VCALENDAR\r\n"
    }

    @Test("a 40,000-deep feed fails alone: exit 1, the other feed synced, the report written")
    func deepNestingFailsOnlyThatFeed() throws {
        let h = try Harness("deep")
        defer { h.cleanUp() }
        try h.write("feedsync.yml", """
            feeds:
              - id: airbnb
                url: feeds/airbnb.ics
              - id: hostile
                url: feeds/deep.ics
            """)
        try h.write("feeds/airbnb.ics", NightlyScenarioTests.airbnb().text())
        try h.write("feeds/deep.ics", Self.deep())
        let (r, rep) = try h.night("2026-11-01T02:00:00Z")
        #expect(r.status == 1)
        #expect(rep.feeds_failed == 1 && rep.feeds_changed == 1)
        #expect(rep["airbnb"].status == "changed" && rep["airbnb"].added > 0)
        #expect(rep["hostile"].status == "failed")
        #expect(rep["hostile"].error?.contains("line 67: components nested more than 64 deep") == true)
        #expect(r.stdout.contains("hostile: failed"))
        #expect(try h.rows("SELECT * FROM events WHERE feed_id = 'airbnb'").count == rep["airbnb"].added)
        #expect(try h.rows("SELECT * FROM events WHERE feed_id = 'hostile'").isEmpty)
        #expect(try h.snapshotFiles() == ["airbnb.1.fsnap"])
    }

    @Test("feedsync parse on the reproduction exits 1 with the reason, not a crash")
    func parseCommand() throws {
        let h = try Harness("deep-parse")
        defer { h.cleanUp() }
        try h.write("deep.ics", Self.deep())
        let r = try h.run(["parse", "deep.ics", "--json"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot parse deep.ics: line 67: components nested more than 64 deep"))
    }

    /// Runs the binary under a Python wrapper that reports the child's peak RSS (KB) on its last stderr line.
    func runMeasured(_ h: Harness, _ args: [String]) throws -> (Harness.Result, Int) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", """
            import resource, subprocess, sys
            r = subprocess.run(sys.argv[1:])
            print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
            sys.exit(r.returncode)
            """, Harness.binary.path] + args
        p.currentDirectoryURL = h.dir
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let lines = e.split(separator: "\n")
        return (Harness.Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                               stderr: lines.dropLast().joined(separator: "\n")), Int(lines.last ?? "") ?? -1)
    }

    @Test("the generated hostile set: each input fails only its feed, or syncs within its bounds; memory stays bounded")
    func hostileSet() throws {
        let h = try Harness("hostile-set")
        defer { h.cleanUp() }
        let head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", tail = "END:VCALENDAR\r\n"
        func event(_ extra: String, uid: String = "a", start: String = "20261201T100000Z") -> String {
            "BEGIN:VEVENT\r\nUID:\(uid)\r\nDTSTART:\(start)\r\n\(extra)END:VEVENT\r\n"
        }
        let inputs: [(String, [UInt8])] = [
            ("deep", Array(Self.deep(100_000).utf8)),
            ("longline", Array((head + event("SUMMARY:" + String(repeating: "x", count: 50_000_000) + "\r\n") + tail).utf8)),
            ("manyprops", Array((head + event(String(repeating: "X-P:1\r\n", count: 1_000_000)) + tail).utf8)),
            ("manyevents", Array((head + (0..<1_000_000).map { "BEGIN:VEVENT\r\nUID:\($0)\r\nDTSTART:20261201T100000Z\r\nEND:VEVENT\r\n" }.joined() + tail).utf8)),
            ("secondly", Array((head + event("RRULE:FREQ=SECONDLY;COUNT=1000000000\r\n") + tail).utf8)),
            ("years", Array((head + event("", uid: "y0", start: "00000101T000000Z") + event("RRULE:FREQ=YEARLY\r\n", uid: "y9", start: "99991231T235959Z") + tail).utf8)),
            ("badutf8", Array((head + "BEGIN:VEVENT\r\nUID:u\r\nDTSTART:20261201T100000Z\r\nSUMMARY:").utf8) + [0xC3, 0x28, 0xFF, 0xFE] + Array(("\r\nEND:VEVENT\r\n" + tail).utf8)),
            ("nul", Array((head + event("SUMMARY:a\u{0}b\r\n") + tail).utf8)),
        ]
        var config = "http: {max_body_bytes: 104857600}\nfeeds:\n  - id: airbnb\n    url: feeds/airbnb.ics\n"
        try h.write("feeds/airbnb.ics", NightlyScenarioTests.airbnb().text())
        for (name, bytes) in inputs {
            try h.writeBytes("feeds/\(name).ics", bytes)
            config += "  - id: \(name)\n    url: feeds/\(name).ics\n"
        }
        try h.write("feedsync.yml", config)
        let report = h.dir.appendingPathComponent("report.json").path
        let (r, peakKB) = try runMeasured(h, ["run", "--config", "feedsync.yml", "--now", "2026-11-23T02:00:00Z", "--report", report])
        #expect(r.status == 1)
        let rep = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: report)))
        #expect(rep["airbnb"].status == "changed")
        #expect(rep["deep"].error?.contains("components nested more than 64 deep") == true)
        #expect(rep["longline"].error?.contains("a content line of 50000008 bytes; the limit is 1048576 (1 MiB)") == true)
        #expect(rep["manyprops"].error?.contains("VEVENT of line 3 has more than 10000 properties; the limit is 10000") == true)
        #expect(rep["manyevents"].error?.contains("more than 100000 events; the limit is 100000 (`max_records`)") == true)
        #expect(rep["secondly"].status == "changed" && rep["secondly"].error == nil)
        #expect(rep["years"].status == "changed" && rep["years"].error == nil)
        #expect(rep["badutf8"].status == "changed" && rep["nul"].status == "changed")
        #expect(rep.feeds_failed == 4)
        // Everything read at once (8 feeds in flight, 120 MB of bodies): about 130 MB measured
        // (docs/limits.md); 400 MB leaves room for a loaded machine, not for a body parsed whole.
        #expect(peakKB > 0 && peakKB < 400_000, "peak RSS \(peakKB) KB")
    }
}
