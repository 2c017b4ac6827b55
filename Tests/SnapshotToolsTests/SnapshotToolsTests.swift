import Foundation
import Testing
import FeedHash
import Snapshots
import Stores
@testable import SnapshotTools
import JSONOutput
@testable import ICalendarFeeds

/// The committed sample snapshots of the Snapshots tests (see docs/snapshot-format.md): the same
/// header and records as format 1.0 (what earlier versions wrote) and 2.0.
let samplePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../SnapshotsTests/Fixtures/sample-v1.fsnap").standardizedFileURL.path
let sampleV2Path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../SnapshotsTests/Fixtures/sample-v2.fsnap").standardizedFileURL.path
/// 2026-01-03T00:00:00Z: two of the sample's records have ended, two have not.
let sampleNow: Int64 = 1_767_398_400

func body(_ lines: [String]) -> [UInt8] { Array(lines.map { $0 + "\n" }.joined().utf8) }

func rec(_ key: String, _ lines: [String], start: Int64 = 1_800_000_000, lastEnd: Int64? = 1_800_003_600) -> SnapshotRecord {
    let b = body(["UID:\(key)"] + lines)
    return SnapshotRecord(key: key, hash: XXH3.hash64(b), start: start, lastEnd: lastEnd, allDay: false, body: b)
}

func snapshotBytes(_ feed: String, _ generation: UInt64, _ records: [SnapshotRecord], createdAt: Int64 = 1_767_312_000) throws -> [UInt8] {
    try SnapshotCodec.encode(header: SnapshotHeader(feedID: feed, generation: generation, createdAt: createdAt,
                                                    parserVersion: 1, bodyFingerprint: Fingerprint128(high: 1, low: 2),
                                                    etag: nil, lastModified: nil), records: records)
}

final class Folder {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "/snaptools-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func put(_ name: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: path + "/" + name)) }
}

@Suite struct CanonicalBodyTests {
    @Test func propertiesAndSummary() {
        let b = body(["DTSTART;TZID=Europe/Lisbon:20261101T100000", "SUMMARY:Tea\\, cake\\nand more",
                      "X-Q;X=\"a:b\":v", "BEGIN:VALARM", "TRIGGER:-PT15M", "END:VALARM"])
        let props = CanonicalBody.properties(b)
        #expect(props.map(\.name) == ["DTSTART", "SUMMARY", "X-Q", "VALARM/TRIGGER"])
        #expect(props[0].shown == ";TZID=Europe/Lisbon:20261101T100000")
        #expect(props[1].shown == "Tea\\, cake\\nand more")
        #expect(CanonicalBody.summary(b) == "Tea, cake\nand more")
        #expect(CanonicalBody.value(of: props[2].rest) == "v")
        // Hand-made bodies with a VEVENT wrapper and CRLF read the same way.
        let wrapped = Array("BEGIN:VEVENT\r\nUID:x\r\nSUMMARY:Hi\r\nEND:VEVENT\r\n".utf8)
        #expect(CanonicalBody.properties(wrapped).map(\.name) == ["UID", "SUMMARY"])
        #expect(CanonicalBody.summary(wrapped) == "Hi")
        #expect(CanonicalBody.summary(body(["UID:x"])) == nil)
    }
}

