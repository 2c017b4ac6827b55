import FeedModel
import Foundation
import Testing
@testable import SyncEngine

/// `feeds_file: feeds.csv`: feeds as rows, checked as the YAML list is.
@Suite("Feeds file")
struct FeedsFileTests {
    /// A configuration and its CSV in a folder of their own; the configuration or the error.
    func load(_ yaml: String, csv: String, name: String = "feeds.csv") throws -> Result<SyncConfig, ConfigError> {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("feedsfile-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(csv.utf8).write(to: folder.appendingPathComponent(name))
        do {
            return .success(try ConfigLoader.parse(yaml, path: folder.path + "/feedsync.yml", displayPath: "feedsync.yml"))
        } catch {
            return .failure(error)
        }
    }

    func error(_ yaml: String, csv: String) throws -> String {
        guard case .failure(let e) = try load(yaml, csv: csv) else { Issue.record("no error"); return "" }
        return e.description
    }

    @Test("rows beside the YAML list: quoted fields, empty optional cells, every column, a named mapping")
    func goodRows() throws {
        let yaml = """
            timezone: Europe/Lisbon
            feeds_file: feeds.csv
            mappings:
              races: {records: /events, key: id}
            feeds:
              - id: yaml-one
                url: one.ics
            """
        let csv = #"""
            id,url,property,timezone,format,mapping,on_bad_event\#r
            airbnb-1,https://www.airbnb.com/calendar/ical/1.ics?s=x,"Sea View Flat, Lisbon",,,,\#r
            vrbo-2,/data/vrbo/2.ics,"The ""Loft""",Atlantic/Madeira,ics,,fail_feed\#r
            races,https://api.example/races.json,,,json,races,\#r

            """#
        let loaded = try load(yaml, csv: csv)
        if case .failure(let e) = loaded { Issue.record("\(e)") }
        guard case .success(let c) = loaded else { return }
        #expect(c.feeds.map(\.id) == ["yaml-one", "airbnb-1", "vrbo-2", "races"])
        let a = c.feeds[1], v = c.feeds[2], r = c.feeds[3]
        #expect(a.property == "Sea View Flat, Lisbon" && a.timeZone == nil && a.format == "ics" && a.onBadEvent == nil)
        #expect(a.url == "https://www.airbnb.com/calendar/ical/1.ics?s=x")
        #expect(v.property == "The \"Loft\"" && v.timeZone == "Atlantic/Madeira" && v.url == "file:///data/vrbo/2.ics" && v.onBadEvent == .failFeed)
        #expect(r.format == "json" && r.mapping?.key == ["id"])
        // A feeds file alone, without a YAML list.
        guard case .success(let alone) = try load("feeds_file: feeds.csv\n", csv: "url,id\na.ics,a\n") else { Issue.record("failed"); return }
        #expect(alone.feeds.map(\.id) == ["a"] && alone.feeds[0].url.hasSuffix("/a.ics"))
    }

    @Test("bad rows and headers: errors name the file and the line, as for the YAML list")
    func badRows() throws {
        let yaml = "feeds_file: feeds.csv\nfeeds:\n  - id: dup\n    url: d.ics\n"
        #expect(try error(yaml, csv: "id,url\nok,a.ics\nbad id,b.ics\n") == "feeds.csv:3: feed id `bad id` may hold only letters, digits, `.`, `_` and `-`")
        #expect(try error(yaml, csv: "id,url\nnourl,\n") == "feeds.csv:2: feed `nourl` has no `url`")
        #expect(try error(yaml, csv: "id,url\na,a.ics\ndup,x.ics\n") == "feeds.csv:3: feed id `dup` is used twice (first at line 3)")
        #expect(try error(yaml, csv: "id,url\na,a.ics\na,b.ics\n") == "feeds.csv:3: feed id `a` is used twice (first at feeds.csv:2)")
        #expect(try error(yaml, csv: "id,url,colour\na,a.ics,red\n").hasPrefix("feeds.csv:1: unknown column `colour` (known: id, url,"))
        #expect(try error(yaml, csv: "url\na.ics\n").hasPrefix("feeds.csv:1: the header row has no `id` column"))
        #expect(try error(yaml, csv: "id,url,format\na,a.ics,xml\n").hasPrefix("feeds.csv:2: unknown feed format `xml`"))
        #expect(try error(yaml, csv: "id,url,format,mapping\na,a.json,json,nope\n").hasPrefix("feeds.csv:2: feed `a`: unknown mapping `nope`"))
        #expect(try error(yaml, csv: "id,url,timezone\na,a.ics,Mars/Olympus\n").hasPrefix("feeds.csv:2: "))
        #expect(try error(yaml, csv: "id,url\n\"a,a.ics\n").hasPrefix("feeds.csv:2: "), "an unterminated quote")
        #expect(try error("feeds_file: missing.csv\n", csv: "").contains("cannot read the feeds file missing.csv"))
    }

    @Test("100,000 rows load")
    func manyRows() throws {
        var csv = "id,url,property\n"
        for i in 0..<100_000 { csv += "feed-\(i),https://h\(i % 50).example/cal/\(i).ics,Property \(i)\n" }
        guard case .success(let c) = try load("feeds_file: feeds.csv\n", csv: csv) else { Issue.record("failed"); return }
        #expect(c.feeds.count == 100_000 && c.feeds.last?.id == "feed-99999" && c.feeds.last?.property == "Property 99999")
    }
}
