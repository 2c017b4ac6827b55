import Foundation

/// Converts iCalendar date values to UTC instants (seconds since the Unix epoch).
///
/// TZID resolution order: IANA name known to Foundation → Windows zone name (table) →
/// the calendar's own VTIMEZONE with that TZID → IANA-looking suffix of the TZID
/// (e.g. "/mozilla.org/20050126_1/Europe/Berlin") → `defaultTimeZone` with a warning.
/// Floating times and DATE values are interpreted in `defaultTimeZone`.
public final class TimeZoneResolver: @unchecked Sendable {
    public let defaultTimeZone: String
    let vtimezones: [String: VTimeZoneRules]
    private let lock = NSLock()
    private var cache: [String: Zone] = [:]
    private var _warnings: [String] = []
    private let defaultZone: Zone

    /// Warnings collected so far (unknown TZIDs, ...).
    public var warnings: [String] {
        lock.lock(); defer { lock.unlock() }
        return _warnings
    }

    public init(calendar: ICalComponent, defaultTimeZone: String) {
        self.defaultTimeZone = defaultTimeZone
        var vt: [String: VTimeZoneRules] = [:]
        for c in calendar.components where c.name == "VTIMEZONE" {
            guard let id = ICalDateValue.normalizedTZID(c.first("TZID")?.value) else { continue }
            vt[id] = VTimeZoneRules.shared(c)
        }
        vtimezones = vt
        if let t = ZoneTable.named(defaultTimeZone) {
            defaultZone = .table(t)
        } else if let w = windowsZoneNames[defaultTimeZone], let t = ZoneTable.named(w) {
            defaultZone = .table(t)
        } else {
            defaultZone = .fixed(0)
            _warnings.append("default time zone \"\(defaultTimeZone)\" is unknown; using UTC")
        }
    }

    enum Zone: @unchecked Sendable {
        case table(ZoneTable)
        case vtimezone(VTimeZoneRules)
        case fixed(Int)
        case unknown   // fall back to default

        func offset(atUTC t: Int64) -> Int {
            switch self {
            case .table(let z): return z.offset(atUTC: t)
            case .vtimezone(let v): return v.offset(atUTC: t)
            case .fixed(let o): return o
            case .unknown: return 0
            }
        }
    }

    /// Looks up a zone; returns nil zone = unknown (caller falls back to default and warns).
    func zone(_ rawTzid: String?) -> (Zone, String?) {
        guard let tzid = ICalDateValue.normalizedTZID(rawTzid) else { return (defaultZone, nil) }
        lock.lock()
        if let z = cache[tzid] {
            lock.unlock()
            if case .unknown = z { return (defaultZone, "unknown TZID \"\(tzid)\"; using \(defaultTimeZone)") }
            return (z, nil)
        }
        lock.unlock()
        let z = lookup(tzid)
        lock.lock()
        cache[tzid] = z
        if case .unknown = z { _warnings.append("unknown TZID \"\(tzid)\"; using \(defaultTimeZone)") }
        lock.unlock()
        if case .unknown = z { return (defaultZone, "unknown TZID \"\(tzid)\"; using \(defaultTimeZone)") }
        return (z, nil)
    }

    private func lookup(_ tzid: String) -> Zone {
        if tzid.uppercased() == "UTC" || tzid.uppercased() == "Z" || tzid == "GMT" { return .fixed(0) }
        if isIANALike(tzid), let t = ZoneTable.named(tzid) { return preferCalendar(tzid, over: t) }
        if let w = windowsZoneNames[tzid] ?? windowsZoneNamesUpper[tzid.uppercased()], let t = ZoneTable.named(w) { return preferCalendar(tzid, over: t) }
        if let v = vtimezones[tzid], !v.observances.isEmpty { return .vtimezone(v) }
        // "/mozilla.org/20050126_1/Europe/Berlin", "/freeassociation.sourceforge.net/Tzfile/Europe/London"
        let comps = tzid.split(separator: "/")
        if comps.count >= 2 {
            for k in [3, 2] where comps.count >= k {
                let cand = comps.suffix(k).joined(separator: "/")
                if isIANALike(cand), let t = ZoneTable.named(cand) { return .table(t) }
            }
        }
        // "(UTC+01:00) Amsterdam, Berlin, ..." style Outlook names: fixed offset would be wrong in summer; unknown.
        return .unknown
    }

