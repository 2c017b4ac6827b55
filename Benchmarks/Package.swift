// swift-tools-version: 6.1
import PackageDescription

// Micro-benchmarks for feedsync's hot paths, run with ordo-one/benchmark (`tools/bench-micro`).
// A package of its own so that the main package's build never builds the benchmark tooling.
let package = Package(
    name: "feedsync-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "feedsync", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "FeedsyncBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "FeedHash", package: "feedsync"),
                .product(name: "ICalendar", package: "feedsync"),
                .product(name: "FeedModel", package: "feedsync"),
                .product(name: "ICalendarFeeds", package: "feedsync"),
                .product(name: "Snapshots", package: "feedsync"),
                .product(name: "SyncEngine", package: "feedsync"),
            ],
            path: "FeedsyncBenchmarks",
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")],
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]),
    ]
)
