public import FeedModel
import JSONOutput
import Records

/// The fields of an events row that the change log shows (`changes.old_values`, `new_values`),
/// each rendered one way whatever the store: a start or end as the row's `start` shows it (an
/// instant `YYYY-MM-DDTHH:MM:SSZ`, a date for an all-day event), dates `YYYY-MM-DD`, a last end as
/// an instant (nil: never ends), `data` as canonical JSON.
public struct ChangeFields: Sendable, Equatable {
    public var start: String?
    public var end: String?
    public var startDate: String?
    public var endDate: String?
    public var allDay: Bool
    public var lastEnd: String?
    public var summary: String?
    public var description: String?
    public var location: String?
    public var status: String?
    /// Canonical JSON text (members sorted, one spelling per number).
    public var data: String?

    public init(start: String?, end: String?, startDate: String?, endDate: String?, allDay: Bool, lastEnd: String?,
                summary: String?, description: String?, location: String?, status: String?, data: String?) {
        self.start = start
        self.end = end
        self.startDate = startDate
        self.endDate = endDate
        self.allDay = allDay
        self.lastEnd = lastEnd
        self.summary = summary
        self.description = description
        self.location = location
        self.status = status
        self.data = data
    }

    /// The fields of a record as the store writes them.
    public init(_ r: FeedRecord) {
        let timed = r.hasTimes
        self.init(start: timed ? (r.allDay ? r.startDate ?? ISOTime.format(r.start) : ISOTime.format(r.start)) : nil,
                  end: timed ? (r.allDay ? r.endDate ?? ISOTime.format(r.end) : ISOTime.format(r.end)) : nil,
                  startDate: timed ? r.startDateText : nil, endDate: timed ? r.endDateText : nil, allDay: r.allDay,
                  lastEnd: r.lastEnd.map(ISOTime.format), summary: r.summary, description: r.description,
                  location: r.location, status: r.status, data: r.data)
    }

    /// `data` as a store gives it back (PostgreSQL's `jsonb` re-spaces and reorders it), in the
    /// canonical form records are written in; text that is not JSON is kept as a JSON string.
    public static func canonicalData(_ text: String?) -> String? {
        guard let text else { return nil }
        guard let node = try? JSONReader.read(Array(text.utf8)) else { return JSONValue.string(text).renderCompact() }
        return CanonicalJSON.text(node)
    }

    /// The fields in their JSON order: (name, text value or nil, is JSON already). `all_day` is
    /// `true`/`false`, `data` raw JSON; the rest are strings.
    fileprivate var members: [(StaticString, String?, Bool)] {
        [("start", start, false), ("end", end, false), ("start_date", startDate, false), ("end_date", endDate, false),
         ("all_day", allDay ? "true" : "false", true), ("last_end", lastEnd, false), ("summary", summary, false),
         ("description", description, false), ("location", location, false), ("status", status, false),
         ("data", data, true)]
    }
}

/// The values `changes` records for one change: for a removal the old row's fields, for an update
/// only the fields that differ, before and after (an addition logs none: its row holds them).
/// Fields without a value are left out of a removal's object; in an update a field that gained or
/// lost its value shows `null` on that side.
public enum ChangeValues {
    /// A removal's: the removed row's fields.
    public static func removed(_ old: ChangeFields) -> String { object(old.members, only: nil) }

    /// An update's: the fields that differ, before and after.
    public static func updated(from old: ChangeFields, to new: ChangeFields) -> (old: String, new: String) {
        let om = old.members, nm = new.members
        let differ = om.indices.map { om[$0].1 != nm[$0].1 }
        return (object(om, only: differ), object(nm, only: differ))
    }

    /// `{"name":value,…}`. Without `only`, fields without a value are left out; with it, the
    /// chosen ones are written, a missing value as `null`.
    private static func object(_ members: [(StaticString, String?, Bool)], only: [Bool]?) -> String {
        var out = "{"
        for (i, (name, value, raw)) in members.enumerated() {
            if let only { guard only[i] else { continue } } else if value == nil { continue }
            if out.count > 1 { out += "," }
            out += "\"\(name)\":"
            guard let value else { out += "null"; continue }
            out += raw ? value : JSONValue.string(value).renderCompact()
        }
        return out + "}"
    }
}
