public import FeedModel

/// Validators kept from the last successful fetch of a feed.
public struct Validators: Sendable, Equatable {
    public var etag: String?
    public var lastModified: String?
    public init(etag: String? = nil, lastModified: String? = nil) {
        self.etag = etag
        self.lastModified = lastModified
    }
    public static let none = Validators()
}

/// What a fetch brought back.
public enum FetchResult: Sendable {
    /// The server said 304 Not Modified to our validators.
    case notModified
    /// The body, and the validators to send next time.
    case body([UInt8], Validators)
}

/// Fetch settings shared by every source.
public struct FetchLimits: Sendable {
    /// Whole-request time limit.
    public var timeoutSeconds: Double
    /// Largest body accepted, in bytes.
    public var maxBodyBytes: Int
    public var userAgent: String

    public init(timeoutSeconds: Double = 60, maxBodyBytes: Int = 50 * 1024 * 1024,
                userAgent: String = "feedsync/0.1") {
        self.timeoutSeconds = timeoutSeconds
        self.maxBodyBytes = maxBodyBytes
        self.userAgent = userAgent
    }
}

/// A fetch failure: which feed location, and why.
public struct FetchError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable { case notFound, io, http, tooLarge, timeout, badURL }
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}

/// Where feeds come from.
public protocol FeedSource: Sendable {
    /// Fetches `url` (already resolved: `file:///abs/path` or `http(s)://…`). `validators` are the
    /// ones kept from last time; pass `.none` to force a full read.
    func fetch(_ url: String, validators: Validators, limits: FetchLimits) async throws(FetchError) -> FetchResult
}
