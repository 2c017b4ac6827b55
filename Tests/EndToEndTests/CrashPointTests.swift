import Foundation
import GRDB
import Testing
import TestSupport

/// A run killed at each point of its commit protocol (FEEDSYNC_CRASH_AT, for tests only), or at a
/// random moment, then run again, leaves the same rows and snapshots as a run never interrupted.
@Suite("Crash points, end to end", .serialized)
struct CrashPointTests {
    static let points = ["snapshot-written", "snapshots-durable", "store-committed", "old-retired"]
    static let night1 = "2026-11-01T02:00:00Z", night2 = "2026-11-02T02:00:00Z"

    func setUp(_ name: String) throws -> Harness {
        let h = try Harness(name)
        try h.write("feedsync.yml", OperationalTests.config)
        try h.write("feeds/airbnb.ics", NightlyScenarioTests.airbnb().text())
        try h.write("feeds/booking.ics", NightlyScenarioTests.booking().text())
        return h
    }

    /// Night 2's changes: an edit, a removal, an addition.
    static func changeFeeds(_ h: Harness) throws {
        try h.write("feeds/airbnb.ics", NightlyScenarioTests.airbnb(a1Summary: "Reserved (edited)", withA4: false, withA6: true).text())
        try h.write("feeds/booking.ics", NightlyScenarioTests.booking(withB4: true).text())
    }

    /// What must not depend on a crash: the events, the change log (without run ids), each feed's
    /// pointers and validators, and the snapshot files. (`last_status` says what the last run did:
    /// after a crash past the commit, the run again finds nothing left to change.)
    func state(_ h: Harness) throws -> [String] {
        var out = try h.rows("""
            SELECT feed_id, record_key, uid, recurrence_id, start, "end", last_end, all_day, summary, status,
                   record_hash, start_ts, last_end_ts, first_seen_at, updated_at, removed_at FROM events
            ORDER BY feed_id, record_key
            """).map { $0.description }
        out += try h.rows("SELECT feed_id, record_key, kind, at FROM changes ORDER BY feed_id, record_key, kind, at").map { $0.description }
        out += try h.rows("""
            SELECT id, fingerprint, etag, last_modified, snapshot_generation, last_success_at, last_full_sync_at
            FROM feeds ORDER BY id
            """).map { $0.description }
        let folder = h.dir.appendingPathComponent("snapshots")
        // (The clean mark names the run that left it: checked apart, by `cleanMarkOfLastRun`.)
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        where name != ".feedsync.lock" && name != ".feedsync-store" && name != ".feedsync-clean" {
            let bytes = try Data(contentsOf: folder.appendingPathComponent(name))
            out.append("\(name) \(bytes.count) \(bytes.hashValue)")
        }
        return out
    }

    /// The run that ended last, cleanly, left its clean mark (a killed one took it away at its start).
    func cleanMarkOfLastRun(_ h: Harness) throws -> Bool {
        let mark = try String(contentsOf: h.dir.appendingPathComponent("snapshots/.feedsync-clean"), encoding: .utf8)
        let last: Int64 = try #require(try h.rows("SELECT max(id) AS id FROM runs").first?["id"])
        return mark.hasSuffix("\n\(last)\n")
    }

    func baseline() throws -> [String] {
        let h = try setUp("crash-baseline")
        defer { h.cleanUp() }
        #expect(try h.night(Self.night1).0.status == 0)
        try Self.changeFeeds(h)
        #expect(try h.night(Self.night2).0.status == 0)
        return try state(h)
    }

    @Test("killed at each commit point, then run again: the same rows and snapshots as an uninterrupted night")
    func everyPoint() throws {
        let expected = try baseline()
        for point in Self.points {
            let h = try setUp("crash-\(point)")
            defer { h.cleanUp() }
            #expect(try h.night(Self.night1).0.status == 0)
            try Self.changeFeeds(h)
            let crashed = try h.run(["run", "--config", "feedsync.yml", "--now", Self.night2],
                                    environment: ["FEEDSYNC_CRASH_AT": point])
            #expect(crashed.killed && crashed.status == SIGKILL, "\(point)")
            let (again, _) = try h.night(Self.night2)
            #expect(again.status == 0, "\(point): \(again.stderr)")
            #expect(try state(h) == expected, "\(point)")
            #expect(try cleanMarkOfLastRun(h), "\(point)")
            // The killed run's row, left `running`, was marked aborted by the next one.
            let statuses = try h.rows("SELECT status FROM runs ORDER BY id").map { $0["status"] as String }
            #expect(statuses == ["ok", "aborted", "ok"], "\(point): \(statuses)")
        }
    }

    @Test("killed at random moments several times in a row, then run again: the same rows and snapshots")
    func randomKills() throws {
        let expected = try baseline()
        var rng = SplitMix(seed: 0x5EED)
        for round in 0..<4 {
            let h = try setUp("crash-random-\(round)")
            defer { h.cleanUp() }
            #expect(try h.night(Self.night1).0.status == 0)
            try Self.changeFeeds(h)
            for _ in 0..<3 {
                let p = Process()
                p.executableURL = Harness.binary
                p.arguments = ["run", "--config", "feedsync.yml", "--now", Self.night2]
                p.currentDirectoryURL = h.dir
                p.standardOutput = FileHandle.nullDevice
                p.standardError = FileHandle.nullDevice
                try p.run()
                usleep(UInt32(rng.next() % 40_000))   // 0–40 ms: a run of two feeds takes about that long
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
            }
            let (again, _) = try h.night(Self.night2)
            #expect(again.status == 0, "round \(round): \(again.stderr)")
            #expect(try state(h) == expected, "round \(round)")
            #expect(try cleanMarkOfLastRun(h), "round \(round)")
        }
    }
}
