import Testing
@testable import SyncEngine

/// The operands of a long `parse` line set aside before ArgumentParser reads it, and the lines
/// left alone for ArgumentParser to judge.
@Suite("Operand lift")
struct OperandLiftTests {
    let options = OperandLift.Options(singleValue: ["--now", "--jobs", "--feed"], upToNextOption: ["--between"],
                                      flags: ["--summary", "--json"])

    @Test("options anywhere, in both spellings: the first operand stays after --, the others follow in order")
    func lifted() throws {
        let line = ["parse", "a.ics", "--now", "2026-11-23T00:00:00Z", "b.ics", "--summary", "--jobs=2", "c.ics",
                    "--between", "2026-01-01", "2026-02-01", "--feed", "x", "d.ics"]
        let r = try #require(OperandLift.lift(line, subcommand: "parse", options: options))
        #expect(r.arguments == ["parse", "--now", "2026-11-23T00:00:00Z", "--summary", "--jobs=2",
                                "--between", "2026-01-01", "2026-02-01", "--feed", "x", "--", "a.ics"])
        #expect(r.laterOperands == ["b.ics", "c.ics", "d.ics"])
    }

    @Test("after --, everything is an operand, even what looks like an option")
    func terminator() throws {
        let r = try #require(OperandLift.lift(["parse", "--json", "a.ics", "--", "--summary", "-x.ics"],
                                              subcommand: "parse", options: options))
        #expect(r.arguments == ["parse", "--json", "--", "a.ics"])
        #expect(r.laterOperands == ["--summary", "-x.ics"])
    }

    @Test("--between takes what follows up to the next option, as ArgumentParser does")
    func upToNextOption() throws {
        let r = try #require(OperandLift.lift(["parse", "a.ics", "b.ics", "--between", "A", "B", "c.ics", "--json", "d.ics"],
                                              subcommand: "parse", options: options))
        #expect(r.arguments == ["parse", "--between", "A", "B", "c.ics", "--json", "--", "a.ics"])
        #expect(r.laterOperands == ["b.ics", "d.ics"])
    }

    @Test("left alone: another subcommand, one operand, help, unknown or short options, a missing value")
    func leftAlone() {
        let lines: [[String]] = [
            ["run", "a.ics", "b.ics"],
            ["parse", "a.ics"],
            ["parse", "--json"],
            ["parse", "a.ics", "b.ics", "--help"],
            ["parse", "-h", "a.ics", "b.ics"],
            ["parse", "a.ics", "b.ics", "--unknown"],
            ["parse", "a.ics", "b.ics", "--json=yes"],
            ["parse", "a.ics", "b.ics", "--now"],
            ["parse", "a.ics", "b.ics", "--now", "--json"],
            ["parse", "a.ics", "b.ics", "--between=A"],
        ]
        for line in lines {
            #expect(OperandLift.lift(line, subcommand: "parse", options: options) == nil, "\(line)")
        }
    }

    @Test("10,000 operands are lifted in one pass")
    func many() throws {
        let paths = (0..<10_000).map { "feeds/f\($0).ics" }
        let r = try #require(OperandLift.lift(["parse", "--summary"] + paths, subcommand: "parse", options: options))
        #expect(r.arguments == ["parse", "--summary", "--", paths[0]])
        #expect(r.laterOperands == Array(paths.dropFirst()))
    }
}
