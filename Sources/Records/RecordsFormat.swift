public import FeedHash
public import FeedModel
import JSONOutput

/// JSON feeds (`format: json`) and CSV feeds (`format: csv`): records found by the feed's mapping
/// (`RecordMapping`), keyed by its key fields, hashed over their canonical JSON (keys sorted,
/// volatile fields out, one spelling per number), timed by its start and end fields.
public struct RecordsFormat: FeedFormat {
    public enum Kind: String, Sendable { case json, csv }

    public static let parserVersion: UInt32 = 1

    public let kind: Kind
    public let mapping: RecordMapping
    private let volatile: Set<String>
    private let time: RecordTime?
    private let timeError: FeedFormatError?
    private let pointer: [String]
    /// The zone times without an offset are read in.
    private let zone: String
    private let maxRecords: Int

    /// A format without a mapping (`settings.mapping` nil) reads nothing but can still show the
    /// canonical bodies of its snapshots (the snapshot tools).
    public init(_ kind: Kind, settings: FormatSettings) {
        self.kind = kind
        mapping = settings.mapping ?? RecordMapping(key: [])
        volatile = Set(mapping.volatile)
        do {
            time = try RecordTime(mapping.timeFormat, zone: settings.feedTimeZone ?? settings.timeZone)
            timeError = nil
        } catch {
            time = nil
            timeError = error
        }
        pointer = Self.segments(mapping.records)
        zone = settings.feedTimeZone ?? settings.timeZone
        maxRecords = settings.maxRecords
    }

    public var name: String { kind.rawValue }
    public var describedAs: String { kind == .json ? "a JSON feed" : "a CSV feed" }
    public var parserVersion: UInt32 { Self.parserVersion }
    public var accept: String { kind == .json ? "application/json, */*;q=0.5" : "text/csv, */*;q=0.5" }

    public func sniff(_ body: [UInt8]) -> Bool {
        var i = 0
        if body.count >= 3, body[0] == 0xEF, body[1] == 0xBB, body[2] == 0xBF { i = 3 }
        while i < body.count, [0x20, 0x09, 0x0D, 0x0A].contains(body[i]) { i += 1 }
        guard i < body.count else { return false }
        switch kind {
        case .json: return body[i] == UInt8(ascii: "{") || body[i] == UInt8(ascii: "[")
        case .csv:
            return body[i] != UInt8(ascii: "<") && body[i] != UInt8(ascii: "{") && body[i] != UInt8(ascii: "[")
                && !body.prefix(4096).contains(0)
        }
    }

    /// XXH3-128 of the body, or, when the mapping names volatile fields, of its canonical form
    /// without them (a body that does not parse is hashed as it is: parsing will say what is wrong).
    public func fingerprint(_ body: [UInt8]) -> Fingerprint128 {
        guard !volatile.isEmpty else { return body.withUnsafeBytes { XXH3.hash128($0) } }
        switch kind {
        case .json:
            guard let root = try? JSONReader.read(body) else { return body.withUnsafeBytes { XXH3.hash128($0) } }
            return CanonicalJSON.bytes(root, dropping: volatile).withUnsafeBytes { XXH3.hash128($0) }
        case .csv:
            guard let table = try? CSVReader.read(body, delimiter: mapping.delimiter) else {
                return body.withUnsafeBytes { XXH3.hash128($0) }
            }
            let keep = table.header.indices.filter { !volatile.contains(table.header[$0]) }
            var stream = XXH3Stream128()
            for row in [table.header] + table.rows {
                for k in keep {
                    var field = Array(row[k].utf8)
                    field.append(0x1F)
                    field.withUnsafeBytes { stream.update($0) }
                }
                [UInt8(0x1E)].withUnsafeBytes { stream.update($0) }
            }
            return stream.finish()
        }
    }

