public import FeedModel
public import Stores

/// One feed's health, as `feedsync status` says it (field names are its JSON's).
public struct FeedHealth: Sendable, Codable, Equatable {
    public enum Verdict: String, Sendable, Codable {
        /// Synced within `stale_after_days`, and the last run did not fail it.
        case healthy
        /// Its last success is older than `stale_after_days`, or it never synced.
        case stale
        /// The last run that reached it failed it.
        case failing
    }

    public var id: String
    /// For a child feed: its parent.
    public var parent: String?
    public var verdict: Verdict
    /// Why that verdict, in words.
    public var why: String
    public var lastSuccess: String?
    /// Days since the last success.
    public var ageDays: Double?
    public var lastStatus: String?
    public var lastError: String?
    public var snapshotGeneration: UInt64?
    /// Live (not removed) rows in the store.
    public var records: Int

    enum CodingKeys: String, CodingKey {
        case id, parent, verdict, why, records
        case lastSuccess = "last_success"
        case ageDays = "age_days"
        case lastStatus = "last_status"
        case lastError = "last_error"
        case snapshotGeneration = "snapshot_generation"
    }
}

/// The verdicts, decided from what the store knows (no I/O: the caller reads the store).
public enum HealthCheck {
    /// Each configured feed, then the children the store knows of each parent, by id.
    public static func assess(_ config: SyncConfig, states: [String: FeedState], counts: [String: Int],
                              now: Int64) -> [FeedHealth] {
        var out: [FeedHealth] = []
        for feed in config.feeds {
            out.append(assess(id: feed.id, parent: nil, state: states[feed.id], records: counts[feed.id] ?? 0,
                              now: now, staleAfterDays: config.staleAfterDays))
            guard let prefix = feed.childIDPrefix else { continue }
            for id in states.keys.filter({ $0.hasPrefix(prefix) }).sorted() {
                out.append(assess(id: id, parent: feed.id, state: states[id], records: counts[id] ?? 0,
                                  now: now, staleAfterDays: config.staleAfterDays))
            }
        }
        return out
    }

    static func assess(id: String, parent: String?, state: FeedState?, records: Int, now: Int64,
                       staleAfterDays: Int) -> FeedHealth {
        let age = state?.lastSuccessAt.map { Double(now - $0) / 86_400 }
        let ageText = age.map { days in days < 1 ? "\(Int((days * 24).rounded())) h ago" : "\(Int(days.rounded(.down))) days ago" }
        var verdict = FeedHealth.Verdict.healthy
        var why: String
        if state?.lastStatus == .failed {
            verdict = .failing
            why = "the last run failed it: \(state?.lastError ?? "no message")"
                + (ageText.map { "; last success \($0)" } ?? "; it never synced")
        } else if let age, let ageText {
            if age > Double(staleAfterDays) {
                verdict = .stale
                why = "last success \(ageText), more than stale_after_days (\(staleAfterDays))"
            } else {
                why = "synced \(ageText)"
            }
        } else {
            verdict = .stale
            why = "never synced"
        }
        return FeedHealth(id: id, parent: parent, verdict: verdict, why: why,
                          lastSuccess: state?.lastSuccessAt.map(ISOTime.format), ageDays: age.map { ($0 * 100).rounded() / 100 },
                          lastStatus: state?.lastStatus?.rawValue, lastError: state?.lastError,
                          snapshotGeneration: state?.snapshotGeneration, records: records)
    }
}
