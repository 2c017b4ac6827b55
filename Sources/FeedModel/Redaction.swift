/// Feed URLs carry secrets (Airbnb's `?s=…`, tokens in user info). Everything that leaves the
/// config — logs, reports, the store — shows them redacted: user info and every query value are
/// replaced by `…`, the fragment is dropped.
public func redactURL(_ url: String) -> String {
    guard let schemeEnd = url.range(of: "://") else {
        // A path: nothing secret in it by our rules.
        return url
    }
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
        authority = "…@" + authority[authority.index(after: at)...]
    }
    var out = String(scheme) + authority + path
    if let query {
        let parts = query.split(separator: "&", omittingEmptySubsequences: false).map { part -> String in
            if let eq = part.firstIndex(of: "=") { return part[..<eq] + "=…" }
            return part.isEmpty ? "" : "…"
        }
        out += "?" + parts.joined(separator: "&")
    }
    return out
}