    public func parse(_ body: [UInt8]) throws(FeedFormatError) -> ParsedFeed {
        if let timeError { throw timeError }
        guard !mapping.key.isEmpty else { throw FeedFormatError(line: nil, message: "the feed's mapping has no `key`") }
        var found: [(node: JSONNode, position: String)] = []
        switch kind {
        case .json:
            let root = try JSONReader.read(body)
            found = try records(in: root)
        case .csv:
            let table = try CSVReader.read(body, delimiter: mapping.delimiter)
            found.reserveCapacity(table.rows.count)
            for (k, row) in table.rows.enumerated() {
                found.append((.object(zip(table.header, row).map { ($0, .string($1)) }), "row \(k + 1) (line \(table.lines[k]))"))
            }
        }
        if found.count > maxRecords {
            throw FeedFormatError(line: nil, message: "\(found.count) records; the limit is \(maxRecords) (`max_records`)")
        }
        var records: [FeedRecord] = []
        records.reserveCapacity(found.count)
        for (n, r) in found.enumerated() {
            records.append(try record(r.node, number: n + 1, position: r.position))
        }
        var warnings: [String] = []
        disambiguate(&records, warnings: &warnings)
        return ParsedFeed(records: records, warnings: warnings, timeZone: zone)
    }

    // MARK: Records

    /// RFC 6901 segments of the `records` pointer (`~1` is `/`, `~0` is `~`); `*` is every element.
    static func segments(_ pointer: String) -> [String] {
        guard !pointer.isEmpty else { return [] }
        return pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    /// Whether a `records` pointer is well formed (the config loader checks it).
    public static func isValidPointer(_ pointer: String) -> Bool { pointer.isEmpty || pointer.hasPrefix("/") }

    private func records(in root: JSONNode) throws(FeedFormatError) -> [(node: JSONNode, position: String)] {
        var current: [(JSONNode, String)] = [(root, "")]
        var underWildcard = false
        for segment in pointer {
            var next: [(JSONNode, String)] = []
            for (node, path) in current {
                let escaped = segment.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
                if segment == "*" {
                    switch node {
                    case .array(let items): next += items.enumerated().map { ($1, "\(path)/\($0)") }
                    case .object(let members): next += members.map { ($1, "\(path)/\($0)") }
                    default: throw FeedFormatError(line: nil, message: "records `\(mapping.records)`: \(path.isEmpty ? "the body" : path) is \(node.kind), not an array")
                    }
                } else if let child = node[member: segment] {
                    next.append((child, "\(path)/\(escaped)"))
                } else if case .array(let items) = node, let index = Int(segment), items.indices.contains(index) {
                    next.append((items[index], "\(path)/\(segment)"))
                } else if !underWildcard {
                    throw FeedFormatError(line: nil, message: "records `\(mapping.records)`: \(path.isEmpty ? "the body" : path) has no `\(segment)`")
                }
                // Under a `*`, an element without this member holds no records.
            }
            if segment == "*" { underWildcard = true }
            current = next
        }
        var out: [(node: JSONNode, position: String)] = []
        for (node, path) in current {
            guard case .array(let items) = node else {
                throw FeedFormatError(line: nil, message: "records `\(mapping.records)`: \(path.isEmpty ? "the body" : path) is \(node.kind), not an array of records")
            }
            for (k, item) in items.enumerated() { out.append((item, "\(path)/\(k)")) }
        }
        return out
    }

    /// The value at a dotted path (`user.user_id`).
    package static func value(_ node: JSONNode, at path: String) -> JSONNode? {
        var current = node
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard let next = current[member: String(part)] else { return nil }
            current = next
        }
        return current
    }

    /// A scalar as text: strings as they are, numbers as written, booleans; nil otherwise.
    package static func text(_ node: JSONNode?) -> String? {
        switch node {
        case .string(let s): s
        case .number(let n): n
        case .bool(let b): b ? "true" : "false"
        default: nil
        }
    }

