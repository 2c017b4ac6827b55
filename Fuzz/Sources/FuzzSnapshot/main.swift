import FuzzSupport
import Snapshots

/// The snapshot decoder: header, zlib payload, records, checksum.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? SnapshotCodec.decodeHeader(bytes)
    if let snapshot = try? SnapshotCodec.decode(bytes) {
        // What decodes must encode again.
        _ = try? SnapshotCodec.encode(header: snapshot.header, records: snapshot.records)
    }
    return 0
}

@_cdecl("FuzzSnapshot_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
