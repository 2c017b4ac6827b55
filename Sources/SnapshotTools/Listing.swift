import FeedModel
import JSONOutput
import Snapshots
import Stores

/// `feedsync snapshot list`: one row per configured feed (its current snapshot and what the store
/// says of its last run) plus the snapshot files no configured feed owns.
package struct FeedListing: Sendable {
    package struct Row: Sendable {
        package var feedID: String
        package var state: FeedState?
        /// The store's current generation's file, when the store names one.
        package var path: String?
        package var header: SnapshotHeader?
        package var fileBytes: UInt64?
        /// Why the snapshot could not be read (missing, damaged), if so.
        package var problem: String?
        /// Last success older than `incremental_days` (or never).
        package var stale: Bool
        package var notes: [String]
    }

    package var rows: [Row] = []
    /// Snapshot files (and temp files) whose feed is not configured.
    package var orphans: [String] = []
    package var now: Int64
    package var incrementalDays: Int

    /// True when some feed is stale, never synced, or its current snapshot is missing or damaged.
    package var needsAttention: Bool { rows.contains { $0.stale || $0.problem != nil } }

    /// The listing of a snapshot folder.
    package init(feeds: [String], states: [String: FeedState], folder: String, incrementalDays: Int,
                now: Int64) throws(SnapshotError) {
        let dir = SnapshotDirectory(path: folder)
        let others = try dir.entries().sorted().map { name in
            (owner: SnapshotDirectory.parseFileName(name)?.feedID ?? SnapshotDirectory.parseTempName(name), name: dir.join(name))
        }
        self.init(feeds: feeds, states: states, incrementalDays: incrementalDays, now: now, stored: others,
                  name: { dir.path(feedID: $0, generation: $1) },
                  read: { path, _, _ throws(SnapshotError) in try SnapshotDirectory.readFile(path) })
    }

    /// The listing of snapshots wherever they are: `stored` names every stored snapshot (or temp
    /// file) with the feed that owns it; `name` gives a feed's generation's name; `read` its
    /// bytes (`.io` when missing).
    package init(feeds: [String], states: [String: FeedState], incrementalDays: Int, now: Int64,
                 stored: [(owner: String?, name: String)], name: (String, UInt64) -> String,
                 read: (_ name: String, _ feedID: String, _ generation: UInt64) throws(SnapshotError) -> [UInt8]) {
        self.now = now
        self.incrementalDays = incrementalDays
        let configured = Set(feeds)
        for feed in feeds {
            let state = states[feed]
            var row = Row(feedID: feed, state: state, stale: false, notes: [])
            if let g = state?.snapshotGeneration {
                let path = name(feed, g)
                row.path = path
                do throws(SnapshotError) {
                    let bytes = try read(path, feed, g)
                    row.fileBytes = UInt64(bytes.count)
                    let h = try SnapshotCodec.decodeHeader(bytes)
                    row.header = h
                    try h.checkIdentity(feedID: feed, generation: g)
                } catch {
                    row.problem = error.code == .io ? "missing: \(error.message)" : error.reason
                }
            }
            let limit = Int64(incrementalDays) * 86_400
            if let success = state?.lastSuccessAt {
                if now - success > limit {
                    row.stale = true
                    row.notes.append("STALE: last success \((now - success) / 86_400) days ago (threshold \(incrementalDays))")
                }
            } else {
                row.stale = true
                row.notes.append(state == nil ? "never synced" : "STALE: never synced successfully")
            }
            if let problem = row.problem { row.notes.append("SNAPSHOT \(problem)") }
            if state?.lastStatus == .failed, let e = state?.lastError { row.notes.append("last error: \(e)") }
            rows.append(row)
        }
        for (owner, name) in stored {
            // A child feed (`PARENT/NAME/KEY`) of a configured parent is not an orphan.
            if let owner, !configured.contains(owner),
               !configured.contains(where: { owner.hasPrefix($0 + "/") }) { orphans.append(name) }
        }
    }

    package func textLines() -> [String] {
        var table: [[String]] = [["FEED", "GEN", "AGE", "RECORDS", "SIZE", "LAST STATUS", "LAST SUCCESS", "NOTES"]]
        for r in rows {
            table.append([
                r.feedID,
                r.state?.snapshotGeneration.map(String.init) ?? "-",
                r.header.map { Show.age(ageSeconds(now: now, createdAt: $0.createdAt)) } ?? "-",
                r.header.map { String($0.recordCount) } ?? "-",
                r.fileBytes.map(Show.bytes) ?? "-",
                r.state?.lastStatus?.rawValue ?? "-",
                r.state?.lastSuccessAt.map(ISOTime.format) ?? "-",
                r.notes.joined(separator: "; "),
            ])
        }
        var lines = Show.table(table)
        let attention = rows.filter { !$0.notes.isEmpty }.count
        lines.append("feeds: \(rows.count) configured, \(attention) need attention; orphan files: \(orphans.count)")
        if !orphans.isEmpty {
            lines.append("orphan files (no configured feed owns them):")
            lines += orphans.map { "  " + $0 }
        }
        return lines
    }
}
