public import FeedModel
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Nights shared by several processes: `night_feeds` holds each feed of a run's night with its
/// lease (`lease_token`, `lease_owner`, `lease_until`) and, once done, the process that did it and
/// its outcome. Claims take rows with `FOR UPDATE SKIP LOCKED`, so processes never wait for each
/// other's claims; a feed is completed in the transaction that applies its changes, and only
/// while the lease that was claimed still holds (a fencing token: a take-over gives a new one).
extension PostgresStore: SharedNightStore {
    /// Children come after every configured feed in claim order.
    static let childPositions: Int64 = 1 << 40

    public func openNight(_ settings: NightSettings, feeds: [String]) async throws(StoreError) {
        try await wrap(.write, "open the night of run \(settings.runID)") {
            try await client.withTransaction(logger: logger) { c in
                let run = settings.runID
                // A shared night whose run is gone (the caller holds the run lock) is over.
                try await c.query("""
                    UPDATE runs SET status = 'failed', finished_at = now()
                    WHERE status = 'running' AND shared AND id <> \(run)
                    """, logger: logger)
                try await c.query("DELETE FROM night_feeds WHERE run_id <> \(run)", logger: logger)
                try await c.query("DELETE FROM night_outcomes WHERE run_id <> \(run)", logger: logger)
                var ids = PostgresColumn(.text, capacity: feeds.count)
                for f in feeds { ids.append(f) }
                var q = PostgresQuery(unsafeSQL: """
                    INSERT INTO night_feeds (run_id, feed_id, position)
                    SELECT $1, f, o - 1 FROM unnest($2::text[]) WITH ORDINALITY AS t(f, o)
                    ON CONFLICT DO NOTHING
                    """)
                q.binds.append(run)
                q.binds.append(ids)
                try await c.query(q, logger: logger)
                try await c.query("""
                    UPDATE runs SET shared = true, incremental_days = \(settings.incrementalDays),
                      allow_mass_removal = \(settings.allowMassRemoval), config_digest = \(settings.configDigest)
                    WHERE id = \(run)
                    """, logger: logger)
            }
            // The night's run id is new to the planner's statistics: without them it takes the
            // night for one row and joins the claims, renewals and completions with a nested loop
            // over the whole night (0.5 s per claim at 10,000 feeds).
            try await client.query("ANALYZE night_feeds, night_outcomes", logger: logger)
        }
    }

    public func lastRunID() async throws(StoreError) -> Int64 {
        try await wrap(.read, "read the last run") {
            for try await id in try await client.query("SELECT coalesce(max(id), 0)::bigint FROM runs", logger: logger)
                .decode(Int64.self) { return id }
            return 0
        }
    }

    public func nextNight(after: Int64, orAbove: Int64) async throws(StoreError) -> NightSettings? {
        try await wrap(.read, "look for a night to join") {
            let rows = try await client.query("""
                SELECT id, mode, extract(epoch FROM now)::bigint, incremental_days, allow_mass_removal,
                  coalesce(config_digest, ''), status
                FROM runs WHERE shared AND id > \(after) AND (status = 'running' OR id > \(orAbove))
                ORDER BY id LIMIT 1
                """, logger: logger)
            for try await (id, mode, now, days, allow, digest, status) in rows.decode(
                (Int64, String, Int64, Int?, Bool, String, String).self) {
                return NightSettings(runID: id, mode: SyncMode(rawValue: mode) ?? .incremental, now: now,
                                     incrementalDays: days, allowMassRemoval: allow, configDigest: digest,
                                     status: RunStatus(rawValue: status) ?? .failed)
            }
            return nil
        }
    }

