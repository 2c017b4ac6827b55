// TEXT escaping, civil dates, DATE / DATE-TIME / PERIOD / DURATION values.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `s` without its leading characters for which `leading` holds and its trailing ones for which
/// `trailing` holds, where both name ASCII characters only (spaces, tabs, quotes): what the
/// loops `while let f = s.first, leading(f) { s.removeFirst() }` (and the same at the end) give.
/// It works on bytes, which is exact while the bytes next to the ones removed are ASCII too; a
/// non-ASCII neighbour might join them into one `Character`, and then the `Character` loops run.
@inline(__always)
func trimmingASCII(_ s: Substring, leading: (UInt8) -> Bool, trailing: (UInt8) -> Bool) -> Substring {
    let u = s.utf8
    var lo = u.startIndex, hi = u.endIndex
    while hi > lo {
        let last = u.index(before: hi)
        guard trailing(u[last]) else { break }
        if last > lo, u[u.index(before: last)] >= 0x80 { return trimmingCharacters(s, leading, trailing) }
        hi = last
    }
    while lo < hi, leading(u[lo]) {
        let next = u.index(after: lo)
        if next < hi, u[next] >= 0x80 { return trimmingCharacters(s, leading, trailing) }
        lo = next
    }
    return Substring(u[lo..<hi])
}

/// A space or a tab: what surrounds values that RFC 5545 does not allow to be surrounded.
@inline(__always) func isBlank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }

/// The `Character` loops `trimmingASCII` stands for.
func trimmingCharacters(_ s: Substring, _ leading: (UInt8) -> Bool, _ trailing: (UInt8) -> Bool) -> Substring {
    var v = s
    func ascii(_ c: Character, _ accept: (UInt8) -> Bool) -> Bool {
        guard let a = c.asciiValue, c.unicodeScalars.count == 1 else { return false }
        return accept(a)
    }
    while let l = v.last, ascii(l, trailing) { v.removeLast() }
    while let f = v.first, ascii(f, leading) { v.removeFirst() }
    return v
}

public enum ICalText {
    /// RFC 5545 §3.3.11: `\\` `\;` `\,` `\n` `\N` → `\ ; , newline`.
    /// An unknown escape `\x` yields `x` (the backslash is dropped); a trailing lone backslash is kept.
    public static func unescape(_ s: String) -> String {
        var text = s
        // Runs between backslashes are found with memchr and copied whole (every event's UID,
        // SUMMARY, DESCRIPTION and LOCATION pass here).
        let unescaped: String? = text.withUTF8 { b in
            guard let base = b.baseAddress, memchr(base, 0x5C, b.count) != nil else { return nil }
            // Written straight into the new string's storage (never longer than the input).
            return String(unsafeUninitializedCapacity: b.count) { out in
                var i = 0, k = 0
                while i < b.count {
                    let j = memchr(base + i, 0x5C, b.count - i).map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? b.count
                    if j > i {
                        UnsafeMutableRawPointer(out.baseAddress! + k).copyMemory(from: base + i, byteCount: j - i)
                        k += j - i
                    }
                    guard j < b.count else { break }
                    guard j + 1 < b.count else { out[k] = 0x5C; k += 1; break }   // a trailing lone backslash is kept
                    let n = b[j + 1]
                    out[k] = n == UInt8(ascii: "n") || n == UInt8(ascii: "N") ? 0x0A : n
                    k += 1
                    i = j + 2
                }
                return k
            }
        }
        return unescaped ?? s
    }

