import Foundation
import FeedModel
import Stores
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

    @Test("paths are joined and tidied lexically, without touching the file system", arguments: [
        ("feeds/a.ics", "/srv/feeds", "/srv/feeds/feeds/a.ics"),
        ("./feeds/a.ics", "/srv/feeds", "/srv/feeds/feeds/a.ics"),
        ("feeds//a.ics", "/srv/feeds", "/srv/feeds/feeds/a.ics"),
        ("feeds/./a.ics", "/srv/feeds/", "/srv/feeds/feeds/a.ics"),
        ("snapshots/", "/srv", "/srv/snapshots"),
        ("snapshots/.", "/srv", "/srv/snapshots"),
        ("../shared/a.ics", "/srv/feeds", "/srv/feeds/../shared/a.ics"),  // the kernel resolves `..`
        ("/abs/./x.ics", "/srv", "/abs/x.ics"),
        ("/", "/srv", "/"),
        (".hidden/a.ics", "/srv", "/srv/.hidden/a.ics"),
        ("a.ics", "", "a.ics"),
        ("./a.ics", "", "a.ics"),
        (".", "", "."),
    ])
    func absolutePaths(path: String, folder: String, expected: String) {
        #expect(ConfigLoader.absolutePath(path, relativeTo: folder) == expected)
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
        #expect(c.snapshots == "/srv/feeds/../state")  // `..` is left for the kernel (symlinks)
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
        ("store: postgres://x\nfeeds: []\n", 1, "the URL names no user"),
        ("store: mysql://x/db\nfeeds: []\n", 1, "unsupported store"),
        ("feeds:\n  - id: a\n    url: ftp://x/a.ics\n", 3, "unsupported URL scheme"),
        ("feeds:\n  - id: a\n    url: a.ics\n    colour: red\n", 4, "unknown feed setting"),
        ("feeds: [\n", 2, "invalid YAML"),
        ("http:\n  timeout_secs: 3\nfeeds: []\n", 2, "unknown `http` setting `timeout_secs`"),
        ("http:\n  timeout_seconds: 0\nfeeds: []\n", 2, "must be more than 0"),
        ("http:\n  per_host_rate: fast\nfeeds: []\n", 2, "must be a number"),
        ("http:\n  retries: -1\nfeeds: []\n", 2, "at least 0"),
        ("http:\n  per_host_concurrency: 0\nfeeds: []\n", 2, "at least 1"),
        ("http: 5\nfeeds: []\n", 1, "`http` must be a mapping"),
        ("feeds:\n  - id: a\n    url: a.ics\n    http:\n      per_host_rate: 2\n", 5, "applies to the whole run"),
        ("feeds:\n  - id: a\n    url: a.ics\n    http:\n      retries: many\n", 5, "whole number"),
        ("feeds:\n  - id: a\n    url: a.ics\n    http: [1]\n", 4, "`http` must be a mapping"),
    ] as [(String, Int, String)])
    func badConfig(yaml: String, line: Int, text: String) {
        let e = error(yaml)
        #expect(e?.line == line, "\(String(describing: e))")
        #expect(e?.message.contains(text) == true, "\(String(describing: e))")
        #expect(e?.description.hasPrefix("feedsync.yml:\(line): ") == true)
    }

    @Test("http settings: defaults, every one, and per-feed overrides of the top level wherever it is")
    func httpSettings() throws {
        let d = try load("feeds: []\n").limits
        #expect(d.timeoutSeconds == 60 && d.connectTimeoutSeconds == 10 && d.readTimeoutSeconds == 30)
        #expect(d.maxBodyBytes == 50 * 1024 * 1024 && d.retries == 3 && d.perHostConcurrency == 4 && d.perHostRate == 5)
        #expect(d.backoffBaseMs == 500 && d.maxRetryAfterSeconds == 60 && d.maxRedirects == 5 && d.hostFailureLimit == 3 && d.userAgent == "feedsync/\(FeedsyncVersion.current)")
        let c = try load("""
            feeds:
              - id: a
                url: https://h.example/a.ics
                http:
                  timeout_seconds: 0.5
                  retries: 0
              - id: b
                url: https://h.example/b.ics
            http:
              timeout_seconds: 20
              connect_timeout_seconds: 2.5
              read_timeout_seconds: 7
              max_body_bytes: 1000
              retries: 5
              per_host_concurrency: 2
              per_host_rate: 0.5
              backoff_base_ms: 10
              max_retry_after_seconds: 0
              max_redirects: 1
              host_failure_limit: 0
              user_agent: test/1
            """)
        let l = c.limits
        #expect(l.timeoutSeconds == 20 && l.connectTimeoutSeconds == 2.5 && l.readTimeoutSeconds == 7)
        #expect(l.maxBodyBytes == 1000 && l.retries == 5 && l.perHostConcurrency == 2 && l.perHostRate == 0.5)
        #expect(l.backoffBaseMs == 10 && l.maxRetryAfterSeconds == 0 && l.maxRedirects == 1 && l.hostFailureLimit == 0 && l.userAgent == "test/1")
        var a = l
        a.timeoutSeconds = 0.5
        a.retries = 0
        #expect(c.feeds[0].limits == a)
        #expect(c.feeds[1].limits == nil)
    }

    @Test("a config without feeds is refused")
    func noFeeds() {
        #expect(error("store: sqlite:x.sqlite\n")?.message.contains("no `feeds:`") == true)
        #expect(error("")?.message.contains("empty") == true)
    }

    @Test("a feed's format: ics by default, a registered name, or an error listing the known ones")
    func format() throws {
        let c = try load("feeds:\n  - id: a\n    url: a.ics\n  - id: b\n    url: b.ics\n    format: ics\n")
        #expect(c.feeds.map(\.format) == ["ics", "ics"])
        let e = error("feeds:\n  - id: a\n    url: a.ics\n    format: xml\n")
        #expect(e?.description == "feedsync.yml:4: unknown feed format `xml` (known: ics, json, csv)")
    }

    @Test("a PostgreSQL store: its password from the URL, else password_file, else PGPASSWORD; never shown")
    func postgresStore() throws {
        let folder = NSTemporaryDirectory() + "feedsync-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "from-file\n".write(toFile: folder + "/pg.pw", atomically: true, encoding: .utf8)
        func store(_ yaml: String, env: [String: String] = [:]) throws -> PostgresLocation? {
            let c = try ConfigLoader.parse(yaml + "feeds:\n  - {id: a, url: a.ics}\n", path: folder + "/feedsync.yml",
                                           displayPath: "feedsync.yml", environment: env)
            if case .postgres(let p) = c.store { return p }
            return nil
        }
        let inURL = try #require(try store("store: postgres://sync:url-pw@db:5433/bookings?sslmode=require\n", env: ["PGPASSWORD": "env"]))
        #expect(inURL.password == "url-pw" && inURL.port == 5433 && inURL.sslMode == .require)
        #expect(try store("store: postgresql://sync@db/bookings\npassword_file: pg.pw\n", env: ["PGPASSWORD": "env"])?.password == "from-file")
        #expect(try store("store: postgres://sync@db/bookings\n", env: ["PGPASSWORD": "env"])?.password == "env")
        #expect(try store("store: postgres://sync@db/bookings\n")?.password == nil)

        func failure(_ yaml: String) -> String {
            do {
                _ = try store(yaml)
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(failure("store: postgres://sync@db/bookings\npassword_file: nosuch\n")
            == "feedsync.yml:1: cannot read `password_file` \(folder)/nosuch (does it exist, may this user read it?)")
        #expect(failure("store: sqlite:x.sqlite\npassword_file: pg.pw\n").contains("`password_file` is the password of a PostgreSQL store"))
        let bad = failure("store: postgres://sync:hunter2@db:0/bookings\n")
        #expect(bad.contains("port") && !bad.contains("hunter2"))
    }

    @Test("lease_seconds: 120 by default, at least 5; the digest is the file's text and changes with it")
    func leaseAndDigest() throws {
        let feeds = "feeds:\n  - id: a\n    url: a.ics\n"
        #expect(try load(feeds).leaseSeconds == 120)
        #expect(try load("lease_seconds: 30\n" + feeds).leaseSeconds == 30)
        #expect(error("lease_seconds: 2\n" + feeds)?.description.contains("lease_seconds") == true)
        let a = try load(feeds), b = try load(feeds), c = try load(feeds + "# a comment\n")
        #expect(a.digest == b.digest && a.digest.count == 16)
        #expect(a.digest != c.digest)
    }

    @Test("the shared-night example configuration (examples/systemd) loads: PostgreSQL, snapshots in the store")
    func sharedNightExample() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("examples/systemd/feedsync.yml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: "password_file: /etc/feedsync/pg-password\n", with: "")
        let c = try ConfigLoader.parse(text, path: path, environment: [:])
        guard case .postgres = c.store else { Issue.record("not a PostgreSQL store: \(c.store)"); return }
        #expect(c.snapshotsInStore && c.leaseSeconds == 120 && !c.feeds.isEmpty)
    }
}
