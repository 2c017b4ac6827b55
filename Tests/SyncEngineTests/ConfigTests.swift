import Testing
@testable import SyncEngine

@Suite("Config")
struct ConfigTests {
    func load(_ yaml: String) throws -> SyncConfig {
        try ConfigLoader.parse(yaml, path: "/srv/feeds/feedsync.yml", displayPath: "feedsync.yml")
    }

    func error(_ yaml: String) -> ConfigError? {
        do {
            _ = try load(yaml)
            return nil
        } catch let e as ConfigError {
            return e
        } catch {
            return nil
        }
    }

    @Test("defaults, and relative paths resolved against the config's folder")
    func defaults() throws {
        let c = try load("""
            feeds:
              - id: a
                url: feeds/a.ics
              - id: b.2_x-y
                url: https://www.airbnb.com/calendar/ical/1.ics?s=secret
                property: Flat
                timezone: Europe/Paris
            """)
        #expect(c.store == .sqlite(path: "/srv/feeds/feedsync.sqlite"))
        #expect(c.snapshots == "/srv/feeds/snapshots")
        #expect(c.incrementalDays == 7)
        #expect(c.timeZone == "UTC")
        #expect(c.volatileProperties == ["DTSTAMP"])
        #expect(c.feeds.map(\.url) == ["file:///srv/feeds/feeds/a.ics", "https://www.airbnb.com/calendar/ical/1.ics?s=secret"])
        #expect(c.feeds[1].property == "Flat")
        #expect(c.feeds[1].timeZone == "Europe/Paris")
        #expect(c.feeds[0].line == 2)
    }

    @Test("every setting")
    func everything() throws {
        let c = try load("""
            store: sqlite:/var/lib/feedsync/db.sqlite
            snapshots: ../state
            incremental_days: 3
            concurrency: 8
            timezone: America/New_York
            volatile_properties: [dtstamp, LAST-MODIFIED]
            http:
              timeout_seconds: 20
              max_body_bytes: 1000
              user_agent: test/1
            feeds:
              - {id: a, url: "file:///data/a.ics"}
            """)
        #expect(c.store == .sqlite(path: "/var/lib/feedsync/db.sqlite"))
        #expect(c.snapshots == "/srv/state")
        #expect(c.incrementalDays == 3)
        #expect(c.concurrency == 8)
        #expect(c.timeZone == "America/New_York")
        #expect(c.volatileProperties == ["DTSTAMP", "LAST-MODIFIED"])
        #expect(c.limits.timeoutSeconds == 20)
        #expect(c.limits.maxBodyBytes == 1000)
        #expect(c.limits.userAgent == "test/1")
        #expect(c.feeds[0].url == "file:///data/a.ics")
    }

    @Test("bad configs name the line and the problem", arguments: [
        ("feeds:\n  - id: a\n    url: a.ics\n  - id: a\n    url: b.ics\n", 4, "used twice"),
        ("feeds:\n  - id: 'bad id'\n    url: a.ics\n", 2, "may hold only"),
        ("feeds:\n  - id: a\n", 2, "has no `url`"),
        ("feeds:\n  - url: a.ics\n", 2, "has no `id`"),
        ("incremental_days: soon\nfeeds: []\n", 1, "whole number"),
        ("timezone: Mars/Olympus\nfeeds: []\n", 1, "unknown time zone"),
        ("stor: x\nfeeds: []\n", 1, "unknown setting `stor`"),
        ("store: postgres://x\nfeeds: []\n", 1, "unsupported store"),
        ("feeds:\n  - id: a\n    url: ftp://x/a.ics\n", 3, "unsupported URL scheme"),
        ("feeds:\n  - id: a\n    url: a.ics\n    colour: red\n", 4, "unknown feed setting"),
        ("feeds: [\n", 2, "invalid YAML"),
    ] as [(String, Int, String)])
    func badConfig(yaml: String, line: Int, text: String) {
        let e = error(yaml)
        #expect(e?.line == line, "\(String(describing: e))")
        #expect(e?.message.contains(text) == true, "\(String(describing: e))")
        #expect(e?.description.hasPrefix("feedsync.yml:\(line): ") == true)
    }

    @Test("a config without feeds is refused")
    func noFeeds() {
        #expect(error("store: sqlite:x.sqlite\n")?.message.contains("no `feeds:`") == true)
        #expect(error("")?.message.contains("empty") == true)
    }
}
