import FeedModel
import Records

/// The child feeds of a parent's future records, and the URLs they are fetched from.
enum ChildFeeds {
    /// One child feed per record: id `PARENT/NAME/KEY`, the URL template filled from the record's
    /// canonical JSON (`{since}` is left for the child's own sync to fill). A record without a
    /// field the template names gets no child, and a warning on the parent.
    static func make(_ spec: ChildrenConfig, parent: FeedConfig, records: [(key: String, body: [UInt8])],
                     warnings: inout [String]) -> [FeedConfig] {
        var out: [FeedConfig] = []
        out.reserveCapacity(records.count)
        for r in records.sorted(by: { $0.key < $1.key }) {
            let node = try? JSONReader.read(r.body)
            var missing: String? = nil
            var values: [String: String] = [:]
            let url = substitute(spec.url) { name in
                if name == "since" { return "{since}" }
                guard let node, let v = RecordsFormat.text(RecordsFormat.value(node, at: name)) else {
                    missing = missing ?? name
                    return ""
                }
                let encoded = percentEncoded(v)
                values[name] = encoded
                return encoded
            }
            if let missing {
                warnings.append("record \(r.key) has no `\(missing)` for the children's url; its \(spec.name) are not fetched")
                continue
            }
            let child = self.child(spec, parent: parent, key: r.key, url: url, values: values)
            out.append(child)
        }
        return out
    }

    /// A child feed of `parent` (another process's, in a shared night) from the values its URL
    /// template was filled with; nil when the template names a value that is not there.
    static func rebuild(_ spec: ChildrenConfig, parent: FeedConfig, key: String, values: [String: String]) -> FeedConfig? {
        var missing = false
        let url = substitute(spec.url) { name in
            if name == "since" { return "{since}" }
            guard let v = values[name] else { missing = true; return "" }
            return v
        }
        return missing ? nil : child(spec, parent: parent, key: key, url: url, values: values)
    }

    private static func child(_ spec: ChildrenConfig, parent: FeedConfig, key: String, url: String,
                              values: [String: String]) -> FeedConfig {
        var child = FeedConfig(id: spec.idPrefix(parent: parent.id) + key, url: url, property: parent.property,
                               timeZone: spec.timeZone ?? parent.timeZone, line: parent.line, format: spec.format,
                               mapping: spec.mapping)
        child.parent = parent.id
        child.since = spec.since
        child.pagination = spec.pagination
        child.limits = parent.limits
        child.childValues = values
        return child
    }

    /// The URL with `{since}` filled; without a value, a query parameter whose value is only
    /// `{since}` is left out, and any other `{since}` is empty.
    static func fill(_ url: String, since: String?) -> String {
        if let since { return url.replacingOccurrences(of: "{since}", with: percentEncoded(since)) }
        guard let q = url.firstIndex(of: "?") else { return url.replacingOccurrences(of: "{since}", with: "") }
        let kept = url[url.index(after: q)...].split(separator: "&", omittingEmptySubsequences: false)
            .filter { !$0.hasSuffix("={since}") }
        let query = kept.joined(separator: "&").replacingOccurrences(of: "{since}", with: "")
        let base = String(url[..<q]).replacingOccurrences(of: "{since}", with: "")
        return query.isEmpty ? base : base + "?" + query
    }

    /// The URL with the query parameter `name` set to `value` (replaced, or appended).
    static func setQuery(_ url: String, _ name: String, _ value: String) -> String {
        let item = "\(percentEncoded(name))=\(percentEncoded(value))"
        guard let q = url.firstIndex(of: "?") else { return url + "?" + item }
        var parts = url[url.index(after: q)...].split(separator: "&", omittingEmptySubsequences: false).map(String.init)
        let prefix = percentEncoded(name) + "="
        if let i = parts.firstIndex(where: { $0.hasPrefix(prefix) }) { parts[i] = item } else { parts.append(item) }
        return String(url[...q]) + parts.joined(separator: "&")
    }

    /// `{name}` placeholders replaced by `value(name)`.
    static func substitute(_ template: String, _ value: (String) -> String) -> String {
        var out = ""
        var name: String? = nil
        for c in template {
            if c == "{" { name = ""; continue }
            if c == "}", let n = name { out += value(n); name = nil; continue }
            if name != nil { name!.append(c) } else { out.append(c) }
        }
        return out
    }

    /// RFC 3986: everything but the unreserved characters percent-encoded.
    static func percentEncoded(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E {
                out.unicodeScalars.append(UnicodeScalar(b))
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
            }
        }
        return out
    }
}
