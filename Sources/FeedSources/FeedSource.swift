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

/// A fetch's result with, for HTTP, what happened on the wire.
public struct Fetched: Sendable {
    public var result: FetchResult
    public var http: HTTPFacts?
    public init(_ result: FetchResult, http: HTTPFacts? = nil) {
        self.result = result
        self.http = http
    }
}

/// Per-feed HTTP facts for the report (`http` object of a feed, docs/report.md).
public struct HTTPFacts: Sendable, Equatable, Codable {
    /// Status of the last response (nil when no response came: connection error, timeout).
    public var status: Int?
    /// Body bytes received on the wire (compressed, if the server compressed), last attempt.
    public var bytesWire: Int = 0
    /// Body bytes after decompression, last attempt.
    public var bytesDecoded: Int = 0
    /// Requests sent, counting retries and redirect hops.
    public var attempts: Int = 0
    /// Time from the first request to the end, waits and retries included (host queueing excluded).
    public var ms: Double = 0
    /// Requests by the status of their response (`"200"`, `"503"`), `"none"` for a request that
    /// got no response (connection error, timeout): one count per attempt and redirect hop.
    public var responses: [String: Int] = [:]

    public init(status: Int? = nil, bytesWire: Int = 0, bytesDecoded: Int = 0, attempts: Int = 0, ms: Double = 0) {
        self.status = status
        self.bytesWire = bytesWire
        self.bytesDecoded = bytesDecoded
        self.attempts = attempts
        self.ms = ms
    }

    enum CodingKeys: String, CodingKey {
        case status, attempts, ms, responses
        case bytesWire = "bytes_wire"
        case bytesDecoded = "bytes_decoded"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        status = try c.decodeIfPresent(Int.self, forKey: .status)
        bytesWire = try c.decode(Int.self, forKey: .bytesWire)
        bytesDecoded = try c.decode(Int.self, forKey: .bytesDecoded)
        attempts = try c.decode(Int.self, forKey: .attempts)
        ms = try c.decode(Double.self, forKey: .ms)
        responses = try c.decodeIfPresent([String: Int].self, forKey: .responses) ?? [:]
    }
}

/// Fetch settings (`http:` in feedsync.yml; docs/http.md). Per-feed values may override
/// `timeoutSeconds`, `maxBodyBytes`, `retries` and `userAgent`; the others
/// are per run (they configure the shared client and the per-host limits).
public struct FetchLimits: Sendable, Equatable {
    /// Whole-request time limit of one attempt, body streaming included.
    public var timeoutSeconds: Double
    /// Time limit to open a connection (per run).
    public var connectTimeoutSeconds: Double
    /// Longest silence while waiting for response bytes.
    public var readTimeoutSeconds: Double
    /// Largest body accepted, in bytes, after decompression (and on the wire).
    public var maxBodyBytes: Int
    /// Retries after the first attempt (connection errors, timeouts, 429, 5xx).
    public var retries: Int
    /// Requests in flight at once to one host (per run).
    public var perHostConcurrency: Int
    /// Requests started per second to one host (per run).
    public var perHostRate: Double
    /// Base of the exponential backoff, in milliseconds (per run).
    public var backoffBaseMs: Int
    /// Longest wait before a retry; a longer `Retry-After` fails the feed (per run).
    public var maxRetryAfterSeconds: Double
    /// Redirects followed before the feed fails (per run).
    public var maxRedirects: Int
    /// Feeds of one host in a row that got no response (after their retries) before the host's
    /// remaining feeds fail at once without being tried (0: never) (per run).
    public var hostFailureLimit: Int
    public var userAgent: String

    public init(timeoutSeconds: Double = 60, connectTimeoutSeconds: Double = 10, readTimeoutSeconds: Double = 30,
                maxBodyBytes: Int = 50 * 1024 * 1024, retries: Int = 3, perHostConcurrency: Int = 4,
                perHostRate: Double = 5, backoffBaseMs: Int = 500, maxRetryAfterSeconds: Double = 60,
                maxRedirects: Int = 5, hostFailureLimit: Int = 3, userAgent: String = "feedsync/\(FeedsyncVersion.current)") {
        self.timeoutSeconds = timeoutSeconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.readTimeoutSeconds = readTimeoutSeconds
        self.maxBodyBytes = maxBodyBytes
        self.retries = retries
        self.perHostConcurrency = perHostConcurrency
        self.perHostRate = perHostRate
        self.backoffBaseMs = backoffBaseMs
        self.maxRetryAfterSeconds = maxRetryAfterSeconds
        self.maxRedirects = maxRedirects
        self.hostFailureLimit = hostFailureLimit
        self.userAgent = userAgent
    }
}

/// A fetch failure: which feed location, and why.
public struct FetchError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable { case notFound, io, http, tooLarge, timeout, badURL, wrongFormat, redirect, hostUnreachable }
    public var code: Code
    public var message: String
    /// For HTTP feeds: what happened on the wire before the failure.
    public var http: HTTPFacts?
    public init(_ code: Code, _ message: String, http: HTTPFacts? = nil) {
        self.code = code
        self.message = message
        self.http = http
    }
    public var description: String { message }
}

/// Where feeds come from.
public protocol FeedSource: Sendable {
    /// Fetches `url` (already resolved: `file:///abs/path` or `http(s)://…`). `validators` are the
    /// ones kept from last time; pass `.none` to force a full read. `format` is what the body must
    /// be: an HTTP source asks for it (`Accept`) and refuses a body that is not (`sniff`).
    func fetch(_ url: String, validators: Validators, limits: FetchLimits, format: any FeedFormat) async throws(FetchError) -> Fetched
}
