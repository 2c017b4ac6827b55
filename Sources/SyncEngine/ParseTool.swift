import FeedModel
import FeedSources
import ICalendarFeeds

/// `feedsync parse`: reads one feed (a path, `file://` or `http(s)://` URL) and renders its records.
package enum ParseTool {
    package struct Failure: Error, CustomStringConvertible {
        package var description: String
    }

    /// Reads the body of `location`.
    package static func load(_ location: String, format: any FeedFormat = ICalendarFormat(),
                             limits: FetchLimits = FetchLimits()) async throws(Failure) -> [UInt8] {
        let isHTTP = location.hasPrefix("http://") || location.hasPrefix("https://")
        let result: FetchResult
        if isHTTP {
            let http = HTTPSource()
            do {
                result = try await http.fetch(location, validators: .none, limits: limits, format: format).result
            } catch {
                await http.shutdown()
                throw Failure(description: "cannot fetch \(redactURL(location)): \(error.description)")
            }
            await http.shutdown()
        } else {
            do {
                result = try await FileSource().fetch(location, validators: .none, limits: limits, format: format).result
            } catch {
                throw Failure(description: error.description)
            }
        }
        switch result {
        case .body(let b, _): return b
        case .notModified: throw Failure(description: "\(redactURL(location)): 304 Not Modified without validators")
        }
    }

    /// Loads and counts (`feedsync parse --summary`).
    package static func summary(location: String, inspection: FeedInspection) async throws(Failure) -> FeedInspection.Summary {
        try await inspect(location, inspection.format) { body throws(FeedFormatError) in try inspection.summary(body) }
    }

    /// Loads and renders: the output lines, the parser's warnings; a feed that cannot be read throws.
    package static func run(location: String, inspection: FeedInspection, json: Bool) async throws(Failure) -> FeedInspection.Output {
        try await inspect(location, inspection.format) { body throws(FeedFormatError) in try inspection.run(body, json: json) }
    }

    private static func inspect<T>(_ location: String, _ format: (any FeedFormat)?,
                                   _ use: ([UInt8]) throws(FeedFormatError) -> T) async throws(Failure) -> T {
        let body = try await load(location, format: format ?? ICalendarFormat())
        do {
            return try use(body)
        } catch {
            throw Failure(description: "cannot parse \(redactURL(location)): \(error.description)")
        }
    }
}
