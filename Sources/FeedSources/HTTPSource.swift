import AsyncHTTPClient
public import FeedModel
import Foundation
public import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// Fetches `http(s)://` feeds with one shared `HTTPClient` for the whole run (connections reused),
/// the way production needs it (docs/http.md):
///
/// - conditional GET (`If-None-Match`/`If-Modified-Since`); 304 is `notModified`;
/// - `Accept-Encoding: gzip, deflate`, decoded here with a cap on the decoded size;
/// - a whole-request deadline per attempt (body streaming included), connect and idle-read timeouts;
/// - retries with exponential backoff and full jitter on connection errors, timeouts, 408, 429 and
///   5xx, honouring `Retry-After` up to `maxRetryAfterSeconds`;
/// - per-host politeness (concurrency and rate) shared by the run, redirect hops included;
/// - redirects followed up to `maxRedirects`; a loop fails the feed;
/// - a body that is not of the feed's format (`FeedFormat.sniff`) fails the feed, with its status,
///   content type and first bytes;
/// - every URL in a message is redacted.
public final class HTTPSource: FeedSource {
    private let client: HTTPClient
    private let gates: HostGates
    private let settings: FetchLimits
    private let sleep: @Sendable (Duration) async -> Void
    private let random: @Sendable () -> Double
    private let wallClock: @Sendable () -> Date
    private let logger: Logger