    public func claim(runID: Int64, owner: String, limit: Int, leaseSeconds: Int) async throws(StoreError) -> NightClaim {
        try await wrap(.write, "claim feeds of the night of run \(runID)") {
            let rows = try await client.query("""
                WITH c AS (
                  SELECT ctid AS row, feed_id, lease_owner AS old_owner FROM night_feeds
                  WHERE run_id = \(runID) AND (state = 'pending' OR (state = 'leased' AND lease_until < now()))
                    AND EXISTS (SELECT 1 FROM runs WHERE id = \(runID) AND status = 'running')
                  ORDER BY position LIMIT \(limit) FOR UPDATE SKIP LOCKED
                )
                UPDATE night_feeds n SET state = 'leased', lease_token = nextval('night_lease_tokens'),
                  lease_owner = \(owner), lease_until = now() + make_interval(secs => \(Double(leaseSeconds))),
                  attempts = n.attempts + 1
                FROM c WHERE n.ctid = c.row
                RETURNING n.feed_id, n.parent_id, n.child_values::text, n.lease_token, n.attempts, c.old_owner, n.position
                """, logger: logger)
            var entries: [(Int64, NightEntry)] = []
            for try await (feed, parent, values, token, attempts, old, position) in rows.decode(
                (String, String?, String?, Int64, Int, String?, Int64).self) {
                var childValues: [String: String] = [:]
                if let values, let object = try? JSONSerialization.jsonObject(with: Data(values.utf8)) as? [String: String] {
                    childValues = object
                }
                entries.append((position, NightEntry(feedID: feed, parentID: parent, childValues: childValues,
                                                     token: token, attempts: attempts,
                                                     previousOwner: attempts > 1 ? old : nil)))
            }
            if !entries.isEmpty { return .feeds(entries.sorted { $0.0 < $1.0 }.map(\.1)) }
            // Nothing claimable: others hold the rest, or the night is over.
            let state = try await client.query("""
                SELECT (SELECT status FROM runs WHERE id = \(runID)),
                  EXISTS (SELECT 1 FROM night_feeds WHERE run_id = \(runID) AND state <> 'done')
                """, logger: logger)
            for try await (status, open) in state.decode((String?, Bool).self) {
                return status == RunStatus.running.rawValue && open ? .wait : .complete
            }
            return .complete
        }
    }

    public func addChildren(runID: Int64, parentID: String, token: Int64,
                            children: [(id: String, values: [String: String])]) async throws(StoreError) -> Int {
        guard !children.isEmpty else { return 0 }
        return try await wrap(.write, "add the children of feed \(parentID) to the night") {
            var ids = PostgresColumn(.text, capacity: children.count), values = PostgresColumn(.text, capacity: children.count)
            for child in children {
                ids.append(child.id)
                let data = (try? JSONSerialization.data(withJSONObject: child.values, options: [.sortedKeys])) ?? Data("{}".utf8)
                values.append(jsonForPostgres(String(decoding: data, as: UTF8.self)))
            }
            var q = PostgresQuery(unsafeSQL: """
                INSERT INTO night_feeds (run_id, feed_id, position, parent_id, child_values)
                SELECT $1, c.id, $4 + nextval('night_child_positions'), $2, c.vals::jsonb
                FROM unnest($5::text[], $6::text[]) WITH ORDINALITY AS c(id, vals, ord)
                WHERE EXISTS (SELECT 1 FROM night_feeds p WHERE p.run_id = $1 AND p.feed_id = $2
                                AND p.state = 'leased' AND p.lease_token = $3)
                ORDER BY c.ord
                ON CONFLICT DO NOTHING
                RETURNING 1
                """)
            q.binds.append(runID)
            q.binds.append(parentID)
            q.binds.append(token)
            q.binds.append(Self.childPositions)
            q.binds.append(ids)
            q.binds.append(values)
            var added = 0
            for try await _ in try await client.query(q, logger: logger).decode(Int.self) { added += 1 }
            return added
        }
    }

    public func renew(runID: Int64, leases: [(feedID: String, token: Int64)], leaseSeconds: Int) async throws(StoreError) {
        guard !leases.isEmpty else { return }
        try await wrap(.write, "renew the leases of \(leases.count) feeds") {
            let (ids, tokens) = Self.columns(leases)
            // Rows locked by this process's own batch transaction are being completed: skipped,
            // not waited for (waiting on them in another order than the batch's is a deadlock).
            // Tokens are unique (one per claim of one row), so a row whose feed and token are
            // both among the held ones is held by this process. No join: a join with `unnest`
            // is planned from statistics that never know tonight's rows.
            var q = PostgresQuery(unsafeSQL: """
                WITH r AS (
                  SELECT ctid AS row FROM night_feeds
                  WHERE run_id = $1 AND feed_id = ANY($2::text[]) AND lease_token = ANY($3::int8[]) AND state = 'leased'
                  FOR UPDATE SKIP LOCKED
                )
                UPDATE night_feeds n SET lease_until = now() + make_interval(secs => $4)
                FROM r WHERE n.ctid = r.row
                """)
            q.binds.append(runID)
            q.binds.append(ids)
            q.binds.append(tokens)
            q.binds.append(Double(leaseSeconds))
            try await client.query(q, logger: logger)
        }
    }

    /// Leases as two bound arrays: feeds and tokens.
    static func columns(_ leases: [(feedID: String, token: Int64)]) -> (PostgresColumn, PostgresColumn) {
        var ids = PostgresColumn(.text, capacity: leases.count), tokens = PostgresColumn(.int8, capacity: leases.count)
        for l in leases {
            ids.append(l.feedID)
            tokens.append(l.token)
        }
        return (ids, tokens)
    }

