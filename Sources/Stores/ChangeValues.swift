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

    fileprivate var members: [(String, JSONValue?, String?)] {
        // (name, value, or raw JSON for `data`)
        [("start", .optional(start), nil), ("end", .optional(end), nil), ("start_date", .optional(startDate), nil),
         ("end_date", .optional(endDate), nil), ("all_day", .bool(allDay), nil), ("last_end", .optional(lastEnd), nil),
         ("summary", .optional(summary), nil), ("description", .optional(description), nil),
         ("location", .optional(location), nil), ("status", .optional(status), nil),
         ("data", data == nil ? .null : nil, data)]
    }
}

/// The values `changes` records for one change: for an addition the new row's fields, for a
/// removal the old row's, for an update only the fields that differ, before and after. Fields
/// without a value are left out of an addition's and a removal's objects; in an update a field
/// that gained or lost its value shows `null` on that side.
public enum ChangeValues {
    public static func render(old: ChangeFields?, new: ChangeFields?) -> (old: String?, new: String?) {
        switch (old, new) {
        case (nil, nil): return (nil, nil)
        case (let o?, nil): return (object(o.members, only: nil, skipNull: true), nil)
        case (nil, let n?): return (nil, object(n.members, only: nil, skipNull: true))
        case (let o?, let n?):
            let om = o.members, nm = n.members
            var differ = Set<String>()
            for (a, b) in zip(om, nm) where a.1 != b.1 || a.2 != b.2 { differ.insert(a.0) }
            return (object(om, only: differ, skipNull: false), object(nm, only: differ, skipNull: false))
        }
    }

    private static func object(_ members: [(String, JSONValue?, String?)], only: Set<String>?, skipNull: Bool) -> String {
        var out = "{"
        var first = true
        for (name, value, raw) in members {
            if let only, !only.contains(name) { continue }
            if skipNull, value == .null { continue }
            if !first { out += "," }
            first = false
            out += JSONValue.string(name).renderCompact() + ":"
            out += raw ?? value?.renderCompact() ?? "null"
        }
        return out + "}"
    }
}
