public import FeedModel
import Foundation
import Records
import Yams

/// A feed's `children:`: one child feed per **future** record of the parent (an API's
/// registrations per event), fetched from a URL template filled from that record.
public struct ChildrenConfig: Sendable, Equatable {
    /// What the ids of a parent's children start with: `parent/name/` (the child's value follows).
    public func idPrefix(parent: String) -> String { "\(parent)/\(name)/" }

    /// The children's name: a child's id is `PARENT/NAME/PARENT_KEY`.
    public var name: String
    /// The URL template: `{field}` is the parent record's field (dotted paths reach into objects),
    /// `{since}` the incremental starting point (see `SinceSettings`).
    public var url: String
    public var format: String
    public var mapping: RecordMapping
    public var since: SinceSettings?
    public var pagination: Pagination?
    /// Zone for the children's times without an offset (default: the parent's).
    public var timeZone: String?

    public init(name: String, url: String, format: String, mapping: RecordMapping, since: SinceSettings? = nil,
                pagination: Pagination? = nil, timeZone: String? = nil) {
        self.name = name
        self.url = url
        self.format = format
        self.mapping = mapping
        self.since = since
        self.pagination = pagination
        self.timeZone = timeZone
    }
}

/// How `{since}` is written, and the safety margin taken off the last successful sync.
public struct SinceSettings: Sendable, Equatable {
    /// `unix` (seconds), `unix_ms`, `iso8601` (UTC, `2026-11-23T02:00:00Z`) or a strftime pattern (UTC).
    public var format: String
    public var overlapSeconds: Int64

    public init(format: String = "unix", overlapSeconds: Int64 = 300) {
        self.format = format
        self.overlapSeconds = overlapSeconds
    }

    /// `instant` written in `format`.
    public func text(_ instant: Int64) -> String {
        switch format {
        case "unix": return String(instant)
        case "unix_ms": return String(instant * 1000)
        case "iso8601": return ISOTime.format(instant)
        default:
            let d = Date(timeIntervalSince1970: Double(instant))
            var c = Calendar(identifier: .gregorian)
            c.timeZone = TimeZone(identifier: "UTC")!
            let p = c.dateComponents([.year, .month, .day, .hour, .minute, .second], from: d)
            var out = ""
            var it = format.makeIterator()
            while let ch = it.next() {
                guard ch == "%", let f = it.next() else { out.append(ch); continue }
                switch f {
                case "Y": out += String(format: "%04d", p.year ?? 0)
                case "m": out += String(format: "%02d", p.month ?? 0)
                case "d": out += String(format: "%02d", p.day ?? 0)
                case "H": out += String(format: "%02d", p.hour ?? 0)
                case "M": out += String(format: "%02d", p.minute ?? 0)
                case "S": out += String(format: "%02d", p.second ?? 0)
                case "%": out += "%"
                default: out += "%" + String(f)
                }
            }
            return out
        }
    }
}

/// Pages fetched until one holds fewer than `size` records; all pages form one body.
public struct Pagination: Sendable, Equatable {
    /// The page number's query parameter, and the first page's number.
    public var param: String
    public var first: Int
    /// The page size's query parameter (nil: the server's own size, which `size` must equal).
    public var sizeParam: String?
    public var size: Int

    public init(param: String, first: Int = 1, sizeParam: String? = nil, size: Int) {
        self.param = param
        self.first = first
        self.sizeParam = sizeParam
        self.size = size
    }
}

extension ConfigLoader {
    static let childKeys: Set<String> = Set(["name", "url", "format", "mapping", "since", "pagination", "timezone"])
        .union(MappingSettings.keys)

