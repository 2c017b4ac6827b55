import FeedModel
import Records
import Yams

/// The mapping settings of JSON and CSV feeds, as written: on a feed, or in a named mapping of the
/// top-level `mappings:` that feeds name with `mapping: NAME` (a feed's own settings win).
struct MappingSettings {
    static let keys: Set<String> = ["records", "key", "start", "end", "time_format", "summary", "fields", "volatile", "delimiter"]

    var records: String?
    var key: [String]?
    var start: String?
    var end: String?
    var timeFormat: String?
    var summary: String?
    var fields: [String]?
    var volatile: [String]?
    var delimiter: UInt8?
    /// Where the settings are written, for messages.
    var node: Node?

    var isEmpty: Bool {
        records == nil && key == nil && start == nil && end == nil && timeFormat == nil && summary == nil
            && fields == nil && volatile == nil && delimiter == nil
    }

    /// Reads the mapping keys of `map` (other keys are the caller's).
    static func read(_ map: Node.Mapping, node: Node, _ fail: (Node?, String) -> ConfigError) throws(ConfigError) -> MappingSettings {
        var m = MappingSettings(node: node)
        func text(_ v: Node, _ key: String) throws(ConfigError) -> String {
            guard let s = v.scalar?.string, !s.isEmpty else { throw fail(v, "`\(key)` must be a single, non-empty value") }
            return s
        }
        func list(_ v: Node, _ key: String) throws(ConfigError) -> [String] {
            if let s = v.scalar?.string, !s.isEmpty { return [s] }
            guard let seq = v.sequence, !seq.isEmpty else { throw fail(v, "`\(key)` must be a field name or a list of them") }
            var out: [String] = []
            for item in seq { out.append(try text(item, key)) }
            return out
        }
        for (k, v) in map {
            guard let key = k.string, keys.contains(key) else { continue }
            switch key {
            case "records":
                let p = try text(v, key)
                guard RecordsFormat.isValidPointer(p) else {
                    throw fail(v, "`records` must be a JSON Pointer such as /race/events or /*/participants (it starts with /)")
                }
                m.records = p
            case "key": m.key = try list(v, key)
            case "start": m.start = try text(v, key)
            case "end": m.end = try text(v, key)
            case "time_format":
                let f = try text(v, key)
                do {
                    _ = try RecordTime(f, zone: "UTC")
                } catch {
                    throw fail(v, error.message)
                }
                m.timeFormat = f
            case "summary": m.summary = try text(v, key)
            case "fields": m.fields = try list(v, key)
            case "volatile": m.volatile = try list(v, key)
            case "delimiter":
                let d = v.scalar?.string ?? ""
                let byte: UInt8? = d == "\\t" || d == "\t" ? 0x09 : (d.utf8.count == 1 ? d.utf8.first : nil)
                guard let byte, byte != UInt8(ascii: "\""), byte != 0x0A, byte != 0x0D else {
                    throw fail(v, "`delimiter` must be one character other than a quote or a line break (\\t for a tab)")
                }
                m.delimiter = byte
            default: break
            }
        }
        return m
    }

    /// These settings over `base` (a feed's own over its named mapping).
    func over(_ base: MappingSettings) -> MappingSettings {
        MappingSettings(records: records ?? base.records, key: key ?? base.key, start: start ?? base.start,
                        end: end ?? base.end, timeFormat: timeFormat ?? base.timeFormat, summary: summary ?? base.summary,
                        fields: fields ?? base.fields, volatile: volatile ?? base.volatile,
                        delimiter: delimiter ?? base.delimiter, node: node ?? base.node)
    }

    /// The mapping of a feed of `format`; a JSON or CSV feed needs at least a `key`.
    func resolve(feedID: String, format: String, feedNode: Node?, _ fail: (Node?, String) -> ConfigError) throws(ConfigError) -> RecordMapping {
        guard let key, !key.isEmpty else {
            throw fail(feedNode, "feed `\(feedID)` (format \(format)) needs a `key`: the field(s) identifying a record, on the feed or in its mapping")
        }
        if format == "csv", let records {
            throw fail(node, "feed `\(feedID)`: `records: \(records)` applies to JSON feeds (every row of a CSV feed is a record)")
        }
        if format == "json", delimiter != nil {
            throw fail(node, "feed `\(feedID)`: `delimiter` applies to CSV feeds")
        }
        return RecordMapping(records: records ?? "", key: key, start: start, end: end, timeFormat: timeFormat ?? "iso8601",
                             summary: summary, fields: fields ?? [], volatile: volatile ?? [],
                             delimiter: delimiter ?? UInt8(ascii: ","))
    }
}
