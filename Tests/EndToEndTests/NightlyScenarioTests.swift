import Foundation
import GRDB
import Testing

/// Several nights of four provider-shaped feeds, run through the real binary.
@Suite("Nightly runs, end to end", .serialized)
struct NightlyScenarioTests {
    static let config = """
        store: sqlite:feedsync.sqlite
        snapshots: snapshots
        timezone: Europe/Berlin
        feeds:
          - id: airbnb
            url: feeds/airbnb.ics
            property: Flat 1
          - id: vrbo
            url: feeds/vrbo.ics
          - id: booking
            url: feeds/booking.ics
          - id: google
            url: feeds/google.ics
            timezone: Europe/Berlin
        """

    // Airbnb: all-day reservations, CRLF, folded descriptions.
    static func airbnb(a1Summary: String = "Reserved", a3Summary: String = "Reserved", withA4: Bool = true, withA6: Bool = false, allButOne: Bool = false) -> ICS {
        var ics = ICS(prodid: "-//Airbnb Inc//Hosting Calendar 0.8.8//EN")
        func res(_ uid: String, _ start: String, _ end: String, _ summary: String) -> [String] {
            ["DTEND;VALUE=DATE:\(end)", "DTSTART;VALUE=DATE:\(start)", "UID:\(uid)@airbnb.com",
             "DESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/details/\(uid.uppercased())\\nPhone Number (Last 4 Digits): 1234",
             "SUMMARY:\(summary)", "DTSTAMP:$STAMP"]
        }
        ics.event(res("a1", "20261020", "20261025", a1Summary))       // past
        if !allButOne {
            ics.event(res("a2", "20261110", "20261115", "Reserved"))
            ics.event(res("a3", "20261201", "20261205", a3Summary))
            if withA4 { ics.event(res("a4", "20261220", "20261227", "Reserved")) }
        }
        ics.event(res("a5", "20270105", "20270110", "Airbnb (Not available)"))
        if withA6 { ics.event(res("a6", "20270201", "20270207", "Reserved")) }
        return ics
    }

    // VRBO: CRLF, DTSTAMP before DTSTART.
    static func vrbo() -> ICS {
        var ics = ICS(prodid: "-//HomeAway.com, Inc.//EN")
        ics.event(["UID:v1-aaaa", "DTSTAMP:$STAMP", "DTSTART;VALUE=DATE:20261001", "DTEND;VALUE=DATE:20261004", "SUMMARY:Reserved - Ana"])
        ics.event(["UID:v2-bbbb", "DTSTAMP:$STAMP", "DTSTART;VALUE=DATE:20261215", "DTEND;VALUE=DATE:20261219", "SUMMARY:Reserved - Tom"])
        ics.event(["UID:v3-cccc", "DTSTAMP:$STAMP", "DTSTART;VALUE=DATE:20270310", "DTEND;VALUE=DATE:20270317", "SUMMARY:Blocked"])
        return ics
    }

    // Booking.com: bare LF.
    static func booking(withB3: Bool = true, withB4: Bool = false) -> ICS {
        var ics = ICS(prodid: "-//Booking.com//Booking.com Calendar//EN", crlf: false, extra: ["METHOD:PUBLISH"])
        ics.event(["DTSTAMP:$STAMP", "DTSTART;VALUE=DATE:20261203", "DTEND;VALUE=DATE:20261206", "UID:b1@booking.com", "SUMMARY:CLOSED - Not available"])
        ics.event(["DTSTAMP:$STAMP", "DTSTART;VALUE=DATE:20270115", "DTEND;VALUE=DATE:20270119", "UID:b2@booking.com", "SUMMARY:CLOSED - Not available"])
        if withB3 { ics.event(["DTSTAMP:$STAMP", "DTSTART;VALUE=DATE:20261005", "DTEND;VALUE=DATE:20261008", "UID:b3@booking.com", "SUMMARY:CLOSED - Not available"]) }
        if withB4 { ics.event(["DTSTAMP:$STAMP", "DTSTART;VALUE=DATE:20270220", "DTEND;VALUE=DATE:20270222", "UID:b4@booking.com", "SUMMARY:CLOSED - Not available"]) }
        return ics
    }

