public import FeedModel
import Foundation
public import FeedSources
public import Stores
import ICalendarFeeds
import FeedHash
import FeedFormats
import Records
import Yams
import Snapshots

/// An optional setting that most feeds leave unset, held out of line: 8 bytes in the feed when
/// unset (no allocation), a shared box when set (a `FeedConfig` of ~160 bytes rather than ~650;
/// the list itself packs plain feeds further, `FeedList`).
@propertyWrapper
public struct Rare<Value: Sendable & Equatable>: Sendable, Equatable {
    private enum Storage: Sendable, Equatable {
        case none
        indirect case some(Value)
    }
    private var storage: Storage

    public init(wrappedValue: Value?) {
        storage = wrappedValue.map { .some($0) } ?? .none
    }

    public var wrappedValue: Value? {
        get { if case .some(let v) = storage { return v } else { return nil } }
        set { storage = newValue.map { .some($0) } ?? .none }
    }
}

/// One feed of the configuration.
public struct FeedConfig: Sendable, Equatable {
    public var id: String
    /// The URL as fetched: `file:///absolute/path` or `http(s)://…`.
    public var url: String
    public var property: String?
    /// IANA time zone for this feed's floating times and dates (nil: the config's).
    public var timeZone: String?
    /// Line in the config file.
    public var line: Int
    /// This feed's fetch settings when it has its own `http:` (nil: the config's).
    @Rare public var limits: FetchLimits? = nil
    /// The body's format (`format:`, a name of the run's `FormatRegistry`; default `ics`).
    public var format: String
    /// How records are found (JSON and CSV feeds: the feed's mapping settings over its named mapping).
    @Rare public var mapping: RecordMapping? = nil
    /// The feed's `children:` (a JSON or CSV feed only).
    @Rare public var children: ChildrenConfig? = nil
    /// For a child feed (`PARENT/NAME/KEY`): its parent's id, how `{since}` is written, its pages.
    public var parent: String?
    @Rare public var since: SinceSettings? = nil
    @Rare public var pagination: Pagination? = nil
    /// For a child feed: the values its URL template was filled with, by placeholder (what a
    /// shared night stores to rebuild the child in another process; never the template itself).
    /// `on_bad_event` of this feed (nil: the configuration's).
    public var onBadEvent: BadRecordPolicy?
    public var childValues: [String: String] = [:]

    public init(id: String, url: String, property: String? = nil, timeZone: String? = nil, line: Int = 0,
                format: String = ICalendarFormat.name, mapping: RecordMapping? = nil) {
        self.id = id
        self.url = url
        self.property = property
        self.timeZone = timeZone
        self.line = line
        self.format = format
        self.mapping = mapping
    }

    public var isHTTP: Bool { url.hasPrefix("http://") || url.hasPrefix("https://") }

    /// What the ids of this feed's children start with (`parent/children-name/`), nil without children.
    public var childIDPrefix: String? { children?.idPrefix(parent: id) }
}

/// `feedsync.yml`, loaded and checked. Every path in it is absolute (relative ones are resolved
/// against the config file's folder).
public struct SyncConfig: Sendable {
    public var path: String
    public var store: StoreLocation
    /// The snapshot folder (`snapshots:`, default `snapshots` beside the config).
    public var snapshots: String
    /// True when snapshots live in the store (a PostgreSQL store whose config names no
    /// `snapshots:` folder): written in the same transaction as the rows.
    public var snapshotsInStore = false
    public var incrementalDays: Int
    public var concurrency: Int
    public var timeZone: String
    public var volatileProperties: [String]
    public var limits: FetchLimits
    public var feeds: FeedList
    /// The most records one feed may hold (`max_records`); more fails the feed.
    public var maxRecords = FormatSettings.defaultMaxRecords
    /// How long a store write waits for another process's lock (`busy_timeout_seconds`).
    public var busyTimeoutSeconds = SQLiteStore.defaultBusyTimeout
    /// How long a worker's claim on a feed of a shared night lasts without renewal
    /// (`lease_seconds`): a process that dies leaves its feeds to the others after this long.
    public var leaseSeconds = 120
    /// `feedsync status` calls a feed stale when its last success is older than this many days
    /// (`stale_after_days`).
    public var staleAfterDays = 2
    /// What an event that cannot be read does to its feed (`on_bad_event`, default `keep`).
    public var onBadEvent = BadRecordPolicy.keep
    /// How many days ahead the `occurrences` table holds every feed's occurrences
    /// (`occurrence_horizon_days`, default 400; 0 turns the table off).
    public var occurrenceHorizonDays = SyncConfig.defaultOccurrenceHorizonDays
    public static let defaultOccurrenceHorizonDays = 400
    /// The configuration's identity (XXH3 of its text): every process of a shared night must
    /// read the same configuration.
    public var digest = ""

