// RRULE parsing (RFC 5545 §3.3.10) and a lazy, bounded occurrence iterator.

public struct RecurrenceRule: Sendable, Hashable {
    public enum Frequency: Int, Sendable, Hashable, Comparable {
        case secondly = 0, minutely, hourly, daily, weekly, monthly, yearly
        public static func < (a: Frequency, b: Frequency) -> Bool { a.rawValue < b.rawValue }
    }

    /// 0 = Sunday ... 6 = Saturday (same numbering as `CivilDate.weekday`).
    public struct WeekdayNum: Sendable, Hashable {
        public var ordinal: Int   // 0 = every such weekday
        public var weekday: Int
        public init(ordinal: Int, weekday: Int) {
            self.ordinal = ordinal
            self.weekday = weekday
        }
    }

    public var frequency: Frequency
    public var interval: Int = 1
    public var count: Int? = nil
    public var until: ICalDateValue? = nil
    public var bySecond: [Int] = []
    public var byMinute: [Int] = []
    public var byHour: [Int] = []
    public var byDay: [WeekdayNum] = []
    public var byMonthDay: [Int] = []
    public var byYearDay: [Int] = []
    public var byWeekNo: [Int] = []
    public var byMonth: [Int] = []
    public var bySetPos: [Int] = []
    /// Week start, 0 = Sunday ... 6 = Saturday; default Monday.
    public var weekStart: Int = 1
    /// Parts this parser does not know (e.g. RSCALE, SKIP), uppercased name → raw value.
    public var unknownParts: [String: String] = [:]

    public init(frequency: Frequency) { self.frequency = frequency }

    static let dayNames: [String: Int] = ["SU": 0, "MO": 1, "TU": 2, "WE": 3, "TH": 4, "FR": 5, "SA": 6]