@Suite struct InspectionTests {
    @Test func sampleHeaderRecordsAndJSON() throws {
        let i = try SnapshotInspection.load(path: samplePath, now: sampleNow)
        #expect(i.fileBytes == 419)
        #expect(i.futureCount == 2 && i.pastCount == 2)
        let text = i.textLines(records: true).joined(separator: "\n")
        #expect(text.contains("format:         1.0, parser version 3"))
        #expect(text.contains("generation:     42\n"))
        #expect(text.contains("created:        2026-01-02T00:00:00Z (1 d old)"))
        #expect(text.contains("etag:           \"abc123\""))
        #expect(text.contains("records:        4 (2 future, 2 past as of 2026-01-03T00:00:00Z)"))
        #expect(text.contains("size:           419 bytes on disk; payload 271 bytes compressed, 537 raw (ratio 1.98)"))
        #expect(text.contains("holiday-2026-01-01@example.com  170810fb71920919  2026-01-01            2026-01-02            New Year's Day"))
        #expect(text.contains("standup@example.com             0c4e136450ff2634  2026-01-05T07:15:00Z  never"))
        #expect(text.contains("Zürich meetup ☕"))
        let json = i.json(records: true).render()
        #expect(json.contains("\"compression_ratio\": 1.98"))
        #expect(json.contains("\"store_generation\": null"))
        #expect(json.contains("\"last_end\": null"))
        #expect(json.contains("\"summary\": \"New Year brunch\""))
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        #expect(parsed["feed_id"] as? String == "sample-feed")
        #expect((parsed["records"] as? [Any])?.count == 4)
        #expect(!i.json(records: false).render().contains("\"records\""))
        let withStore = SnapshotInspection(path: "p", fileBytes: 1, snapshot: i.snapshot, now: sampleNow, storeGeneration: 43)
        #expect(withStore.textLines(records: false).contains { $0.contains("42 (the store points at generation 43)") })
    }

    /// The 2.0 sample shows the same records; only the version and sizes differ from 1.0.
    @Test func sampleV2HeaderAndRecords() throws {
        let v2 = try SnapshotInspection.load(path: sampleV2Path, now: sampleNow)
        let v1 = try SnapshotInspection.load(path: samplePath, now: sampleNow)
        #expect(v2.fileBytes == 359)
        let text = v2.textLines(records: true)
        #expect(text.contains("format:         2.0, parser version 3"))
        #expect(text.contains("size:           359 bytes on disk; payload 211 bytes compressed, 457 raw (ratio 2.17)"))
        // Record lines (hash included, recomputed from the body in 2.0) are the same as in 1.0.
        let recordLines = { (i: SnapshotInspection) in i.textLines(records: true).drop { !$0.hasPrefix("KEY") } }
        #expect(Array(recordLines(v2)) == Array(recordLines(v1)))
        #expect(text.contains("standup@example.com             0c4e136450ff2634  2026-01-05T07:15:00Z  never"))
    }

    @Test func damagedFileErrorNamesPath() throws {
        let f = try Folder()
        try f.put("x.1.fsnap", Array("not a snapshot at all".utf8))
        let error = #expect(throws: SnapshotError.self) { _ = try SnapshotInspection.load(path: f.path + "/x.1.fsnap", now: 0) }
        #expect(error?.description == "snapshot \(f.path)/x.1.fsnap: bad magic: not a feedsync snapshot (wrong magic)")
    }

    @Test("a sound file with an absurd created-at is shown, not a crash", arguments: [Int64.min, Int64.max - 1, -1, 0])
    func extremeCreatedAt(createdAt: Int64) throws {
        let f = try Folder()
        try f.put("x.1.fsnap", try snapshotBytes("x", 1, [rec("k", ["SUMMARY:a"])], createdAt: createdAt))
        for now: Int64 in [Int64.min, 0, 1_767_312_000, Int64.max] {
            let i = try SnapshotInspection.load(path: f.path + "/x.1.fsnap", now: now)
            #expect(i.textLines(records: true).contains { $0.contains("created") })
            #expect(i.json(records: true).render().contains("\"age_seconds\""))
        }
    }

