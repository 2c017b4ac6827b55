import FeedHash
import FeedModel
import ICalendarFeeds
import Foundation
import Snapshots
import SyncEngine

/// The benchmark inputs: the feeds of `tools/gen-corpus --feeds 100 --events 100` (default seed and
/// `now`): 100 provider-shaped feeds of 100 events each, 50 Airbnb, 20 VRBO, 20 Booking.com and 10
/// Google, 2.7 MB in all. The same arguments give byte-identical files, so every run measures the
/// same bytes.
///
/// Read from the directory `$FEEDSYNC_BENCH_CORPUS` names (one the generator made with those
/// arguments, any seed), else from `Benchmarks/.build/bench-corpus`, generated there on first use.
struct Corpus: Sendable {
    static let feedCount = 100
    static let eventsPerFeed = 100

    struct Feed: Sendable {
        /// The generator's feed id, e.g. `airbnb-00001`.
        var id: String
        var body: [UInt8]
    }

    /// The feeds in id order (`airbnb-00001`, `vrbo-00002`, ...).
    var feeds: [Feed]
    /// The corpus' `now` (2026-11-23T02:00:00Z by default): a quarter of the events are past.
    var now: Int64

    /// The first Airbnb feed: 100 all-day events, CRLF line ends, 31 KB.
    var airbnb: Feed { first("airbnb-") }
    /// The first Google feed: a VTIMEZONE, events in a TZID or UTC, weekly RRULE series with
    /// RECURRENCE-ID overrides, escaped and folded UTF-8 text; 48 KB.
    var google: Feed { first("google-") }
    /// The first ten feeds: one block of the provider mix (5 Airbnb, 2 VRBO, 2 Booking.com,
    /// 1 Google), exactly 1,000 events.
    var block: [Feed] { Array(feeds.prefix(10)) }

    private func first(_ prefix: String) -> Feed {
        guard let feed = feeds.first(where: { $0.id.hasPrefix(prefix) }) else {
            fatalError("the corpus has no \(prefix)* feed")
        }
        return feed
    }

    /// What `corpus.json` says of the corpus.
    private struct Meta: Decodable {
        var feeds: Int
        var events: Int
        var now: String
    }

    static func load() -> Corpus {
        let directory: URL
        if let path = ProcessInfo.processInfo.environment["FEEDSYNC_BENCH_CORPUS"], !path.isEmpty {
            directory = URL(fileURLWithPath: path)
        } else {
            directory = generatedCorpus()
        }
        do {
            let meta = try JSONDecoder().decode(
                Meta.self, from: Data(contentsOf: directory.appendingPathComponent("corpus.json")))
            guard meta.feeds == feedCount, meta.events == eventsPerFeed, let now = ISOTime.parse(meta.now) else {
                fatalError("""
                    \(directory.path) holds \(meta.feeds) feeds × \(meta.events) events (now \(meta.now)); \
                    the benchmarks need tools/gen-corpus --feeds \(feedCount) --events \(eventsPerFeed)
                    """)
            }
            let feedsDirectory = directory.appendingPathComponent("feeds")
            let names = try FileManager.default.contentsOfDirectory(atPath: feedsDirectory.path)
                .filter { $0.hasSuffix(".ics") }
                .sorted { number(of: $0) < number(of: $1) }
            guard names.count == feedCount else {
                fatalError("\(feedsDirectory.path) holds \(names.count) .ics files, corpus.json says \(feedCount)")
            }
            let feeds = try names.map { name in
                Feed(id: String(name.dropLast(4)),
                     body: Array(try Data(contentsOf: feedsDirectory.appendingPathComponent(name))))
            }
            return Corpus(feeds: feeds, now: now)
        } catch {
            fatalError("cannot read the benchmark corpus in \(directory.path): \(error)")
        }
    }

    /// The number in a feed file name (`airbnb-00001.ics` → 1): the generator's feed order.
    private static func number(of name: String) -> Int {
        Int(name.dropLast(4).split(separator: "-").last ?? "") ?? Int.max
    }

