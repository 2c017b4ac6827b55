import FeedHash
import FeedModel
import Testing
@testable import Records

@Suite("JSON and CSV records")
struct RecordsFormatTests {
    static let race = """
        {"race": {"name": "City Run", "events": [
          {"event_id": 101, "name": "Marathon", "start_time": "7/12/2025 07:00", "end_time": "7/12/2025 13:00", "last_modified": 1},
          {"event_id": 102, "name": "10K", "start_time": "12/5/2026 09:00", "end_time": "12/5/2026 11:00", "last_modified": 2},
          {"event_id": 12345678901234567, "name": "Kids", "start_time": "12/6/2026 9:00", "last_modified": 3, "extra": {"b": 1.0, "a": [true, null]}}
        ]}}
        """

    func format(_ kind: RecordsFormat.Kind, _ mapping: RecordMapping, zone: String = "America/New_York") -> RecordsFormat {
        RecordsFormat(kind, settings: FormatSettings(timeZone: "UTC", feedTimeZone: zone, mapping: mapping))
    }

    func format(_ mapping: RecordMapping, zone: String = "America/New_York") -> RecordsFormat {
        format(.json, mapping, zone: zone)
    }

    static let raceMapping = RecordMapping(records: "/race/events", key: ["event_id"], start: "start_time", end: "end_time",
                                           timeFormat: "%m/%d/%Y %H:%M", summary: "name", volatile: ["last_modified"])

    @Test("records by pointer, keys as written, times in the feed's zone, canonical bodies without volatile fields")
    func jsonRecords() throws {
        let parsed = try format(Self.raceMapping).parse(Array(Self.race.utf8))
        #expect(parsed.records.map(\.key) == ["101", "102", "12345678901234567"])
        let r = parsed.records[1]
        // 2026-12-05 09:00 in New York (EST, UTC-5) is 14:00 UTC.
        #expect(r.start == 1_796_479_200 && r.end == 1_796_486_400 && r.lastEnd == 1_796_486_400)
        #expect(r.summary == "10K" && r.hasTimes && !r.allDay)
        #expect(r.data == #"{"end_time":"12/5/2026 11:00","event_id":102,"name":"10K","start_time":"12/5/2026 09:00"}"#)
        #expect(r.hash == XXH3.hash64(r.body))
        // A start and no end: the start is the end.
        #expect(parsed.records[2].lastEnd == parsed.records[2].start)
        #expect(parsed.records[2].data?.contains(#""extra":{"a":[true,null],"b":1}"#) == true)
    }

    @Test("key order, whitespace, number spelling and volatile fields change no hash; a value does")
    func hashes() throws {
        let f = format(Self.raceMapping)
        let a = try f.parse(Array(Self.race.utf8)).records.map(\.hash)
        let reordered = """
            {"race":{"events":[{"name":"Marathon","event_id":101.0,"end_time":"7/12/2025 13:00","start_time":"7/12/2025 07:00","last_modified":9},
            {"last_modified": 8, "event_id":1.02e2,"name":"10K","start_time":"12/5/2026 09:00","end_time":"12/5/2026 11:00"},
            {"extra":{"a":[true,null],"b":1},"name":"Kids","event_id":12345678901234567,"start_time":"12/6/2026 9:00"}],"name":"City Run"}}
            """
        let b = try f.parse(Array(reordered.utf8))
        #expect(b.records.map(\.hash) == a)
        // The key is the value as written: 101.0 is another key than 101.
        #expect(b.records.map(\.key) == ["101.0", "1.02e2", "12345678901234567"])
        let edited = Self.race.replacingOccurrences(of: "\"10K\"", with: "\"10 K\"")
        #expect(try f.parse(Array(edited.utf8)).records.map(\.hash) != a)
        // The fingerprint leaves the volatile fields out too.
        let stamped = Self.race.replacingOccurrences(of: "\"last_modified\": 2", with: "\"last_modified\": 77")
        #expect(f.fingerprint(Array(stamped.utf8)) == f.fingerprint(Array(Self.race.utf8)))
        #expect(f.fingerprint(Array(edited.utf8)) != f.fingerprint(Array(Self.race.utf8)))
    }

    @Test("a `*` segment takes every element; keys from several fields and dotted paths")
    func wildcardAndCompositeKeys() throws {
        let body = #"[{"event": 1, "participants": [{"user": {"user_id": 7}, "bib": "A"}, {"user": {"user_id": 8}, "bib": "B"}]}, {"event": 2}, {"event": 3, "participants": [{"user": {"user_id": 7}, "bib": "C"}]}]"#
        let f = format(RecordMapping(records: "/*/participants", key: ["user.user_id", "bib"]))
        let parsed = try f.parse(Array(body.utf8))
        #expect(parsed.records.map(\.key) == ["7|A", "8|B", "7|C"])
        #expect(parsed.records.allSatisfy { !$0.hasTimes && $0.lastEnd == nil && $0.isFuture(now: .max - 1) })
    }

