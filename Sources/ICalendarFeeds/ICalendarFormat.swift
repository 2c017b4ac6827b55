public import FeedModel
public import FeedHash
import ICalendar

/// iCalendar (RFC 5545) feeds, `format: ics`: one record per VEVENT (masters and RECURRENCE-ID
/// overrides alike), keyed by UID (+ RECURRENCE-ID) and hashed in canonical form (`CanonicalForm`);
/// the body fingerprint leaves out the volatile properties' lines (`BodyFingerprinter`).
public struct ICalendarFormat: FeedFormat {
    /// The format's name in `feedsync.yml` and in snapshot headers.
    public static let name = "ics"

    /// Version of the record extraction and canonical form.
    ///
    /// History: 1 — first release; 2 — overrides move a series' last end, X-WR-TIMEZONE applies to
    /// floating times, per-zone transition tables (starts and last ends may differ from version 1);
    /// 3 — an override of one occurrence ignores a rule of its own; a series without any occurrence
    /// (all excluded, or UNTIL before DTSTART) ends at 1970-01-01 (last ends may differ).
    public static let parserVersion: UInt32 = 3

    public let parser: FeedParser
    private let fingerprinter: BodyFingerprinter

    public init(settings: FormatSettings = FormatSettings()) {
        var parser = FeedParser(timeZone: settings.timeZone, feedTimeZone: settings.feedTimeZone,
                                volatileProperties: settings.volatileProperties)
        parser.limits = ICalParser.Limits(maxEvents: settings.maxRecords)
        parser.keepBadEvents = settings.onBadRecord == .keep
        parser.occurrenceWindow = settings.occurrenceWindow
        self.parser = parser
        fingerprinter = BodyFingerprinter(volatileProperties: settings.volatileProperties)
    }

    public var name: String { Self.name }
    public var describedAs: String { "an iCalendar feed" }
    public var parserVersion: UInt32 { Self.parserVersion }
    public var accept: String { "text/calendar, */*;q=0.5" }

    /// True when the body starts (after an optional UTF-8 BOM and whitespace) with
    /// `BEGIN:VCALENDAR`, in any case.
    public func sniff(_ body: [UInt8]) -> Bool { Self.looksLikeCalendar(body) }

    public static func looksLikeCalendar(_ body: [UInt8]) -> Bool {
        var i = 0
        if body.count >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF { i = 3 }
        while i < body.count, [0x20, 0x09, 0x0D, 0x0A].contains(body[i]) { i += 1 }
        let want = Array("BEGIN:VCALENDAR".utf8)
        guard body.count - i >= want.count else { return false }
        for (k, w) in want.enumerated() {
            var b = body[i + k]
            if b >= 0x61 && b <= 0x7A { b -= 0x20 }
            if b != w { return false }
        }
        return true
    }

    public func fingerprint(_ body: [UInt8]) -> Fingerprint128 { fingerprinter.fingerprint(body) }

    public func parse(_ body: [UInt8]) throws(FeedFormatError) -> ParsedFeed {
        do {
            return try parser.parse(body)
        } catch {
            throw FeedFormatError(line: error.line, message: error.message)
        }
    }

    public func properties(ofCanonicalBody body: [UInt8]) -> [CanonicalProperty] {
        CanonicalBody.properties(body)
    }

    public func summary(ofCanonicalBody body: [UInt8]) -> String? {
        CanonicalBody.summary(body)
    }
}

extension FormatRegistry {
    /// Registers `ics`.
    public mutating func registerICalendar() {
        register(ICalendarFormat.name) { ICalendarFormat(settings: $0) }
    }
}