    /// True when `name` is a tzdata or Windows zone name this resolver understands.
    public static func isKnownZone(_ name: String) -> Bool {
        if name == "UTC" || name == "GMT" { return true }
        if ZoneTable.named(name) != nil && (name.contains("/") || name.count > 4) { return true }
        if let w = windowsZoneNames[name] ?? windowsZoneNamesUpper[name.uppercased()] { return ZoneTable.named(w) != nil }
        return false
    }

    /// A known zone name whose VTIMEZONE in the calendar says something else (other offsets or
    /// other transition dates in 2015–2035, sampled twice a month) is taken from the VTIMEZONE: the
    /// feed's own definition is what its author's software used.
    private func preferCalendar(_ tzid: String, over t: ZoneTable) -> Zone {
        guard let v = vtimezones[tzid], !v.observances.isEmpty else { return .table(t) }
        // Feeds from one provider repeat the same VTIMEZONE: the comparison is made once per
        // process for each (definition, zone) pair.
        let key = v.signature + "\u{0}" + tzid
        if let useCalendar = VTimeZoneRules.preferenceCache.value(key) { return useCalendar ? .vtimezone(v) : .table(t) }
        let zone = compare(v, t)
        if case .vtimezone = zone { VTimeZoneRules.preferenceCache.store(key, true) } else { VTimeZoneRules.preferenceCache.store(key, false) }
        return zone
    }

    private func compare(_ v: VTimeZoneRules, _ t: ZoneTable) -> Zone {
        var day = Int64(daysFromCivil(2015, 1, 1)) * 86_400
        let end = Int64(daysFromCivil(2036, 1, 1)) * 86_400
        while day < end {
            for t0 in [day + 43_200, day + 14 * 86_400 + 43_200] where v.offset(atUTC: t0) != t.offset(atUTC: t0) {
                return .vtimezone(v)
            }
            day += 30 * 86_400
        }
        return .table(t)
    }

    /// Foundation accepts some abbreviations ("EST"); accept only Area/Location names and a few plain ones.
    private func isIANALike(_ s: String) -> Bool {
        s.contains("/") || s == "UTC" || s == "GMT" || s == "Etc/UTC" || s.hasPrefix("Etc") || s.count > 4
    }

    /// UTC offset (seconds east) of the zone `tzid` (nil = default zone) at a UTC instant.
    public func offset(atUTC t: Int64, tzid: String?) -> Int {
        zone(tzid).0.offset(atUTC: t)
    }

    /// Wall time in zone `tzid` (nil = default zone) at a UTC instant.
    public func localDateTime(utc t: Int64, tzid: String?) -> CivilDateTime {
        CivilDateTime(secondsSinceEpoch: t + Int64(offset(atUTC: t, tzid: tzid)))
    }

    /// Local wall time → UTC instant. Nonexistent times (DST gap) are shifted forward by
    /// the gap (RFC 5545 §3.3.5); ambiguous times (overlap) take the earlier instant.
    public func instant(local: CivilDateTime, tzid: String?) -> Int64 {
        Self.localToUTC(local.secondsSinceEpochAsUTC, zone(tzid).0)
    }

    /// Like `instant(local:tzid:)` but also returns a warning when the TZID was unknown.
    func instantWithWarning(local: CivilDateTime, tzid: String?) -> (Int64, String?) {
        let (z, w) = zone(tzid)
        return (Self.localToUTC(local.secondsSinceEpochAsUTC, z), w)
    }

