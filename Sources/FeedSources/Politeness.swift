import Foundation

/// Per-host politeness shared by the whole run: at most `concurrency` requests in flight to one
/// host, and requests started at no more than `rate` per second (a token bucket of `burst` tokens).
/// One `HostGate` actor per host (the URL's host name: `127.0.0.1` and `localhost` are two hosts).
package actor HostGates {
    private var gates: [String: HostGate] = [:]
    let concurrency: Int
    let rate: Double
    let sleep: @Sendable (Duration) async -> Void

    package init(concurrency: Int, rate: Double, sleep: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) }) {
        self.concurrency = max(1, concurrency)
        self.rate = rate
        self.sleep = sleep
    }

    package func gate(for host: String) -> HostGate {
        let key = host.lowercased()
        if let g = gates[key] { return g }
        let g = HostGate(concurrency: concurrency, rate: rate)
        gates[key] = g
        return g
    }

    /// Runs `body` holding one of the host's slots, once the host's rate allows a new request.
    nonisolated public func withPermit<T: Sendable, E: Error>(host: String, _ body: () async throws(E) -> T) async throws(E) -> T {
        let gate = await gate(for: host)
        await gate.acquire()
        let wait = await gate.reserveStart()
        if wait > .zero { await sleep(wait) }
        do {
            let value = try await body()
            await gate.release()
            return value
        } catch {
            await gate.release()
            throw error
        }
    }
}

package actor HostGate {
    let concurrency: Int
    /// Seconds between request starts (0: no rate limit).
    let interval: Double
    private var inFlight = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// Generic cell rate algorithm: the theoretical arrival time of the next request.
    private var nextStart: ContinuousClock.Instant
    private let clock = ContinuousClock()
    /// Feeds of this host in a row that got no response at all (connection errors, timeouts).
    private var unreachableStreak = 0

    /// Records how a feed's fetch ended: `reached` when any HTTP response came back.
    func record(reached: Bool) {
        unreachableStreak = reached ? 0 : unreachableStreak + 1
    }

    /// Feeds in a row that could not reach the host.
    var unreachable: Int { unreachableStreak }

    init(concurrency: Int, rate: Double) {
        self.concurrency = concurrency
        self.interval = rate > 0 ? 1 / rate : 0
        self.nextStart = clock.now
    }

    func acquire() async {
        if inFlight < concurrency {
            inFlight += 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            inFlight -= 1
        } else {
            waiters.removeFirst().resume()  // the slot passes to the next waiter
        }
    }

    /// Reserves the next start time; returns how long the caller must wait before starting.
    /// Requests are spaced by `1/rate` (burst of one), so any window of `w` seconds sees at most
    /// `rate × w + 1` starts.
    func reserveStart() -> Duration {
        guard interval > 0 else { return .zero }
        let now = clock.now
        let start = max(now, nextStart)
        nextStart = start + .seconds(interval)
        return start - now
    }
}
