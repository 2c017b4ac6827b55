import Foundation
import GRDB
import PostgresTestSupport
import Testing

/// The database answers the questions people ask (docs/store.md, "Example queries"): the queries
/// of the documentation, as written there, run on stores the real binary wrote over two nights,
/// SQLite and PostgreSQL.
@Suite("The store answers people's questions, end to end", .serialized)
struct QueryableStoreTests {
    static let feeds = """
        feeds:
          - id: loft
            url: feeds/loft.ics
            property: Harbour Loft
            timezone: Pacific/Auckland
          - id: room
            url: feeds/room.ics
            property: Brooklyn Room
            timezone: America/New_York

        """

    /// Airbnb-style all-day stays in Auckland.
    static func loft(night: Int) -> String {
        var events: [[String]] = [
            night == 1 ? ["UID:l1", "DTSTART;VALUE=DATE:20261207", "DTEND;VALUE=DATE:20261210", "SUMMARY:Reserved"]
                       : ["UID:l1", "DTSTART;VALUE=DATE:20261208", "DTEND;VALUE=DATE:20261211", "SUMMARY:Reserved"],
            ["UID:l2", "DTSTART;VALUE=DATE:20261212", "DTEND;VALUE=DATE:20261215", "SUMMARY:Reserved"],
        ]
        if night == 1 { events.append(["UID:l3", "DTSTART;VALUE=DATE:20261220", "DTEND;VALUE=DATE:20261222", "SUMMARY:Reserved"]) }
        return calendar(events)
    }

    /// A New York room: a cleaning series (one occurrence cancelled, one moved), and two UTC
    /// events whose New York days are not their UTC days.
    static func room() -> String {
        calendar([
            ["UID:clean", "DTSTART;TZID=America/New_York:20261103T090000", "DTEND;TZID=America/New_York:20261103T100000",
             "RRULE:FREQ=WEEKLY;BYDAY=TU,TH", "SUMMARY:Cleaning"],
            ["UID:clean", "RECURRENCE-ID;TZID=America/New_York:20261208T090000", "DTSTART;TZID=America/New_York:20261208T090000",
             "DTEND;TZID=America/New_York:20261208T100000", "STATUS:CANCELLED", "SUMMARY:Cleaning"],
            ["UID:clean", "RECURRENCE-ID;TZID=America/New_York:20261215T090000", "DTSTART;TZID=America/New_York:20261212T110000",
             "DTEND;TZID=America/New_York:20261212T120000", "SUMMARY:Cleaning (moved)"],
            ["UID:late", "DTSTART:20261208T030000Z", "DTEND:20261208T040000Z", "SUMMARY:Late check-in"],
            ["UID:early", "DTSTART:20261214T020000Z", "DTEND:20261214T030000Z", "SUMMARY:Early arrival"],
        ])
    }

    static func calendar(_ events: [[String]]) -> String {
        var lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//t//EN"]
        for e in events { lines += ["BEGIN:VEVENT", "DTSTAMP:20261101T000000Z"] + e + ["END:VEVENT"] }
        return (lines + ["END:VCALENDAR"]).joined(separator: "\r\n") + "\r\n"
    }

    /// The SQL blocks of docs/store.md, by their first line (a comment).
    static func documentedQueries() throws -> [String: String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/store.md"), encoding: .utf8)
        var result: [String: String] = [:]
        for block in text.components(separatedBy: "```sql\n").dropFirst() {
            let sql = block.components(separatedBy: "```")[0]
            let first = String(sql.prefix { $0 != "\n" })
            if first.hasPrefix("-- ") { result[first] = sql }
        }
        return result
    }

    static let nextWeek = "-- what is booked at each property next week (its local days 2026-12-07 to 2026-12-13), occurrences of series included"
    static let fromNow = "-- the bookings of a property from now on (events: one row per event, a series once)"
    static let lastNight = "-- what last night changed, with the values before and after"

