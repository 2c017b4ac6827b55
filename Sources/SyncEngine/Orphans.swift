public import Stores

/// Feeds the store holds that the configuration no longer names (renamed or removed from
/// `feedsync.yml`): their rows would stay live for ever. Runs report them; `feedsync prune`
/// marks their events removed and deletes their snapshots.
public enum Orphans {
    /// The orphans among `states`, by id: a feed not configured, or a child whose parent is not
    /// configured with children of that name, that still has a snapshot (a pruned feed has none).
    public static func find(_ config: SyncConfig, states: [String: FeedState]) -> [String] {
        let configured = Set(config.feeds.map(\.id))
        let childPrefixes = config.feeds.compactMap(\.childIDPrefix)
        return states.values.compactMap { state -> String? in
            guard state.snapshotGeneration != nil, !configured.contains(state.id),
                  !childPrefixes.contains(where: { state.id.hasPrefix($0) }) else { return nil }
            return state.id
        }.sorted()
    }
}
