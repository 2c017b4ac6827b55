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
    /// The local days the (first occurrence of the) record touches, as a half-open range of days
    /// since 1970-01-01 (`endDay` is the day after its last day): the store's `start_date` and
    /// `end_date`. Local to the feed's configured zone, else the event's own (its DTSTART's
    /// TZID), else the calendar's. nil for a record without times.
    public var startDay: Int64?
    public var endDay: Int64?
    /// A recurring series (RRULE or RDATE, not an override): its occurrences need the parser's
    /// occurrence window (`occurrences`); any other record is its own one occurrence.
    public var isSeries = false

    /// A cancelled occurrence of a series (an override, RECURRENCE-ID, with `STATUS:CANCELLED`):
    /// stored as a removed row (`removed_at` set), so that "what is booked" does not show it.
    public var isCancelledOccurrence: Bool { recurrenceID != nil && status == "CANCELLED" }

    public init(
        key: String, uid: String, recurrenceID: String?, hash: UInt64, start: Int64, end: Int64,
        lastEnd: Int64?, allDay: Bool, startDate: String? = nil, endDate: String? = nil,
        summary: String? = nil, description: String? = nil, location: String? = nil,
        status: String? = nil, body: [UInt8], occurrences: [FeedOccurrence]? = nil,
        hasTimes: Bool = true, data: String? = nil, startDay: Int64? = nil, endDay: Int64? = nil
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
        self.startDay = startDay
        self.endDay = endDay
    }

    /// The store's `start_date` / `end_date` (`YYYY-MM-DD`): the local days of `startDay` and
    /// `endDay`; for an all-day event, its dates as written.
    public var startDateText: String? { allDay ? startDate ?? startDay.map(ISOTime.formatDay) : startDay.map(ISOTime.formatDay) }
    public var endDateText: String? { allDay ? endDate ?? endDay.map(ISOTime.formatDay) : endDay.map(ISOTime.formatDay) }
    /// The cancelled flag of its occurrences: `STATUS:CANCELLED` (a cancelled series, event or
    /// occurrence).
    public var isCancelled: Bool { status == "CANCELLED" }

    /// True when the record (for a series: its last occurrence) ends after `now`.
    @inlinable
    public func isFuture(now: Int64) -> Bool { endsAfter(lastEnd, now: now) }

    /// Its occurrences in `window`: a series' as the parser expanded them (none if it was parsed
    /// without the window), any other record with times its own one when it overlaps.
    public func occurrences(in window: OccurrenceWindow) -> [FeedOccurrence] {
        if isSeries || occurrences != nil { return occurrences ?? [] }
        guard hasTimes, window.overlaps(start: start, end: end) else { return [] }
        return [FeedOccurrence(start: start, end: end, startDay: startDay ?? ISOTime.day(start),
                               endDay: endDay ?? ISOTime.day(start) + 1, cancelled: isCancelled)]
    }
}

/// One occurrence of a record: UTC instants, the local days it touches (half-open, days since
/// 1970-01-01, as `FeedRecord.startDay`), and whether it is cancelled.
public struct FeedOccurrence: Sendable, Equatable {
    public var start: Int64
    public var end: Int64
    public var startDay: Int64
    public var endDay: Int64
    public var cancelled: Bool
    public init(start: Int64, end: Int64, startDay: Int64 = 0, endDay: Int64 = 0, cancelled: Bool = false) {
        self.start = start
        self.end = end
        self.startDay = startDay
        self.endDay = endDay
        self.cancelled = cancelled
    }
}

/// The local days an instant range touches, half-open: `[day(start), day(last second) + 1)`,
/// given a function from an instant to its local day. A zero-length range touches its one day.
@inlinable
public func localDayRange(start: Int64, end: Int64, day: (Int64) -> Int64) -> (Int64, Int64) {
    let first = day(start)
    return end > start ? (first, max(first, day(end - 1)) + 1) : (first, first + 1)
}

/// Which occurrences a run materialises: those that end after `from` and start before `to`
/// (the `occurrences` table, docs/store.md).
public struct OccurrenceWindow: Sendable, Equatable {
    public var from: Int64
    public var to: Int64
    /// The most occurrences one feed may have in the window (the rest are left out, with a warning).
    public var maxPerFeed: Int
    public init(from: Int64, to: Int64, maxPerFeed: Int = OccurrenceWindow.defaultMaxPerFeed) {
        self.from = from
        self.to = to
        self.maxPerFeed = maxPerFeed
    }
    public static let defaultMaxPerFeed = 200_000

    /// True when [start, end) overlaps the window (a zero-length one: when it lies in it).
    @inlinable
    public func overlaps(start: Int64, end: Int64) -> Bool {
        (end > from || start == end && start >= from) && start < to
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
