public import ICalendar
public import FeedModel
import FeedHash

/// Turns an iCalendar body into `FeedRecord`s: one per VEVENT (masters and RECURRENCE-ID overrides
/// alike), each keyed and hashed in canonical form.
public struct FeedParser: Sendable {
    /// The fallback zone for floating times and all-day dates (the top-level config `timezone`).
    public var timeZone: String
    /// The feed's own configured zone; wins over the calendar's `X-WR-TIMEZONE` and `timeZone`.
    public var feedTimeZone: String?
    /// When set, every series gets its occurrences overlapping [from, to) (at most `maxPerFeed`
    /// in the feed, single events counted: the later ones are left out, with a warning); a single
    /// event or an override is its own one occurrence (`FeedRecord.occurrences(in:)`).
    public var occurrenceWindow: OccurrenceWindow? = nil
    /// What a body may hold at most (VEVENTs: the config's `max_records`).
    public var limits = ICalParser.Limits()
    /// `on_bad_event: keep`: a VEVENT that cannot be read but whose key can is listed in
    /// `ParsedFeed.badRecords` instead of failing the feed (a body that does not parse as a whole,
    /// or an event without a readable key, still fails it).
    public var keepBadEvents = false
    private let volatile: ICalNameSet

    /// - Parameters:
    ///   - timeZone: IANA name used for floating times and all-day dates when neither `feedTimeZone`
    ///     nor the calendar's `X-WR-TIMEZONE` names a zone.
    ///   - feedTimeZone: the zone configured for this feed, if any (wins over everything).
    ///   - volatileProperties: property names left out of record hashes (e.g. DTSTAMP).
    public init(timeZone: String, feedTimeZone: String? = nil, volatileProperties: [String]) {
        self.timeZone = timeZone
        self.feedTimeZone = feedTimeZone
        self.volatile = ICalNameSet(volatileProperties.map { $0.uppercased() })
    }

    /// The zone floating times and dates of `calendar` are read in: the feed's configured zone, else
    /// the calendar's `X-WR-TIMEZONE` when it names a known zone, else `timeZone`.
    public func effectiveTimeZone(for calendar: ICalComponent, warnings: inout [String]) -> String {
        if let feedTimeZone { return feedTimeZone }
        if let x = calendar.first("X-WR-TIMEZONE") {
            let name = ICalText.unescape(x.value).trimmingCharacters(in: .whitespaces)
            if !name.isEmpty {
                if TimeZoneResolver.isKnownZone(name) { return name }
                warnings.append("line \(x.line): X-WR-TIMEZONE \"\(name.prefix(60))\" is not a known zone; using \(timeZone)")
            }
        }
        return timeZone
    }

    public func parse(_ body: [UInt8]) throws(ICalParseError) -> ParsedFeed {
        var repaired: [String] = []
        let calendar = try ICalParser.parse(body, limits: limits, warnings: &repaired)
        var parsed = try records(from: calendar)
        if !repaired.isEmpty { parsed.warnings = repaired + parsed.warnings }
        return parsed
    }

    public func records(from calendar: ICalComponent) throws(ICalParseError) -> ParsedFeed {
        var warnings: [String] = []
        let zone = effectiveTimeZone(for: calendar, warnings: &warnings)
        let resolver = TimeZoneResolver(calendar: calendar, defaultTimeZone: zone)
        var records: [FeedRecord] = []
        records.reserveCapacity(calendar.components.count)
        // Overrides (RECURRENCE-ID) by UID, so a series' last end takes moved and cancelled occurrences into account.
        var overridesByUID: [String: [ICalComponent]] = [:]
        for event in calendar.components where event.name == "VEVENT" && event.first("RECURRENCE-ID") != nil {
            if let u = event.first("UID"), !u.value.isEmpty { overridesByUID[u.value, default: []].append(event) }
        }
        var bad: [BadRecord] = []
        // Occurrences the window may still take (a feed's rules could otherwise make millions).
        var budget = occurrenceWindow?.maxPerFeed ?? 0
        var scratch = CanonicalForm.Scratch()
        for event in calendar.components where event.name == "VEVENT" {
            do throws(ICalParseError) {
                records.append(try record(of: event, resolver: resolver, overridesByUID: overridesByUID, budget: &budget,
                                          scratch: &scratch, warnings: &warnings))
            } catch {
                // `on_bad_event: keep`: an event whose key can be read is set aside, the others go on.
                guard keepBadEvents, let key = readableKey(of: event, resolver: resolver) else { throw error }
                let line = error.line ?? event.line
                bad.append(BadRecord(key: key, line: line, error: error.message))
                warnings.append("line \(line): event \(key) cannot be read (\(error.message)); its stored state is kept (on_bad_event: keep)")
            }
        }
        disambiguate(&records, warnings: &warnings)
        var parsed = ParsedFeed(records: records, warnings: warnings, timeZone: zone)
        parsed.badRecords = bad
        return parsed
    }

