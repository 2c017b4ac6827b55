import FuzzSupport
import FeedModel
import Records

/// The JSON reader, records found by a wildcard pointer, keys, times, canonical JSON.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let mapping = RecordMapping(records: "/*/participants", key: ["id", "user.id"], start: "start", end: "end",
                                summary: "name", volatile: ["last_modified"])
    let format = RecordsFormat(.json, settings: FormatSettings(timeZone: "America/New_York", mapping: mapping))
    _ = try? format.parse(bytes)
    _ = format.fingerprint(bytes)
    let plain = RecordsFormat(.json, settings: FormatSettings(mapping: RecordMapping(key: ["id"], start: "s", timeFormat: "%m/%d/%Y %H:%M")))
    _ = try? plain.parse(bytes)
    return 0
}

@_cdecl("FuzzJSON_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