    public static func parse(_ s: String) throws(ICalParseError) -> RecurrenceRule {
        var freq: Frequency? = nil
        var r = RecurrenceRule(frequency: .daily)
        func fail(_ m: String) -> ICalParseError { ICalParseError(line: nil, message: "invalid RRULE \"\(s.prefix(80))\": \(m)") }
        func ints(_ v: Substring, _ name: String, _ range: ClosedRange<Int>, allowNeg: Bool) throws(ICalParseError) -> [Int] {
            var out: [Int] = []
            for part in v.split(separator: ",", omittingEmptySubsequences: true) {
                let t = part.trimmingSpaces
                guard let n = Int(t.hasPrefix("+") ? t.dropFirst() : t) else { throw fail("bad \(name) value \"\(t)\"") }
                let a = abs(n)
                guard range.contains(allowNeg ? a : n), !(allowNeg && n == 0 && !range.contains(0)) else {
                    throw fail("\(name) value \(n) out of range")
                }
                if !out.contains(n) { out.append(n) }
            }
            return out
        }
        for rawPart in s.split(separator: ";", omittingEmptySubsequences: true) {
            let part = rawPart.trimmingSpaces
            if part.isEmpty { continue }
            guard let eq = part.firstIndex(of: "=") else { throw fail("part \"\(part)\" has no '='") }
            let key = part[..<eq].trimmingSpaces.uppercased()
            let val = part[part.index(after: eq)...].trimmingSpaces
            switch key {
            case "FREQ":
                switch val.uppercased() {
                case "SECONDLY": freq = .secondly
                case "MINUTELY": freq = .minutely
                case "HOURLY": freq = .hourly
                case "DAILY": freq = .daily
                case "WEEKLY": freq = .weekly
                case "MONTHLY": freq = .monthly
                case "YEARLY": freq = .yearly
                default: throw fail("unknown FREQ \"\(val)\"")
                }
            case "INTERVAL":
                guard let n = Int(val), n >= 1 else { throw fail("bad INTERVAL \"\(val)\"") }
                r.interval = n
            case "COUNT":
                guard let n = Int(val), n >= 0 else { throw fail("bad COUNT \"\(val)\"") }
                r.count = n
            case "UNTIL":
                guard let u = ICalDateValue.parseText(val, tzid: nil) else { throw fail("bad UNTIL \"\(val)\"") }
                r.until = u
            case "BYSECOND": r.bySecond = try ints(val, key, 0...60, allowNeg: false)
            case "BYMINUTE": r.byMinute = try ints(val, key, 0...59, allowNeg: false)
            case "BYHOUR": r.byHour = try ints(val, key, 0...23, allowNeg: false)
            case "BYMONTHDAY": r.byMonthDay = try ints(val, key, 1...31, allowNeg: true)
            case "BYYEARDAY": r.byYearDay = try ints(val, key, 1...366, allowNeg: true)
            case "BYWEEKNO": r.byWeekNo = try ints(val, key, 1...53, allowNeg: true)
            case "BYMONTH": r.byMonth = try ints(val, key, 1...12, allowNeg: false)
            case "BYSETPOS": r.bySetPos = try ints(val, key, 1...366, allowNeg: true)
            case "WKST":
                guard let d = dayNames[val.uppercased()] else { throw fail("bad WKST \"\(val)\"") }
                r.weekStart = d
            case "BYDAY":
                for item in val.split(separator: ",", omittingEmptySubsequences: true) {
                    let t = item.trimmingSpaces.uppercased()
                    guard t.count >= 2, let wd = dayNames[String(t.suffix(2))] else { throw fail("bad BYDAY \"\(t)\"") }
                    let ordText = t.dropLast(2)
                    var ord = 0
                    if !ordText.isEmpty {
                        guard let o = Int(ordText.hasPrefix("+") ? ordText.dropFirst() : ordText), o != 0, abs(o) <= 53 else {
                            throw fail("bad BYDAY \"\(t)\"")
                        }
                        ord = o
                    }
                    let w = WeekdayNum(ordinal: ord, weekday: wd)
                    if !r.byDay.contains(w) { r.byDay.append(w) }
                }
            default:
                r.unknownParts[key] = String(val)
            }
        }
        guard let f = freq else { throw fail("missing FREQ") }
        r.frequency = f
        return r
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: Substring { trimmingASCII(self, leading: isBlank, trailing: isBlank) }
}

/// Lazily expands a rule from a start in local wall time (the event's zone).
///
/// Follows RFC 5545 / libical semantics: the start itself is only produced when
/// it matches the rule. COUNT is honoured; UNTIL is honoured only if `until` is
/// given (in the same wall time as `start`; `rule.until` is used when it is a DATE
/// or floating value and `until` is nil). Stops after `maxCandidates` generated
/// candidates (periods and expanded instances) and then sets `hitBound`.
public struct RecurrenceIterator: IteratorProtocol, Sequence {
    public let rule: RecurrenceRule
    public let start: CivilDateTime
    public let dateOnly: Bool
    public let until: CivilDateTime?
    public let maxCandidates: Int
    /// true when expansion stopped because `maxCandidates` was exhausted.
    public private(set) var hitBound = false
    public private(set) var emitted = 0
    public private(set) var candidates = 0

    private var buffer: [CivilDateTime] = []
    private var bufIndex = 0
    private var period: Int = 0
    private var finished = false
    private var skipBefore: CivilDateTime? = nil
    // prepared rule data
    private let hours: [Int]
    private let minutes: [Int]
    private let seconds: [Int]
    private let defaultDay: Bool        // use start's month day / weekday as implied BY part
    private let monthsMask: UInt16      // bit m set for allowed months (0 = all)
    private let hourMask: UInt32
    private let minuteMask: UInt64
    private let secondMask: UInt64
    private let monthDayPos: UInt32     // bit d (1...31)
    private let monthDayNeg: UInt32     // bit -d (1...31)
    private let weekdayAny: UInt8       // bit per weekday for ordinal 0 entries (or all when ordinals ignored)
    private let ordinalDays: [RecurrenceRule.WeekdayNum]
    /// YEARLY with BYWEEKNO: periods are week-numbering years.
    private let weekYearMode: Bool