    public init(path: String, store: StoreLocation, snapshots: String, incrementalDays: Int = 7,
                concurrency: Int = SyncConfig.defaultConcurrency, timeZone: String = "UTC",
                volatileProperties: [String] = ["DTSTAMP"], limits: FetchLimits = FetchLimits(),
                feeds: [FeedConfig]) {
        self.path = path
        self.store = store
        self.snapshots = snapshots
        self.incrementalDays = incrementalDays
        self.concurrency = concurrency
        self.timeZone = timeZone
        self.volatileProperties = volatileProperties
        self.limits = limits
        self.feeds = FeedList(feeds)
    }

    /// Fetch/parse tasks in flight at once by default: enough to hide I/O waits on a small machine.
    public static let defaultConcurrency = max(4, ProcessInfo.processInfo.activeProcessorCount * 4)
}

/// A configuration problem: the file, the line (when known) and what is wrong.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var line: Int?
    public var message: String

    public init(path: String, line: Int?, message: String) {
        self.path = path
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(path):\(line): \(message)" }
        return "\(path): \(message)"
    }
}

/// The password of a PostgreSQL store from `password_file` (its first line), else from PGPASSWORD.
private func readPassword(_ file: String?, folder: String, environment: [String: String]) throws(StoreError) -> String? {
    guard let file else { return environment["PGPASSWORD"] }
    let path = ConfigLoader.absolutePath(file, relativeTo: folder)
    guard let data = FileManager.default.contents(atPath: path) else {
        throw StoreError(.cannotOpen, "cannot read `password_file` \(path) (does it exist, may this user read it?)")
    }
    let text = String(decoding: data, as: UTF8.self)
    let line = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).first.map(String.init) ?? ""
    guard !line.isEmpty else { throw StoreError(.cannotOpen, "`password_file` \(path) is empty") }
    return line
}

/// Reads `feedsync.yml`.
public enum ConfigLoader {
    static let topKeys: Set<String> = ["store", "snapshots", "incremental_days", "concurrency", "timezone",
                                       "volatile_properties", "feeds", "http", "mappings", "max_records",
                                       "busy_timeout_seconds", "password_file", "lease_seconds",
                                       "stale_after_days", "on_bad_event", "feeds_file",
                                       "occurrence_horizon_days"]
    /// The columns a `feeds_file` may have (`id` and `url` required).
    static let feedFileColumns = ["id", "url", "property", "timezone", "format", "mapping", "on_bad_event"]
    static let feedKeys: Set<String> = Set(["id", "url", "property", "timezone", "http", "format", "mapping", "children",
                                            "on_bad_event"])
        .union(MappingSettings.keys)
    static let httpKeys: Set<String> = ["timeout_seconds", "connect_timeout_seconds", "read_timeout_seconds",
                                        "max_body_bytes", "retries", "per_host_concurrency", "per_host_rate",
                                        "backoff_base_ms", "max_retry_after_seconds", "max_redirects", "host_failure_limit",
                                        "user_agent"]
    /// The `http` settings a feed may override; the others configure the run's shared client and hosts.
    static let feedHTTPKeys: Set<String> = ["timeout_seconds", "max_body_bytes", "retries", "user_agent"]

