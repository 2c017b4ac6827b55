import FeedModel

/// The configured feeds, in order: a collection of `FeedConfig` held packed. A feed with only an
/// id, a URL, a property, a time zone, a format and `on_bad_event` (the rows of a `feeds_file`, most
/// YAML entries) takes one row of 28 bytes plus its strings' bytes, its URL's folder shared with the
/// others; a feed with any other setting is kept whole. Each element is made when it is read. At
/// 100,000 feeds the list takes ~10 MB instead of ~30 MB as an array of `FeedConfig`
/// (docs/limits.md, memory).
public struct FeedList: Sendable, Equatable, RandomAccessCollection, MutableCollection, ExpressibleByArrayLiteral {
    public typealias Index = Int
    public typealias Element = FeedConfig

    private struct Row: Sendable {
        var idStart: UInt32
        var urlStart: UInt32
        var propertyStart: UInt32
        var line: UInt32
        var idLength: UInt16
        var urlLength: UInt16
        /// nil: `noValue`.
        var propertyLength: UInt16
        var urlPrefix: UInt16
        var zone: UInt16
        var format: UInt8
        /// 0: nil, 1 + the policy's index.
        var onBadEvent: UInt8
    }
    private static let noValue = UInt16.max

    private var bytes: [UInt8] = []
    private var rows: [Row] = []
    /// Shared strings: URL folders (up to the last `/`), time zones, formats.
    private var prefixes = Strings()
    private var zones = Strings()
    private var formats = Strings()
    /// Feeds kept whole (other settings, or set after they were added), by index.
    private var whole: [Int: FeedConfig] = [:]

    /// A small table of distinct strings.
    private struct Strings: Sendable {
        var values: [String] = []
        var index: [String: UInt16] = [:]
        mutating func intern(_ s: String) -> UInt16? {
            if let i = index[s] { return i }
            guard values.count < Int(FeedList.noValue) - 1 else { return nil }
            let i = UInt16(values.count)
            values.append(s)
            index[s] = i
            return i
        }
    }

    public init() {}

    public init(_ feeds: some Sequence<FeedConfig>) {
        for f in feeds { append(f) }
    }

    public init(arrayLiteral elements: FeedConfig...) { self.init(elements) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { rows.count }

    /// Room for `n` feeds whose strings take about `bytes` bytes (a list grown by doubling holds
    /// twice its size while it grows).
    public mutating func reserveCapacity(_ n: Int, bytes: Int) {
        rows.reserveCapacity(n)
        self.bytes.reserveCapacity(self.bytes.count + bytes)
    }

    public subscript(i: Int) -> FeedConfig {
        get {
            if let w = whole[i] { return w }
            let r = rows[i]
            var feed = FeedConfig(id: text(r.idStart, r.idLength),
                                  url: prefixes.values[Int(r.urlPrefix)] + text(r.urlStart, r.urlLength),
                                  property: r.propertyLength == Self.noValue ? nil : text(r.propertyStart, r.propertyLength),
                                  timeZone: r.zone == Self.noValue ? nil : zones.values[Int(r.zone)],
                                  line: Int(r.line), format: formats.values[Int(r.format)])
            feed.onBadEvent = r.onBadEvent == 0 ? nil : BadRecordPolicy.allCases[Int(r.onBadEvent) - 1]
            return feed
        }
        set {
            whole[i] = newValue
        }
    }

    /// The id of feed `i`, without making the rest of it.
    public func id(at i: Int) -> String {
        if let w = whole[i] { return w.id }
        return text(rows[i].idStart, rows[i].idLength)
    }

    /// Whether feed `i` has `children:` (only a feed kept whole can).
    public func hasChildren(at i: Int) -> Bool { whole[i]?.children != nil }

    /// The ids, in order.
    public var ids: [String] { indices.map(id(at:)) }

    /// What the ids of children start with, for every feed with `children:`.
    public var childIDPrefixes: [String] {
        whole.keys.sorted().compactMap { whole[$0]?.childIDPrefix }
    }

    /// Whether any feed is fetched over HTTP.
    public var anyHTTP: Bool {
        if whole.values.contains(where: \.isHTTP) { return true }
        let http = Set(prefixes.values.indices.filter { i in
            prefixes.values[i].hasPrefix("http://") || prefixes.values[i].hasPrefix("https://") })
        return !http.isEmpty && rows.indices.contains { whole[$0] == nil && http.contains(Int(rows[$0].urlPrefix)) }
    }

    public mutating func append(_ feed: FeedConfig) {
        let i = rows.count
        guard let row = pack(feed) else {
            rows.append(Row(idStart: 0, urlStart: 0, propertyStart: 0, line: 0, idLength: 0, urlLength: 0,
                            propertyLength: Self.noValue, urlPrefix: 0, zone: Self.noValue, format: 0, onBadEvent: 0))
            whole[i] = feed
            return
        }
        rows.append(row)
    }

    public mutating func append(contentsOf feeds: some Sequence<FeedConfig>) {
        for f in feeds { append(f) }
    }

    public static func == (a: FeedList, b: FeedList) -> Bool { a.elementsEqual(b) }

    private func text(_ start: UInt32, _ length: UInt16) -> String {
        let s = Int(start)
        return String(decoding: bytes[s..<(s + Int(length))], as: UTF8.self)
    }

    /// The row of a feed that has no other setting, nil when it needs to be kept whole.
    private mutating func pack(_ f: FeedConfig) -> Row? {
        guard f.limits == nil, f.mapping == nil, f.children == nil, f.parent == nil, f.since == nil,
              f.pagination == nil, f.childValues.isEmpty, f.line >= 0, f.line <= Int(UInt32.max) else { return nil }
        let url = f.url.utf8
        let cut = url.lastIndex(of: UInt8(ascii: "/")).map { url.index(after: $0) } ?? url.startIndex
        let prefix = String(f.url[..<cut]), rest = f.url.utf8[cut...]
        let limit = Int(Self.noValue) - 1
        guard f.id.utf8.count <= limit, rest.count <= limit, (f.property?.utf8.count ?? 0) <= limit,
              bytes.count + f.id.utf8.count + rest.count + (f.property?.utf8.count ?? 0) <= Int(UInt32.max) else { return nil }
        // Interned values are only added once the row is sure to be packed.
        var p = prefixes, z = zones, fm = formats
        guard let prefixIndex = p.intern(prefix), let formatIndex = fm.intern(f.format), formatIndex < 255 else { return nil }
        var zone = Self.noValue
        if let tz = f.timeZone {
            guard let zi = z.intern(tz) else { return nil }
            zone = zi
        }
        let onBad: UInt8 = f.onBadEvent.map { UInt8(BadRecordPolicy.allCases.firstIndex(of: $0)! + 1) } ?? 0
        (prefixes, zones, formats) = (p, z, fm)
        var row = Row(idStart: UInt32(bytes.count), urlStart: 0, propertyStart: 0, line: UInt32(f.line),
                      idLength: UInt16(f.id.utf8.count), urlLength: UInt16(rest.count), propertyLength: Self.noValue,
                      urlPrefix: prefixIndex, zone: zone, format: UInt8(formatIndex), onBadEvent: onBad)
        bytes.append(contentsOf: f.id.utf8)
        row.urlStart = UInt32(bytes.count)
        bytes.append(contentsOf: rest)
        if let prop = f.property {
            row.propertyStart = UInt32(bytes.count)
            row.propertyLength = UInt16(prop.utf8.count)
            bytes.append(contentsOf: prop.utf8)
        }
        return row
    }
}
