import Foundation

/// Writes the JSON run report atomically (temp file + rename).
public enum ReportWriter {
    public static func encode(_ report: RunReport) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(report)
    }

    public static func write(_ report: RunReport, to path: String) throws {
        var data = try encode(report)
        data.append(0x0A)
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