    /// The next-week answer, the same on both stores: (property, start_date, end_date, all_day, summary).
    static func expectedNextWeek(night: Int) -> [String] {
        [
            "Brooklyn Room 2026-12-07 2026-12-08 0 Late check-in",     // 03:00 UTC on the 8th
            "Brooklyn Room 2026-12-10 2026-12-11 0 Cleaning",          // the 8th is cancelled
            "Brooklyn Room 2026-12-12 2026-12-13 0 Cleaning (moved)",  // the 15th's, moved
            "Brooklyn Room 2026-12-13 2026-12-14 0 Early arrival",     // 02:00 UTC on the 14th
            night == 1 ? "Harbour Loft 2026-12-07 2026-12-10 1 Reserved" : "Harbour Loft 2026-12-08 2026-12-11 1 Reserved",
            "Harbour Loft 2026-12-12 2026-12-15 1 Reserved",
        ]
    }

    @Test("SQLite: next week's occurrences across zones, a series and its overrides; last night's changes with old and new values")
    func sqlite() throws {
        let queries = try Self.documentedQueries()
        let nextWeek = try #require(queries[Self.nextWeek]), fromNow = try #require(queries[Self.fromNow])
        let lastNight = try #require(queries[Self.lastNight])
        let h = try Harness("queries")
        defer { h.cleanUp() }
        try h.write("feedsync.yml", "store: sqlite:feedsync.sqlite\nsnapshots: snapshots\n" + Self.feeds)
        try h.write("feeds/loft.ics", Self.loft(night: 1))
        try h.write("feeds/room.ics", Self.room())
        let (r1, rep1) = try h.night("2026-12-03T02:00:00Z")
        #expect(r1.status == 0, "\(r1.stderr)")
        #expect(rep1["loft"].added == 3 && rep1["room"].added == 5)
        func answer(_ sql: String) throws -> [String] {
            try h.rows(sql).map { row in
                (0..<row.count).map { i in (row[i] as DatabaseValue).storage.value.map { "\($0)" } ?? "NULL" }.joined(separator: " ")
            }
        }
        #expect(try answer(nextWeek) == Self.expectedNextWeek(night: 1))
        // A UTC window on the instants misses the Auckland stay that starts on the 7th there.
        let utc = try h.rows("""
            SELECT count(*) AS n FROM occurrences WHERE feed_id = 'loft'
              AND start_ts >= strftime('%s', '2026-12-07T00:00:00Z') AND start_ts < strftime('%s', '2026-12-14T00:00:00Z')
            """)[0]["n"] as Int
        #expect(utc == 1)
        // Every row has its instants and local days; the series is materialised 400 days ahead.
        #expect(try h.rows("SELECT count(*) AS n FROM events WHERE end_ts IS NULL OR start_date IS NULL OR end_date IS NULL")[0]["n"] as Int == 0)
        let late = try h.rows("SELECT start_ts, end_ts, start_date, end_date, last_end FROM events WHERE uid = 'late'")[0]
        #expect(late["start_ts"] == 1_796_698_800 as Int64 && late["end_ts"] == 1_796_702_400 as Int64)
        let lateDays: [String?] = [late["start_date"], late["end_date"], late["last_end"]]
        #expect(lateDays == ["2026-12-07", "2026-12-08", "2026-12-08T04:00:00Z"])
        let stay = try h.rows("SELECT start, start_ts, end_ts, start_date, last_end FROM events WHERE uid = 'l1'")[0]
        let stayDays: [String?] = [stay["start"], stay["start_date"]]
        #expect(stayDays == ["2026-12-07", "2026-12-07"])
        #expect(stay["start_ts"] == 1_796_554_800 as Int64 && stay["end_ts"] == 1_796_814_000 as Int64)  // 11:00Z the day before
        #expect(stay["last_end"] == "2026-12-09T11:00:00Z")  // the instant, as `parse --json` says
        let last = try h.rows("SELECT max(start_date) AS d, count(*) AS n FROM occurrences WHERE record_key = 'clean'")[0]
        #expect((last["d"] as String) >= "2028-01-07" && (last["n"] as Int) > 110)
        #expect(try h.rows("SELECT cancelled FROM occurrences WHERE uid = 'clean' AND start_date = '2026-12-08'")
                    .map { $0["cancelled"] as Int } == [1])
        #expect(try h.rows("SELECT count(*) AS n FROM occurrences WHERE record_key = 'clean' AND start_date = '2026-12-15'")[0]["n"] as Int == 0)
        #expect(try answer(fromNow).count == 3)
        let parsed = try h.run(["parse", "--json", "--timezone", "Pacific/Auckland", "--now", "2026-12-03T02:00:00Z", "feeds/loft.ics"])
        #expect(parsed.stdout.contains(#""start_date":"2026-12-07","end_date":"2026-12-10","last_end":"2026-12-09T11:00:00Z""#))

