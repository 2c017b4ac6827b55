import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL server for the tests: `initdb` and `pg_ctl` under a temporary folder,
/// listening on a free loopback port, started once per test process on first use and stopped when
/// the process exits. Each test asks for a database of its own (`newDatabase()`), so tests run in
/// parallel without seeing each other's rows.
///
/// initdb refuses to run as root: as root the server runs as the `postgres` user (installed with
/// the server by tools/setup), else as `nobody`. The binaries are found in `FEEDSYNC_PG_BIN`, else
/// in the newest /usr/lib/postgresql/N/bin.
public actor PostgresTestServer {
    public static let shared = PostgresTestServer()

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private var started: (port: Int, folder: String)?
    private var counter = 0
    public let user = "feedsync"

    /// The folder of initdb, pg_ctl and psql.
    public static func binaries() throws -> String {
        if let dir = ProcessInfo.processInfo.environment["FEEDSYNC_PG_BIN"] { return dir }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted()
        for v in versions.reversed() where FileManager.default.isExecutableFile(atPath: "\(root)/\(v)/bin/initdb") {
            return "\(root)/\(v)/bin"
        }
        throw Failure(description: "no PostgreSQL server binaries (initdb) under \(root): run tools/setup, which installs them")
    }

    /// The port the server listens on, starting it on first use.
    public func port() throws -> Int {
        if let started { return started.port }
        let bin = try Self.binaries()
        let folder = NSTemporaryDirectory() + "feedsync-pg-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let owner = getuid() == 0 ? (getpwnam("postgres") ?? getpwnam("nobody")) : nil
        if let owner {
            chown(folder, owner.pointee.pw_uid, owner.pointee.pw_gid)
        }
        let asUser: [String] = owner.map { o in
            ["/usr/bin/setpriv", "--reuid=\(o.pointee.pw_uid)", "--regid=\(o.pointee.pw_gid)", "--clear-groups", "--"]
        } ?? []
        let data = folder + "/data"
        try Self.run(asUser + ["\(bin)/initdb", "-D", data, "-U", user, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"],
                     what: "initdb")
        // One user must give a password (`secretive`, password `right-one`), so that a wrong one
        // can be tried; everyone else is trusted.
        let hba = data + "/pg_hba.conf"
        let rules = (try? String(contentsOfFile: hba, encoding: .utf8)) ?? ""
        try ("host all secretive 127.0.0.1/32 scram-sha-256\n" + rules).write(toFile: hba, atomically: false, encoding: .utf8)
        var lastError = ""
        for _ in 0..<5 {
            let port = Self.freePort()
            do {
                try Self.run(asUser + ["\(bin)/pg_ctl", "-D", data, "-l", folder + "/server.log", "-w", "-t", "60", "-o",
                                       "-p \(port) -k \(folder) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=128MB",
                                       "start"], what: "pg_ctl start")
                started = (port, folder)
                _ = try? psql("CREATE ROLE secretive LOGIN PASSWORD 'right-one'; CREATE ROLE nopriv LOGIN")
                stopCommand = asUser + ["\(bin)/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"]
                stopFolder = folder
                // Stopped when this process ends, however it ends: at exit, and by a watchdog
                // that outlives a killed test process.
                let stop = stopCommand!.map { "'\($0)'" }.joined(separator: " ")
                _ = try? Self.spawn(["/bin/sh", "-c",
                                     "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; \(stop) >/dev/null 2>&1; rm -rf '\(folder)'"])
                atexit {
                    if let command = stopCommand {
                        _ = try? PostgresTestServer.run(command, what: "pg_ctl stop")
                    }
                    if let folder = stopFolder { try? FileManager.default.removeItem(atPath: folder) }
                }
                return port
            } catch {
                lastError = "\(error)"
            }
        }
        throw Failure(description: "cannot start the test PostgreSQL server: \(lastError)")
    }

    /// A new, empty database; returns its URL (`postgres://feedsync@127.0.0.1:PORT/NAME`).
    public func newDatabase(_ hint: String = "t") throws -> String {
        let port = try port()
        counter += 1
        let safe = hint.lowercased().filter { $0.isLetter || $0.isNumber }.prefix(20)
        let name = "fs_\(safe)_\(counter)_\(UUID().uuidString.prefix(6).lowercased())"
        try psql("CREATE DATABASE \(name) TEMPLATE template0 ENCODING 'UTF8'")
        return "postgres://\(user)@127.0.0.1:\(port)/\(name)"
    }

    /// Runs SQL with psql against `database` (default: the server's `postgres` database) and returns
    /// what it prints (unaligned, tuples only, `|` between columns).
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        let port = try port()
        return try Self.run(["\(try Self.binaries())/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-t",
                             "-h", "127.0.0.1", "-p", "\(port)", "-U", user, "-d", database, "-c", sql], what: "psql")
    }

    /// The rows a query returns, each a list of its columns (nil for NULL); text may hold any
    /// character but U+001E, U+001F and U+2400 (the separators and the NULL mark).
    public func rows(_ sql: String, url: String) throws -> [[String?]] {
        let port = try port()
        let database = String(url.split(separator: "/").last ?? "postgres")
        let out = try Self.run(["\(try Self.binaries())/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-t",
                                "-F", "\u{1F}", "-R", "\u{1E}", "-P", "null=\u{2400}",
                                "-h", "127.0.0.1", "-p", "\(port)", "-U", user, "-d", database, "-c", sql], what: "psql")
        var text = out
        if text.hasSuffix("\n") { text.removeLast() }
        guard !text.isEmpty else { return [] }
        return text.split(separator: "\u{1E}", omittingEmptySubsequences: false).map { row in
            row.split(separator: "\u{1F}", omittingEmptySubsequences: false).map { $0 == "\u{2400}" ? nil : String($0) }
        }
    }

    /// Runs SQL against a database named by its URL.
    @discardableResult
    public func psql(_ sql: String, url: String) throws -> String {
        try psql(sql, database: String(url.split(separator: "/").last ?? "postgres"))
    }

    /// Runs a program and waits for it (posix_spawn and waitpid: pg_ctl leaves a server behind
    /// that inherits its output, and Foundation's Process did not see pg_ctl end). Output goes to
    /// files, read back when it is done.
    @discardableResult
    static func run(_ argv: [String], what: String) throws -> String {
        let base = NSTemporaryDirectory() + "feedsync-pg-out-\(UUID().uuidString)"
        defer {
            unlink(base + ".out")
            unlink(base + ".err")
        }
        let pid = try spawn(argv, stdout: base + ".out", stderr: base + ".err")
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let o = FileManager.default.contents(atPath: base + ".out") ?? Data()
        let e = FileManager.default.contents(atPath: base + ".err") ?? Data()
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            throw Failure(description: "\(what) failed (status \(status)): \(String(decoding: e + o, as: UTF8.self))")
        }
        return String(decoding: o, as: UTF8.self)
    }

    /// Starts a program with its output in files (default: /dev/null) and returns its pid.
    @discardableResult
    static func spawn(_ argv: [String], stdout: String = "/dev/null", stderr: String = "/dev/null") throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var env = ProcessInfo.processInfo.environment
        env["PGTZ"] = "UTC"
        let envStrings = env.map { "\($0)=\($1)" }
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        var cEnv: [UnsafeMutablePointer<CChar>?] = envStrings.map { strdup($0) } + [nil]
        defer {
            cArgs.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, &cEnv)
        guard rc == 0 else { throw Failure(description: "cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
        return pid
    }

    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

nonisolated(unsafe) private var stopCommand: [String]?
nonisolated(unsafe) private var stopFolder: String?
