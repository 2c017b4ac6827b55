import Foundation

/// Feed URLs carry secrets (Airbnb's `?s=…`, tokens in user info). Everything that leaves the
/// config — logs, reports, the store — shows them redacted: user info and every query value are
/// replaced by `…`, the fragment is dropped.
///
/// `keepingUser` keeps the user name of the user info (a database URL's: only its password is
/// hidden); the query parameters named in `showing` keep their values (`sslmode`).
public func redactURL(_ url: String, keepingUser: Bool = false, showing visible: Set<Substring> = []) -> String {
    // A path, or a URL without user info, query or fragment: nothing to hide (the common case;
    // checked on the bytes, since this runs for every feed of every night).
    var hasScheme = false, mayHide = false
    var previous: (UInt8, UInt8) = (0, 0)
    for b in url.utf8 {
        if b == UInt8(ascii: "/") && previous == (UInt8(ascii: ":"), UInt8(ascii: "/")) { hasScheme = true }
        if b == UInt8(ascii: "?") || b == UInt8(ascii: "#") || b == UInt8(ascii: "@") { mayHide = true }
        previous = (previous.1, b)
    }
    guard hasScheme && mayHide, let schemeEnd = url.range(of: "://") else { return url }
    var rest = url[schemeEnd.upperBound...]
    let scheme = url[..<schemeEnd.upperBound]
    if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
    var query: Substring? = nil
    if let q = rest.firstIndex(of: "?") {
        query = rest[rest.index(after: q)...]
        rest = rest[..<q]
    }
    let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
    var authority = rest[..<authorityEnd]
    let path = rest[authorityEnd...]
    if let at = authority.lastIndex(of: "@") {
        let info = authority[..<at]
        let user = info.firstIndex(of: ":").map { info[..<$0] } ?? info
        let shown = !keepingUser ? "…" : user.count == info.count ? String(user) : user + ":…"
        authority = Substring(shown) + authority[at...]
    }
    var out = String(scheme) + authority + path
    if let query {
        let parts = query.split(separator: "&", omittingEmptySubsequences: false).map { part -> String in
            if let eq = part.firstIndex(of: "=") { return visible.contains(part[..<eq]) ? String(part) : part[..<eq] + "=…" }
            return part.isEmpty ? "" : "…"
        }
        out += "?" + parts.joined(separator: "&")
    }
    return out
}