    /// One VEVENT as a record.
    private func record(of event: ICalComponent, resolver: TimeZoneResolver, overridesByUID: [String: [ICalComponent]],
                        budget: inout Int, scratch: inout CanonicalForm.Scratch,
                        warnings: inout [String]) throws(ICalParseError) -> FeedRecord {
        let fields = EventFields(event)
        let overrides = fields.recurrenceID == nil ? fields.uid.flatMap { overridesByUID[$0.value] } ?? [] : []
        let timing = try EventTiming.compute(event: event, resolver: resolver, overrides: overrides)
        for w in timing.warnings { warnings.append("line \(event.line): \(w)") }
        let body = CanonicalForm.bytes(of: event, excluding: volatile, scratch: &scratch)
        let hash = XXH3.hash64(body)
        var uid: String
        if let u = fields.uid, !u.value.isEmpty {
            uid = ICalText.unescape(u.value)
        } else {
            // A stable key derived from the content, so the same event keeps its key night after night.
            uid = "nouid-" + hex64(hash)
            warnings.append("line \(event.line): VEVENT has no UID; using the content-derived key \(uid)")
        }
        var rid: String? = nil
        if let r = fields.recurrenceID {
            do {
                rid = try normalisedRecurrenceID(ICalDateValue.parse(r), resolver: resolver)
            } catch {
                throw ICalParseError(line: r.line, message: "bad RECURRENCE-ID in event \(uid): \(error.message)")
            }
        }
        let allDay: Bool
        if case .date = timing.startValue { allDay = true } else { allDay = false }
        var startDate: String? = nil
        var endDate: String? = nil
        if case .date(let d) = timing.startValue {
            startDate = d.iso
            if case .date(let e)? = timing.endValue {
                endDate = e.iso
            } else {
                let days = max(1, (timing.end - timing.start + 86_399) / 86_400)
                endDate = CivilDate(daysSinceEpoch: d.daysSinceEpoch + Int(days)).iso
            }
        }
        // The local days it touches: an all-day event in the zone its dates were read in; a timed
        // one in the feed's configured zone, else its DTSTART's TZID, else the calendar's zone.
        var dayZone: String? = nil
        if !allDay {
            if let feedTimeZone { dayZone = feedTimeZone } else if case .local(_, let tz?) = timing.startValue { dayZone = tz }
        }
        func day(_ t: Int64) -> Int64 { Int64(resolver.localDateTime(utc: t, tzid: dayZone).date.daysSinceEpoch) }
        let startDay: Int64, endDay: Int64
        if case .date(let d) = timing.startValue {
            // All-day: its dates as written (DTEND, or the duration's days).
            let first = Int64(d.daysSinceEpoch)
            var last = first + 1
            if case .date(let e)? = timing.endValue { last = max(Int64(e.daysSinceEpoch), first + 1) }
            else { last = first + max(1, (timing.end - timing.start + 86_399) / 86_400) }
            (startDay, endDay) = (first, last)
        } else {
            (startDay, endDay) = localDayRange(start: timing.start, end: timing.end, day: day)
        }
        let status = fields.status.map { asciiUppercased($0.value) }
        let series = timing.isRecurring && rid == nil
        var occurrences: [FeedOccurrence]? = nil
        if let w = occurrenceWindow {
            if !series {
                budget -= 1
            } else if budget > 0 {
                var list: [FeedOccurrence] = []
                for o in try EventTiming.occurrences(event: event, resolver: resolver, overrides: overrides,
                                                     between: w.from, and: w.to, limit: min(budget, 10_000)) {
                    let (sd, ed) = localDayRange(start: o.start, end: o.end, day: day)
                    list.append(FeedOccurrence(start: o.start, end: o.end, startDay: sd, endDay: ed, cancelled: status == "CANCELLED"))
                }
                budget -= max(list.count, 1)
                if budget <= 0 {
                    warnings.append("line \(event.line): the feed has more than \(w.maxPerFeed) occurrences before \(ISOTime.format(w.to)); the later ones of its series are left out of the occurrences table")
                }
                occurrences = list
            } else {
                occurrences = []  // past the budget
            }
        }
        var record = FeedRecord(
            key: RecordKey.make(uid: uid, recurrenceID: rid),
            uid: uid, recurrenceID: rid, hash: hash,
            start: timing.start, end: timing.end, lastEnd: timing.lastEnd,
            allDay: allDay, startDate: startDate, endDate: endDate,
            summary: fields.summary.map { ICalText.unescape($0.value) },
            description: fields.description.map { ICalText.unescape($0.value) },
            location: fields.location.map { ICalText.unescape($0.value) },
            status: status,
            body: body, occurrences: occurrences, startDay: startDay, endDay: endDay)
        record.isSeries = series
        return record
    }

