/// One event record of a feed, as the sync engine sees it: its key, the hash of its canonical form,
/// its timing (for the future test) and the fields the store keeps.
public struct FeedRecord: Sendable, Equatable {
    /// The record key: `uid`, or `uid|RID:<recurrence id>` for an override, plus a `|DUP:` suffix
    /// when the feed holds the same key twice (see `RecordKey`).
    public var key: String
    public var uid: String
    /// Normalised RECURRENCE-ID (`YYYYMMDD` or `YYYYMMDDTHHMMSSZ`), nil for a master/single event.
    public var recurrenceID: String?
    /// XXH3-64 of `body`.
    public var hash: UInt64
    /// Start instant, Unix seconds UTC.
    public var start: Int64
    /// End instant of the (first) occurrence, Unix seconds UTC.
    public var end: Int64
    /// End of the last occurrence; nil = the series never ends.
    public var lastEnd: Int64?
    public var allDay: Bool
    /// For all-day events, the calendar dates (`YYYY-MM-DD`) of start and (exclusive) end.
    public var startDate: String?
    public var endDate: String?
    public var summary: String?
    public var description: String?
    public var location: String?
    public var status: String?
    /// The canonical form (see `CanonicalForm`).
    public var body: [UInt8]
    /// Occurrences in the parser's `occurrenceWindow` (nil when no window was asked for); not stored.
    public var occurrences: [FeedOccurrence]?
    /// False for a record with no start and no end (a JSON or CSV record without time fields): it
    /// is always current, and the store keeps no times for it (`start`, `end` and `last_end` are 0,
    /// 0 and nil here).
    public var hasTimes: Bool
    /// The record's fields as canonical JSON (JSON and CSV records; the store's `data` column).
    public var data: String?

    /// A cancelled occurrence of a series (an override, RECURRENCE-ID, with `STATUS:CANCELLED`):
    /// stored as a removed row (`removed_at` set), so that "what is booked" does not show it.
    public var isCancelledOccurrence: Bool { recurrenceID != nil && status == "CANCELLED" }

    public init(
        key: String, uid: String, recurrenceID: String?, hash: UInt64, start: Int64, end: Int64,
        lastEnd: Int64?, allDay: Bool, startDate: String? = nil, endDate: String? = nil,
        summary: String? = nil, description: String? = nil, location: String? = nil,
        status: String? = nil, body: [UInt8], occurrences: [FeedOccurrence]? = nil,
        hasTimes: Bool = true, data: String? = nil
    ) {
        self.key = key
        self.uid = uid
        self.recurrenceID = recurrenceID
        self.hash = hash
        self.start = start
        self.end = end
        self.lastEnd = lastEnd
        self.allDay = allDay
        self.startDate = startDate
        self.endDate = endDate
        self.summary = summary
        self.description = description
        self.location = location
        self.status = status
        self.body = body
        self.occurrences = occurrences
        self.hasTimes = hasTimes
        self.data = data
    }

    /// True when the record (for a series: its last occurrence) ends after `now`.
    @inlinable
    public func isFuture(now: Int64) -> Bool { endsAfter(lastEnd, now: now) }
}

/// One occurrence of a record, UTC instants.
public struct FeedOccurrence: Sendable, Equatable {
    public var start: Int64
    public var end: Int64
    public init(start: Int64, end: Int64) {
        self.start = start
        self.end = end
    }
}

/// True when an end instant (nil = never ends) is after `now`.
@inlinable
public func endsAfter(_ lastEnd: Int64?, now: Int64) -> Bool {
    guard let lastEnd else { return true }
    return lastEnd > now
}

/// How record keys are built.
public enum RecordKey {
    /// The key of a record: its UID, and for an override its normalised RECURRENCE-ID.
    public static func make(uid: String, recurrenceID: String?) -> String {
        guard let recurrenceID else { return uid }
        return uid + "|RID:" + recurrenceID
    }

    /// The key given to the second and later records that share `key` in one feed: the content hash
    /// makes it deterministic whatever order the feed lists them in.
    public static func disambiguated(_ key: String, hash: UInt64, ordinal: Int) -> String {
        ordinal == 0 ? key + "|DUP:" + hex64(hash) : key + "|DUP:" + hex64(hash) + "." + String(ordinal)
    }
}

import FeedHash