    /// Reads a feed's `children:` (its mapping settings over a named mapping, as a feed's).
    static func children(_ node: Node, parent: FeedConfig, named: [String: MappingSettings], folder: String,
                         formats: FormatRegistry, _ fail: (Node?, String) -> ConfigError) throws(ConfigError) -> ChildrenConfig {
        guard let map = node.mapping else { throw fail(node, "feed `\(parent.id)`: `children` must be a mapping") }
        for (k, _) in map where !childKeys.contains(k.string ?? "") {
            throw fail(k, "unknown `children` setting `\(k.string ?? "?")` (known: \(childKeys.sorted().joined(separator: ", ")))")
        }
        func text(_ key: String) throws(ConfigError) -> String? {
            guard let v = map[key] else { return nil }
            guard let s = v.scalar?.string, !s.isEmpty else { throw fail(v, "`children.\(key)` must be a single, non-empty value") }
            return s
        }
        guard let name = try text("name") else { throw fail(node, "feed `\(parent.id)`: `children` needs a `name`") }
        guard name.utf8.allSatisfy(isIDByte) else {
            throw fail(map["name"], "`children.name` `\(name)` may hold only letters, digits, `.`, `_` and `-`")
        }
        guard var url = try text("url") else { throw fail(node, "feed `\(parent.id)`: `children` needs a `url` template") }
        try checkTemplate(url, node: map["url"], fail)
        if !(url.hasPrefix("http://") || url.hasPrefix("https://") || url.hasPrefix("file://")) {
            guard !url.contains("://") else { throw fail(map["url"], "`children.url`: use http://, https://, file:// or a path") }
            url = "file://" + absolutePath(url, relativeTo: folder)
        }
        let format = try text("format") ?? "json"
        guard formats.contains(format), format != "ics" else {
            throw fail(map["format"], "`children.format` must be json or csv (got `\(format)`)")
        }
        var settings = try MappingSettings.read(map, node: node, fail)
        if let mappingName = try text("mapping") {
            guard let base = named[mappingName] else { throw fail(map["mapping"], "`children`: unknown mapping `\(mappingName)`") }
            settings = settings.over(base)
        }
        let mapping = try settings.resolve(feedID: "\(parent.id)/\(name)", format: format, feedNode: node, fail)

        var since: SinceSettings? = nil
        if let s = map["since"] {
            guard let sm = s.mapping else { throw fail(s, "`children.since` must be a mapping: {format: unix, overlap_seconds: 300}") }
            var value = SinceSettings()
            for (k, v) in sm {
                switch k.string ?? "" {
                case "format":
                    guard let f = v.scalar?.string, !f.isEmpty else { throw fail(v, "`since.format` must be unix, unix_ms, iso8601 or a pattern") }
                    guard ["unix", "unix_ms", "iso8601"].contains(f) || f.contains("%") else {
                        throw fail(v, "`since.format` must be unix, unix_ms, iso8601 or a pattern such as %Y-%m-%d %H:%M:%S")
                    }
                    value.format = f
                case "overlap_seconds": value.overlapSeconds = Int64(try int(v, "since.overlap_seconds", min: 0, fail))
                default: throw fail(k, "unknown `since` setting `\(k.string ?? "?")` (known: format, overlap_seconds)")
                }
            }
            guard url.contains("{since}") else {
                throw fail(s, "`children.since` is set but the url template has no `{since}`")
            }
            since = value
        }
        var pagination: Pagination? = nil
        if let p = map["pagination"] {
            guard let pm = p.mapping else { throw fail(p, "`children.pagination` must be a mapping: {param: page, size: 500}") }
            var param: String? = nil, first = 1, sizeParam: String? = nil, size: Int? = nil
            for (k, v) in pm {
                switch k.string ?? "" {
                case "param": param = try string(v, "pagination.param", fail)
                case "first": first = try int(v, "pagination.first", min: 0, fail)
                case "size_param": sizeParam = try string(v, "pagination.size_param", fail)
                case "size": size = try int(v, "pagination.size", min: 1, fail)
                default: throw fail(k, "unknown `pagination` setting `\(k.string ?? "?")` (known: first, param, size, size_param)")
                }
            }
            guard let param, let size else { throw fail(p, "`children.pagination` needs `param` and `size`") }
            pagination = Pagination(param: param, first: first, sizeParam: sizeParam, size: size)
        }
        var tz: String? = nil
        if let z = map["timezone"] { tz = try zone(z, "children.timezone", fail) }
        return ChildrenConfig(name: name, url: url, format: format, mapping: mapping, since: since,
                              pagination: pagination, timeZone: tz)
    }

    /// `{…}` placeholders must be closed and name something.
    static func checkTemplate(_ url: String, node: Node?, _ fail: (Node?, String) -> ConfigError) throws(ConfigError) {
        var open = false, name = ""
        for c in url {
            if c == "{" {
                if open { throw fail(node, "`children.url`: `{` inside a placeholder") }
                open = true
                name = ""
            } else if c == "}" {
                if !open || name.isEmpty { throw fail(node, "`children.url`: an empty or unopened placeholder") }
                open = false
            } else if open {
                name.append(c)
            }
        }
        if open { throw fail(node, "`children.url`: an unclosed `{`") }
    }
}
