import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// For tests only: `FEEDSYNC_CRASH_AT=POINT` kills the process (SIGKILL, as a power cut would)
/// when a run reaches that point of its commit protocol, so a test can check that the next run
/// repairs everything (docs/snapshot-format.md, *Commit protocol*). Points, in order:
/// `snapshot-written` (a feed's new generation is written, not yet durable), `snapshots-durable`
/// (the batch's generations are durable, the store not yet committed), `store-committed` (the
/// store points at the new generations, the old ones not yet deleted), `old-retired` (the batch
/// is done); and in a shared night, `claim-N`: just after the process's Nth claim of feeds, while
/// it holds their leases. Unset, it costs one comparison per point.
enum CrashPoints {
    static let armed: String? = ProcessInfo.processInfo.environment["FEEDSYNC_CRASH_AT"]

    @inline(__always)
    static func hit(_ point: StaticString) {
        guard let armed, armed == point.description else { return }
        kill(getpid(), SIGKILL)
    }

    /// A point named at run time (`claim-3`: after a shared night's third claim).
    static func hit(named point: String) {
        guard let armed, armed == point else { return }
        kill(getpid(), SIGKILL)
    }

    static let stallArmed: String? = ProcessInfo.processInfo.environment["FEEDSYNC_STALL_AT"]

    /// For tests only: `FEEDSYNC_STALL_AT=claim-N` holds the process just after its Nth claim of a
    /// shared night, its leases held, until it is asked to stop (at most 60 s), so that a test
    /// signals a worker at a moment it chose rather than racing a night of two seconds.
    static func stall(named point: String, until stop: StopRequest?) async {
        guard let stallArmed, stallArmed == point else { return }
        let clock = ContinuousClock()
        let end = clock.now + .seconds(60)
        while clock.now < end, stop?.isRequested != true {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
