// Event start/end/last-end computation (RFC 5545 §3.6.1, §3.8.5).

public struct EventTiming: Sendable, Equatable {
    /// UTC instant of DTSTART.
    public var start: Int64
    /// UTC instant of the end of the first instance.
    public var end: Int64
    public var allDay: Bool
    public var startValue: ICalDateValue
    public var endValue: ICalDateValue?
    /// Has a valid RRULE or an RDATE.
    public var isRecurring: Bool
    /// End of the last occurrence; nil = never ends (or could not be bounded, see warnings).
    public var lastEnd: Int64?
    public var warnings: [String]

    public init(start: Int64, end: Int64, allDay: Bool, startValue: ICalDateValue, endValue: ICalDateValue?, isRecurring: Bool, lastEnd: Int64?, warnings: [String]) {
        self.start = start
        self.end = end
        self.allDay = allDay
        self.startValue = startValue
        self.endValue = endValue
        self.isRecurring = isRecurring
        self.lastEnd = lastEnd
        self.warnings = warnings
    }

    /// The last end of a series without any occurrence: 1970-01-01T00:00:00Z, before any `now`, so
    /// that the record is kept but never future.
    public static let noOccurrence: Int64 = 0

    /// - Parameter overrides: the events of the same UID that carry a RECURRENCE-ID. For a series,
    ///   an overridden occurrence counts with the override's times (a moved one where it moved to,
    ///   a STATUS:CANCELLED one not at all); RANGE=THISANDFUTURE shifts every later occurrence.
    public static func compute(event: ICalComponent, resolver: TimeZoneResolver, overrides: [ICalComponent] = [],
                               maxOccurrences: Int = 100_000) throws(ICalParseError) -> EventTiming {
        var x = try Expansion(event: event, resolver: resolver)
        if x.isRecurring && event.first("RECURRENCE-ID") == nil { x.addOverrides(overrides) }
        var lastEnd: Int64? = nil
        if !x.isRecurring {
            lastEnd = x.end
        } else if x.rules.contains(where: { $0.count == nil && $0.until == nil }) {
            lastEnd = nil
        } else {
            var maxEnd: Int64? = nil
            let hit = x.forEachOccurrence(maxCandidates: maxOccurrences, stopAfter: nil, includeOverrides: true) { _, e in
                if maxEnd == nil || e > maxEnd! { maxEnd = e }
                return true
            }
            if hit {
                x.warnings.append("recurrence expansion stopped after \(maxOccurrences) candidates before COUNT/UNTIL was reached; lastEnd unknown (nil)")
                lastEnd = nil
            } else if let m = maxEnd {
                lastEnd = m
            } else {
                x.warnings.append("the series has no occurrence (each one excluded by EXDATE or cancelled, or UNTIL before DTSTART): it is not future (last end 1970-01-01T00:00:00Z)")
                lastEnd = EventTiming.noOccurrence
            }
        }
        return EventTiming(start: x.start, end: x.end, allDay: x.startValue.isDate, startValue: x.startValue, endValue: x.endValue,
                           isRecurring: x.isRecurring, lastEnd: lastEnd, warnings: x.warnings)
    }

    /// Occurrences (start, end as UTC instants) that overlap [from, to), sorted by start, at most `limit`.
    /// Includes the DTSTART instance and RDATEs, honours EXDATE. With `overrides` (events of the same
    /// UID with a RECURRENCE-ID), overridden occurrences are left out (the override lists its own),
    /// and RANGE=THISANDFUTURE overrides shift the later ones.
    public static func occurrences(event: ICalComponent, resolver: TimeZoneResolver, overrides: [ICalComponent] = [],
                                   between from: Int64, and to: Int64,
                                   limit: Int = 10_000, maxCandidates: Int = 100_000) throws(ICalParseError) -> [(start: Int64, end: Int64)] {
        var x = try Expansion(event: event, resolver: resolver)
        if x.isRecurring && event.first("RECURRENCE-ID") == nil { x.addOverrides(overrides) }
        var out: [(start: Int64, end: Int64)] = []
        if !x.isRecurring {
            if x.end > from && x.start < to || x.start == x.end && x.start >= from && x.start < to { out.append((x.start, x.end)) }
            return out
        }
        _ = x.forEachOccurrence(maxCandidates: maxCandidates, stopAfter: to, includeOverrides: false) { s, e in
            if (e > from || (s == e && s >= from)) && s < to { out.append((s, e)) }
            return true
        }
        out.sort { $0.start < $1.start }
        if out.count > limit { out.removeLast(out.count - limit) }
        return out
    }
}