    @Test func jsonEscapingAndNumbers() {
        let v = JSONValue.object([("s", .string("a\"b\\c\n\u{1}é")), ("d", .decimal(2.0 / 3.0, places: 2)),
                                  ("z", .decimal(0, places: 2)), ("n", .null), ("a", .array([])), ("i", .int(-3))])
        #expect(v.render() == "{\n  \"s\": \"a\\\"b\\\\c\\n\\u0001é\",\n  \"d\": 0.67,\n  \"z\": 0.00,\n  \"n\": null,\n  \"a\": [],\n  \"i\": -3\n}")
        #expect(Show.age(93_784) == "1 d 2 h" && Show.age(3_900) == "1 h 5 min" && Show.age(59) == "59 s")
        #expect(Show.bytes(419) == "419 B" && Show.bytes(1536) == "1.5 KiB")
    }
}

@Suite struct VerificationTests {
    @Test func folderProblemsAreEachReportedWithAReason() throws {
        let f = try Folder()
        try f.put("good.1.fsnap", try snapshotBytes("good", 1, [rec("a", [])]))
        try f.put("b.3.fsnap", try snapshotBytes("b", 3, []))
        var flipped = try snapshotBytes("flip", 1, [rec("a", ["SUMMARY:x"])])
        flipped[flipped.count / 2] ^= 0x04
        try f.put("flip.1.fsnap", flipped)
        try f.put("empty.1.fsnap", [])
        try f.put("other.1.fsnap", try snapshotBytes("good", 1, []))      // another feed's file
        try f.put("gen.2.fsnap", try snapshotBytes("gen", 5, []))         // another generation
        var future = try snapshotBytes("future", 1, [])
        future[9] = 3
        try f.put("future.1.fsnap", future)
        try f.put("cut.1.fsnap", Array(try snapshotBytes("cut", 1, [rec("a", [])]).dropLast(5)))
        try f.put(".tmp-good-0123456789abcdef", [1, 2, 3])
        try f.put("weird.fsnap", [])
        try f.put("notes.txt", [])
        try f.put(".feedsync.lock", [])

        for workers in [1, 2, 7] {
            let r = try SnapshotVerifier.verifyFolder(f.path, workers: workers)
            #expect(r.snapshotsChecked == 8 && r.snapshotsSound == 2)
            let byName = Dictionary(uniqueKeysWithValues: r.problems.map { ($0.path.split(separator: "/").last.map(String.init)!, $0.reason) })
            #expect(byName.count == 8)
            #expect(byName["flip.1.fsnap"]?.hasPrefix("checksum mismatch") == true)
            #expect(byName["empty.1.fsnap"] == "empty: file is empty")
            #expect(byName["other.1.fsnap"] == "feed mismatch: file holds feed \"good\", its name says \"other\"")
            #expect(byName["gen.2.fsnap"] == "feed mismatch: file holds generation 5, its name says 2")
            #expect(byName["future.1.fsnap"]?.hasPrefix("unsupported version: format version 3.0") == true)
            #expect(byName["cut.1.fsnap"]?.hasPrefix("truncated") == true)
            #expect(byName[".tmp-good-0123456789abcdef"]?.contains("leftover temp file of feed \"good\"") == true)
            #expect(byName["weird.fsnap"]?.hasPrefix("foreign name") == true)
        }
    }

    @Test func storePointersAreChecked() throws {
        let f = try Folder()
        try f.put("a.2.fsnap", try snapshotBytes("a", 2, []))
        try f.put("b.1.fsnap", try snapshotBytes("b", 1, []))
        try f.put("b.2.fsnap", try snapshotBytes("b", 2, []))
        try f.put("orphan.1.fsnap", try snapshotBytes("orphan", 1, []))
        let sound = try SnapshotVerifier.verifyFolder(f.path, pointers: ["a": 2, "b": 2])
        #expect(sound.problems.map(\.line) == ["\(f.path)/b.1.fsnap: stale generation: the store points at generation 2 (left by an interrupted run; the next feedsync run removes it)"])
        let pointers: [String: UInt64?] = ["a": 3, "b": 1, "c": 1, "d": UInt64?.none]
        let r = try SnapshotVerifier.verifyFolder(f.path, pointers: pointers)
        #expect(r.problems.map(\.line) == [
            "\(f.path)/a.2.fsnap: stale generation: the store points at generation 3 (left by an interrupted run; the next feedsync run removes it)",
            "\(f.path)/a.3.fsnap: missing: the store points feed \"a\" at generation 3 (on disk: generation 2)",
            "\(f.path)/b.2.fsnap: stale generation: the store points at generation 1 (left by an interrupted run; the next feedsync run removes it)",
            "\(f.path)/c.1.fsnap: missing: the store points feed \"c\" at generation 1",
        ])
        #expect(throws: SnapshotError.self) { _ = try SnapshotVerifier.verifyFolder(f.path + "/nope") }
    }
}