    /// Inverse of `unescape`: `\` `;` `,` newline (and CRLF) → `\\` `\;` `\,` `\n`.
    public static func escape(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 8)
        var prevCR = false
        for c in s.utf8 {
            if prevCR && c == 0x0A { prevCR = false; continue }
            prevCR = false
            switch c {
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case UInt8(ascii: ";"): out.append(0x5C); out.append(UInt8(ascii: ";"))
            case UInt8(ascii: ","): out.append(0x5C); out.append(UInt8(ascii: ","))
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "n")); prevCR = true
            default: out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `escape(unescape(raw))` in one pass, appended to `out`: the one normal escaped spelling of a
    /// TEXT value (`\N` becomes `\n`, a bare `,` or `;` gets its backslash). A value with nothing
    /// to escape is copied as it is.
    public static func appendNormalized(_ raw: String, to out: inout [UInt8]) {
        var utf8 = raw.utf8
        let copied: Void? = utf8.withContiguousStorageIfAvailable { b in
            @inline(__always) func special(_ c: UInt8) -> Bool { c == 0x5C || c == 0x3B || c == 0x2C || c == 0x0A || c == 0x0D }
            var i = 0
            var afterCR = false
            while i < b.count {
                // A run of bytes that need nothing is copied in one go.
                var j = i
                while j < b.count, !special(b[j]) { j += 1 }
                if j > i {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<j]))
                    afterCR = false
                    i = j
                    if i == b.count { break }
                }
                // Decode one character (as `unescape` would) and encode it (as `escape` would); a
                // CR swallows the newline that follows it, however that newline was spelled.
                var c = b[i]
                i += 1
                if c == 0x5C {
                    guard i < b.count else { out.append(0x5C); out.append(0x5C); afterCR = false; continue }
                    c = b[i]
                    i += 1
                    if c == UInt8(ascii: "n") || c == UInt8(ascii: "N") { c = 0x0A }
                }
                if afterCR && c == 0x0A { afterCR = false; continue }
                afterCR = false
                switch c {
                case 0x5C, 0x3B, 0x2C: out.append(0x5C); out.append(c)
                case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "n")); afterCR = true
                default: out.append(c)
                }
            }
        }
        if copied == nil {
            utf8 = escape(unescape(raw)).utf8
            out.append(contentsOf: utf8)
        }
    }
}

// MARK: - Civil dates (proleptic Gregorian, Howard Hinnant's algorithms)

@inline(__always) func floorDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q
}
@inline(__always) func floorMod(_ a: Int, _ b: Int) -> Int { a - floorDiv(a, b) * b }

@inline(__always) func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
    let y = m <= 2 ? y0 - 1 : y0
    let era = floorDiv(y, 400)
    let yoe = y - era * 400
    let mp = (m + 9) % 12
    let doy = (153 * mp + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146097 + doe - 719468
}

@inline(__always) func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
    let z = z0 + 719468
    let era = floorDiv(z, 146097)
    let doe = z - era * 146097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
    let y = yoe + era * 400
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (m <= 2 ? y + 1 : y, m, d)
}

