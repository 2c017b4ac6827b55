import Synchronization

/// A request to stop (SIGTERM, SIGINT): a run or worker starts no new feed, lets the feeds in
/// flight finish and commit, and reports what it did. Set from a signal handler, read by the loop.
public final class StopRequest: Sendable {
    private let signal = Mutex<Int32?>(nil)

    public init() {}

    /// Asks to stop; the first signal's number is kept (the exit status is 128 + it).
    public func request(signal number: Int32) {
        signal.withLock { if $0 == nil { $0 = number } }
    }

    public var isRequested: Bool { signal.withLock { $0 != nil } }
    public var signalNumber: Int32? { signal.withLock { $0 } }
}
