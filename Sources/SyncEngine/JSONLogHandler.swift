import Foundation
public import Logging
import JSONOutput
import FeedModel

/// `--log-format json`: one JSON object per line — `time` (ISO-8601 with milliseconds, UTC),
/// `level`, `message`, `label`, `source`, then the metadata as members (`feed.id`,
/// `feed.status`, …; a nested value as JSON). What the loggers are given is already redacted
/// (feed and store URLs), so the lines carry no secret either.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void

    /// `write` gets each line, newline included (default: stderr).
    public init(label: String, write: @escaping @Sendable (String) -> Void = { line in
        try? FileHandle.standardError.write(contentsOf: Data(line.utf8))
    }) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let own = event.metadata { all.merge(own) { $1 } }
        var members: [(String, JSONValue)] = [
            ("time", .string(Self.timestamp(Date()))),
            ("level", .string(event.level.rawValue)),
            ("message", .string(event.message.description)),
            ("label", .string(label)),
            ("source", .string(event.source)),
        ]
        for key in all.keys.sorted() where !["time", "level", "message", "label", "source"].contains(key) {
            members.append((key, Self.json(all[key]!)))
        }
        write(JSONValue.object(members).renderCompact() + "\n")
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let s): return .string(s)
        case .stringConvertible(let c): return .string(c.description)
        case .array(let a): return .array(a.map(json))
        case .dictionary(let d): return .object(d.keys.sorted().map { ($0, json(d[$0]!)) })
        }
    }

    static func timestamp(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = ms / 1000
        let millis = ms % 1000
        let base = ISOTime.format(seconds)
        return String(base.dropLast()) + String(format: ".%03dZ", millis)
    }
}
