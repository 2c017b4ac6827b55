import Snapshots
import Stores

/// Finds the snapshot a command-line argument names: a path, or a feed id resolved through the
/// configuration's snapshot folder and the store's current generation for that feed.
package enum SnapshotLocator {
    /// An argument is a path when it contains `/` or ends in `.fsnap`; otherwise it is a feed id.
    package static func isPath(_ argument: String) -> Bool {
        argument.contains("/") || argument.hasSuffix(".fsnap")
    }

    package struct Located: Sendable, Equatable {
        package var path: String
        /// The store's current generation for the feed (nil when the store names none).
        package var storeGeneration: UInt64?
        /// Something the user should know about how the file was chosen.
        package var note: String?
        /// The snapshot's bytes when they are not in a file (a row of the store's table), with the
        /// feed and generation they must hold.
        package var bytes: [UInt8]?
        package var identity: StoredSnapshot?

        package init(path: String, storeGeneration: UInt64?, note: String?, bytes: [UInt8]? = nil,
                     identity: StoredSnapshot? = nil) {
            self.path = path
            self.storeGeneration = storeGeneration
            self.note = note
            self.bytes = bytes
            self.identity = identity
        }
    }

    package enum Failure: Error, Sendable, CustomStringConvertible {
        case unknownFeed(feedID: String, config: String)
        case noSnapshot(feedID: String, folder: String)

        package var description: String {
            switch self {
            case .unknownFeed(let id, let config): "unknown feed id \(id) (not in \(config))"
            case .noSnapshot(let id, let folder): "feed \(id) has no snapshot in \(folder) (never synced?)"
            }
        }
    }

    /// `states` is nil when there is no store yet. Without a store generation the newest file of
    /// the feed on disk is used, with a note.
    package static func locate(feedID: String, configuredFeeds: [String], configPath: String, folder: String,
                              states: [String: FeedState]?) throws -> Located {
        guard configuredFeeds.contains(feedID) else { throw Failure.unknownFeed(feedID: feedID, config: configPath) }
        let dir = SnapshotDirectory(path: folder)
        if let g = states?[feedID]?.snapshotGeneration {
            return Located(path: dir.path(feedID: feedID, generation: g), storeGeneration: g, note: nil)
        }
        let onDisk = try dir.files().filter { $0.feedID == feedID }
        guard let newest = onDisk.last else { throw Failure.noSnapshot(feedID: feedID, folder: folder) }
        return Located(path: newest.path, storeGeneration: nil,
                       note: "the store has no current generation for feed \(feedID); showing the newest file on disk")
    }
}

extension SnapshotInspection {
    /// Loads a located snapshot. With `checkName` (a snapshot found through its feed id) the file
    /// must hold the feed and generation its name says, else `.feedMismatch`.
    package static func load(_ located: SnapshotLocator.Located, now: Int64, checkName: Bool) throws(SnapshotError) -> SnapshotInspection {
        if let bytes = located.bytes {
            let inspection = try load(bytes: bytes, path: located.path, now: now, storeGeneration: located.storeGeneration)
            if let id = located.identity {
                try inspection.header.checkIdentity(feedID: id.feedID, generation: id.generation, path: located.path)
            }
            return inspection
        }
        let inspection = try load(path: located.path, now: now, storeGeneration: located.storeGeneration)
        let name = located.path.split(separator: "/").last.map(String.init) ?? located.path
        if checkName, let (feed, generation) = SnapshotDirectory.parseFileName(name) {
            try inspection.header.checkIdentity(feedID: feed, generation: generation, path: located.path)
        }
        return inspection
    }
}