    // Google: VTIMEZONE, a weekly series begun in the past, an override, escaped and folded text.
    static func google(overrideSummary: String = "Team sync (moved)", crlf: Bool = true, foldAt: Int = 75, empty: Bool = false) -> ICS {
        var ics = ICS(prodid: "-//Google Inc//Google Calendar 70.9054//EN", crlf: crlf, extra: [
            "METHOD:PUBLISH", "X-WR-CALNAME:Ops", "X-WR-TIMEZONE:Europe/Berlin",
            "BEGIN:VTIMEZONE", "TZID:Europe/Berlin",
            "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST", "DTSTART:19700329T020000",
            "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT",
            "BEGIN:STANDARD", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET", "DTSTART:19701025T030000",
            "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD", "END:VTIMEZONE",
        ])
        ics.foldAt = foldAt
        if !empty {
            ics.event(["DTSTART;TZID=Europe/Berlin:20260907T100000", "DTEND;TZID=Europe/Berlin:20260907T110000",
                       "RRULE:FREQ=WEEKLY;BYDAY=MO", "DTSTAMP:$STAMP", "UID:series-1@google.com",
                       "DESCRIPTION:Agenda: bookings\\, cleaning\\; keys.\\nDial-in: +49 30 1234 5678 — bring the ledger for the quarter’s reconciliation.",
                       "LOCATION:Büro\\, Raum 2", "SUMMARY:Team sync", "STATUS:CONFIRMED"])
            ics.event(["DTSTART;TZID=Europe/Berlin:20261208T140000", "DTEND;TZID=Europe/Berlin:20261208T150000",
                       "DTSTAMP:$STAMP", "UID:series-1@google.com", "RECURRENCE-ID;TZID=Europe/Berlin:20261207T100000",
                       "SUMMARY:\(overrideSummary)", "STATUS:CONFIRMED"])
            ics.event(["DTSTART:20261002T080000Z", "DTEND:20261002T090000Z", "DTSTAMP:$STAMP",
                       "UID:one-off@google.com", "SUMMARY:Inspection"])
        }
        return ics
    }

    func writeAll(_ h: Harness, stamp: String, airbnb: ICS = airbnb(), vrbo: ICS = vrbo(), booking: ICS = booking(), google: ICS = google()) throws {
        try h.write("feeds/airbnb.ics", airbnb.text(stamp: stamp))
        try h.write("feeds/vrbo.ics", vrbo.text(stamp: stamp))
        try h.write("feeds/booking.ics", booking.text(stamp: stamp))
        try h.write("feeds/google.ics", google.text(stamp: stamp))
    }

    func summary(_ h: Harness, _ feed: String, _ uid: String) throws -> String? {
        try h.rows("SELECT summary FROM events WHERE feed_id = ? AND uid = ? AND recurrence_id IS NULL", [feed, uid]).first?["summary"]
    }

    func removedAt(_ h: Harness, _ feed: String, _ uid: String) throws -> String? {
        try h.rows("SELECT removed_at FROM events WHERE feed_id = ? AND uid = ?", [feed, uid]).first?["removed_at"]
    }

    func eventCount(_ h: Harness) throws -> [String: Int] {
        var out: [String: Int] = [:]
        for r in try h.rows("SELECT feed_id, count(*) AS n FROM events GROUP BY feed_id") {
            out[r["feed_id"]] = r["n"]
        }
        return out
    }