    public func apply(_ batch: [FeedUpdate], completing: [NightCompletion], runID: Int64,
                      at: Int64) async throws(StoreError) -> Set<String> {
        try await apply(batch, fencedBy: completing, runID: runID, at: at)
    }

    /// Marks done the feeds whose lease still holds, records their outcomes; returns them.
    static func complete(_ completions: [NightCompletion], runID: Int64, on connection: PostgresConnection,
                         logger: Logger) async throws -> Set<String> {
        guard !completions.isEmpty else { return [] }
        let (ids, tokens) = columns(completions.map { ($0.feedID, $0.token) })
        // Tokens are unique (one per claim of one row): feed and token both among the batch's
        // means this process's lease on that feed still holds.
        var q = PostgresQuery(unsafeSQL: """
            UPDATE night_feeds SET state = 'done', lease_until = NULL, worker = $4
            WHERE run_id = $1 AND feed_id = ANY($2::text[]) AND lease_token = ANY($3::int8[]) AND state = 'leased'
            RETURNING feed_id
            """)
        q.binds.append(runID)
        q.binds.append(ids)
        q.binds.append(tokens)
        q.binds.append(completions.first?.worker ?? "")
        var held = Set<String>()
        for try await id in try await connection.query(q, logger: logger).decode(String.self) { held.insert(id) }
        var oIDs = PostgresColumn(.text), workers = PostgresColumn(.text), outcomes = PostgresColumn(.text)
        for c in completions where held.contains(c.feedID) {
            guard let outcome = c.outcome else { continue }
            oIDs.append(c.feedID)
            workers.append(c.worker)
            outcomes.append(jsonForPostgres(String(decoding: outcome, as: UTF8.self)))
        }
        guard oIDs.count > 0 else { return held }
        q = PostgresQuery(unsafeSQL: """
            INSERT INTO night_outcomes (run_id, feed_id, worker, outcome)
            SELECT $1, f, w, o::jsonb FROM unnest($2::text[], $3::text[], $4::text[]) AS t(f, w, o)
            ON CONFLICT (run_id, feed_id) DO UPDATE SET worker = excluded.worker, outcome = excluded.outcome
            """)
        q.binds.append(runID)
        q.binds.append(oIDs)
        q.binds.append(workers)
        q.binds.append(outcomes)
        try await connection.query(q, logger: logger)
        return held
    }

    public func nightOutcomes(runID: Int64, _ body: (String, String, [UInt8]) throws -> Void) async throws(StoreError) {
        try await wrap(.read, "read the outcomes of the night of run \(runID)") {
            let rows = try await client.query("""
                SELECT o.feed_id, o.worker, o.outcome::text FROM night_outcomes o
                JOIN night_feeds n ON n.run_id = o.run_id AND n.feed_id = o.feed_id
                WHERE o.run_id = \(runID) ORDER BY n.position
                """, logger: logger)
            for try await (feed, worker, outcome) in rows.decode((String, String, String?).self) {
                try body(feed, worker, Array((outcome ?? "{}").utf8))
            }
        }
    }

    public func nightProgress(runID: Int64) async throws(StoreError) -> (total: Int, done: Int, leased: Int) {
        try await wrap(.read, "read the progress of the night of run \(runID)") {
            for try await (total, done, leased) in try await client.query("""
                SELECT count(*)::bigint, (count(*) FILTER (WHERE state = 'done'))::bigint,
                  (count(*) FILTER (WHERE state = 'leased'))::bigint FROM night_feeds WHERE run_id = \(runID)
                """, logger: logger).decode((Int, Int, Int).self) {
                return (total, done, leased)
            }
            return (0, 0, 0)
        }
    }

    public func release(runID: Int64, leases: [(feedID: String, token: Int64)]) async throws(StoreError) {
        guard !leases.isEmpty else { return }
        try await wrap(.write, "give back the leases of \(leases.count) feeds") {
            let (ids, tokens) = Self.columns(leases)
            var q = PostgresQuery(unsafeSQL: """
                UPDATE night_feeds SET state = 'pending', lease_owner = NULL, lease_until = NULL, attempts = attempts - 1
                WHERE run_id = $1 AND feed_id = ANY($2::text[]) AND lease_token = ANY($3::int8[]) AND state = 'leased'
                """)
            q.binds.append(runID)
            q.binds.append(ids)
            q.binds.append(tokens)
            try await client.query(q, logger: logger)
        }
    }
}