    /// - Parameters:
    ///   - until: inclusive bound in the same wall time as `start`.
    public init(rule: RecurrenceRule, start: CivilDateTime, dateOnly: Bool = false, until: CivilDateTime? = nil, maxCandidates: Int = 100_000) {
        self.rule = rule
        self.start = start
        self.dateOnly = dateOnly
        var u = until
        if u == nil, let ru = rule.until {
            switch ru {
            case .date(let d): u = CivilDateTime(date: d, hour: 23, minute: 59, second: 59)
            case .local(let dt, _): u = dt
            case .utc(let dt): u = dt    // caller should convert; best effort
            }
        }
        self.until = u
        self.maxCandidates = maxCandidates
        let f = rule.frequency
        func sortedUnique(_ a: [Int]) -> [Int] { Array(Set(a)).sorted() }
        if dateOnly {
            hours = [0]; minutes = [0]; seconds = [0]
            hourMask = 0; minuteMask = 0; secondMask = 0
        } else {
            hours = rule.byHour.isEmpty ? [start.hour] : sortedUnique(rule.byHour)
            minutes = rule.byMinute.isEmpty ? [start.minute] : sortedUnique(rule.byMinute)
            seconds = rule.bySecond.isEmpty ? [start.second] : sortedUnique(rule.bySecond.map { Swift.min($0, 59) })
            var hm: UInt32 = 0; for h in rule.byHour { hm |= 1 << UInt32(h) }
            var mm: UInt64 = 0; for m in rule.byMinute { mm |= 1 << UInt64(m) }
            var sm: UInt64 = 0; for s in rule.bySecond { sm |= 1 << UInt64(Swift.min(s, 59)) }
            hourMask = hm; minuteMask = mm; secondMask = sm
        }
        let hasDayParts = !rule.byDay.isEmpty || !rule.byMonthDay.isEmpty || !rule.byYearDay.isEmpty || !rule.byWeekNo.isEmpty
        defaultDay = !hasDayParts && f >= .weekly
        var mo: UInt16 = 0
        for m in rule.byMonth { mo |= 1 << UInt16(m) }
        if f == .yearly && !hasDayParts && rule.byMonth.isEmpty { mo = 1 << UInt16(start.date.month) }
        // libical: YEARLY with only BYMONTHDAY applies to the month of DTSTART
        if f == .yearly && rule.byMonth.isEmpty && !rule.byMonthDay.isEmpty && rule.byDay.isEmpty && rule.byYearDay.isEmpty && rule.byWeekNo.isEmpty {
            mo = 1 << UInt16(start.date.month)
        }
        monthsMask = mo
        var pos: UInt32 = 0, neg: UInt32 = 0
        for d in rule.byMonthDay { if d > 0 { pos |= 1 << UInt32(d) } else { neg |= 1 << UInt32(-d) } }
        if defaultDay && (f == .yearly || f == .monthly) { pos = 1 << UInt32(start.date.day) }
        monthDayPos = pos; monthDayNeg = neg
        let ordinalsApply = f == .monthly || f == .yearly
        var wa: UInt8 = 0
        var ords: [RecurrenceRule.WeekdayNum] = []
        for w in rule.byDay {
            if w.ordinal == 0 || !ordinalsApply || (f == .yearly && !rule.byWeekNo.isEmpty) { wa |= 1 << UInt8(w.weekday) } else { ords.append(w) }
        }
        if defaultDay && f == .weekly { wa = 1 << UInt8(start.date.weekday) }
        // libical: BYWEEKNO without BYDAY implies the weekday of DTSTART
        if f == .yearly && !rule.byWeekNo.isEmpty && rule.byDay.isEmpty && rule.byMonthDay.isEmpty && rule.byYearDay.isEmpty {
            wa = 1 << UInt8(start.date.weekday)
        }
        weekYearMode = f == .yearly && !rule.byWeekNo.isEmpty
        weekdayAny = wa
        ordinalDays = ords
        // initial period
        let sd = start.date.daysSinceEpoch
        let secs = Int(start.secondsSinceEpochAsUTC)
        switch f {
        case .yearly:
            period = start.date.year
            if weekYearMode {
                // INTERVAL counts ISO week-years. When DTSTART lies in the previous week-year (early
                // January), libical counts from that week-year only if DTSTART itself is an instance
                // of the rule, and from the calendar year otherwise (icalrecur_test.txt, github
                // issues 1223 and the BYWEEKNO=53 vectors); we do the same.
                let ctx = YearContext(year: start.date.year, wkst: rule.weekStart)
                let weekYear = ctx.weekNumber(sd).0
                if weekYear >= start.date.year
                    || dayMatches(sd, start.date.year, start.date.month, start.date.day, ctx) {
                    period = weekYear
                }
            }
        case .monthly: period = start.date.year * 12 + start.date.month - 1
        case .weekly: period = sd - floorMod(start.date.weekday - rule.weekStart, 7)
        case .daily: period = sd
        case .hourly: period = floorDiv(secs, 3600)
        case .minutely: period = floorDiv(secs, 60)
        case .secondly: period = secs
        }
        if let c = rule.count, c <= 0 { finished = true }
    }