    @Test("what fails a feed: a missing key, a bad time, no records array, a non-object record", arguments: [
        (#"{"race":{"events":[{"event_id":1},{"name":"x"}]}}"#, "record 2 (/race/events/1) has no key `event_id`"),
        (#"{"race":{"events":[{"event_id":1,"start_time":"soon"}]}}"#, "record 1 (/race/events/0): `start_time` \"soon\" does not match time_format %m/%d/%Y %H:%M"),
        (#"{"race":{"name":"x"}}"#, "records `/race/events`: /race has no `events`"),
        (#"{"race":{"events":{"a":1}}}"#, "records `/race/events`: /race/events is an object, not an array of records"),
        (#"{"race":{"events":[1]}}"#, "record 1 (/race/events/0) is a number, not an object"),
        (#"{"race":{"events":[{"event_id":null}]}}"#, "record 1 (/race/events/0) has no key `event_id`"),
    ])
    func failures(_ body: String, _ message: String) {
        let e = #expect(throws: FeedFormatError.self) { _ = try format(Self.raceMapping).parse(Array(body.utf8)) }
        #expect(e?.message == message)
    }

    @Test("shared keys: identical copies merged, different ones kept apart, with a warning")
    func duplicates() throws {
        let body = #"[{"id":1,"v":"a"},{"id":1,"v":"a"},{"id":1,"v":"b"},{"id":2}]"#
        let parsed = try format(RecordMapping(key: ["id"])).parse(Array(body.utf8))
        #expect(parsed.records.count == 3 && parsed.records.filter { $0.uid == "1" }.count == 2)
        #expect(parsed.warnings == ["3 records share the key 1; kept as 2 records"])
    }

    @Test("time formats: iso8601 with and without offsets, bare dates all-day, unix, unix_ms")
    func times() throws {
        let body = #"[{"id":"a","s":"2026-12-01T10:00:00Z"},{"id":"b","s":"2026-12-01T10:00:00+02:00"},{"id":"c","s":"2026-07-01 10:00"},{"id":"d","s":"2026-12-01"}]"#
        let iso = try format(RecordMapping(key: ["id"], start: "s"), zone: "Europe/Lisbon").parse(Array(body.utf8)).records
        #expect(iso.map(\.start) == [1_796_119_200, 1_796_112_000, 1_782_896_400, 1_796_083_200])
        #expect(iso[3].allDay && iso[3].startDate == "2026-12-01")
        let unix = #"[{"id":"a","s":1796119200},{"id":"b","s":"1796119200"},{"id":"c","s":1796119200500}]"#
        let u = try format(RecordMapping(key: ["id"], start: "s", timeFormat: "unix")).parse(Array(unix.utf8)).records
        #expect(u[0].start == 1_796_119_200 && u[1].start == 1_796_119_200 && u[2].start == 1_796_119_200_500)
        let ms = try format(RecordMapping(key: ["id"], start: "s", timeFormat: "unix_ms")).parse(Array(#"[{"id":"c","s":1796119200500}]"#.utf8)).records
        #expect(ms[0].start == 1_796_119_200)
    }

    @Test("CSV rows are records: quoted fields, embedded newlines and delimiters, another delimiter")
    func csv() throws {
        let body = "id,name,start,notes\r\n1,\"Smith, Ann\",2026-12-01T10:00:00Z,\"line one\nline \"\"two\"\"\"\r\n2,Bob,,\n"
        let f = format(.csv, RecordMapping(key: ["id"], start: "start", summary: "name"))
        let parsed = try f.parse(Array(body.utf8))
        #expect(parsed.records.map(\.key) == ["1", "2"])
        #expect(parsed.records[0].summary == "Smith, Ann" && parsed.records[0].start == 1_796_119_200)
        #expect(parsed.records[0].data == #"{"id":"1","name":"Smith, Ann","notes":"line one\nline \"two\"","start":"2026-12-01T10:00:00Z"}"#)
        #expect(!parsed.records[1].hasTimes)
        let semi = format(.csv, RecordMapping(key: ["id"], delimiter: UInt8(ascii: ";")))
        #expect(try semi.parse(Array("id;x\n1;a,b\n".utf8)).records.first?.data == #"{"id":"1","x":"a,b"}"#)
    }

    @Test("malformed CSV fails with the line", arguments: [
        ("id,name\n1,\"open\n", "CSV: unterminated quoted field", 2),
        ("id,name\n1,a,b\n", "CSV: a row of 3 fields; the header has 2", 2),
        ("id,id\n1,2\n", "CSV: the header row names `id` twice", 1),
        ("id,name\n1,\"a\"b\n", "CSV: text after the closing quote of a field", 2),
    ] as [(String, String, Int)])
    func csvFailures(_ body: String, _ message: String, _ line: Int) {
        let e = #expect(throws: FeedFormatError.self) { _ = try format(.csv, RecordMapping(key: ["id"])).parse(Array(body.utf8)) }
        #expect(e?.message == message && e?.line == line)
    }

    @Test("sniffing: JSON starts with { or [; CSV is not HTML, JSON or binary")
    func sniff() {
        let json = format(RecordMapping(key: ["id"])), csv = format(.csv, RecordMapping(key: ["id"]))
        #expect(json.sniff(Array(" \n[1]".utf8)) && json.sniff(Array("{}".utf8)) && !json.sniff(Array("<html>".utf8)) && !json.sniff([]))
        #expect(csv.sniff(Array("id,name\n".utf8)) && !csv.sniff(Array("<!DOCTYPE html>".utf8)) && !csv.sniff(Array("{\"a\":1}".utf8)))
        #expect(!csv.sniff([0x69, 0x64, 0x00]))
    }
}
