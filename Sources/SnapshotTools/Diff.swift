import FeedHash
import FeedModel
import JSONOutput
import Snapshots

/// `feedsync snapshot diff A B`: what changed between two snapshots, record by record and, for a
/// changed record, property by property (from the canonical bodies).
package struct SnapshotDiff: Sendable {
    package struct PropertyChange: Sendable, Equatable {
        /// `SUMMARY`, `DTSTART`, `VALARM/TRIGGER`…
        package var name: String
        /// The property's values in A and in B (empty: absent); each is what follows the name
        /// (`value`, or `;PARAM=x:value`), in canonical order.
        package var old: [String]
        package var new: [String]
    }

    package struct Change: Sendable {
        package var old: SnapshotRecord
        package var new: SnapshotRecord
        package var properties: [PropertyChange]
        package var key: String { new.key }
    }

    package var a: SnapshotInspection
    package var b: SnapshotInspection
    package var added: [SnapshotRecord] = []
    package var removed: [SnapshotRecord] = []
    package var changed: [Change] = []
    package var unchanged = 0

    package var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }

    package init(_ a: SnapshotInspection, _ b: SnapshotInspection) {
        self.a = a
        self.b = b
        // Both record lists are sorted by key bytes (the format guarantees it): merge them.
        let x = a.snapshot.records, y = b.snapshot.records
        var i = 0, j = 0
        while i < x.count || j < y.count {
            let order: Int
            if i == x.count { order = 1 } else if j == y.count { order = -1 } else {
                order = x[i].key.utf8.elementsEqual(y[j].key.utf8) ? 0
                    : (x[i].key.utf8.lexicographicallyPrecedes(y[j].key.utf8) ? -1 : 1)
            }
            if order < 0 {
                removed.append(x[i]); i += 1
            } else if order > 0 {
                added.append(y[j]); j += 1
            } else {
                let o = x[i], n = y[j]
                if o.hash == n.hash && o.body == n.body && o.start == n.start && o.lastEnd == n.lastEnd && o.allDay == n.allDay {
                    unchanged += 1
                } else {
                    changed.append(Change(old: o, new: n, properties: Self.propertyChanges(o.body, n.body, format: b.format)))
                }
                i += 1; j += 1
            }
        }
    }

    /// Properties whose values differ between two canonical bodies, in name order.
    /// (Without a format that can read the bodies, none: the change shows as timing or flags only.)
    package static func propertyChanges(_ old: [UInt8], _ new: [UInt8], format: (any FeedFormat)?) -> [PropertyChange] {
        guard let format else { return [] }
        var before: [String: [String]] = [:], after: [String: [String]] = [:]
        for p in format.properties(ofCanonicalBody: old) { before[p.name, default: []].append(p.shown) }
        for p in format.properties(ofCanonicalBody: new) { after[p.name, default: []].append(p.shown) }
        let names = Set(before.keys).union(after.keys).sorted()
        return names.compactMap { name in
            let o = before[name] ?? [], n = after[name] ?? []
            return o == n ? nil : PropertyChange(name: name, old: o, new: n)
        }
    }

    // MARK: Text

    package func textLines() -> [String] {
        var lines = [
            "A: \(describe(a))",
            "B: \(describe(b))",
        ]
        let now = b.now
        func brief(_ r: SnapshotRecord) -> String {
            var s = "\(r.key)  \(Show.instant(r.start, allDay: r.allDay))"
            if let summary = b.summary(r) { s += "  \(oneLine(summary))" }
            if !SnapshotInspection.isFuture(r, now: now) { s += "  (past)" }
            return s
        }
        for r in added { lines.append("+ " + brief(r)) }
        for r in removed { lines.append("- " + brief(r)) }
        for c in changed {
            lines.append("~ " + brief(c.new))
            for p in c.properties {
                lines.append("    \(p.name): \(Self.values(p.old)) → \(Self.values(p.new))")
            }
            if c.properties.isEmpty {
                lines.append("    (same properties; timing or flags differ)")
            }
        }
        lines.append("records: \(added.count) added, \(removed.count) removed, \(changed.count) changed, \(unchanged) unchanged")
        return lines
    }

    private func describe(_ s: SnapshotInspection) -> String {
        "\(s.path) (feed \(s.header.feedID), generation \(s.header.generation), created \(ISOTime.format(s.header.createdAt)), \(s.header.recordCount) records)"
    }

    static func values(_ v: [String]) -> String {
        v.isEmpty ? "(absent)" : v.map(oneLine).joined(separator: " | ")
    }

    // MARK: JSON

    package func json() -> JSONValue {
        func side(_ s: SnapshotInspection) -> JSONValue {
            .object([
                ("path", .string(s.path)),
                ("feed_id", .string(s.header.feedID)),
                ("generation", .uint(s.header.generation)),
                ("created_at", .string(ISOTime.format(s.header.createdAt))),
                ("record_count", .uint(s.header.recordCount)),
            ])
        }
        let now = b.now
        return .object([
            ("a", side(a)),
            ("b", side(b)),
            ("now", .string(ISOTime.format(now))),
            ("added", .array(added.map { b.recordJSON($0) })),
            ("removed", .array(removed.map { b.recordJSON($0) })),
            ("changed", .array(changed.map { c in
                .object([
                    ("key", .string(c.key)),
                    ("old", b.recordJSON(c.old)),
                    ("new", b.recordJSON(c.new)),
                    ("properties", .array(c.properties.map { p in
                        .object([("name", .string(p.name)),
                                 ("old", .array(p.old.map(JSONValue.string))),
                                 ("new", .array(p.new.map(JSONValue.string)))])
                    })),
                ])
            })),
            ("unchanged", .int(Int64(unchanged))),
        ])
    }
}
