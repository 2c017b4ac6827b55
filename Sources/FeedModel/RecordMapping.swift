/// How a JSON or CSV feed becomes records (a feed's mapping settings, or a named one from the
/// config's `mappings:`). Plain data: the records formats read it.
public struct RecordMapping: Sendable, Equatable {
    /// JSON Pointer (RFC 6901) to the array of records; a `*` segment stands for every element of
    /// an array (`/*/participants`). Empty: the body itself is the array. Not used for CSV.
    public var records: String
    /// The field(s) identifying a record; dotted paths reach into objects (`user.user_id`).
    public var key: [String]
    /// Start and end fields (optional).
    public var start: String?
    public var end: String?
    /// `iso8601` (default), `unix`, `unix_ms`, or a pattern such as `%m/%d/%Y %H:%M`.
    public var timeFormat: String
    /// The field stored as the record's summary.
    public var summary: String?
    /// The fields kept (empty: all).
    public var fields: [String]
    /// Fields left out of the fingerprint and of record hashes (`last_modified`).
    public var volatile: [String]
    /// CSV only: the field separator (default `,`).
    public var delimiter: UInt8

    public init(records: String = "", key: [String], start: String? = nil, end: String? = nil,
                timeFormat: String = "iso8601", summary: String? = nil, fields: [String] = [],
                volatile: [String] = [], delimiter: UInt8 = UInt8(ascii: ",")) {
        self.records = records
        self.key = key
        self.start = start
        self.end = end
        self.timeFormat = timeFormat
        self.summary = summary
        self.fields = fields
        self.volatile = volatile
        self.delimiter = delimiter
    }
}
