import FeedModel
import Foundation
import Logging
import Stores
import Synchronization

/// A feed to process, as a queue hands it out.
struct Job: Sendable {
    var feed: FeedConfig
    /// The lease on it, in a shared night.
    var lease: Int64?
    /// Set when the feed must fail without being processed (and why).
    var refusal: FeedError?
    /// What the store knows of the feed (nil: never seen), read when the job is handed out.
    var state: FeedState? = nil
}

/// Feeds whose states a queue reads from the store at once.
let stateBatch = 1_024

/// What a queue has for a process now.
enum QueueAnswer: Sendable {
    case jobs([Job])
    /// Nothing now, but the night is not over (other processes hold the rest).
    case wait
    /// The night is over.
    case complete
}

/// Where a process gets the night's feeds and where it commits them: the process's own list
/// (`LocalQueue`), or a night shared through the store by several processes (`SharedQueue`).
protocol NightQueue: Sendable {
    /// Up to about `limit` feeds (a shared queue may hand out more when feeds go fast).
    func next(_ limit: Int) async throws -> QueueAnswer
    /// A parent's children join the night, after everything already in it.
    func add(children: [FeedConfig], of parent: FeedOutcome) async throws
    /// Applies a batch in one store transaction; returns the feeds that were not applied because
    /// another process has taken them over.
    func commit(_ batch: [FeedOutcome], runID: Int64, at: Int64) async throws -> Set<String>
    /// Feeds handed out that this process will not process (it is stopping): given back.
    func release(_ jobs: [Job]) async
    /// The queue is no longer used (stops lease renewal).
    func finish() async
}

/// The feeds of one process's run, in order, children after their parents' turn.
final class LocalQueue: NightQueue {
    private struct State {
        var feeds: FeedList
        var next = 0
        /// The states of the feeds from `next` up to `until`, read a batch at a time.
        var states: [String: FeedState] = [:]
        var until = 0
    }
    private let state: Mutex<State>
    private let store: any FeedStore

    init(_ feeds: FeedList, store: any FeedStore) {
        state = Mutex(State(feeds: feeds))
        self.store = store
    }

    func next(_ limit: Int) async throws -> QueueAnswer {
        // One caller at a time (the run's collecting task): the lock is for Sendable.
        let (start, end, fetch): (Int, Int, [String]) = state.withLock { s in
            let end = min(s.feeds.count, s.next + max(1, limit))
            guard end > s.until else { return (s.next, end, []) }
            let upTo = min(s.feeds.count, max(end, s.until + stateBatch))
            defer { s.until = upTo }
            return (s.next, end, (s.until..<upTo).map { s.feeds.id(at: $0) })
        }
        if !fetch.isEmpty {
            let fresh = try await store.feedStates(ids: fetch)
            state.withLock { s in
                // Keep only what the feeds still to hand out need.
                var kept = fresh
                for i in start..<min(end, s.feeds.count) {
                    let id = s.feeds.id(at: i)
                    if kept[id] == nil, let st = s.states[id] { kept[id] = st }
                }
                s.states = kept
            }
        }
        let jobs: [Job] = state.withLock { s in
            defer { s.next = end }
            return s.feeds[start..<end].map { Job(feed: $0, state: s.states[$0.id]) }
        }
        return jobs.isEmpty ? .complete : .jobs(jobs)
    }

    func add(children: [FeedConfig], of parent: FeedOutcome) async throws {
        state.withLock { $0.feeds.append(contentsOf: children) }
    }

    func commit(_ batch: [FeedOutcome], runID: Int64, at: Int64) async throws -> Set<String> {
        try await store.apply(batch.map(\.update), runID: runID, at: at)
        return []
    }

    func release(_ jobs: [Job]) async {}

    func finish() async {}
}

/// What a shared night keeps of a done feed: its report entry and phase times.
struct NightOutcome: Codable, Sendable {
    var report: FeedReport
    var phases: PhaseTimes
}

/// One process's share of a night that several processes work on through the store: feeds
/// claimed in small batches with leases, leases renewed while they are held, and each batch
/// committed only for the feeds whose lease still holds.
final class SharedQueue: NightQueue {
    /// A feed claimed this many times (its processes died or lost it each time) fails.
    static let maxAttempts = 3

    let store: any SharedNightStore
    let runID: Int64
    let owner: String
    let leaseSeconds: Int
    /// The configured feeds, to find a claimed one by id.
    private let configured: FeedIndex
    private let logger: Logger
    private struct State {
        /// Leases held: feed → token.
        var held: [String: Int64] = [:]
        /// Claims grow while feeds go fast (fewer round trips), shrink when they go slow.
        var claimSize = 0
        var lastClaim: ContinuousClock.Instant?
        var claims = 0
    }
    private let state = Mutex(State())
    private let renewal = Mutex<Task<Void, Never>?>(nil)

    /// Whether done feeds' report entries are stored for the run (a worker's are; the run keeps
    /// its own).
    let recordsOutcomes: Bool
    /// The process's stop request (only a test's stall point waits on it).
    let stop: StopRequest?