@inline(__always) func isLeapYear(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

@inline(__always) func daysInMonth(_ y: Int, _ m: Int) -> Int {
    switch m {
    case 2: return isLeapYear(y) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

/// Weekday of a day number: 0 = Sunday ... 6 = Saturday.
@inline(__always) func weekdayFromDays(_ z: Int) -> Int { floorMod(z + 4, 7) }

public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    public init(daysSinceEpoch: Int) {
        let (y, m, d) = civilFromDays(daysSinceEpoch)
        self.init(year: y, month: m, day: d)
    }

    /// 1970-01-01 = 0.
    public var daysSinceEpoch: Int { daysFromCivil(year, month, day) }
    /// 0 = Sunday ... 6 = Saturday.
    public var weekday: Int { weekdayFromDays(daysSinceEpoch) }
    /// 1-based day of the year.
    public var dayOfYear: Int { daysSinceEpoch - daysFromCivil(year, 1, 1) + 1 }
    public var isValid: Bool { month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) }

    public func adding(days: Int) -> CivilDate { CivilDate(daysSinceEpoch: daysSinceEpoch + days) }

    /// Adds months, clamping the day to the end of the target month (Jan 31 + 1 month = Feb 28/29).
    public func adding(months: Int) -> CivilDate {
        let total = year * 12 + (month - 1) + months
        let y = floorDiv(total, 12)
        let m = floorMod(total, 12) + 1
        return CivilDate(year: y, month: m, day: min(day, daysInMonth(y, m)))
    }

    public func adding(years: Int) -> CivilDate { adding(months: years * 12) }

    /// "YYYY-MM-DD"
    public var iso: String {
        guard (0...9999).contains(year), (0...99).contains(month), (0...99).contains(day) else {
            return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
        }
        // Ten bytes written in place (a small string: no allocation), as every all-day event asks.
        return String(unsafeUninitializedCapacity: 10) { b in
            let y = year, m = month, d = day
            b[0] = 0x30 + UInt8(y / 1000); b[1] = 0x30 + UInt8(y / 100 % 10)
            b[2] = 0x30 + UInt8(y / 10 % 10); b[3] = 0x30 + UInt8(y % 10)
            b[4] = 0x2D; b[5] = 0x30 + UInt8(m / 10); b[6] = 0x30 + UInt8(m % 10)
            b[7] = 0x2D; b[8] = 0x30 + UInt8(d / 10); b[9] = 0x30 + UInt8(d % 10)
            return 10
        }
    }
    public var description: String { iso }

    public static func < (a: CivilDate, b: CivilDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }
}

public struct CivilDateTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var date: CivilDate
    public var hour: Int
    public var minute: Int
    public var second: Int

    public init(date: CivilDate, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.date = date
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.init(date: CivilDate(year: year, month: month, day: day), hour: hour, minute: minute, second: second)
    }

    /// Inverse of `secondsSinceEpochAsUTC`.
    public init(secondsSinceEpoch s: Int64) {
        let si = Int(s)
        let days = floorDiv(si, 86400)
        let rem = si - days * 86400
        self.init(date: CivilDate(daysSinceEpoch: days), hour: rem / 3600, minute: (rem % 3600) / 60, second: rem % 60)
    }

    /// The wall time read as if it were UTC.
    public var secondsSinceEpochAsUTC: Int64 {
        Int64(date.daysSinceEpoch) * 86400 + Int64(hour * 3600 + minute * 60 + second)
    }

    public func adding(seconds: Int64) -> CivilDateTime { CivilDateTime(secondsSinceEpoch: secondsSinceEpochAsUTC + seconds) }

    /// "YYYY-MM-DDTHH:MM:SS"
    public var iso: String { "\(date.iso)T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))" }
    public var description: String { iso }

    public static func < (a: CivilDateTime, b: CivilDateTime) -> Bool {
        if a.date != b.date { return a.date < b.date }
        return (a.hour, a.minute, a.second) < (b.hour, b.minute, b.second)
    }
}

@inline(__always) func pad(_ v: Int, _ w: Int) -> String {
    let s = String(abs(v))
    let p = s.count < w ? String(repeating: "0", count: w - s.count) + s : s
    return v < 0 ? "-" + p : p
}

/// "YYYY-MM-DDTHH:MM:SSZ"
public func isoUTC(_ instant: Int64) -> String { CivilDateTime(secondsSinceEpoch: instant).iso + "Z" }

// MARK: - DATE / DATE-TIME values

public enum ICalDateValue: Sendable, Hashable, CustomStringConvertible {
    case date(CivilDate)
    case utc(CivilDateTime)
    /// tzid nil = floating time.
    case local(CivilDateTime, tzid: String?)

    public var isDate: Bool { if case .date = self { return true } else { return false } }

    /// Wall-clock date-time (midnight for a DATE).
    public var civil: CivilDateTime {
        switch self {
        case .date(let d): return CivilDateTime(date: d)
        case .utc(let dt): return dt
        case .local(let dt, _): return dt
        }
    }