    /// `formats` are the names a feed's `format:` may give (default: the formats feedsync knows).
    public static func load(path: String, formats: FormatRegistry = .standard) throws(ConfigError) -> SyncConfig {
        let absolute = absolutePath(path, relativeTo: FileManager.default.currentDirectoryPath)
        guard let data = FileManager.default.contents(atPath: absolute) else {
            throw ConfigError(path: path, line: nil, message: "cannot read the configuration file (does it exist?)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(path: path, line: nil, message: "the configuration file is not UTF-8 text")
        }
        return try parse(text, path: absolute, displayPath: path, formats: formats)
    }

    /// `environment` is where `PGPASSWORD` is looked up (default: the process's).
    public static func parse(_ text: String, path: String, displayPath: String? = nil,
                             formats: FormatRegistry = .standard,
                             environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError) -> SyncConfig {
        // A long `feeds:` list of the common shape is read without Yams (FeedListFastPath); when
        // anything about it is unusual, or anything fails, the whole document is read by Yams, so
        // that every result and every error is the node path's.
        if let fast = FeedListFastPath.split(text),
           let config = try? parse(text, path: path, displayPath: displayPath, formats: formats, environment: environment, fast: fast) {
            return config
        }
        return try parse(text, path: path, displayPath: displayPath, formats: formats, environment: environment, fast: nil)
    }

    /// With `fast`, the document Yams reads is `fast.rest` and the list's feeds are `fast.items`;
    /// throws when Yams does not see the list where `fast` found it.
    static func parse(_ text: String, path: String, displayPath: String?, formats: FormatRegistry,
                      environment: [String: String], fast: FeedListFastPath.Split?) throws(ConfigError) -> SyncConfig {
        let shown = displayPath ?? path
        func fail(_ node: Node?, _ message: String) -> ConfigError {
            ConfigError(path: shown, line: node?.mark?.line, message: message)
        }
        let root: Node
        do {
            // The basic resolver tags every scalar `str`: settings are parsed from their text here, and
            // the default resolver's regular expressions cost 40 ms per 1,000 feeds (duplicate-key checks).
            guard let r = try Yams.compose(yaml: fast?.rest ?? text, .basic) else {
                throw fail(nil, "the configuration is empty; it needs at least a `feeds:` list")
            }
            root = r
        } catch let e as ConfigError {
            throw e
        } catch let e as YamlError {
            throw yamlError(e, path: shown)
        } catch {
            throw fail(nil, "cannot read YAML: \(error)")
        }
        guard let top = root.mapping else { throw fail(root, "the configuration must be a mapping of settings") }
        let folder = (path as NSString).deletingLastPathComponent

        var storeText = "sqlite:feedsync.sqlite"
        var passwordFile: String? = nil
        var snapshots = "snapshots"
        var snapshotsGiven = false
        var incrementalDays = 7
        var concurrency = SyncConfig.defaultConcurrency
        var timeZone = "UTC"
        var volatile = ["DTSTAMP"]
        var limits = FetchLimits()
        var feeds = FeedList()
        var feedHTTP: [(Int, Node.Mapping)] = []
        var feedMappings: [(index: Int, own: MappingSettings, name: Node?, node: Node, fail: (Node?, String) -> ConfigError)] = []
        var feedsFileName = ""
        /// Feeds of the YAML list (the rows of the feeds file follow them).
        var listed = 0
        var feedsFile: Node? = nil
        var mappingsNode: Node? = nil
        var maxRecords = FormatSettings.defaultMaxRecords
        var busyTimeout = SQLiteStore.defaultBusyTimeout
        var leaseSeconds = 120
        var horizonDays = SyncConfig.defaultOccurrenceHorizonDays
        var staleAfterDays = 2
        var onBadEvent = BadRecordPolicy.keep
        var sawFeeds = false

        /// One feed of the `feeds:` list.
        func addFeed(_ item: Node, _ fail: @escaping (Node?, String) -> ConfigError) throws(ConfigError) {
            let feed = try feedConfig(item, folder: folder, formats: formats, fail)
            if let http = item.mapping?["http"] {
                guard let m = http.mapping else { throw fail(http, "feed `\(feed.id)`: `http` must be a mapping") }
                feedHTTP.append((feeds.count, m))
            }
            // Mapping settings concern JSON and CSV feeds (and an iCalendar feed that has them by mistake).
            if let map = item.mapping, feed.format != ICalendarFormat.name || map.contains(where: { k, _ in
                let name = k.string ?? ""
                return name == "mapping" || name == "children" || MappingSettings.keys.contains(name)
            }) {
                feedMappings.append((feeds.count, try MappingSettings.read(map, node: item, fail), map["mapping"], item, fail))
            }
            // Ids are checked for duplicates once every feed of both sources is read.
            feeds.append(feed)
        }


        /// One feed given as text cells: a row of `feeds_file`, or an item of a list read by
        /// FeedListFastPath.
        func addRow(_ cells: [String: String], line: Int, _ rowFail: @escaping (Node?, String) -> ConfigError) throws(ConfigError) {
            let format = try checkedFormat(cells["format"] ?? ICalendarFormat.name, formats: formats, nil, rowFail)
            var feed = try makeFeed(id: cells["id"] ?? "", url: cells["url"], line: line, folder: folder, format: format,
                                    idNode: nil, urlNode: nil, itemNode: nil, rowFail)
            feed.property = cells["property"]
            feed.timeZone = try cells["timezone"].map { s throws(ConfigError) in try checkedZone(s, "timezone", nil, rowFail) }
            feed.onBadEvent = try cells["on_bad_event"].map { s throws(ConfigError) in try badEventPolicy(s, nil, rowFail) }
            if format != ICalendarFormat.name || cells["mapping"] != nil {
                // Mappings are resolved with the list's, from a node of the one setting a row can give.
                let name = cells["mapping"].map { Node($0, Tag(.str)) }
                let node = Node.mapping(.init(name.map { [(Node("mapping", Tag(.str)), $0)] } ?? []))
                feedMappings.append((feeds.count, try MappingSettings.read(node.mapping!, node: node, rowFail), name, node, rowFail))
            }
            feeds.append(feed)
        }

        for (keyNode, value) in top {
            guard let key = keyNode.string else { throw fail(keyNode, "setting names must be text") }
            switch key {
            case "store":
                storeText = try string(value, key, fail)
            case "password_file":
                passwordFile = try string(value, key, fail)
            case "snapshots":
                snapshots = try string(value, key, fail)
                snapshotsGiven = true
            case "incremental_days":
                incrementalDays = try int(value, key, min: 0, fail)
            case "concurrency":
                concurrency = try int(value, key, min: 1, fail)
            case "timezone":
                timeZone = try zone(value, key, fail)
            case "volatile_properties":
                guard let seq = value.sequence else { throw fail(value, "`volatile_properties` must be a list of property names") }
                volatile = try seq.map { n throws(ConfigError) in
                    let s = try string(n, "volatile_properties", fail)
                    guard s.utf8.allSatisfy({ isNameByte($0) }) else {
                        throw fail(n, "`\(s)` is not a property name (letters, digits and `-` only)")
                    }
                    return s.uppercased()
                }
            case "http":
                guard let map = value.mapping else { throw fail(value, "`http` must be a mapping") }
                try applyHTTP(map, to: &limits, perFeed: false, fail)
            case "mappings":
                mappingsNode = value
            case "max_records":
                maxRecords = try int(value, key, min: 1, fail)
            case "busy_timeout_seconds":
                busyTimeout = Double(try int(value, key, min: 0, fail))
            case "lease_seconds":
                leaseSeconds = try int(value, key, min: 5, fail)
            case "occurrence_horizon_days":
                horizonDays = try int(value, key, min: 0, fail)
                if horizonDays > 36_600 { throw fail(value, "`occurrence_horizon_days` is at most 36600 (100 years), not \(horizonDays)") }
            case "stale_after_days":
                staleAfterDays = try int(value, key, min: 1, fail)
            case "on_bad_event":
                onBadEvent = try badEventPolicy(try string(value, key, fail), value, fail)
            case "feeds_file":
                feedsFile = value
                sawFeeds = true
            case "feeds":
                sawFeeds = true
                guard let seq = value.sequence else { throw fail(value, "`feeds` must be a list") }
                if let fast {
                    // Yams must see the list that was taken out, where it was.
                    guard seq.isEmpty, keyNode.mark?.line == fast.feedsLine else { throw fail(nil, "") }
                    feeds.reserveCapacity(fast.items.count, bytes: fast.items.count * 64)
                    for item in fast.items {
                        let itemFail: (Node?, String) -> ConfigError = { _, message in ConfigError(path: shown, line: item.line, message: message) }
                        try addRow(item.cells, line: item.line, itemFail)
                    }
                    continue
                }
                feeds.reserveCapacity(feeds.count + seq.count, bytes: seq.count * 64)
                for item in seq { try addFeed(item, fail) }
            default:
                throw fail(keyNode, "unknown setting `\(key)` (known: \(topKeys.sorted().joined(separator: ", ")))")
            }
        }
        guard sawFeeds else { throw fail(root, "no `feeds:` list (or `feeds_file:`)") }
        listed = feeds.count
        if let feedsFile {
            try readFeedsFile(feedsFile, folder: folder, fail, expect: { given, rows, size in
                feedsFileName = given
                feeds.reserveCapacity(feeds.count + rows, bytes: size)
            }) { given, cells, line throws(ConfigError) in
                // Each row's errors carry its line through its own `fail` (Yams cannot make marks).
                let rowFail: (Node?, String) -> ConfigError = { _, message in ConfigError(path: given, line: line, message: message) }
                try addRow(cells, line: line, rowFail)
            }
        }
        // Each id once: the first repeat (in list order) names where the id first was. Found with
        // the run's table of ids (16 bytes a feed) rather than a dictionary of every id.
        if let (first, again) = FeedIndex(feeds).firstDuplicate {
            let place = first < listed ? "line \(feeds[first].line)" : "\(feedsFileName):\(feeds[first].line)"
            throw ConfigError(path: again < listed ? shown : feedsFileName, line: feeds[again].line,
                              message: "feed id `\(feeds.id(at: again))` is used twice (first at \(place))")
        }
        // Named mappings, then each JSON or CSV feed's own settings over the one it names.
        var named: [String: MappingSettings] = [:]
        if let mappingsNode {
            guard let map = mappingsNode.mapping else {
                throw fail(mappingsNode, "`mappings` must be a mapping of names to mapping settings")
            }
            for (k, v) in map {
                guard let name = k.string, !name.isEmpty else { throw fail(k, "a mapping needs a name") }
                guard let m = v.mapping else { throw fail(v, "mapping `\(name)` must be a mapping of settings") }
                for (sk, _) in m where !MappingSettings.keys.contains(sk.string ?? "") {
                    throw fail(sk, "unknown mapping setting `\(sk.string ?? "?")` (known: \(MappingSettings.keys.sorted().joined(separator: ", ")))")
                }
                named[name] = try MappingSettings.read(m, node: v, fail)
            }
        }
        for (index, own, nameNode, node, fail) in feedMappings {
            let feed = feeds[index]
            var settings = own
            if let nameNode {
                let name = try string(nameNode, "mapping", fail)
                guard let base = named[name] else {
                    throw fail(nameNode, "feed `\(feed.id)`: unknown mapping `\(name)` (known: \(named.keys.sorted().joined(separator: ", ")))")
                }
                settings = own.over(base)
            }
            if feed.format == ICalendarFormat.name {
                if !own.isEmpty || nameNode != nil {
                    throw fail(nameNode ?? node, "feed `\(feed.id)`: mapping settings apply to JSON and CSV feeds (add `format: json` or `format: csv`)")
                }
                if let c = node.mapping?["children"] {
                    throw fail(c, "feed `\(feed.id)`: `children` applies to JSON and CSV feeds")
                }
                continue
            }
            feeds[index].mapping = try settings.resolve(feedID: feed.id, format: feed.format, feedNode: node, fail)
            if let c = node.mapping?["children"] {
                feeds[index].children = try children(c, parent: feeds[index], named: named, folder: folder, formats: formats, fail)
            }
        }

        // Per-feed `http:` settings override the top-level ones, wherever those are in the file.
        for (index, map) in feedHTTP {
            var own = limits
            try applyHTTP(map, to: &own, perFeed: true, fail)
            feeds[index].limits = own
        }

        let store: StoreLocation
        do {
            // The password of a PostgreSQL store: in its URL, else in `password_file`, else PGPASSWORD.
            store = try StoreLocation.parse(storeText, password: try readPassword(passwordFile, folder: folder, environment: environment)) {
                absolutePath($0, relativeTo: folder)
            }
        } catch {
            throw fail(top["store"], error.message)
        }
        if passwordFile != nil {
            guard case .postgres = store else {
                throw fail(top["password_file"], "`password_file` is the password of a PostgreSQL store, and `store:` is \(store)")
            }
        }
        var config = SyncConfig(path: path, store: store, snapshots: absolutePath(snapshots, relativeTo: folder),
                                incrementalDays: incrementalDays, concurrency: concurrency, timeZone: timeZone,
                                volatileProperties: volatile, limits: limits, feeds: [])
        config.feeds = feeds
        config.maxRecords = maxRecords
        config.busyTimeoutSeconds = busyTimeout
        config.leaseSeconds = leaseSeconds
        config.staleAfterDays = staleAfterDays
        config.onBadEvent = onBadEvent
        config.occurrenceHorizonDays = horizonDays
        config.digest = hex64(XXH3.hash64(Array(text.utf8)))
        if case .postgres = store, !snapshotsGiven { config.snapshotsInStore = true }
        return config
    }

    private static func feedConfig(_ node: Node, folder: String, formats: FormatRegistry,
                                   _ fail: (Node?, String) -> ConfigError) throws(ConfigError) -> FeedConfig {
        guard let map = node.mapping else { throw fail(node, "each feed must be a mapping with at least `id` and `url`") }
        var id: String?
        var url: String?
        var property: String?
        var tz: String?
        var format = ICalendarFormat.name
        var onBadEvent: BadRecordPolicy? = nil
        for (k, v) in map {
            switch k.string ?? "" {
            case "id": id = try string(v, "id", fail)
            case "url": url = try string(v, "url", fail)
            case "property": property = try string(v, "property", fail)
            case "timezone": tz = try zone(v, "timezone", fail)
            case "on_bad_event": onBadEvent = try badEventPolicy(try string(v, "on_bad_event", fail), v, fail)
            case "format":
                format = try checkedFormat(try string(v, "format", fail), formats: formats, v, fail)
            case "http", "mapping", "children": break  // applied once the top-level `http` and `mappings` are known
            case let key where MappingSettings.keys.contains(key): break  // read with the mappings
            default:
                throw fail(k, "unknown feed setting `\(k.string ?? "?")` (known: \(feedKeys.sorted().joined(separator: ", ")))")
            }
        }
        guard let id else { throw fail(node, "a feed has no `id`") }
        var feed = try makeFeed(id: id, url: url, line: node.mark?.line ?? 0, folder: folder, format: format,
                                idNode: map["id"], urlNode: map["url"], itemNode: node, fail)
        feed.property = property
        feed.timeZone = tz
        feed.onBadEvent = onBadEvent
        return feed
    }

    /// What a feed of the list and a row of `feeds_file` share: the id's and the URL's checks.
    private static func makeFeed(id: String, url: String?, line: Int, folder: String, format: String,
                                 idNode: Node?, urlNode: Node?, itemNode: Node?,
                                 _ fail: (Node?, String) -> ConfigError) throws(ConfigError) -> FeedConfig {
        guard !id.isEmpty, id.utf8.allSatisfy(isIDByte), id != ".", id != ".." else {
            throw fail(idNode, "feed id `\(id)` may hold only letters, digits, `.`, `_` and `-`")
        }
        guard let url, !url.isEmpty else { throw fail(itemNode, "feed `\(id)` has no `url`") }
        let resolved: String
        if url.hasPrefix("http://") || url.hasPrefix("https://") {
            resolved = url
        } else if url.hasPrefix("file://") {
            resolved = url
        } else if containsSchemeSeparator(url) {
            throw fail(urlNode, "feed `\(id)`: unsupported URL scheme in `\(redactURL(url))` (use file://, http:// or https://, or a path)")
        } else {
            resolved = "file://" + absolutePath(url, relativeTo: folder)
        }
        return FeedConfig(id: id, url: resolved, property: nil, timeZone: nil, line: line, format: format)
    }

    /// `feeds_file: feeds.csv`: one feed per row (RFC 4180, a header row naming columns of
    /// `feedFileColumns`, `id` and `url` required). Returns the file's name as given and each row's
    /// non-empty cells by column, with its line.
    private static func readFeedsFile(_ node: Node, folder: String, _ fail: (Node?, String) -> ConfigError,
                                      expect: (String, Int, Int) -> Void, _ visit: (String, [String: String], Int) throws(ConfigError) -> Void) throws(ConfigError) {
        let given = try string(node, "feeds_file", fail)
        let path = absolutePath(given, relativeTo: folder)
        // Read once into the bytes the reader walks (no second copy of a 100,000-row file).
        guard let data = try? SnapshotDirectory.readFile(path) else {
            throw fail(node, "cannot read the feeds file \(given) (does it exist?)")
        }
        expect(given, data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }, data.count)
        var header: [String] = []
        var failure: ConfigError? = nil
        do throws(FeedFormatError) {
            // Row by row: 100,000 rows are never held as a table beside the feeds they make.
            try CSVReader.forEachRow(data, header: { names throws(FeedFormatError) in
                header = names.map { $0.trimmingCharacters(in: .whitespaces) }
                do throws(ConfigError) {
                    for (i, column) in header.enumerated() {
                        guard feedFileColumns.contains(column) else {
                            throw ConfigError(path: given, line: 1, message: "unknown column `\(column)` (known: \(feedFileColumns.joined(separator: ", ")))")
                        }
                        if header[..<i].contains(column) { throw ConfigError(path: given, line: 1, message: "column `\(column)` appears twice") }
                    }
                    for required in ["id", "url"] where !header.contains(required) {
                        throw ConfigError(path: given, line: 1, message: "the header row has no `\(required)` column (columns: \(feedFileColumns.joined(separator: ", ")))")
                    }
                } catch {
                    failure = error
                    throw FeedFormatError(line: 1, message: error.message)
                }
            }) { row, line throws(FeedFormatError) in
                var cells: [String: String] = [:]
                for (column, value) in zip(header, row) {
                    // An empty cell is as if the setting were not given (an empty id or url is an error later).
                    let cell = value.first == " " || value.last == " " ? value.trimmingCharacters(in: .whitespaces) : value
                    if !cell.isEmpty { cells[column] = cell }
                }
                do throws(ConfigError) {
                    try visit(given, cells, line)
                } catch {
                    failure = error
                    throw FeedFormatError(line: line, message: error.message)
                }
            }
        } catch {
            if let failure { throw failure }
            throw ConfigError(path: given, line: error.line, message: error.message)
        }
    }