/// Parsed recurrence data of one event.
struct Expansion {
    enum Dur {
        case exact(Int64)
        case nominal(days: Int, seconds: Int)
    }

    let resolver: TimeZoneResolver
    let startValue: ICalDateValue
    let endValue: ICalDateValue?
    let start: Int64
    var end: Int64
    let dur: Dur
    let tzid: String?
    var rules: [RecurrenceRule] = []
    var rdates: [ICalPeriod] = []

    /// True when every rule ends (UNTIL) before DTSTART: the series has no instance from its
    /// rules, not even DTSTART's (as dateutil and recurring-ical-events read it); RDATEs still count.
    var dtstartBeforeEveryRule: Bool {
        guard !rules.isEmpty else { return false }
        return rules.allSatisfy { rule in
            guard let u = rule.until else { return false }
            switch u {
            case .utc(let dt): return dt.secondsSinceEpochAsUTC < start
            case .local(let dt, _): return dt < startValue.civil
            case .date(let d): return d < startValue.civil.date
            }
        }
    }
    var exInstants: Set<Int64> = []
    var exDates: Set<CivilDate> = []
    var warnings: [String] = []
    var isRecurring: Bool { !rules.isEmpty || !rdates.isEmpty }

    struct Override {
        var rid: Int64
        var ridDate: CivilDate?     // RECURRENCE-ID given as a DATE for a timed series: matched by date
        var thisAndFuture: Bool
        var cancelled: Bool
        var start: Int64
        var end: Int64
    }
    var overrideByInstant: [Int64: Override] = [:]
    var overrideByDate: [CivilDate: Override] = [:]
    var singleOverrides: [Override] = []
    /// RANGE=THISANDFUTURE overrides, sorted by rid
    var futureOverrides: [Override] = []
    var maxShift: Int64 = 0

    mutating func addOverrides(_ events: [ICalComponent]) {
        for ev in events {
            guard let rp = ev.first("RECURRENCE-ID") else { continue }
            guard let rv = try? ICalDateValue.parse(rp) else {
                warnings.append("line \(rp.line): invalid RECURRENCE-ID; override ignored for the series")
                continue
            }
            var rid: Int64
            var ridDate: CivilDate? = nil
            switch rv {
            case .local(let dt, nil):
                rid = tzid != nil ? resolver.instant(local: dt, tzid: tzid) : resolver.instant(rv)
            case .date(let d):
                rid = resolver.instant(rv)
                if !startValue.isDate { ridDate = d }
            default:
                rid = resolver.instant(rv)
            }
            guard let ox = try? Expansion(event: ev, resolver: resolver) else {
                // no DTSTART of its own: the occurrence keeps its time (RFC 5545 allows omitting it only
                // in practice); it still replaces the occurrence
                warnings.append("line \(ev.line): override without a readable DTSTART; its occurrence keeps the series' time")
                continue
            }
            let cancelled = ev.first("STATUS").map { asciiUppercased($0.value) } == "CANCELLED"
            let thisAndFuture = rp.parameter("RANGE")?.uppercased() == "THISANDFUTURE"
            let o = Override(rid: rid, ridDate: ridDate, thisAndFuture: thisAndFuture, cancelled: cancelled,
                             start: ox.start, end: ox.end)
            if thisAndFuture {
                futureOverrides.append(o)
                maxShift = max(maxShift, abs(o.start - rid))
            } else {
                singleOverrides.append(o)
            }
            if let d = ridDate { overrideByDate[d] = o } else { overrideByInstant[rid] = o }
        }
        futureOverrides.sort { $0.rid < $1.rid }
    }

    /// Applies overrides to a generated occurrence: nil = replaced by a single override or cancelled.
    @inline(__always)
    func applyOverrides(_ s: Int64, _ e: Int64, _ local: CivilDateTime) -> (Int64, Int64)? {
        if overrideByInstant.isEmpty && overrideByDate.isEmpty { return (s, e) }
        if let o = overrideByInstant[s] ?? (overrideByDate.isEmpty ? nil : overrideByDate[local.date]), !o.thisAndFuture {
            return nil
        }
        if futureOverrides.isEmpty { return (s, e) }
        var f: Override? = nil
        for o in futureOverrides where o.rid <= s { f = o }
        guard let f else { return (s, e) }
        if f.cancelled { return nil }
        if s == f.rid { return nil }   // the override itself stands for this one
        let ns = s + (f.start - f.rid)
        return (ns, ns + (f.end - f.start))
    }

