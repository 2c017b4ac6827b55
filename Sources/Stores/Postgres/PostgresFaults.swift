import Foundation
import NIOCore
import PostgresNIO

/// What the server said, without the query (which may hold feed data) or postgres-nio's internals:
/// the cause kept under a `StoreError`.
public struct PostgresServerMessage: Error, Sendable, CustomStringConvertible {
    /// The SQLSTATE (`28P01`, `3D000`…), nil when the failure was not the server's answer.
    public var sqlState: String?
    public var message: String

    public var description: String {
        sqlState.map { "\(message) (SQLSTATE \($0))" } ?? message
    }
}

/// Turns a postgres-nio failure into one sentence naming the server and what to do.
enum PostgresFaults {
    static func explain(_ error: any Error, at location: PostgresLocation, doing what: String,
                        code: StoreError.Code) -> StoreError {
        if let e = error as? StoreError { return e }
        if let t = error as? PostgresTransactionError {
            if let inner = t.closureError ?? t.commitError ?? t.beginError {
                return explain(inner, at: location, doing: what, code: code)
            }
        }
        let server = location.description
        guard let p = error as? PSQLError else {
            if error is CancellationError {
                return StoreError(code, "cannot \(what) in the PostgreSQL store \(server): the run was cancelled")
            }
            return StoreError(code, "cannot \(what) in the PostgreSQL store \(server): \(plain(error))",
                              cause: PostgresServerMessage(sqlState: nil, message: plain(error)))
        }
        switch p.code {
        case .server:
            let state = p.serverInfo?[.sqlState]
            let said = p.serverInfo?[.message] ?? "error"
            let cause = PostgresServerMessage(sqlState: state, message: said)
            switch state {
            case "28P01", "28000":
                return StoreError(.cannotOpen, "the PostgreSQL server \(server) refused user `\(location.user)`: \(said); give the password in the URL, in a `password_file:` or in PGPASSWORD", cause: cause)
            case "3D000":
                return StoreError(.cannotOpen, "the PostgreSQL server \(server) has no database `\(location.database)`: create it (`createdb \(location.database)`) or change `store:`", cause: cause)
            case "53300":
                return StoreError(code, "the PostgreSQL server \(server) has no connection to spare (too many clients): lower `concurrency`, or raise the server's max_connections", cause: cause)
            case "55P03":
                return StoreError(.busy, "the PostgreSQL store \(server) stayed locked by another session beyond `busy_timeout_seconds`: another process is writing feedsync's tables; run again when it is done, or raise `busy_timeout_seconds`", cause: cause)
            case "25006":
                return StoreError(.readOnly, "the PostgreSQL store \(server) is read-only (a standby, or default_transaction_read_only): point `store:` at the primary", cause: cause)
            case "42501":
                return StoreError(.readOnly, "user `\(location.user)` may not \(what) in the PostgreSQL store \(server): \(said); grant it the rights on feedsync's tables", cause: cause)
            case "53100":
                return StoreError(.diskFull, "the disk of the PostgreSQL server \(server) is full: free some space and run again (the interrupted transaction was rolled back, nothing stored was lost)", cause: cause)
            case let s? where s.hasPrefix("57P"):
                return StoreError(code, "the PostgreSQL server \(server) is shutting down or restarting (\(said)): run again when it is up", cause: cause)
            default:
                return StoreError(code, "cannot \(what) in the PostgreSQL store \(server): \(said)", cause: cause)
            }
        case .sslUnsupported:
            return StoreError(.cannotOpen, "the PostgreSQL server \(server) does not offer TLS, and `sslmode=\(location.sslMode.rawValue)` requires it")
        case .connectionError:
            let why = p.underlying.map(plain) ?? "no connection"
            return StoreError(.cannotOpen, "cannot connect to the PostgreSQL server \(server): \(why) (is it running, and is `store:` right?)")
        case .serverClosedConnection, .uncleanShutdown:
            return StoreError(code, "the PostgreSQL server \(server) closed the connection while feedsync was trying to \(what): run again when it is up")
        case .unsupportedAuthMechanism, .authMechanismRequiresPassword, .saslError:
            return StoreError(.cannotOpen, "the PostgreSQL server \(server) wants a password for user `\(location.user)`: give it in the URL, in a `password_file:` or in PGPASSWORD")
        default:
            return StoreError(code, "cannot \(what) in the PostgreSQL store \(server): \(p.code)")
        }
    }

    /// A connection error in words: `connection refused`, not NIO's type dump.
    static func plain(_ error: any Error) -> String {
        if let e = error as? IOError {
            return String(cString: strerror(e.errnoCode)).lowercased()
        }
        let text = "\(error)"
        if text.contains("connectTimeout") || text.contains("connect timeout") { return "connection timed out" }
        if let r = text.range(of: "Connection refused") { return String(text[r]).lowercased() }
        if text.contains("NXDOMAIN") || text.contains("name resolution") || text.contains("getaddrinfo") { return "unknown host" }
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}
