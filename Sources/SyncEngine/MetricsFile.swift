import FeedModel
import Foundation
import Prometheus

/// What a run knew when it ended, for `--metrics-file` (docs/metrics.md).
public struct RunMetrics: Sendable {
    /// When the run ended (Unix seconds, wall clock).
    public var finishedAt: Double
    /// The run's wall time in seconds.
    public var seconds: Double
    /// The process's exit status (0, 1, 2, 3, 130, 143).
    public var exitCode: Int32
    /// The night's report; nil when the run did not get as far as syncing feeds (configuration,
    /// store or lock error): then the previous file's feed figures are kept as they were.
    public var report: RunReport?
    /// Every feed's health after the run (from the store); nil when it could not be read.
    public var health: [FeedHealth]?

    public init(finishedAt: Double, seconds: Double, exitCode: Int32, report: RunReport?, health: [FeedHealth]?) {
        self.finishedAt = finishedAt
        self.seconds = seconds
        self.exitCode = exitCode
        self.report = report
        self.health = health
    }
}

/// The Prometheus text exposition file written at the end of every run (`--metrics-file PATH`),
/// for node_exporter's textfile collector: written to a temp file in the same folder, then
/// renamed over PATH, so a scrape never reads half a file.
///
/// The run's families go through swift-prometheus's registry. The one family with a series per
/// feed (`feedsync_feed_last_success_timestamp_seconds`) is written here: the registry copies a
/// family's whole label map for every new label set, which measured 5.1 s for 10,000 feeds and
/// 21 s for 20,000 (quadratic); written directly, 100,000 feeds take milliseconds.
///
/// Counters (`…_total`) count over every run that wrote this file: each run adds its own figures
/// to those of the file it replaces (a missing or unreadable file starts them again from zero,
/// which Prometheus reads as a counter reset). Gauges describe the last run.
public enum MetricsFile {
    public static let phases = ["fetch", "fingerprint", "parse", "plan", "snapshot", "store"]
    static let statuses: [FeedStatus] = [.unchanged, .changed, .failed, .skipped]
    static let perFeed = "feedsync_feed_last_success_timestamp_seconds"

    /// The families, their labels and help. What is read back from the previous file is kept only
    /// when its name and label names are one of these (a foreign or damaged file cannot clash).
    static let families: [String: (labels: [String], help: String)] = [
        "feedsync_runs_total": ([], "Runs that wrote this file."),
        "feedsync_events_changed_total": (["kind"], "Events added, updated or removed in the store, over all runs."),
        "feedsync_http_requests_total": (["code"], "HTTP requests sent (attempts and redirect hops), by response status (none: no response)."),
        "feedsync_bytes_fetched_total": ([], "Feed body bytes received over HTTP (as sent on the wire), over all runs."),
        "feedsync_last_run_timestamp_seconds": ([], "When the last run ended (Unix time)."),
        "feedsync_last_run_duration_seconds": ([], "Wall time of the last run."),
        "feedsync_last_run_exit_code": ([], "Exit status of the last run (0 all synced, 1 some feed failed, 2 configuration error, 3 could not run, 130/143 stopped by a signal)."),
        "feedsync_last_run_interrupted": ([], "1 when the last run was stopped by SIGTERM or SIGINT."),
        "feedsync_phase_seconds": (["phase"], "Seconds per phase in the last run that synced (feed phases summed over feeds; store: the writer's wall time)."),
        "feedsync_feeds": (["status"], "Feeds of the last run that synced, by status."),
        "feedsync_last_run_events_changed": (["kind"], "Events added, updated or removed by the last run that synced."),
        "feedsync_stale_feeds": ([], "Feeds whose last success is older than stale_after_days, or that never synced."),
        "feedsync_failing_feeds": ([], "Feeds that the last run reaching them failed."),
        perFeed: (["feed"], "When each feed last synced (Unix time); a feed that never synced has no series."),
    ]
    static let counters: Set<String> = ["feedsync_runs_total", "feedsync_events_changed_total", "feedsync_http_requests_total",
                                        "feedsync_bytes_fetched_total"]
    /// Families a run that synced nothing (configuration, store or lock error) keeps as they were.
    static let carried: Set<String> = ["feedsync_last_run_interrupted", "feedsync_phase_seconds", "feedsync_feeds",
                                       "feedsync_last_run_events_changed", "feedsync_stale_feeds", "feedsync_failing_feeds"]