@Suite struct DiffTests {
    @Test func recordsAndPropertiesThatChanged() throws {
        let f = try Folder()
        try f.put("a.1.fsnap", try snapshotBytes("a", 1, [
            rec("keep", ["SUMMARY:Same"]),
            rec("gone", ["SUMMARY:Bye"]),
            rec("edit", ["DTSTART:20270101T100000Z", "SUMMARY:Old", "ATTENDEE:x", "ATTENDEE:y"]),
        ]))
        try f.put("a.2.fsnap", try snapshotBytes("a", 2, [
            rec("keep", ["SUMMARY:Same"]),
            rec("new", ["SUMMARY:Hello"], lastEnd: 1),
            rec("edit", ["DTSTART;TZID=Europe/Lisbon:20270101T110000", "SUMMARY:New", "ATTENDEE:x", "LOCATION:Porto"]),
        ]))
        let d = SnapshotDiff(try SnapshotInspection.load(path: f.path + "/a.1.fsnap", now: 1_767_312_000),
                             try SnapshotInspection.load(path: f.path + "/a.2.fsnap", now: 1_767_312_000))
        #expect(d.added.map(\.key) == ["new"] && d.removed.map(\.key) == ["gone"] && d.unchanged == 1)
        #expect(d.changed.map(\.key) == ["edit"])
        #expect(d.changed[0].properties == [
            .init(name: "ATTENDEE", old: ["x", "y"], new: ["x"]),
            .init(name: "DTSTART", old: ["20270101T100000Z"], new: [";TZID=Europe/Lisbon:20270101T110000"]),
            .init(name: "LOCATION", old: [], new: ["Porto"]),
            .init(name: "SUMMARY", old: ["Old"], new: ["New"]),
        ])
        let text = d.textLines()
        #expect(text.contains("+ new  2027-01-15T08:00:00Z  Hello  (past)"))
        #expect(text.contains("- gone  2027-01-15T08:00:00Z  Bye"))
        #expect(text.contains("    ATTENDEE: x | y → x"))
        #expect(text.contains("    LOCATION: (absent) → Porto"))
        #expect(text.last == "records: 1 added, 1 removed, 1 changed, 1 unchanged")
        let json = try JSONSerialization.jsonObject(with: Data(d.json().render().utf8)) as! [String: Any]
        let changed = (json["changed"] as! [[String: Any]])[0]
        #expect(((changed["properties"] as! [[String: Any]])[3]["new"] as! [String]) == ["New"])
        #expect(json["unchanged"] as? Int == 1)
    }
}