    /// Starts the iteration at `from` (libical's `icalrecur_iterator_set_start`): occurrences before it
    /// are not returned but still count towards COUNT. Without COUNT, whole periods before `from` are
    /// skipped without being expanded.
    public mutating func skip(before from: CivilDateTime) {
        skipBefore = from
        guard rule.count == nil, from > start else { return }
        let f = rule.frequency
        let target: Int
        switch f {
        case .yearly: target = weekYearMode ? from.date.year - 1 : from.date.year
        case .monthly: target = from.date.year * 12 + from.date.month - 1
        case .weekly: target = from.date.daysSinceEpoch - floorMod(from.date.weekday - rule.weekStart, 7)
        case .daily: target = from.date.daysSinceEpoch
        case .hourly: target = floorDiv(Int(from.secondsSinceEpochAsUTC), 3600)
        case .minutely: target = floorDiv(Int(from.secondsSinceEpochAsUTC), 60)
        case .secondly: target = Int(from.secondsSinceEpochAsUTC)
        }
        let step = f == .weekly ? 7 * rule.interval : rule.interval
        if target > period {
            period += (target - period) / step * step
        }
    }

    public mutating func next() -> CivilDateTime? {
        while true {
            guard let c = nextCandidate() else { return nil }
            if let s = skipBefore, c < s { continue }
            return c
        }
    }

    private mutating func nextCandidate() -> CivilDateTime? {
        while true {
            if finished { return nil }
            if bufIndex < buffer.count {
                let c = buffer[bufIndex]
                bufIndex += 1
                if c < start { continue }
                if let u = until, c > u { finished = true; return nil }
                emitted += 1
                if let cnt = rule.count, emitted >= cnt { finished = true }
                return c
            }
            if candidates >= maxCandidates { hitBound = true; finished = true; return nil }
            fillNextPeriod()
        }
    }

    // MARK: expansion

