import FeedHash

/// One event as the feed described it, as stored in a snapshot.
public struct SnapshotRecord: Sendable, Equatable {
    /// Record key (unique within a snapshot; records are ordered by its UTF-8 bytes).
    public var key: String
    /// XXH3-64 (seed 0) of `body`. The encoder refuses a record whose hash is anything else (2.x files
    /// do not store it); the decoder recomputes it from the body (2.x) or returns the stored one (1.x).
    public var hash: UInt64
    /// Start, Unix seconds UTC.
    public var start: Int64
    /// Last end, Unix seconds UTC; `nil` = never ends (unbounded recurring series).
    ///
    /// `Int64.max` means "never ends" (the on-disk sentinel in format 1.x), so `.some(Int64.max)` cannot
    /// be encoded.
    public var lastEnd: Int64?
    public var allDay: Bool
    /// Canonical record bytes (opaque to this module).
    public var body: [UInt8]

    public init(key: String, hash: UInt64, start: Int64, lastEnd: Int64?, allDay: Bool, body: [UInt8]) {
        self.key = key
        self.hash = hash
        self.start = start
        self.lastEnd = lastEnd
        self.allDay = allDay
        self.body = body
    }
}

/// The fixed metadata at the start of a snapshot file.
public struct SnapshotHeader: Sendable, Equatable {
    public var formatMajor: UInt16
    public var formatMinor: UInt16
    /// File flags; reserved, 0 in formats 1.0 and 2.0.
    public var flags: UInt32
    public var feedID: String
    public var generation: UInt64
    /// Unix seconds UTC.
    public var createdAt: Int64
    public var parserVersion: UInt32
    /// XXH3-128 of the raw feed body the records were parsed from.
    public var bodyFingerprint: Fingerprint128
    /// HTTP `ETag` of the fetched feed, if any.
    public var etag: String?
    /// HTTP `Last-Modified` of the fetched feed, if any.
    public var lastModified: String?
    /// Filled by the encoder.
    public var recordCount: UInt64
    /// Uncompressed payload size; filled by the encoder.
    public var rawPayloadBytes: UInt64
    /// Compressed payload size; filled by the encoder.
    public var compressedPayloadBytes: UInt64
    /// The feed format the records were parsed from (`ics`, …): the `format` header field of 2.1
    /// files, `ics` in files without it (1.x and 2.0 files hold iCalendar records only).
    public var feedFormat: String

    /// Creates a header; version is the current format, flags 0, counts and sizes 0 (the encoder fills them).
    public init(feedID: String, generation: UInt64, createdAt: Int64, parserVersion: UInt32,
                bodyFingerprint: Fingerprint128, etag: String?, lastModified: String?,
                feedFormat: String = SnapshotHeader.defaultFeedFormat) {
        self.formatMajor = SnapshotCodec.formatMajor
        self.formatMinor = SnapshotCodec.formatMinor
        self.flags = 0
        self.feedID = feedID
        self.generation = generation
        self.createdAt = createdAt
        self.parserVersion = parserVersion
        self.bodyFingerprint = bodyFingerprint
        self.etag = etag
        self.lastModified = lastModified
        self.recordCount = 0
        self.rawPayloadBytes = 0
        self.compressedPayloadBytes = 0
        self.feedFormat = feedFormat
    }

    /// The format of files without a `format` header field.
    public static let defaultFeedFormat = "ics"
}

/// A decoded snapshot: header plus records in ascending key order.
public struct Snapshot: Sendable, Equatable {
    public var header: SnapshotHeader
    public var records: [SnapshotRecord]

    public init(header: SnapshotHeader, records: [SnapshotRecord]) {
        self.header = header
        self.records = records
    }
}

/// Everything that can go wrong encoding, decoding, reading or writing a snapshot.
public struct SnapshotError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// Zero-length file.
        case empty
        /// The file ends before the structure it declares.
        case truncated
        /// Not a snapshot file (wrong magic bytes).
        case badMagic
        /// Unknown major format version.
        case unsupportedVersion
        /// The trailer checksum does not match the file's bytes.
        case checksumMismatch
        /// The zlib payload is corrupt or does not inflate to the declared size.
        case decompressionFailed
        /// A structurally invalid field (bad lengths, bad UTF-8, reserved bits set, invalid encoder input...).
        case malformed
        /// Records out of order or a duplicate key.
        case recordOrder
        /// The file belongs to another feed (or generation) than the one asked for.
        case feedMismatch
        /// A file-system call failed (message carries the errno text).
        case io

        /// A short human name: `checksum mismatch`, `truncated`, `bad magic`…
        public var label: String {
            switch self {
            case .empty: "empty"
            case .truncated: "truncated"
            case .badMagic: "bad magic"
            case .unsupportedVersion: "unsupported version"
            case .checksumMismatch: "checksum mismatch"
            case .decompressionFailed: "decompression failed"
            case .malformed: "malformed"
            case .recordOrder: "record order"
            case .feedMismatch: "feed mismatch"
            case .io: "I/O error"
            }
        }
    }

    public var code: Code
    public var message: String
    public var path: String?

    public init(_ code: Code, _ message: String, path: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
    }

    /// `<label>: <message>`, without repeating the label when the message already starts with it.
    public var reason: String {
        message.hasPrefix(code.label) ? message : "\(code.label): \(message)"
    }

    public var description: String {
        if let path { return "snapshot \(path): \(reason)" }
        return "snapshot: \(reason)"
    }

    public func with(path: String) -> SnapshotError {
        var copy = self
        if copy.path == nil { copy.path = path }
        return copy
    }
}