    /// Canonical RFC 5545 text: `20261201`, `20261201T100000Z`, `20261201T100000`.
    public var icalText: String {
        func d(_ c: CivilDate) -> String { pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2) }
        func t(_ c: CivilDateTime) -> String { d(c.date) + "T" + pad(c.hour, 2) + pad(c.minute, 2) + pad(c.second, 2) }
        switch self {
        case .date(let c): return d(c)
        case .utc(let c): return t(c) + "Z"
        case .local(let c, _): return t(c)
        }
    }

    public var description: String {
        if case .local(_, let tz?) = self { return "\(icalText)[\(tz)]" }
        return icalText
    }

    /// Parses DTSTART/DTEND/RECURRENCE-ID/... honouring VALUE=DATE and TZID.
    public static func parse(_ p: ICalProperty) throws(ICalParseError) -> ICalDateValue {
        let tzid = normalizedTZID(p.parameter("TZID"))
        let forceDate = p.parameter("VALUE").map(asciiUppercased) == "DATE"
        let v = Substring(p.value).trimmingSpaces
        guard let r = parseText(v, tzid: tzid, forceDate: forceDate) else {
            throw ICalParseError(line: p.line, message: "\(p.name): invalid date/date-time value \"\(p.value.prefix(40))\"")
        }
        return r
    }

    /// EXDATE/RDATE: comma-separated values (for VALUE=PERIOD, the period starts).
    public static func parseList(_ p: ICalProperty) throws(ICalParseError) -> [ICalDateValue] {
        try parsePeriods(p).map { $0.start }
    }

    /// RDATE with optional VALUE=PERIOD (`start/end` or `start/duration`).
    public static func parsePeriods(_ p: ICalProperty) throws(ICalParseError) -> [ICalPeriod] {
        let tzid = normalizedTZID(p.parameter("TZID"))
        let forceDate = p.parameter("VALUE").map(asciiUppercased) == "DATE"
        var out: [ICalPeriod] = []
        for raw in p.value.split(separator: ",", omittingEmptySubsequences: true) {
            let item = raw.trimmingSpaces
            if item.isEmpty { continue }
            if let slash = item.firstIndex(of: "/") {
                let a = item[..<slash], b = item[item.index(after: slash)...]
                guard let s = parseText(a, tzid: tzid, forceDate: false) else {
                    throw ICalParseError(line: p.line, message: "\(p.name): invalid period start \"\(a.prefix(40))\"")
                }
                if let f = b.first, f == "P" || f == "+" || f == "-" || f == "p" {
                    guard let d = ICalDuration.parse(String(b)) else {
                        throw ICalParseError(line: p.line, message: "\(p.name): invalid period duration \"\(b.prefix(40))\"")
                    }
                    out.append(ICalPeriod(start: s, end: nil, duration: d))
                } else {
                    guard let e = parseText(b, tzid: tzid, forceDate: false) else {
                        throw ICalParseError(line: p.line, message: "\(p.name): invalid period end \"\(b.prefix(40))\"")
                    }
                    out.append(ICalPeriod(start: s, end: e, duration: nil))
                }
            } else {
                guard let s = parseText(item, tzid: tzid, forceDate: forceDate) else {
                    throw ICalParseError(line: p.line, message: "\(p.name): invalid date/date-time value \"\(item.prefix(40))\"")
                }
                out.append(ICalPeriod(start: s, end: nil, duration: nil))
            }
        }
        return out
    }

    /// Parses `YYYYMMDD`, `YYYYMMDDTHHMMSS`, `YYYYMMDDTHHMMSSZ`.
    public static func parseText(_ s: Substring, tzid: String?, forceDate: Bool = false) -> ICalDateValue? {
        // The substring's own bytes when it has them in one piece (a native string's do), else a copy.
        if let r = s.utf8.withContiguousStorageIfAvailable({ parseText(bytes: $0, tzid: tzid, forceDate: forceDate) }) { return r }
        var str = String(s)
        return str.withUTF8 { parseText(bytes: $0, tzid: tzid, forceDate: forceDate) }
    }

    private static func parseText(bytes b: UnsafeBufferPointer<UInt8>, tzid: String?, forceDate: Bool) -> ICalDateValue? {
        let n = b.count
        guard n >= 8 else { return nil }
        func num(_ i: Int, _ len: Int) -> Int? {
            var v = 0
            for k in i..<(i + len) {
                let c = b[k]
                guard c >= 0x30 && c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            return v
        }
        guard let y = num(0, 4), let m = num(4, 2), let d = num(6, 2) else { return nil }
        let date = CivilDate(year: y, month: m, day: d)
        guard date.isValid else { return nil }
        if n == 8 { return .date(date) }
        guard b[8] == UInt8(ascii: "T") || b[8] == UInt8(ascii: "t"), n >= 13 else { return nil }
        guard let hh = num(9, 2), let mm = num(11, 2) else { return nil }
        var ss = 0
        var i = 13
        if n >= 15, let s2 = num(13, 2) { ss = s2; i = 15 }
        guard hh <= 23, mm <= 59, ss <= 60 else { return nil }
        let dt = CivilDateTime(date: date, hour: hh, minute: mm, second: min(ss, 59))
        if forceDate { return .date(date) }
        if i == n { return .local(dt, tzid: tzid) }
        if i == n - 1, b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") { return .utc(dt) }
        return nil
    }

    /// Strips surrounding quotes / whitespace and a leading "/" from a TZID parameter value.
    public static func normalizedTZID(_ s: String?) -> String? {
        guard let s else { return nil }
        let quoteOrSpace: (UInt8) -> Bool = { $0 == 0x22 || $0 == 0x20 || $0 == 0x27 }
        var v = trimmingASCII(Substring(s), leading: quoteOrSpace, trailing: quoteOrSpace)
        if v.first == "/" { v.removeFirst() }
        return v.isEmpty ? nil : String(v)
    }
}