    init(store: any SharedNightStore, runID: Int64, owner: String, leaseSeconds: Int, config: SyncConfig, logger: Logger,
         recordsOutcomes: Bool = true, stop: StopRequest? = nil) {
        self.recordsOutcomes = recordsOutcomes
        self.stop = stop
        self.store = store
        self.runID = runID
        self.owner = owner
        self.leaseSeconds = leaseSeconds
        self.logger = logger
        configured = FeedIndex(config.feeds)
        let interval = Double(leaseSeconds) / 3
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(interval))
                guard let self, !Task.isCancelled else { return }
                await self.renewAll()
            }
        }
        renewal.withLock { $0 = task }
    }

    private func renewAll() async {
        let leases = state.withLock { s in s.held.map { (feedID: $0.key, token: $0.value) } }
        do {
            try await store.renew(runID: runID, leases: leases, leaseSeconds: leaseSeconds)
        } catch {
            // The next renewal tries again; a lease that runs out is taken over and fenced off.
            logger.warning("cannot renew leases", metadata: ["night.run_id": "\(runID)", "error": "\(error)"])
        }
    }

    func next(_ limit: Int) async throws -> QueueAnswer {
        let clock = ContinuousClock()
        let size: Int = state.withLock { s in
            let floor = max(1, limit)
            if s.claimSize == 0 { s.claimSize = floor }
            if let last = s.lastClaim {
                let gap = clock.now - last
                if gap < .milliseconds(500) { s.claimSize = min(1_024, s.claimSize * 2) }
                else if gap > .seconds(2) { s.claimSize = max(floor, s.claimSize / 2) }
            }
            s.lastClaim = clock.now
            return max(floor, s.claimSize)
        }
        switch try await store.claim(runID: runID, owner: owner, limit: size, leaseSeconds: leaseSeconds) {
        case .wait: return .wait
        case .complete: return .complete
        case .feeds(let entries):
            let claims = state.withLock { s in
                for e in entries { s.held[e.feedID] = e.token }
                s.claims += 1
                return s.claims
            }
            CrashPoints.hit(named: "claim-\(claims)")
            await CrashPoints.stall(named: "claim-\(claims)", until: stop)
            var jobs = entries.map(job)
            let states = try await store.feedStates(ids: jobs.map(\.feed.id))
            for i in jobs.indices { jobs[i].state = states[jobs[i].feed.id] }
            return .jobs(jobs)
        }
    }

    /// The feed of a claimed entry, from this process's configuration (a child from its parent's).
    private func job(_ e: NightEntry) -> Job {
        var feed: FeedConfig
        var refusal: FeedError? = nil
        if let parentID = e.parentID {
            let prefix = parentID + "/"
            if let parent = configured.position(of: parentID).map({ configured.feeds[$0] }), let spec = parent.children, e.feedID.hasPrefix(prefix + spec.name + "/"),
               let child = ChildFeeds.rebuild(spec, parent: parent, key: String(e.feedID.dropFirst(prefix.count + spec.name.count + 1)),
                                              values: e.childValues) {
                feed = child
            } else {
                feed = FeedConfig(id: e.feedID, url: "")
                feed.parent = parentID
                refusal = FeedError(.worker, "this process cannot rebuild the child feed from its parent `\(parentID)` (is its configuration the run's?)")
            }
        } else if let i = configured.position(of: e.feedID) {
            feed = configured.feeds[i]
        } else {
            feed = FeedConfig(id: e.feedID, url: "")
            refusal = FeedError(.worker, "the feed is not in this process's configuration (is it the run's?)")
        }
        if refusal == nil, e.attempts > Self.maxAttempts {
            let last = e.previousOwner.map { " (the last: \($0))" } ?? ""
            refusal = FeedError(.worker, "given up after \(Self.maxAttempts) attempts: the processes that claimed it stopped before finishing it\(last)")
        }
        return Job(feed: feed, lease: e.token, refusal: refusal)
    }

    func add(children: [FeedConfig], of parent: FeedOutcome) async throws {
        guard let token = parent.lease, !children.isEmpty else { return }
        _ = try await store.addChildren(runID: runID, parentID: parent.update.feedID, token: token,
                                        children: children.map { ($0.id, $0.childValues) })
    }

    func commit(_ batch: [FeedOutcome], runID: Int64, at: Int64) async throws -> Set<String> {
        let encoder = JSONEncoder()
        var completions: [NightCompletion] = []
        completions.reserveCapacity(batch.count)
        for o in batch {
            guard let token = o.lease else { continue }
            let outcome = !recordsOutcomes ? nil
                : (try? encoder.encode(NightOutcome(report: o.report, phases: o.phases))).map { Array($0) } ?? Array("{}".utf8)
            completions.append(NightCompletion(feedID: o.update.feedID, token: token, worker: owner, outcome: outcome))
        }
        let lost = try await store.apply(batch.map(\.update), completing: completions, runID: runID, at: at)
        state.withLock { s in for o in batch { s.held[o.update.feedID] = nil } }
        for id in lost.sorted() {
            logger.warning("feed taken over by another process: this process's work on it is not applied",
                           metadata: ["feed.id": "\(id)", "night.run_id": "\(runID)"])
        }
        return lost
    }

    func release(_ jobs: [Job]) async {
        let leases = jobs.compactMap { j in j.lease.map { (feedID: j.feed.id, token: $0) } }
        guard !leases.isEmpty else { return }
        state.withLock { s in for l in leases { s.held[l.feedID] = nil } }
        do {
            try await store.release(runID: runID, leases: leases)
        } catch {
            // They expire after lease_seconds and are taken over then.
            logger.warning("cannot give back leases", metadata: ["night.run_id": "\(runID)", "error": "\(error)"])
        }
    }

    func finish() async {
        let task = renewal.withLock { t in defer { t = nil }; return t }
        task?.cancel()
        await task?.value
    }
}
