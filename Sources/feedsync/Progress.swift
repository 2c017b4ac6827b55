import Foundation
import Synchronization
import SyncEngine
import FeedModel
#if canImport(Glibc)
import Glibc
#endif

/// The live progress line on a terminal (stderr): feeds done of the configured ones (children
/// counted as they come), changed, failed, records per second, elapsed time and an estimate of
/// what is left; redrawn at most 10 times a second, erased before any other line is written and
/// at the end. Presentation only: the run knows nothing of it.
final class ProgressLine: Sendable {
    private struct State {
        var done = 0, configuredDone = 0, changed = 0, failed = 0, records = 0
        var lastDraw: ContinuousClock.Instant?
        var shown = false
    }
    private let state = Mutex(State())
    private let configured: Int
    private let start = ContinuousClock.now

    init(configured: Int) { self.configured = configured }

    /// On when stderr is a terminal (or `force`), never with `quiet`.
    static func wanted(force: Bool, quiet: Bool) -> Bool {
        !quiet && (force || isatty(STDERR_FILENO) == 1)
    }

    /// Counts a feed and redraws when the last draw is at least 100 ms old.
    func count(_ feed: FeedReport) {
        let line: String? = state.withLock { s in
            s.done += 1
            if feed.parent == nil { s.configuredDone += 1 }
            if feed.status == .changed { s.changed += 1 }
            if feed.status == .failed { s.failed += 1 }
            s.records += feed.records ?? 0
            let now = ContinuousClock.now
            if let last = s.lastDraw, now - last < .milliseconds(100) { return nil }
            s.lastDraw = now
            s.shown = true
            return text(s, now: now)
        }
        if let line { write("\r\u{1B}[K" + line) }
    }

    /// Writes a line of the run's own above the progress line.
    func above(_ write: () -> Void) {
        let shown = state.withLock { s in s.shown }
        if shown { self.write("\r\u{1B}[K") }
        write()
        let line: String? = state.withLock { s in s.shown ? text(s, now: ContinuousClock.now) : nil }
        if let line { self.write(line) }
    }

    /// Erases the line for good.
    func finish() {
        let shown = state.withLock { s in defer { s.shown = false }; return s.shown }
        if shown { write("\r\u{1B}[K") }
    }

    private func text(_ s: State, now: ContinuousClock.Instant) -> String {
        let elapsed = (now - start).inSeconds
        var t = "feeds \(s.done)"
        if s.configuredDone < configured || s.done == s.configuredDone { t += "/\(max(configured, s.configuredDone))" }
        t += ", \(s.changed) changed, \(s.failed) failed, \(Int(Double(s.records) / max(elapsed, 0.001))) records/s, \(Self.clock(elapsed)) elapsed"
        if s.configuredDone > 0 && s.configuredDone < configured {
            t += ", ETA \(Self.clock(elapsed / Double(s.configuredDone) * Double(configured - s.configuredDone)))"
        }
        return t
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    private func write(_ text: String) {
        try? FileHandle.standardError.write(contentsOf: Data(text.utf8))
    }
}
