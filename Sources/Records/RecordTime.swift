import FeedModel
import Foundation

/// Reads a record's start or end: `iso8601` (with or without an offset or seconds; a bare date is
/// an all-day value), `unix` and `unix_ms` (numbers or digits in a string), or a strptime-like
/// pattern (`%Y %m %d %H %M %S %I %p %b %%`; numeric fields take one or two digits, so
/// `7/12/2025 07:00` reads with `%m/%d/%Y %H:%M`). Times without an offset are read in `zone`.
package struct RecordTime: Sendable {
    package enum Format: Sendable, Equatable {
        case iso8601, unix, unixMillis
        case pattern([PatternPart])
    }

    package enum PatternPart: Sendable, Equatable {
        case literal(UInt8)
        case field(Character)
    }

    package struct Value: Sendable, Equatable {
        /// Unix seconds, UTC.
        package var instant: Int64
        /// For a bare date (`2026-12-01`): the date, and the value is all-day.
        package var date: String?
    }

    package let format: Format
    private let zone: TimeZone

    /// The local day (since 1970-01-01) of an instant in the reader's zone (the feed's).
    package func localDay(_ t: Int64) -> Int64 {
        ISOTime.day(t, offset: Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t)))))
    }

    /// Throws a message for a pattern or zone that cannot be used (the config loader reports it).
    package init(_ format: String, zone: String) throws(FeedFormatError) {
        guard let tz = TimeZone(identifier: zone) else { throw FeedFormatError(line: nil, message: "unknown time zone \(zone)") }
        self.zone = tz
        switch format {
        case "iso8601": self.format = .iso8601
        case "unix": self.format = .unix
        case "unix_ms": self.format = .unixMillis
        default:
            var parts: [PatternPart] = []
            var bytes = Array(format.utf8)[...]
            while let b = bytes.popFirst() {
                if b == UInt8(ascii: "%") {
                    guard let f = bytes.popFirst() else { throw FeedFormatError(line: nil, message: "time_format `\(format)` ends with `%`") }
                    let c = Character(UnicodeScalar(f))
                    if c == "%" { parts.append(.literal(f)); continue }
                    guard "YymdHMSIpb".contains(c) else {
                        throw FeedFormatError(line: nil, message: "time_format `\(format)`: unknown field %\(c) (known: %Y %y %m %d %H %M %S %I %p %b %%)")
                    }
                    parts.append(.field(c))
                } else {
                    parts.append(.literal(b))
                }
            }
            guard parts.contains(where: { if case .field = $0 { true } else { false } }) else {
                throw FeedFormatError(line: nil, message: "time_format `\(format)` is not iso8601, unix, unix_ms or a pattern with % fields")
            }
            self.format = .pattern(parts)
        }
    }

    /// The value of a field (a JSON string or number); nil when it cannot be read.
    package func read(_ node: JSONNode) -> Value? {
        switch (format, node) {
        case (.unix, .number(let t)), (.unix, .string(let t)): return Self.unix(t, scale: 1).map { Value(instant: $0) }
        case (.unixMillis, .number(let t)), (.unixMillis, .string(let t)): return Self.unix(t, scale: 1000).map { Value(instant: $0) }
        case (.iso8601, .string(let t)): return iso(Array(t.utf8))
        case (.pattern(let parts), .string(let t)): return pattern(parts, Array(t.utf8))
        case (.pattern(let parts), .number(let t)): return pattern(parts, Array(t.utf8))
        default: return nil
        }
    }

    private static func unix(_ text: String, scale: Int64) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let i = Int64(t) { return i >= 0 ? i / scale : -((-i + scale - 1) / scale) }
        guard let d = Double(t), d.isFinite, abs(d) < 1e17 else { return nil }
        return Int64((d / Double(scale)).rounded(.down))
    }

    /// Local civil time in `zone` to a UTC instant (the earlier of two at a fall-back hour; a time
    /// in a spring-forward gap moves forward).
    private func instant(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int, _ s: Int) -> Int64? {
        guard (1...9999).contains(y), (1...12).contains(mo), (1...31).contains(d), (0...24).contains(h),
              (0...59).contains(mi), (0...60).contains(s) else { return nil }
        guard d <= Self.daysIn(y, mo) else { return nil }
        let utc = Self.civilToUnix(y, mo, d) + Int64(h * 3600 + mi * 60 + min(s, 59))
        let first = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(utc))))
        let second = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(utc - first))))
        return utc - second
    }

    static func daysIn(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 to a civil date, times 86,400 (Howard Hinnant's algorithm).
    static func civilToUnix(_ y0: Int, _ m: Int, _ d: Int) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return Int64(era * 146_097 + doe - 719_468) * 86_400
    }

    private func iso(_ b: [UInt8]) -> Value? {
        var i = 0
        func num(_ count: Int) -> Int? {
            guard i + count <= b.count else { return nil }
            var v = 0
            for k in i..<(i + count) {
                guard b[k] >= 0x30 && b[k] <= 0x39 else { return nil }
                v = v * 10 + Int(b[k] - 0x30)
            }
            i += count
            return v
        }
        func eat(_ c: UInt8) -> Bool {
            if i < b.count && b[i] == c { i += 1; return true }
            return false
        }
        while i < b.count && b[i] == 0x20 { i += 1 }
        guard let y = num(4), eat(UInt8(ascii: "-")), let mo = num(2), eat(UInt8(ascii: "-")), let d = num(2) else { return nil }
        if i == b.count {
            guard let t = instant(y, mo, d, 0, 0, 0) else { return nil }
            return Value(instant: t, date: String(decoding: b[0..<10], as: UTF8.self))
        }
        guard eat(UInt8(ascii: "T")) || eat(UInt8(ascii: "t")) || eat(0x20), let h = num(2), eat(UInt8(ascii: ":")), let mi = num(2) else { return nil }
        var s = 0
        if eat(UInt8(ascii: ":")) {
            guard let sec = num(2) else { return nil }
            s = sec
            if eat(UInt8(ascii: ".")) || eat(UInt8(ascii: ",")) {
                while i < b.count && b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
            }
        }
        if i == b.count { return instant(y, mo, d, h, mi, s).map { Value(instant: $0) } }
        if eat(UInt8(ascii: "Z")) || eat(UInt8(ascii: "z")) {
            guard i == b.count, let t = Self.utc(y, mo, d, h, mi, s) else { return nil }
            return Value(instant: t)
        }
        guard i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") else { return nil }
        let sign: Int64 = b[i] == UInt8(ascii: "-") ? -1 : 1
        i += 1
        guard let oh = num(2) else { return nil }
        _ = eat(UInt8(ascii: ":"))
        let om = i < b.count ? (num(2) ?? -1) : 0
        guard om >= 0, i == b.count, oh <= 23, om <= 59, let t = Self.utc(y, mo, d, h, mi, s) else { return nil }
        return Value(instant: t - sign * Int64(oh * 3600 + om * 60))
    }

    private static func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int, _ s: Int) -> Int64? {
        guard (1...9999).contains(y), (1...12).contains(mo), (1...daysIn(y, mo)).contains(d), (0...24).contains(h),
              (0...59).contains(mi), (0...60).contains(s) else { return nil }
        return civilToUnix(y, mo, d) + Int64(h * 3600 + mi * 60 + min(s, 59))
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    private func pattern(_ parts: [PatternPart], _ b: [UInt8]) -> Value? {
        var i = 0
        var y = 1970, mo = 1, d = 1, h = 0, mi = 0, s = 0
        var pm: Bool? = nil
        var sawHour = false
        func digits(_ maxCount: Int) -> Int? {
            var v = 0, k = 0
            while k < maxCount, i < b.count, b[i] >= 0x30 && b[i] <= 0x39 { v = v * 10 + Int(b[i] - 0x30); i += 1; k += 1 }
            return k == 0 ? nil : v
        }
        while i < b.count && b[i] == 0x20 { i += 1 }
        for part in parts {
            switch part {
            case .literal(let c):
                guard i < b.count, b[i] == c else { return nil }
                i += 1
            case .field(let f):
                switch f {
                case "Y": guard let v = digits(4) else { return nil }; y = v
                case "y": guard let v = digits(2) else { return nil }; y = v < 69 ? 2000 + v : 1900 + v
                case "m": guard let v = digits(2) else { return nil }; mo = v
                case "d": guard let v = digits(2) else { return nil }; d = v
                case "H", "I": guard let v = digits(2) else { return nil }; h = v; sawHour = true
                case "M": guard let v = digits(2) else { return nil }; mi = v
                case "S": guard let v = digits(2) else { return nil }; s = v
                case "p":
                    guard i + 2 <= b.count else { return nil }
                    let word = String(decoding: b[i..<(i + 2)], as: UTF8.self).lowercased()
                    guard word == "am" || word == "pm" else { return nil }
                    pm = word == "pm"
                    i += 2
                case "b":
                    guard i + 3 <= b.count, let m = Self.months.firstIndex(of: String(decoding: b[i..<(i + 3)], as: UTF8.self).lowercased()) else { return nil }
                    mo = m + 1
                    i += 3
                    while i < b.count, (b[i] | 0x20) >= 0x61 && (b[i] | 0x20) <= 0x7A { i += 1 }   // "December"
                default: return nil
                }
            }
        }
        while i < b.count && b[i] == 0x20 { i += 1 }
        guard i == b.count else { return nil }
        if let pm {
            guard (1...12).contains(h) else { return nil }
            h = h % 12 + (pm ? 12 : 0)
        }
        guard let t = instant(y, mo, d, h, mi, s) else { return nil }
        if !sawHour {
            return Value(instant: t, date: String(format: "%04d-%02d-%02d", y, mo, d))
        }
        return Value(instant: t)
    }
}
