import Foundation
import Testing
@testable import ICalendar

struct RecurVector {
    var comment: String
    var rrule: String
    var dtstart: String
    var startAt: String?
    var instances: [String]
}

func loadRecurVectors() throws -> [RecurVector] {
    let root = try #require(corpusRoot())
    let text = try String(contentsOf: root.appendingPathComponent("libical/icalrecur_test.txt"), encoding: .utf8)
    var out: [RecurVector] = []
    var comment = ""
    var cur: RecurVector? = nil
    for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
        let line = raw.trimmingCharacters(in: .whitespaces)
        if line.hasPrefix("#") { if cur == nil { comment = line } ; continue }
        if line.isEmpty { if let c = cur { out.append(c); cur = nil }; continue }
        if line.hasPrefix("RRULE:") { cur = RecurVector(comment: comment, rrule: String(line.dropFirst(6)), dtstart: "", startAt: nil, instances: []) }
        else if line.hasPrefix("DTSTART:") { cur?.dtstart = String(line.dropFirst(8)) }
        else if line.hasPrefix("START-AT:") { cur?.startAt = String(line.dropFirst(9)) }
        else if line.hasPrefix("INSTANCES:") {
            cur?.instances = line.dropFirst(10).split(separator: ",").map(String.init)
        }
    }
    if let c = cur { out.append(c) }
    return out
}

enum VectorOutcome { case pass, fail(String), skipped(String) }

func runVector(_ v: RecurVector) -> VectorOutcome {
    if v.rrule.uppercased().contains("RSCALE") { return .skipped("RSCALE") }
    if v.instances.contains(where: { $0.contains("UNIMPLEMENTED") }) { return .skipped("libical: unimplemented") }
    guard let rule = try? RecurrenceRule.parse(v.rrule) else { return .fail("rule did not parse") }
    if !rule.unknownParts.isEmpty { return .skipped("unknown parts \(rule.unknownParts.keys.sorted())") }
    guard let sv = ICalDateValue.parseText(Substring(v.dtstart), tzid: nil) else { return .fail("bad DTSTART") }
    var it = RecurrenceIterator(rule: rule, start: sv.civil, dateOnly: sv.isDate, maxCandidates: 200_000)
    var got: [String] = []
    let want = v.instances.count
    while got.count < want + 1, let o = it.next() {
        switch sv {
        case .date: got.append(ICalDateValue.date(o.date).icalText)
        case .utc: got.append(ICalDateValue.utc(o).icalText)
        case .local: got.append(ICalDateValue.local(o, tzid: nil).icalText)
        }
    }
    let bounded = rule.count != nil || rule.until != nil
    if Array(got.prefix(want)) != v.instances || (bounded && got.count != want) {
        return .fail("got \(got.prefix(want + 1).joined(separator: ",")) hitBound=\(it.hitBound)")
    }
    // START-AT (libical's icalrecur_iterator_set_start): INSTANCES still lists the whole set from
    // DTSTART (COUNT counts from DTSTART); an iterator started at START-AT yields its tail.
    if let sa = v.startAt, let sav = ICalDateValue.parseText(Substring(sa), tzid: nil) {
        var it2 = RecurrenceIterator(rule: rule, start: sv.civil, dateOnly: sv.isDate, maxCandidates: 200_000)
        it2.skip(before: sav.civil)
        var tail: [String] = []
        while tail.count < want + 1, let o = it2.next() {
            switch sv {
            case .date: tail.append(ICalDateValue.date(o.date).icalText)
            case .utc: tail.append(ICalDateValue.utc(o).icalText)
            case .local: tail.append(ICalDateValue.local(o, tzid: nil).icalText)
            }
        }
        let wantTail = zip(v.instances, got).filter { $0.1 >= ICalDateValue.local(sav.civil, tzid: nil).icalText.prefix($0.1.count) }.map(\.0)
        if tail != wantTail { return .fail("START-AT \(sa): got \(tail.joined(separator: ",")) want \(wantTail.joined(separator: ","))") }
    }
    return .pass
}

@Test func libicalRecurrenceVectors() throws {
    let vectors = try loadRecurVectors()
    #expect(vectors.count > 100)
    var pass = 0, skipped = 0
    var skipReasons: [String: Int] = [:]
    var failures: [String] = []
    for v in vectors {
        switch runVector(v) {
        case .pass: pass += 1
        case .skipped(let why): skipped += 1; skipReasons[why, default: 0] += 1
        case .fail(let why): failures.append("\(v.comment) | \(v.rrule) | DTSTART:\(v.dtstart)\n   want \(v.instances.prefix(12).joined(separator: ","))\n   \(why.prefix(600))")
        }
    }
    print("libical recurrence vectors: \(pass) passed, \(failures.count) failed, \(skipped) skipped of \(vectors.count)")
    print("skipped: \(skipReasons.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; "))")
    for f in failures { print("FAIL: \(f)") }
    #expect(failures.isEmpty)
}
