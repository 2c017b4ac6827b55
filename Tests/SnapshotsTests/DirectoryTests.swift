import Foundation
import Testing
import FeedHash
@testable import Snapshots

@Suite struct DirectoryTests {
    @Test func fileNamesAndParsing() {
        #expect(SnapshotDirectory.fileName(feedID: "feed-a", generation: 7) == "feed-a.7.fsnap")
        #expect(SnapshotDirectory(path: "/x/y").path(feedID: "f", generation: 0) == "/x/y/f.0.fsnap")
        #expect(SnapshotDirectory(path: "/x/y/").path(feedID: "f", generation: 0) == "/x/y/f.0.fsnap")
        #expect(SnapshotDirectory.parseFileName("a.b.12.fsnap")! == ("a.b", 12))
        #expect(SnapshotDirectory.parseFileName("x.18446744073709551615.fsnap")! == ("x", .max))
        for foreign in ["a.fsnap", "a.01.fsnap", "a.-1.fsnap", "a.1.fsnap.bak", ".1.fsnap", "a b.1.fsnap",
                        "a.18446744073709551616.fsnap", "README.md", ".tmp-a-0123456789abcdef", "a.1.FSNAP"] {
            #expect(SnapshotDirectory.parseFileName(foreign) == nil, "\(foreign)")
        }
        #expect(SnapshotDirectory.parseTempName(".tmp-a-b-0123456789abcdef") == "a-b")
        #expect(SnapshotDirectory.parseTempName(".tmp-a-0123456789ABCDEF") == nil)
        #expect(SnapshotDirectory.parseTempName(".tmp-a-0123") == nil)
        #expect(SnapshotDirectory.parseTempName(".tmp--0123456789abcdef") == nil)
        #expect(SnapshotDirectory.isValidFeedID("Feed_1.x-y"))
        #expect(!SnapshotDirectory.isValidFeedID("a/b"))
        #expect(!SnapshotDirectory.isValidFeedID(""))
    }

    @Test("a child feed's id is escaped in file names, one name per id, and parsed back")
    func escapedNames() {
        let id = "race-1/participants/A|1 é"
        let name = SnapshotDirectory.fileName(feedID: id, generation: 3)
        #expect(name == "race-1~2Fparticipants~2FA~7C1~20~C3~A9.3.fsnap")
        #expect(SnapshotDirectory.parseFileName(name)! == (id, 3))
        #expect(SnapshotDirectory.parseTempName(".tmp-race-1~2Fx-0123456789abcdef") == "race-1/x")
        // Not canonical: a plain byte escaped, lower-case hex, a cut escape.
        for foreign in ["a~41.1.fsnap", "a~2f.1.fsnap", "a~2.1.fsnap", "~.1.fsnap"] {
            #expect(SnapshotDirectory.parseFileName(foreign) == nil, "\(foreign)")
        }
        #expect(SnapshotDirectory.isStorableFeedID(id) && !SnapshotDirectory.isStorableFeedID(String(repeating: "/", count: 70)))
    }

