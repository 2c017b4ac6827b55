import FeedHash
import FeedModel
import JSONOutput
import FeedFormats
import Snapshots

/// What `feedsync snapshot inspect` shows: a decoded snapshot seen from an instant `now`.
package struct SnapshotInspection: Sendable {
    package var path: String
    package var fileBytes: UInt64
    package var snapshot: Snapshot
    package var now: Int64
    /// The generation the store points at for this feed, when the snapshot was found through it.
    package var storeGeneration: UInt64?
    /// The format of the snapshot's records (its header's `format`), which reads their canonical
    /// bodies (summaries, properties); nil for a format this build does not know.
    package var format: (any FeedFormat)?

    package init(path: String, fileBytes: UInt64, snapshot: Snapshot, now: Int64, storeGeneration: UInt64? = nil,
                formats: FormatRegistry = .standard) {
        self.path = path
        self.fileBytes = fileBytes
        self.snapshot = snapshot
        self.now = now
        self.storeGeneration = storeGeneration
        self.format = formats.make(snapshot.header.feedFormat)
    }

    /// Reads and fully decodes `path`; errors carry the path.
    package static func load(path: String, now: Int64, storeGeneration: UInt64? = nil,
                            formats: FormatRegistry = .standard) throws(SnapshotError) -> SnapshotInspection {
        try load(bytes: SnapshotDirectory.readFile(path), path: path, now: now, storeGeneration: storeGeneration, formats: formats)
    }

    /// Fully decodes a snapshot's bytes (a file's, or a row's of the PostgreSQL store's table);
    /// errors carry `path`, the name shown for it.
    package static func load(bytes: [UInt8], path: String, now: Int64, storeGeneration: UInt64? = nil,
                            formats: FormatRegistry = .standard) throws(SnapshotError) -> SnapshotInspection {
        do throws(SnapshotError) {
            let snapshot = try SnapshotCodec.decode(bytes)
            return SnapshotInspection(path: path, fileBytes: UInt64(bytes.count), snapshot: snapshot,
                                      now: now, storeGeneration: storeGeneration, formats: formats)
        } catch {
            throw error.with(path: path)
        }
    }

    package var header: SnapshotHeader { snapshot.header }

    /// A record is future when it ends after `now` or never ends (as the planner decides).
    package static func isFuture(_ r: SnapshotRecord, now: Int64) -> Bool { r.lastEnd.map { $0 > now } ?? true }

    package var futureCount: Int { snapshot.records.reduce(0) { $0 + (Self.isFuture($1, now: now) ? 1 : 0) } }
    package var pastCount: Int { snapshot.records.count - futureCount }

    /// Raw payload bytes per compressed byte.
    package var ratio: Double {
        header.compressedPayloadBytes == 0 ? 0 : Double(header.rawPayloadBytes) / Double(header.compressedPayloadBytes)
    }

    package var versionText: String { "\(header.formatMajor).\(header.formatMinor)" }

    /// A record's summary (title), as its format reads it.
    package func summary(_ r: SnapshotRecord) -> String? { format?.summary(ofCanonicalBody: r.body) }

    // MARK: Text

    package func textLines(records: Bool) -> [String] {
        let h = header
        var generation = "\(h.generation)"
        if let storeGeneration {
            generation += storeGeneration == h.generation ? " (the store's current generation)"
                : " (the store points at generation \(storeGeneration))"
        }
        var rows: [[String]] = [
            ["snapshot", path],
            ["format", "\(versionText), parser version \(h.parserVersion)"],
            ["feed", h.feedID],
            ["generation", generation],
            ["created", "\(ISOTime.format(h.createdAt)) (\(Show.age(ageSeconds(now: now, createdAt: h.createdAt))) old)"],
            ["fingerprint", h.bodyFingerprint.description],
            ["etag", h.etag ?? "(none)"],
            ["last-modified", h.lastModified ?? "(none)"],
            ["records", "\(h.recordCount) (\(futureCount) future, \(pastCount) past as of \(ISOTime.format(now)))"],
            ["size", "\(fileBytes) bytes on disk; payload \(h.compressedPayloadBytes) bytes compressed, "
                + "\(h.rawPayloadBytes) raw (ratio \(formatFixed(ratio, places: 2)))"],
        ]
        // iCalendar, the format of every 1.x and 2.0 file, goes without saying.
        if h.feedFormat != SnapshotHeader.defaultFeedFormat || format == nil {
            rows.append(["feed format", h.feedFormat + (format == nil ? " (not known to this feedsync: records shown without summaries)" : "")])
        }
        rows = rows.map { [$0[0] + ":", $0[1]] }
        var lines = Show.table(rows)
        if records {
            lines.append("")
            var table: [[String]] = [["KEY", "HASH", "START", "LAST END", "SUMMARY"]]
            for r in snapshot.records {
                table.append([
                    r.key, hex64(r.hash), Show.instant(r.start, allDay: r.allDay),
                    r.lastEnd.map { Show.instant($0, allDay: r.allDay) } ?? "never",
                    oneLine(summary(r) ?? ""),
                ])
            }
            lines += Show.table(table)
        }
        return lines
    }

    // MARK: JSON

    package func json(records: Bool) -> JSONValue {
        let h = header
        var members: [(String, JSONValue)] = [
            ("path", .string(path)),
            ("format_version", .string(versionText)),
            ("feed_format", .string(h.feedFormat)),
            ("parser_version", .uint(UInt64(h.parserVersion))),
            ("feed_id", .string(h.feedID)),
            ("generation", .uint(h.generation)),
            ("store_generation", .optional(storeGeneration)),
            ("created_at", .string(ISOTime.format(h.createdAt))),
            ("created_at_unix", .int(h.createdAt)),
            ("now", .string(ISOTime.format(now))),
            ("age_seconds", .int(ageSeconds(now: now, createdAt: h.createdAt))),
            ("body_fingerprint", .string(h.bodyFingerprint.description)),
            ("etag", .optional(h.etag)),
            ("last_modified", .optional(h.lastModified)),
            ("record_count", .uint(h.recordCount)),
            ("future_records", .int(Int64(futureCount))),
            ("past_records", .int(Int64(pastCount))),
            ("file_bytes", .uint(fileBytes)),
            ("compressed_bytes", .uint(h.compressedPayloadBytes)),
            ("raw_bytes", .uint(h.rawPayloadBytes)),
            ("compression_ratio", .decimal(ratio, places: 2)),
        ]
        if records {
            members.append(("records", .array(snapshot.records.map { recordJSON($0) })))
        }
        return .object(members)
    }

    package func recordJSON(_ r: SnapshotRecord) -> JSONValue {
        .object([
            ("key", .string(r.key)),
            ("hash", .string(hex64(r.hash))),
            ("start", .string(ISOTime.format(r.start))),
            ("start_unix", .int(r.start)),
            ("last_end", .optional(r.lastEnd.map(ISOTime.format))),
            ("last_end_unix", .optional(r.lastEnd)),
            ("all_day", .bool(r.allDay)),
            ("future", .bool(Self.isFuture(r, now: now))),
            ("summary", .optional(summary(r))),
        ])
    }
}

/// Newlines and tabs shown as `\n`/`\t` so a value stays on one line.
func oneLine(_ s: String) -> String {
    s.replacingAll("\n", "\\n").replacingAll("\r", "\\r").replacingAll("\t", "\\t")
}

extension String {
    func replacingAll(_ a: Character, _ b: String) -> String {
        guard contains(a) else { return self }
        var out = ""
        for c in self { if c == a { out += b } else { out.append(c) } }
        return out
    }
}

/// `now - createdAt`, saturated: a header's created-at is whatever the file says (a sound file
/// from a buggy writer may hold any Int64), and the age must not trap.
func ageSeconds(now: Int64, createdAt: Int64) -> Int64 {
    let (age, overflow) = now.subtractingReportingOverflow(createdAt)
    return overflow ? (createdAt < 0 ? Int64.max : Int64.min) : age
}