    /// Reads the file at `path` (if any) for its counters, renders and replaces it atomically.
    public static func write(_ metrics: RunMetrics, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let previous = (try? Data(contentsOf: url)).map { String(decoding: $0, as: UTF8.self) }
        let text = render(metrics, previous: previous)
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // A hidden name without `.prom`: the textfile collector reads only `*.prom` files.
        let temp = folder.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        do {
            try Data(text.utf8).write(to: temp)
            if rename(temp.path, url.path) != 0 {
                let message = String(cString: strerror(errno))
                throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "rename to \(path): \(message)"])
            }
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw error
        }
    }

    /// The file's text: this run's figures, plus the counters of `previous` (the file this one
    /// replaces), plus, when the run synced nothing, `previous`'s feed gauges.
    public static func render(_ m: RunMetrics, previous: String?) -> String {
        // The per-feed lines (one per feed) are read back only when this run cannot replace them.
        let wanted: (Substring) -> Bool = m.health == nil ? { families[String($0)] != nil }
                                                          : { $0 != perFeed && families[String($0)] != nil }
        let before = (previous.map { MetricsText.parse($0, keeping: wanted) } ?? []).filter { sample in
            guard let family = families[sample.name] else { return false }
            return sample.value.isFinite && family.labels.elementsEqual(sample.labels.map(\.0))
        }
        let registry = PrometheusCollectorRegistry()
        // The names in `families` are whole (the unit is in them): no namespace or unit to add.
        func descriptor(_ name: String) -> MetricNameDescriptor {
            MetricNameDescriptor(metricName: name, unitName: "", helpText: families[name]!.help)
        }
        func gauge(_ name: String, _ value: Double, _ labels: [(String, String)] = []) {
            registry.makeGauge(descriptor: descriptor(name), labels: labels).set(value)
        }
        func counter(_ name: String, _ labels: [(String, String)] = []) -> Counter {
            registry.makeCounter(descriptor: descriptor(name), labels: labels)
        }
        // Counters: the previous file's values, then this run's on top.
        for sample in before where counters.contains(sample.name) && sample.value >= 0 {
            counter(sample.name, sample.labels).increment(by: sample.value)
        }
        counter("feedsync_runs_total").increment()
        for kind in ["added", "updated", "removed"] { _ = counter("feedsync_events_changed_total", [("kind", kind)]) }
        _ = counter("feedsync_bytes_fetched_total")

        gauge("feedsync_last_run_timestamp_seconds", m.finishedAt)
        gauge("feedsync_last_run_duration_seconds", m.seconds)
        gauge("feedsync_last_run_exit_code", Double(m.exitCode))

        if let r = m.report {
            gauge("feedsync_last_run_interrupted", r.interrupted ? 1 : 0)
            let p = r.phases
            for (phase, seconds) in zip(phases, [p.fetch, p.fingerprint, p.parse, p.plan, p.snapshot, p.store]) {
                gauge("feedsync_phase_seconds", seconds, [("phase", phase)])
            }
            let byStatus: [FeedStatus: Int] = [.unchanged: r.feedsUnchanged, .changed: r.feedsChanged,
                                               .failed: r.feedsFailed, .skipped: r.feedsSkipped]
            for status in statuses {
                gauge("feedsync_feeds", Double(byStatus[status] ?? 0), [("status", status.rawValue)])
            }
            for (kind, n) in [("added", r.eventsAdded), ("updated", r.eventsUpdated), ("removed", r.eventsRemoved)] {
                gauge("feedsync_last_run_events_changed", Double(n), [("kind", kind)])
                counter("feedsync_events_changed_total", [("kind", kind)]).increment(by: Int64(n))
            }
            counter("feedsync_bytes_fetched_total").increment(by: Int64(r.http.bytesWire))
            for (code, n) in r.http.responses { counter("feedsync_http_requests_total", [("code", code)]).increment(by: Int64(n)) }
        } else {
            for sample in before where carried.contains(sample.name) { gauge(sample.name, sample.value, sample.labels) }
        }

        var perFeedLines: [String] = []
        if let health = m.health {
            gauge("feedsync_stale_feeds", Double(health.count { $0.verdict == .stale }))
            gauge("feedsync_failing_feeds", Double(health.count { $0.verdict == .failing }))
            perFeedLines.reserveCapacity(health.count)
            for h in health {
                guard let last = h.lastSuccess.flatMap(ISOTime.parse) else { continue }
                perFeedLines.append("\(perFeed){feed=\"\(MetricsText.escape(h.id))\"} \(Double(last))")
            }
        } else {
            perFeedLines = before.filter { $0.name == perFeed }.map(\.line)
        }
        var text = sortedFamilies(registry.emitToString())
        if !perFeedLines.isEmpty {
            text += "# HELP \(perFeed) \(families[perFeed]!.help)\n# TYPE \(perFeed) gauge\n"
            text += perFeedLines.joined(separator: "\n") + "\n"
        }
        return text
    }
}