    init(event: ICalComponent, resolver: TimeZoneResolver) throws(ICalParseError) {
        self.resolver = resolver
        guard let ds = event.first("DTSTART") else {
            throw ICalParseError(line: event.line, message: "\(event.name) has no DTSTART")
        }
        let sv = try ICalDateValue.parse(ds)
        startValue = sv
        var warnings: [String] = []
        switch sv {
        case .local(_, let tz?): tzid = tz
        default: tzid = nil
        }
        let (st, w) = Expansion.convert(sv, resolver)
        if let w { warnings.append(w) }
        start = st
        var endValue: ICalDateValue? = nil
        var dur: Dur
        var endInstant: Int64
        if let de = event.first("DTEND") ?? (event.name == "VTODO" ? event.first("DUE") : nil) {
            let ev = try ICalDateValue.parse(de)
            endValue = ev
            let (e, w2) = Expansion.convert(ev, resolver)
            if let w2 { warnings.append(w2) }
            endInstant = e
            if case .date(let sd) = sv, case .date(let ed) = ev {
                dur = .nominal(days: ed.daysSinceEpoch - sd.daysSinceEpoch, seconds: 0)
            } else {
                dur = .exact(e - st)
            }
            if e < st {
                warnings.append("DTEND (line \(de.line)) is before DTSTART; using DTSTART as end")
                endInstant = st
                dur = .exact(0)
            }
        } else if let dp = event.first("DURATION") {
            guard let d = ICalDuration.parse(dp.value) else {
                throw ICalParseError(line: dp.line, message: "DURATION: invalid value \"\(dp.value.prefix(40))\"")
            }
            if d.isNegative {
                warnings.append("negative DURATION (line \(dp.line)); using zero duration")
                dur = .exact(0)
            } else {
                dur = .nominal(days: d.days, seconds: d.seconds)
            }
            endInstant = 0
        } else if sv.isDate {
            dur = .nominal(days: 1, seconds: 0)
            endInstant = 0
        } else {
            dur = .exact(0)
            endInstant = st
        }
        self.endValue = endValue
        self.dur = dur
        self.warnings = warnings
        self.end = st   // placeholder, fixed below
        if endValue == nil {
            self.end = occurrenceEnd(startLocal: sv.civil, startInstant: st)
        } else {
            self.end = endInstant
        }
        // An override of one occurrence (RECURRENCE-ID without RANGE=THISANDFUTURE) stands for
        // that occurrence alone: a rule of its own is ignored, as DAVx5 (ical4android) and Radicale
        // do. With THISANDFUTURE it is the series from there on, and its rule counts (RFC 5545).
        let singleOverride = event.first("RECURRENCE-ID").map { $0.parameter("RANGE")?.uppercased() != "THISANDFUTURE" } ?? false
        if singleOverride, let p = event.first("RRULE") ?? event.first("RDATE") {
            self.warnings.append("line \(p.line): \(p.name) of an override (RECURRENCE-ID without RANGE=THISANDFUTURE) ignored: it stands for its one occurrence")
        }
        for p in event.all("RRULE") where !singleOverride {
            do throws(ICalParseError) {
                rules.append(try RecurrenceRule.parse(p.value))
            } catch {
                self.warnings.append("line \(p.line): \(error.message); rule ignored")
            }
        }
        for p in event.all("RDATE") where !singleOverride {
            do throws(ICalParseError) {
                var ps = try ICalDateValue.parsePeriods(p)
                if p.parameter("TZID") == nil, case .local(_, let tz?) = sv {
                    // no TZID on RDATE: floating values are interpreted in the event's zone
                    ps = ps.map { per in
                        var per = per
                        if case .local(let dt, nil) = per.start { per.start = .local(dt, tzid: tz) }
                        return per
                    }
                }
                rdates += ps
            } catch {
                self.warnings.append("\(error.description); RDATE ignored")
            }
        }
        for p in event.all("EXDATE") {
            do throws(ICalParseError) {
                for v in try ICalDateValue.parseList(p) {
                    switch v {
                    case .date(let d): exDates.insert(d)
                    case .local(let dt, nil):
                        if case .local(_, let tz?) = sv {
                            exInstants.insert(resolver.instant(local: dt, tzid: tz))
                        } else {
                            exInstants.insert(resolver.instant(v))
                        }
                    default: exInstants.insert(resolver.instant(v))
                    }
                }
            } catch {
                self.warnings.append("\(error.description); EXDATE ignored")
            }
        }
    }

    static func convert(_ v: ICalDateValue, _ r: TimeZoneResolver) -> (Int64, String?) {
        switch v {
        case .local(let dt, let tz?): return r.instantWithWarning(local: dt, tzid: tz)
        default: return (r.instant(v), nil)
        }
    }