        // Night 2: a stay moves a day, another is cancelled (gone from the feed).
        try h.write("feeds/loft.ics", Self.loft(night: 2))
        let (r2, rep2) = try h.night("2026-12-04T02:00:00Z")
        #expect(r2.status == 0 && rep2["loft"].updated == 1 && rep2["loft"].removed == 1 && rep2["room"].sync_type == "none")
        #expect(try answer(nextWeek) == Self.expectedNextWeek(night: 2))
        #expect(try h.rows("SELECT count(*) AS n FROM occurrences WHERE record_key = 'l3'")[0]["n"] as Int == 0)
        let changes = try h.rows(lastNight)
        let summary = changes.map { (c: Row) -> String in
            let uid: String = c["uid"], kind: String = c["kind"]
            let old: String? = c["old_start"], new: String? = c["new_start"]
            return "\(uid) \(kind) \(old ?? "NULL") \(new ?? "NULL")"
        }
        #expect(summary == ["l1 updated 2026-12-07 2026-12-08", "l3 removed 2026-12-20 NULL"])
        let moved = try JSONSerialization.jsonObject(with: Data((changes[0]["old_values"] as String).utf8)) as? NSDictionary
        #expect(moved == ["start": "2026-12-07", "end": "2026-12-10", "start_date": "2026-12-07", "end_date": "2026-12-10",
                          "last_end": "2026-12-09T11:00:00Z"] as NSDictionary)
        let gone = try JSONSerialization.jsonObject(with: Data((changes[1]["old_values"] as String).utf8)) as? NSDictionary
        #expect(gone?["summary"] as? String == "Reserved" && gone?["end"] as? String == "2026-12-22" && changes[1]["new_values"] == nil as String?)
    }

    @Test("PostgreSQL: the same questions in its dialect give the same answers")
    func postgres() async throws {
        let queries = try Self.documentedQueries()
        let nextWeek = try #require(queries[Self.nextWeek + " (PostgreSQL)"])
        let fromNow = try #require(queries["-- the bookings of a property from now on (PostgreSQL)"])
        let lastNight = try #require(queries[Self.lastNight + " (PostgreSQL)"])
        let url = try await PostgresTestServer.shared.newDatabase("queries")
        let h = try Harness("queries-pg")
        defer { h.cleanUp() }
        try h.write("feedsync.yml", "store: \(url)\n" + Self.feeds)
        try h.write("feeds/loft.ics", Self.loft(night: 1))
        try h.write("feeds/room.ics", Self.room())
        let (r1, _) = try h.night("2026-12-03T02:00:00Z")
        #expect(r1.status == 0, "\(r1.stderr)")
        func answer(_ sql: String) async throws -> [String] {
            try await PostgresTestServer.shared.rows(sql, url: url).map { row in
                row.map { (v: String?) -> String in v == "t" ? "1" : v == "f" ? "0" : v ?? "NULL" }.joined(separator: " ")
            }
        }
        #expect(try await answer(nextWeek) == Self.expectedNextWeek(night: 1))
        #expect(try await answer(fromNow).count == 3)
        try h.write("feeds/loft.ics", Self.loft(night: 2))
        let (r2, _) = try h.night("2026-12-04T02:00:00Z")
        #expect(r2.status == 0, "\(r2.stderr)")
        #expect(try await answer(nextWeek) == Self.expectedNextWeek(night: 2))
        let changes = try await PostgresTestServer.shared.rows(lastNight, url: url)
        let summary = changes.map { (c: [String?]) -> String in
            [c[1], c[2], c[3] ?? "NULL", c[4] ?? "NULL"].map { $0 ?? "" }.joined(separator: " ")
        }
        #expect(summary == ["l1 updated 2026-12-07 2026-12-08", "l3 removed 2026-12-20 NULL"])
        let moved = try JSONSerialization.jsonObject(with: Data(changes[0][5]!.utf8)) as? NSDictionary
        #expect(moved == ["start": "2026-12-07", "end": "2026-12-10", "start_date": "2026-12-07", "end_date": "2026-12-10",
                          "last_end": "2026-12-09T11:00:00Z"] as NSDictionary)
    }
}

