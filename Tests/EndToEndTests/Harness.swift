import Foundation
import GRDB
import Testing

/// Runs the built `feedsync` binary in a scratch folder of its own, and reads what it left.
struct Harness {
    let dir: URL

    init(_ name: String) throws {
        dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("feedsync-e2e-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("feeds"), withIntermediateDirectories: true)
    }

    func cleanUp() { try? FileManager.default.removeItem(at: dir) }

    /// The `feedsync` binary next to the test bundle (SwiftPM builds both into one folder).
    static var binary: URL {
        if let env = ProcessInfo.processInfo.environment["FEEDSYNC_BIN"] { return URL(fileURLWithPath: env) }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var folder = exe.deletingLastPathComponent()
        // Bundle layouts (.xctest folders) put the executable deeper.
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("feedsync").path), folder.path != "/" {
            folder = folder.deletingLastPathComponent()
        }
        return folder.appendingPathComponent("feedsync")
    }

    func write(_ relative: String, _ text: String) throws {
        let url = dir.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func writeBytes(_ relative: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: dir.appendingPathComponent(relative))
    }

    func remove(_ relative: String) throws {
        try FileManager.default.removeItem(at: dir.appendingPathComponent(relative))
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Ended by a signal (`status` is then the signal's number).
        var killed = false
    }

    /// Runs the binary with `args` (with `direct`, `args[0]` is the program to run instead).
    @discardableResult
    func run(_ args: [String], direct: Bool = false, environment: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = direct ? URL(fileURLWithPath: args[0]) : Self.binary
        p.arguments = direct ? Array(args.dropFirst()) : args
        if !environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        p.currentDirectoryURL = dir
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self), killed: p.terminationReason == .uncaughtSignal)
    }

    /// Starts the binary in the background, its stdout and stderr to the file `log` of the folder.
    func spawn(_ args: [String], log: String, environment: [String: String] = [:]) throws -> Process {
        let p = Process()
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        p.executableURL = Self.binary
        p.arguments = args
        p.currentDirectoryURL = dir
        FileManager.default.createFile(atPath: dir.appendingPathComponent(log).path, contents: nil)
        let out = try FileHandle(forWritingTo: dir.appendingPathComponent(log))
        p.standardOutput = out
        p.standardError = out
        try p.run()
        return p
    }

    /// The text of a file of the folder ("" when there is none).
    func text(_ relative: String) -> String {
        (try? String(contentsOf: dir.appendingPathComponent(relative), encoding: .utf8)) ?? ""
    }

    /// One nightly run at `now`, with a report; returns the result and the parsed report.
    func night(_ now: String, _ extra: [String] = []) throws -> (Result, Report) {
        let reportPath = dir.appendingPathComponent("report.json").path
        try? FileManager.default.removeItem(atPath: reportPath)
        let r = try run(["run", "--config", "feedsync.yml", "--now", now, "--report", reportPath] + extra)
        let data = try Data(contentsOf: URL(fileURLWithPath: reportPath))
        return (r, try JSONDecoder().decode(Report.self, from: data))
    }

    func db() throws -> DatabaseQueue {
        try DatabaseQueue(path: dir.appendingPathComponent("feedsync.sqlite").path)
    }

    func rows(_ sql: String, _ args: StatementArguments = []) throws -> [Row] {
        try db().read { try Row.fetchAll($0, sql: sql, arguments: args) }
    }

    func snapshotFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("snapshots").path)
            .filter { $0.hasSuffix(".fsnap") }.sorted()
    }
}

/// The JSON report, as a user's script would read it.
struct Report: Decodable {
    var mode: String
    var now: String
    var started_at: String
    var finished_at: String
    var feeds_total: Int
    var feeds_unchanged: Int
    var feeds_changed: Int
    var feeds_failed: Int
    var events_added: Int
    var events_updated: Int
    var events_removed: Int
    var events_past_skipped: Int
    var feeds: [Feed]

    struct Feed: Decodable {
        var id: String
        var status: String
        var sync_type: String
        var reason: String
        var added: Int
        var updated: Int
        var removed: Int
        var past_skipped: Int
        var error: String?
        var parent: String?
        var future: Int?
        var children: Children?
        var warnings: [String]?
    }

    struct Children: Decodable {
        var total: Int
        var incremental: Int
        var full: Int
        var full_fallback: Int
        var unchanged: Int
        var failed: Int
    }

    subscript(_ id: String) -> Feed {
        feeds.first { $0.id == id }!
    }
}

/// Writes iCalendar text the way different providers do.
struct ICS {
    var lines: [String] = []
    var crlf = true
    /// Fold lines longer than this many octets (RFC 5545 says 75).
    var foldAt = 75

    init(prodid: String, crlf: Bool = true, extra: [String] = []) {
        self.crlf = crlf
        lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:\(prodid)", "CALSCALE:GREGORIAN"] + extra
    }

    mutating func event(_ props: [String]) {
        lines.append("BEGIN:VEVENT")
        lines.append(contentsOf: props)
        lines.append("END:VEVENT")
    }

    func text(stamp: String = "20261101T020000Z") -> String {
        var out: [String] = []
        for line in lines + ["END:VCALENDAR"] {
            let l = line.replacingOccurrences(of: "$STAMP", with: stamp)
            var bytes = Array(l.utf8)[...]
            var first = true
            while bytes.count > foldAt {
                var cut = foldAt - (first ? 0 : 1)
                while cut > 0 && (bytes[bytes.startIndex + cut] & 0xC0) == 0x80 { cut -= 1 }  // keep UTF-8 whole
                out.append((first ? "" : " ") + String(decoding: bytes.prefix(cut), as: UTF8.self))
                bytes = bytes.dropFirst(cut)
                first = false
            }
            out.append((first ? "" : " ") + String(decoding: bytes, as: UTF8.self))
        }
        let eol = crlf ? "\r\n" : "\n"
        return out.joined(separator: eol) + eol
    }
}