    private static func badEventPolicy(_ text: String, _ node: Node?, _ fail: (Node?, String) -> ConfigError) throws(ConfigError) -> BadRecordPolicy {
        guard let policy = BadRecordPolicy(rawValue: text) else {
            throw fail(node, "`on_bad_event` must be `keep` or `fail_feed` (got `\(text)`)")
        }
        return policy
    }

    private static func checkedFormat(_ format: String, formats: FormatRegistry, _ node: Node?,
                                      _ fail: (Node?, String) -> ConfigError) throws(ConfigError) -> String {
        guard formats.contains(format) else {
            throw fail(node, "unknown feed format `\(format)` (known: \(formats.names.joined(separator: ", ")))")
        }
        return format
    }

    private static func applyHTTP(_ map: Node.Mapping, to limits: inout FetchLimits, perFeed: Bool,
                                  _ fail: (Node?, String) -> ConfigError) throws(ConfigError) {
        for (k, v) in map {
            let key = k.string ?? "?"
            guard httpKeys.contains(key) else {
                let known = perFeed ? feedHTTPKeys : httpKeys
                throw fail(k, "unknown `http` setting `\(key)` (known: \(known.sorted().joined(separator: ", ")))")
            }
            if perFeed && !feedHTTPKeys.contains(key) {
                throw fail(k, "`\(key)` applies to the whole run: set it in the top-level `http`, not in a feed's (a feed may set \(feedHTTPKeys.sorted().joined(separator: ", ")))")
            }
            switch key {
            case "timeout_seconds": limits.timeoutSeconds = try number(v, key, fail)
            case "connect_timeout_seconds": limits.connectTimeoutSeconds = try number(v, key, fail)
            case "read_timeout_seconds": limits.readTimeoutSeconds = try number(v, key, fail)
            case "max_body_bytes": limits.maxBodyBytes = try int(v, key, min: 1, fail)
            case "retries": limits.retries = try int(v, key, min: 0, fail)
            case "per_host_concurrency": limits.perHostConcurrency = try int(v, key, min: 1, fail)
            case "per_host_rate": limits.perHostRate = try number(v, key, fail)
            case "backoff_base_ms": limits.backoffBaseMs = try int(v, key, min: 0, fail)
            case "max_retry_after_seconds": limits.maxRetryAfterSeconds = try number(v, key, allowZero: true, fail)
            case "max_redirects": limits.maxRedirects = try int(v, key, min: 0, fail)
            case "host_failure_limit": limits.hostFailureLimit = try int(v, key, min: 0, fail)
            default: limits.userAgent = try string(v, key, fail)
            }
        }
    }

