import Foundation

/// The SQLite files this target's tests make live in one folder of the test process's own, removed
/// when the process exits, so a test run leaves nothing behind in the temporary directory.
enum TestFiles {
    static let folder: String = {
        let dir = NSTemporaryDirectory() + "feedsync-stores-tests-\(getpid())/"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        atexit { TestFiles.removeFolder() }
        return dir
    }()

    static func removeFolder() { try? FileManager.default.removeItem(atPath: folder) }

    /// A new database path in the folder: `prefix-UUID.sqlite`.
    static func sqlite(_ prefix: String) -> String { folder + "\(prefix)-\(UUID().uuidString).sqlite" }
}