    /// `Benchmarks/.build/bench-corpus`, made by `tools/gen-corpus` unless it is there already.
    private static func generatedCorpus() -> URL {
        let benchmarks = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let directory = benchmarks.appendingPathComponent(".build/bench-corpus")
        // The generator writes corpus.json last: with it there, the corpus is whole.
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent("corpus.json").path) {
            return directory
        }
        let generator = benchmarks.deletingLastPathComponent().appendingPathComponent("tools/gen-corpus")
        let process = Process()
        process.executableURL = generator
        process.arguments = ["--out", directory.path, "--feeds", "\(feedCount)", "--events", "\(eventsPerFeed)"]
        do {
            try process.run()
        } catch {
            fatalError("cannot run \(generator.path): \(error)")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            fatalError("\(generator.path) failed (exit status \(process.terminationStatus))")
        }
        return directory
    }
}

/// Read on first use; each benchmark runs in a process of its own, so only the ones that need it read it.
let corpus = Corpus.load()

/// The inputs the benchmarks share, derived from the corpus the way `feedsync run` derives them.
enum Inputs {
    /// The defaults of a feedsync.yml (`timezone: UTC`, `volatile_properties: [DTSTAMP]`), which the
    /// corpus' own feedsync.yml uses.
    static let volatileProperties = ["DTSTAMP"]
    static let parser = FeedParser(timeZone: "UTC", volatileProperties: volatileProperties)
    static let fingerprinter = BodyFingerprinter(volatileProperties: volatileProperties)

    static func records(of feed: Corpus.Feed) -> [FeedRecord] {
        do {
            return try parser.parse(feed.body).records
        } catch {
            fatalError("\(feed.id): \(error)")
        }
    }

    /// The header and records `feedsync run` writes to a feed's first snapshot.
    static func snapshot(of feed: Corpus.Feed) -> (header: SnapshotHeader, records: [SnapshotRecord]) {
        let header = SnapshotHeader(
            feedID: feed.id, generation: 1, createdAt: corpus.now, parserVersion: ICalendarFormat.parserVersion,
            bodyFingerprint: fingerprinter.fingerprint(feed.body), etag: nil, lastModified: nil)
        let records = records(of: feed).map {
            SnapshotRecord(key: $0.key, hash: $0.hash, start: $0.start, lastEnd: $0.lastEnd, allDay: $0.allDay, body: $0.body)
        }
        return (header, records)
    }

    /// What the planner is given for one feed: the last run's records and tonight's.
    struct PlannerInput: Sendable {
        /// The last run's records, as the snapshot (incremental) or the store (full) gives them.
        var previous: [PriorRecord]
        /// Tonight's records.
        var records: [FeedRecord]
        var now: Int64
    }

    /// `count` records (the Airbnb feed's 100, or all 10,000 of the corpus), 2% of them changed
    /// since the last run: in every 100, the 1st edited (its hash differs) and the 51st gone, a new
    /// future event in its place (a removal and an addition).
    static func plannerInput(count: Int) -> PlannerInput {
        let last: [FeedRecord]
        switch count {
        case Corpus.eventsPerFeed: last = records(of: corpus.airbnb)
        case Corpus.feedCount * Corpus.eventsPerFeed: last = corpus.feeds.flatMap(records(of:))
        default: fatalError("no planner input of \(count) records")
        }
        precondition(last.count == count, "\(last.count) records, expected \(count)")
        let now = corpus.now
        var tonight: [FeedRecord] = []
        tonight.reserveCapacity(count)
        for (i, r) in last.enumerated() {
            switch i % 100 {
            case 0:
                var edited = r
                edited.hash ^= 0x9E37_79B9_7F4A_7C15
                tonight.append(edited)
            case 50:
                var added = r
                added.uid = "bench-added-\(i)@example.com"
                added.key = added.uid
                added.hash = XXH3.hash64(Array(added.uid.utf8))
                added.start = now + 30 * 86_400
                added.end = added.start + 3 * 86_400
                added.lastEnd = added.end
                tonight.append(added)
            default:
                tonight.append(r)
            }
        }
        return PlannerInput(
            previous: last.map { PriorRecord(key: $0.key, hash: $0.hash, lastEnd: $0.lastEnd) },
            records: tonight, now: now)
    }
}
