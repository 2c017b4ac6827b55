import Dispatch
import Foundation
import SyncEngine
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT for `run` and `worker`: the first asks the loop to stop (no new feed; the
/// ones in flight finish and commit; the report says what was done) and, after `grace` seconds,
/// ends the process; a second one ends it at once. Either way what is stored stays consistent
/// (the commit protocol), and the exit status is 128 + the first signal (130, 143).
enum Signals {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func install(_ stop: StopRequest, grace: Double, say: @escaping @Sendable (String) -> Void) {
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                let name = number == SIGTERM ? "SIGTERM" : "SIGINT"
                if let first = stop.signalNumber {
                    // Stopping now: stderr at once, without waiting on stdout (a reader that does
                    // not read could hold it); feed lines still in stdout's buffer are lost.
                    printErrorNow("feedsync: \(name) again: stopping now")
                    _exit(128 + first)
                }
                stop.request(signal: number)
                say("feedsync: \(name): starting no new feed; the feeds in flight finish and commit (at most \(Int(grace)) s; again to stop now)")
                DispatchQueue.global().asyncAfter(deadline: .now() + grace) {
                    printErrorNow("feedsync: the grace period of \(Int(grace)) s is over: stopping now")
                    _exit(128 + number)
                }
            }
            source.resume()
            sources.append(source)
        }
    }
}