extension MetricsFile {
    /// The registry emits its families in hash order, which changes from process to process; a
    /// file people read and diff lists them by name, and each family's series by their labels.
    static func sortedFamilies(_ text: String) -> String {
        var blocks: [(name: Substring, lines: [Substring])] = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# HELP ") || (line.hasPrefix("# TYPE ") && blocks.last?.lines.last?.hasPrefix("# HELP ") != true) {
                let name = line.dropFirst(7).prefix { $0 != " " }
                blocks.append((name, [line]))
            } else if blocks.isEmpty {
                blocks.append(("", [line]))
            } else {
                blocks[blocks.count - 1].lines.append(line)
            }
        }
        var out = ""
        for block in blocks.sorted(by: { $0.name < $1.name }) {
            let header = block.lines.prefix { $0.hasPrefix("#") }
            let samples = block.lines.dropFirst(header.count).sorted()
            for line in header + samples { out += line; out += "\n" }
        }
        return out
    }
}

/// Reading back the samples of a file this type wrote (the counters to carry on). Lines that are
/// not `name{labels} value` or `name value` are left out, so a damaged file costs its counters,
/// never the run.
enum MetricsText {
    struct Sample {
        var name: String
        var labels: [(String, String)]
        var value: Double
        var line: String
    }

    static func escape(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        var out = ""
        for c in value {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    /// The samples of the lines whose metric name `keeping` accepts.
    static func parse(_ text: String, keeping: (Substring) -> Bool = { _ in true }) -> [Sample] {
        var out: [Sample] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let first = raw.first, first != "#",
                  keeping(raw.prefix { $0 != "{" && $0 != " " }), let sample = sample(Substring(raw)) else { continue }
            out.append(sample)
        }
        return out
    }

    static func sample(_ line: Substring) -> Sample? {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
        let head = line[..<space]
        guard let brace = head.firstIndex(of: "{") else {
            let name = String(head)
            return valid(name) ? Sample(name: name, labels: [], value: value, line: String(line)) : nil
        }
        let name = String(head[..<brace])
        guard valid(name), head.last == "}" else { return nil }
        var labels: [(String, String)] = []
        var i = head.index(after: brace)
        let end = head.index(before: head.endIndex)
        while i < end {
            guard let eq = head[i..<end].firstIndex(of: "=") else { return nil }
            let key = String(head[i..<eq])
            var j = head.index(after: eq)
            guard j < end, head[j] == "\"" else { return nil }
            j = head.index(after: j)
            var value = ""
            var closed = false
            while j < end {
                let c = head[j]
                if c == "\\" {
                    j = head.index(after: j)
                    guard j < end else { return nil }
                    switch head[j] {
                    case "n": value.append("\n")
                    default: value.append(head[j])
                    }
                } else if c == "\"" {
                    closed = true
                    j = head.index(after: j)
                    break
                } else {
                    value.append(c)
                }
                j = head.index(after: j)
            }
            guard closed, valid(key) else { return nil }
            labels.append((key, value))
            if j < end {
                guard head[j] == "," else { return nil }
                j = head.index(after: j)
            }
            i = j
        }
        return Sample(name: name, labels: labels, value: value, line: String(line))
    }

    static func valid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || first.properties.isAlphabetic && first.isASCII else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) }
    }
}
