import Dispatch
import Snapshots
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `feedsync snapshot verify`: checks every snapshot of a folder (or one file), and optionally the
/// store's generation pointers against what is on disk.
package enum SnapshotVerifier {
    package struct Problem: Sendable, Equatable {
        package var path: String
        package var reason: String
        package init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
        package var line: String { "\(path): \(reason)" }
    }

    package struct Result: Sendable {
        /// Snapshot files decoded (sound or not).
        package var snapshotsChecked = 0
        package var snapshotsSound = 0
        /// One per bad file (or missing one), sorted by path.
        package var problems: [Problem] = []
        /// What a run in progress is writing (new generations, temp files): said, not damage.
        package var inProgress: [Problem] = []
        package var isSound: Bool { problems.isEmpty }
    }

    /// Fully decodes the file and checks that its header names the feed and generation of its file
    /// name (when the name parses). Returns nil when sound, else the reason.
    package static func check(path: String) -> String? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let expected = SnapshotDirectory.parseFileName(name)
        do throws(SnapshotError) {
            let bytes = try SnapshotDirectory.readFile(path)
            let snapshot = try SnapshotCodec.decode(bytes)
            if let expected {
                try snapshot.header.checkIdentity(feedID: expected.feedID, generation: expected.generation,
                                                  claim: "its name says")
            }
            return nil
        } catch {
            return error.reason
        }
    }

    /// Verifies a folder: every `<feed>.<generation>.fsnap` is decoded in full (in parallel over
    /// `workers` threads); leftover temp files and `.fsnap` files with a name that does not parse
    /// are reported; other files (the lock, reports) are ignored. With `pointers` (configured feed
    /// id → the store's current generation, nil when never synced) it also reports a configured feed
    /// whose current generation file is missing and files of a configured feed at another generation.
    ///
    /// With `runInProgress` (another process holds the run lock), what a run writes before it
    /// commits is reported in `inProgress`, not as damage: generations newer than the store's,
    /// temp files, a file that went away while it was read, and a current generation already
    /// replaced by a newer one.
    package static func verifyFolder(_ folder: String, pointers: [String: UInt64?]? = nil,
                                    workers: Int = defaultWorkers, runInProgress: Bool = false) throws(SnapshotError) -> Result {
        let dir = SnapshotDirectory(path: folder)
        var st = stat()
        if stat(folder, &st) != 0 {
            throw SnapshotError(.io, "cannot open the snapshot folder: \(String(cString: strerror(errno)))", path: folder)
        }
        var names = try dir.entries()
        names.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var problems: [Problem] = []
        var inProgress: [Problem] = []
        var toCheck: [String] = []
        var onDisk: [String: [UInt64]] = [:]
        for name in names {
            let path = dir.join(name)
            if let (feed, generation) = SnapshotDirectory.parseFileName(name) {
                toCheck.append(path)
                onDisk[feed, default: []].append(generation)
            } else if let feed = SnapshotDirectory.parseTempName(name) {
                if runInProgress {
                    inProgress.append(Problem(path: path, reason: "being written by the run in progress (feed \"\(feed)\")"))
                    continue
                }
                problems.append(Problem(path: path, reason:
                    "leftover temp file of feed \"\(feed)\" from an interrupted run (the next feedsync run removes it)"))
            } else if name.hasSuffix(".fsnap") {
                problems.append(Problem(path: path, reason:
                    "foreign name: not <feed id>.<generation>.fsnap, so no feed owns this file"))
            }
        }

        let reasons = checkAll(toCheck, workers: workers)
        var result = Result()
        result.snapshotsChecked = toCheck.count
        for (path, reason) in zip(toCheck, reasons) {
            if let reason {
                // A run retires old generations as it commits: a file gone since it was listed is no damage.
                if runInProgress && access(path, F_OK) != 0 {
                    inProgress.append(Problem(path: path, reason: "removed by the run in progress while it was read"))
                    continue
                }
                problems.append(Problem(path: path, reason: reason))
            } else {
                result.snapshotsSound += 1
            }
        }

        if let pointers {
            for (feed, current) in pointers.sorted(by: { $0.key < $1.key }) {
                let generations = onDisk[feed] ?? []
                let newer = generations.filter { g in current.map { g > $0 } ?? true }
                if runInProgress, let current, !generations.contains(current), !newer.isEmpty {
                    inProgress.append(Problem(path: dir.path(feedID: feed, generation: current),
                                              reason: "replaced by generation \(newer.max()!) of the run in progress"))
                    continue
                }
                if let current, !generations.contains(current) {
                    let also = generations.isEmpty ? "" : " (on disk: generation \(generations.map(String.init).joined(separator: ", ")))"
                    problems.append(Problem(path: dir.path(feedID: feed, generation: current),
                                            reason: "missing: the store points feed \"\(feed)\" at generation \(current)\(also)"))
                }
                for g in generations where g != current {
                    if runInProgress && newer.contains(g) {
                        inProgress.append(Problem(path: dir.path(feedID: feed, generation: g),
                                                  reason: "being written by the run in progress (the store points at \(current.map { "generation \($0)" } ?? "no generation yet"))"))
                        continue
                    }
                    let pointer = current.map { "the store points at generation \($0)" } ?? "the store has no generation for this feed"
                    problems.append(Problem(path: dir.path(feedID: feed, generation: g),
                                            reason: "stale generation: \(pointer) (left by an interrupted run; the next feedsync run removes it)"))
                }
            }
        }
        result.problems = problems.sorted { ($0.path.utf8.lexicographicallyPrecedes($1.path.utf8)) }
        result.inProgress = inProgress.sorted { ($0.path.utf8.lexicographicallyPrecedes($1.path.utf8)) }
        return result
    }

    /// Verifies snapshots that are not files (a PostgreSQL store's table): `read` hands over every
    /// snapshot with its bytes, then returns the pointers to check (configured feed id → the
    /// store's generation, nil when never synced). Each snapshot is decoded in full and must hold
    /// the feed and generation its row names; a configured feed whose current generation is
    /// missing and rows of a configured feed at another generation are problems, as for a folder.
    package static func verifyRows(
        read: ((StoredSnapshot, [UInt8]) -> Void) async throws(SnapshotError) -> [String: UInt64?]
    ) async throws(SnapshotError) -> (result: Result, pointersChecked: Int) {
        var result = Result()
        var problems: [Problem] = []
        var stored: [String: [UInt64]] = [:]
        var names: [String: String] = [:]
        let pointers = try await read { row, bytes in
            result.snapshotsChecked += 1
            stored[row.feedID, default: []].append(row.generation)
            names["\(row.feedID)\u{0}\(row.generation)"] = row.path
            do throws(SnapshotError) {
                let snapshot = try SnapshotCodec.decode(bytes)
                try snapshot.header.checkIdentity(feedID: row.feedID, generation: row.generation, claim: "its row says")
                result.snapshotsSound += 1
            } catch {
                problems.append(Problem(path: row.path, reason: error.reason))
            }
        }
        for (feed, current) in pointers.sorted(by: { $0.key < $1.key }) {
            let generations = stored[feed] ?? []
            if let current, !generations.contains(current) {
                problems.append(Problem(path: "snapshots(\(feed), \(current))",
                                        reason: "missing: the store points feed \"\(feed)\" at generation \(current)"))
            }
            for g in generations where g != current {
                let pointer = current.map { "the store points at generation \($0)" } ?? "the store has no generation for this feed"
                problems.append(Problem(path: names["\(feed)\u{0}\(g)"] ?? "snapshots(\(feed), \(g))",
                                        reason: "stale generation: \(pointer) (the next feedsync run removes it)"))
            }
        }
        result.problems = problems.sorted { ($0.path.utf8.lexicographicallyPrecedes($1.path.utf8)) }
        return (result, pointers.count)
    }

    package static var defaultWorkers: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// `check` over every path, `workers` threads at once; results in input order.
    static func checkAll(_ paths: [String], workers: Int) -> [String?] {
        let results = Slots(count: paths.count)
        let n = max(1, min(workers, paths.count))
        DispatchQueue.concurrentPerform(iterations: n) { w in
            var i = w
            while i < paths.count {
                results.set(i, check(path: paths[i]))
                i += n
            }
        }
        return results.values
    }
}

/// Result slots written from several threads, each index by exactly one of them.
private final class Slots: @unchecked Sendable {
    private let buffer: UnsafeMutableBufferPointer<String?>
    init(count: Int) {
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: nil)
    }
    deinit {
        buffer.deinitialize()
        buffer.deallocate()
    }
    func set(_ i: Int, _ value: String?) { buffer[i] = value }
    var values: [String?] { Array(buffer) }
}
