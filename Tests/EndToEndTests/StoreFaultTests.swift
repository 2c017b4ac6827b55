import Foundation
import Testing

/// Store faults in words: one sentence each, naming the path and what to do; never SQL.
@Suite("Store faults, end to end", .serialized)
struct StoreFaultTests {
    func setUp(_ name: String, extra: String = "") throws -> Harness {
        let h = try Harness(name)
        try h.write("feeds/airbnb.ics", NightlyScenarioTests.airbnb().text())
        try h.write("feedsync.yml", extra + "feeds:\n  - id: airbnb\n    url: feeds/airbnb.ics\n")
        return h
    }

    static var canDropPrivileges: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
    }

    @Test("a read-only database: exit 3, the path, the user and what to check", .enabled(if: canDropPrivileges))
    func readOnly() throws {
        let h = try setUp("store-readonly")
        defer { h.cleanUp() }
        #expect(try h.run(["run", "--config", "feedsync.yml", "--now", "2026-11-23T02:00:00Z"]).status == 0)
        // The run as `nobody` may take the lock, but the database and its folder are root's.
        chmod(h.dir.appendingPathComponent("snapshots").path, 0o777)
        chmod(h.dir.appendingPathComponent("snapshots/.feedsync.lock").path, 0o666)
        let r = try h.run(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           Harness.binary.path, "run", "--config", "feedsync.yml", "--now", "2026-11-24T02:00:00Z"], direct: true)
        #expect(r.status == 3)
        let db = h.dir.appendingPathComponent("feedsync.sqlite").path
        #expect(r.stderr.contains("feedsync: the SQLite store \(db) is read-only for this process (uid 65534)"))
        #expect(r.stderr.contains("check the owner and mode of the file and of its folder"))
        #expect(!r.stderr.contains("CREATE") && !r.stderr.contains("INSERT") && !r.stderr.contains("grdb"))
    }

    @Test("a database locked beyond busy_timeout_seconds: exit 3 saying how long it waited and what to do")
    func locked() throws {
        let h = try setUp("store-locked", extra: "busy_timeout_seconds: 1\n")
        defer { h.cleanUp() }
        #expect(try h.run(["run", "--config", "feedsync.yml", "--now", "2026-11-23T02:00:00Z"]).status == 0)
        let db = h.dir.appendingPathComponent("feedsync.sqlite").path
        // Another program holds a write transaction for 20 s.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = ["python3", "-c", """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute("BEGIN IMMEDIATE")
            print("locked", flush=True)
            time.sleep(20)
            """, db]
        let out = Pipe()
        holder.standardOutput = out
        try holder.run()
        defer { kill(holder.processIdentifier, SIGKILL); holder.waitUntilExit() }
        _ = out.fileHandleForReading.availableData   // "locked"
        let r = try h.run(["run", "--config", "feedsync.yml", "--now", "2026-11-24T02:00:00Z"])
        #expect(r.status == 3)
        #expect(r.stderr.contains("the SQLite store \(db) stayed locked by another process for 1 s (`busy_timeout_seconds`)"))
        #expect(r.stderr.contains("raise `busy_timeout_seconds`"))
    }

    @Test("a store in a folder that does not exist: exit 3 naming the folder")
    func missingFolder() throws {
        let h = try setUp("store-missing", extra: "store: sqlite:nope/feedsync.sqlite\n")
        defer { h.cleanUp() }
        let r = try h.run(["run", "--config", "feedsync.yml"])
        #expect(r.status == 3)
        let folder = h.dir.appendingPathComponent("nope").path
        #expect(r.stderr.contains("its folder \(folder) does not exist (create it, or change `store:` in the configuration)"))
    }

    @Test("a file that is not a database: exit 3, said so")
    func notADatabase() throws {
        let h = try setUp("store-notdb")
        defer { h.cleanUp() }
        try h.write("feedsync.sqlite", String(repeating: "not a database\n", count: 400))
        let r = try h.run(["run", "--config", "feedsync.yml"])
        #expect(r.status == 3)
        #expect(r.stderr.contains("feedsync.sqlite is not a SQLite database, or is damaged"))
    }
}
