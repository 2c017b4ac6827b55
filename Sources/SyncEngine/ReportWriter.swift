import Foundation

/// Writes the JSON run report atomically (temp file + rename).
public enum ReportWriter {
    public static func encode(_ report: RunReport) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(report)
    }

    /// Writes the report atomically, creating its folder when missing.
    public static func write(_ report: RunReport, to path: String) throws {
        var data = try encode(report)
        data.append(0x0A)
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    }

    /// Removes last night's report at `path` when a run starts, so that a run that dies leaves no
    /// report looking current. Only a regular file is removed (never a folder given by mistake);
    /// a missing file is no error.
    public static func removeStale(at path: String) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue else { return }
        try? FileManager.default.removeItem(atPath: path)
    }
}