    func toInstant(_ local: CivilDateTime) -> Int64 {
        switch startValue {
        case .utc: return local.secondsSinceEpochAsUTC
        default: return resolver.instant(local: local, tzid: tzid)
        }
    }

    func occurrenceEnd(startLocal: CivilDateTime, startInstant: Int64) -> Int64 {
        switch dur {
        case .exact(let s): return startInstant + s
        case .nominal(let d, let s):
            if d == 0 { return startInstant + Int64(s) }
            if case .utc = startValue { return startInstant + Int64(d) * 86400 + Int64(s) }
            var l = startLocal
            l.date = l.date.adding(days: d)
            return toInstant(l) + Int64(s)
        }
    }

    func excluded(_ local: CivilDateTime, _ instant: Int64) -> Bool {
        if exInstants.contains(instant) { return true }
        if !exDates.isEmpty && exDates.contains(local.date) { return true }
        return false
    }

    /// Calls `body(start, end)` for every non-excluded occurrence (DTSTART instance, RRULE instances, RDATEs).
    /// Stops a rule's expansion once starts exceed `stopAfter`. Returns true if the candidate bound was hit.
    /// With `includeOverrides`, non-cancelled single overrides are reported too (where they moved to);
    /// without, overridden occurrences are just left out.
    mutating func forEachOccurrence(maxCandidates: Int, stopAfter stopAt: Int64?, includeOverrides: Bool,
                                    _ outerBody: (Int64, Int64) -> Bool) -> Bool {
        var hit = false
        var seen = Set<Int64>()
        let stopAfter = stopAt.map { $0 + maxShift }
        let startLocal = startValue.civil
        var currentLocal = startLocal
        func body(_ s: Int64, _ e: Int64) -> Bool {
            guard let (ns, ne) = applyOverrides(s, e, currentLocal) else { return true }
            return outerBody(ns, ne)
        }
        if includeOverrides {
            for o in singleOverrides + futureOverrides where !o.cancelled {
                if !outerBody(o.start, o.end) { return false }
            }
        }
        if !dtstartBeforeEveryRule && !excluded(startLocal, start) {
            seen.insert(start)
            if !body(start, end) { return false }
        }
        for rule in rules {
            var untilLocal: CivilDateTime? = nil
            var untilInstant: Int64? = nil
            if let u = rule.until {
                switch u {
                case .utc(let dt):
                    if startValue.isDate {
                        untilLocal = CivilDateTime(date: dt.date, hour: 23, minute: 59, second: 59)
                    } else {
                        untilInstant = dt.secondsSinceEpochAsUTC
                        // generous local bound; the exact check is on instants
                        untilLocal = dt.adding(seconds: 2 * 86400)
                    }
                case .local(let dt, _):
                    untilLocal = startValue.isDate ? CivilDateTime(date: dt.date, hour: 23, minute: 59, second: 59) : dt
                case .date(let d):
                    untilLocal = CivilDateTime(date: d, hour: 23, minute: 59, second: 59)
                }
            }
            if let lim = stopAfter {
                let limLocal = CivilDateTime(secondsSinceEpoch: lim + 2 * 86400)
                if untilLocal == nil || limLocal < untilLocal! { untilLocal = limLocal }
            }
            var it = RecurrenceIterator(rule: rule, start: startLocal, dateOnly: startValue.isDate, until: untilLocal, maxCandidates: maxCandidates)
            while let occ = it.next() {
                let si = toInstant(occ)
                if let ui = untilInstant, si > ui { break }
                if let lim = stopAfter, si >= lim { break }
                if seen.contains(si) { continue }
                if excluded(occ, si) { continue }
                seen.insert(si)
                currentLocal = occ
                if !body(si, occurrenceEnd(startLocal: occ, startInstant: si)) { return hit }
            }
            if it.hitBound { hit = true }
        }
        for p in rdates {
            let (si, _) = Expansion.convert(p.start, resolver)
            if seen.contains(si) || excluded(p.start.civil, si) { continue }
            seen.insert(si)
            var ei: Int64
            if let e = p.end {
                ei = Expansion.convert(e, resolver).0
            } else if let d = p.duration {
                if case .local(let dt, let tz) = p.start, d.days != 0 {
                    var l = dt
                    l.date = l.date.adding(days: d.days)
                    ei = resolver.instant(local: l, tzid: tz) + Int64(d.seconds)
                } else {
                    ei = si + d.totalSecondsApprox
                }
            } else {
                ei = occurrenceEnd(startLocal: p.start.civil, startInstant: si)
            }
            if ei < si { ei = si }
            currentLocal = p.start.civil
            if !body(si, ei) { return hit }
        }
        return hit
    }
}
