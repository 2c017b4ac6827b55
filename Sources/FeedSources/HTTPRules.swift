import Foundation
import FeedModel

/// The pure rules of HTTP fetching: what to retry, how long to wait, what a calendar looks like.
package enum HTTPRules {
    /// Statuses worth another attempt: 408, 429 and every 5xx. Other 4xx are final.
    package static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 429 || (500...599).contains(status)
    }

    /// Exponential backoff with full jitter: a uniform wait in `0 ... min(cap, base × 2^retry)`.
    /// `retry` counts from 0; `unit` is a number in 0..<1 (the random draw, injectable in tests).
    package static func backoff(retry: Int, baseMs: Int, capSeconds: Double, unit: Double) -> Double {
        let ceiling = min(capSeconds, Double(baseMs) / 1000 * pow(2, Double(min(retry, 30))))
        return max(0, ceiling * unit)
    }

    /// `Retry-After` as seconds from `now`: delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
    /// Nil when absent or unreadable; a date in the past is 0.
    package static func retryAfter(_ value: String?, now: Date) -> Double? {
        guard let v = value?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        if let s = Int(v) { return s >= 0 ? Double(s) : nil }
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "GMT")
            f.dateFormat = format
            if let d = f.date(from: v) { return max(0, d.timeIntervalSince(now)) }
        }
        return nil
    }

    /// The first bytes of a body, printable: for error messages.
    package static func preview(_ body: [UInt8], count: Int = 60) -> String {
        if body.isEmpty { return "(empty body)" }
        var s = ""
        for b in body.prefix(count) {
            switch b {
            case 0x20...0x7E where b != UInt8(ascii: "\""): s.append(Character(UnicodeScalar(b)))
            case 0x0A: s += "\\n"
            case 0x0D: s += "\\r"
            case 0x09: s += "\\t"
            default: s += String(format: "\\x%02X", b)
            }
        }
        return "\"" + s + (body.count > count ? "…" : "") + "\""
    }

    /// Replaces every URL found in `text` (an error description from a library) by its redacted form.
    package static func redactURLs(in text: String, known: [String]) -> String {
        var out = text
        for url in known.sorted(by: { $0.count > $1.count }) where !url.isEmpty {
            out = out.replacingOccurrences(of: url, with: redactURL(url))
        }
        // Anything else that looks like a URL with a query or user info.
        var result = ""
        var rest = Substring(out)
        while let r = rest.range(of: "://") {
            var start = r.lowerBound
            while start > rest.startIndex, rest[rest.index(before: start)].isLetter { start = rest.index(before: start) }
            var end = r.upperBound
            while end < rest.endIndex, !" \t\n\"'<>)]".contains(rest[end]) { end = rest.index(after: end) }
            result += rest[..<start]
            result += redactURL(String(rest[start..<end]))
            rest = rest[end...]
        }
        return result + rest
    }
}
