import Foundation
import Testing
@testable import feedsync

/// `feedsync parse` over many files: parsed on every core, printed in the order of the arguments.
@Suite("feedsync parse, end to end")
struct ParseCommandTests {
    /// A feed of `n` all-day events, half of them before 2026-11-23.
    static func feed(_ index: Int, events n: Int) -> String {
        var s = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        for e in 0..<n {
            let day = 1 + (e * 7 + index) % 28
            let month = e % 2 == 0 ? "05" : "12"   // May (past) or December (future) 2026
            s += "BEGIN:VEVENT\r\nUID:f\(index)-e\(e)@test\r\nDTSTAMP:20261101T000000Z\r\n"
            s += "DTSTART;VALUE=DATE:2026\(month)\(String(format: "%02d", day))\r\nSUMMARY:Stay \(e)\r\nEND:VEVENT\r\n"
        }
        return s + "END:VCALENDAR\r\n"
    }

    @Test("--summary: one line per feed in argument order; a broken feed fails alone (exit 1)")
    func summaryInOrder() throws {
        let h = try Harness("parse-summary")
        defer { h.cleanUp() }
        var args: [String] = []
        for i in 0..<24 {
            // Sizes vary so later feeds often finish first; feed 7 is cut short.
            let text = i == 7 ? "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n" : Self.feed(i, events: 1 + (24 - i) * 5)
            try h.write("feeds/f\(i).ics", text)
            args.append("feeds/f\(i).ics")
        }
        let r = try h.run(["parse", "--summary", "--now", "2026-11-23T00:00:00Z", "--jobs", "2"] + args)
        #expect(r.status == 1)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 23)
        let expected = (0..<24).filter { $0 != 7 }.map { i -> String in
            let n = 1 + (24 - i) * 5
            let future = n / 2
            return "feeds/f\(i).ics: \(n) records, \(future) future, \(n - future) past, 0 warnings"
        }
        #expect(lines == expected)
        #expect(r.stderr.contains("feeds/f7.ics"))
        #expect(r.stderr.contains("missing END:VEVENT"))
    }

    @Test("records and JSON come out the same with one job or many")
    func sameOutputWhateverTheJobs() throws {
        let h = try Harness("parse-jobs")
        defer { h.cleanUp() }
        let args = try (0..<16).map { i -> String in
            try h.write("feeds/f\(i).ics", Self.feed(i, events: 3 + (16 - i) * 9))
            return "feeds/f\(i).ics"
        }
        for format in [[], ["--json"]] {
            let one = try h.run(["parse", "--now", "2026-11-23T00:00:00Z", "--jobs", "1"] + format + args)
            let many = try h.run(["parse", "--now", "2026-11-23T00:00:00Z", "--jobs", "4"] + format + args)
            #expect(one.status == 0 && many.status == 0)
            #expect(one.stdout == many.stdout)
            #expect(one.stdout.split(separator: "\n").count == (0..<16).reduce(0) { $0 + 3 + (16 - $1) * 9 })
        }
    }

    @Test("--summary with --json, and --jobs 0, are usage errors (exit 2)")
    func usageErrors() throws {
        let h = try Harness("parse-usage")
        defer { h.cleanUp() }
        try h.write("feeds/a.ics", Self.feed(0, events: 2))
        #expect(try h.run(["parse", "--summary", "--json", "feeds/a.ics"]).status == 2)
        #expect(try h.run(["parse", "--jobs", "0", "feeds/a.ics"]).status == 2)
    }

    @Test("thousands of operands, options between them: the same lines as one feed at a time")
    func manyOperands() throws {
        let h = try Harness("parse-many")
        defer { h.cleanUp() }
        let paths = try (0..<2_000).map { i -> String in
            try h.write("feeds/f\(i).ics", Self.feed(i, events: 1 + i % 3))
            return "feeds/f\(i).ics"
        }
        // Options before, between and after the operands, in both spellings; one path after `--`.
        var line: [String] = ["parse", "--summary"]
        line += paths[0..<700]
        line += ["--now", "2026-11-23T00:00:00Z"]
        line += paths[700..<1_400]
        line += ["--jobs=2", "--quiet"]
        line += paths[1_400..<1_999]
        line += ["--", paths[1_999]]
        let r = try h.run(line)
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2_000)
        for i in [0, 1, 699, 700, 1_399, 1_400, 1_998, 1_999] {
            let one = try h.run(["parse", "--summary", "--now", "2026-11-23T00:00:00Z", paths[i]])
            #expect(one.stdout == lines[i] + "\n")
        }
        #expect(lines == paths.indices.map { i in
            let n = 1 + i % 3, future = (0..<n).filter { $0 % 2 == 1 }.count
            return "\(paths[i]): \(n) records, \(future) future, \(n - future) past, 0 warnings"
        })
    }

    @Test("every option `parse --help` lists is one the operand lift knows")
    func liftKnowsEveryOption() throws {
        let h = try Harness("parse-help")
        defer { h.cleanUp() }
        let help = try h.run(["parse", "--help"]).stdout
        let named = Set(help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "<" || $0 == ">" })
            .map(String.init).filter { $0.hasPrefix("--") && $0.count > 2 })
        #expect(!named.isEmpty)
        #expect(named.subtracting(["--help", "--version"]) == ParseCommand.optionShapes.all)
    }
}
