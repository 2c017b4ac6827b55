import FeedModel
import FeedSources
import Testing
@testable import SyncEngine

/// The configured feeds, held packed: every element reads back as it was added.
@Suite("Feed list")
struct FeedListTests {
    func plain(_ i: Int) -> FeedConfig {
        var f = FeedConfig(id: "feed-\(i)", url: "file:///srv/feeds/\(i % 3)/feed-\(i).ics",
                           property: i % 2 == 0 ? "Flat \(i), Seville" : nil, timeZone: i % 5 == 0 ? "Europe/Madrid" : nil,
                           line: i + 2, format: i % 7 == 0 ? "json" : "ics")
        f.onBadEvent = i % 4 == 0 ? .failFeed : i % 4 == 1 ? .keep : nil
        return f
    }

    @Test("plain feeds and feeds with other settings read back as added, in order; equality is by element")
    func roundTrip() {
        var feeds = (0..<300).map(plain)
        var limited = plain(300)
        limited.limits = FetchLimits()
        limited.limits?.retries = 9
        var child = FeedConfig(id: "race/participants/1", url: "https://api.example.com/p?e=1", format: "json")
        child.parent = "race"
        child.childValues = ["event_id": "1"]
        let long = FeedConfig(id: "long", url: "file:///" + String(repeating: "x", count: 70_000) + "/a.ics")
        let plainHTTP = FeedConfig(id: "web", url: "https://example.com/cal.ics")
        feeds += [limited, child, long, plainHTTP, FeedConfig(id: "ünï-cödé", url: "file:///ä/b.ics", property: "Ærø ✓")]
        let list = FeedList(feeds)
        #expect(list.count == feeds.count)
        #expect(Array(list) == feeds)
        #expect(list.ids == feeds.map(\.id))
        #expect(list.indices.allSatisfy { list.id(at: $0) == feeds[$0].id })
        #expect(list[300].limits?.retries == 9 && list[301].childValues == ["event_id": "1"] && list[301].parent == "race")
        #expect(list == FeedList(feeds) && list != FeedList(feeds.dropLast()))
        #expect(list.anyHTTP && !FeedList((0..<10).map(plain)).anyHTTP)
        #expect(FeedList([plainHTTP]).anyHTTP)
    }

    @Test("a feed set in place replaces the element; children prefixes come from the feeds that have children")
    func mutation() throws {
        var list = FeedList((0..<5).map(plain))
        list[2].url = "https://example.com/2.ics"
        list[3].property = nil
        #expect(list[2].url == "https://example.com/2.ics" && list[2].id == "feed-2")
        #expect(list[3].property == nil && list[4] == plain(4))
        #expect(list.anyHTTP)
        #expect(list.childIDPrefixes.isEmpty && !list.hasChildren(at: 1))
        list[1].children = ChildrenConfig(name: "participants", url: "https://api/x?e={event_id}", format: "json",
                                          mapping: RecordMapping(records: "/*", key: ["id"]))
        #expect(list.hasChildren(at: 1) && list.childIDPrefixes == ["feed-1/participants/"])
        list.append(contentsOf: [plain(9)])
        #expect(list.count == 6 && list[5] == plain(9))
    }
}
