import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix

/// What went wrong below HTTP, in one sentence a person can act on: SwiftNIO's and BoringSSL's
/// descriptions (`connection reset (error set): Connection refused) (errno: 111)`, TLS errors
/// carrying the path of a C file in the build) are for their developers, not for an operator.
package enum ConnectionFailure: Equatable, Sendable {
    /// Nothing listens at the address.
    case refused
    /// The connection was reset or closed before an answer.
    case reset
    /// No route to the host or its network.
    case unreachable
    /// The name does not resolve.
    case dns
    /// The TLS handshake failed (certificate, protocol).
    case tls
    /// Connecting or reading timed out.
    case timeout
    case other
}

extension HTTPRules {
    /// The failure's kind and its sentence, for a request to `host` (`host:port`).
    package static func describe(_ error: any Error, host: String) -> (ConnectionFailure, String) {
        if let e = error as? IOError { return describe(errno: e.errnoCode, host: host) }
        if let e = error as? NIOConnectionError {
            if let first = e.connectionErrors.first { return describe(first.error, host: host) }
            return (.dns, "cannot resolve \(e.host): no address found")
        }
        if let e = error as? ChannelError {
            switch e {
            case .connectTimeout: return (.timeout, "connecting to \(host) timed out")
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed:
                return (.reset, "\(host) closed the connection before answering")
            default: break
            }
        }
        if let e = error as? HTTPClientError {
            if e == .remoteConnectionClosed { return (.reset, "\(host) closed the connection before answering") }
            if e == .connectTimeout { return (.timeout, "connecting to \(host) timed out") }
        }
        let text = String(describing: error)
        if String(describing: type(of: error)).contains("SSL") || text.contains("SSL") || text.contains("TLS") {
            return (.tls, "TLS handshake with \(host) failed: \(tlsReason(text))")
        }
        return (.other, withoutPaths(text))
    }

    static func describe(errno code: CInt, host: String) -> (ConnectionFailure, String) {
        switch code {
        case ECONNREFUSED: return (.refused, "connection refused by \(host) (nothing listens there)")
        case ECONNRESET, EPIPE, ECONNABORTED: return (.reset, "connection reset by \(host)")
        case EHOSTUNREACH, ENETUNREACH, EHOSTDOWN, ENETDOWN: return (.unreachable, "\(host) is unreachable (no route to it)")
        case ETIMEDOUT: return (.timeout, "connecting to \(host) timed out")
        default: return (.other, "cannot connect to \(host): \(String(cString: strerror(code)).lowercased())")
        }
    }

    /// BoringSSL's reason codes (`…:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at /…/handshake.cc:393`)
    /// as words; NIOSSL's own errors by their name.
    static func tlsReason(_ text: String) -> String {
        let reasons = text.matches(of: /OPENSSL_internal:([A-Z0-9_]+)/).map { String($0.output.1) }
        var words: [String] = []
        for r in reasons where !words.contains(r) { words.append(r) }
        if !words.isEmpty {
            return words.map { $0.replacingOccurrences(of: "_", with: " ").lowercased() }.joined(separator: "; ")
        }
        if text.contains("failedToValidateHostname") || text.contains("Couldn't find") {
            return "the certificate is not for this host name"
        }
        if let name = text.firstMatch(of: /\.([a-zA-Z]+)(\(|$)/)?.output.1 {
            // `handshakeFailed(…)`, `unableToValidateCertificate`: camel case as words.
            return String(name).replacing(/([a-z])([A-Z])/) { "\($0.output.1) \($0.output.2.lowercased())" }.lowercased()
        }
        return withoutPaths(text)
    }

    /// A description without the source paths some libraries put in it (` at /…/file.cc:393`).
    static func withoutPaths(_ text: String) -> String {
        text.replacing(/\s+at \/[^\s\]\)]+/, with: "")
    }
}
