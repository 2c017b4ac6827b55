import Foundation
import Testing
@testable import ICalendar

@Test func corpusWalkNeverCrashes() throws {
    let root = try #require(corpusRoot())
    let fm = FileManager.default
    let en = try #require(fm.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]))
    var files: [URL] = []
    for case let url as URL in en {
        guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
        let ext = url.pathExtension.lowercased()
        if ext == "ics" || ext.isEmpty { files.append(url) }
    }
    files.sort { $0.path < $1.path }
    #expect(files.count > 300)
    var parsed = 0, failed = 0, events = 0, timed = 0, timingErrors = 0
    let start = Date()
    var slow: [(Double, String)] = []
    for f in files {
        let t0 = Date()
        defer { slow.append((Date().timeIntervalSince(t0), f.lastPathComponent)) }
        let data = try Data(contentsOf: f)
        let result: Result<ICalComponent, ICalParseError> = data.withUnsafeBytes { buf in
            do throws(ICalParseError) { return .success(try ICalParser.parse(buf)) } catch { return .failure(error) }
        }
        do {
            let cal = try result.get()
            parsed += 1
            #expect(cal.name == "VCALENDAR")
            let r = TimeZoneResolver(calendar: cal, defaultTimeZone: "Europe/Berlin")
            for ev in cal.events {
                events += 1
                do {
                    let t = try EventTiming.compute(event: ev, resolver: r, maxOccurrences: 20_000)
                    timed += 1
                    if let le = t.lastEnd { #expect(le >= t.start, "\(f.lastPathComponent) line \(ev.line)") }
                } catch {
                    timingErrors += 1
                    if ProcessInfo.processInfo.environment["ICAL_VERBOSE"] != nil { print("timing: \(f.lastPathComponent): \(error)") }
                    #expect(!error.message.isEmpty)
                }
            }
        } catch {
            failed += 1
            if ProcessInfo.processInfo.environment["ICAL_VERBOSE"] != nil { print("parse: \(f.path.dropFirst(root.path.count)): \(error)") }
            #expect(!error.description.isEmpty)
        }
    }
    let secs = Date().timeIntervalSince(start)
    print("corpus: \(files.count) files, \(parsed) parsed, \(failed) rejected with ICalParseError; \(events) VEVENTs, \(timed) timed, \(timingErrors) timing errors; \(String(format: "%.2f", secs)) s")
    #expect(parsed > 200)
    slow.sort { $0.0 > $1.0 }
    print("slowest: " + slow.prefix(5).map { "\($0.1) \(String(format: "%.3f", $0.0))s" }.joined(separator: ", "))
}

/// Files that are well-formed must parse (spot checks with known content).
@Test func corpusKnownFiles() throws {
    let root = try #require(corpusRoot())
    func load(_ p: String) throws -> ICalComponent {
        let bytes = try [UInt8](Data(contentsOf: root.appendingPathComponent(p)))
        return try ICalParser.parse(bytes)
    }
    let basic = try load("icalevents/basic.ics")
    #expect(!basic.events.isEmpty)
    let latin = try load("icalevents/basic_latin1.ics")
    #expect(!latin.events.isEmpty)
    let google = try load("icalevents/google_2024.ics")
    #expect(!google.events.isEmpty)
    let khal = try load("khal/cal_lots_of_timezones.ics")
    #expect(khal.children("VTIMEZONE").count > 3)
    // libical's large.ics has events after END:VCALENDAR: rejected with a line number
    #expect(throws: ICalParseError(line: 11, message: "content after END:VCALENDAR: BEGIN:VEVENT")) { try load("libical/large.ics") }
}
