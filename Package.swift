// swift-tools-version: 6.1
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "feedsync",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "feedsync", targets: ["feedsync"]),
        .library(name: "SyncEngine", targets: ["SyncEngine"]),
        // For the micro-benchmarks in Benchmarks/, a separate package that imports these modules.
        .library(name: "FeedHash", targets: ["FeedHash"]),
        .library(name: "ICalendar", targets: ["ICalendar"]),
        .library(name: "FeedModel", targets: ["FeedModel"]),
        .library(name: "ICalendarFeeds", targets: ["ICalendarFeeds"]),
        // For the fuzz targets in Fuzz/, a package of its own that imports it.
        .library(name: "Records", targets: ["Records"]),
        .library(name: "Snapshots", targets: ["Snapshots"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C libraries from the system, found through pkg-config.
        .systemLibrary(
            name: "CXXHash", pkgConfig: "libxxhash",
            providers: [.apt(["libxxhash-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),

        .target(name: "JSONOutput", swiftSettings: upcoming),
        .target(name: "ICalendar", dependencies: ["JSONOutput"], swiftSettings: upcoming),
        .target(name: "FeedHash", dependencies: ["CXXHash"], swiftSettings: upcoming),
        // Domain types only: records, keys, feed states, the FeedFormat protocol.
        .target(name: "FeedModel", dependencies: ["FeedHash"], swiftSettings: upcoming),
        // The iCalendar glue: ICalendarFormat (records, canonical form, fingerprint).
        .target(name: "ICalendarFeeds", dependencies: ["ICalendar", "FeedModel", "FeedHash", "CLineScan"], swiftSettings: upcoming),
        // The body fingerprint's line scan (SSE2): the lines that may be volatile, without a call per line.
        .target(name: "CLineScan"),
        // JSON and CSV record feeds: readers, mappings, canonical JSON; RecordsFormat.
        .target(name: "Records", dependencies: ["FeedModel", "FeedHash", "JSONOutput"], swiftSettings: upcoming),
        // The formats feedsync knows (FormatRegistry.standard).
        .target(name: "FeedFormats", dependencies: ["FeedModel", "ICalendarFeeds", "Records"], swiftSettings: upcoming),
        .target(name: "CSysShims"),
        .target(name: "Snapshots", dependencies: ["FeedHash", "CZlib", "CSysShims"], swiftSettings: upcoming),
        .target(
            name: "SnapshotTools",
            dependencies: ["Snapshots", "FeedModel", "FeedHash", "FeedFormats", "Stores", "JSONOutput"],
            swiftSettings: upcoming),
        .target(
            name: "FeedSources",
            dependencies: [
                "FeedModel", "CZlib", "CSysShims",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: upcoming),
        .target(
            name: "Stores",
            dependencies: [
                "FeedModel", "Snapshots", "Records", "JSONOutput",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: upcoming),
        .target(
            name: "SyncEngine",
            dependencies: [
                "ICalendar", "ICalendarFeeds", "Records", "FeedFormats", "FeedModel", "Snapshots", "FeedSources", "Stores", "JSONOutput",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ], swiftSettings: upcoming),
        .executableTarget(
            name: "feedsync",
            dependencies: [
                "SyncEngine", "Snapshots", "SnapshotTools", "Stores", "FeedModel", "ICalendarFeeds", "FeedFormats", "JSONOutput",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: upcoming),

        .testTarget(name: "ICalendarTests", dependencies: ["ICalendar", "JSONOutput", "TestSupport"], swiftSettings: upcoming),
        .testTarget(name: "ICalendarFeedsTests", dependencies: ["ICalendarFeeds", "FeedFormats", "FeedModel", "FeedHash", "ICalendar"], swiftSettings: upcoming),
        .testTarget(name: "RecordsTests", dependencies: ["Records", "FeedModel", "FeedHash", "JSONOutput", "TestSupport"], swiftSettings: upcoming),
        .testTarget(name: "SnapshotsTests", dependencies: ["Snapshots", "FeedHash", "Stores", "PostgresTestSupport"],
                    resources: [.copy("Fixtures")], swiftSettings: upcoming),
        .testTarget(name: "SnapshotToolsTests", dependencies: ["SnapshotTools", "Snapshots", "FeedHash", "Stores", "FeedModel", "ICalendarFeeds", "FeedFormats", "JSONOutput"],
                    swiftSettings: upcoming),
        .testTarget(name: "FeedSourcesTests", dependencies: ["FeedSources", "FeedModel", "ICalendarFeeds"], swiftSettings: upcoming),
        // Starts a throwaway PostgreSQL server (initdb + pg_ctl) for the tests that need one.
        .target(name: "PostgresTestSupport", path: "Tests/PostgresTestSupport", swiftSettings: upcoming),
        // The randomised tests' deterministic generator.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: upcoming),
        .testTarget(name: "StoresTests", dependencies: ["Stores", "FeedModel", "PostgresTestSupport", .product(name: "GRDB", package: "GRDB.swift")], swiftSettings: upcoming),
        .testTarget(name: "SyncEngineTests", dependencies: ["SyncEngine", "FeedModel", "ICalendarFeeds", "Records", "FeedFormats", "Snapshots", "Stores", "FeedSources", .product(name: "Logging", package: "swift-log")], swiftSettings: upcoming),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["feedsync", "Snapshots", "PostgresTestSupport", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            exclude: ["feed_server.py", "race_api.py"],
            swiftSettings: upcoming),
    ]
)