    static func localToUTC(_ l: Int64, _ z: Zone) -> Int64 {
        if case .fixed(let o) = z { return l - Int64(o) }
        let oBefore = z.offset(atUTC: l - 86400)
        let oAfter = z.offset(atUTC: l + 86400)
        // The earlier of the instants that the offsets a day either side give, where consistent
        // (no array of the candidates: this runs for every zoned date-time a feed holds).
        let before = l - Int64(oBefore), after = l - Int64(oAfter)
        let beforeFits = z.offset(atUTC: before) == oBefore
        let afterFits = oAfter != oBefore && z.offset(atUTC: after) == oAfter
        if beforeFits && afterFits { return min(before, after) }
        if beforeFits { return before }
        if afterFits { return after }
        // Not consistent with either neighbour offset: maybe transitions close together; try the offset at l itself.
        let o0 = z.offset(atUTC: l)
        let c0 = l - Int64(o0)
        if z.offset(atUTC: c0) == o0 { return c0 }
        // DST gap: use the offset in force before the transition → shifted forward by the gap.
        return l - Int64(oBefore)
    }

    /// UTC instant of a value: `.utc` directly, `.local` in its zone, floating and `.date` in the default zone.
    public func instant(_ v: ICalDateValue) -> Int64 {
        switch v {
        case .utc(let dt): return dt.secondsSinceEpochAsUTC
        case .local(let dt, let tz): return instant(local: dt, tzid: tz)
        case .date(let d): return instant(local: CivilDateTime(date: d), tzid: nil)
        }
    }
}

/// The UTC offsets of one tzdata zone as a sorted transition table, built once per process and zone
/// (Foundation is asked once per week of 1970–2100 and the exact second of each change is found by
/// bisection), so a local→UTC conversion is a few binary searches instead of 3–4 Foundation calls.
/// Instants outside the table's range ask Foundation directly.
final class ZoneTable: @unchecked Sendable {
    let timeZone: TimeZone
    let lowerBound: Int64
    let upperBound: Int64
    /// instants at which the offset changes, and the offset from that instant on
    let instants: [Int64]
    let offsets: [Int]
    let initialOffset: Int

    private nonisolated(unsafe) static var cache: [String: ZoneTable?] = [:]
    private static let cacheLock = NSLock()

    static let rangeStart: Int64 = 0                 // 1970-01-01
    static let rangeEnd: Int64 = 4_102_444_800       // 2100-01-01

    /// The table of an IANA zone known to Foundation (nil when unknown); shared by all resolvers.
    static func named(_ name: String) -> ZoneTable? {
        cacheLock.lock()
        if let t = cache[name] { cacheLock.unlock(); return t }
        cacheLock.unlock()
        let t = TimeZone(identifier: name).map { ZoneTable($0) }
        cacheLock.lock()
        cache[name] = t
        cacheLock.unlock()
        return t
    }

    init(_ tz: TimeZone) {
        timeZone = tz
        lowerBound = Self.rangeStart
        upperBound = Self.rangeEnd
        func off(_ t: Int64) -> Int { tz.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t))) }
        var ins: [Int64] = []
        var offs: [Int] = []
        let step: Int64 = 7 * 86_400
        var t = lowerBound
        var o = off(t)
        initialOffset = o
        while t < upperBound {
            let n = min(t + step, upperBound)
            let on = off(n)
            if on != o {
                // bisect: first second in (t, n] with offset != o
                var lo = t, hi = n
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2
                    if off(mid) == o { lo = mid } else { hi = mid }
                }
                ins.append(hi)
                offs.append(off(hi))
                o = off(hi)
                if o != on { t = hi; continue }   // another change inside this week: scan on from hi
            }
            t = n
        }
        instants = ins
        offsets = offs
    }

    @inline(__always)
    func offset(atUTC t: Int64) -> Int {
        if t < lowerBound || t >= upperBound {
            return timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t)))
        }
        var lo = 0, hi = instants.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if instants[mid] <= t { lo = mid + 1 } else { hi = mid }
        }
        return lo == 0 ? initialOffset : offsets[lo - 1]
    }
}