/// The `occurrences` table over nights: the horizon moves forward, a store from before the table
/// is filled in, and the table can be turned off.
@Suite("Occurrences over nights, end to end", .serialized)
struct OccurrenceNightTests {
    static let series = QueryableStoreTests.calendar([
        ["UID:yoga", "DTSTART;TZID=Europe/Lisbon:20261102T180000", "DTEND;TZID=Europe/Lisbon:20261102T190000",
         "RRULE:FREQ=WEEKLY;BYDAY=MO", "SUMMARY:Yoga"],
        ["UID:once", "DTSTART:20261210T120000Z", "DTEND:20261210T130000Z", "SUMMARY:Once"],
    ])

    func last(_ h: Harness) throws -> String {
        try h.rows("SELECT max(start_date) AS d FROM occurrences")[0]["d"] as String? ?? ""
    }

    @Test("an unchanged feed is skipped while its occurrences reach the horizon, then read once to extend them: no change logged, snapshot kept")
    func horizonMoves() throws {
        let h = try Harness("horizon")
        defer { h.cleanUp() }
        try h.write("feedsync.yml", """
            incremental_days: 90
            occurrence_horizon_days: 30
            feeds:
              - id: cal
                url: feeds/cal.ics

            """)
        try h.write("feeds/cal.ics", Self.series)
        let (r1, rep1) = try h.night("2026-12-03T02:00:00Z")
        #expect(r1.status == 0 && rep1["cal"].added == 2)
        // 30 days and the 30-day margin: Mondays (18:00 in Lisbon) before 2027-02-01T02:00Z.
        #expect(try last(h) == "2027-01-25")
        let until1 = try h.rows("SELECT occurrences_until FROM feeds")[0]["occurrences_until"] as Int64
        #expect(until1 == 1_801_447_200)  // 2027-02-01T02:00:00Z
        let generation = try h.snapshotFiles()

        // Ten days on: still 50 days ahead, more than the horizon; the feed is skipped.
        let (_, rep2) = try h.night("2026-12-13T02:00:00Z")
        #expect(rep2["cal"].sync_type == "none" && rep2["cal"].reason == "body fingerprint unchanged")
        #expect(try last(h) == "2027-01-25")

        // Forty days on: 20 days ahead, less than the horizon; the feed is read and extended.
        let (r3, rep3) = try h.night("2027-01-12T02:00:00Z")
        #expect(r3.status == 0 && rep3["cal"].sync_type == "incremental")
        #expect(rep3["cal"].reason.hasPrefix("read to materialise its occurrences until 2027-03-13"))
        #expect(rep3["cal"].added == 0 && rep3["cal"].updated == 0 && rep3["cal"].removed == 0)
        #expect(try last(h) == "2027-03-08")
        #expect(try h.rows("SELECT count(*) AS n FROM changes WHERE run_id = 3")[0]["n"] as Int == 0)
        #expect(try h.snapshotFiles() == generation, "the snapshot is kept")
        // Past occurrences stay, as history: every Monday from the first night on is there once.
        let mondays = try h.rows("SELECT start_date FROM occurrences WHERE uid = 'yoga' ORDER BY start_ts").map { $0["start_date"] as String }
        #expect(mondays.first == "2026-12-07" && mondays.count == 14 && Set(mondays).count == 14)
        #expect(try h.rows("SELECT count(*) AS n FROM occurrences WHERE uid = 'once'")[0]["n"] as Int == 1)
        // The next night it is skipped again.
        let (_, rep4) = try h.night("2027-01-13T02:00:00Z")
        #expect(rep4["cal"].sync_type == "none")
    }

