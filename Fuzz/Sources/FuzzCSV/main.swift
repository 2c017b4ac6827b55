import FuzzSupport
import FeedModel
import Records

/// The CSV reader (quotes, embedded line breaks, delimiters) and records from its rows.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let mapping = RecordMapping(key: ["id"], start: "start", timeFormat: "iso8601", summary: "name", volatile: ["stamp"])
    let format = RecordsFormat(.csv, settings: FormatSettings(mapping: mapping))
    _ = try? format.parse(bytes)
    _ = format.fingerprint(bytes)
    return 0
}

@_cdecl("FuzzCSV_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
