// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets for everything a feed's or a snapshot's bytes reach (docs/limits.md), built
// with `-sanitize=fuzzer,address` by `tools/fuzz`. A package of its own, so that the main
// package's build never carries the sanitizers.
let targets = ["FuzzICalendar", "FuzzSnapshot", "FuzzJSON", "FuzzCSV"]
let package = Package(
    name: "feedsync-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "feedsync", path: "..")],
    targets: [.target(name: "FuzzSupport", path: "Sources/FuzzSupport")] + targets.map { name in
        .executableTarget(
            name: name,
            dependencies: [
                "FuzzSupport",
                .product(name: "ICalendar", package: "feedsync"),
                .product(name: "ICalendarFeeds", package: "feedsync"),
                .product(name: "FeedModel", package: "feedsync"),
                .product(name: "Snapshots", package: "feedsync"),
                .product(name: "Records", package: "feedsync"),
            ],
            path: "Sources/\(name)")
    }
)
