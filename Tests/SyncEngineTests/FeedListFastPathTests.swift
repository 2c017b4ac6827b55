import FeedModel
import Foundation
import Testing
@testable import SyncEngine

/// The `feeds:` list read without Yams gives what the node path gives, or is not taken at all.
@Suite("Feed list fast path")
struct FeedListFastPathTests {
    static let path = "/srv/feedsync/feedsync.yml"

    /// Both readings of `text`: the loader's (fast path when it applies) and the node path's.
    func both(_ text: String) -> (Result<SyncConfig, ConfigError>, Result<SyncConfig, ConfigError>) {
        let a = Result { () throws(ConfigError) in try ConfigLoader.parse(text, path: Self.path, displayPath: "feedsync.yml", environment: [:]) }
        let b = Result { () throws(ConfigError) in
            try ConfigLoader.parse(text, path: Self.path, displayPath: "feedsync.yml", formats: .standard, environment: [:], fast: nil)
        }
        return (a, b)
    }

    /// Everything a configuration says, as text, for comparing two readings.
    func summary(_ c: SyncConfig) -> String {
        "\(c.path) \(c.store) \(c.snapshots) \(c.snapshotsInStore) \(c.incrementalDays) \(c.concurrency) \(c.timeZone) "
            + "\(c.volatileProperties) \(c.limits) \(c.maxRecords) \(c.busyTimeoutSeconds) \(c.leaseSeconds) \(c.staleAfterDays) "
            + "\(c.onBadEvent) \(c.occurrenceHorizonDays) \(c.digest)"
    }

    func expectSame(_ text: String, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let (a, b) = both(text)
        switch (a, b) {
        case (.success(let x), .success(let y)):
            #expect(Array(x.feeds) == Array(y.feeds), comment, sourceLocation: sourceLocation)
            #expect(summary(x) == summary(y), comment, sourceLocation: sourceLocation)
        case (.failure(let x), .failure(let y)):
            #expect(x.description == y.description, comment, sourceLocation: sourceLocation)
        default:
            Issue.record("one reading failed, the other did not: \(a) / \(b) \(comment.map { "\($0)" } ?? "")", sourceLocation: sourceLocation)
        }
    }

