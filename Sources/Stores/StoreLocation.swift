import FeedModel

/// Where the store is: the `store:` setting of feedsync.yml.
public enum StoreLocation: Sendable, Equatable, CustomStringConvertible {
    /// `sqlite:PATH` (a path relative to the config's folder is made absolute by the config loader).
    case sqlite(path: String)
    /// `memory:` — a store that lives as long as the process: for tests and dry experiments.
    case memory
    /// `postgres://USER@HOST:PORT/DB` (or `postgresql://`).
    case postgres(PostgresLocation)

    /// The store for messages: a PostgreSQL URL without its password.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .memory: "memory:"
        case .postgres(let location): location.description
        }
    }

    /// Parses a `store:` value; `resolve` makes a relative path absolute. Throws a message naming
    /// the accepted forms.
    public static func parse(_ text: String, password: @autoclosure () throws(StoreError) -> String? = nil,
                             resolve: (String) -> String) throws(StoreError) -> StoreLocation {
        if PostgresLocation.claims(text) {
            var location = try PostgresLocation.parse(text)
            if location.password == nil { location.password = try password() }
            return .postgres(location)
        }
        if text.hasPrefix("sqlite:") {
            let p = String(text.dropFirst("sqlite:".count))
            guard !p.isEmpty else {
                throw StoreError(.unsupported, "`store: sqlite:` needs a path, e.g. `sqlite:feedsync.sqlite`")
            }
            return .sqlite(path: resolve(p))
        }
        if text == "memory:" { return .memory }
        throw StoreError(.unsupported, "unsupported store `\(redactURL(text))`: use `sqlite:PATH` or `postgres://USER@HOST:PORT/DATABASE`")
    }
}

/// Opens the store a location names: the one place that knows every kind of store.
public enum StoreFactory {
    /// Opens (creating and migrating when needed) the store for a run.
    public static func open(_ location: StoreLocation, busyTimeout: Double = SQLiteStore.defaultBusyTimeout,
                            connections: Int = 8) async throws(StoreError) -> any FeedStore {
        switch location {
        case .sqlite(let path): try SQLiteStore(path: path, busyTimeout: busyTimeout)
        case .memory: InMemoryStore()
        case .postgres(let pg): try await PostgresStore.open(pg, busyTimeout: busyTimeout, maxConnections: connections)
        }
    }

    /// Opens the store only to read it, creating, migrating and writing nothing (for tools that
    /// look at a store a run may be using). nil when there is no store there yet.
    public static func openReadOnly(_ location: StoreLocation,
                                    busyTimeout: Double = SQLiteStore.defaultBusyTimeout) async throws(StoreError) -> (any FeedStore)? {
        switch location {
        case .sqlite(let path): try SQLiteStore.openReadOnly(path: path, busyTimeout: busyTimeout)
        case .memory: nil
        case .postgres(let pg): try await PostgresStore.openReadOnly(pg, busyTimeout: busyTimeout)
        }
    }
}
