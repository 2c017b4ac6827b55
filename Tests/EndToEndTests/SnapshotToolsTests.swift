import Foundation
import GRDB
@testable import Snapshots
import Testing

/// `feedsync snapshot inspect|verify|diff|list` and every kind of snapshot damage, end to end.
@Suite("Snapshot tools and damage, end to end", .serialized)
struct SnapshotToolsEndToEndTests {
    static let night1 = "2026-11-01T02:00:00Z"

    func setUp(_ name: String) throws -> Harness {
        let h = try Harness(name)
        try h.write("feedsync.yml", OperationalTests.config)
        try h.write("feeds/airbnb.ics", NightlyScenarioTests.airbnb().text())
        try h.write("feeds/booking.ics", NightlyScenarioTests.booking().text())
        return h
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static var repo: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    /// The committed samples: format 1.0 (as earlier versions wrote) and 2.0.
    static var samplePaths: [String] {
        ["sample-v1.fsnap", "sample-v2.fsnap"].map { repo.appendingPathComponent("Tests/SnapshotsTests/Fixtures/\($0)").path }
    }

    /// The file the store points at for `feed` (`snapshots/<feed>.<generation>.fsnap`).
    func current(_ h: Harness, _ feed: String) throws -> String {
        let gen: Int64 = try #require(try h.rows("SELECT snapshot_generation FROM feeds WHERE id = ?", [feed]).first?["snapshot_generation"])
        return "snapshots/\(feed).\(gen).fsnap"
    }

    func bytes(_ h: Harness, _ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: h.dir.appendingPathComponent(relative)))
    }

    // MARK: damage

    @Test("every kind of damage is reported by verify, and the run falls back to a full sync, says why and writes a sound snapshot")
    func everyDamageKind() throws {
        let h = try setUp("damage")
        defer { h.cleanUp() }
        // Every night checks every snapshot in full with incremental_days 1 (the rotation's
        // other nights are the next test's).
        try h.write("feedsync.yml", "incremental_days: 1\n" + OperationalTests.config)
        #expect(try h.night(Self.night1).0.status == 0)
        let liveRows = "SELECT count(*) AS n FROM events WHERE feed_id = 'airbnb' AND removed_at IS NULL"
        let allRows = "SELECT count(*) AS n FROM events"
        let before: Int = try #require(try h.rows(liveRows).first?["n"])
        let total: Int = try #require(try h.rows(allRows).first?["n"])
        #expect(before == 5 && total == 8)

        let kinds: [(name: String, reason: String, damage: ([UInt8], [UInt8]) -> [UInt8])] = [
            ("truncated file", "truncated", { b, _ in Array(b.dropLast(30)) }),
            ("flipped bit in the header", "checksum mismatch", { b, _ in var d = b; d[30] ^= 0x01; return d }),
            ("flipped bit in the payload", "checksum mismatch", { b, _ in var d = b; d[d.count - 20] ^= 0x40; return d }),
            ("flipped bit in the trailer", "checksum mismatch", { b, _ in var d = b; d[d.count - 1] ^= 0x80; return d }),
            ("zero-length file", "empty: file is empty", { _, _ in [] }),
            ("foreign file", "bad magic", { _, _ in Array("<html><body>502 Bad Gateway</body></html>\n".utf8) }),
            ("future format version", "unsupported version: format version 3.0", { b, _ in var d = b; d[9] = 3; return d }),
            ("snapshot of another feed", "feed mismatch: file holds feed \"booking\"", { _, other in other }),
        ]
        for (night, kind) in kinds.enumerated() {
            let path = try current(h, "airbnb")
            let other = try bytes(h, try current(h, "booking"))
            try h.writeBytes(path, kind.damage(try bytes(h, path), other))

            let verify = try h.run(["snapshot", "verify", "--config", "feedsync.yml"])
            #expect(verify.status == 1, "\(kind.name): \(verify.stdout)")
            #expect(verify.stdout.contains("\(path): \(kind.reason)"), "\(kind.name): \(verify.stdout)")
            let inspect = try h.run(["snapshot", "inspect", "airbnb"])
            #expect(inspect.status == 1 && inspect.stderr.contains(kind.reason.components(separatedBy: ":")[0]), "\(kind.name): \(inspect.stderr)")

            let now = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: 1_793_498_400 + Double(night + 1) * 3600))
            let (r, rep) = try h.night(now)
            #expect(r.status == 0, "\(kind.name): \(r.stderr)")
            #expect(rep["airbnb"].sync_type == "full_fallback", "\(kind.name)")
            #expect(rep["airbnb"].status == "unchanged", "\(kind.name)")
            #expect(rep["airbnb"].reason.contains("snapshot unusable: snapshot \(h.dir.path)/\(path): \(kind.reason)"),
                    "\(kind.name): \(rep["airbnb"].reason)")
            #expect(r.stdout.contains("airbnb: unchanged, full_fallback (snapshot unusable:"), "\(kind.name)")
            #expect(rep["booking"].sync_type == "none")
            // A sound snapshot of the next generation replaced it; no row was lost.
            let fixed = try current(h, "airbnb")
            #expect(fixed == "snapshots/airbnb.\(night + 2).fsnap", "\(kind.name)")
            #expect(try h.run(["snapshot", "verify", "--config", "feedsync.yml"]).status == 0, "\(kind.name)")
            #expect(try h.rows(liveRows).first?["n"] == before, "\(kind.name)")
            #expect(try h.rows(allRows).first?["n"] == total, "\(kind.name)")
        }

        // A temp file left by a crash while writing: verify reports it; the run removes it. The
        // feed's current snapshot is sound, so it stays incremental (nothing to fall back from).
        // (The crashed run took the last run's clean mark away when it started.)
        try FileManager.default.removeItem(at: h.dir.appendingPathComponent("snapshots/.feedsync-clean"))
        try h.write("snapshots/.tmp-airbnb-00112233445566ff", "partial snapshot bytes")
        let verify = try h.run(["snapshot", "verify"])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("snapshots/.tmp-airbnb-00112233445566ff: leftover temp file of feed \"airbnb\" from an interrupted run"))
        let (r, rep) = try h.night("2026-11-02T02:00:00Z")
        #expect(r.status == 0 && rep["airbnb"].sync_type == "none")
        #expect(!FileManager.default.fileExists(atPath: h.dir.appendingPathComponent("snapshots/.tmp-airbnb-00112233445566ff").path))
        #expect(try h.run(["snapshot", "verify"]).status == 0)
    }

    @Test("an unchanged feed's snapshot is checked in full one night in incremental_days: damage inside it is found that night, a missing one every night")
    func rotation() throws {
        let h = try setUp("rotation")
        defer { h.cleanUp() }
        #expect(try h.night(Self.night1).0.status == 0)
        // A flipped bit in the payload of both unchanged feeds' snapshots.
        for feed in ["airbnb", "booking"] {
            let path = try current(h, feed)
            var b = try bytes(h, path)
            b[b.count - 20] ^= 0x40
            try h.writeBytes(path, b)
        }
        // Over the next seven nights (incremental_days 7, the default) each feed is checked in full
        // on exactly one: skipped before it, full_fallback on it, skipped after it.
        var found: [String: Int] = [:]
        for day in 1...7 {
            let now = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: 1_793_498_400 + Double(day) * 86_400))
            let (r, rep) = try h.night(now)
            #expect(r.status == 0, "\(r.stderr)")
            for feed in ["airbnb", "booking"] {
                if found[feed] == nil, rep[feed].sync_type == "full_fallback" {
                    #expect(rep[feed].reason.contains("checksum mismatch"), "\(rep[feed].reason)")
                    found[feed] = day
                } else {
                    #expect(rep[feed].sync_type == "none", "\(feed) night \(day): \(rep[feed].sync_type)")
                }
            }
        }
        #expect(found.count == 2, "\(found)")
        #expect(try h.run(["snapshot", "verify", "--config", "feedsync.yml"]).status == 0)
        // A missing snapshot is found the next night, whichever it is.
        try h.remove(try current(h, "booking"))
        let (r, rep) = try h.night("2026-11-09T02:00:00Z")
        #expect(r.status == 0 && rep["booking"].sync_type == "full_fallback")
    }

    @Test("verify: sound folder, a single file, store pointers, usage errors")
    func verify() throws {
        let h = try setUp("verify")
        defer { h.cleanUp() }
        #expect(try h.night(Self.night1).0.status == 0)
        let ok = try h.run(["snapshot", "verify"])
        #expect(ok.status == 0)
        #expect(ok.stdout.hasPrefix("checked 2 snapshots in "))
        #expect(ok.stdout.contains(" s: 2 sound, 0 problems; store pointers of 2 configured feeds checked"))
        let folder = try h.run(["snapshot", "verify", "snapshots"])
        #expect(folder.status == 0 && !folder.stdout.contains("store pointers"))
        let file = try h.run(["snapshot", "verify", "snapshots/airbnb.1.fsnap"])
        #expect(file.status == 0 && file.stdout == "snapshots/airbnb.1.fsnap: sound\n")

        // The store points at a file that is gone; a stale generation lingers.
        try FileManager.default.moveItem(at: h.dir.appendingPathComponent("snapshots/booking.1.fsnap"),
                                         to: h.dir.appendingPathComponent("snapshots/booking.7.fsnap"))
        let bad = try h.run(["snapshot", "verify", "snapshots", "--config", "feedsync.yml"])
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("snapshots/booking.1.fsnap: missing: the store points feed \"booking\" at generation 1 (on disk: generation 7)"))
        #expect(bad.stdout.contains("snapshots/booking.7.fsnap: feed mismatch: file holds generation 1, its name says 7"))
        #expect(bad.stdout.contains("snapshots/booking.7.fsnap: stale generation: the store points at generation 1"))
        #expect(try h.run(["snapshot", "verify", "nowhere"]).status == 2)
        #expect(try h.run(["snapshot", "verify", "--config", "nope.yml"]).status == 2)
    }

    // MARK: inspect

    @Test("inspect by feed id (text and JSON) resolves the store's generation, read-only")
    func inspect() throws {
        let h = try setUp("inspect")
        defer { h.cleanUp() }
        // Before any run: no store is created by looking.
        let none = try h.run(["snapshot", "inspect", "airbnb"])
        #expect(none.status == 1 && none.stderr.contains("feed airbnb has no snapshot in"))
        #expect(!FileManager.default.fileExists(atPath: h.dir.appendingPathComponent("feedsync.sqlite").path))

        #expect(try h.night(Self.night1).0.status == 0)
        let t = try h.run(["snapshot", "inspect", "airbnb", "--records", "--now", "2026-11-02T02:00:00Z"])
        #expect(t.status == 0, "\(t.stderr)")
        let lines = t.stdout.split(separator: "\n").map(String.init)
        #expect(lines[0] == "snapshot:       \(h.dir.path)/snapshots/airbnb.1.fsnap")
        #expect(lines[1] == "format:         2.0, parser version 3")
        #expect(lines[2] == "feed:           airbnb")
        #expect(lines[3] == "generation:     1 (the store's current generation)")
        #expect(lines[4] == "created:        2026-11-01T02:00:00Z (1 d old)")
        #expect(lines[6] == "etag:           (none)")
        #expect(lines[8] == "records:        5 (4 future, 1 past as of 2026-11-02T02:00:00Z)")
        #expect(lines[9].hasPrefix("size:           ") && lines[9].contains(" raw (ratio "))
        #expect(lines[10].hasPrefix("KEY") && lines[10].hasSuffix("SUMMARY"))
        #expect(lines[11].hasPrefix("a1@airbnb.com  ") && lines[11].contains("  2026-10-20  2026-10-25  Reserved"))
        #expect(lines[15].contains("Airbnb (Not available)"))

        let j = try h.run(["snapshot", "inspect", "airbnb", "--records", "--json", "--now", "2026-11-02T02:00:00Z"])
        #expect(j.status == 0)
        let o = try json(j.stdout)
        #expect(o["feed_id"] as? String == "airbnb")
        #expect(o["generation"] as? Int == 1 && o["store_generation"] as? Int == 1)
        #expect(o["created_at"] as? String == "2026-11-01T02:00:00Z" && o["age_seconds"] as? Int == 86_400)
        #expect(o["future_records"] as? Int == 4 && o["past_records"] as? Int == 1)
        #expect(o["etag"] is NSNull)
        let records = try #require(o["records"] as? [[String: Any]])
        #expect(records.count == 5)
        #expect(records[0]["key"] as? String == "a1@airbnb.com" && records[0]["future"] as? Bool == false)
        #expect(records[0]["all_day"] as? Bool == true && records[0]["summary"] as? String == "Reserved")
        #expect(records[0]["start"] as? String == "2026-10-20T00:00:00Z")
        let fingerprint: String = try #require(try h.rows("SELECT fingerprint FROM feeds WHERE id = 'airbnb'").first?["fingerprint"])
        #expect(o["body_fingerprint"] as? String == fingerprint)

        // By path, the header alone; errors.
        let p = try h.run(["snapshot", "inspect", "snapshots/booking.1.fsnap", "--json"])
        #expect(try json(p.stdout)["store_generation"] is NSNull && !p.stdout.contains("\"records\""))
        let unknown = try h.run(["snapshot", "inspect", "nosuch"])
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown feed id nosuch"))
        #expect(try h.run(["snapshot", "inspect", "snapshots/nope.1.fsnap"]).status == 1)  // missing, as the help says
        #expect(try h.run(["snapshot", "inspect", "airbnb", "--now", "soon"]).status == 2)
        try h.remove("snapshots/airbnb.1.fsnap")
        let missing = try h.run(["snapshot", "inspect", "airbnb"])
        #expect(missing.status == 1 && missing.stderr.contains("airbnb.1.fsnap: missing: the store points at generation 1"))
    }

    // MARK: diff

    @Test("diff between an older copy and a feed's current snapshot (text and JSON)")
    func diff() throws {
        let h = try setUp("diff")
        defer { h.cleanUp() }
        #expect(try h.night(Self.night1).0.status == 0)
        try FileManager.default.copyItem(at: h.dir.appendingPathComponent("snapshots/airbnb.1.fsnap"),
                                         to: h.dir.appendingPathComponent("old-airbnb.fsnap"))
        try h.write("feeds/airbnb.ics", NightlyScenarioTests.airbnb(a3Summary: "Reserved, late check-in", withA4: false, withA6: true).text())
        #expect(try h.night("2026-11-02T02:00:00Z").0.status == 0)

        let t = try h.run(["snapshot", "diff", "old-airbnb.fsnap", "airbnb", "--now", "2026-11-02T02:00:00Z"])
        #expect(t.status == 0, "\(t.stderr)")
        let lines = t.stdout.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("A: old-airbnb.fsnap (feed airbnb, generation 1, created 2026-11-01T02:00:00Z, 5 records)"))
        #expect(lines[1].hasPrefix("B: \(h.dir.path)/snapshots/airbnb.2.fsnap (feed airbnb, generation 2"))
        #expect(lines.contains("+ a6@airbnb.com  2027-02-01  Reserved"))
        #expect(lines.contains("- a4@airbnb.com  2026-12-20  Reserved"))
        #expect(lines.contains("~ a3@airbnb.com  2026-12-01  Reserved, late check-in"))
        #expect(lines.contains("    SUMMARY: Reserved → Reserved\\, late check-in"))
        #expect(lines.last == "records: 1 added, 1 removed, 1 changed, 3 unchanged")

        let j = try json(try h.run(["snapshot", "diff", "old-airbnb.fsnap", "snapshots/airbnb.2.fsnap", "--json"]).stdout)
        #expect((j["added"] as? [[String: Any]])?.map { $0["key"] as? String } == ["a6@airbnb.com"])
        #expect((j["removed"] as? [[String: Any]])?.map { $0["key"] as? String } == ["a4@airbnb.com"])
        let changed = try #require((j["changed"] as? [[String: Any]])?.first)
        let props = try #require(changed["properties"] as? [[String: Any]])
        #expect(props.count == 1 && props[0]["name"] as? String == "SUMMARY")
        #expect(props[0]["old"] as? [String] == ["Reserved"] && props[0]["new"] as? [String] == ["Reserved\\, late check-in"])
        #expect((changed["new"] as? [String: Any])?["summary"] as? String == "Reserved, late check-in")
        #expect(j["unchanged"] as? Int == 3)

        try h.writeBytes("broken.fsnap", [0x89, 0x46, 0x53])
        let broken = try h.run(["snapshot", "diff", "broken.fsnap", "airbnb"])
        #expect(broken.status == 1 && broken.stderr.contains("broken.fsnap: truncated"))
    }

    // MARK: list

    @Test("list shows each configured feed, flags stale ones and orphan files")
    func list() throws {
        let h = try setUp("list")
        defer { h.cleanUp() }
        #expect(try h.night(Self.night1).0.status == 0)
        let ok = try h.run(["snapshot", "list", "--now", "2026-11-01T05:00:00Z"])
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        let lines = ok.stdout.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("FEED     GEN  AGE  RECORDS  SIZE"))
        #expect(lines[1].hasPrefix("airbnb   1    3 h  5        ") && lines[1].contains("changed      2026-11-01T02:00:00Z"))
        #expect(lines[2].hasPrefix("booking  1    3 h  3  "))
        #expect(lines[3] == "feeds: 2 configured, 0 need attention; orphan files: 0")

        try FileManager.default.copyItem(at: h.dir.appendingPathComponent("snapshots/airbnb.1.fsnap"),
                                         to: h.dir.appendingPathComponent("snapshots/retired-feed.3.fsnap"))
        let stale = try h.run(["snapshot", "list", "--now", "2026-11-10T02:00:00Z"])
        #expect(stale.status == 1)
        #expect(stale.stdout.contains("STALE: last success 9 days ago (threshold 7)"))
        #expect(stale.stdout.contains("feeds: 2 configured, 2 need attention; orphan files: 1"))
        #expect(stale.stdout.contains("orphan files (no configured feed owns them):\n  \(h.dir.path)/snapshots/retired-feed.3.fsnap"))
        #expect(try h.run(["snapshot", "list", "--now", "2026-11-10T02:00:00Z", "--incremental-days", "30"]).status == 0)
    }

    // MARK: format 1.0 snapshots from earlier versions

    /// The snapshot file `bytes` rewritten as format 1.0, as an earlier feedsync wrote it (the layout
    /// of the spec's *Format 1.0 records*: key, stored hash, fixed-width times, flags, body).
    func asV1(_ bytes: [UInt8]) throws -> [UInt8] {
        let snapshot = try SnapshotCodec.decode(bytes)
        var raw = [UInt8]()
        for r in snapshot.records {
            raw.appendVarint(UInt64(r.key.utf8.count))
            raw.append(contentsOf: r.key.utf8)
            raw.appendBE(r.hash)
            raw.appendBE(r.start)
            raw.appendBE(r.lastEnd ?? .max)
            raw.append(r.allDay ? 1 : 0)
            raw.appendVarint(UInt64(r.body.count))
            raw.append(contentsOf: r.body)
        }
        return try SnapshotCodec.assemble(header: snapshot.header, recordCount: UInt64(snapshot.records.count),
                                          raw: raw, level: 6, major: 1, minor: 0)
    }

    @Test("a 1.0 snapshot left by an earlier version is read as it is, and replaced by a 2.0 one when the feed changes")
    func v1SnapshotKeepsWorking() throws {
        let h = try setUp("v1")
        defer { h.cleanUp() }
        #expect(try h.night(Self.night1).0.status == 0)
        let path = try current(h, "airbnb")
        try h.writeBytes(path, try asV1(try bytes(h, path)))
        try FileManager.default.copyItem(at: h.dir.appendingPathComponent(path), to: h.dir.appendingPathComponent("old-v1.fsnap"))
        #expect(try h.run(["snapshot", "verify", "--config", "feedsync.yml"]).status == 0)
        let inspect = try h.run(["snapshot", "inspect", "airbnb"])
        #expect(inspect.stdout.contains("format:         1.0, parser version 3"), "\(inspect.stdout)")

        // Nothing changed: the 1.0 file is sound, so the feed is skipped and the file stays.
        let (r2, rep2) = try h.night("2026-11-02T02:00:00Z")
        #expect(r2.status == 0 && rep2["airbnb"].sync_type == "none", "\(rep2["airbnb"].reason)")
        #expect(try current(h, "airbnb") == path)

        // The feed changes: the 1.0 snapshot is the base of an incremental sync, and the new
        // generation is written as 2.0.
        try h.write("feeds/airbnb.ics", NightlyScenarioTests.airbnb(a3Summary: "Reserved, late check-in").text())
        let (r3, rep3) = try h.night("2026-11-03T02:00:00Z")
        #expect(r3.status == 0 && rep3["airbnb"].sync_type == "incremental", "\(rep3["airbnb"].reason)")
        #expect(rep3["airbnb"].updated == 1)
        let next = try current(h, "airbnb")
        #expect(next == "snapshots/airbnb.2.fsnap")
        #expect(try SnapshotCodec.decodeHeader(try bytes(h, next)).formatMajor == 2)
        let diff = try h.run(["snapshot", "diff", "old-v1.fsnap", "airbnb"])
        #expect(diff.stdout.contains("    SUMMARY: Reserved → Reserved\\, late check-in"), "\(diff.stdout)")
        #expect(diff.stdout.contains("records: 0 added, 0 removed, 1 changed, 4 unchanged"), "\(diff.stdout)")
    }

    // MARK: the independent reader

    @Test("tools/read-snapshot, written from the spec alone, agrees with inspect --json")
    func pythonReaderAgrees() throws {
        let h = try setUp("reader")
        defer { h.cleanUp() }
        #expect(try h.night(Self.night1).0.status == 0)
        for path in Self.samplePaths + [h.dir.appendingPathComponent("snapshots/airbnb.1.fsnap").path] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3", Self.repo.appendingPathComponent("tools/read-snapshot").path, path]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
            let py = try json(String(decoding: data, as: UTF8.self))
            let swift = try json(try h.run(["snapshot", "inspect", path, "--json", "--records"]).stdout)
            for key in ["format_version", "feed_format", "parser_version", "feed_id", "generation", "created_at_unix", "body_fingerprint",
                        "etag", "last_modified", "record_count", "file_bytes", "compressed_bytes", "raw_bytes"] {
                #expect(String(describing: py[key]) == String(describing: swift[key]), "\(key) of \(path)")
            }
            let a = try #require(py["records"] as? [[String: Any]]), b = try #require(swift["records"] as? [[String: Any]])
            #expect(a.count == b.count)
            for (x, y) in zip(a, b) {
                for key in ["key", "hash", "start_unix", "last_end_unix", "all_day"] {
                    #expect(String(describing: x[key]) == String(describing: y[key]), "\(key) of \(x["key"] ?? "?")")
                }
            }
        }
        // And it refuses damage.
        var damaged = try bytes(h, "snapshots/airbnb.1.fsnap")
        damaged[damaged.count / 2] ^= 1
        try h.writeBytes("snapshots/airbnb.1.fsnap", damaged)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Self.repo.appendingPathComponent("tools/read-snapshot").path,
                       h.dir.appendingPathComponent("snapshots/airbnb.1.fsnap").path]
        p.standardOutput = Pipe()
        p.standardError = Pipe()
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus != 0)
    }
}