/// Offsets from a VTIMEZONE's STANDARD/DAYLIGHT observances (DTSTART, TZOFFSETFROM/TO, RRULE, RDATE).
final class VTimeZoneRules: @unchecked Sendable {
    struct Observance: Sendable {
        let from: Int
        let to: Int
        let start: CivilDateTime
        let rule: RecurrenceRule?
        let rdates: [CivilDateTime]
    }
    let observances: [Observance]
    let initialOffset: Int
    /// The definition's content (names, parameters and values of the VTIMEZONE and its
    /// observances, without line numbers): equal signatures define equal rules.
    let signature: String
    private let lock = NSLock()
    private var _transitions: [(Int64, Int)]? = nil
    /// Sorted transitions: (UTC instant, offset after); computed on first use, up to year 2200.
    var transitions: [(Int64, Int)] {
        lock.lock(); defer { lock.unlock() }
        if let t = _transitions { return t }
        let t = Self.computeTransitions(observances)
        _transitions = t
        return t
    }

    /// Rules for `c`, shared by every calendar of the process whose VTIMEZONE says the same, so
    /// that their transitions are computed once.
    static func shared(_ c: ICalComponent) -> VTimeZoneRules {
        let signature = Self.signature(of: c)
        if let r = rulesCache.value(signature) { return r }
        let r = VTimeZoneRules(c, signature: signature)
        rulesCache.store(signature, r)
        return r
    }

    static let rulesCache = BoundedCache<VTimeZoneRules>()
    static let preferenceCache = BoundedCache<Bool>()

    static func signature(of c: ICalComponent) -> String {
        var s = "BEGIN:" + c.name + "\n"
        for p in c.properties {
            s += p.name
            for param in p.parameters { s += ";" + param.name + "=" + param.values.joined(separator: ",") }
            s += ":" + p.value + "\n"
        }
        for child in c.components { s += signature(of: child) }
        return s + "END:" + c.name + "\n"
    }

    private init(_ c: ICalComponent, signature: String) {
        self.signature = signature
        var obs: [Observance] = []
        for o in c.components where o.name == "STANDARD" || o.name == "DAYLIGHT" {
            guard let ds = o.first("DTSTART"), let dv = try? ICalDateValue.parse(ds),
                  let to = o.first("TZOFFSETTO").flatMap({ parseUTCOffset($0.value) }) else { continue }
            let from = o.first("TZOFFSETFROM").flatMap { parseUTCOffset($0.value) } ?? to
            let rule = o.first("RRULE").flatMap { try? RecurrenceRule.parse($0.value) }
            var rd: [CivilDateTime] = []
            for p in o.all("RDATE") {
                if let l = try? ICalDateValue.parseList(p) { rd += l.map { $0.civil } }
            }
            obs.append(Observance(from: from, to: to, start: dv.civil, rule: rule, rdates: rd))
        }
        observances = obs
        // before the first transition: the "from" offset of the earliest observance
        if let first = obs.min(by: { $0.start < $1.start }) {
            initialOffset = first.from
        } else {
            initialOffset = 0
        }
    }

    static func computeTransitions(_ obs: [Observance]) -> [(Int64, Int)] {
        var tr: [(Int64, Int)] = []
        let limitYear = 2200
        for o in obs {
            tr.append((o.start.secondsSinceEpochAsUTC - Int64(o.from), o.to))
            for r in o.rdates { tr.append((r.secondsSinceEpochAsUTC - Int64(o.from), o.to)) }
            if let rule = o.rule {
                var untilLocal: CivilDateTime? = nil
                if let u = rule.until {
                    switch u {
                    case .utc(let dt): untilLocal = dt.adding(seconds: Int64(o.from))
                    case .local(let dt, _): untilLocal = dt
                    case .date(let d): untilLocal = CivilDateTime(date: d, hour: 23, minute: 59, second: 59)
                    }
                }
                var it = RecurrenceIterator(rule: rule, start: o.start, until: untilLocal, maxCandidates: 20_000)
                var n = 0
                while let t = it.next(), t.date.year <= limitYear, n < 3000 {
                    tr.append((t.secondsSinceEpochAsUTC - Int64(o.from), o.to))
                    n += 1
                }
            }
        }
        tr.sort { $0.0 < $1.0 }
        return tr
    }