    /// The key of an event that failed to read, when it can be told (a UID, and a RECURRENCE-ID
    /// that parses): else nothing could say which stored event it replaces.
    private func readableKey(of event: ICalComponent, resolver: TimeZoneResolver) -> String? {
        guard let u = event.first("UID"), !u.value.isEmpty else { return nil }
        let uid = ICalText.unescape(u.value)
        guard let r = event.first("RECURRENCE-ID") else { return RecordKey.make(uid: uid, recurrenceID: nil) }
        guard let value = try? ICalDateValue.parse(r) else { return nil }
        return RecordKey.make(uid: uid, recurrenceID: normalisedRecurrenceID(value, resolver: resolver))
    }

    /// Gives records that share a key distinct, deterministic keys; identical copies are kept once.
    private func disambiguate(_ records: inout [FeedRecord], warnings: inout [String]) {
        var seen: [String: Int] = [:]
        seen.reserveCapacity(records.count)
        var dupKeys: Set<String> = []
        for r in records {
            seen[r.key, default: 0] += 1
            if seen[r.key]! > 1 { dupKeys.insert(r.key) }
        }
        guard !dupKeys.isEmpty else { return }
        var result: [FeedRecord] = []
        result.reserveCapacity(records.count)
        var groups: [String: [FeedRecord]] = [:]
        for r in records {
            if dupKeys.contains(r.key) { groups[r.key, default: []].append(r) } else { result.append(r) }
        }
        for key in groups.keys.sorted() {
            // Order by content, so the key a copy gets does not depend on where the feed lists it.
            let group = groups[key]!.sorted { $0.hash != $1.hash ? $0.hash < $1.hash : $0.body.lexicographicallyPrecedes($1.body) }
            var kept = [group[0]]
            var used: Set<String> = [key]
            var identical = 0
            for r in group.dropFirst() {
                // Sorted by hash then body: an identical copy sits right after its twin.
                if r.hash == kept.last!.hash && r.body == kept.last!.body {
                    identical += 1
                    continue
                }
                var ordinal = 0
                var candidate = RecordKey.disambiguated(key, hash: r.hash, ordinal: 0)
                while used.contains(candidate) {
                    ordinal += 1
                    candidate = RecordKey.disambiguated(key, hash: r.hash, ordinal: ordinal)
                }
                used.insert(candidate)
                var copy = r
                copy.key = candidate
                kept.append(copy)
            }
            result.append(contentsOf: kept)
            var message = "\(group.count) events share the key \(key)"
            if kept.count > 1 {
                message += "; kept as " + kept.map(\.key).joined(separator: ", ")
            }
            if identical > 0 { message += "; \(identical) identical cop\(identical == 1 ? "y" : "ies") merged" }
            warnings.append(message)
        }
        records = result
    }

}

/// RECURRENCE-ID in one normal form: `YYYYMMDD` for a date, the UTC instant `YYYYMMDDTHHMMSSZ`
/// for a date-time (a TZID or floating time is converted), so the same occurrence named two ways
/// has one key.
public func normalisedRecurrenceID(_ value: ICalDateValue, resolver: TimeZoneResolver) -> String {
    switch value {
    case .date(let d):
        return ICalDateValue.date(d).icalText
    case .utc, .local:
        let dt = CivilDateTime(secondsSinceEpoch: resolver.instant(value))
        return ICalDateValue.utc(dt).icalText
    }
}


/// The first UID, RECURRENCE-ID, STATUS, SUMMARY, DESCRIPTION and LOCATION of an event, found in
/// one pass over its properties (each is what `first(_:)` gives for that name).
struct EventFields {
    var uid: ICalProperty?
    var recurrenceID: ICalProperty?
    var status: ICalProperty?
    var summary: ICalProperty?
    var description: ICalProperty?
    var location: ICalProperty?

    private static let uidKey = ICalName.key("UID"), recurrenceIDKey = ICalName.key("RECURRENCE-ID")
    private static let statusKey = ICalName.key("STATUS"), summaryKey = ICalName.key("SUMMARY")
    private static let descriptionKey = ICalName.key("DESCRIPTION"), locationKey = ICalName.key("LOCATION")

    init(_ event: ICalComponent) {
        for p in event.properties {
            switch p.nameKey {
            case Self.uidKey where uid == nil && p.name == "UID": uid = p
            case Self.recurrenceIDKey where recurrenceID == nil && p.name == "RECURRENCE-ID": recurrenceID = p
            case Self.statusKey where status == nil && p.name == "STATUS": status = p
            case Self.summaryKey where summary == nil && p.name == "SUMMARY": summary = p
            case Self.descriptionKey where description == nil && p.name == "DESCRIPTION": description = p
            case Self.locationKey where location == nil && p.name == "LOCATION": location = p
            default: break
            }
        }
    }
}
