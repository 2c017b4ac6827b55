public import Stores

/// Feeds the store holds that the configuration no longer names (renamed or removed from
/// `feedsync.yml`): their rows would stay live for ever. Runs report them; `feedsync prune`
/// marks their events removed and deletes their snapshots.
public enum Orphans {
    /// The orphans among `states`, by id: a feed not configured, or a child whose parent is not
    /// configured with children of that name, that still has a snapshot (a pruned feed has none).
    public static func find(_ config: SyncConfig, states: [String: FeedState]) -> [String] {
        find(config, ids: states.values.filter { $0.snapshotGeneration != nil }.map(\.id))
    }

    /// The orphans among `ids` (feeds the store has with a snapshot), sorted.
    public static func find(_ config: SyncConfig, ids: [String]) -> [String] {
        let configured = FeedIndex(config.feeds)
        return find(config, ids: ids, isConfigured: { configured.position(of: $0) != nil })
    }

    /// The same with the configured feeds' ids known by `isConfigured`.
    static func find(_ config: SyncConfig, ids: [String], isConfigured: (String) -> Bool) -> [String] {
        let childPrefixes = config.feeds.childIDPrefixes
        return ids.filter { id in
            !isConfigured(id) && !childPrefixes.contains(where: { id.hasPrefix($0) })
        }.sorted()
    }
}
