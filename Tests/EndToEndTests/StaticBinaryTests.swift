import Foundation
import Testing

/// `tools/release`'s binary travels: copied alone into an empty folder, it needs no Swift toolchain.
@Suite("The static binary, end to end")
struct StaticBinaryTests {
    @Test("dist/feedsync from a copy in an empty folder: no toolchain runpath, no Swift library, a night synced")
    func copied() throws {
        let dist = MetricsTests.root.appendingPathComponent("dist/feedsync")
        guard FileManager.default.isExecutableFile(atPath: dist.path) else {
            Issue.record("no \(dist.path): run tools/release --debug (tools/test does)")
            return
        }
        let h = try Harness("static")
        defer { h.cleanUp() }
        let bin = h.dir.appendingPathComponent("bin/feedsync")
        try FileManager.default.createDirectory(at: bin.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Copied by cp, not by this process: a write descriptor of ours, inherited by a process
        // another test forks meanwhile, would make exec fail with ETXTBSY (exit 126).
        #expect(try h.run(["/bin/cp", dist.path, bin.path], direct: true).status == 0)

        let ldd = try h.run(["/usr/bin/ldd", bin.path], direct: true)
        #expect(ldd.status == 0)
        #expect(!ldd.stdout.contains("/opt/swift") && !ldd.stdout.contains("libswift") && !ldd.stdout.contains("Foundation")
                && !ldd.stdout.contains("not found"), "\(ldd.stdout)")
        let needed = ldd.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
            .filter { $0.hasPrefix("lib") }.map { $0.components(separatedBy: ".so").first! }
        #expect(Set(needed).isSubset(of: ["libxxhash", "libsqlite3", "libz", "libm", "libstdc++", "libgcc_s", "libc"]), "\(needed)")
        let dynamic = try h.run(["/usr/bin/readelf", "-d", bin.path], direct: true).stdout
        let runpaths = dynamic.split(separator: "\n").filter { $0.contains("RUNPATH") || $0.contains("(RPATH)") }
        #expect(runpaths.allSatisfy { !$0.contains("/") }, "a runpath into a folder: \(runpaths)")

        // Run with nothing of the toolchain's environment.
        let env = ["PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": ""]
        let version = try h.run(["/usr/bin/env", "-i", "PATH=/usr/bin:/bin", bin.path, "--version"], direct: true)
        #expect(version.status == 0 && version.stdout.contains("time zone rules"), "\(version.stderr)")
        try h.write("feeds/a.ics", NightlyScenarioTests.airbnb().text())
        try h.write("feedsync.yml", "feeds:\n  - id: a\n    url: feeds/a.ics\n")
        let night = try h.run(["/usr/bin/env", "-i", "PATH=/usr/bin:/bin", bin.path, "run", "--now", "2026-11-01T02:00:00Z"],
                              direct: true, environment: env)
        #expect(night.status == 0 && night.stdout.contains("a: changed, full (first sync): +5 added"), "\(night.stdout) \(night.stderr)")
        let again = try h.run(["/usr/bin/env", "-i", "PATH=/usr/bin:/bin", bin.path, "status", "--now", "2026-11-01T03:00:00Z"], direct: true)
        #expect(again.status == 0, "\(again.stdout)")
    }
}