    private func dayMatches(_ dn: Int, _ y: Int, _ m: Int, _ d: Int, _ ctx: YearContext) -> Bool {
        if monthsMask != 0 && monthsMask & (1 << UInt16(m)) == 0 { return false }
        if !rule.byWeekNo.isEmpty {
            let (wy, wn) = ctx.weekNumber(dn)
            let nweeks = wy == ctx.year ? ctx.weeksThis : (wy < ctx.year ? ctx.weeksPrev : ctx.weeksNext)
            var ok = false
            for w in rule.byWeekNo where w == wn || w == wn - nweeks - 1 { ok = true; break }
            if !ok { return false }
        }
        if !rule.byYearDay.isEmpty {
            let yd = dn - ctx.jan1 + 1
            let diy = ctx.daysInYear
            var ok = false
            for v in rule.byYearDay where v == yd || v == yd - diy - 1 { ok = true; break }
            if !ok { return false }
        }
        if monthDayPos != 0 || monthDayNeg != 0 {
            let dim = daysInMonth(y, m)
            let neg = dim - d + 1
            if monthDayPos & (1 << UInt32(d)) == 0 && monthDayNeg & (1 << UInt32(neg)) == 0 { return false }
        }
        if weekdayAny != 0 || !ordinalDays.isEmpty {
            let wd = weekdayFromDays(dn)
            if weekdayAny & (1 << UInt8(wd)) != 0 { return true }
            if ordinalDays.isEmpty { return false }
            let byMonthScope = rule.frequency == .monthly || !rule.byMonth.isEmpty
            let nth: Int, nthLast: Int
            if byMonthScope {
                let dim = daysInMonth(y, m)
                nth = (d - 1) / 7 + 1
                nthLast = -((dim - d) / 7 + 1)
            } else {
                let yd = dn - ctx.jan1
                nth = yd / 7 + 1
                nthLast = -((ctx.daysInYear - 1 - yd) / 7 + 1)
            }
            for o in ordinalDays where o.weekday == wd && (o.ordinal == nth || o.ordinal == nthLast) { return true }
            return false
        }
        return true
    }