    /// A positive number of seconds or requests (decimals allowed: `0.5`).
    private static func number(_ n: Node, _ key: String, allowZero: Bool = false,
                               _ fail: (Node?, String) -> ConfigError) throws(ConfigError) -> Double {
        guard let s = n.scalar?.string, let v = Double(s), v.isFinite else { throw fail(n, "`\(key)` must be a number") }
        guard allowZero ? v >= 0 : v > 0 else { throw fail(n, "`\(key)` must be \(allowZero ? "0 or more" : "more than 0")") }
        return v
    }

    static func string(_ n: Node, _ key: String, _ fail: (Node?, String) -> ConfigError) throws(ConfigError) -> String {
        guard let s = n.scalar?.string else { throw fail(n, "`\(key)` must be a single value") }
        return s
    }

    static func int(_ n: Node, _ key: String, min: Int, _ fail: (Node?, String) -> ConfigError) throws(ConfigError) -> Int {
        guard let s = n.scalar?.string, let v = Int(s) else { throw fail(n, "`\(key)` must be a whole number") }
        guard v >= min else { throw fail(n, "`\(key)` must be at least \(min)") }
        return v
    }

    static func zone(_ n: Node, _ key: String, _ fail: (Node?, String) -> ConfigError) throws(ConfigError) -> String {
        try checkedZone(try string(n, key, fail), key, n, fail)
    }