    func offset(atUTC t: Int64) -> Int {
        let transitions = self.transitions
        var lo = 0, hi = transitions.count   // first index with instant > t
        while lo < hi {
            let mid = (lo + hi) / 2
            if transitions[mid].0 <= t { lo = mid + 1 } else { hi = mid }
        }
        return lo == 0 ? initialOffset : transitions[lo - 1].1
    }
}

/// "+0100", "-0500", "+013045" → seconds east.
func parseUTCOffset(_ s: String) -> Int? {
    let t = s.trimmingCharacters(in: .whitespaces)
    let u = Array(t.utf8)
    guard u.count == 5 || u.count == 7, u[0] == UInt8(ascii: "+") || u[0] == UInt8(ascii: "-") else { return nil }
    var digits: [Int] = []
    for c in u.dropFirst() {
        guard c >= 0x30 && c <= 0x39 else { return nil }
        digits.append(Int(c - 0x30))
    }
    let h = digits[0] * 10 + digits[1], m = digits[2] * 10 + digits[3]
    let sec = digits.count == 6 ? digits[4] * 10 + digits[5] : 0
    guard h < 24, m < 60, sec < 60 else { return nil }
    let v = h * 3600 + m * 60 + sec
    return u[0] == UInt8(ascii: "-") ? -v : v
}

