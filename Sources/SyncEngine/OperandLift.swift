/// A command line with thousands of operands (`feedsync parse feeds/*.ics`), made cheap to parse.
///
/// ArgumentParser gathers an array operand one value at a time, copying the array and the set of
/// argument positions it came from at each: quadratic, 4 s of a single core for 10,000 paths. So
/// the operands after the first are set aside before ArgumentParser sees the line and given to
/// the parsed command after. Only a line whose every option is known is lifted; anything unusual
/// (help, an unknown or short option, an option's value that looks like an option) leaves the line
/// as it is, for ArgumentParser to read and to judge.
package enum OperandLift {
    /// The options of one subcommand, by how many values they take.
    package struct Options: Sendable {
        /// `--now X` or `--now=X`.
        package var singleValue: Set<String>
        /// Values up to the next argument starting with `-` (ArgumentParser's `.upToNextOption`).
        package var upToNextOption: Set<String>
        /// No value.
        package var flags: Set<String>

        package init(singleValue: Set<String>, upToNextOption: Set<String>, flags: Set<String>) {
            self.singleValue = singleValue
            self.upToNextOption = upToNextOption
            self.flags = flags
        }

        /// Every option named, for checking against a command's help.
        package var all: Set<String> { singleValue.union(upToNextOption).union(flags) }
    }

    /// For `arguments` (without the program name) of `subcommand` with more than one operand: the
    /// arguments with only the first operand left, after `--` so that it reads as an operand
    /// whatever it looks like, and the other operands in order. Nil when the line is not that
    /// subcommand's, has fewer than two operands, or has anything unusual in it.
    package static func lift(_ arguments: [String], subcommand: String,
                             options: Options) -> (arguments: [String], laterOperands: [String])? {
        guard arguments.first == subcommand else { return nil }
        var kept = [subcommand]
        var operands: [String] = []
        var i = 1
        while i < arguments.count {
            let a = arguments[i]
            i += 1
            if a == "--" {
                operands += arguments[i...]
                break
            }
            guard a.hasPrefix("-"), a != "-" else { operands.append(a); continue }
            let name = a.split(separator: "=", maxSplits: 1).first.map(String.init) ?? a
            if options.flags.contains(a) {
                kept.append(a)
            } else if options.singleValue.contains(name) {
                kept.append(a)
                if name == a {
                    guard i < arguments.count, !arguments[i].hasPrefix("-") else { return nil }
                    kept.append(arguments[i])
                    i += 1
                }
            } else if options.upToNextOption.contains(a) {
                kept.append(a)
                while i < arguments.count, !arguments[i].hasPrefix("-") {
                    kept.append(arguments[i])
                    i += 1
                }
            } else {
                return nil
            }
        }
        guard operands.count > 1 else { return nil }
        return (kept + ["--", operands[0]], Array(operands.dropFirst()))
    }
}