    private func record(_ node: JSONNode, number: Int, position: String) throws(FeedFormatError) -> FeedRecord {
        let at = "record \(number) (\(position))"
        guard case .object(let members) = node else {
            throw FeedFormatError(line: nil, message: "\(at) is \(node.kind), not an object")
        }
        var keyParts: [String] = []
        for field in mapping.key {
            guard let v = Self.text(Self.value(node, at: field)), !v.isEmpty else {
                throw FeedFormatError(line: nil, message: "\(at) has no key `\(field)`")
            }
            keyParts.append(v)
        }
        let key = keyParts.joined(separator: "|")
        let reader = self.time
        func time(_ field: String?) throws(FeedFormatError) -> RecordTime.Value? {
            guard let field, let v = Self.value(node, at: field), v != .null else { return nil }
            if case .string(let s) = v, s.isEmpty { return nil }
            guard let reader, let t = reader.read(v) else {
                throw FeedFormatError(line: nil, message: "\(at): `\(field)` \(Self.text(v).map { "\"\($0.prefix(40))\"" } ?? v.kind) does not match time_format \(mapping.timeFormat)")
            }
            return t
        }
        let start = try time(mapping.start)
        let end = try time(mapping.end)
        let kept: JSONNode = mapping.fields.isEmpty ? node : .object(members.filter { mapping.fields.contains($0.0) })
        let body = CanonicalJSON.bytes(kept, dropping: volatile)
        let first = start ?? end
        let allDay = first?.date != nil
        var days: (Int64, Int64)? = nil
        if let first, let reader {
            let last = end ?? first
            if allDay, let s = first.date.flatMap(ISOTime.parseDay) {
                let e = last.date.flatMap(ISOTime.parseDay) ?? s + 1
                days = (s, max(e, s + 1))
            } else {
                days = localDayRange(start: first.instant, end: last.instant, day: reader.localDay)
            }
        }
        return FeedRecord(
            key: key, uid: key, recurrenceID: nil, hash: XXH3.hash64(body),
            start: first?.instant ?? 0, end: (end ?? start)?.instant ?? 0, lastEnd: (end ?? start)?.instant,
            allDay: allDay, startDate: allDay ? first?.date : nil, endDate: allDay ? (end ?? start)?.date : nil,
            summary: mapping.summary.flatMap { Self.text(Self.value(node, at: $0)) },
            body: body, hasTimes: first != nil, data: String(decoding: body, as: UTF8.self),
            startDay: days?.0, endDay: days?.1)
    }

    /// Records that share a key: identical copies are kept once, different ones get distinct,
    /// deterministic keys (as iCalendar events do), each with a warning.
    private func disambiguate(_ records: inout [FeedRecord], warnings: inout [String]) {
        var count: [String: Int] = [:]
        for r in records { count[r.key, default: 0] += 1 }
        guard count.values.contains(where: { $0 > 1 }) else { return }
        var seen: [String: [UInt64]] = [:]
        var result: [FeedRecord] = []
        for var r in records {
            guard count[r.key]! > 1 else { result.append(r); continue }
            let hashes = seen[r.key, default: []]
            if hashes.contains(r.hash) { continue }
            seen[r.key, default: []].append(r.hash)
            if !hashes.isEmpty {
                let original = r.key
                r.key = RecordKey.disambiguated(original, hash: r.hash, ordinal: hashes.count - 1)
                r.uid = original
            }
            result.append(r)
        }
        for (key, n) in count.sorted(by: { $0.key < $1.key }) where n > 1 {
            let distinct = seen[key]?.count ?? 1
            warnings.append("\(n) records share the key \(key)" + (distinct > 1 ? "; kept as \(distinct) records" : "; identical copies merged"))
        }
        records = result
    }

    // MARK: Rendering

    public func properties(ofCanonicalBody body: [UInt8]) -> [CanonicalProperty] {
        guard case .object(let members)? = try? JSONReader.read(body) else { return [] }
        return members.map { CanonicalProperty(name: $0.0, rest: ":" + CanonicalJSON.text($0.1)) }
    }

    public func summary(ofCanonicalBody body: [UInt8]) -> String? {
        guard let node = try? JSONReader.read(body) else { return nil }
        for field in [mapping.summary, "summary", "name", "title"].compactMap({ $0 }) {
            if let s = Self.text(Self.value(node, at: field)) { return s }
        }
        return nil
    }
}

extension FormatRegistry {
    /// Registers `json` and `csv`.
    public mutating func registerRecords() {
        register(RecordsFormat.Kind.json.rawValue) { RecordsFormat(.json, settings: $0) }
        register(RecordsFormat.Kind.csv.rawValue) { RecordsFormat(.csv, settings: $0) }
    }
}