/// Common Windows time zone names → IANA (CLDR windowsZones "001" territory).
let windowsZoneNames: [String: String] = [
    "Dateline Standard Time": "Etc/GMT+12",
    "UTC-11": "Etc/GMT+11",
    "Hawaiian Standard Time": "Pacific/Honolulu",
    "Alaskan Standard Time": "America/Anchorage",
    "Pacific Standard Time": "America/Los_Angeles",
    "Pacific Standard Time (Mexico)": "America/Tijuana",
    "US Mountain Standard Time": "America/Phoenix",
    "Mountain Standard Time": "America/Denver",
    "Central America Standard Time": "America/Guatemala",
    "Central Standard Time": "America/Chicago",
    "Central Standard Time (Mexico)": "America/Mexico_City",
    "Canada Central Standard Time": "America/Regina",
    "SA Pacific Standard Time": "America/Bogota",
    "Eastern Standard Time": "America/New_York",
    "US Eastern Standard Time": "America/Indianapolis",
    "Atlantic Standard Time": "America/Halifax",
    "Venezuela Standard Time": "America/Caracas",
    "SA Western Standard Time": "America/La_Paz",
    "Pacific SA Standard Time": "America/Santiago",
    "Newfoundland Standard Time": "America/St_Johns",
    "E. South America Standard Time": "America/Sao_Paulo",
    "Argentina Standard Time": "America/Buenos_Aires",
    "SA Eastern Standard Time": "America/Cayenne",
    "Greenland Standard Time": "America/Godthab",
    "UTC": "Etc/UTC",
    "Coordinated Universal Time": "Etc/UTC",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "W. Europe Standard Time": "Europe/Berlin",
    "Central Europe Standard Time": "Europe/Budapest",
    "Romance Standard Time": "Europe/Paris",
    "Central European Standard Time": "Europe/Warsaw",
    "W. Central Africa Standard Time": "Africa/Lagos",
    "GTB Standard Time": "Europe/Bucharest",
    "E. Europe Standard Time": "Europe/Chisinau",
    "Egypt Standard Time": "Africa/Cairo",
    "South Africa Standard Time": "Africa/Johannesburg",
    "FLE Standard Time": "Europe/Kiev",
    "Israel Standard Time": "Asia/Jerusalem",
    "Turkey Standard Time": "Europe/Istanbul",
    "Arabic Standard Time": "Asia/Baghdad",
    "Arab Standard Time": "Asia/Riyadh",
    "Russian Standard Time": "Europe/Moscow",
    "E. Africa Standard Time": "Africa/Nairobi",
    "Iran Standard Time": "Asia/Tehran",
    "Arabian Standard Time": "Asia/Dubai",
    "Afghanistan Standard Time": "Asia/Kabul",
    "Pakistan Standard Time": "Asia/Karachi",
    "West Asia Standard Time": "Asia/Tashkent",
    "India Standard Time": "Asia/Calcutta",
    "Sri Lanka Standard Time": "Asia/Colombo",
    "Nepal Standard Time": "Asia/Katmandu",
    "Bangladesh Standard Time": "Asia/Dhaka",
    "Myanmar Standard Time": "Asia/Rangoon",
    "SE Asia Standard Time": "Asia/Bangkok",
    "China Standard Time": "Asia/Shanghai",
    "Singapore Standard Time": "Asia/Singapore",
    "Taipei Standard Time": "Asia/Taipei",
    "W. Australia Standard Time": "Australia/Perth",
    "Tokyo Standard Time": "Asia/Tokyo",
    "Korea Standard Time": "Asia/Seoul",
    "Cen. Australia Standard Time": "Australia/Adelaide",
    "AUS Central Standard Time": "Australia/Darwin",
    "E. Australia Standard Time": "Australia/Brisbane",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "Tasmania Standard Time": "Australia/Hobart",
    "West Pacific Standard Time": "Pacific/Port_Moresby",
    "Vladivostok Standard Time": "Asia/Vladivostok",
    "Central Pacific Standard Time": "Pacific/Guadalcanal",
    "New Zealand Standard Time": "Pacific/Auckland",
    "Fiji Standard Time": "Pacific/Fiji",
    "Tonga Standard Time": "Pacific/Tongatapu",
    "Samoa Standard Time": "Pacific/Apia",
    "Mountain Standard Time (Mexico)": "America/Chihuahua",
    "Morocco Standard Time": "Africa/Casablanca",
    "Jordan Standard Time": "Asia/Amman",
    "Middle East Standard Time": "Asia/Beirut",
    "Azores Standard Time": "Atlantic/Azores",
    "Cape Verde Standard Time": "Atlantic/Cape_Verde",
    "Ekaterinburg Standard Time": "Asia/Yekaterinburg",
    "N. Central Asia Standard Time": "Asia/Novosibirsk",
    "North Asia Standard Time": "Asia/Krasnoyarsk",
    "North Asia East Standard Time": "Asia/Irkutsk",
    "Yakutsk Standard Time": "Asia/Yakutsk",
    "Central Asia Standard Time": "Asia/Almaty",
    "Caucasus Standard Time": "Asia/Yerevan",
    "Georgian Standard Time": "Asia/Tbilisi",
    "Belarus Standard Time": "Europe/Minsk",
    "Kaliningrad Standard Time": "Europe/Kaliningrad",
    "Montevideo Standard Time": "America/Montevideo",
    "Paraguay Standard Time": "America/Asuncion",
    "Central Brazilian Standard Time": "America/Cuiaba",
    "Mid-Atlantic Standard Time": "Etc/GMT+2",
    "UTC-02": "Etc/GMT+2",
    "UTC+12": "Etc/GMT-12",
]

let windowsZoneNamesUpper: [String: String] = {
    var d: [String: String] = [:]
    for (k, v) in windowsZoneNames { d[k.uppercased()] = v }
    return d
}()

/// A process-wide map from text keys to values, guarded by a lock and emptied when it reaches
/// 4,096 entries (so a run over feeds that each invent their own zone cannot grow it forever).
final class BoundedCache<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: Value] = [:]

    func value(_ key: String) -> Value? {
        lock.lock(); defer { lock.unlock() }
        return entries[key]
    }

    func store(_ key: String, _ value: Value) {
        lock.lock(); defer { lock.unlock() }
        if entries.count >= 4_096 { entries.removeAll(keepingCapacity: true) }
        entries[key] = value
    }
}
