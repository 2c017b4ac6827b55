import AsyncHTTPClient
public import FeedModel
import NIOCore
import NIOHTTP1

/// Fetches `http(s)://` feeds with one shared `HTTPClient` for the whole run (connections reused).
///
/// Sends `If-None-Match`/`If-Modified-Since` from the stored validators; a 304 is `notModified`.
/// The whole request is bounded by `FetchLimits.timeoutSeconds` and the body by
/// `FetchLimits.maxBodyBytes`. Retries, rate limits and per-host politeness are not here yet.
public final class HTTPSource: FeedSource {
    private let client: HTTPClient

    public init(connectTimeoutSeconds: Int64 = 10) {
        var config = HTTPClient.Configuration()
        config.timeout = .init(connect: .seconds(connectTimeoutSeconds), read: .seconds(60))
        config.redirectConfiguration = .follow(max: 5, allowCycles: false)
        config.decompression = .enabled(limit: .ratio(100))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    /// Must be called once the run is done with the source.
    public func shutdown() async {
        try? await client.shutdown()
    }

    public func fetch(_ url: String, validators: Validators, limits: FetchLimits) async throws(FetchError) -> FetchResult {
        let shown = redactURL(url)
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: limits.userAgent)
        request.headers.add(name: "Accept", value: "text/calendar, */*;q=0.5")
        request.headers.add(name: "Accept-Encoding", value: "gzip, deflate")
        if let etag = validators.etag { request.headers.add(name: "If-None-Match", value: etag) }
        if let lm = validators.lastModified { request.headers.add(name: "If-Modified-Since", value: lm) }
        let timeout = TimeAmount.milliseconds(Int64(limits.timeoutSeconds * 1000))
        do {
            let response = try await client.execute(request, timeout: timeout)
            if response.status == .notModified {
                return .notModified
            }
            guard (200..<300).contains(response.status.code) else {
                throw FetchError(.http, "GET \(shown): HTTP \(response.status.code) \(response.status.reasonPhrase)")
            }
            if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > limits.maxBodyBytes {
                throw FetchError(.tooLarge, "GET \(shown): body of \(length) bytes is over the limit of \(limits.maxBodyBytes)")
            }
            let buffer: ByteBuffer
            do {
                buffer = try await response.body.collect(upTo: limits.maxBodyBytes)
            } catch is NIOTooManyBytesError {
                throw FetchError(.tooLarge, "GET \(shown): body over the limit of \(limits.maxBodyBytes) bytes")
            }
            let next = Validators(etag: response.headers.first(name: "ETag"),
                                  lastModified: response.headers.first(name: "Last-Modified"))
            return .body(Array(buffer.readableBytesView), next)
        } catch let error as FetchError {
            throw error
        } catch let error as HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
                throw FetchError(.timeout, "GET \(shown): timed out (\(error))")
            }
            throw FetchError(.http, "GET \(shown): \(error)")
        } catch {
            throw FetchError(.http, "GET \(shown): \(error)")
        }
    }
}