    @Test("a store from before the table: the next night reads every feed once, fills the new columns and the occurrences, logs nothing")
    func storeFromBefore() throws {
        let h = try Harness("before")
        defer { h.cleanUp() }
        try h.write("feedsync.yml", "feeds:\n  - id: cal\n    url: feeds/cal.ics\n    timezone: Europe/Lisbon\n")
        try h.write("feeds/cal.ics", Self.series)
        let (r1, _) = try h.night("2026-12-03T02:00:00Z")
        #expect(r1.status == 0)
        let before = try h.rows("SELECT record_key, end_ts, start_date, end_date FROM events ORDER BY record_key").map { $0.description }
        // What migration v4 leaves of a version 3 store: timed rows without local days, no occurrences.
        try h.db().write { db in
            try db.execute(sql: "UPDATE events SET start_date = NULL, end_date = NULL")
            try db.execute(sql: "DELETE FROM occurrences")
            try db.execute(sql: "UPDATE feeds SET occurrences_until = NULL")
        }
        let (r2, rep2) = try h.night("2026-12-04T02:00:00Z")
        #expect(r2.status == 0 && rep2["cal"].sync_type == "incremental" && rep2["cal"].added == 0 && rep2["cal"].updated == 0)
        #expect(try h.rows("SELECT record_key, end_ts, start_date, end_date FROM events ORDER BY record_key").map { $0.description } == before)
        #expect(try h.rows("SELECT count(*) AS n FROM occurrences")[0]["n"] as Int > 50)
        #expect(try h.rows("SELECT count(*) AS n FROM changes WHERE run_id = 2")[0]["n"] as Int == 0)
    }

    @Test("occurrence_horizon_days: 0 empties a feed's future occurrences; turned on again, they come back")
    func turnedOff() throws {
        let h = try Harness("off")
        defer { h.cleanUp() }
        let feeds = "feeds:\n  - id: cal\n    url: feeds/cal.ics\n"
        try h.write("feedsync.yml", feeds)
        try h.write("feeds/cal.ics", Self.series)
        _ = try h.night("2026-12-03T02:00:00Z")
        #expect(try h.rows("SELECT count(*) AS n FROM occurrences")[0]["n"] as Int > 50)
        try h.write("feedsync.yml", "occurrence_horizon_days: 0\n" + feeds)
        let (r2, _) = try h.night("2026-12-04T02:00:00Z")
        #expect(r2.status == 0)
        #expect(try h.rows("SELECT count(*) AS n FROM occurrences WHERE end_ts > strftime('%s', '2026-12-04T02:00:00Z')")[0]["n"] as Int == 0)
        #expect(try h.rows("SELECT occurrences_until FROM feeds")[0]["occurrences_until"] as Int64? == nil)
        try h.write("feedsync.yml", feeds)
        _ = try h.night("2026-12-05T02:00:00Z")
        #expect(try h.rows("SELECT count(*) AS n FROM occurrences WHERE end_ts > strftime('%s', '2026-12-05T02:00:00Z')")[0]["n"] as Int > 50)
    }

    @Test("a feed of strangers' rules cannot fill the table: at most 200,000 occurrences, with a warning")
    func bounded() throws {
        let h = try Harness("bounded")
        defer { h.cleanUp() }
        try h.write("feedsync.yml", "feeds:\n  - id: cal\n    url: feeds/cal.ics\n")
        let events = (0..<30).map { i in
            ["UID:m\(i)", "DTSTART:20261201T0000\(String(format: "%02d", i))Z", "DTEND:20261201T0001\(String(format: "%02d", i))Z",
             "RRULE:FREQ=MINUTELY", "SUMMARY:m"]
        }
        try h.write("feeds/cal.ics", QueryableStoreTests.calendar(events))
        let (r, rep) = try h.night("2026-12-03T02:00:00Z")
        #expect(r.status == 0)
        let n: Int = try h.rows("SELECT count(*) AS n FROM occurrences")[0]["n"]
        #expect(n <= 200_000 && n >= 190_000)
        let warned = (rep["cal"].warnings ?? []).contains { $0.contains("more than 200000 occurrences") }
        #expect(warned)
    }
}
