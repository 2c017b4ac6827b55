import FeedModel

/// Gathers a run's feed report entries as they come: the counts, each parent's children counts,
/// and the entries themselves as `keeping` says (in memory, in a spool file, or not at all), in
/// the report's order — each configured feed in the configuration's order, its children after it
/// by id. What it holds per feed is the place of each configured feed (a few dozen bytes); a
/// parent of children is held until the end (its `children` counts are known then).
final class ReportCollector {
    private let index: FeedIndex
    private var feeds: FeedList { index.feeds }
    private let keeping: FeedReportKeeping
    private var reached: [Bool]
    private var held: [Int: FeedReport] = [:]
    private var childCounts: [String: ChildrenCounts] = [:]
    private var kept: [(order: Int, child: String?, report: FeedReport)] = []
    var counts = RunCounts()
    var http = HTTPTotals()

    init(_ index: FeedIndex, keeping: FeedReportKeeping) {
        self.index = index
        self.keeping = keeping
        reached = Array(repeating: false, count: index.feeds.count)
    }

    /// One feed's entry (each feed at most once; a second entry for a feed replaces nothing and is dropped).
    func add(_ report: FeedReport) {
        var r = report
        r.durationMs = r.durationMs.rounded()
        r.http?.ms.round()
        if let parent = r.parent {
            childCounts[parent, default: ChildrenCounts()].count(r)
            emit(r, order: index.position(of: parent) ?? Int.max, child: r.id)
            return
        }
        guard let i = index.position(of: r.id), !reached[i] else { return }
        reached[i] = true
        if feeds.hasChildren(at: i) {
            held[i] = r
        } else {
            emit(r, order: i, child: nil)
        }
    }

    private func emit(_ r: FeedReport, order: Int, child: String?) {
        counts.count(status: r.status, added: r.added, updated: r.updated, removed: r.removed, pastSkipped: r.pastSkipped)
        if let h = r.http { http.add(h) }
        switch keeping {
        case .inMemory: kept.append((order, child, r))
        case .spool(let spool): spool.add(r, order: order, child: child)
        case .none: break
        }
    }

    /// Ends the collection: the feeds not reached (a stopped run) as `skipped`, the parents with
    /// their children's counts. Returns the entries kept in memory, in order, and the parents.
    func finish(interrupted: Bool) -> (feeds: [FeedReport], parents: [FeedReport]) {
        if interrupted {
            for i in feeds.indices where !reached[i] {
                let feed = feeds[i]
                var skipped = FeedReport(id: feed.id, url: redactURL(feed.url), status: .skipped, syncType: .none,
                                         reason: "not reached: the run was stopped")
                skipped.parent = feed.parent
                reached[i] = true
                if feed.children != nil { held[i] = skipped } else { emit(skipped, order: i, child: nil) }
            }
        }
        var parents: [FeedReport] = []
        for i in held.keys.sorted() {
            var r = held[i]!
            r.children = childCounts[r.id] ?? ChildrenCounts()
            emit(r, order: i, child: nil)
            parents.append(r)
        }
        held = [:]
        kept.sort { ReportOrder.precedes(($0.order, $0.child), ($1.order, $1.child)) }
        let out = kept.map(\.report)
        kept = []
        return (out, parents)
    }
}

/// Where an entry goes in the report: each configured feed at its place in the list (`order`), its
/// children after it by id (`child`; nil for the feed itself).
enum ReportOrder {
    static func precedes(_ a: (order: Int, child: String?), _ b: (order: Int, child: String?)) -> Bool {
        if a.order != b.order { return a.order < b.order }
        switch (a.child, b.child) {
        case (nil, let q): return q != nil
        case (_, nil): return false
        case let (p?, q?): return p < q
        }
    }
}

/// A run's feeds and where each is in the list (what the report's order and the leftovers'
/// check need), with the id prefixes of their children.
struct FeedIndex: Sendable {
    let feeds: FeedList
    /// An open-addressing table of (hash tag, place + 1), 0 for empty: 16 bytes a feed where a
    /// dictionary of ids takes ~60, one probe in the common case.
    private let slots: [(tag: UInt32, place: Int32)]
    private let mask: Int
    private let childPrefixes: [String]
    /// The first feed (in list order) whose id an earlier one has, and that earlier one: what the
    /// loader refuses.
    let firstDuplicate: (first: Int, again: Int)?

    init(_ feeds: FeedList) {
        self.feeds = feeds
        var size = 16
        while size < feeds.count * 2 { size <<= 1 }
        var slots = [(tag: UInt32, place: Int32)](repeating: (0, 0), count: size)
        let mask = size - 1
        var duplicate: (first: Int, again: Int)? = nil
        for i in feeds.indices {
            let id = feeds.id(at: i)
            let h = id.hashValue
            var k = h & mask
            while slots[k].place != 0 {
                // An id seen before keeps its first place.
                if slots[k].tag == UInt32(truncatingIfNeeded: h >> 32), feeds.id(at: Int(slots[k].place) - 1) == id {
                    if duplicate == nil { duplicate = (Int(slots[k].place) - 1, i) }
                    break
                }
                k = (k + 1) & mask
            }
            if slots[k].place == 0 { slots[k] = (UInt32(truncatingIfNeeded: h >> 32), Int32(i + 1)) }
        }
        self.slots = slots
        self.mask = mask
        firstDuplicate = duplicate
        childPrefixes = feeds.childIDPrefixes
    }

    /// The first place of `id` in the list.
    func position(of id: String) -> Int? {
        let h = id.hashValue
        let tag = UInt32(truncatingIfNeeded: h >> 32)
        var k = h & mask
        while slots[k].place != 0 {
            let place = Int(slots[k].place) - 1
            if slots[k].tag == tag, feeds.id(at: place) == id { return place }
            k = (k + 1) & mask
        }
        return nil
    }

    /// Whether `id` is a child of one of these feeds.
    func isChild(_ id: String) -> Bool { childPrefixes.contains { id.hasPrefix($0) } }
}
