import FeedModel

/// An RFC 4180 reader: a header row naming the fields, then one record per row; fields separated
/// by the delimiter, quoted with `"` (a quote inside doubled), quoted fields may hold the
/// delimiter and line breaks; rows end in CRLF or LF. Strict: a row with another number of fields
/// than the header, an unterminated quote or text after a closing quote fails the body, naming the
/// line. Single pass over the bytes, no recursion.
package struct CSVReader {
    package struct Table: Sendable {
        package var header: [String]
        package var rows: [[String]]
        /// The line each row starts on.
        package var lines: [Int]
    }

    package static func read(_ body: [UInt8], delimiter: UInt8 = UInt8(ascii: ",")) throws(FeedFormatError) -> Table {
        var header: [String] = []
        var rows: [[String]] = []
        var lines: [Int] = []
        try forEachRow(body, delimiter: delimiter, header: { header = $0 }) { row, line throws(FeedFormatError) in
            rows.append(row)
            lines.append(line)
        }
        return Table(header: header, rows: rows, lines: lines)
    }

    /// The same reading, row by row: `header` gets the header row (checked), then `visit` each row
    /// (with as many fields as the header) and the line it starts on, as they are read — a list of
    /// 100,000 rows is never held whole.
    package static func forEachRow(_ body: [UInt8], delimiter: UInt8 = UInt8(ascii: ","),
                                   header visitHeader: ([String]) throws(FeedFormatError) -> Void,
                                   _ visit: ([String], Int) throws(FeedFormatError) -> Void) throws(FeedFormatError) {
        var header: [String]? = nil
        func take(_ row: [String], _ rowLine: Int) throws(FeedFormatError) {
            guard let header else {
                var seen: Set<String> = []
                for name in row {
                    if name.isEmpty { throw FeedFormatError(line: rowLine, message: "CSV: the header row has an empty field name") }
                    if !seen.insert(name).inserted {
                        throw FeedFormatError(line: rowLine, message: "CSV: the header row names `\(name.prefix(40))` twice")
                    }
                }
                header = row
                try visitHeader(row)
                return
            }
            if row.count != header.count {
                throw FeedFormatError(line: rowLine, message: "CSV: a row of \(row.count) field\(row.count == 1 ? "" : "s"); the header has \(header.count)")
            }
            try visit(row, rowLine)
        }
        var row: [String] = []
        var field: [UInt8] = []
        var i = 0
        let n = body.count
        if n >= 3, body[0] == 0xEF, body[1] == 0xBB, body[2] == 0xBF { i = 3 }
        var line = 1
        var rowLine = 1
        var quoted = false      // the current field was quoted
        var fieldStarted = false

        func text(_ bytes: [UInt8], line: Int) throws(FeedFormatError) -> String {
            guard let s = String(validating: bytes, as: UTF8.self) else {
                throw FeedFormatError(line: line, message: "CSV: a field is not valid UTF-8")
            }
            return s
        }

        while i < n {
            let b = body[i]
            if !fieldStarted && b == UInt8(ascii: "\"") {
                // A quoted field, up to its closing quote.
                quoted = true
                fieldStarted = true
                i += 1
                let opened = line
                while true {
                    guard i < n else { throw FeedFormatError(line: opened, message: "CSV: unterminated quoted field") }
                    let c = body[i]
                    if c == UInt8(ascii: "\"") {
                        if i + 1 < n, body[i + 1] == UInt8(ascii: "\"") { field.append(c); i += 2; continue }
                        i += 1
                        break
                    }
                    if c == 0x0A { line += 1 }
                    field.append(c)
                    i += 1
                }
                if i < n, body[i] != delimiter, body[i] != 0x0A, body[i] != 0x0D {
                    throw FeedFormatError(line: line, message: "CSV: text after the closing quote of a field")
                }
                continue
            }
            if b == delimiter {
                row.append(try text(field, line: line))
                field.removeAll(keepingCapacity: true)
                quoted = false
                fieldStarted = false
                i += 1
                continue
            }
            if b == 0x0D || b == 0x0A {
                if b == 0x0D, i + 1 < n, body[i + 1] == 0x0A { i += 1 }
                i += 1
                if !(row.isEmpty && field.isEmpty && !quoted) {
                    row.append(try text(field, line: line))
                    try take(row, rowLine)
                }
                row.removeAll(keepingCapacity: true)
                field.removeAll(keepingCapacity: true)
                quoted = false
                fieldStarted = false
                line += 1
                rowLine = line
                continue
            }
            if quoted { throw FeedFormatError(line: line, message: "CSV: text after the closing quote of a field") }
            fieldStarted = true
            field.append(b)
            i += 1
        }
        if !(row.isEmpty && field.isEmpty && !quoted) {
            row.append(try text(field, line: line))
            try take(row, rowLine)
        }
        guard header != nil else { throw FeedFormatError(line: nil, message: "CSV: empty body: expected a header row") }
    }
}
