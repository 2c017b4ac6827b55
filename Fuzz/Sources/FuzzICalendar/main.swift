import FuzzSupport
import FeedModel
import ICalendar
import ICalendarFeeds

/// The content-line lexer and tree, then records: canonical form, time zones, RRULE parsing and
/// expansion (a last end and occurrences in a window), keys and hashes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var parser = FeedParser(timeZone: "Europe/Lisbon", volatileProperties: ["DTSTAMP"])
    parser.occurrenceWindow = OccurrenceWindow(from: 1_790_000_000, to: 1_800_000_000)
    _ = try? parser.parse(bytes)
    _ = ICalendarFormat().fingerprint(bytes)
    return 0
}

@_cdecl("FuzzICalendar_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
