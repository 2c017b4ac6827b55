import FeedHash
import FeedModel
import ICalendarFeeds
import Snapshots
import Testing

/// The format suite every `FeedFormat` must pass, seen only through the protocol. A format brings
/// samples: a valid body, the same body with only volatile content changed, the same body with a
/// real change, a body of another kind (an HTML page), and a broken body of its own kind.
struct FormatSamples: Sendable, CustomStringConvertible {
    var format: any FeedFormat
    var valid: String
    var volatileChanged: String
    var reallyChanged: String
    var foreign = "<!DOCTYPE html>\n<html><body>Please log in</body></html>\n"
    var broken: String

    var description: String { format.name }

    static let all: [FormatSamples] = [
        FormatSamples(
            format: ICalendarFormat(),
            valid: ics(stamp: "20261101T020000Z", summary: "Stay"),
            volatileChanged: ics(stamp: "20261130T020000Z", summary: "Stay"),
            reallyChanged: ics(stamp: "20261101T020000Z", summary: "Stay, extended"),
            broken: "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\n"),
        FormatSamples(
            format: ToyFormat(),
            valid: "TOY\n# made 2026-11-01\na;1800000000;1800003600;Stay\nb;1700000000;1700003600;Old\nc;1800000000;-;Forever\n",
            volatileChanged: "TOY\n# made 2026-11-30\na;1800000000;1800003600;Stay\nb;1700000000;1700003600;Old\nc;1800000000;-;Forever\n",
            reallyChanged: "TOY\n# made 2026-11-01\na;1800000000;1800003600;Stay, extended\nb;1700000000;1700003600;Old\nc;1800000000;-;Forever\n",
            broken: "TOY\na;soon;later;Stay\n"),
    ]

    static func ics(stamp: String, summary: String) -> String {
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN",
         "BEGIN:VEVENT", "UID:a@test", "DTSTAMP:\(stamp)", "DTSTART:20270105T100000Z", "DTEND:20270105T110000Z",
         "SUMMARY:\(summary)", "END:VEVENT",
         "BEGIN:VEVENT", "UID:b@test", "DTSTAMP:\(stamp)", "DTSTART;VALUE=DATE:20251201", "SUMMARY:Old", "END:VEVENT",
         "BEGIN:VEVENT", "UID:c@test", "DTSTAMP:\(stamp)", "DTSTART:20270101T090000Z", "RRULE:FREQ=WEEKLY",
         "SUMMARY:Forever", "END:VEVENT",
         "END:VCALENDAR"].joined(separator: "\r\n") + "\r\n"
    }
}

@Suite("Format suite, every format")
struct FormatConformance {
    @Test("names itself, sniffs its own bodies and refuses an HTML page", arguments: FormatSamples.all)
    func identity(_ s: FormatSamples) {
        #expect(!s.format.name.isEmpty && s.format.parserVersion > 0 && !s.format.accept.isEmpty)
        #expect(s.format.describedAs.hasPrefix("a"))
        #expect(s.format.sniff(Array(s.valid.utf8)))
        #expect(!s.format.sniff(Array(s.foreign.utf8)) && !s.format.sniff([]))
    }

    @Test("parses deterministically: unique keys, each hash the XXH3-64 of its canonical body", arguments: FormatSamples.all)
    func records(_ s: FormatSamples) throws {
        let a = try s.format.parse(Array(s.valid.utf8)).records
        let b = try s.format.parse(Array(s.valid.utf8)).records
        #expect(a.count == 3)
        #expect(a.map(\.key) == b.map(\.key) && a.map(\.hash) == b.map(\.hash))
        #expect(Set(a.map(\.key)).count == a.count)
        for r in a {
            #expect(r.hash == XXH3.hash64(r.body), "record \(r.key)")
            #expect(!s.format.properties(ofCanonicalBody: r.body).isEmpty)
            #expect(s.format.summary(ofCanonicalBody: r.body) == r.summary)
        }
        // One past record, one that ends in the future, one that never ends.
        let now: Int64 = 1_790_000_000
        #expect(a.filter { $0.isFuture(now: now) }.count == 2 && a.contains { $0.lastEnd == nil })
    }

    @Test("volatile content changes neither the fingerprint nor a hash; a real change changes both", arguments: FormatSamples.all)
    func volatility(_ s: FormatSamples) throws {
        let f = s.format
        #expect(f.fingerprint(Array(s.valid.utf8)) == f.fingerprint(Array(s.volatileChanged.utf8)))
        #expect(f.fingerprint(Array(s.valid.utf8)) != f.fingerprint(Array(s.reallyChanged.utf8)))
        let base = try f.parse(Array(s.valid.utf8)).records.map(\.hash)
        #expect(try f.parse(Array(s.volatileChanged.utf8)).records.map(\.hash) == base)
        let changed = try f.parse(Array(s.reallyChanged.utf8)).records.map(\.hash)
        #expect(zip(base, changed).filter { $0 != $1 }.count == 1)
    }

    @Test("a broken body or another kind of body is a FeedFormatError, with its line when known", arguments: FormatSamples.all)
    func errors(_ s: FormatSamples) {
        for body in [s.broken, s.foreign, ""] {
            #expect(throws: FeedFormatError.self) { _ = try s.format.parse(Array(body.utf8)) }
        }
        let e = #expect(throws: FeedFormatError.self) { _ = try s.format.parse(Array(s.broken.utf8)) }
        #expect(e?.line != nil)
    }

    @Test("its records survive a snapshot: keys, hashes, times and flags", arguments: FormatSamples.all)
    func snapshotRoundTrip(_ s: FormatSamples) throws {
        let records = try s.format.parse(Array(s.valid.utf8)).records
        let header = SnapshotHeader(feedID: "f", generation: 1, createdAt: 0, parserVersion: s.format.parserVersion,
                                    bodyFingerprint: s.format.fingerprint(Array(s.valid.utf8)), etag: nil,
                                    lastModified: nil, feedFormat: s.format.name)
        let snap = try SnapshotCodec.decode(try SnapshotCodec.encode(header: header, records: records.map {
            SnapshotRecord(key: $0.key, hash: $0.hash, start: $0.start, lastEnd: $0.lastEnd, allDay: $0.allDay, body: $0.body)
        }))
        #expect(snap.header.feedFormat == s.format.name)
        let byKey = Dictionary(uniqueKeysWithValues: records.map { ($0.key, $0) })
        for r in snap.records {
            let o = try #require(byKey[r.key])
            #expect(r.hash == o.hash && r.start == o.start && r.lastEnd == o.lastEnd && r.allDay == o.allDay)
        }
    }
}
