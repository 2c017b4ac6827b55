import Foundation
public import FeedModel

/// A snapshot folder serves one store. Its `.feedsync-store` file records the identity of the
/// store whose snapshots it holds (the store's `store_info` id) and, for messages, where that
/// store is: two configurations pointed at one folder (or a folder reused for a new database)
/// would otherwise each trust and overwrite the other's snapshots — the generations of one feed
/// id interleave, and each run retires the other's files.
public enum FolderOwner {
    public static let fileName = ".feedsync-store"

    /// What the folder says of its owner: nil when it records none (a new folder, or one written
    /// before feedsync recorded owners).
    public static func owner(of folder: String) -> (id: String, store: String)? {
        let path = (folder as NSString).appendingPathComponent(fileName)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        var id: String?, store = ""
        for line in text.split(separator: "\n") {
            if line.hasPrefix("id ") { id = String(line.dropFirst(3)) }
            if line.hasPrefix("store ") { store = String(line.dropFirst(6)) }
        }
        return id.map { ($0, store) }
    }

    /// Refuses a folder that records another store; records this one in a folder that records
    /// none (unless `write` is false: a dry run writes nothing). A folder whose store was made
    /// anew at the same place (the database deleted to start over) is taken over, with the
    /// warning returned: its old snapshots belong to no store any more.
    @discardableResult
    public static func claim(_ folder: String, storeID: String, store: String, write: Bool) throws(SyncError) -> String? {
        if let owner = owner(of: folder) {
            if owner.id != storeID && owner.store == store {
                if write { try record(folder, storeID: storeID, store: store) }
                return "the store \(store) was created anew (its snapshot folder \(folder) recorded an earlier one there): the folder is this store's now, and every feed syncs as a first sync"
            }
            guard owner.id == storeID else {
                throw SyncError(.snapshots, """
                    the snapshot folder \(folder) holds the snapshots of another store (\(owner.store.isEmpty ? "id \(owner.id)" : owner.store)), \
                    not of \(store): each configuration needs a snapshot folder of its own (set `snapshots:`); \
                    if that store is gone for good, remove \((folder as NSString).appendingPathComponent(fileName)) to give the folder to this one
                    """)
            }
            return nil
        }
        if write { try record(folder, storeID: storeID, store: store) }
        return nil
    }

    static func record(_ folder: String, storeID: String, store: String) throws(SyncError) {
        let path = (folder as NSString).appendingPathComponent(fileName)
        let text = "id \(storeID)\nstore \(store)\n"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw SyncError(.snapshots, "cannot record the store in \(path)", cause: error)
        }
    }
}
