public import FeedModel

/// What every process of a shared night needs to process its feeds as the run would: the run's
/// options, and the identity of the configuration it read.
public struct NightSettings: Sendable, Equatable {
    public var runID: Int64
    public var mode: SyncMode
    /// The instant that divides past from future (`--now` of the run).
    public var now: Int64
    /// The run's `--incremental-days`, nil for the configuration's.
    public var incrementalDays: Int?
    public var allowMassRemoval: Bool
    /// `SyncConfig.digest` of the run's configuration.
    public var configDigest: String
    /// `running` until the run that opened the night has written its end.
    public var status: RunStatus

    public init(runID: Int64, mode: SyncMode, now: Int64, incrementalDays: Int?, allowMassRemoval: Bool,
                configDigest: String, status: RunStatus = .running) {
        self.runID = runID
        self.mode = mode
        self.now = now
        self.incrementalDays = incrementalDays
        self.allowMassRemoval = allowMassRemoval
        self.configDigest = configDigest
        self.status = status
    }
}

/// A feed of a shared night claimed by this process: until the lease's token is used to complete
/// it, or the lease expires and another process takes it over.
public struct NightEntry: Sendable, Equatable {
    public var feedID: String
    /// For a child feed: its parent, and the values its URL template was filled with.
    public var parentID: String?
    public var childValues: [String: String]
    /// The lease: completing the feed needs it, and a take-over gives the feed a new one.
    public var token: Int64
    /// How many times the feed has been claimed this night (1 unless a process lost it).
    public var attempts: Int
    /// Who held it before (`host:pid`), when it was taken over.
    public var previousOwner: String?

    public init(feedID: String, parentID: String? = nil, childValues: [String: String] = [:], token: Int64,
                attempts: Int = 1, previousOwner: String? = nil) {
        self.feedID = feedID
        self.parentID = parentID
        self.childValues = childValues
        self.token = token
        self.attempts = attempts
        self.previousOwner = previousOwner
    }
}

/// The answer to a claim.
public enum NightClaim: Sendable, Equatable {
    /// Feeds for this process.
    case feeds([NightEntry])
    /// None claimable now: the others hold the rest (or their children may still come).
    case wait
    /// Every feed of the night is done (or the night was closed).
    case complete
}

/// A feed of the night, done: its lease and what the run's report says of it (JSON; nil when the
/// process is the run itself, which keeps its own).
public struct NightCompletion: Sendable {
    public var feedID: String
    public var token: Int64
    public var worker: String
    public var outcome: [UInt8]?

    public init(feedID: String, token: Int64, worker: String, outcome: [UInt8]?) {
        self.feedID = feedID
        self.token = token
        self.worker = worker
        self.outcome = outcome
    }
}

/// A store through which several processes share one night's feeds (docs/store.md, "Many
/// workers"): the night's feed table, leases taken with `FOR UPDATE SKIP LOCKED`, and completion
/// fenced by the lease in the transaction that applies the feed's changes.
public protocol SharedNightStore: FeedStore {
    /// Makes run `settings.runID` a shared night of `feeds` (in claim order): visible to workers
    /// once this returns. Older nights still marked running are closed as failed (their run is
    /// gone: the caller holds the run lock).
    func openNight(_ settings: NightSettings, feeds: [String]) async throws(StoreError)
    /// The highest run id so far (0 for none).
    func lastRunID() async throws(StoreError) -> Int64
    /// The first shared night with an id above `after` that is still running, or whose id is above
    /// `orAbove` (a night opened since the caller looked: so that a night shorter than a poll is
    /// not missed); nil for none.
    func nextNight(after: Int64, orAbove: Int64) async throws(StoreError) -> NightSettings?
    /// Claims up to `limit` feeds of the night for `owner`: pending ones first, in order, then
    /// leases that expired.
    func claim(runID: Int64, owner: String, limit: Int, leaseSeconds: Int) async throws(StoreError) -> NightClaim
    /// Adds the children of a parent whose lease `token` still holds, as pending feeds any
    /// process may claim; a child already in the night is left as it is. Returns how many were new.
    func addChildren(runID: Int64, parentID: String, token: Int64,
                     children: [(id: String, values: [String: String])]) async throws(StoreError) -> Int
    /// Extends these leases (the ones still held: feed and token) by `leaseSeconds` from now.
    func renew(runID: Int64, leases: [(feedID: String, token: Int64)], leaseSeconds: Int) async throws(StoreError)
    /// Applies the batch in one transaction, only for the feeds whose lease still holds, and marks
    /// them done with their outcome. Returns the feeds not applied (their lease was lost: another
    /// process has them, and nothing of this process's work on them is written).
    func apply(_ batch: [FeedUpdate], completing: [NightCompletion], runID: Int64,
               at: Int64) async throws(StoreError) -> Set<String>
    /// Every recorded outcome of the night (JSON, as completed: the workers' feeds), in claim
    /// order: `body` gets the feed, the process that did it, and the outcome.
    func nightOutcomes(runID: Int64, _ body: (String, String, [UInt8]) throws -> Void) async throws(StoreError)
    /// Counts of the night's feeds: all, done, leased.
    func nightProgress(runID: Int64) async throws(StoreError) -> (total: Int, done: Int, leased: Int)
    /// Gives back leases this process will not use (a stopping process's claimed feeds it has
    /// not started): they are pending again, for the others at once.
    func release(runID: Int64, leases: [(feedID: String, token: Int64)]) async throws(StoreError)
}
