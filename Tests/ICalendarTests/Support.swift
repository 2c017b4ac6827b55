import Foundation
@testable import ICalendar

/// Locates the shared corpus: `<package root>/../shared/corpus`, else `/work/shared/corpus`.
func corpusRoot(file: String = #filePath) -> URL? {
    var dir = URL(fileURLWithPath: file).deletingLastPathComponent()
    let fm = FileManager.default
    while dir.path != "/" {
        if fm.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            let c = dir.deletingLastPathComponent().appendingPathComponent("shared/corpus")
            if fm.fileExists(atPath: c.path) { return c }
            break
        }
        dir = dir.deletingLastPathComponent()
    }
    let fallback = URL(fileURLWithPath: "/work/shared/corpus")
    return fm.fileExists(atPath: fallback.path) ? fallback : nil
}

func parse(_ s: String) throws(ICalParseError) -> ICalComponent {
    try ICalParser.parse(Array(s.utf8))
}

/// Wraps VEVENT lines (joined with CRLF) in a VCALENDAR.
func calendar(_ body: [String], extra: [String] = []) -> String {
    (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"] + extra + body + ["END:VCALENDAR"]).joined(separator: "\r\n") + "\r\n"
}

func parseError(_ s: String) -> ICalParseError? {
    do {
        _ = try parse(s)
        return nil
    } catch {
        return error
    }
}

func instant(_ s: String) -> Int64 {
    // "YYYYMMDDTHHMMSSZ"
    guard case .utc(let dt)? = ICalDateValue.parseText(Substring(s), tzid: nil) else { fatalError("bad instant \(s)") }
    return dt.secondsSinceEpochAsUTC
}