    static func checkedZone(_ s: String, _ key: String, _ node: Node?, _ fail: (Node?, String) -> ConfigError) throws(ConfigError) -> String {
        guard TimeZone(identifier: s) != nil else {
            throw fail(node, "`\(key)`: unknown time zone `\(s)` (use an IANA name such as Europe/Paris or UTC)")
        }
        return s
    }

    private static func yamlError(_ e: YamlError, path: String) -> ConfigError {
        switch e {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ConfigError(path: path, line: mark.line, message: "invalid YAML: \(problem)")
        default:
            return ConfigError(path: path, line: nil, message: "invalid YAML: \(e)")
        }
    }

    static func isIDByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
    }

    static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "-")
    }

    /// True when `path` has no empty or `.` component and no trailing slash (the usual case).
    private static func isClean(_ path: String) -> Bool {
        var previous: UInt8 = 0, beforePrevious: UInt8 = 0
        for b in path.utf8 {
            if b == UInt8(ascii: "/") && (previous == UInt8(ascii: "/")
                || (previous == UInt8(ascii: ".") && (beforePrevious == UInt8(ascii: "/") || beforePrevious == 0))) {
                return false
            }
            beforePrevious = previous
            previous = b
        }
        let dotEnd = previous == UInt8(ascii: ".") && (beforePrevious == UInt8(ascii: "/") || beforePrevious == 0)
        return !path.isEmpty && !dotEnd && (previous != UInt8(ascii: "/") || path == "/")
    }

    /// `url.contains("://")` on bytes (Foundation's `contains` searches as text: a tenth of loading
    /// a 10,000-feed list).
    static func containsSchemeSeparator(_ url: String) -> Bool {
        var previous: (UInt8, UInt8) = (0, 0)
        for c in url.utf8 {
            if c == UInt8(ascii: "/"), previous == (UInt8(ascii: ":"), UInt8(ascii: "/")) { return true }
            previous = (previous.1, c)
        }
        return false
    }

    /// `p` made absolute against `folder` (when `folder` is absolute), with empty and `.` components dropped. Purely lexical:
    /// no file system call (Foundation's `standardizingPath` resolves symlinks, one `readlink` per
    /// component, which cost a second per 10,000 feeds), and `..` is kept for the kernel to
    /// resolve, since dropping it lexically would be wrong after a symlinked folder.
    static func absolutePath(_ p: String, relativeTo folder: String) -> String {
        let joined = p.hasPrefix("/") || folder.isEmpty ? p : folder + "/" + p
        if isClean(joined) { return joined }
        var parts: [Substring] = []
        for c in joined.split(separator: "/", omittingEmptySubsequences: true) where c != "." {
            parts.append(c)
        }
        if joined.hasPrefix("/") { return "/" + parts.joined(separator: "/") }
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }
}