    /// `settings` gives the per-run values (connect and read timeouts, per-host limits, backoff);
    /// `sleep`, `random` and `wallClock` are injectable for tests. Requests, redirects, retries and
    /// backoff are logged at debug level to `logger` (default: nowhere).
    public init(settings: FetchLimits = FetchLimits(),
                logger: Logger = Logger(label: "feedsync.http", factory: { _ in SwiftLogNoOpLogHandler() }),
                sleep: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) },
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
                wallClock: @escaping @Sendable () -> Date = { Date() }) {
        var config = HTTPClient.Configuration()
        config.timeout = .init(connect: .milliseconds(Int64(settings.connectTimeoutSeconds * 1000)),
                               read: .milliseconds(Int64(settings.readTimeoutSeconds * 1000)))
        config.redirectConfiguration = .disallow  // followed here, so that every hop is gated and counted
        config.decompression = .disabled          // decoded here, to count wire bytes and cap decoded ones
        config.connectionPool = .init(idleTimeout: .seconds(60),
                                      concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, settings.perHostConcurrency))
        // A connection that cannot be made fails its request at once: the retries are this type's
        // (each counted, spaced by the backoff, and fewer for a refused connection), not the pool's
        // silent ones, which kept a request to a closed port waiting out the whole connect timeout.
        config.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        gates = HostGates(concurrency: settings.perHostConcurrency, rate: settings.perHostRate, sleep: sleep)
        self.settings = settings
        self.sleep = sleep
        self.random = random
        self.wallClock = wallClock
        self.logger = logger
    }

    /// Must be called once the run is done with the source.
    public func shutdown() async {
        try? await client.shutdown()
    }

    enum Step: Sendable {
        case done(FetchResult)
        case redirect(String, status: Int)
        /// Retried up to the feed's `retries`, or `atMost` when the failure is not worth more.
        case retry(FetchError, retryAfter: Double?, atMost: Int? = nil)
        case fail(FetchError)
    }

    /// What one attempt saw, shared with the deadline watcher.
    struct Progress: Sendable {
        var status: Int?
        var wire = 0
        var decoded = 0
    }

    public func fetch(_ url: String, validators: Validators, limits: FetchLimits, format: any FeedFormat) async throws(FetchError) -> Fetched {
        let clock = ContinuousClock()
        let t0 = clock.now
        var facts = HTTPFacts()
        func failed(_ e: FetchError) -> FetchError {
            var e = e
            facts.ms = Self.ms(clock.now - t0)
            e.http = facts
            return e
        }
        // A host that did not answer the last `hostFailureLimit` feeds at all is not tried again
        // this run: its feeds fail at once instead of each waiting out its timeouts and retries.
        guard let firstHost = URL(string: url)?.host, !firstHost.isEmpty else {
            throw failed(FetchError(.badURL, "GET \(redactURL(url)): not a valid http(s) URL"))
        }
        let firstGate = await gates.gate(for: firstHost)
        if settings.hostFailureLimit > 0 {
            let streak = await firstGate.unreachable
            if streak >= settings.hostFailureLimit {
                throw failed(notTried(url, host: firstHost, streak: streak))
            }
        }
        do {
            let fetched = try await follow(url, validators: validators, limits: limits, format: format, facts: &facts, clock: clock, t0: t0,
                                           firstHost: firstHost, firstGate: firstGate)
            await firstGate.record(reached: true)
            return fetched
        } catch {
            // A feed not tried (the host was already found dead) says nothing new about the host.
            if error.code != .hostUnreachable {
                await firstGate.record(reached: error.http?.status != nil || !(error.code == .timeout || error.code == .io))
            }
            throw error
        }
    }

    /// A feed of a host that did not answer the last `host_failure_limit` feeds: not tried.
    private func notTried(_ url: String, host: String, streak: Int) -> FetchError {
        FetchError(.hostUnreachable,
                   "GET \(redactURL(url)): not tried: \(host) did not answer the last \(streak) feeds (host_failure_limit \(settings.hostFailureLimit))")
    }

    private func follow(_ url: String, validators: Validators, limits: FetchLimits, format: any FeedFormat, facts: inout HTTPFacts,
                        clock: ContinuousClock, t0: ContinuousClock.Instant,
                        firstHost: String, firstGate: HostGate) async throws(FetchError) -> Fetched {
        var current = url
        var visited: Set<String> = [url]
        var redirects = 0
        var retries = 0
        var queued = Duration.zero  // waiting for the host's gate: not the feed's own time
        func failed(_ e: FetchError) -> FetchError {
            var e = e
            facts.ms = Self.ms(clock.now - t0 - queued)
            e.http = facts
            return e
        }
        while true {
            let shown = redactURL(current)
            guard let host = URL(string: current)?.host, !host.isEmpty else {
                throw failed(FetchError(.badURL, "GET \(shown): not a valid http(s) URL"))
            }
            facts.attempts += 1
            let progress = NIOLockedValueBox(Progress())
            let asked = clock.now
            let limit = settings.hostFailureLimit
            let (step, started) = await gates.withPermit(host: host) { () async -> (Step, ContinuousClock.Instant) in
                let start = clock.now
                // Checked again once the host's turn comes: feeds queued behind the ones that
                // found it dead fail at once instead of trying it in their turn.
                if limit > 0, host == firstHost, case let streak = await firstGate.unreachable, streak >= limit {
                    return (.fail(self.notTried(current, host: host, streak: streak)), start)
                }
                return (await self.attempt(current, original: url, validators: validators, limits: limits, format: format, progress: progress), start)
            }
            queued += started - asked
            let p = progress.withLockedValue { $0 }
            facts.status = p.status
            facts.responses[p.status.map(String.init) ?? "none", default: 0] += 1
            facts.bytesWire = p.wire
            facts.bytesDecoded = p.decoded
            logger.debug("http response", metadata: [
                "http.url": "\(shown)", "http.attempt": "\(facts.attempts)",
                "http.status": "\(p.status.map(String.init) ?? "none")", "http.bytes": "\(p.wire)"])
            switch step {
            case .done(let result):
                facts.ms = Self.ms(clock.now - t0 - queued)
                return Fetched(result, http: facts)
            case .fail(let e):
                throw failed(e)
            case .redirect(let location, let status):
                redirects += 1
                guard let next = URL(string: location, relativeTo: URL(string: current))?.absoluteURL.absoluteString,
                      next.hasPrefix("http://") || next.hasPrefix("https://") else {
                    throw failed(FetchError(.redirect, "GET \(shown): HTTP \(status) redirects to `\(redactURL(location))`, not an http(s) URL"))
                }
                if visited.contains(next) {
                    throw failed(FetchError(.redirect, "GET \(redactURL(url)): redirect loop (\(redactURL(next)) again after \(redirects) redirect\(redirects == 1 ? "" : "s"))"))
                }
                if redirects > settings.maxRedirects {
                    throw failed(FetchError(.redirect, "GET \(redactURL(url)): more than \(settings.maxRedirects) redirects"))
                }
                visited.insert(next)
                logger.debug("http redirect", metadata: ["http.url": "\(shown)", "http.status": "\(status)",
                                                        "http.location": "\(redactURL(next))"])
                current = next
            case .retry(var e, let retryAfter, let atMost):
                let allowed = min(limits.retries, atMost ?? .max)
                if retries >= allowed {
                    if retries > 0 { e.message += " (after \(retries + 1) attempts)" }
                    throw failed(e)
                }
                let wait: Double
                if let retryAfter {
                    if retryAfter > settings.maxRetryAfterSeconds {
                        e.message += " (Retry-After \(Int(retryAfter.rounded())) s is over the ceiling of \(Self.number(settings.maxRetryAfterSeconds)) s; not retried)"
                        throw failed(e)
                    }
                    wait = retryAfter
                } else {
                    wait = HTTPRules.backoff(retry: retries, baseMs: settings.backoffBaseMs,
                                             capSeconds: settings.maxRetryAfterSeconds, unit: random())
                }
                retries += 1
                logger.debug("http retry", metadata: [
                    "http.url": "\(shown)", "http.retry": "\(retries)", "http.error": "\(e.message)",
                    "http.wait_seconds": "\(Self.number(wait))", "http.retry_after": "\(retryAfter.map { Self.number($0) } ?? "none")"])
                if wait > 0 { await sleep(.milliseconds(Int64(wait * 1000))) }
            }
        }
    }

    /// One request, bounded by `limits.timeoutSeconds` from the request to the last body byte.
    private func attempt(_ url: String, original: String, validators: Validators, limits: FetchLimits, format: any FeedFormat,
                         progress: NIOLockedValueBox<Progress>) async -> Step {
        let shown = redactURL(url)
        let timeout = limits.timeoutSeconds
        return await withTaskGroup(of: Step?.self) { group in
            group.addTask {
                await self.request(url, original: original, validators: validators, limits: limits, format: format, progress: progress)
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
                if Task.isCancelled { return nil }
                return .retry(FetchError(.timeout, "GET \(shown): timed out after \(Self.number(timeout)) s (whole request)"), retryAfter: nil)
            }
            var first: Step? = nil
            while first == nil, let next = await group.next() {
                first = next
            }
            group.cancelAll()
            return first!
        }
    }

    private func request(_ url: String, original: String, validators: Validators, limits: FetchLimits, format: any FeedFormat,
                         progress: NIOLockedValueBox<Progress>) async -> Step {
        let shown = redactURL(url)
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: limits.userAgent)
        request.headers.add(name: "Accept", value: format.accept)
        request.headers.add(name: "Accept-Encoding", value: "gzip, deflate")
        if let etag = validators.etag { request.headers.add(name: "If-None-Match", value: etag) }
        if let lm = validators.lastModified { request.headers.add(name: "If-Modified-Since", value: lm) }
        // A backstop for the client itself; the task group's deadline normally fires first.
        let deadline = NIODeadline.now() + .milliseconds(Int64(limits.timeoutSeconds * 1000) + 1000)
        do {
            let response = try await client.execute(request, deadline: deadline)
            let code = Int(response.status.code)
            progress.withLockedValue { $0.status = code }
            let status = "HTTP \(code) \(response.status.reasonPhrase)"
            if code == 304 { return .done(.notModified) }
            if [301, 302, 303, 307, 308].contains(code) {
                guard let location = response.headers.first(name: "Location") else {
                    return .fail(FetchError(.http, "GET \(shown): \(status) without a Location"))
                }
                return .redirect(location, status: code)
            }
            guard (200..<300).contains(code) else {
                let e = FetchError(.http, "GET \(shown): \(status)")
                if HTTPRules.isRetryable(status: code) {
                    return .retry(e, retryAfter: HTTPRules.retryAfter(response.headers.first(name: "Retry-After"), now: wallClock()))
                }
                return .fail(e)
            }
            if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > limits.maxBodyBytes {
                return .fail(FetchError(.tooLarge, "GET \(shown): body of \(length) bytes is over the limit of \(limits.maxBodyBytes)"))
            }
            let contentType = response.headers.first(name: "Content-Type") ?? "none"
            let decoder: BodyDecoder
            do {
                decoder = try BodyDecoder(contentEncoding: response.headers.first(name: "Content-Encoding"), limit: limits.maxBodyBytes)
            } catch {
                return .fail(FetchError(.http, "GET \(shown): \(status): \(error.message)"))
            }
            var wire = 0
            do {
                for try await chunk in response.body {
                    wire += chunk.readableBytes
                    if wire > limits.maxBodyBytes {
                        progress.withLockedValue { $0.wire = wire }
                        return .fail(FetchError(.tooLarge, "GET \(shown): body over the limit of \(limits.maxBodyBytes) bytes"))
                    }
                    try chunk.withUnsafeReadableBytes { raw in try decoder.feed(raw) }
                    let decoded = decoder.output.count
                    progress.withLockedValue { $0.wire = wire; $0.decoded = decoded }
                }
                try decoder.finish()
            } catch let e as BodyDecoder.Failure {
                return .fail(FetchError(e.tooLarge ? .tooLarge : .http, "GET \(shown): \(e.message)"))
            }
            let body = decoder.output
            guard format.sniff(body) else {
                return .fail(FetchError(.wrongFormat,
                    "GET \(shown): \(status) (Content-Type \(contentType), \(body.count) bytes) is not \(format.describedAs): it starts with \(HTTPRules.preview(body))"))
            }
            let next = Validators(etag: response.headers.first(name: "ETag"),
                                  lastModified: response.headers.first(name: "Last-Modified"))
            return .done(.body(body, next))
        } catch {
            if Task.isCancelled {
                return .retry(FetchError(.timeout, "GET \(shown): cancelled"), retryAfter: nil)
            }
            if let e = error as? HTTPClientError,
               e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout {
                let what = e == .connectTimeout ? "connect timeout" : e == .readTimeout ? "read timeout" : "deadline exceeded"
                return .retry(FetchError(.timeout, "GET \(shown): timed out (\(what))"), retryAfter: nil)
            }
            let where_ = URL(string: url).map { u in (u.host ?? "?") + (u.port.map { ":\($0)" } ?? "") } ?? "?"
            let (kind, sentence) = HTTPRules.describe(error, host: where_)
            let text = HTTPRules.redactURLs(in: sentence, known: [url, original])
            switch kind {
            case .tls:
                // The host answered (a step away from unreachable), and a certificate does not mend in seconds.
                return .fail(FetchError(.http, "GET \(shown): \(text)"))
            case .refused, .dns:
                return .retry(FetchError(.io, "GET \(shown): \(text)"), retryAfter: nil, atMost: 1)
            case .timeout:
                return .retry(FetchError(.timeout, "GET \(shown): \(text)"), retryAfter: nil)
            case .reset, .unreachable:
                return .retry(FetchError(.io, "GET \(shown): \(text)"), retryAfter: nil)
            case .other:
                if Self.isConnectionError(error) {
                    return .retry(FetchError(.io, "GET \(shown): connection failed: \(text)"), retryAfter: nil)
                }
                return .fail(FetchError(.http, "GET \(shown): \(text)"))
            }
        }
    }

    static func isConnectionError(_ error: any Error) -> Bool {
        if let e = error as? HTTPClientError {
            return e == .remoteConnectionClosed || e == .connectTimeout || e == .readTimeout
                || e == .deadlineExceeded || e == .cancelled
        }
        return error is NIOConnectionError || error is IOError || error is ChannelError
            || String(describing: type(of: error)).contains("Connection")
    }

    static func ms(_ d: Duration) -> Double { d.inMilliseconds }

    static func number(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : String(v)
    }
}

extension Error {
    fileprivate var message: String {
        if let f = self as? BodyDecoder.Failure { return f.message }
        return String(describing: self)
    }
}