@Suite struct ListingTests {
    @Test func staleMissingDamagedAndOrphans() throws {
        let f = try Folder()
        let now: Int64 = 1_767_312_000 + 86_400
        try f.put("ok.1.fsnap", try snapshotBytes("ok", 1, [rec("a", [])]))
        try f.put("old.4.fsnap", try snapshotBytes("old", 4, []))
        try f.put("bad.1.fsnap", [0x89, 0x46])
        try f.put("gone.7.fsnap", try snapshotBytes("gone", 7, []))
        let states: [String: FeedState] = [
            "ok": FeedState(id: "ok", snapshotGeneration: 1, lastSuccessAt: now - 3600, lastStatus: .changed),
            "old": FeedState(id: "old", snapshotGeneration: 4, lastSuccessAt: now - 9 * 86_400, lastStatus: .failed, lastError: "HTTP 500"),
            "bad": FeedState(id: "bad", snapshotGeneration: 1, lastSuccessAt: now, lastStatus: .unchanged),
            "lost": FeedState(id: "lost", snapshotGeneration: 2, lastSuccessAt: now, lastStatus: .unchanged),
        ]
        let l = try FeedListing(feeds: ["ok", "old", "bad", "lost", "new"], states: states, folder: f.path, incrementalDays: 7, now: now)
        #expect(l.needsAttention)
        #expect(l.orphans == [f.path + "/gone.7.fsnap"])
        let text = l.textLines()
        #expect(text[0].hasPrefix("FEED  GEN  AGE"))
        #expect(text[1].hasPrefix("ok    1    1 d  1        ") && text[1].contains("changed      ") && !text[1].contains("STALE"))
        #expect(text[2].contains("STALE: last success 9 days ago (threshold 7); last error: HTTP 500"))
        #expect(text[3].contains("SNAPSHOT truncated"))
        #expect(text[4].contains("SNAPSHOT missing"))
        #expect(text[5].hasPrefix("new   -") && text[5].hasSuffix("never synced"))
        #expect(text.contains("feeds: 5 configured, 4 need attention; orphan files: 1"))
        let fine = try FeedListing(feeds: ["ok"], states: states, folder: f.path, incrementalDays: 7, now: now)
        #expect(!fine.needsAttention)
    }
}

@Suite struct LocatorTests {
    @Test func pathsFeedIDsAndTheStoreGeneration() throws {
        #expect(SnapshotLocator.isPath("snapshots/a.1.fsnap") && SnapshotLocator.isPath("a.1.fsnap") && SnapshotLocator.isPath("./x"))
        #expect(!SnapshotLocator.isPath("airbnb.sea-view"))
        let f = try Folder()
        try f.put("a.1.fsnap", try snapshotBytes("a", 1, []))
        try f.put("a.3.fsnap", try snapshotBytes("a", 3, []))
        try f.put("b.2.fsnap", try snapshotBytes("a", 2, []))   // holds another feed
        let states = ["a": FeedState(id: "a", snapshotGeneration: 1), "b": FeedState(id: "b", snapshotGeneration: 2)]
        let a = try SnapshotLocator.locate(feedID: "a", configuredFeeds: ["a", "b", "c"], configPath: "f.yml", folder: f.path, states: states)
        #expect(a == .init(path: f.path + "/a.1.fsnap", storeGeneration: 1, note: nil))
        let newest = try SnapshotLocator.locate(feedID: "a", configuredFeeds: ["a"], configPath: "f.yml", folder: f.path, states: nil)
        #expect(newest.path == f.path + "/a.3.fsnap" && newest.storeGeneration == nil && newest.note != nil)
        #expect(throws: SnapshotLocator.Failure.self) {
            _ = try SnapshotLocator.locate(feedID: "x", configuredFeeds: ["a"], configPath: "f.yml", folder: f.path, states: states)
        }
        #expect(throws: SnapshotLocator.Failure.self) {
            _ = try SnapshotLocator.locate(feedID: "c", configuredFeeds: ["c"], configPath: "f.yml", folder: f.path, states: states)
        }
        let b = try SnapshotLocator.locate(feedID: "b", configuredFeeds: ["b"], configPath: "f.yml", folder: f.path, states: states)
        let error = #expect(throws: SnapshotError.self) { _ = try SnapshotInspection.load(b, now: 0, checkName: true) }
        #expect(error?.code == .feedMismatch && error?.reason == "feed mismatch: file holds feed \"a\", expected \"b\"")
        #expect(try SnapshotInspection.load(b, now: 0, checkName: false).header.feedID == "a")
    }
}