    private mutating func fillNextPeriod() {
        buffer.removeAll(keepingCapacity: true)
        bufIndex = 0
        let f = rule.frequency
        let p = period
        candidates += 1
        // Day range of this period and time handling
        switch f {
        case .yearly, .monthly, .weekly, .daily:
            var firstDay: Int, lastDay: Int
            var year: Int
            switch f {
            case .yearly:
                year = p
                if weekYearMode {
                    firstDay = YearContext.week1Start(p, rule.weekStart); lastDay = YearContext.week1Start(p + 1, rule.weekStart) - 1
                } else {
                    firstDay = daysFromCivil(p, 1, 1); lastDay = daysFromCivil(p + 1, 1, 1) - 1
                }
            case .monthly:
                year = floorDiv(p, 12)
                let m = floorMod(p, 12) + 1
                firstDay = daysFromCivil(year, m, 1); lastDay = firstDay + daysInMonth(year, m) - 1
            case .weekly:
                firstDay = p; lastDay = p + 6
                year = civilFromDays(p).0
            default:
                firstDay = p; lastDay = p
                year = civilFromDays(p).0
            }
            if year > 9999 || year < 1 { finished = true; return }
            var ctx = YearContext(year: year, wkst: rule.weekStart)
            var dn = firstDay
            // Fast skip for yearly with a month restriction and no week/yearday parts.
            while dn <= lastDay {
                let (y, m, d) = civilFromDays(dn)
                if y != ctx.year { ctx = YearContext(year: y, wkst: rule.weekStart) }
                if f == .yearly && monthsMask != 0 && monthsMask & (1 << UInt16(m)) == 0 && rule.byWeekNo.isEmpty {
                    dn += daysInMonth(y, m) - d + 1
                    continue
                }
                if dayMatches(dn, y, m, d, ctx) {
                    let date = CivilDate(year: y, month: m, day: d)
                    for h in hours { for mi in minutes { for s in seconds {
                        buffer.append(CivilDateTime(date: date, hour: h, minute: mi, second: s))
                    } } }
                }
                dn += 1
            }
            candidates += buffer.count
            switch f {
            case .yearly: period += rule.interval
            case .monthly: period += rule.interval
            case .weekly: period += 7 * rule.interval
            default: period += rule.interval
            }
        case .hourly, .minutely, .secondly:
            let unit = f == .hourly ? 3600 : (f == .minutely ? 60 : 1)
            let secs = p * unit
            let dn = floorDiv(secs, 86400)
            let (y, m, d) = civilFromDays(dn)
            if y > 9999 || y < 1 { finished = true; return }
            let ctx = YearContext(year: y, wkst: rule.weekStart)
            let tod = secs - dn * 86400
            let h = tod / 3600, mi = (tod % 3600) / 60, s = tod % 60
            var skipTo: Int? = nil
            if !dayMatches(dn, y, m, d, ctx) {
                skipTo = (dn + 1) * 86400
            } else if hourMask != 0 && hourMask & (1 << UInt32(h)) == 0 {
                skipTo = dn * 86400 + (h + 1) * 3600
            } else if f != .hourly && minuteMask != 0 && minuteMask & (1 << UInt64(mi)) == 0 {
                skipTo = dn * 86400 + h * 3600 + (mi + 1) * 60
            } else if f == .secondly && secondMask != 0 && secondMask & (1 << UInt64(s)) == 0 {
                skipTo = secs + 1
            }
            if let target = skipTo {
                // advance to the first period aligned with the interval at or after target
                let targetUnits = (target + unit - 1) / unit
                let k = Swift.max(1, (targetUnits - p + rule.interval - 1) / rule.interval)
                period += k * rule.interval
                return
            }
            let date = CivilDate(year: y, month: m, day: d)
            switch f {
            case .hourly:
                for mm in minutes { for ss in seconds { buffer.append(CivilDateTime(date: date, hour: h, minute: mm, second: ss)) } }
            case .minutely:
                for ss in seconds { buffer.append(CivilDateTime(date: date, hour: h, minute: mi, second: ss)) }
            default:
                buffer.append(CivilDateTime(date: date, hour: h, minute: mi, second: s))
            }
            candidates += buffer.count
            period += rule.interval
        }
        if !rule.bySetPos.isEmpty && !buffer.isEmpty {
            let n = buffer.count
            var idx = Set<Int>()
            for sp in rule.bySetPos {
                let i = sp > 0 ? sp - 1 : n + sp
                if i >= 0 && i < n { idx.insert(i) }
            }
            let sel = idx.sorted().map { buffer[$0] }
            buffer = sel
        }
    }
}

/// Week numbering helpers for one year (weeks start on `wkst`; week 1 has ≥ 4 days of the year).
struct YearContext {
    let year: Int
    let jan1: Int
    let daysInYear: Int
    let w1This: Int, w1Prev: Int, w1Next: Int, w1Next2: Int
    let wkst: Int

    init(year: Int, wkst: Int) {
        self.year = year
        self.wkst = wkst
        jan1 = daysFromCivil(year, 1, 1)
        daysInYear = isLeapYear(year) ? 366 : 365
        w1This = YearContext.week1Start(year, wkst)
        w1Prev = YearContext.week1Start(year - 1, wkst)
        w1Next = YearContext.week1Start(year + 1, wkst)
        w1Next2 = YearContext.week1Start(year + 2, wkst)
    }

    static func week1Start(_ y: Int, _ wkst: Int) -> Int {
        let j = daysFromCivil(y, 1, 1)
        let off = floorMod(weekdayFromDays(j) - wkst, 7)
        return off <= 3 ? j - off : j - off + 7
    }

    var weeksThis: Int { (w1Next - w1This) / 7 }
    var weeksPrev: Int { (w1This - w1Prev) / 7 }
    var weeksNext: Int { (w1Next2 - w1Next) / 7 }

    /// (week-numbering year, week number)
    func weekNumber(_ dn: Int) -> (Int, Int) {
        if dn < w1This { return (year - 1, (dn - w1Prev) / 7 + 1) }
        if dn >= w1Next { return (year + 1, (dn - w1Next) / 7 + 1) }
        return (year, (dn - w1This) / 7 + 1)
    }
}
