import ICalendar
import ICalendarFeeds
import FeedModel
import FeedHash
import JSONOutput

/// What `feedsync parse` prints: the records of one feed body as the sync engine sees them.
package struct FeedInspection: Sendable {
    package var now: Int64
    package var window: (from: Int64, to: Int64)?
    /// The zone for floating times and all-day dates (`--timezone`); nil = `X-WR-TIMEZONE`, else UTC.
    package var timeZone: String?
    package var volatileProperties: [String]
    /// The format bodies are read with: nil for iCalendar (with `timeZone`, and occurrences in
    /// `window`); a configured feed's format (`feedsync parse --feed ID`) otherwise.
    package var format: (any FeedFormat)?

    package init(now: Int64, window: (from: Int64, to: Int64)? = nil, timeZone: String? = nil,
                volatileProperties: [String] = ["DTSTAMP"], format: (any FeedFormat)? = nil) {
        self.now = now
        self.window = window
        self.timeZone = timeZone
        self.volatileProperties = volatileProperties
        self.format = format
    }

    package struct Output: Sendable {
        /// One line per record (JSON objects or text).
        package var lines: [String]
        package var warnings: [String]
    }

    /// Counts of one feed, for `feedsync parse --summary`.
    package struct Summary: Sendable, Equatable {
        package var records: Int
        /// Records whose last end is after `now` (what a nightly run diffs).
        package var future: Int
        package var warnings: [String]
    }

    /// The window of `--between`, for an iCalendar body (a configured JSON or CSV feed lists none).
    private var occurrenceWindow: OccurrenceWindow? {
        guard let window, format == nil || format is ICalendarFormat else { return nil }
        return OccurrenceWindow(from: window.from, to: window.to, maxPerFeed: .max)
    }

    /// The records of `body` as `feedsync run` reads them, with occurrences when `window` is set.
    private func parse(_ body: [UInt8]) throws(FeedFormatError) -> ParsedFeed {
        if let format, !(format is ICalendarFormat) || window == nil { return try format.parse(body) }
        var parser = FeedParser(timeZone: "UTC", feedTimeZone: timeZone, volatileProperties: volatileProperties)
        parser.occurrenceWindow = occurrenceWindow
        do {
            return try parser.parse(body)
        } catch {
            throw FeedFormatError(line: error.line, message: error.message)
        }
    }

    /// Parses `body` exactly as `run` does (same records, keys, hashes and timing) but renders
    /// nothing: the counts only.
    package func summary(_ body: [UInt8]) throws(FeedFormatError) -> Summary {
        let parsed = try parse(body)
        var future = 0
        for r in parsed.records where r.isFuture(now: now) { future += 1 }
        return Summary(records: parsed.records.count, future: future, warnings: parsed.warnings)
    }

    /// Parses `body` and renders its records; throws what makes the feed unreadable.
    package func run(_ body: [UInt8], json: Bool) throws(FeedFormatError) -> Output {
        let parsed = try parse(body)
        let resolver = TimeZoneResolver(calendar: ICalComponent(name: "VCALENDAR", line: 1), defaultTimeZone: parsed.timeZone)
        func date(_ t: Int64) -> String { resolver.localDateTime(utc: t, tzid: nil).date.iso }
        func moment(_ t: Int64, _ allDay: Bool) -> String { allDay ? date(t) : ISOTime.format(t) }
        var lines: [String] = []
        lines.reserveCapacity(parsed.records.count)
        for r in parsed.records {
            // A JSON or CSV record without time fields has neither.
            let start: String? = r.hasTimes ? r.startDate ?? ISOTime.format(r.start) : nil
            let end: String? = r.hasTimes ? r.endDate ?? ISOTime.format(r.end) : nil
            // One meaning in the store and here: the instant the last occurrence ends (UTC), also
            // for all-day events (midnight at the start of the day after, in the feed's zone).
            let lastEnd = r.lastEnd.map(ISOTime.format)
            // A cancelled occurrence (an override with STATUS:CANCELLED) is not an occurrence here.
            let occurrences = occurrenceWindow.map { w in r.occurrences(in: w).filter { !($0.cancelled && r.recurrenceID != nil) } }
            let future = r.isFuture(now: now)
            if json {
                var members: [(String, JSONValue)] = [
                    ("key", .string(r.key)),
                    ("uid", .string(r.uid)),
                    ("recurrence_id", .optional(r.recurrenceID)),
                    ("start", .optional(start)),
                    ("end", .optional(end)),
                    ("all_day", .bool(r.allDay)),
                    ("start_date", .optional(r.hasTimes ? r.startDateText : nil)),
                    ("end_date", .optional(r.hasTimes ? r.endDateText : nil)),
                    ("last_end", .optional(lastEnd)),
                    ("future", .bool(future)),
                    ("hash", .string(hex64(r.hash))),
                    ("status", .optional(r.status)),
                    ("summary", .optional(r.summary)),
                ]
                if let data = r.data { members.append(("data", .string(data))) }
                if let occ = occurrences {
                    members.append(("occurrences", .array(occ.map { x in
                        .object([("start", .string(moment(x.start, r.allDay))), ("end", .string(moment(x.end, r.allDay)))])
                    })))
                }
                lines.append(JSONValue.object(members).renderCompact())
            } else {
                var s = r.hasTimes
                    ? "\(r.key)  \(start ?? "") → \(end ?? "")  last end \(lastEnd ?? "never")  \(future ? "future" : "past")"
                    : "\(r.key)  no times  current"
                if let summary = r.summary { s += "  " + summary.replacingNewlines() }
                if let occ = occurrences {
                    s += "\n" + occ.map { "    \(moment($0.start, r.allDay)) → \(moment($0.end, r.allDay))" }.joined(separator: "\n")
                }
                lines.append(s)
            }
        }
        return Output(lines: lines, warnings: parsed.warnings)
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        String(map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}
