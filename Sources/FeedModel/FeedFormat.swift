public import FeedHash

/// A kind of feed body (iCalendar today; JSON and CSV records next): everything the sync engine
/// needs to know about a body's format, so that the engine itself knows none.
///
/// One value per feed, made by a `FormatRegistry` from the feed's `FormatSettings`. Every format
/// passes the shared format suite (Tests/SyncEngineTests/FormatConformance.swift).
public protocol FeedFormat: Sendable {
    /// The name in `feedsync.yml` (`format: ics`) and in snapshot headers.
    var name: String { get }
    /// How a body of this format is called in messages, with its article: "an iCalendar feed".
    var describedAs: String { get }
    /// Version of the record extraction and canonical form. Snapshots record it; a snapshot written
    /// by another version is not trusted (its hashes may differ for the same content).
    var parserVersion: UInt32 { get }
    /// The HTTP `Accept` header sent for feeds of this format.
    var accept: String { get }
    /// True when `body` can be of this format: an HTTP body that is not (an HTML login page, a JSON
    /// error) fails the feed with its first bytes instead of being parsed. Cheap: looks at the start.
    func sniff(_ body: [UInt8]) -> Bool
    /// The body fingerprint: a 128-bit hash of the body with its volatile content left out, so a
    /// body that changed only there is skipped without being parsed.
    func fingerprint(_ body: [UInt8]) -> Fingerprint128
    /// The body's records, each keyed and hashed in canonical form.
    func parse(_ body: [UInt8]) throws(FeedFormatError) -> ParsedFeed
    /// A record's canonical body as named properties, for the snapshot tools (`inspect`, `diff`).
    func properties(ofCanonicalBody body: [UInt8]) -> [CanonicalProperty]
    /// A one-line summary of a record's canonical body (a title), nil when it has none.
    func summary(ofCanonicalBody body: [UInt8]) -> String?
}

/// The settings a format is made with: the run's and the feed's.
public struct FormatSettings: Sendable, Equatable {
    /// The fallback zone for times without an offset (the top-level config `timezone`).
    public var timeZone: String
    /// The feed's own configured zone (wins over what the body says and over `timeZone`).
    public var feedTimeZone: String?
    /// Property names left out of fingerprints and record hashes (e.g. DTSTAMP).
    public var volatileProperties: [String]
    /// How records are found in the body (JSON and CSV feeds; nil for iCalendar).
    public var mapping: RecordMapping?
    /// The most records one body may hold (the config's `max_records`); more fails the feed.
    public var maxRecords: Int
    /// What a record that cannot be read does (`on_bad_event`): fail the feed, or be listed in
    /// `ParsedFeed.badRecords` (its key known) while the others are read.
    public var onBadRecord: BadRecordPolicy = .failFeed
    /// The occurrences a run materialises (`occurrences` table): records of a recurring series
    /// get theirs in `FeedRecord.occurrences`; a single event is its own one occurrence.
    public var occurrenceWindow: OccurrenceWindow?

    public static let defaultMaxRecords = 100_000

    public init(timeZone: String = "UTC", feedTimeZone: String? = nil, volatileProperties: [String] = ["DTSTAMP"],
                mapping: RecordMapping? = nil, maxRecords: Int = FormatSettings.defaultMaxRecords) {
        self.timeZone = timeZone
        self.feedTimeZone = feedTimeZone
        self.volatileProperties = volatileProperties
        self.mapping = mapping
        self.maxRecords = maxRecords
    }
}

/// A body turned into records.
public struct ParsedFeed: Sendable {
    public var records: [FeedRecord]
    /// Records whose key could be read but not the rest (`on_bad_event: keep`): the sync leaves
    /// their stored state as it was.
    public var badRecords: [BadRecord] = []
    public var warnings: [String]
    /// The zone times without an offset were read in.
    public var timeZone: String

    public init(records: [FeedRecord], warnings: [String] = [], timeZone: String = "UTC") {
        self.records = records
        self.warnings = warnings
        self.timeZone = timeZone
    }
}

/// `on_bad_event`: what one record that cannot be read does to its feed.
public enum BadRecordPolicy: String, Sendable, Equatable, CaseIterable {
    /// Its previous stored state is kept untouched (neither updated nor removed); the rest syncs.
    case keep
    /// The whole feed fails, nothing of it is changed.
    case failFeed = "fail_feed"
}

/// A record whose key was read but not the rest: where and why.
public struct BadRecord: Sendable, Equatable, Codable {
    public var key: String
    public var line: Int?
    public var error: String

    public init(key: String, line: Int?, error: String) {
        self.key = key
        self.line = line
        self.error = error
    }
}

/// A body that cannot be read as its format says: where (line, when the format has lines) and why.
public struct FeedFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int?
    public var message: String

    public init(line: Int?, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "line \(line): \(message)" }
        return message
    }
}

/// One property of a record's canonical body, as the snapshot tools show it.
public struct CanonicalProperty: Sendable, Equatable {
    /// The property name, prefixed by its sub-component path: `SUMMARY`, `VALARM/TRIGGER`.
    public var name: String
    /// Everything after the name: `:value`, or `;PARAM=x:value` when there are parameters.
    public var rest: String

    public init(name: String, rest: String) {
        self.name = name
        self.rest = rest
    }

    /// `rest` without the leading `:` of a parameterless property.
    public var shown: String { rest.hasPrefix(":") ? String(rest.dropFirst()) : rest }
}

/// The formats a run knows, by name. The engine asks it for each feed's format; tests register
/// formats of their own.
public struct FormatRegistry: Sendable {
    public typealias Factory = @Sendable (FormatSettings) -> any FeedFormat
    private var factories: [String: Factory] = [:]
    /// Names in the order they were registered (for messages).
    public private(set) var names: [String] = []

    public init() {}

    public mutating func register(_ name: String, _ factory: @escaping Factory) {
        if factories[name] == nil { names.append(name) }
        factories[name] = factory
    }

    public func contains(_ name: String) -> Bool { factories[name] != nil }

    /// The format `name` made with `settings`; nil for a name never registered.
    public func make(_ name: String, settings: FormatSettings = FormatSettings()) -> (any FeedFormat)? {
        factories[name].map { $0(settings) }
    }
}
