/// Where the store is: the `store:` setting of feedsync.yml.
public enum StoreLocation: Sendable, Equatable, CustomStringConvertible {
    /// `sqlite:PATH` (a path relative to the config's folder is made absolute by the config loader).
    case sqlite(path: String)
    /// `memory:` — a store that lives as long as the process: for tests and dry experiments.
    case memory

    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .memory: "memory:"
        }
    }

    /// Parses a `store:` value; `resolve` makes a relative path absolute. Throws a message naming
    /// the accepted forms.
    public static func parse(_ text: String, resolve: (String) -> String) throws(StoreError) -> StoreLocation {
        if text.hasPrefix("sqlite:") {
            let p = String(text.dropFirst("sqlite:".count))
            guard !p.isEmpty else {
                throw StoreError(.unsupported, "`store: sqlite:` needs a path, e.g. `sqlite:feedsync.sqlite`")
            }
            return .sqlite(path: resolve(p))
        }
        if text == "memory:" { return .memory }
        throw StoreError(.unsupported, "unsupported store `\(text)`: use `sqlite:PATH`")
    }
}

/// Opens the store a location names: the one place that knows every kind of store.
public enum StoreFactory {
    /// Opens (creating and migrating when needed) the store for a run.
    public static func open(_ location: StoreLocation, busyTimeout: Double = SQLiteStore.defaultBusyTimeout) throws(StoreError) -> any FeedStore {
        switch location {
        case .sqlite(let path): try SQLiteStore(path: path, busyTimeout: busyTimeout)
        case .memory: InMemoryStore()
        }
    }

    /// Opens the store only to read it, creating, migrating and writing nothing (for tools that
    /// look at a store a run may be using). nil when there is no store there yet.
    public static func openReadOnly(_ location: StoreLocation,
                                    busyTimeout: Double = SQLiteStore.defaultBusyTimeout) throws(StoreError) -> (any FeedStore)? {
        switch location {
        case .sqlite(let path): try SQLiteStore.openReadOnly(path: path, busyTimeout: busyTimeout)
        case .memory: nil
        }
    }
}
