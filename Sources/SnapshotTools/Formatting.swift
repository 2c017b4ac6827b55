import FeedModel
import JSONOutput

/// Small text helpers shared by the tools' renderings.
package enum Show {
    /// `3 d 4 h`, `2 h 5 min`, `4 min 10 s`, `45 s`; a negative age reads `in 2 h (clock skew?)`.
    package static func age(_ seconds: Int64) -> String {
        if seconds < 0 { return "in \(age(seconds == .min ? .max : -seconds)) (created after --now / the clock)" }
        let d = seconds / 86_400, h = (seconds % 86_400) / 3600, m = (seconds % 3600) / 60, s = seconds % 60
        if d > 0 { return h > 0 ? "\(d) d \(h) h" : "\(d) d" }
        if h > 0 { return m > 0 ? "\(h) h \(m) min" : "\(h) h" }
        if m > 0 { return s > 0 ? "\(m) min \(s) s" : "\(m) min" }
        return "\(s) s"
    }

    /// `419 B`, `1.2 KiB`, `3.4 MiB`.
    package static func bytes(_ n: UInt64) -> String {
        if n < 1024 { return "\(n) B" }
        if n < 1024 * 1024 { return formatFixed(Double(n) / 1024, places: 1) + " KiB" }
        return formatFixed(Double(n) / (1024 * 1024), places: 1) + " MiB"
    }

    /// An instant as ISO-8601 UTC. An all-day instant that falls at midnight UTC (the feed's
    /// time zone is UTC) is shown as the date alone; in any other zone the local midnight is not a
    /// UTC date, so the full instant is shown rather than a date that could be a day off.
    package static func instant(_ t: Int64, allDay: Bool = false) -> String {
        let iso = ISOTime.format(t)
        return allDay && t % 86_400 == 0 ? String(iso.prefix(10)) : iso
    }

    /// Left-aligned columns separated by two spaces; the last column is not padded.
    package static func table(_ rows: [[String]]) -> [String] {
        guard let width = rows.map(\.count).max() else { return [] }
        var widths = [Int](repeating: 0, count: width)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            var line = ""
            for (i, cell) in row.enumerated() {
                line += cell
                if i + 1 < row.count { line += String(repeating: " ", count: widths[i] - cell.count + 2) }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }
}
