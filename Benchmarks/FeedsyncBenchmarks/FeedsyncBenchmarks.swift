import Benchmark
import FeedHash
import FeedModel
import ICalendarFeeds
import ICalendar
import Snapshots
import SyncEngine

// Micro-benchmarks of feedsync's hot paths, on feeds of the benchmark corpus (see `Corpus`).
// Run them with `tools/bench-micro`; docs/performance.md explains each one.
//
// Names start with the area, so `tools/bench-micro --filter 'Planner.*'` runs one area. Benchmarks
// whose name ends in "per event" do 1,000 events of work in an iteration and use the scaling factor
// `.kilo`, so their time and mallocs are per event and their throughput is in events per second.
// The fast fingerprint benchmarks repeat the call 1,000 times an iteration (`.kilo` again): their
// time is per call.

/// Sample feeds of 100 events.
enum Sample: String, CaseIterable {
    case airbnb, google

    var feed: Corpus.Feed {
        switch self {
        case .airbnb: corpus.airbnb
        case .google: corpus.google
        }
    }

    var label: String { "\(rawValue)-100" }
}

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .instructions, .mallocCountTotal]
    // Fixed time units, so the table keeps its digits (the automatic choice shows "12 ms").
    let perCall = Benchmark.Configuration(metrics: metrics, timeUnits: .microseconds)
    let perThousand = Benchmark.Configuration(metrics: metrics, timeUnits: .nanoseconds, scalingFactor: .kilo)

    // 1. Body fingerprint (XXH3-128 leaving out DTSTAMP lines), and the plain XXH3-128 of the same
    //    bytes beside it: the floor the fingerprint scan adds to.
    for sample in Sample.allCases {
        Benchmark("Fingerprint: BodyFingerprinter \(sample.label)", configuration: perThousand) { benchmark, body in
            for _ in benchmark.scaledIterations {
                blackHole(Inputs.fingerprinter.fingerprint(body))
            }
        } setup: {
            sample.feed.body
        }
        Benchmark("Fingerprint: XXH3-128 reference \(sample.label)", configuration: perThousand) { benchmark, body in
            for _ in benchmark.scaledIterations {
                body.withUnsafeBytes { blackHole(XXH3.hash128($0)) }
            }
        } setup: {
            sample.feed.body
        }
    }

    // 2. Content lines: unfolding, splitting into name, parameters and value, and the component
    //    tree (ICalParser.parse; the lexer and line parser on their own are internal).
    for sample in Sample.allCases {
        Benchmark("ICalParser: parse \(sample.label)", configuration: perCall) { _, body in
            blackHole(try ICalParser.parse(body))
        } setup: {
            sample.feed.body
        }
    }
    Benchmark("ICalParser: parse 10 feeds, per event", configuration: perThousand) { (_, bodies: [[UInt8]]) in
        for body in bodies {
            blackHole(try ICalParser.parse(body))
        }
    } setup: {
        let bodies = corpus.block.map(\.body)
        let events = try bodies.reduce(0) { $0 + (try ICalParser.parse($1)).events.count }
        precondition(events == 1_000, "the first 10 feeds hold \(events) events, not 1,000")
        return bodies
    }

    // 3. A whole feed into records: parse, timing (zones, recurrence), canonical body, XXH3-64;
    //    and the records of an already parsed calendar (all but ICalParser.parse).
    for sample in Sample.allCases {
        Benchmark("FeedParser: parse \(sample.label)", configuration: perCall) { _, body in
            blackHole(try Inputs.parser.parse(body))
        } setup: {
            sample.feed.body
        }
        Benchmark("FeedParser: records(from:) \(sample.label)", configuration: perCall) { _, calendar in
            blackHole(try Inputs.parser.records(from: calendar))
        } setup: {
            try ICalParser.parse(sample.feed.body)
        }
    }
    Benchmark("FeedParser: parse 10 feeds, per event", configuration: perThousand) { (_, bodies: [[UInt8]]) in
        for body in bodies {
            blackHole(try Inputs.parser.parse(body))
        }
    } setup: {
        let bodies = corpus.block.map(\.body)
        let records = try bodies.reduce(0) { $0 + (try Inputs.parser.parse($1)).records.count }
        precondition(records == 1_000, "the first 10 feeds give \(records) records, not 1,000")
        return bodies
    }

    // 4. A feed's snapshot: encode (sort, serialise, deflate, checksum) and decode (the reverse,
    //    every check included).
    for sample in Sample.allCases {
        Benchmark("SnapshotCodec: encode \(sample.label)", configuration: perCall) { _, input in
            blackHole(try SnapshotCodec.encode(header: input.header, records: input.records, level: SnapshotCodec.writeLevel))
        } setup: {
            Inputs.snapshot(of: sample.feed)
        }
        Benchmark("SnapshotCodec: decode \(sample.label)", configuration: perCall) { (_, bytes: [UInt8]) in
            blackHole(try SnapshotCodec.decode(bytes))
        } setup: {
            let snapshot = Inputs.snapshot(of: sample.feed)
            return try SnapshotCodec.encode(header: snapshot.header, records: snapshot.records, level: SnapshotCodec.writeLevel)
        }
    }

    // 5. The planner's decision, 2% of the records changed (see `Inputs.plannerInput`).
    for count in [100, 10_000] {
        Benchmark("Planner: incremental \(count) records, 2% changed", configuration: perCall) { _, input in
            blackHole(Planner.incremental(previous: input.previous, records: input.records, now: input.now))
        } setup: {
            Inputs.plannerInput(count: count)
        }
        Benchmark("Planner: full \(count) records, 2% changed", configuration: perCall) { _, input in
            blackHole(Planner.full(stored: input.previous, records: input.records, now: input.now))
        } setup: {
            Inputs.plannerInput(count: count)
        }
    }
}
