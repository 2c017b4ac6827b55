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
    parser.occurrenceWindow = (from: 1_790_000_000, to: 1_800_000_000)
    _ = try? parser.parse(bytes)
    _ = ICalendarFormat().fingerprint(bytes)
    return 0
}

// SwiftPM links an executable's entry point as `FuzzICalendar_main`; this one hands over to libFuzzer's
// driver (whose own `main` is then not linked in).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("FuzzICalendar_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var values = argv
    return LLVMFuzzerRunDriver(&count, &values, fuzz)
}
