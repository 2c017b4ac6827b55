import Foundation
import NIOCore
import Testing
@testable import FeedSources

/// Failures below HTTP as one sentence, and their kind (which decides the retries).
@Suite("Connection failures in words")
struct ConnectionErrorTests {
    @Test("errno values: refused, reset, unreachable, timed out, and any other by its strerror")
    func errnos() {
        let refused = HTTPRules.describe(IOError(errnoCode: ECONNREFUSED, reason: "connection reset (error set)"), host: "10.0.0.7:8080")
        #expect(refused.0 == .refused && refused.1 == "connection refused by 10.0.0.7:8080 (nothing listens there)")
        #expect(HTTPRules.describe(IOError(errnoCode: ECONNRESET, reason: "read"), host: "h").1 == "connection reset by h")
        #expect(HTTPRules.describe(IOError(errnoCode: EHOSTUNREACH, reason: "connect"), host: "h").0 == .unreachable)
        #expect(HTTPRules.describe(IOError(errnoCode: ETIMEDOUT, reason: "connect"), host: "h").0 == .timeout)
        let other = HTTPRules.describe(IOError(errnoCode: EACCES, reason: "connect"), host: "h")
        #expect(other.0 == .other && other.1 == "cannot connect to h: permission denied")
        // No errno numbers, no SwiftNIO wording.
        for e in [ECONNREFUSED, ECONNRESET, EHOSTUNREACH, ETIMEDOUT, EACCES] {
            let text = HTTPRules.describe(IOError(errnoCode: e, reason: "connection reset (error set)"), host: "h").1
            #expect(!text.contains("errno") && !text.contains("error set"), "\(text)")
        }
    }

    @Test("a channel closed before the answer is a reset")
    func closed() {
        #expect(HTTPRules.describe(ChannelError.eof, host: "h") == (.reset, "h closed the connection before answering"))
    }

    @Test("TLS: BoringSSL's reason codes as words, never the path of a C file")
    func tls() {
        struct FakeSSLError: Error, CustomStringConvertible {
            var description: String
        }
        let boring = FakeSSLError(description: "handshakeFailed(NIOSSL.BoringSSLError.sslError([Error: 268435581 error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at /work/main/.build/checkouts/swift-nio-ssl/Sources/CNIOBoringSSL/ssl/handshake.cc:393]))")
        let (kind, text) = HTTPRules.describe(boring, host: "cal.example:443")
        #expect(kind == .tls && text == "TLS handshake with cal.example:443 failed: certificate verify failed")
        let name = FakeSSLError(description: "NIOSSLExtraError.failedToValidateHostname: Couldn't find cal.example in certificate from peer")
        #expect(HTTPRules.describe(name, host: "cal.example:443").1 == "TLS handshake with cal.example:443 failed: the certificate is not for this host name")
        #expect(HTTPRules.withoutPaths("x at /a/b/c.cc:12] y") == "x] y")
    }
}