    @Test func atomicWriteCreatesFolderAndNamedFile() throws {
        let tmp = try TempFolder()
        defer { tmp.cleanup() }
        let dir = SnapshotDirectory(path: tmp.path + "/nested/snapshots")
        let bytes = try SnapshotCodec.encode(header: header("feed-a", generation: 3), records: [record("a")])
        let written = try dir.write(bytes, feedID: "feed-a", generation: 3)
        #expect(written == tmp.path + "/nested/snapshots/feed-a.3.fsnap")
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: written))) == bytes)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["feed-a.3.fsnap"])  // no temp left
        let snapshot = try dir.read(feedID: "feed-a", generation: 3)
        #expect(snapshot.records == [record("a")])

        // Overwriting the same generation replaces it atomically.
        let newer = try SnapshotCodec.encode(header: header("feed-a", generation: 3), records: [record("b")])
        try dir.write(newer, feedID: "feed-a", generation: 3)
        #expect(try dir.read(feedID: "feed-a", generation: 3).records == [record("b")])
        // A `/` in an id (a child feed's) is escaped: the file stays in the folder.
        let escaped = try dir.write(bytes, feedID: "../evil", generation: 1)
        #expect(escaped == tmp.path + "/nested/snapshots/..~2Fevil.1.fsnap")
        #expect(errorCode { try dir.write(bytes, feedID: "", generation: 1) } == .malformed)
        #expect(errorCode { try dir.write(bytes, feedID: "a\u{0}b", generation: 1) } == .malformed)
    }

    @Test func filesListsSnapshotsAndIgnoresForeignNames() throws {
        let tmp = try TempFolder()
        defer { tmp.cleanup() }
        let dir = SnapshotDirectory(path: tmp.path)
        #expect(try SnapshotDirectory(path: tmp.path + "/missing").files().isEmpty)
        for (feed, gen) in [("b", UInt64(2)), ("a", 10), ("a", 9), ("a.b", 1)] {
            try dir.write(try SnapshotCodec.encode(header: header(feed, generation: gen), records: []),
                          feedID: feed, generation: gen)
        }
        try tmp.touch("notes.txt")
        try tmp.touch("a.x.fsnap")
        try tmp.touch(".tmp-a-0123456789abcdef")
        let listed = try dir.files()
        #expect(listed.map(\.feedID) == ["a", "a", "a.b", "b"])
        #expect(listed.map(\.generation) == [9, 10, 1, 2])
        #expect(listed.map(\.path) == ["a.9.fsnap", "a.10.fsnap", "a.b.1.fsnap", "b.2.fsnap"].map { tmp.path + "/" + $0 })
    }

    /// Leftovers by feed: `a` is not a prefix of `a-b`, unrelated names stay, temp files go.
    @Test func leftoversKeepOnlyTheGivenGeneration() async throws {
        let tmp = try TempFolder()
        defer { tmp.cleanup() }
        let dir = SnapshotDirectory(path: tmp.path)
        for gen: UInt64 in [1, 2, 3] {
            try dir.write(try SnapshotCodec.encode(header: header("a", generation: gen), records: []), feedID: "a", generation: gen)
        }
        try dir.write(try SnapshotCodec.encode(header: header("a-b", generation: 1), records: []), feedID: "a-b", generation: 1)
        try tmp.touch(".tmp-a-00000000000000aa")
        try tmp.touch(".tmp-a-b-00000000000000bb")
        try tmp.touch("unrelated.bin")

        let removed = try await dir.removeLeftovers(current: ["a": 3])
        #expect(removed.map { "\($0.feedID)@\($0.generation)" } == ["a@1", "a@2"])
        #expect(try tmp.names() == ["a-b.1.fsnap", "a.3.fsnap", "unrelated.bin"])
        #expect(try dir.files().map { "\($0.feedID)@\($0.generation)" } == ["a@3", "a-b@1"])

        _ = try await dir.removeLeftovers(current: ["a-b": Optional<UInt64>.none])
        #expect(try tmp.names() == ["a.3.fsnap", "unrelated.bin"])
        #expect(try await SnapshotDirectory(path: tmp.path + "/missing").removeLeftovers(current: ["a": nil]).isEmpty)
    }

    @Test func removeTemporaryFilesDeletesOnlyLeftovers() throws {
        let tmp = try TempFolder()
        defer { tmp.cleanup() }
        let dir = SnapshotDirectory(path: tmp.path)
        try dir.write(try SnapshotCodec.encode(header: header("a"), records: []), feedID: "a", generation: 1)
        try tmp.touch(".tmp-a-0123456789abcdef")
        try tmp.touch(".tmp-feed.x-fedcba9876543210")
        try tmp.touch(".tmp-notes")
        try tmp.touch("other.txt")
        try dir.removeTemporaryFiles()
        #expect(try tmp.names() == [".tmp-notes", "a.1.fsnap", "other.txt"])
        try dir.removeTemporaryFiles()  // idempotent
    }

    @Test func snapshotOfAnotherFeedIsAFeedMismatch() throws {
        let tmp = try TempFolder()
        defer { tmp.cleanup() }
        let dir = SnapshotDirectory(path: tmp.path)
        let other = try SnapshotCodec.encode(header: header("feed-b", generation: 5), records: [record("x")])
        let path = try dir.write(other, feedID: "feed-a", generation: 5)
        let error = #expect(throws: SnapshotError.self) { try dir.read(feedID: "feed-a", generation: 5) }
        #expect(error?.code == .feedMismatch)
        #expect(error?.path == path)
        #expect(try dir.read(feedID: "feed-a", generation: 5, expectedFeedID: false).header.feedID == "feed-b")

        let wrongGeneration = try SnapshotCodec.encode(header: header("feed-a", generation: 4), records: [])
        try dir.write(wrongGeneration, feedID: "feed-a", generation: 6)
        #expect(errorCode { _ = try dir.read(feedID: "feed-a", generation: 6) } == .feedMismatch)
    }

    @Test func readErrorsCarryPathAndErrno() throws {
        let tmp = try TempFolder()
        defer { tmp.cleanup() }
        let dir = SnapshotDirectory(path: tmp.path)
        let missing = #expect(throws: SnapshotError.self) { try dir.read(feedID: "nope", generation: 1) }
        #expect(missing?.code == .io)
        #expect(missing?.path == tmp.path + "/nope.1.fsnap")
        #expect(missing?.message.contains("No such file") == true)

        try tmp.touch("empty.1.fsnap", [])
        let empty = #expect(throws: SnapshotError.self) { try dir.read(feedID: "empty", generation: 1) }
        #expect(empty?.code == .empty)
        #expect(empty?.path == tmp.path + "/empty.1.fsnap")

        try tmp.touch("blocker", [1])
        let blocked = SnapshotDirectory(path: tmp.path + "/blocker/sub")
        #expect(errorCode { try blocked.write([1], feedID: "a", generation: 1) } == .io)
    }
}