    @Test("the common shape is taken: settings around it, comments, quotes, CRLF; the same feeds, lines included")
    func taken() throws {
        let text = """
            # nightly feeds
            store: sqlite:feedsync.sqlite
            timezone: Europe/Madrid
            feeds:   # the list
              - id: airbnb-1
                url: feeds/airbnb-1.ics
                property: City Penthouse, Seville   # a comment
                timezone: Europe/Lisbon

              # a feed without a property
              - id: 'vrbo-2'
                url: "https://www.vrbo.com/icalendar/abc.ics?s=tok#frag"
                property: 'It''s "quoted": yes'
                on_bad_event: fail_feed
              -   id: g-3
                  url: file:///srv/g 3.ics
                  property: Ærø ✓ [with] {brackets}, commas
                  format: ics
            incremental_days: 3
            """
        let split = try #require(FeedListFastPath.split(text))
        #expect(split.items.count == 3 && split.feedsLine == 4)
        #expect(split.items.map(\.line) == [5, 11, 15])
        #expect(split.items[1].cells["property"] == "It's \"quoted\": yes")
        #expect(split.rest.split(separator: "\n", omittingEmptySubsequences: false).count
                == text.split(separator: "\n", omittingEmptySubsequences: false).count)
        expectSame(text)
        expectSame(text.replacingOccurrences(of: "\n", with: "\r\n"), "CRLF")
        let c = try ConfigLoader.parse(text, path: Self.path, environment: [:])
        #expect(c.feeds.map(\.line) == [5, 11, 15])
        #expect(c.feeds[0].property == "City Penthouse, Seville" && c.feeds[0].timeZone == "Europe/Lisbon")
        #expect(c.feeds[1].url == "https://www.vrbo.com/icalendar/abc.ics?s=tok#frag" && c.feeds[1].onBadEvent == .failFeed)
        #expect(c.feeds[2].url == "file:///srv/g 3.ics" && c.incrementalDays == 3)
    }

    @Test("anything else is left to Yams: flow lists, anchors, tags, block and multi-line scalars, escapes, other keys, repeats, tabs, markers")
    func notTaken() {
        let head = "store: sqlite:x.sqlite\n"
        let lists = [
            "feeds: []\n",
            "feeds:\n  - {id: a, url: a.ics}\n",
            "feeds:\n  - id: a\n    url: a.ics\n    http: {retries: 1}\n",
            "feeds:\n  - id: a\n    url: a.ics\n    mapping: m\n",
            "feeds:\n  - id: &x a\n    url: a.ics\n",
            "feeds:\n  - id: !!str a\n    url: a.ics\n",
            "feeds:\n  - id: a\n    url: a.ics\n    property: |\n      two\n      lines\n",
            "feeds:\n  - id: a\n    url: a.ics\n    property: one\n      more\n",
            "feeds:\n  - id: a\n    url: \"a\\tb.ics\"\n",
            "feeds:\n  - id: a\n    id: b\n    url: a.ics\n",
            "feeds:\n  - id: a\n\turl: a.ics\n",
            "---\nfeeds:\n  - id: a\n    url: a.ics\n",
            "feeds:\n  - id: a\n    url: a.ics\nfeeds:\n  - id: b\n    url: b.ics\n",
            "feeds:\n  -\n    id: a\n    url: a.ics\n",
            "feeds:\n  - id: a: b\n    url: a.ics\n",
            "feeds:\n  - id: a\n    url: 'a.ics\n",
            "feeds:\n  - id: a\n    url: a.ics\n- id: b\n",
        ]
        for list in lists {
            #expect(FeedListFastPath.split(head + list) == nil, "\(list)")
            expectSame(head + list, "\(list)")
        }
    }

    @Test("errors are the node path's: a bad id, an unknown zone or format, a repeated id, a YAML error after the list")
    func errors() {
        let cases = [
            "feeds:\n  - id: a b\n    url: a.ics\n",
            "feeds:\n  - id: a\n    url: a.ics\n    timezone: Mars/Olympus\n",
            "feeds:\n  - id: a\n    url: a.ics\n    format: xml\n",
            "feeds:\n  - id: a\n    url: a.ics\n  - id: a\n    url: b.ics\n",
            "feeds:\n  - id: a\n    url: a.ics\n  - id: b\n",
            "feeds:\n  - id: a\n    url: a.ics\n    colour: red\n",
            "feeds:\n  - id: a\n    url: a.ics\nstore: [unclosed\n",
            "feeds:\n  - id: a\n    url: a.ics\nfeeds_file: missing.csv\n",
            "feeds:\n  - id: a\n    url: a.ics\ntimezone: Nowhere\n",
        ]
        for text in cases {
            let (a, _) = both(text)
            if case .success = a { Issue.record("no error for \(text)") }
            expectSame(text, "\(text)")
        }
    }

    @Test("generated lists of every shape read alike both ways")
    func generated() {
        var rng = SystemRandomNumberGenerator()
        let words = ["Seville", "Flat 2, Porto", "It's", "\"q\"", "a # b", "x#y", "Ærø", "[b]", "{c}", "50%", "  padded  ", "-dash", "?q", ":c", "*s", "&a", "!t", "|p", ">g", "@at", "`b`", "null", "~", "true", "0012", "1e3", ""]
        var taken = 0
        for round in 0..<200 {
            var text = round % 3 == 0 ? "timezone: UTC\n" : ""
            text += "feeds:\n"
            let indent = String(repeating: " ", count: Int.random(in: 0...3, using: &rng))
            for i in 0..<Int.random(in: 1...12, using: &rng) {
                text += "\(indent)- id: f-\(i)\n"
                text += "\(indent)  url: feeds/f-\(i).ics\n"
                if Bool.random(using: &rng) {
                    let w = words.randomElement(using: &rng)!
                    switch Int.random(in: 0...2, using: &rng) {
                    case 0: text += "\(indent)  property: \(w)\n"
                    case 1: text += "\(indent)  property: '\(w.replacingOccurrences(of: "'", with: "''"))'\n"
                    default: text += "\(indent)  property: \"\(w.replacingOccurrences(of: "\"", with: "\\\""))\"\n"
                    }
                }
                if Int.random(in: 0...4, using: &rng) == 0 { text += "\(indent)  timezone: America/New_York  # NY\n" }
                if Int.random(in: 0...6, using: &rng) == 0 { text += "\n\(indent)  # between\n" }
            }
            if Bool.random(using: &rng) { text += "incremental_days: 5\n" }
            if FeedListFastPath.split(text) != nil { taken += 1 }
            expectSame(text, "\(text)")
        }
        #expect(taken >= 20, "the fast path was taken \(taken) times of 200")
    }
}

@Suite("Config: a URL's scheme separator")
struct SchemeSeparatorTests {
    @Test("found on bytes as `contains(\"://\")` finds it")
    func cases() {
        for url in ["https://x", "ftp://x", "a://", "://", "feeds/a.ics", "a:/b", "a:b//c", ":/", "x:///y", "ü://ä", ""] {
            #expect(ConfigLoader.containsSchemeSeparator(url) == url.contains("://"), "\(url)")
        }
    }
}
