import Foundation
import Testing

/// `feed_server.py` on loopback (127.0.0.1 and 127.0.0.2, one port), for the HTTP tests.
enum FeedServer {
    /// Starts the server serving `<harness>/served`; stops it (SIGKILL) at the end of `body`.
    static func with(_ h: Harness, _ body: (Int, URL) throws -> Void) throws {
        let log = h.dir.appendingPathComponent("requests.log")
        try FileManager.default.createDirectory(at: h.dir.appendingPathComponent("served"), withIntermediateDirectories: true)
        try launch("feed_server.py", [h.dir.appendingPathComponent("served").path, log.path]) { port in try body(port, log) }
    }

    /// Runs a Python server script of this folder that prints its port first; SIGKILLs it after `body`.
    static func launch(_ script: String, _ arguments: [String], _ body: (Int) throws -> Void) throws {
        let server = try start(script, arguments)
        defer { server.stop() }
        try body(server.port)
    }

    /// A server started by `start`; `stop()` it when done.
    struct Running {
        let process: Process
        let port: Int

        func stop() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Starts a Python server script of this folder that prints its port first.
    static func start(_ script: String, _ arguments: [String]) throws -> Running {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(script).path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", path] + arguments
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        // SIGKILL when stopped: the test process may run with SIGTERM blocked, and children inherit the mask.
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            throw ServerFailure(script: script)
        }
        return Running(process: p, port: port)
    }

    struct ServerFailure: Error, CustomStringConvertible {
        var script: String
        var description: String { "\(script) did not print its port" }
    }

    /// Every logged line (requests have `path`, closed connections have `conn`).
    static func lines(_ log: URL) throws -> [[String: Any]] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// The logged requests, in arrival order of their completion.
    static func requests(_ log: URL) throws -> [[String: Any]] {
        try lines(log).filter { $0["path"] != nil }
    }
}