/// A value of an RDATE;VALUE=PERIOD (or a plain RDATE value, end/duration nil).
public struct ICalPeriod: Sendable, Hashable {
    public var start: ICalDateValue
    public var end: ICalDateValue?
    public var duration: ICalDuration?
    public init(start: ICalDateValue, end: ICalDateValue?, duration: ICalDuration?) {
        self.start = start
        self.end = end
        self.duration = duration
    }
}

// MARK: - DURATION

/// RFC 5545 §3.3.6. `days` is the nominal part (weeks × 7 + days), `seconds` the exact part;
/// both carry the sign of the duration.
public struct ICalDuration: Sendable, Hashable, CustomStringConvertible {
    public var days: Int
    public var seconds: Int

    public init(days: Int = 0, seconds: Int = 0) {
        self.days = days
        self.seconds = seconds
    }

    public var isNegative: Bool { days < 0 || seconds < 0 }
    /// Length assuming 24-hour days.
    public var totalSecondsApprox: Int64 { Int64(days) * 86400 + Int64(seconds) }

    public static func parse(_ s: String) -> ICalDuration? {
        var str = s
        return str.withUTF8 { b -> ICalDuration? in
            var i = 0
            let n = b.count
            while i < n, b[i] == 0x20 { i += 1 }
            var end = n
            while end > i, b[end - 1] == 0x20 || b[end - 1] == 0x09 { end -= 1 }
            var sign = 1
            if i < end, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
                if b[i] == UInt8(ascii: "-") { sign = -1 }
                i += 1
            }
            guard i < end, b[i] | 0x20 == UInt8(ascii: "p") else { return nil }
            i += 1
            var days = 0, secs = 0
            var inTime = false
            var any = false
            while i < end {
                let c = b[i] | 0x20
                if c == UInt8(ascii: "t") {
                    if inTime { return nil }
                    inTime = true
                    i += 1
                    if i >= end { return nil }  // "P1DT"
                    continue
                }
                var v = 0
                var digits = 0
                while i < end, b[i] >= 0x30, b[i] <= 0x39 {
                    v = v &* 10 &+ Int(b[i] - 0x30)
                    digits += 1
                    i += 1
                    if digits > 12 { return nil }
                }
                guard digits > 0, i < end else { return nil }
                let unit = b[i] | 0x20
                i += 1
                switch (unit, inTime) {
                case (UInt8(ascii: "w"), false): days += v * 7
                case (UInt8(ascii: "d"), false): days += v
                case (UInt8(ascii: "h"), true): secs += v * 3600
                case (UInt8(ascii: "m"), true): secs += v * 60
                case (UInt8(ascii: "s"), true): secs += v
                default: return nil
                }
                any = true
            }
            guard any else { return nil }
            return ICalDuration(days: sign * days, seconds: sign * secs)
        }
    }

    public var description: String {
        var out = isNegative ? "-P" : "P"
        let d = abs(days), s = abs(seconds)
        if d == 0 && s == 0 { return "PT0S" }
        if s == 0 && d % 7 == 0 { return out + "\(d / 7)W" }
        if d > 0 { out += "\(d)D" }
        if s > 0 {
            out += "T"
            if s / 3600 > 0 { out += "\(s / 3600)H" }
            if (s % 3600) / 60 > 0 { out += "\((s % 3600) / 60)M" }
            if s % 60 > 0 { out += "\(s % 60)S" }
        }
        return out
    }
}
