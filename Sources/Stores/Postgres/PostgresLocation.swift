import FeedModel
import Foundation

/// Where a PostgreSQL store is: `postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…&host=…]`
/// (also `postgresql://`), as libpq spells it.
///
/// The password comes from the URL, else from the `password_file:` setting, else from
/// `PGPASSWORD` (resolved by the config loader, which passes it in `password`). It is never part of
/// `description`: the URL is shown with its user info and query values redacted, like a feed URL.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    /// libpq's `sslmode` values.
    public enum SSLMode: String, Sendable, CaseIterable {
        /// No TLS.
        case disable
        /// TLS if the server offers it (libpq's `allow` is treated the same), certificate not checked.
        case allow, prefer
        /// TLS required, certificate not checked (as libpq's `require`).
        case require
        /// TLS required, the certificate chain checked, not the host name.
        case verifyCA = "verify-ca"
        /// TLS required, the chain and the host name checked.
        case verifyFull = "verify-full"
    }

    public var user: String
    public var password: String?
    /// A host name or address; nil when `socketPath` is set.
    public var host: String?
    public var port: Int
    /// A Unix socket (`?host=/var/run/postgresql` names the folder of `.s.PGSQL.PORT`).
    public var socketPath: String?
    public var database: String
    public var sslMode: SSLMode
    /// The URL as written, for redaction.
    public var url: String

    public init(user: String, password: String? = nil, host: String? = "127.0.0.1", port: Int = 5432,
                socketPath: String? = nil, database: String, sslMode: SSLMode = .prefer, url: String? = nil) {
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.socketPath = socketPath
        self.database = database
        self.sslMode = sslMode
        self.url = url ?? "postgres://\(user)@\(host ?? "")\(port == 5432 ? "" : ":\(port)")/\(database)"
    }

    /// The URL with its password (and every query value) hidden: safe for logs and reports.
    public var description: String { Self.redact(url) }

    /// `postgres://USER@HOST:PORT/DB` with the password out; query values as `…` but those of
    /// `sslmode`, `host` and `port`, which are no secrets and which people need to see.
    public static func redact(_ url: String) -> String {
        redactURL(url, keepingUser: true, showing: ["sslmode", "host", "port"])
    }

    /// True for a `store:` value this type reads.
    public static func claims(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses a `postgres://` URL. `password` is used when the URL has none. Throws a message that
    /// names the problem (never the password).
    public static func parse(_ text: String, password fallback: String? = nil) throws(StoreError) -> PostgresLocation {
        let shown = redact(text)
        func fail(_ why: String) -> StoreError {
            StoreError(.unsupported, "`store: \(shown)`: \(why) (expected postgres://USER@HOST:PORT/DATABASE)")
        }
        guard let schemeEnd = text.range(of: "://"), claims(text) else { throw fail("not a postgres:// URL") }
        var rest = text[schemeEnd.upperBound...]
        var queryItems: [(String, String)] = []
        if let q = rest.firstIndex(of: "?") {
            for part in rest[rest.index(after: q)...].split(separator: "&") {
                let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(kv[0])
                let value = kv.count > 1 ? (String(kv[1]).removingPercentEncoding ?? String(kv[1])) : ""
                queryItems.append((name, value))
            }
            rest = rest[..<q]
        }
        let slash = rest.firstIndex(of: "/")
        let authority = slash.map { rest[..<$0] } ?? rest
        let database = slash.map { String(rest[rest.index(after: $0)...]) } ?? ""
        var user = "", password: String? = nil, hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let info = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = info.firstIndex(of: ":") {
                user = String(info[..<colon])
                password = String(info[info.index(after: colon)...]).removingPercentEncoding
            } else {
                user = String(info)
            }
            user = user.removingPercentEncoding ?? user
        }
        var host: String? = nil
        var port = 5432
        if hostPort.hasPrefix("[") {
            // An IPv6 literal: [::1]:5432
            guard let close = hostPort.firstIndex(of: "]") else { throw fail("an IPv6 address needs its closing ]") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw fail("the port must be a number from 1 to 65535") }
                port = p
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(p) else {
                throw fail("the port must be a number from 1 to 65535")
            }
            port = p
        } else if !hostPort.isEmpty {
            host = String(hostPort)
        }
        var socketPath: String? = nil
        var sslMode = SSLMode.prefer
        for (name, value) in queryItems {
            switch name {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    throw fail("unknown sslmode `\(value)` (one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                sslMode = mode
            case "host":
                if value.hasPrefix("/") { socketPath = value } else { host = value }
            case "port":
                guard let p = Int(value), (1...65535).contains(p) else { throw fail("the port must be a number from 1 to 65535") }
                port = p
            case "user":
                user = value
            case "password":
                password = value
            case "application_name", "connect_timeout":
                continue
            default:
                throw fail("unknown parameter `\(name)` (feedsync reads sslmode, host, port, user, password)")
            }
        }
        if let dir = socketPath { socketPath = dir.hasSuffix("/") ? "\(dir).s.PGSQL.\(port)" : "\(dir)/.s.PGSQL.\(port)" }
        guard !user.isEmpty else { throw fail("the URL names no user") }
        guard !database.isEmpty, !database.contains("/") else { throw fail("the URL names no database") }
        if socketPath == nil && (host ?? "").isEmpty { throw fail("the URL names no host") }
        return PostgresLocation(user: user, password: password ?? fallback, host: socketPath == nil ? host : nil,
                                port: port, socketPath: socketPath, database: database.removingPercentEncoding ?? database,
                                sslMode: sslMode, url: text)
    }
}
