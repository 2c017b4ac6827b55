/// The code of an error of kind `Kind` (`ErrorCode<StoreError>`, `ErrorCode<FeedError>`…): an
/// extensible set of named values, as swift-nio's and postgres-nio's error codes are, declared by
/// each error type in an extension (`static let write = Self("write")`).
public struct ErrorCode<Kind>: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public init(_ name: String) { self.name = name }
    public var description: String { name }
}

/// An error with a code to act on, a message for people (what went wrong and where) and the
/// underlying error: the shape of every error feedsync reports.
public protocol CodedError: Error, Sendable, CustomStringConvertible {
    var code: ErrorCode<Self> { get }
    var message: String { get }
    var cause: (any Error & Sendable)? { get }
}

extension CodedError {
    /// The message, and the cause after a colon when there is one.
    public var description: String {
        guard let cause else { return message }
        return "\(message): \(cause)"
    }
}