    @Test("six nights: first sync, edits, churn, failures, guard, full sync, quiet night")
    func sixNights() throws {
        let h = try Harness("nights")
        defer { h.cleanUp() }
        try h.write("feedsync.yml", Self.config)

        // Night 1: first sync of every feed is full; past events are stored too.
        try writeAll(h, stamp: "20261101T020000Z")
        var (r, rep) = try h.night("2026-11-01T02:00:00Z")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(rep.mode == "incremental")
        #expect(rep.feeds_total == 4 && rep.feeds_changed == 4 && rep.feeds_failed == 0)
        for f in rep.feeds {
            #expect(f.sync_type == "full")
            #expect(f.reason == "first sync")
        }
        #expect(rep["airbnb"].added == 5)
        #expect(rep["vrbo"].added == 3)
        #expect(rep["booking"].added == 3)
        #expect(rep["google"].added == 3)
        #expect(try eventCount(h) == ["airbnb": 5, "vrbo": 3, "booking": 3, "google": 3])
        let series = try h.rows("SELECT * FROM events WHERE feed_id = 'google' AND uid = 'series-1@google.com' AND recurrence_id IS NULL")
        #expect(series.count == 1)
        #expect(series.first?["start"] == "2026-09-07T08:00:00Z")     // 10:00 CEST
        #expect(series.first?["last_end"] == nil as String?)           // unbounded series
        #expect(series.first?["description"] == "Agenda: bookings, cleaning; keys.\nDial-in: +49 30 1234 5678 — bring the ledger for the quarter’s reconciliation.")
        #expect(series.first?["location"] == "Büro, Raum 2")
        let override = try h.rows("SELECT recurrence_id, start FROM events WHERE feed_id = 'google' AND recurrence_id IS NOT NULL")
        #expect(override.first?["recurrence_id"] == "20261207T090000Z")
        #expect(override.first?["start"] == "2026-12-08T13:00:00Z")
        let allDay = try h.rows("SELECT start, \"end\", all_day FROM events WHERE feed_id = 'airbnb' AND uid = 'a3@airbnb.com'")
        #expect(allDay.first?["start"] == "2026-12-01")
        #expect(allDay.first?["end"] == "2026-12-05")
        #expect(allDay.first?["all_day"] == true)
        #expect(try h.snapshotFiles() == ["airbnb.1.fsnap", "booking.1.fsnap", "google.1.fsnap", "vrbo.1.fsnap"])

        // Night 2: airbnb adds, edits and removes future stays and edits a past one;
        // vrbo only has a new DTSTAMP; booking drops a past block; google moves an override
        // and comes refolded with LF line ends.
        try writeAll(h, stamp: "20261102T020000Z",
                     airbnb: Self.airbnb(a1Summary: "Reserved (edited late)", a3Summary: "Reserved - extended", withA4: false, withA6: true),
                     booking: Self.booking(withB3: false),
                     google: Self.google(overrideSummary: "Team sync (moved again)", crlf: false, foldAt: 40))
        (r, rep) = try h.night("2026-11-02T02:00:00Z")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(rep["airbnb"].status == "changed" && rep["airbnb"].sync_type == "incremental")
        #expect(rep["airbnb"].added == 1 && rep["airbnb"].updated == 1 && rep["airbnb"].removed == 1)
        #expect(rep["airbnb"].past_skipped == 1)
        #expect(rep["vrbo"].status == "unchanged" && rep["vrbo"].sync_type == "none")
        #expect(rep["vrbo"].reason == "body fingerprint unchanged")
        #expect(rep["booking"].sync_type == "incremental")
        #expect(rep["booking"].removed == 0 && rep["booking"].past_skipped == 1)
        #expect(rep["google"].updated == 1 && rep["google"].added == 0 && rep["google"].removed == 0)
        #expect(rep.events_added == 1 && rep.events_updated == 2 && rep.events_removed == 1)
        #expect(try summary(h, "airbnb", "a1@airbnb.com") == "Reserved")              // past edit not applied
        #expect(try summary(h, "airbnb", "a3@airbnb.com") == "Reserved - extended")
        #expect(try removedAt(h, "airbnb", "a4@airbnb.com") != nil)
        #expect(try removedAt(h, "booking", "b3@booking.com") == nil)                 // past: kept
        #expect(try h.rows("SELECT * FROM events WHERE feed_id = 'airbnb' AND uid = 'a6@airbnb.com'").count == 1)
        #expect(try h.snapshotFiles() == ["airbnb.2.fsnap", "booking.2.fsnap", "google.2.fsnap", "vrbo.1.fsnap"])
        let changes = try h.rows("SELECT kind, count(*) AS n FROM changes WHERE run_id = 2 GROUP BY kind ORDER BY kind")
        #expect(changes.map { $0["kind"] as String } == ["added", "removed", "updated"])

        // Night 3: vrbo's file is missing and booking's is cut short: each fails alone.
        try writeAll(h, stamp: "20261103T020000Z",
                     airbnb: Self.airbnb(a1Summary: "Reserved (edited late)", a3Summary: "Reserved - extended", withA4: false, withA6: true),
                     booking: Self.booking(withB3: false),
                     google: Self.google(overrideSummary: "Team sync (moved again)"))
        try h.remove("feeds/vrbo.ics")
        let full = Array(Self.booking(withB3: false).text(stamp: "20261103T020000Z").utf8)
        try h.writeBytes("feeds/booking.ics", Array(full.prefix(full.count * 2 / 3)))
        let before = try h.rows("SELECT feed_id, record_key, record_hash, removed_at FROM events ORDER BY feed_id, record_key")
        (r, rep) = try h.night("2026-11-03T02:00:00Z")
        #expect(r.status == 1)
        #expect(rep.feeds_failed == 2)
        #expect(rep["vrbo"].status == "failed")
        #expect(rep["vrbo"].error?.contains("vrbo.ics") == true)
        #expect(rep["booking"].status == "failed")
        #expect(rep["booking"].error?.contains("line") == true)
        #expect(rep["airbnb"].status == "unchanged" && rep["google"].status == "unchanged")
        #expect(r.stdout.contains("vrbo: failed"))
        let after = try h.rows("SELECT feed_id, record_key, record_hash, removed_at FROM events ORDER BY feed_id, record_key")
        #expect(before == after, "a failed feed changes nothing")
        #expect(try h.snapshotFiles().contains("vrbo.1.fsnap") && h.snapshotFiles().contains("booking.2.fsnap"))
        let states = try h.rows("SELECT id, last_status, last_error FROM feeds ORDER BY id")
        #expect(states.map { $0["last_status"] as String } == ["unchanged", "failed", "unchanged", "failed"])

        // Night 4: feeds are back; booking adds a block; google suddenly serves no events
        // (the guard refuses it); airbnb loses most of its future stays (refused too).
        try writeAll(h, stamp: "20261104T020000Z",
                     airbnb: Self.airbnb(a1Summary: "Reserved (edited late)", allButOne: true),
                     booking: Self.booking(withB3: false, withB4: true),
                     google: Self.google(empty: true))
        (r, rep) = try h.night("2026-11-04T02:00:00Z")
        #expect(r.status == 1)
        #expect(rep["vrbo"].status == "unchanged")
        #expect(rep["booking"].status == "changed" && rep["booking"].added == 1)
        #expect(rep["google"].status == "failed")
        #expect(rep["google"].error?.contains("suspicious") == true)
        #expect(rep["airbnb"].status == "failed")
        #expect(rep["airbnb"].error?.contains("would lose") == true)
        #expect(try removedAt(h, "airbnb", "a2@airbnb.com") == nil)
        #expect(try h.rows("SELECT * FROM events WHERE feed_id = 'google' AND removed_at IS NOT NULL").isEmpty)

        // Night 5: --force-full-sync catches the past edit that incremental nights ignore.
        try writeAll(h, stamp: "20261105T020000Z",
                     airbnb: Self.airbnb(a1Summary: "Reserved (edited late)", a3Summary: "Reserved - extended", withA4: false, withA6: true),
                     booking: Self.booking(withB3: false, withB4: true),
                     google: Self.google(overrideSummary: "Team sync (moved again)"))
        (r, rep) = try h.night("2026-11-05T02:00:00Z", ["--force-full-sync"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(rep.mode == "full")
        for f in rep.feeds { #expect(f.sync_type == "full") }
        #expect(rep["airbnb"].updated == 1 && rep["airbnb"].added == 0 && rep["airbnb"].removed == 0)
        #expect(try summary(h, "airbnb", "a1@airbnb.com") == "Reserved (edited late)")
        #expect(rep["booking"].removed == 0 && rep["booking"].past_skipped == 1)    // b3 is history
        #expect(try removedAt(h, "booking", "b3@booking.com") == nil)
        #expect(rep["google"].status == "unchanged")
        #expect(rep["vrbo"].status == "unchanged")
        let fullAt = try h.rows("SELECT last_full_sync_at FROM feeds WHERE id = 'vrbo'").first?["last_full_sync_at"] as String?
        #expect(fullAt != nil)

        // Night 6: nothing changed upstream but the DTSTAMPs: nothing is touched.
        try writeAll(h, stamp: "20261106T020000Z",
                     airbnb: Self.airbnb(a1Summary: "Reserved (edited late)", a3Summary: "Reserved - extended", withA4: false, withA6: true),
                     booking: Self.booking(withB3: false, withB4: true),
                     google: Self.google(overrideSummary: "Team sync (moved again)"))
        let snapsBefore = try h.snapshotFiles()
        let rowsBefore = try h.rows("SELECT * FROM events ORDER BY feed_id, record_key")
        (r, rep) = try h.night("2026-11-06T02:00:00Z")
        #expect(r.status == 0)
        #expect(rep.feeds_unchanged == 4 && rep.events_added == 0 && rep.events_updated == 0 && rep.events_removed == 0)
        for f in rep.feeds { #expect(f.sync_type == "none") }
        #expect(r.stdout.contains("nothing changed: all 4 feeds unchanged"))
        #expect(try h.snapshotFiles() == snapsBefore)
        #expect(try h.rows("SELECT * FROM events ORDER BY feed_id, record_key") == rowsBefore)
    }

    @Test("a removed future event that reappears comes back on a full sync")
    func reappearing() throws {
        let h = try Harness("reappear")
        defer { h.cleanUp() }
        try h.write("feedsync.yml", Self.config)
        try writeAll(h, stamp: "20261101T020000Z")
        #expect(try h.night("2026-11-01T02:00:00Z").0.status == 0)
        try writeAll(h, stamp: "20261102T020000Z", airbnb: Self.airbnb(withA4: false))
        #expect(try h.night("2026-11-02T02:00:00Z").1["airbnb"].removed == 1)
        #expect(try removedAt(h, "airbnb", "a4@airbnb.com") != nil)
        try writeAll(h, stamp: "20261103T020000Z")
        let (_, rep) = try h.night("2026-11-03T02:00:00Z", ["--force-full-sync"])
        #expect(rep["airbnb"].added == 1)
        #expect(try removedAt(h, "airbnb", "a4@airbnb.com") == nil)
    }
}
